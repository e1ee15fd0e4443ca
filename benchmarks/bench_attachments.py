"""Benchmark of attachments: upload, the link a customer fetches, and the service's memory.

    .venv/bin/python benchmarks/bench_attachments.py              # about 1 minute
    .venv/bin/python benchmarks/bench_attachments.py --quick      # fewer rounds
    .venv/bin/python benchmarks/bench_attachments.py --skip-postgres

For each storage (the directory, with SQLite; the database table, with PostgreSQL at 127.0.0.1 in
a scratch database made and dropped here) the service runs as its own process and an aiohttp
client in this process uploads files of 100 kB, 1 MB and 10 MB (PNG, sniffed from their first
bytes) and 10 MB of plain text (the slowest to sniff: every byte is read as UTF-8), one at a time
and then 4 at once, and fetches each through its signed link. It prints p50/p99 per size and the
service's peak resident memory (VmHWM) before and after, which shows what bounded reading holds:
a few copies of the largest file, not the sum of all uploads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_service import (  # noqa: E402
    PASSWORD,
    PG_ADMIN_URL,
    handoff_body,
    pg_admin,
    service_process,
    signed_post,
    write_seed,
)
from handoff_component import contract  # noqa: E402
from tests import sample_files  # noqa: E402

SIZES = {
    "100 kB png": sample_files.png() + b"\0" * 100_000,
    "1 MB png": sample_files.png() + b"\0" * 1_000_000,
    "10 MB png": sample_files.png() + b"\0" * 9_990_000,
    "10 MB text": b"order 55120 delivered\n" * 454_000,
}


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def claimed_ticket(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, str]]:
    conversation = f"bench-files-{uuid.uuid4().hex[:8]}"
    assert (
        await signed_post(session, url + contract.SERVICE_HANDOFFS_PATH, handoff_body(conversation))
        == 201
    )
    async with session.post(
        url + "/api/auth/login", json={"username": "sam", "password": PASSWORD}
    ) as r:
        token = (await r.json())["token"]
    auth = {"Authorization": f"Bearer {token}"}
    async with session.get(url + f"/api/tickets?conversation_id={conversation}", headers=auth) as r:
        ticket_id = (await r.json())["tickets"][0]["id"]
    async with session.post(url + f"/api/tickets/{ticket_id}/claim", headers=auth, json={}) as r:
        assert r.status == 200
    return ticket_id, auth


async def upload(
    session: aiohttp.ClientSession, url: str, ticket_id: int, auth: dict, content: bytes
) -> tuple[float, str]:
    started = time.perf_counter()
    async with session.post(
        f"{url}/api/tickets/{ticket_id}/attachments?name=f.bin",
        data=content,
        headers={**auth, "Content-Type": "application/octet-stream"},
    ) as r:
        body = await r.json()
        assert r.status == 201, body
    return (time.perf_counter() - started) * 1000, body["attachment"]["id"]


async def link_of(
    session: aiohttp.ClientSession, url: str, ticket_id: int, auth: dict, file_id: str
) -> str:
    """Send the file in a reply and take the link the export gives for it (no connector here)."""
    async with session.post(
        f"{url}/api/tickets/{ticket_id}/reply",
        headers=auth,
        json={"attachments": [{"file_id": file_id}]},
    ) as r:
        assert r.status == 201, await r.text()
    async with session.get(f"{url}/api/tickets/{ticket_id}", headers=auth) as r:
        conversation = (await r.json())["ticket"]["conversation_id"]
    async with session.get(f"{url}/api/conversations/{conversation}/export", headers=auth) as r:
        files = (await r.json())["tickets"][0]["attachments"]
    return next(f["url"] for f in files if f["id"] == file_id)


async def measure(backend: str, db_url: str, workdir: Path, rounds: int) -> list[dict[str, Any]]:
    os.environ["HANDOFF_ATTACHMENTS_DIR"] = str(workdir / f"files-{backend}")
    server = service_process(db_url, workdir, write_seed(workdir))
    rows: list[dict[str, Any]] = []
    try:
        await server.wait_ready()
        before = peak_memory_mb(server.process.pid)
        async with aiohttp.ClientSession() as session:
            for label, content in SIZES.items():
                ticket_id, auth = await claimed_ticket(session, server.url)
                one = [
                    (await upload(session, server.url, ticket_id, auth, content))[0]
                    for _ in range(rounds)
                ]
                started = time.perf_counter()
                together = await asyncio.gather(
                    *(upload(session, server.url, ticket_id, auth, content) for _ in range(4))
                )
                burst = (time.perf_counter() - started) * 1000
                link = await link_of(session, server.url, ticket_id, auth, together[0][1])
                fetches = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    async with session.get(link) as r:
                        assert await r.read() == content
                    fetches.append((time.perf_counter() - started) * 1000)
                rows.append(
                    {
                        "storage": "directory" if backend == "sqlite" else "database",
                        "file": label,
                        "upload p50 ms": round(statistics.median(one), 1),
                        "upload p99 ms": round(percentile(one, 0.99), 1),
                        "4 at once ms": round(burst, 1),
                        "fetch p50 ms": round(statistics.median(fetches), 1),
                    }
                )
        after = peak_memory_mb(server.process.pid)
        rows.append(
            {
                "storage": rows[-1]["storage"],
                "file": "service peak RSS",
                "before MB": round(before),
                "after MB": round(after),
            }
        )
    finally:
        server.stop()
    return rows


async def main(args: argparse.Namespace) -> int:
    rounds = 5 if args.quick else 20
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="handoff-bench-files-") as tmp:
        workdir = Path(tmp)
        rows += await measure("sqlite", f"sqlite:///{workdir}/files.db", workdir, rounds)
        if not args.skip_postgres:
            name = f"handoff_bench_files_{os.getpid()}"
            try:
                await pg_admin(f'CREATE DATABASE "{name}"')
            except Exception as error:  # no PostgreSQL here: say so, measure what there is
                print(f"PostgreSQL skipped: {error}")
            else:
                try:
                    rows += await measure(
                        "postgresql", f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", workdir, rounds
                    )
                finally:
                    await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for row in rows:
        print("  ".join(f"{key}: {value}" for key, value in row.items()))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args())))
