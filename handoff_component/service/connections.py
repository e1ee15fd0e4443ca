"""Connections the service accepts: a bound on each request's arrival and on each address's count.

Sanic's own request timeout restarts with every byte received, so a client that sends one byte
every two seconds holds a connection (and its buffers) forever, and a few hundred such clients
hold them all. `BoundedHttpProtocol` adds two limits, from `Settings`:

- `request_deadline_seconds`: a request's headers and body must have arrived this long after its
  first byte, however steadily they trickle; past it the client gets 408 and the connection is
  closed. Streams the service sends (the live stream) are not concerned: they are responses.
- `max_connections_per_address`: more open connections than this from one peer address are
  closed as soon as they are accepted. Behind a proxy every connection comes from the proxy, so
  there the proxy limits clients (nginx `limit_conn`, deploy/nginx.conf) and this bound is set
  high enough for all of them (or 0, off).

Both hold per process; with `--workers N` each worker counts its own connections.
"""

from __future__ import annotations

from collections import Counter
from time import monotonic
from typing import Any

from sanic.exceptions import RequestTimeout
from sanic.http import Stage
from sanic.server.protocols.http_protocol import HttpProtocol


class BoundedHttpProtocol(HttpProtocol):
    """Sanic's HTTP/1.1 protocol with a whole-request deadline and a per-address cap."""

    # Sanic's protocol classes have no instance dict.
    __slots__ = ("address", "max_per_address", "receiving_since", "refused", "request_deadline")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.app.ctx.settings
        self.request_deadline = float(settings.request_deadline_seconds)
        self.max_per_address = int(settings.max_connections_per_address)
        self.receiving_since: float | None = None
        self.address: str | None = None
        self.refused = False

    # -- per-address count ----------------------------------------------------------------------

    @property
    def _open_per_address(self) -> Counter[str]:
        ctx = self.app.ctx
        if not hasattr(ctx, "open_per_address"):
            ctx.open_per_address = Counter()
        counter: Counter[str] = ctx.open_per_address
        return counter

    def connection_made(self, transport: Any) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else None
        if address is not None and self.max_per_address > 0:
            if self._open_per_address[address] >= self.max_per_address:
                self.refused = True
                transport.close()  # refused before any request: nothing to answer
                return
            self._open_per_address[address] += 1
            self.address = address
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.refused:
            return  # never set up as a connection: nothing to tear down
        if self.address is not None:
            self._open_per_address[self.address] -= 1
            if self._open_per_address[self.address] <= 0:
                del self._open_per_address[self.address]
            self.address = None
        super().connection_lost(exc)

    # -- whole-request deadline -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        http = getattr(self, "_http", None)  # unset until the connection task starts
        if self.receiving_since is None and (http is None or http.stage is Stage.IDLE):
            self.receiving_since = monotonic()  # the first byte of a new request
        super().data_received(data)

    def _still_receiving(self) -> bool:
        http = getattr(self, "_http", None)  # unset until the connection task starts
        if http is None:
            return False
        if http.stage is Stage.REQUEST:
            return True
        # The handler may run while the body is still arriving (it reads it first).
        return http.stage is Stage.HANDLER and bool(http.request_body)

    def check_timeouts(self) -> None:
        http = getattr(self, "_http", None)  # unset until the connection task starts
        if self._task and http is not None and self.request_deadline > 0:
            if self._still_receiving():
                now = monotonic()
                if self.receiving_since is None:
                    self.receiving_since = now
                elif now - self.receiving_since > self.request_deadline:
                    http.exception = RequestTimeout(
                        f"the request did not arrive within {self.request_deadline:g} s"
                    )
                    # Answer 408 and close; sanic would otherwise go on reading what is left of
                    # the body, at the trickler's pace, before closing.
                    http.keep_alive = False
                    http.request_body = None
                    self._task.cancel()
                    return
            elif http.stage is not Stage.IDLE or not self.recv_buffer:
                self.receiving_since = None  # arrived: the next request starts its own clock
        super().check_timeouts()
