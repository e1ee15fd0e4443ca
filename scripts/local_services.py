"""The machine's own PostgreSQL, Redis and RabbitMQ, as the tests and benchmarks reach them.

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


def rabbitmq_answers(host: str = "127.0.0.1", port: int = 5672) -> bool:
    """Whether an AMQP 0-9-1 broker answers the protocol header with its Connection.Start."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            frame = sock.recv(7)
            return len(frame) == 7 and frame[0] == 1  # a method frame on channel 0
    except OSError:
        return False


def rabbitmq_vhost(name: str, *, delete: bool = False) -> None:
    """Create a vhost whose queues are quorum queues by default (as deploy/ sets RabbitMQ up),
    with guest allowed, or delete it: one per test run, so runs sharing a RabbitMQ never meet."""
    import subprocess

    if delete:
        commands = [["rabbitmqctl", "delete_vhost", name]]
    else:
        commands = [
            ["rabbitmqctl", "add_vhost", name, "--default-queue-type", "quorum"],
            ["rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        ]
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
