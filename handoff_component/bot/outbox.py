"""A durable, ordered queue of requests to the handoff service, kept in a local SQLite file.

Rasa calls the event broker's `publish()` synchronously on its event loop, so publishing must be
quick and must never wait for the network. Writing the event to this file is both: a few hundred
microseconds, and it survives a restart of Rasa or an outage of the service. A delivery task reads
the queue oldest first and removes an item only once the service has acknowledged it.

Items the service refuses as malformed (a 4xx) are moved aside to `dead_letters` rather than
dropped, so one bad event cannot block the queue and nothing is lost without a trace.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    error TEXT NOT NULL
);
"""


def encode(body: Any) -> str:
    """An item's JSON as stored: compact, ASCII only (so its length in characters is its length
    in bytes), anything JSON lacks as its string."""
    return json.dumps(body, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class OutboxItem:
    """One queued request. `text` is its JSON as stored (and sent: the delivery does not decode
    and re-encode it); `body` decodes it when a reader wants the dict."""

    id: int
    kind: str
    text: str = field(repr=False)
    attempts: int

    @cached_property
    def body(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.text)
        return decoded


class Outbox:
    """The queue itself. Thread-safe; one file per Rasa process (replicas do not share it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # WAL plus synchronous=NORMAL: an append survives a crash of the process (not of the OS)
        # at a fraction of the cost of a full fsync per event.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def put(self, kind: str, body: dict[str, Any]) -> int:
        """Append one item; returns its position in the queue."""
        data = encode(body)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO outbox (kind, body, queued_at) VALUES (?, ?, ?)",
                (kind, data, time.time()),
            )
        if cursor.lastrowid is None:  # sqlite3 sets it after every INSERT
            raise sqlite3.DatabaseError("the outbox insert returned no row id")
        return cursor.lastrowid

    def put_many(self, items: list[tuple[str, dict[str, Any] | str]]) -> None:
        """Append several items in one transaction: one commit (one WAL write) per tracker save.

        A body may be given already encoded (a str of JSON), as the broker does: it has encoded
        it to measure it, and encoding it again would cost as much once more.
        """
        now = time.time()
        rows = [(kind, body if isinstance(body, str) else encode(body), now)
                for kind, body in items]  # fmt: skip
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO outbox (kind, body, queued_at) VALUES (?, ?, ?)", rows
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def peek(self, limit: int) -> list[OutboxItem]:
        """The oldest `limit` items, in the order they were put."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, body, attempts FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [OutboxItem(row[0], row[1], row[2], row[3]) for row in rows]

    def ack(self, ids: list[int]) -> None:
        """Forget items the service has stored."""
        if not ids:
            return
        with self._lock:  # one transaction (one WAL commit) for the batch, not one per item
            self._db.execute("BEGIN")
            try:
                self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def record_attempt(self, ids: list[int]) -> None:
        """Count a delivery that failed (a success needs no write: the items are deleted)."""
        with self._lock:
            self._db.executemany(
                "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", [(i,) for i in ids]
            )

    def move_to_dead_letters(self, ids: list[int], error: str) -> None:
        """Set aside items the service refused, keeping them for an operator to inspect."""
        with self._lock:
            self._db.execute("BEGIN")
            for item_id in ids:
                self._db.execute(
                    "INSERT INTO dead_letters (id, kind, body, queued_at, failed_at, error) "
                    "SELECT id, kind, body, queued_at, ?, ? FROM outbox WHERE id = ?",
                    (time.time(), error[:2000], item_id),
                )
                self._db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, body, error FROM dead_letters ORDER BY id"
            ).fetchall()
        return [{"id": r[0], "kind": r[1], "body": json.loads(r[2]), "error": r[3]} for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
