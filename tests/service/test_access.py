"""An attendant cannot read or act on another team's ticket, through any ticket route."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from handoff_component.service.tickets import detail_json
from tests.service.support import RunningService, open_stream, read_events

# (method, path under /api/tickets/{id}, body); {message} is a reply's id on the ticket.
TICKET_ROUTES = [
    ("GET", "", None),
    ("POST", "/claim", None),
    ("POST", "/reply", {"text": "let me in"}),
    ("POST", "/messages/{message}/retry", None),
    ("POST", "/typing", {"typing": True}),
    ("POST", "/transfer", {"team_id": 2}),
    ("POST", "/notes", {"text": "snooping"}),
    ("POST", "/close", None),
    ("POST", "/reopen", None),
    ("POST", "/resume", None),
]


async def _state(service: RunningService, ticket_id: int) -> dict[str, Any]:
    detail = detail_json(await service.ctx.tickets.detail(ticket_id))
    return {
        "status": detail["status"],
        "team": detail["team"],
        "assignee": detail["assignee"],
        "messages": [m["id"] for m in detail["messages"]],
        "notes": len(detail["notes"]),
        "timeline": len(detail["timeline"]),
    }


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    TICKET_ROUTES,
    ids=[f"{m} {s or '/'}" for m, s, _ in TICKET_ROUTES],
)
async def test_another_teams_attendant_is_refused_on_every_ticket_route(
    service: RunningService, method: str, suffix: str, body: Any
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    outsider = await service.attendant("olga", teams=["billing"])
    ticket_id = (await service.handoff("conv-1")).body["ticket"]["id"]
    await ana.post(f"/api/tickets/{ticket_id}/claim")
    replied = await ana.post(f"/api/tickets/{ticket_id}/reply", {"text": "Hi"})
    path = f"/api/tickets/{ticket_id}" + suffix.format(message=replied.body["message"]["id"])
    before = await _state(service, ticket_id)

    answer = await outsider.request(method, path, body)

    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "forbidden"
    assert "I was charged twice" not in str(answer.body)
    assert await _state(service, ticket_id) == before


async def test_another_teams_tickets_are_not_listed_counted_or_found_by_conversation(
    service: RunningService,
) -> None:
    outsider = await service.attendant("olga", teams=["billing"])
    await service.handoff("conv-1")

    listed = await outsider.get("/api/tickets")
    by_conversation = await outsider.get("/api/tickets?conversation_id=conv-1")
    counts = await outsider.get("/api/tickets/counts")

    assert listed.body["tickets"] == []
    assert by_conversation.body["tickets"] == []
    assert sum(counts.body["counts"].values()) == 0


async def test_another_teams_canned_replies_are_refused(service: RunningService) -> None:
    outsider = await service.attendant("olga", teams=["billing"])
    support = next(t for t in await service.ctx.teams.all() if t["name"] == "support")
    path = f"/api/teams/{support['id']}/canned-replies"

    read = await outsider.get(path)
    write = await outsider.post(path, {"title": "x", "text": "y"})

    assert (read.status, write.status) == (403, 403)
    assert await service.table_count("canned_replies") == 0


async def test_each_viewer_is_told_what_they_may_do_with_a_ticket(service: RunningService) -> None:
    """`allowed_actions` is the access rules' answer for whoever asks, the same on every route
    and on the live stream, so the Inbox shows the buttons the service would accept."""
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    ticket_id = (await service.handoff("conv-1")).body["ticket"]["id"]

    before = await bruno.get(f"/api/tickets/{ticket_id}")
    stream = await open_stream(service, bruno.token)
    claimed = await ana.post(f"/api/tickets/{ticket_id}/claim")
    events = await asyncio.wait_for(
        read_events(stream, lambda seen: any(e["event"] == "ticket.updated" for e in seen)),
        timeout=15,
    )
    stream.close()
    listed = await bruno.get("/api/tickets")
    as_holder = await ana.get(f"/api/tickets/{ticket_id}")
    as_supervisor = await sam.get(f"/api/tickets/{ticket_id}")

    assert before.body["ticket"]["allowed_actions"] == [
        "claim",
        "transfer",
        "note",
        "close",
        "resume_bot",
    ]
    holder_may = ["reply", "transfer", "note", "close", "resume_bot"]
    assert claimed.body["ticket"]["allowed_actions"] == holder_may
    assert as_holder.body["ticket"]["allowed_actions"] == holder_may
    assert as_supervisor.body["ticket"]["allowed_actions"] == holder_may
    # A team-mate of the holder may only add a note while Ana holds it.
    assert listed.body["tickets"][0]["allowed_actions"] == ["note"]
    updated = next(e for e in events if e["event"] == "ticket.updated")
    assert updated["data"]["ticket"]["allowed_actions"] == ["note"]
