"""Attendants work tickets: list, read, claim, reply, type, transfer, note, close, reopen, resume.

Actions that change what the customer sees go through Rasa's connector. Where a failed command would
strand the customer (resume, reopen of a handed-back ticket, takeover), the command is sent first
and the ticket changes only if it was delivered; a reply is stored first and marked undelivered if
the connector fails, so it is never lost and can be retried.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component import contract
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor
from handoff_component.service import access
from handoff_component.service.access import Viewer
from handoff_component.service.auth import current_viewer, signed_in, supervisors_only
from handoff_component.service.bodies import (
    MAX_ID,
    EmptyBody,
    NoteBody,
    ReplyBody,
    TakeoverBody,
    TransferBody,
    TypingBody,
    UploadedFile,
    json_body,
)
from handoff_component.service.connector_client import (
    DELIVERED,
    FAILED,
    NOT_CONFIGURED,
    CommandResult,
)
from handoff_component.service.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    ServiceUnavailable,
)
from handoff_component.service.tickets import (
    Message,
    NewReply,
    Note,
    Ticket,
    TicketFilter,
    detail_json,
    message_json,
    note_json,
    ticket_json,
)

blueprint = Blueprint("tickets")

LIST_PARAMETERS = {
    "status",
    "team_id",
    "mine",
    "assignee_id",
    "unassigned",
    "conversation_id",
    "rule",
    "limit",
    "cursor",
}


def _int_arg(request: Request, name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", field=name) from None
    if abs(number) > MAX_ID:
        raise BadRequest(f"{name} is out of range", field=name)
    return number


def _bool_arg(request: Request, name: str) -> bool:
    value = request.args.get(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false", "1", "0"):
        raise BadRequest(f"{name} must be true or false", field=name)
    return value.lower() in ("true", "1")


def _filters(request: Request, viewer: Viewer) -> TicketFilter:
    unknown = sorted(set(request.args) - LIST_PARAMETERS)
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    statuses: list[str] = []
    for value in request.args.getlist("status") or []:
        statuses.extend(s for s in value.split(",") if s)
    valid = {s.value for s in lifecycle.Status}
    for status in statuses:
        if status not in valid:
            raise BadRequest(f"status must be among {', '.join(sorted(valid))}", field="status")
    team_id = _int_arg(request, "team_id")
    assignee_id = _int_arg(request, "assignee_id")
    if _bool_arg(request, "mine"):
        assignee_id = viewer.attendant_id
    limit = _int_arg(request, "limit")
    limit = 50 if limit is None else limit
    if not 1 <= limit <= 200:
        raise BadRequest("limit must be between 1 and 200", field="limit")
    return TicketFilter(
        statuses=statuses,
        team_ids=[team_id] if team_id is not None else [],
        assignee_id=assignee_id,
        unassigned=_bool_arg(request, "unassigned"),
        conversation_id=request.args.get("conversation_id"),
        rule=request.args.get("rule"),
        limit=limit,
        cursor=request.args.get("cursor"),
    )


async def _ticket_for(request: Request, ticket_id: int) -> tuple[Viewer, Ticket]:
    """The viewer and the ticket, if they may see it (a quick refusal: each action is judged
    again by the store, on the locked row, when it writes)."""
    viewer = current_viewer(request)
    ticket = await request.app.ctx.tickets.get(ticket_id)
    access.require_sight(viewer, ticket, ticket_id)
    return viewer, ticket


@blueprint.get("/api/tickets")
@signed_in
async def list_tickets(request: Request) -> HTTPResponse:
    viewer = current_viewer(request)
    page = await request.app.ctx.tickets.list(viewer, _filters(request, viewer))
    return json(
        {
            "tickets": [ticket_json(ticket, viewer) for ticket in page.tickets],
            "next_cursor": page.next_cursor,
        }
    )


@blueprint.get("/api/tickets/counts")
@signed_in
async def count_tickets(request: Request) -> HTTPResponse:
    viewer = current_viewer(request)
    return json({"counts": await request.app.ctx.tickets.count_by_status(viewer)})


@blueprint.get("/api/tickets/<ticket_id:int>")
@signed_in
async def ticket_detail(request: Request, ticket_id: int) -> HTTPResponse:
    viewer, _ticket = await _ticket_for(request, ticket_id)
    return json({"ticket": detail_json(await request.app.ctx.tickets.detail(ticket_id), viewer)})


@blueprint.post("/api/tickets/<ticket_id:int>/claim")
@signed_in
async def claim(request: Request, ticket_id: int) -> HTTPResponse:
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    outcome = await request.app.ctx.tickets.act(
        ticket_id,
        lifecycle.Claim(str(viewer.attendant_id)),
        Actor.attendant(viewer.attendant_id),
        viewer=viewer,
    )
    return json({"ticket": ticket_json(outcome.ticket, viewer)})


@blueprint.post("/api/tickets/<ticket_id:int>/reply")
@signed_in
async def reply(request: Request, ticket_id: int) -> HTTPResponse:
    body = ReplyBody.from_dict(json_body(request))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    ctx = request.app.ctx
    first_delivery = "pending" if ctx.connector.configured else NOT_CONFIGURED
    uploaded = {f.id: f for f in await ctx.attachments.unsent(ticket_id, body.file_ids)}
    attachments = [
        uploaded[a.file_id].reference() if isinstance(a, UploadedFile) else a.to_dict()
        for a in body.attachments
    ]
    # Stored only if the viewer still holds the ticket when the reply commits; a transfer
    # committed first wins, and then nothing reaches the customer.
    outcome = await ctx.tickets.act(
        ticket_id,
        lifecycle.Reply(),
        Actor.attendant(viewer.attendant_id),
        reply=NewReply(body.text, attachments, viewer.attendant_id, first_delivery, body.file_ids),
        viewer=viewer,
    )
    assert outcome.message is not None
    message = await _deliver(request, outcome.ticket, outcome.message)
    ticket = ticket_json(outcome.ticket, viewer)
    if message.delivery == FAILED:
        raise BadGateway(
            "the reply is saved but Rasa's connector did not take it; retry delivery",
            stored_message=message_json(message),
            ticket=ticket,
        )
    return json({"ticket": ticket, "message": message_json(message)}, status=201)


async def _deliver(request: Request, ticket: Ticket, message: Message) -> Message:
    ctx = request.app.ctx
    if not ctx.connector.configured:
        return message
    attendant = await ctx.attendants.get(message.attendant_id)
    command = contract.ReplyCommand(
        conversation_id=ticket.conversation_id,
        channel=ticket.channel,
        ticket_id=ticket.id,
        message_id=message.id,
        text=message.text,
        attendant_name=attendant["display_name"],
        # A file uploaded here goes as a fresh signed link (a retry makes a new one).
        attachments=[
            ctx.attachments.link(a, ctx.settings.clock())
            if "file_id" in a
            else contract.Attachment(**a)
            for a in message.attachments
        ],
    )
    sent = await ctx.connector.send(contract.CONNECTOR_REPLY_PATH, command)
    delivered: Message = await ctx.tickets.set_delivery(
        message.id, DELIVERED if sent.ok else FAILED, sent.error, sent.attempts
    )
    return delivered


@blueprint.post("/api/tickets/<ticket_id:int>/messages/<message_id:int>/retry")
@signed_in
async def retry_delivery(request: Request, ticket_id: int, message_id: int) -> HTTPResponse:
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    ctx = request.app.ctx
    ticket = await ctx.tickets.authorized(ticket_id, viewer, "retry")
    message = await ctx.tickets.message(ticket_id, message_id)
    if message.author != "attendant":
        raise BadRequest("only attendants' replies are delivered by the service")
    shown = ticket_json(ticket, viewer)
    if message.delivery == DELIVERED:
        return json({"ticket": shown, "message": message_json(message)})
    if not ctx.connector.configured:
        raise ServiceUnavailable("no connector URL is configured (HANDOFF_CONNECTOR_URL)")
    message = await _deliver(request, ticket, message)
    if message.delivery == FAILED:
        raise BadGateway(
            "Rasa's connector still did not take the reply", stored_message=message_json(message)
        )
    return json({"ticket": shown, "message": message_json(message)})


@blueprint.post("/api/tickets/<ticket_id:int>/typing")
@signed_in
async def typing(request: Request, ticket_id: int) -> HTTPResponse:
    body = TypingBody.from_dict(json_body(request))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    ticket = await request.app.ctx.tickets.authorized(ticket_id, viewer, "typing")
    if ticket.is_closed:
        raise BadRequest("the ticket is closed")
    command = contract.TypingCommand(
        conversation_id=ticket.conversation_id,
        channel=ticket.channel,
        ticket_id=ticket_id,
        typing=body.typing,
    )
    sent = await request.app.ctx.connector.send(contract.CONNECTOR_TYPING_PATH, command)
    if sent.status == FAILED:
        raise BadGateway(sent.error or "the connector did not take the typing indicator")
    return json({"connector": sent.to_dict(), "typing": _typing_answer(sent)}, status=202)


def _typing_answer(sent: CommandResult) -> dict[str, Any] | None:
    """Whether the customer's channel showed the indicator, and why not (the connector says)."""
    if not sent.ok or sent.answer is None:
        return None
    try:
        return contract.TypingAnswer.from_dict(sent.answer).to_dict()
    except contract.ContractError:
        return None


@blueprint.post("/api/tickets/<ticket_id:int>/transfer")
@signed_in
async def transfer(request: Request, ticket_id: int) -> HTTPResponse:
    body = TransferBody.from_dict(json_body(request))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    ctx = request.app.ctx
    action: lifecycle.Action
    if body.attendant_id is not None:
        target = await ctx.attendants.get(body.attendant_id)
        if not target["active"]:
            raise BadRequest("that attendant is deactivated", field="attendant_id")
        action = lifecycle.TransferToAttendant(str(body.attendant_id))
    else:
        assert body.team_id is not None
        await ctx.teams.get(body.team_id)
        action = lifecycle.TransferToTeam(str(body.team_id))
    outcome = await ctx.tickets.act(
        ticket_id, action, Actor.attendant(viewer.attendant_id), note=body.note, viewer=viewer
    )
    return json({"ticket": ticket_json(outcome.ticket, viewer), "note": _note(outcome.note)})


@blueprint.post("/api/tickets/<ticket_id:int>/notes")
@signed_in
async def add_note(request: Request, ticket_id: int) -> HTTPResponse:
    body = NoteBody.from_dict(json_body(request))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    outcome = await request.app.ctx.tickets.act(
        ticket_id,
        lifecycle.Note(),
        Actor.attendant(viewer.attendant_id),
        note=body.text,
        viewer=viewer,
    )
    return json(
        {"ticket": ticket_json(outcome.ticket, viewer), "note": _note(outcome.note)}, status=201
    )


@blueprint.post("/api/tickets/<ticket_id:int>/close")
@signed_in
async def close(request: Request, ticket_id: int) -> HTTPResponse:
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    viewer, _ticket = await _ticket_for(request, ticket_id)
    outcome = await request.app.ctx.tickets.act(
        ticket_id, lifecycle.Close(), Actor.attendant(viewer.attendant_id), viewer=viewer
    )
    return json({"ticket": ticket_json(outcome.ticket, viewer)})


@blueprint.post("/api/tickets/<ticket_id:int>/resume")
@signed_in
async def resume_bot(request: Request, ticket_id: int) -> HTTPResponse:
    """Close (if open) and hand the conversation back to the bot at once."""
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    viewer, ticket = await _ticket_for(request, ticket_id)
    # Refuse early (403, 409) before telling Rasa anything.
    await request.app.ctx.tickets.check(
        ticket_id, lifecycle.ResumeBot(), Actor.attendant(0), viewer
    )
    sent = await _command(request, ticket, contract.CONNECTOR_RESUME_PATH, "resume_bot")
    outcome = await request.app.ctx.tickets.act(
        ticket_id, lifecycle.ResumeBot(), Actor.attendant(viewer.attendant_id), viewer=viewer
    )
    return json({"ticket": ticket_json(outcome.ticket, viewer), "connector": sent.to_dict()})


@blueprint.post("/api/tickets/<ticket_id:int>/reopen")
@signed_in
async def reopen(request: Request, ticket_id: int) -> HTTPResponse:
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    viewer, ticket = await _ticket_for(request, ticket_id)
    await request.app.ctx.tickets.check(ticket_id, lifecycle.Reopen(), Actor.attendant(0), viewer)
    sent = CommandResult(NOT_CONFIGURED)
    if ticket.handed_back:
        sent = await _command(request, ticket, contract.CONNECTOR_PAUSE_PATH, "reopen")
    outcome = await request.app.ctx.tickets.act(
        ticket_id, lifecycle.Reopen(), Actor.attendant(viewer.attendant_id), viewer=viewer
    )
    return json({"ticket": ticket_json(outcome.ticket, viewer), "connector": sent.to_dict()})


@blueprint.post("/api/takeovers")
@supervisors_only
async def takeover(request: Request) -> HTTPResponse:
    """A supervisor pauses a live conversation and opens a ticket on it, claimed by them."""
    body = TakeoverBody.from_dict(json_body(request))
    viewer = current_viewer(request)
    ctx = request.app.ctx
    if body.team_id is not None:
        await ctx.teams.get(body.team_id)
    if not ctx.connector.configured:
        raise ServiceUnavailable(
            "a takeover must pause the bot, and no connector URL is configured"
        )
    existing = await ctx.tickets.open_ticket_of(body.conversation_id)
    if existing is not None:
        raise Conflict(
            f"the conversation already has open ticket {existing}", field="conversation_id"
        )
    command = contract.PauseCommand(body.conversation_id, body.channel, None, "takeover")
    sent = await ctx.connector.send(contract.CONNECTOR_PAUSE_PATH, command)
    if not sent.ok:
        raise BadGateway(f"could not pause the bot: {sent.error}")
    ticket = await ctx.tickets.open_takeover(
        conversation_id=body.conversation_id,
        channel=body.channel,
        team_id=body.team_id,
        reason=body.reason,
        supervisor_id=viewer.attendant_id,
        priority=body.priority,
    )
    return json({"ticket": ticket_json(ticket, viewer), "connector": sent.to_dict()}, status=201)


async def _command(request: Request, ticket: Ticket, path: str, reason: str) -> CommandResult:
    command_type = {
        contract.CONNECTOR_PAUSE_PATH: contract.PauseCommand,
        contract.CONNECTOR_RESUME_PATH: contract.ResumeCommand,
    }[path]
    command = command_type(
        conversation_id=ticket.conversation_id,
        channel=ticket.channel,
        ticket_id=ticket.id,
        reason=reason,
    )
    sent = await request.app.ctx.connector.send(path, command)
    if sent.status == FAILED:
        raise BadGateway(
            f"Rasa's connector did not take the command; nothing changed: {sent.error}"
        )
    return sent


def _note(note: Note | None) -> dict[str, Any] | None:
    return note_json(note) if note is not None else None
