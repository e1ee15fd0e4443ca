"""The attachments of tickets: checked, stored, listed, linked and deleted with their ticket.

An upload is refused before anything is stored when it is empty, larger than
`attachment_max_bytes`, or of a type (sniffed from its bytes: `file_types.sniff`) outside
`attachment_types`; each refusal names the field at fault (`file`, `name`). Otherwise the bytes go
to the configured storage and the metadata row is written in one transaction; a failure after
the bytes were written removes them, so nothing half-stored is left behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import posixpath
import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import MAX_NAME_LENGTH, Attachment, ContractError
from handoff_component.contract.reader import check_storable_text
from handoff_component.service.attachments.file_types import sniff
from handoff_component.service.attachments.links import AttachmentLinks
from handoff_component.service.attachments.storage import FileStorage, storages_for
from handoff_component.service.db import Database
from handoff_component.service.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from handoff_component.service.models import attachments
from handoff_component.service.settings import Settings

logger = logging.getLogger(__name__)

# The shape of the ids `add` makes (secrets.token_urlsafe(24): 32 characters).
FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file's metadata row; its bytes are in `storage`."""

    id: str
    ticket_id: int
    uploaded_by: int
    message_id: int | None
    name: str
    mime_type: str
    size: int
    sha256: str
    storage: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> StoredFile:
        return cls(**{column.name: row._mapping[column.name] for column in attachments.columns})

    def reference(self) -> dict[str, Any]:
        """What a message's `attachments` hold for this file: its id, never a link (a link
        expires; each delivery and each view makes its own)."""
        return {
            "file_id": self.id,
            "name": self.name,
            "mime_type": self.mime_type,
            "size": self.size,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "name": self.name,
            "mime_type": self.mime_type,
            "size": self.size,
            "sha256": self.sha256,
            "sent": self.message_id is not None,
            "message_id": self.message_id,
            "created_at": self.created_at.isoformat(),
        }


def clean_name(raw: str | None) -> str:
    """The file's name as shown and offered for download: its last path part, NFC, without
    control characters; `BadRequest` naming `name` when nothing usable is left."""
    if raw is None or not raw.strip():
        raise BadRequest("the file needs a name (the query parameter name)", field="name")
    try:
        check_storable_text(raw, "name")
    except ContractError as error:
        raise BadRequest(f"name {error.message}", field="name") from None
    name = posixpath.basename(unicodedata.normalize("NFC", raw).replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise BadRequest(f"{raw!r} is not a usable file name", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"name is longer than {MAX_NAME_LENGTH} characters", field="name")
    return name


class AttachmentStore:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.storages = storages_for(settings)
        self.default_storage = settings.storage_of_attachments()
        self.links = AttachmentLinks(
            settings.secret, settings.public_url(), settings.attachment_link_ttl
        )

    @property
    def max_bytes(self) -> int:
        return self.settings.attachment_max_bytes

    def limits(self) -> dict[str, Any]:
        return {"max_bytes": self.max_bytes, "types": list(self.settings.attachment_types)}

    def too_large(self, name: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"{name} is larger than the limit of {_size(self.max_bytes)}; nothing was stored",
            field="file",
            max_bytes=self.max_bytes,
        )

    def sniffed_type(self, name: str, declared: str | None, content: bytes) -> str:
        """The allowed type `content` really has, or the refusal naming what it is."""
        if not content:
            raise BadRequest(f"{name} is empty; nothing was stored", field="file")
        if len(content) > self.max_bytes:
            raise self.too_large(name)
        found = sniff(content)
        if found.mime_type not in self.settings.attachment_types:
            claimed = f" (sent as {declared})" if declared else ""
            raise UnsupportedMediaType(
                f"{name}{claimed} is {found.description}, judged by its content, not its name: "
                f"that type is not allowed; nothing was stored. Allowed: "
                f"{', '.join(self.settings.attachment_types)}",
                field="file",
                detected_type=found.mime_type,
            )
        return found.mime_type

    def _examine(self, name: str, declared: str | None, content: bytes) -> tuple[str, str]:
        return self.sniffed_type(name, declared, content), hashlib.sha256(content).hexdigest()

    async def add(
        self,
        ticket_id: int,
        uploaded_by: int,
        raw_name: str | None,
        declared: str | None,
        content: bytes,
    ) -> StoredFile:
        """Check and store one upload of `ticket_id` (whose access the route has checked)."""
        name = clean_name(raw_name)
        # Reading 10 MB of text as UTF-8 and hashing it takes about 0.2 s of CPU: in a worker
        # thread, so other requests are not held up meanwhile.
        mime_type, digest = await asyncio.to_thread(self._examine, name, declared, content)
        stored = StoredFile(
            id=secrets.token_urlsafe(24),
            ticket_id=ticket_id,
            uploaded_by=uploaded_by,
            message_id=None,
            name=name,
            mime_type=mime_type,
            size=len(content),
            sha256=digest,
            storage=self.default_storage,
            created_at=self.settings.clock(),
        )
        storage = self.storages[stored.storage]
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    insert(attachments).values(
                        {
                            column.name: getattr(stored, column.name)
                            for column in attachments.columns
                        }
                    )
                )
                await storage.save(conn, stored.id, content)
        except BaseException:
            await storage.discard([stored.id])
            raise
        return stored

    async def get(self, file_id: str, ticket_id: int | None = None) -> StoredFile:
        if not FILE_ID.match(file_id):  # never one of ours: no need to ask the database
            raise NotFound("no such attachment (or it was deleted)", field="file_id")
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(attachments).where(attachments.c.id == file_id))
            ).first()
        if row is None or (ticket_id is not None and row.ticket_id != ticket_id):
            raise NotFound("no such attachment (or it was deleted)", field="file_id")
        return StoredFile.from_row(row)

    async def of_ticket(self, ticket_id: int) -> list[StoredFile]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(attachments)
                .where(attachments.c.ticket_id == ticket_id)
                .order_by(attachments.c.created_at, attachments.c.id)
            )
            return [StoredFile.from_row(row) for row in rows]

    async def content(self, stored: StoredFile) -> bytes:
        async with self.db.read() as conn:
            content = await self.storages[stored.storage].load(conn, stored.id)
        if content is None:
            raise NotFound("the attachment's content is gone", field="file_id")
        return content

    async def unsent(self, ticket_id: int, file_ids: Sequence[str]) -> list[StoredFile]:
        """The files a reply is about to send, each of this ticket and not sent yet; the error
        names the reply's item at fault (`attachments[i].file_id`)."""
        found: list[StoredFile] = []
        for index, file_id in enumerate(file_ids):
            field = f"attachments[{index}].file_id"
            try:
                stored = await self.get(file_id, ticket_id)
            except NotFound:
                raise NotFound(
                    f"attachment {file_id!r} was not uploaded to this ticket", field=field
                ) from None
            if stored.message_id is not None:
                raise Conflict(f"{stored.name} was already sent; upload it again", field=field)
            found.append(stored)
        return found

    def link(self, reference: dict[str, Any], now: datetime) -> Attachment:
        """A stored file's attachment as the customer's channel gets it: a fresh signed link."""
        url, _expires = self.links.url(reference["file_id"], now)
        return Attachment(
            url=url,
            mime_type=reference.get("mime_type"),
            name=reference.get("name"),
            size=reference.get("size"),
        )

    async def delete_unsent(self, ticket_id: int, file_id: str) -> None:
        """An upload the attendant removed before sending it; a sent one stays with its reply."""
        stored = await self.get(file_id, ticket_id)
        if stored.message_id is not None:
            raise Conflict(f"{stored.name} was sent; it stays with its reply", field="file_id")
        async with self.db.write() as conn:
            await self.storages[stored.storage].remove(conn, [stored.id])
            await conn.execute(
                delete(attachments).where(
                    attachments.c.id == stored.id, attachments.c.message_id.is_(None)
                )
            )
        await self.storages[stored.storage].discard([stored.id])


async def mark_sent(
    conn: AsyncConnection, file_ids: Sequence[str], ticket_id: int, message_id: int
) -> None:
    """In the reply's transaction: the files now belong to `message_id`. A file sent meanwhile
    by a concurrent reply (or deleted) makes this reply fail whole."""
    if not file_ids:
        return
    result = await conn.execute(
        update(attachments)
        .where(
            attachments.c.id.in_(list(file_ids)),
            attachments.c.ticket_id == ticket_id,
            attachments.c.message_id.is_(None),
        )
        .values(message_id=message_id)
    )
    if result.rowcount != len(set(file_ids)):
        raise Conflict(
            "an attachment of this reply was sent or removed meanwhile", field="attachments"
        )


async def delete_files_of(
    conn: AsyncConnection, storages: dict[str, FileStorage], ticket_ids: Sequence[int]
) -> dict[str, list[str]]:
    """In the transaction deleting tickets' content: their files' rows and database bytes. The
    files on disk are returned by storage, for `discard_files` after the commit."""
    if not ticket_ids:
        return {}
    rows = (
        await conn.execute(
            select(attachments.c.id, attachments.c.storage).where(
                attachments.c.ticket_id.in_(list(ticket_ids))
            )
        )
    ).all()
    by_storage: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_storage[row.storage].append(row.id)
    for kind, ids in by_storage.items():
        await storages[kind].remove(conn, ids)
    await conn.execute(delete(attachments).where(attachments.c.ticket_id.in_(list(ticket_ids))))
    return dict(by_storage)


async def discard_files(storages: dict[str, FileStorage], deleted: dict[str, list[str]]) -> None:
    for kind, ids in deleted.items():
        await storages[kind].discard(ids)


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1_000:
        return f"{count / 1_000:g} kB"
    return f"{count} bytes"
