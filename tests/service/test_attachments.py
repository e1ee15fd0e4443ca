"""Attachments: uploaded by the ticket's attendant, sniffed from their bytes, stored in the
directory (SQLite runs) or the database (PostgreSQL runs), served to attendants and, by a signed
expiring link, to the customer's channel; refused when too large or disguised, with nothing
stored; deleted with their ticket's content."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from handoff_component.service.attachments.file_types import sniff
from tests import sample_files
from tests.service.support import Attendant, FakeConnector, Reply, RunningService, at_once


async def upload(
    attendant: Attendant,
    ticket_id: int,
    name: str,
    content: bytes,
    declared: str = "application/octet-stream",
) -> Reply:
    return await attendant.service.call(
        "POST",
        f"/api/tickets/{ticket_id}/attachments?name={quote(name)}",
        headers={"Authorization": f"Bearer {attendant.token}", "Content-Type": declared},
        raw=content,
    )


async def claimed_ticket(
    service: RunningService, conversation: str = "conv-1"
) -> tuple[Attendant, int]:
    ana = await service.attendant("ana", teams=["support"])
    opened = await service.handoff(conversation)
    ticket_id = opened.body["ticket"]["id"]
    claimed = await ana.post(f"/api/tickets/{ticket_id}/claim")
    assert claimed.status == 200, claimed.body
    return ana, ticket_id


def files_on_disk(service: RunningService) -> list[Path]:
    root = Path(service.ctx.settings.attachments_dir)
    return [p for p in root.rglob("*") if p.is_file()]


async def stored_anywhere(service: RunningService) -> tuple[int, int, int]:
    """Rows of metadata, rows of bytes in the database, files on disk."""
    return (
        await service.table_count("attachments"),
        await service.table_count("attachment_contents"),
        len(files_on_disk(service)),
    )


def expected_storage(service: RunningService) -> str:
    return "directory" if service.ctx.settings.db_url.startswith("sqlite") else "database"


@pytest.mark.parametrize(
    ("content", "mime_type"),
    [
        (sample_files.png(), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (sample_files.wav(), "audio/wav"),
        (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio/mpeg"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "audio/webm"),
        (sample_files.pdf(), "application/pdf"),
        (
            sample_files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (sample_files.odt(), "application/vnd.oasis.opendocument.text"),
        (sample_files.ole("WordDocument"), "application/msword"),
        (sample_files.ole("Workbook"), "application/vnd.ms-excel"),
        (b"Order 1234, delivered on Monday.\n", "text/plain"),
        (sample_files.windows_program(), "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (sample_files.html_page(), "text/html"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "image/svg+xml"),
        (sample_files.plain_zip(), "application/zip"),
        (sample_files.ole("SummaryInformation"), "application/x-ole-storage"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
    ],
)
def test_the_type_is_read_from_the_bytes(content: bytes, mime_type: str) -> None:
    assert sniff(content).mime_type == mime_type


async def test_an_upload_is_stored_where_the_settings_say_and_served_to_the_tickets_attendants(
    service: RunningService,
) -> None:
    ana, ticket_id = await claimed_ticket(service)
    image = sample_files.png()

    uploaded = await upload(ana, ticket_id, "receipt.png", image, "image/png")

    assert uploaded.status == 201, uploaded.body
    stored = uploaded.body["attachment"]
    assert (stored["name"], stored["mime_type"], stored["size"], stored["sent"]) == (
        "receipt.png",
        "image/png",
        len(image),
        False,
    )
    assert len(stored["id"]) >= 32
    kind = expected_storage(service)
    rows, contents, on_disk = await stored_anywhere(service)
    assert (rows, contents, on_disk) == ((1, 0, 1) if kind == "directory" else (1, 1, 0))
    served = await service.http.get(
        f"{service.url}/api/tickets/{ticket_id}/attachments/{stored['id']}",
        headers={"Authorization": f"Bearer {ana.token}"},
    )
    assert served.status == 200
    assert await served.read() == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "script-src" not in served.headers["Content-Security-Policy"]
    listed = await ana.get(f"/api/tickets/{ticket_id}/attachments")
    assert [a["id"] for a in listed.body["attachments"]] == [stored["id"]]


async def test_only_who_may_reply_uploads_and_only_who_sees_the_ticket_reads(
    service: RunningService,
) -> None:
    opened = await service.handoff("conv-1")
    ticket_id = opened.body["ticket"]["id"]
    ana = await service.attendant("ana", teams=["support"])
    bea = await service.attendant("bea", teams=["billing"])

    before_claim = await upload(ana, ticket_id, "a.png", sample_files.png(), "image/png")
    await ana.post(f"/api/tickets/{ticket_id}/claim")
    other_team = await upload(bea, ticket_id, "a.png", sample_files.png(), "image/png")
    anonymous = await service.call(
        "POST", f"/api/tickets/{ticket_id}/attachments?name=a.png", raw=sample_files.png()
    )
    mine = await upload(ana, ticket_id, "a.png", sample_files.png(), "image/png")
    peek = await service.http.get(
        f"{service.url}/api/tickets/{ticket_id}/attachments/{mine.body['attachment']['id']}",
        headers={"Authorization": f"Bearer {bea.token}"},
    )

    assert before_claim.status == 403 and "claim" in before_claim.body["error"]["message"]
    assert other_team.status == 403
    assert anonymous.status == 401
    assert mine.status == 201
    assert peek.status == 403
    assert (await stored_anywhere(service))[0] == 1


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (sample_files.windows_program(), "a Windows program"),
        (sample_files.html_page(), "an HTML page"),
        (b"<svg onload='alert(1)'/>", "an SVG image"),
        (sample_files.plain_zip(), "a ZIP archive"),
    ],
)
async def test_a_disguised_file_is_refused_naming_what_it_is_and_nothing_is_stored(
    service: RunningService, content: bytes, what: str
) -> None:
    ana, ticket_id = await claimed_ticket(service)

    refused = await upload(ana, ticket_id, "photo.png", content, "image/png")

    assert refused.status == 415, refused.body
    error = refused.body["error"]
    assert error["field"] == "file"
    assert "photo.png (sent as image/png) is " + what in error["message"]
    assert "nothing was stored" in error["message"]
    assert await stored_anywhere(service) == (0, 0, 0)


async def test_an_empty_or_nameless_upload_is_refused_naming_the_field(
    service: RunningService,
) -> None:
    ana, ticket_id = await claimed_ticket(service)

    empty = await upload(ana, ticket_id, "note.txt", b"", "text/plain")
    nameless = await ana.service.call(
        "POST",
        f"/api/tickets/{ticket_id}/attachments",
        headers={"Authorization": f"Bearer {ana.token}", "Content-Type": "image/png"},
        raw=sample_files.png(),
    )
    traversal = await upload(ana, ticket_id, "../../etc/passwd.png", sample_files.png())

    assert (empty.status, empty.body["error"]["field"]) == (400, "file")
    assert (nameless.status, nameless.body["error"]["field"]) == (400, "name")
    assert traversal.status == 201 and traversal.body["attachment"]["name"] == "passwd.png"
    assert (await stored_anywhere(service))[0] == 1


class TestSizeLimit:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"attachment_max_bytes": 2_000}

    async def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
        self, service: RunningService
    ) -> None:
        ana, ticket_id = await claimed_ticket(service)
        text = b"a" * 2_000

        at_limit = await upload(ana, ticket_id, "notes.txt", text, "text/plain")
        over = await upload(ana, ticket_id, "big.txt", text + b"a", "text/plain")

        assert at_limit.status == 201
        assert over.status == 413
        assert over.body["error"]["field"] == "file"
        assert over.body["error"]["max_bytes"] == 2_000
        assert "big.txt is larger than the limit of 2 kB" in over.body["error"]["message"]
        assert (await stored_anywhere(service))[0] == 1

    async def test_a_chunked_body_is_cut_off_at_the_limit(self, service: RunningService) -> None:
        """No Content-Length to refuse early: the reading stops once past the limit."""
        ana, ticket_id = await claimed_ticket(service)
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(5):
                sent += 1_000
                yield b"b" * 1_000

        async with service.http.post(
            f"{service.url}/api/tickets/{ticket_id}/attachments?name=stream.txt",
            data=chunks(),
            headers={"Authorization": f"Bearer {ana.token}", "Content-Type": "text/plain"},
        ) as response:
            body = await response.json()

        assert response.status == 413 and body["error"]["field"] == "file"
        assert (await stored_anywhere(service))[0] == 0

    async def test_a_huge_chunked_upload_is_not_read_to_its_end(
        self, service: RunningService
    ) -> None:
        """The refusal comes once the limit is passed, while the client is still sending: the
        service stops reading (its drain of the rest is bounded by max_body_bytes, 1 MB), so a
        100 MB body costs it a few megabytes at most."""
        ana, ticket_id = await claimed_ticket(service)
        offered = 100_000_000
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            while sent < offered:
                sent += 65_536
                yield b"c" * 65_536

        status: int | None = None
        try:
            async with service.http.post(
                f"{service.url}/api/tickets/{ticket_id}/attachments?name=huge.txt",
                data=chunks(),
                headers={"Authorization": f"Bearer {ana.token}", "Content-Type": "text/plain"},
            ) as response:
                status = response.status
        except (aiohttp.ClientError, ConnectionError):
            # The 413 went out, then the connection closed on the rest of the body; a client
            # still writing may see the close before it reads the answer.
            status = None

        assert status in (413, None)
        # Measured here: about 4 MB left the client (socket buffers and the bounded drain).
        assert sent < 20_000_000, f"the client got to send {sent} bytes"
        assert (await stored_anywhere(service))[0] == 0

    async def test_the_limits_are_told_to_the_inbox(self, service: RunningService) -> None:
        ana = await service.attendant("ana", teams=["support"])

        limits = await ana.get("/api/attachments/limits")

        assert limits.body["max_bytes"] == 2_000
        assert "image/png" in limits.body["types"] and "text/html" not in limits.body["types"]


class TestAllowList:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"attachment_types": ("application/pdf",)}

    async def test_a_type_left_out_of_the_allow_list_is_refused(
        self, service: RunningService
    ) -> None:
        ana, ticket_id = await claimed_ticket(service)

        image = await upload(ana, ticket_id, "a.png", sample_files.png(), "image/png")
        document = await upload(ana, ticket_id, "a.pdf", sample_files.pdf(), "application/pdf")

        assert image.status == 415 and "Allowed: application/pdf" in image.body["error"]["message"]
        assert document.status == 201


async def test_parallel_uploads_are_each_stored_whole(service: RunningService) -> None:
    ana, ticket_id = await claimed_ticket(service)
    contents = [sample_files.png(width=4 + i, rgb=(i, 2 * i, 3 * i)) for i in range(12)]

    replies = await at_once(
        upload(ana, ticket_id, f"shot-{i}.png", content, "image/png")
        for i, content in enumerate(contents)
    )

    assert [r.status for r in replies] == [201] * len(contents)
    ids = [r.body["attachment"]["id"] for r in replies]
    assert len(set(ids)) == len(ids)
    for file_id, content in zip(ids, contents, strict=True):
        served = await service.http.get(
            f"{service.url}/api/tickets/{ticket_id}/attachments/{file_id}",
            headers={"Authorization": f"Bearer {ana.token}"},
        )
        assert await served.read() == content
    assert (await stored_anywhere(service))[0] == len(contents)


async def test_a_reply_sends_the_file_by_a_signed_link_that_expires(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana, ticket_id = await claimed_ticket(service)
    document = sample_files.pdf()
    uploaded = await upload(ana, ticket_id, "Invoice März.pdf", document)
    file_id = uploaded.body["attachment"]["id"]

    sent = await ana.post(
        f"/api/tickets/{ticket_id}/reply",
        {"text": "Here it is", "attachments": [{"file_id": file_id}]},
    )

    assert sent.status == 201, sent.body
    assert sent.body["message"]["attachments"] == [
        {
            "file_id": file_id,
            "name": "Invoice März.pdf",
            "mime_type": "application/pdf",
            "size": len(document),
        }
    ]
    command = connector.commands[-1][1]
    attachment = command["attachments"][0]
    assert (attachment["mime_type"], attachment["name"], attachment["size"]) == (
        "application/pdf",
        "Invoice März.pdf",
        len(document),
    )
    link = attachment["url"]
    assert link.startswith(f"{service.ctx.settings.public_url()}/files/{file_id}?expires=")
    fetched = await service.http.get(link)
    assert fetched.status == 200 and await fetched.read() == document
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''Invoice%20M%C3%A4rz.pdf" in fetched.headers["Content-Disposition"]
    assert "sandbox" not in fetched.headers["Content-Security-Policy"]  # the PDF viewer works

    altered = await service.http.get(link.replace("signature=", "signature=0"))
    other_file = await service.http.get(link.replace(file_id, "x" * len(file_id)))
    unsigned = await service.http.get(link.split("?")[0])
    again = await ana.post(
        f"/api/tickets/{ticket_id}/reply", {"text": "", "attachments": [{"file_id": file_id}]}
    )
    service.clock.advance(days=7, seconds=1)
    expired = await service.http.get(link)

    assert (altered.status, other_file.status, unsigned.status) == (403, 403, 403)
    assert again.status == 409 and again.body["error"]["field"] == "attachments[0].file_id"
    assert expired.status == 410
    assert (await expired.json())["error"]["field"] == "expires"


async def test_a_file_of_another_ticket_cannot_be_sent(
    service_with_connector: RunningService,
) -> None:
    service = service_with_connector
    ana, first = await claimed_ticket(service, "conv-1")
    second = (await service.handoff("conv-2", idempotency_key="k-2")).body["ticket"]["id"]
    await ana.post(f"/api/tickets/{second}/claim")
    file_id = (await upload(ana, first, "a.png", sample_files.png())).body["attachment"]["id"]

    refused = await ana.post(
        f"/api/tickets/{second}/reply", {"attachments": [{"file_id": file_id}]}
    )

    assert refused.status == 404 and refused.body["error"]["field"] == "attachments[0].file_id"


async def test_an_upload_removed_before_sending_is_deleted(service: RunningService) -> None:
    ana, ticket_id = await claimed_ticket(service)
    file_id = (await upload(ana, ticket_id, "a.png", sample_files.png())).body["attachment"]["id"]

    removed = await ana.request("DELETE", f"/api/tickets/{ticket_id}/attachments/{file_id}")

    assert removed.status == 204
    assert await stored_anywhere(service) == (0, 0, 0)


class TestRetentionAndExport:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"retention_days": 30}

    async def test_the_export_links_each_file_and_retention_deletes_them(
        self, service: RunningService
    ) -> None:
        ana, ticket_id = await claimed_ticket(service)
        image = sample_files.png()
        file_id = (await upload(ana, ticket_id, "a.png", image)).body["attachment"]["id"]
        await ana.post(f"/api/tickets/{ticket_id}/reply", {"attachments": [{"file_id": file_id}]})
        await ana.post(f"/api/tickets/{ticket_id}/close")
        boss = await service.attendant("boss", role="supervisor")

        export = await boss.get("/api/conversations/conv-1/export")
        files = export.body["tickets"][0]["attachments"]
        fetched = await service.http.get(files[0]["url"])
        service.clock.advance(days=31)
        outcome = await service.ctx.automation.run_once()

        assert [(f["id"], f["name"], f["sent"]) for f in files] == [(file_id, "a.png", True)]
        assert await fetched.read() == image
        assert outcome.purged == 1
        assert await stored_anywhere(service) == (0, 0, 0)
        boss = await service.login("boss")
        listed = await boss.get(f"/api/tickets/{ticket_id}/attachments")
        assert listed.body["attachments"] == []


def test_nothing_is_written_under_the_repository_by_these_tests() -> None:
    assert not os.path.exists(".data/attachments") or not any(Path(".data/attachments").rglob("*"))
