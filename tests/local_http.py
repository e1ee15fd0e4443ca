"""Stand-ins for the processes the code under test calls, served over real HTTP on 127.0.0.1.

A test builds an aiohttp application with the peer's routes (a connector, a team's webhook, the
service as Rasa's side sees it) and serves it with `serve` (start and stop it when it likes) or
`serving` (for one block). Threaded peers for synchronous tests use the standard library's
http.server instead: tests/e2e/clients.py and tests/browser/peers.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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
