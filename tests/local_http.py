"""Stand-ins for the processes the code under test calls, served over real HTTP on 127.0.0.1.

A test builds an aiohttp application with the peer's routes (a connector, a team's webhook, the
service as Rasa's side sees it) and serves it with `serve` (start and stop it when it likes) or
`serving` (for one block). A peer that synchronous code talks to, or that outlives one event
loop (the callback channel's customer, the Inbox tests' Rasa), is a standard-library handler
run by `ThreadedPeer` instead.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiohttp import web


@dataclass
class Served:
    """One running peer: its base URL (no trailing slash) and how to stop it."""

    runner: web.AppRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application, port: int = 0) -> Served:
    """Serve `app` on 127.0.0.1:`port` (0: a free port, chosen by the system)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only through the server's sockets
    assert server is not None
    return Served(runner, server.sockets[0].getsockname()[1])


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[Served]:
    """`serve` for the length of a block."""
    served = await serve(app)
    try:
        yield served
    finally:
        await served.close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of one access-log line per request."""

    def log_message(self, *args: Any) -> None:
        pass


class ThreadedPeer:
    """`handler` served on 127.0.0.1:`port` (0: a free port) by a daemon thread until `close()`."""

    def __init__(self, handler: Callable[..., BaseHTTPRequestHandler], port: int = 0) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
