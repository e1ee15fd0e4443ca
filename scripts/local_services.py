"""The machine's own PostgreSQL and Redis, as the tests and benchmarks reach them on 127.0.0.1.

One definition of the administrative statement (a scratch database made or dropped) and of the
Redis probe, so every suite and benchmark that needs them decides "absent" the same way.
"""

from __future__ import annotations

import socket


async def pg_execute(statement: str, url: str, *, timeout: float | None = 3) -> None:
    """Run one statement on its own connection: `CREATE DATABASE` cannot run in a transaction."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=timeout)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    """Whether a Redis server answers PING, without needing a Redis client library."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
