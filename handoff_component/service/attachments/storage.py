"""Where the bytes of attachments live: one interface, two places, both used for real.

- `DirectoryStorage`, the embedded default: one file per attachment under a directory (`.data/
  attachments` by default), written to a temporary name and renamed, so a reader never sees half
  a file, in a worker thread so the event loop is not held by the disk;
- `DatabaseStorage`, the production default on PostgreSQL: a row of `attachment_contents`
  (bytea), written in the same transaction as the metadata, so replicas share the files with no
  shared disk and a backup of the database holds them.

Each attachment row says which storage holds its bytes, so changing the setting keeps older files.
An S3-compatible bucket is not built: there is none to test against here.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.service.models import attachment_contents
from handoff_component.service.settings import Settings

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class FileStorage(Protocol):
    """Save, load and remove the bytes of attachments, by their random id."""

    kind: str

    async def save(self, conn: AsyncConnection, file_id: str, content: bytes) -> None:
        """Store `content`; inside the transaction that writes the metadata row."""

    async def load(self, conn: AsyncConnection, file_id: str) -> bytes | None:
        """The bytes, or None if they are gone."""

    async def remove(self, conn: AsyncConnection, file_ids: Sequence[str]) -> None:
        """Delete the bytes of these files (inside the transaction deleting their rows)."""

    async def discard(self, file_ids: Sequence[str]) -> None:
        """After a commit that deleted rows, or a transaction that failed after `save`: drop
        what is outside the database."""


class DatabaseStorage:
    kind = "database"

    async def save(self, conn: AsyncConnection, file_id: str, content: bytes) -> None:
        await conn.execute(
            insert(attachment_contents).values(attachment_id=file_id, content=content)
        )

    async def load(self, conn: AsyncConnection, file_id: str) -> bytes | None:
        row = (
            await conn.execute(
                select(attachment_contents.c.content).where(
                    attachment_contents.c.attachment_id == file_id
                )
            )
        ).first()
        return bytes(row.content) if row is not None else None

    async def remove(self, conn: AsyncConnection, file_ids: Sequence[str]) -> None:
        if file_ids:
            await conn.execute(
                delete(attachment_contents).where(
                    attachment_contents.c.attachment_id.in_(list(file_ids))
                )
            )

    async def discard(self, file_ids: Sequence[str]) -> None:
        return None  # rolled back or deleted with the transaction


class DirectoryStorage:
    kind = "directory"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_of(self, file_id: str) -> Path:
        if not _SAFE_ID.match(file_id):
            raise ValueError(f"not an attachment id: {file_id!r}")
        return self.directory / file_id[:2] / file_id

    async def save(self, conn: AsyncConnection, file_id: str, content: bytes) -> None:
        await asyncio.to_thread(self._write, self.path_of(file_id), content)

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    async def load(self, conn: AsyncConnection, file_id: str) -> bytes | None:
        path = self.path_of(file_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def remove(self, conn: AsyncConnection, file_ids: Sequence[str]) -> None:
        return None  # the files go after the commit (`discard`): a rollback keeps them

    async def discard(self, file_ids: Sequence[str]) -> None:
        paths = [self.path_of(file_id) for file_id in file_ids]
        await asyncio.to_thread(_unlink_all, paths)


def _unlink_all(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def storages_for(settings: Settings) -> dict[str, FileStorage]:
    """Both storages, by the kind an attachment row names: files stored under an earlier
    setting stay readable and deletable."""
    return {
        "directory": DirectoryStorage(settings.attachments_dir),
        "database": DatabaseStorage(),
    }
