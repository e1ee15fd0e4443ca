"""Calls from Rasa's side, signed with the shared secret: handoffs and tracker events."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component import contract
from handoff_component.service.auth import verify_rasa
from handoff_component.service.bodies import json_body
from handoff_component.service.tickets import ticket_json

blueprint = Blueprint("rasa")


@blueprint.post(contract.SERVICE_HANDOFFS_PATH)
async def open_handoff(request: Request) -> HTTPResponse:
    """201 with a new ticket, 200 with the ticket this handoff (or conversation) already has."""
    verify_rasa(request)
    handoff = contract.HandoffRequest.from_dict(json_body(request))
    ticket, created = await request.app.ctx.tickets.open_handoff(handoff)
    return json(
        contract.HandoffAnswer.body(ticket_json(ticket), created), status=201 if created else 200
    )


@blueprint.post(contract.SERVICE_EVENTS_PATH)
async def receive_events(request: Request) -> HTTPResponse:
    """Always 200 for a valid batch: events of conversations without tickets are only counted."""
    verify_rasa(request)
    batch = contract.EventBatch.from_dict(json_body(request))
    outcome = await request.app.ctx.tickets.append_events(batch)
    return json({"received": len(batch.events), **outcome.to_dict()})
