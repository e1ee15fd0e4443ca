"""The live stream across replicas: ticket events travel between service processes on PostgreSQL.

Why: each replica has its own in-process `TicketEventBus`, and an attendant's `/api/stream` is
held by one replica, so without a relay an attendant would only hear about the changes made on the
replica that serves their stream. The database every replica already shares is the bus: PostgreSQL's
`LISTEN/NOTIFY` needs no extra service (no Redis, no broker) and works through any load balancer.

How:
- each event published on this replica (after its transaction committed) is still delivered to the
  local subscribers at once, and is also queued here; one task sends the queue, in order, with
  `pg_notify('handoff_events', payload)` over the ordinary connection pool;
- the payload is compact JSON: the event's type, ids, team and assignee (enough to decide who may
  see it) and its data. NOTIFY payloads must stay under 8000 bytes, so an event whose data would not
  fit is sent as a reference instead (ids of the ticket, message or note) that the receiving
  replica re-reads from the database;
- each replica holds one dedicated asyncpg connection that `LISTEN`s on the channel and hands what
  it receives to its local bus with `deliver` (local subscribers only). Every payload carries the
  sending replica's random origin id, and a replica drops its own, so a local subscriber gets each
  event exactly once;
- if the LISTEN connection drops (restart, failover, `pg_terminate_backend`) the relay logs it and
  reconnects with a growing back-off, forever. Events notified while it was away are lost for this
  replica's open streams, so once it listens again it ends them: the Inbox reloads its list whenever
  its stream reconnects, and the database stays the source of truth.

SQLite runs as one process, so there the bus stays in-process and no relay is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from handoff_component.service.db import is_sqlite, normalise_url
from handoff_component.service.errors import NotFound
from handoff_component.service.models import notes
from handoff_component.service.notifications import TicketEvent, TicketEventBus
from handoff_component.service.tickets import (
    Note,
    TicketStore,
    message_json,
    note_json,
    ticket_json,
)

logger = logging.getLogger(__name__)

CHANNEL = "handoff_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; keep a margin.
MAX_PAYLOAD_BYTES = 7900
# Shown in pg_stat_activity, so an operator can tell the relay's connections apart.
APPLICATION_NAME = "handoff-event-relay"
# Parts of an event's data that a receiving replica can re-read by id when the payload is too big.
REREADABLE = ("message", "note")

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def _dumps(value: Any) -> str:
    # ASCII only: its length is its size in bytes, and any server encoding accepts it.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def encode(event: TicketEvent, origin: str) -> str:
    """The NOTIFY payload of `event`: the whole event, or a reference when it would not fit."""
    head = {
        "o": origin,
        "t": event.type,
        "k": event.ticket_id,
        "tm": event.team_id,
        "a": event.assignee_id,
        "pt": event.previous_team_id,
        "pa": event.previous_assignee_id,
    }
    full = _dumps({**head, "d": event.data})
    if len(full) < MAX_PAYLOAD_BYTES:
        return full
    refs: dict[str, int] = {}
    inline: dict[str, Any] = {}
    for key, value in event.data.items():
        if key == "ticket":
            continue  # always re-read
        if key in REREADABLE and isinstance(value, dict) and "id" in value:
            refs[key] = value["id"]
        else:
            inline[key] = value
    reference = _dumps({**head, "r": refs, "x": inline})
    if len(reference) >= MAX_PAYLOAD_BYTES:
        logger.warning("event %s of ticket %s: extra data dropped", event.type, event.ticket_id)
        reference = _dumps({**head, "r": refs, "x": {}})
    return reference


def listen_dsn(db_url: str) -> str:
    """The plain `postgresql://` DSN asyncpg connects with, from the service's database URL."""
    url = make_url(normalise_url(db_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class EventRelay:
    """Sends this replica's ticket events to the others and delivers theirs to local subscribers."""

    def __init__(
        self,
        db_url: str,
        bus: TicketEventBus,
        store: TicketStore,
        *,
        channel: str = CHANNEL,
        min_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        health_check_seconds: float = 10.0,
        outbox_size: int = 10_000,
    ) -> None:
        self.dsn = listen_dsn(db_url)
        self.bus = bus
        self.store = store
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.min_backoff_seconds = min_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.health_check_seconds = health_check_seconds
        # Observable state, for logs, tests and operators.
        self.generation = 0  # how many times LISTEN was established
        self.backend_pid: int | None = None
        self.listening = asyncio.Event()
        self.sent = 0
        self.received = 0
        self._outbox: asyncio.Queue[TicketEvent] = asyncio.Queue(outbox_size)
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self._first_attempt = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, wait_seconds: float = 10.0) -> None:
        """Start relaying; returns once the first LISTEN is up (or its first attempt failed)."""
        self.bus.add_forwarder(self._enqueue)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._send_forever()),
            loop.create_task(self._listen_forever()),
            loop.create_task(self._receive_forever()),
        ]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), timeout=wait_seconds)

    async def flush(self) -> None:
        """Wait until every event published so far has been handed to PostgreSQL (or dropped)."""
        await self._outbox.join()

    async def stop(self, flush_seconds: float = 5.0) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=flush_seconds)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=2)
            except Exception:
                connection.terminate()

    # --- sending ---------------------------------------------------------------------------------

    def _enqueue(self, event: TicketEvent) -> None:
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning(
                "event relay outbox full: %s of ticket %s not sent to other replicas",
                event.type,
                event.ticket_id,
            )

    async def _send_forever(self) -> None:
        engine = self.store.db.engine
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with engine.begin() as conn:  # one commit sends the batch, in order
                    for event in batch:
                        payload = encode(event, self.origin)
                        await conn.execute(_NOTIFY, {"channel": self.channel, "payload": payload})
                self.sent += len(batch)
            except Exception as error:
                logger.warning(
                    "event relay could not notify %s event(s) to other replicas: %s: %s",
                    len(batch),
                    error.__class__.__name__,
                    error,
                )
            finally:
                for _ in batch:
                    self._outbox.task_done()

    # --- receiving -------------------------------------------------------------------------------

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._inbox.put_nowait(payload)

    async def _listen_forever(self) -> None:
        """Hold one LISTEN connection; when it is lost, log, back off and connect again."""
        delay = self.min_backoff_seconds
        while True:
            try:
                await self._listen_once()
                delay = self.min_backoff_seconds  # it had worked: start the back-off afresh
                logger.warning("event relay lost its LISTEN connection; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning(
                    "event relay cannot LISTEN (%s: %s); retrying in %.1f s",
                    error.__class__.__name__,
                    error,
                    delay,
                )
            finally:
                self.listening.clear()
                self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_seconds)

    async def _listen_once(self) -> None:
        """Connect, LISTEN, and return when the connection is lost (raise if it never worked)."""
        connection = await asyncpg.connect(
            self.dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        self._connection = connection
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self.channel, self._on_notify)
            self.generation += 1
            self.backend_pid = connection.get_server_pid()
            self.listening.set()
            self._first_attempt.set()
            logger.info("event relay listening on %r (backend %s)", self.channel, self.backend_pid)
            if self.generation > 1:
                # Whatever other replicas notified while we were away is lost to our streams.
                ended = self.bus.end_streams()
                logger.info("event relay ended %d stream(s) so their Inboxes reload", ended)
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=self.health_check_seconds)
                except asyncio.TimeoutError:
                    # A silent network loss sends no FIN: ask, so a dead connection shows up.
                    try:
                        await connection.fetchval("SELECT 1", timeout=self.health_check_seconds)
                    except Exception:
                        return
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.listening.is_set():
                return  # lost while listening: reconnect after the usual back-off
            raise
        finally:
            if self._connection is connection:
                self._connection = None
            if not connection.is_closed():
                connection.terminate()

    async def _receive_forever(self) -> None:
        """Deliver received events one at a time, so each replica keeps the senders' order."""
        while True:
            payload = await self._inbox.get()
            try:
                event = await self._decode(payload)
            except Exception:
                logger.exception("event relay could not read a notification; skipped")
                continue
            if event is not None:
                self.received += 1
                self.bus.deliver(event)

    async def _decode(self, payload: str) -> TicketEvent | None:
        body = json.loads(payload)
        if body["o"] == self.origin:
            return None  # published here, and already delivered to local subscribers
        data = body.get("d")
        if data is None:
            try:
                data = await self._reread(body["k"], body.get("r", {}), body.get("x", {}))
            except NotFound as missing:
                logger.info("event relay: %s (deleted since); %s skipped", missing, body["t"])
                return None
        return TicketEvent(
            type=body["t"],
            ticket_id=body["k"],
            team_id=body["tm"],
            assignee_id=body["a"],
            data=data,
            previous_team_id=body.get("pt"),
            previous_assignee_id=body.get("pa"),
        )

    async def _reread(
        self, ticket_id: int, refs: dict[str, int], inline: dict[str, Any]
    ) -> dict[str, Any]:
        """An event too big for NOTIFY, rebuilt from the database (the ticket as it is now)."""
        data: dict[str, Any] = {"ticket": ticket_json(await self.store.get(ticket_id)), **inline}
        if "message" in refs:
            data["message"] = message_json(await self.store.message(ticket_id, refs["message"]))
        if "note" in refs:
            async with self.store.db.read() as conn:
                row = (await conn.execute(select(notes).where(notes.c.id == refs["note"]))).first()
            if row is None:
                raise NotFound(f"note {refs['note']} does not exist")
            data["note"] = note_json(Note.from_row(row))
        return data


async def start_relay(db_url: str, bus: TicketEventBus, store: TicketStore) -> EventRelay | None:
    """A started relay on PostgreSQL; None on SQLite, whose single process needs none."""
    if is_sqlite(db_url):
        return None
    relay = EventRelay(db_url, bus, store)
    await relay.start()
    return relay
