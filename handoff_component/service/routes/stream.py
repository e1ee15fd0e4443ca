"""The live stream of ticket events for one attendant, as Server-Sent Events.

`GET /api/stream` answers `text/event-stream`; each event is `event: <type>` plus `data: <json>`
(the ticket, and the message or note when there is one). A comment line every
`keepalive` seconds keeps proxies (and Sanic's response timeout) from closing an idle stream.

A stream sends what its attendant may see *now*, not what they could see when it opened: when
their teams or role change, or their session is revoked (sign-out, password change,
deactivation), the bus says `access.changed` (on PostgreSQL, relayed from any replica) and the
stream re-reads its viewer from the session. Each event is checked against the current viewer
again as it is sent. A revoked or expired session ends the stream with `event: session.ended`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import cast

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handoff_component.service.access import Viewer
from handoff_component.service.auth import session_of
from handoff_component.service.errors import Unauthorized
from handoff_component.service.notifications import ACCESS_CHANGED, STREAM_ENDED, TicketEvent
from handoff_component.service.tickets import ticket_from_json, ticket_json

blueprint = Blueprint("stream")

# A comment line this often keeps proxies and browsers from closing an idle stream.
KEEPALIVE_SECONDS = 15.0
SESSION_ENDED = "event: session.ended\ndata: {}\n\n"


def encode(event: TicketEvent, event_id: int, viewer: Viewer | None = None) -> str:
    """One SSE frame; the ticket in it says what *this* viewer may do with it
    (`allowed_actions`), as the API's answers do."""
    body = {"type": event.type, **event.data}
    if isinstance(body.get("ticket"), dict):
        body["ticket"] = ticket_json(ticket_from_json(body["ticket"]), viewer)
    data = json.dumps(body, separators=(",", ":"))
    return f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n"


@blueprint.get("/api/stream")
async def stream(request: Request) -> HTTPResponse | None:
    session = session_of(request)
    sessions = request.app.ctx.sessions
    viewer = await sessions.viewer(session.attendant_id, session.session_id)
    bus = request.app.ctx.bus
    keepalive = request.app.ctx.stream_keepalive_seconds
    async with bus.subscribe(viewer) as subscription:
        response = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response.send(f": connected as attendant {viewer.attendant_id}\n\n")
        event_id = 0
        while _connected(request):
            left = session.expires - time.time()
            if left <= 0:
                await response.send(SESSION_ENDED)
                break
            try:
                event = await asyncio.wait_for(
                    subscription.queue.get(), timeout=min(keepalive, left)
                )
            except asyncio.TimeoutError:
                await response.send(": keepalive\n\n")
                continue
            if event is STREAM_ENDED:
                await response.send(": this replica may have missed changes; reconnect\n\n")
                break
            if event.type == ACCESS_CHANGED:
                try:
                    subscription.access_applied(
                        await sessions.viewer(session.attendant_id, session.session_id)
                    )
                except Unauthorized:
                    await response.send(SESSION_ENDED)
                    break
                continue
            if not subscription.wants(event):
                continue  # queued before a change of access that hides it
            event_id += 1
            await response.send(encode(event, event_id, subscription.viewer))
    return None


def _connected(request: Request) -> bool:
    """Is the attendant's connection still open? Sanic types the transport as a narrow protocol
    of its own; the object is asyncio's transport, which knows whether it is closing."""
    transport = cast("asyncio.BaseTransport | None", request.transport)
    return transport is not None and not transport.is_closing()
