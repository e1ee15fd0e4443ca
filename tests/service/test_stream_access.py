"""An open live stream sends what its attendant may see now, not what they could when it opened.

Each test opens a stream, changes the attendant's access while it is open, then makes changes
the attendant must (markers) and must not see, and reads the stream up to the markers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.service.support import RunningService, open_stream, read_events


def _created(conversation_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: any(
        e.get("data", {}).get("ticket", {}).get("conversation_id") == conversation_id
        for e in events
    )


def _conversations(events: list[dict[str, Any]]) -> set[str]:
    return {e["data"]["ticket"]["conversation_id"] for e in events if "ticket" in e.get("data", {})}


async def test_a_stream_stops_hearing_of_a_team_its_attendant_was_removed_from(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support", "billing"])
    sam = await service.attendant("sam", role="supervisor")
    stream = await open_stream(service, ana.token)
    await service.handoff("before", team="support")

    moved = await sam.request("PATCH", f"/api/attendants/{ana.id}", {"teams": ["billing"]})
    await service.handoff("after-support", team="support")
    await service.handoff("marker", team="billing")
    events = await asyncio.wait_for(read_events(stream, _created("marker")), timeout=15)
    stream.close()

    assert moved.status == 200
    assert _conversations(events) == {"before", "marker"}


async def test_a_stream_hears_of_a_team_its_attendant_joined(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    stream = await open_stream(service, ana.token)

    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"teams": ["support", "billing"]})
    await service.handoff("billing-now", team="billing")
    events = await asyncio.wait_for(read_events(stream, _created("billing-now")), timeout=15)
    stream.close()

    assert "billing-now" in _conversations(events)


async def test_a_stream_ends_when_its_attendant_is_deactivated(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    stream = await open_stream(service, ana.token)

    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"active": False})
    await service.handoff("while-away", team="support")
    events = await asyncio.wait_for(read_events(stream, lambda _: False), timeout=15)

    assert [e["event"] for e in events] == ["session.ended"]
    assert stream.content.at_eof()


async def test_a_stream_ends_when_its_session_signs_out(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    other_session = await service.login("ana")
    stream = await open_stream(service, ana.token)
    still_open = await open_stream(service, other_session.token)

    await service.call("POST", "/api/auth/logout", headers={"Authorization": f"Bearer {ana.token}"})
    await service.handoff("after-sign-out", team="support")
    ended = await asyncio.wait_for(read_events(stream, lambda _: False), timeout=15)
    heard = await asyncio.wait_for(read_events(still_open, _created("after-sign-out")), 15)
    still_open.close()

    assert [e["event"] for e in ended] == ["session.ended"]
    assert "after-sign-out" in _conversations(heard)


async def test_a_revoked_token_cannot_open_a_stream_by_any_route(service: RunningService) -> None:
    """Signed out, deactivated or after a password change: the token opens no stream again,
    whether it comes in the query string (EventSource), a bearer header or the cookie."""
    ana = await service.attendant("ana", teams=["support"])
    bob = await service.attendant("bob", teams=["support"])
    cid = await service.attendant("cid", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")

    await service.call("POST", "/api/auth/logout", headers={"Authorization": f"Bearer {ana.token}"})
    await sam.request("PATCH", f"/api/attendants/{bob.id}", {"active": False})
    await sam.request("PATCH", f"/api/attendants/{cid.id}", {"password": "a-new-password-1"})

    for token in (ana.token, bob.token, cid.token):
        by_query = await service.http.get(f"{service.url}/api/stream?token={token}")
        by_header = await service.http.get(
            f"{service.url}/api/stream", headers={"Authorization": f"Bearer {token}"}
        )
        by_cookie = await service.http.get(
            f"{service.url}/api/stream", headers={"Cookie": f"handoff_session={token}"}
        )
        answers = [by_query, by_header, by_cookie]
        bodies = [await r.json() for r in answers]
        for r in answers:
            r.close()
        assert [r.status for r in answers] == [401, 401, 401], bodies
        assert all("session has ended" in b["error"]["message"] for b in bodies), bodies
