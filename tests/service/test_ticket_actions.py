"""Attendants working tickets over HTTP: each action, its 409 when invalid, who may do what."""

from __future__ import annotations

import asyncio

from handoff_component.service.tickets import message_json, ticket_json
from tests.service.support import FakeConnector, RunningService


async def _open(service: RunningService, conversation: str = "conv-1", **fields: object) -> dict:
    reply = await service.handoff(conversation, **fields)
    assert reply.status == 201, reply.body
    return reply.body["ticket"]


async def test_the_journey_claim_reply_answer_close(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    path = f"/api/tickets/{ticket['id']}"

    claimed = await ana.post(f"{path}/claim")
    service.clock.advance(minutes=2)
    replied = await ana.post(f"{path}/reply", {"text": "Hi, I'm Ana"})
    service.clock.advance(minutes=5)
    closed = await ana.post(f"{path}/close")

    assert claimed.body["ticket"]["status"] == "in_progress"
    assert replied.status == 201
    assert replied.body["ticket"]["status"] == "awaiting_response"
    assert replied.body["message"]["delivery"] == "not_configured"
    final = closed.body["ticket"]
    assert final["status"] == "closed"
    assert final["resolution"] == "closed"
    assert final["first_response_at"] < final["closed_at"]
    detail = (await ana.get(path)).body["ticket"]
    assert [t["action"] for t in detail["timeline"]] == ["create", "claim", "reply", "close"]
    assert all(
        t["actor"] == {"kind": "attendant", "id": str(ana.id)} for t in detail["timeline"][1:]
    )


async def test_a_second_claim_is_a_conflict_with_a_reason(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["support"])
    ticket = await _open(service)

    first, second = await asyncio.gather(
        ana.post(f"/api/tickets/{ticket['id']}/claim"),
        bruno.post(f"/api/tickets/{ticket['id']}/claim"),
    )

    assert sorted([first.status, second.status]) == [200, 409]
    loser = first if first.status == 409 else second
    assert loser.body["error"]["code"] == "invalid_transition"
    assert "already taken" in loser.body["error"]["message"]


async def test_replying_before_claiming_is_a_conflict(service: RunningService) -> None:
    supervisor = await service.attendant("sam", role="supervisor")
    ticket = await _open(service)

    reply = await supervisor.post(f"/api/tickets/{ticket['id']}/reply", {"text": "hello"})

    assert reply.status == 409
    assert "claim the ticket before replying" in reply.body["error"]["message"]
    assert await service.table_count("messages") == 2


async def test_only_the_assignee_or_a_supervisor_may_reply(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")

    refused = await bruno.post(f"/api/tickets/{ticket['id']}/reply", {"text": "me too"})
    allowed = await sam.post(f"/api/tickets/{ticket['id']}/reply", {"text": "supervising"})

    assert refused.status == 403
    assert allowed.status == 201


async def test_attendants_see_their_teams_tickets_and_supervisors_see_all(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["billing"])
    sam = await service.attendant("sam", role="supervisor")
    support = await _open(service, "c-support", team="support")
    billing = await _open(service, "c-billing", team="billing")

    ana_ids = [t["id"] for t in (await ana.get("/api/tickets")).body["tickets"]]
    sam_ids = [t["id"] for t in (await sam.get("/api/tickets")).body["tickets"]]
    forbidden = await bruno.get(f"/api/tickets/{support['id']}")
    foreign_claim = await bruno.post(f"/api/tickets/{support['id']}/claim")

    assert ana_ids == [support["id"]]
    assert sorted(sam_ids) == sorted([support["id"], billing["id"]])
    assert forbidden.status == 403
    assert foreign_claim.status == 403


async def test_listing_filters_and_paginates_most_urgent_first(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    created = []
    for index, priority in enumerate(["low", "urgent", "normal", "urgent", "high"]):
        service.clock.advance(seconds=1)
        created.append(await _open(service, f"c{index}", priority=priority))
    await sam.post(f"/api/tickets/{created[2]['id']}/claim")

    pages, cursor = [], None
    while True:
        query = "/api/tickets?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await sam.get(query)).body
        pages.append([t["priority"] for t in page["tickets"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    open_only = (await sam.get("/api/tickets?status=open")).body["tickets"]
    mine = (await sam.get("/api/tickets?mine=true")).body["tickets"]

    assert pages == [["urgent", "urgent"], ["high", "normal"], ["low"]]
    assert len(open_only) == 4
    assert [t["id"] for t in mine] == [created[2]["id"]]


async def test_bad_listing_parameters_are_refused(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")

    unknown = await sam.get("/api/tickets?colour=red")
    status = await sam.get("/api/tickets?status=lost")
    limit = await sam.get("/api/tickets?limit=0")
    cursor = await sam.get("/api/tickets?cursor=garbage")

    assert [r.status for r in (unknown, status, limit, cursor)] == [400, 400, 400, 400]
    assert unknown.body["error"]["field"] == "colour"


async def test_transfer_to_a_team_keeps_history_and_clears_the_assignee(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["billing"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")
    billing = (await service.ctx.teams.by_name("billing"))["id"]

    moved = await ana.post(
        f"/api/tickets/{ticket['id']}/transfer", {"team_id": billing, "note": "a billing matter"}
    )
    bruno_claims = await bruno.post(f"/api/tickets/{ticket['id']}/claim")

    assert moved.status == 200
    assert moved.body["ticket"]["team"]["name"] == "billing"
    assert moved.body["ticket"]["assignee"] is None
    assert moved.body["note"]["text"] == "a billing matter"
    assert bruno_claims.status == 200
    timeline = (await bruno.get(f"/api/tickets/{ticket['id']}")).body["ticket"]["timeline"]
    transfer = next(t for t in timeline if t["action"] == "transfer")
    assert transfer["detail"]["from_assignee"] == str(ana.id)
    assert transfer["detail"]["to_team"] == str(billing)


async def test_transfer_to_an_attendant_assigns_them(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["billing"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")

    moved = await ana.post(f"/api/tickets/{ticket['id']}/transfer", {"attendant_id": bruno.id})
    bruno_sees = await bruno.get(f"/api/tickets/{ticket['id']}")

    assert moved.body["ticket"]["assignee"]["id"] == bruno.id
    assert bruno_sees.status == 200  # not in the team, but it is theirs now


async def test_transfer_needs_exactly_one_target_that_exists(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    path = f"/api/tickets/{ticket['id']}/transfer"

    both = await ana.post(path, {"team_id": 1, "attendant_id": ana.id})
    nobody = await ana.post(path, {"attendant_id": 999})
    no_team = await ana.post(path, {"team_id": 999})

    assert both.status == 422
    assert nobody.status == 404
    assert no_team.status == 404


async def test_internal_notes_are_kept_apart_from_the_customer_thread(
    service: RunningService, connector: FakeConnector
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)

    note = await ana.post(f"/api/tickets/{ticket['id']}/notes", {"text": "VIP customer"})

    assert note.status == 201
    detail = (await ana.get(f"/api/tickets/{ticket['id']}")).body["ticket"]
    assert [n["text"] for n in detail["notes"]] == ["VIP customer"]
    assert all(m["text"] != "VIP customer" for m in detail["messages"])
    assert connector.commands == []


async def test_a_reopen_and_resume_follow_the_rules(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    path = f"/api/tickets/{ticket['id']}"
    await ana.post(f"{path}/claim")

    early_reopen = await ana.post(f"{path}/reopen")
    await ana.post(f"{path}/close")
    reopened = await ana.post(f"{path}/reopen")
    resumed = await ana.post(f"{path}/resume")
    resumed_again = await ana.post(f"{path}/resume")

    assert early_reopen.status == 409
    assert reopened.body["ticket"]["status"] == "in_progress"
    assert reopened.body["ticket"]["reopen_count"] == 1
    assert resumed.body["ticket"]["resolution"] == "resumed_bot"
    assert resumed.body["ticket"]["handed_back"] is True
    assert resumed.body["connector"]["status"] == "not_configured"
    assert resumed_again.status == 409


async def test_attendant_bodies_are_validated(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    path = f"/api/tickets/{ticket['id']}"
    await ana.post(f"{path}/claim")

    empty = await ana.post(f"{path}/reply", {"text": "  "})
    typo = await ana.post(f"{path}/reply", {"txt": "hello"})
    bad_attachment = await ana.post(
        f"{path}/reply", {"text": "see", "attachments": [{"url": "javascript:alert(1)"}]}
    )
    stray = await ana.post(f"{path}/close", {"force": True})
    unknown_ticket = await ana.post("/api/tickets/424242/claim")
    not_an_id = await ana.get("/api/tickets/abc")

    assert (empty.status, typo.status, bad_attachment.status, stray.status) == (422,) * 4
    assert typo.body["error"]["field"] == "txt"
    assert bad_attachment.body["error"]["field"] == "attachments[0].url"
    assert unknown_ticket.status == 404
    assert not_an_id.status == 404
    assert await service.table_count("messages") == 2


async def test_requests_without_a_valid_session_are_refused(service: RunningService) -> None:
    anonymous = await service.call("GET", "/api/tickets")
    forged = await service.call("GET", "/api/tickets", headers={"Authorization": "Bearer x.y"})
    wrong_password = await service.call(
        "POST", "/api/auth/login", {"username": "nobody", "password": "whatever"}
    )

    assert anonymous.status == 401
    assert forged.status == 401
    assert wrong_password.status == 401


async def test_a_session_cookie_works_like_the_bearer_token(service: RunningService) -> None:
    await service.attendant("ana", teams=["support"])
    login = await service.call(
        "POST", "/api/auth/login", {"username": "ana", "password": "correct-horse-battery"}
    )
    cookie = login.headers["Set-Cookie"]

    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = login.body["token"]
    me = await service.call("GET", "/api/me", headers={"Cookie": f"handoff_session={token}"})
    assert me.body["attendant"]["username"] == "ana"


async def test_canned_replies_per_team(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["billing"])
    support = (await service.ctx.teams.by_name("support"))["id"]
    path = f"/api/teams/{support}/canned-replies"

    created = await ana.post(path, {"title": "Hello", "text": "Hi, I'm here to help."})
    duplicate = await ana.post(path, {"title": "Hello", "text": "again"})
    reply_id = created.body["canned_reply"]["id"]
    changed = await ana.request("PATCH", f"{path}/{reply_id}", {"text": "Hello there!"})
    outsider = await bruno.get(path)
    listed = await ana.get(path)
    deleted = await ana.request("DELETE", f"{path}/{reply_id}")

    assert created.status == 201
    assert duplicate.status == 409
    assert changed.body["canned_reply"]["text"] == "Hello there!"
    assert outsider.status == 403
    assert [r["title"] for r in listed.body["canned_replies"]] == ["Hello"]
    assert deleted.status == 200
    assert (await ana.get(path)).body["canned_replies"] == []


async def test_supervisors_manage_teams_and_attendants(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    ana = await service.attendant("ana", teams=["support"])

    team = await sam.post("/api/teams", {"name": "legal", "display_name": "Legal"})
    refused = await ana.post("/api/teams", {"name": "rogue"})
    person = await sam.post(
        "/api/attendants",
        {
            "username": "carla",
            "display_name": "Carla",
            "password": "long-enough-pw",
            "teams": ["legal"],
        },
    )
    short = await sam.post(
        "/api/attendants", {"username": "dan", "display_name": "Dan", "password": "short"}
    )
    deactivated = await sam.request(
        "PATCH", f"/api/attendants/{person.body['attendant']['id']}", {"active": False}
    )
    carla_login = await service.call(
        "POST", "/api/auth/login", {"username": "carla", "password": "long-enough-pw"}
    )

    assert team.status == 201
    assert refused.status == 403
    assert person.body["attendant"]["teams"] == [{"id": team.body["team"]["id"], "name": "legal"}]
    assert short.status == 422
    assert deactivated.body["attendant"]["active"] is False
    assert carla_login.status == 401


# --- with Rasa's connector (a signature-checking fake) -------------------------------------------


async def test_a_reply_reaches_the_connector_signed_and_is_marked_delivered(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")

    reply = await ana.post(
        f"/api/tickets/{ticket['id']}/reply",
        {
            "text": "Here is the invoice",
            "attachments": [
                {
                    "url": "https://files.test/i.pdf",
                    "mime_type": "application/pdf",
                    "name": "invoice.pdf",
                }
            ],
        },
    )
    typing = await ana.post(f"/api/tickets/{ticket['id']}/typing", {"typing": True})

    assert reply.status == 201
    assert reply.body["message"]["delivery"] == "delivered"
    assert typing.status == 202
    assert connector.paths() == ["reply", "typing"]
    command = connector.commands[0][1]
    assert command["conversation_id"] == "conv-1"
    assert command["channel"] == "socketio"
    assert command["message_id"] == reply.body["message"]["id"]
    assert command["attendant_name"] == "Ana"
    assert command["attachments"][0]["name"] == "invoice.pdf"


async def test_a_reply_rasa_did_not_take_is_kept_undelivered_and_can_be_retried(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")
    connector.fail_with = 503

    failed = await ana.post(f"/api/tickets/{ticket['id']}/reply", {"text": "Are you there?"})
    message = failed.body["error"]["stored_message"]
    stored = message_json(await service.ctx.tickets.message(ticket["id"], message["id"]))
    connector.fail_with = None
    retried = await ana.post(f"/api/tickets/{ticket['id']}/messages/{message['id']}/retry")

    assert failed.status == 502
    assert failed.body["error"]["code"] == "connector_failed"
    assert stored["delivery"] == "failed"
    assert "503" in stored["delivery_error"]
    assert stored["delivery_attempts"] == 2
    assert retried.status == 200
    assert retried.body["message"]["delivery"] == "delivered"
    assert connector.paths() == ["reply"]


async def test_resume_tells_rasa_first_and_changes_nothing_if_rasa_is_down(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")
    connector.fail_with = 500

    down = await ana.post(f"/api/tickets/{ticket['id']}/resume")
    still = ticket_json(await service.ctx.tickets.get(ticket["id"]))
    connector.fail_with = None
    up = await ana.post(f"/api/tickets/{ticket['id']}/resume")

    assert down.status == 502
    assert still["status"] == "in_progress"
    assert up.status == 200
    assert up.body["ticket"]["handed_back"] is True
    assert connector.commands == [
        (
            "resume",
            {
                "conversation_id": "conv-1",
                "channel": "socketio",
                "ticket_id": ticket["id"],
                "reason": "resume_bot",
            },
        )
    ]


async def test_reopening_a_handed_back_ticket_pauses_the_bot_again(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    ticket = await _open(service)
    await ana.post(f"/api/tickets/{ticket['id']}/claim")
    await ana.post(f"/api/tickets/{ticket['id']}/resume")

    reopened = await ana.post(f"/api/tickets/{ticket['id']}/reopen")

    assert reopened.status == 200
    assert connector.paths() == ["resume", "pause"]
    assert connector.commands[1][1]["reason"] == "reopen"


async def test_a_supervisor_takes_over_a_live_conversation(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    sam = await service.attendant("sam", role="supervisor")
    ana = await service.attendant("ana", teams=["support"])
    body = {"conversation_id": "live-1", "channel": "socketio", "reason": "VIP on the line"}

    refused = await ana.post("/api/takeovers", body)
    taken = await sam.post("/api/takeovers", body)
    again = await sam.post("/api/takeovers", body)

    assert refused.status == 403
    assert taken.status == 201
    ticket = taken.body["ticket"]
    assert (ticket["status"], ticket["rule"]) == ("in_progress", "manual_takeover")
    assert ticket["assignee"]["id"] == sam.id
    assert again.status == 409
    assert connector.commands == [
        (
            "pause",
            {
                "conversation_id": "live-1",
                "channel": "socketio",
                "ticket_id": None,
                "reason": "takeover",
            },
        )
    ]


async def test_a_takeover_without_a_connector_is_refused_clearly(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")

    reply = await sam.post(
        "/api/takeovers", {"conversation_id": "x", "channel": "socketio", "reason": "r"}
    )

    assert reply.status == 503
    assert "connector" in reply.body["error"]["message"]
    assert await service.table_count("tickets") == 0
