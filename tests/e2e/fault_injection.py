"""Faults the end-to-end fault tests inject: a process killed outright, a database cut off.

Both are real: SIGKILL to the process group (no shutdown handler runs, nothing is flushed), and a
TCP proxy on 127.0.0.1 that the service reaches PostgreSQL through and that can drop every
connection and refuse new ones, as a database restart or a network partition does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from scripts.stack import Stack

T = TypeVar("T")


def kill_hard(stack: Stack, name: str) -> None:
    """SIGKILL the named process of `stack` (and its children); it gets no chance to clean up."""
    process = next(p for p in stack.processes if p.name == name)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait(timeout=30)
    stack.processes.remove(process)


def ensure_running(stack: Stack, names: tuple[str, ...] = ("service", "actions", "rasa")) -> None:
    """Start whichever of the named processes a test left stopped (after a failure, say)."""
    for name in names:
        if not any(p.name == name and p.popen.poll() is None for p in stack.processes):
            stack.processes[:] = [p for p in stack.processes if p.name != name]
            stack.start(name)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a real server; `cut()` makes the server unreachable.

    While cut, every open connection is aborted and each new one is closed as soon as it is
    accepted; `restore()` forwards again. `latency` puts the server that many seconds away. It
    runs its own event loop in a thread, so it keeps working whatever the test's loop is doing.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.cut_off = False
        self.dropped = 0
        # Seconds each chunk takes to cross the proxy, each way (a server that far away).
        self.latency = 0.0
        self._transports: set[asyncio.BaseTransport] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.AbstractServer | None = None
        self.port: int = self._call(self._listen())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            self.dropped += 1
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, upstream_writer.transport}
        self._transports |= pair
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        finally:
            self._transports -= pair

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward one direction; with `latency`, each chunk leaves that long after it came.

        The chunks are queued with the time they are due, so the latency delays them without
        limiting how many are on the way: a server far away, not a slow one.
        """
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def send() -> None:
            while True:
                when, data = await due.get()
                if not data:
                    return
                await asyncio.sleep(max(0.0, when - loop.time()))
                writer.write(data)
                await writer.drain()

        sender = loop.create_task(send())
        try:
            while data := await reader.read(65536):
                due.put_nowait((loop.time() + self.latency, data))
            due.put_nowait((loop.time() + self.latency, b""))
            await sender
        except (ConnectionError, OSError):
            pass
        finally:
            sender.cancel()
            writer.transport.abort()

    async def _cut(self) -> None:
        self.cut_off = True
        for transport in list(self._transports):
            transport.abort()
        self.dropped += len(self._transports)

    async def _restore(self) -> None:
        self.cut_off = False

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._restore())

    async def _close(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # The connections' forwarding ends here, not after the loop has stopped.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
