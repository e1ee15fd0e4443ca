"""Benchmark of the expected wait: what estimating it costs a handoff and an automation pass.

    .venv/bin/python benchmarks/bench_expected_wait.py            # 100,000 tickets, SQLite
    .venv/bin/python benchmarks/bench_expected_wait.py --tickets 20000 --open 500
    .venv/bin/python benchmarks/bench_expected_wait.py --postgres # and PostgreSQL, if it answers

A migrated database (a temporary SQLite file; PostgreSQL at 127.0.0.1:5432 in a scratch database
made and dropped here) gets `--tickets` tickets in three teams, `--open` of them open and the rest
closed with a claim three minutes after they opened (one in seven handed back unclaimed), and ten
signed-in attendants. In this process, with the service's own store, it times:

- the estimate of a new ticket (`TicketStore._estimate`, what `POST /api/handoffs` adds: the
  tickets ahead, the attendants signed in, the latest claims), per team queue size;
- one automation pass's `waits_grown` over every open ticket (all told a figure);
- a bare `SELECT 1` on the same connection, the floor of one statement on this machine;
- and prints SQLite's plan of each statement, to show each runs on its index.

The history does not change the cost (its reads are `LIMIT wait_samples` on an index); the count of
tickets ahead is linear in the team's open queue, which is what the numbers show.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402

from handoff_component.service.db import Database, create_engine, migrate  # noqa: E402
from handoff_component.service.models import (  # noqa: E402
    attendants,
    sessions,
    team_members,
    teams,
    tickets,
)
from handoff_component.service.notifications import TicketEventBus  # noqa: E402
from handoff_component.service.settings import Settings  # noqa: E402
from handoff_component.service.tickets import TicketStore  # noqa: E402
from scripts.local_services import pg_execute  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


async def fill(engine: Any, total: int, open_count: int, now: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(teams),
            [
                {"name": f"team{i}", "display_name": f"Team {i}", "created_at": now}
                for i in (1, 2, 3)
            ],
        )
        await conn.execute(
            insert(attendants),
            [
                {
                    "username": f"a{i}",
                    "display_name": f"A{i}",
                    "role": "attendant",
                    "password_hash": "x",
                    "active": True,
                    "created_at": now,
                }
                for i in range(10)
            ],
        )
        await conn.execute(
            insert(team_members),
            [{"team_id": 1 + i % 3, "attendant_id": i + 1} for i in range(10)],
        )
        await conn.execute(
            insert(sessions),
            [
                {
                    "id": uuid.uuid4().hex,
                    "attendant_id": i + 1,
                    "created_at": now,
                    "expires_at": now + timedelta(hours=12),
                }
                for i in range(10)
            ],
        )
        rows = []
        for i in range(total):
            created = now - timedelta(minutes=total - i)
            is_open = i >= total - open_count
            unclaimed = not is_open and i % 7 == 0
            rows.append(
                {
                    "idempotency_key": f"k{i}",
                    "conversation_id": f"c{i}",
                    "channel": "socketio",
                    "status": "open" if is_open else "closed",
                    "priority": i % 4,
                    "team_id": 1 + i % 3,
                    "rule": "explicit_request",
                    "reason": "r",
                    "scores": [],
                    "created_at": created,
                    "claimed_at": None if is_open or unclaimed else created + timedelta(minutes=3),
                    "closed_at": None if is_open else created + timedelta(minutes=9),
                    "resolution": None if is_open else ("unclaimed" if unclaimed else "closed"),
                    "handed_back": not is_open,
                    "reopen_count": 0,
                    "expected_wait_seconds": 180.0 if is_open else None,
                    "expected_wait_at": created if is_open else None,
                    "wait_update_sent": False,
                    "updated_at": now,
                }
            )
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(tickets), rows[start : start + 5000])


def timed(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"


async def run(url: str, label: str, total: int, open_count: int, repeat: int) -> None:
    now = datetime.now(timezone.utc)
    settings = Settings(db_url=url, clock=lambda: now)
    engine = create_engine(url)
    try:
        await migrate(engine)
        await fill(engine, total, open_count, now)
        store = TicketStore(Database(engine), TicketEventBus(), settings)
        queue = open_count // 3
        print(f"\n[{label}] {total:,} tickets, {open_count:,} open ({queue:,} per team's queue)")
        async with engine.connect() as conn:
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                await conn.exec_driver_sql("SELECT 1")
                samples.append(time.perf_counter() - start)
            print(f"reference: one SELECT 1              {timed(samples)}")
            for priority, name in ((3, "urgent (few ahead)"), (0, "low (all ahead)")):
                samples = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    await store._estimate(conn, 1, priority, now, None, now)
                    samples.append(time.perf_counter() - start)
                print(f"estimate of a new {name:<20} {timed(samples)}")
        samples = []
        for _ in range(max(3, repeat // 20)):
            start = time.perf_counter()
            due = await store.waits_grown(now + timedelta(minutes=1))
            samples.append(time.perf_counter() - start)
        print(f"automation pass, {open_count:,} waiting   {timed(samples)}  ({len(due)} due)")
        if engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                for sql in (
                    "SELECT count(*) FROM tickets WHERE team_id = 1 AND status = 'open' AND "
                    "(priority > 1 OR priority = 1 AND created_at <= '2100-01-01')",
                    "SELECT created_at FROM tickets WHERE team_id = 1 AND claimed_at IS NOT NULL "
                    "AND claimed_at >= '2000-01-01' AND rule != 'manual_takeover' "
                    "ORDER BY claimed_at DESC LIMIT 20",
                    "SELECT created_at FROM tickets WHERE team_id = 1 AND "
                    "tickets.resolution = 'unclaimed' AND closed_at >= '2000-01-01' "
                    "ORDER BY closed_at DESC LIMIT 20",
                ):
                    plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
                    print("plan:", "; ".join(str(row[-1]) for row in plan))
        async with engine.begin() as conn:  # leave nothing behind in a shared database
            await conn.execute(update(tickets).values(expected_wait_seconds=None))
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=300, help="open tickets, over three teams")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/wait.db"
        await run(url, "sqlite", args.tickets, args.open, args.repeat)
    if args.postgres:
        name = f"bench_wait_{uuid.uuid4().hex[:8]}"
        try:
            await pg_execute(f'CREATE DATABASE "{name}"', PG_ADMIN)
        except Exception as error:
            print(f"\nPostgreSQL skipped: {error}")
            return
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            await run(url, "postgresql", args.tickets, args.open, args.repeat)
        finally:
            await pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', PG_ADMIN)


if __name__ == "__main__":
    asyncio.run(main())
