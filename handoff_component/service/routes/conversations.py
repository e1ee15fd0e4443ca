"""Live bot conversations without an open ticket, for supervisors to take over from the Inbox,
and the export of everything held about one conversation (export.py)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component.service.auth import current_viewer, supervisors_only
from handoff_component.service.bodies import path_text
from handoff_component.service.errors import BadRequest
from handoff_component.service.export import export_conversation

blueprint = Blueprint("conversations")

PARAMETERS = {"active_minutes", "limit"}


def _bounded_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", field=name) from None
    if not low <= number <= high:
        raise BadRequest(f"{name} must be between {low} and {high}", field=name)
    return number


@blueprint.get("/api/conversations")
@supervisors_only
async def live_conversations(request: Request) -> HTTPResponse:
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    active_minutes = _bounded_int(request, "active_minutes", 30, 1, 1440)
    limit = _bounded_int(request, "limit", 100, 1, 200)
    found = await request.app.ctx.conversations.live(active_minutes, limit)
    return json({"conversations": found})


@blueprint.get("/api/conversations/<conversation_id:str>/export")
@supervisors_only
async def export(request: Request, conversation_id: str) -> HTTPResponse:
    viewer = current_viewer(request)
    ctx = request.app.ctx
    data = await export_conversation(
        ctx.db,
        ctx.tickets,
        ctx.attachments,
        path_text(request, "conversation_id"),
        requested_by=viewer.attendant_id,
        now=ctx.settings.clock(),
    )
    return json(data)
