"""Every text field of the API: awkward Unicode is stored byte-exact, broken text is refused whole.

Each field gets the same treatment: RTL, combining marks, emoji ZWJ sequences and 4-byte characters
come back exactly as sent (in the answer and on a later read); NUL, a lone surrogate escaped in the
JSON, an oversized value, an oversized body and a binary body are each a clear 4xx naming the field
(or the body), and the table the request would have written has as many rows as before.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from handoff_component import contract
from tests.service.support import SECRET, Attendant, RunningService, handoff_payload

AWKWARD = {
    # Arabic and Hebrew inside an RTL embedding; escaped so no editor reorders the source.
    "rtl": (
        "\u202b\u0645\u0631\u062d\u0628\u0627\u060c \u0623\u064a\u0646\u061f\u202c"
        " \u05e9\u05dc\u05d5\u05dd"
    ),
    "combining": "e\u0301\u0302\u0303 Z\u0351\u0352\u0353 n\u0303",
    "zwj": (
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
        " \U0001f3f3\ufe0f\u200d\U0001f308"
    ),
    "astral": "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594 \U0001f600 \U00020000",
    "controls": "line\u2028para\u2029tab\tbom\ufeffend\r\n",
}


@dataclass
class Setup:
    service: RunningService
    sam: Attendant
    ticket_id: int
    team_id: int
    reply_id: int


@dataclass
class Field:
    """One text field: where it is sent, the table it lands in, where it reads back from."""

    name: str
    table: str
    send: Callable[[Setup, Any], Awaitable[Any]]
    stored: Callable[[Setup, Any], Awaitable[str]]
    max_length: int


async def _reply(s: Setup, value: Any) -> Any:
    return await _raw(s, "POST", f"/api/tickets/{s.ticket_id}/reply", {"text": value})


async def _reply_stored(s: Setup, answer: Any) -> str:
    detail = (await s.sam.get(f"/api/tickets/{s.ticket_id}")).body["ticket"]
    return next(m["text"] for m in detail["messages"] if m["id"] == answer["message"]["id"])


async def _note(s: Setup, value: Any) -> Any:
    return await _raw(s, "POST", f"/api/tickets/{s.ticket_id}/notes", {"text": value})


async def _transfer_note(s: Setup, value: Any) -> Any:
    body = {"team_id": s.team_id, "note": value}
    return await _raw(s, "POST", f"/api/tickets/{s.ticket_id}/transfer", body)


async def _note_stored(s: Setup, answer: Any) -> str:
    detail = (await s.sam.get(f"/api/tickets/{s.ticket_id}")).body["ticket"]
    return next(n["text"] for n in detail["notes"] if n["id"] == answer["note"]["id"])


def _canned(key: str, other: str) -> Callable[[Setup, Any], Awaitable[Any]]:
    async def send(s: Setup, value: Any) -> Any:
        body = {key: value, other: f"fixed {other}"}
        return await _raw(s, "POST", f"/api/teams/{s.team_id}/canned-replies", body)

    return send


def _canned_stored(key: str) -> Callable[[Setup, Any], Awaitable[str]]:
    async def stored(s: Setup, answer: Any) -> str:
        replies = (await s.sam.get(f"/api/teams/{s.team_id}/canned-replies")).body
        wanted = answer["canned_reply"]["id"]
        return next(r[key] for r in replies["canned_replies"] if r["id"] == wanted)

    return stored


async def _canned_patch(s: Setup, value: Any) -> Any:
    return await _raw(
        s, "PATCH", f"/api/teams/{s.team_id}/canned-replies/{s.reply_id}", {"text": value}
    )


async def _attendant_name(s: Setup, value: Any) -> Any:
    body = {"username": "newcomer", "display_name": value, "password": "long-enough-pw"}
    return await _raw(s, "POST", "/api/attendants", body)


async def _attendant_stored(s: Setup, answer: Any) -> str:
    found = await s.sam.get(f"/api/attendants/{answer['attendant']['id']}")
    return found.body["attendant"]["display_name"]


async def _team_name(s: Setup, value: Any) -> Any:
    return await _raw(s, "POST", "/api/teams", {"name": "newteam", "display_name": value})


async def _team_stored(s: Setup, answer: Any) -> str:
    found = await s.sam.get(f"/api/teams/{answer['team']['id']}")
    return found.body["team"]["display_name"]


async def _handoff_reason(s: Setup, value: Any) -> Any:
    payload = handoff_payload("conv-text", reason=value)
    raw = _encode(payload)
    headers = contract.signed_headers(SECRET, raw)
    return await s.service.call("POST", contract.SERVICE_HANDOFFS_PATH, headers=headers, raw=raw)


async def _handoff_stored(s: Setup, answer: Any) -> str:
    return (await s.sam.get(f"/api/tickets/{answer['ticket']['id']}")).body["ticket"]["reason"]


def _encode(body: Any) -> bytes:
    """JSON with lone surrogates kept as escapes: UTF-8 cannot hold them, json.dumps escapes."""
    return json.dumps(body).encode("ascii")


async def _raw(s: Setup, method: str, path: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {s.sam.token}"}
    return await s.service.call(method, path, headers=headers, raw=_encode(body))


def _fields() -> list[Field]:
    title_send = _canned("title", "text")
    text_send = _canned("text", "title")
    return [
        Field("text", "messages", _reply, _reply_stored, contract.MAX_TEXT_LENGTH),
        Field("text", "notes", _note, _note_stored, contract.MAX_TEXT_LENGTH),
        Field("note", "notes", _transfer_note, _note_stored, contract.MAX_TEXT_LENGTH),
        Field("title", "canned_replies", title_send, _canned_stored("title"), 200),
        Field(
            "text", "canned_replies", text_send, _canned_stored("text"), contract.MAX_TEXT_LENGTH
        ),
        Field(
            "text",
            "canned_replies",
            _canned_patch,
            _canned_stored("text"),
            contract.MAX_TEXT_LENGTH,
        ),
        Field("display_name", "attendants", _attendant_name, _attendant_stored, 200),
        Field("display_name", "teams", _team_name, _team_stored, 200),
        Field("reason", "tickets", _handoff_reason, _handoff_stored, contract.MAX_REASON_LENGTH),
    ]


FIELDS = _fields()
FIELD_IDS = [
    "reply.text",
    "note.text",
    "transfer.note",
    "canned.title",
    "canned.text",
    "canned.patch.text",
    "attendant.display_name",
    "team.display_name",
    "handoff.reason",
]


@pytest.fixture
async def setup(service: RunningService) -> Setup:
    sam = await service.attendant("sam", role="supervisor", teams=["support"])
    opened = await service.handoff("conv-1")
    ticket_id = opened.body["ticket"]["id"]
    claimed = await sam.post(f"/api/tickets/{ticket_id}/claim")
    assert claimed.status == 200, claimed.body
    team_id = opened.body["ticket"]["team"]["id"]
    canned = await sam.post(
        f"/api/teams/{team_id}/canned-replies", {"title": "hello", "text": "Hello!"}
    )
    return Setup(service, sam, ticket_id, team_id, canned.body["canned_reply"]["id"])


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("kind", sorted(AWKWARD))
async def test_awkward_unicode_is_stored_and_returned_byte_exact(
    setup: Setup, field: Field, kind: str
) -> None:
    value = AWKWARD[kind]
    if field.table in ("attendants", "teams", "canned_replies") and field.name != "text":
        value = value.strip() or value

    answer = await field.send(setup, value)

    assert answer.status in (200, 201), answer.body
    stored = await field.stored(setup, answer.body)
    assert stored.encode("utf-8") == value.encode("utf-8")


BROKEN = {
    "nul": ("before\x00after", "NUL"),
    "lone_surrogate": ("broken \ud800 text", "surrogate"),
    "low_surrogate_first": ("\udc00\ud800", "surrogate"),
}


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("kind", sorted(BROKEN))
async def test_unstorable_text_is_refused_naming_the_field_and_nothing_is_stored(
    setup: Setup, field: Field, kind: str
) -> None:
    value, words = BROKEN[kind]
    before = await setup.service.table_count(field.table)

    answer = await field.send(setup, value)

    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field.name
    assert words in answer.body["error"]["message"]
    assert await setup.service.table_count(field.table) == before


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
async def test_an_oversized_value_is_refused_naming_the_field(setup: Setup, field: Field) -> None:
    before = await setup.service.table_count(field.table)

    answer = await field.send(setup, "\U0001f600" * (field.max_length + 1))

    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field.name
    assert f"longer than {field.max_length}" in answer.body["error"]["message"]
    assert await setup.service.table_count(field.table) == before


async def test_an_oversized_body_is_refused_before_parsing(setup: Setup) -> None:
    limit = setup.service.ctx.settings.max_body_bytes
    body = json.dumps({"text": "x" * limit}).encode()
    headers = {"Authorization": f"Bearer {setup.sam.token}"}

    answer = await setup.service.call(
        "POST", f"/api/tickets/{setup.ticket_id}/notes", headers=headers, raw=body
    )

    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"
    assert await setup.service.table_count("notes") == 0


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00\x01binary", b'{"text": "\xc3\x28"}', b"\x89PNG\r\n\x1a\n\x00\x00"],
    ids=["bytes", "invalid-utf8", "png"],
)
async def test_a_binary_body_is_a_clear_400(setup: Setup, raw: bytes) -> None:
    headers = {"Authorization": f"Bearer {setup.sam.token}"}

    answer = await setup.service.call(
        "POST", f"/api/tickets/{setup.ticket_id}/notes", headers=headers, raw=raw
    )

    assert answer.status == 400
    assert "not valid JSON" in answer.body["error"]["message"]
    assert await setup.service.table_count("notes") == 0
