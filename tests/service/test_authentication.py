"""Authentication comes first on every route: a caller without a session is told to sign in,
never that a field of its body or query is wrong (which would let anyone probe the API's shape,
and would make a client's error handling guess which of the two went wrong)."""

from __future__ import annotations

import re

import pytest

from handoff_component import contract
from tests.service.support import RunningService

# Routes anyone may call: signing in and out, the health check, the API's description, the
# Prometheus scrape (bound to a private interface), the Inbox's static files and an attachment's
# link, whose signature and expiry are its authentication (tests/service/test_attachments.py).
PUBLIC = {
    "/api/auth/login",
    "/api/auth/logout",
    "/health",
    "/openapi.json",
    "/metrics",
    "/files/<file_id:str>",
}
PARAMETER = re.compile(r"<([a-z_]+)(?::[a-z]+)?>")
MALFORMED_BODY = b'{"text": '
MALFORMED_QUERY = "?limit=not-a-number&status=nonsense&unknown=1"


def _routes(service: RunningService) -> list[tuple[str, str]]:
    found = set()
    for route in service.app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path in PUBLIC or path.startswith("/inbox"):
            continue
        concrete = PARAMETER.sub(lambda m: "conv-1" if "conversation" in m[1] else "1", path)
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, concrete))
    return sorted(found)


async def test_every_route_refuses_an_anonymous_caller_before_reading_its_input(
    service: RunningService,
) -> None:
    routes = _routes(service)
    # The walk found the API (not an empty router): every kind of route is in it.
    paths = {path for _method, path in routes}
    assert {
        "/api/tickets",
        "/api/tickets/1/reply",
        "/api/takeovers",
        "/api/teams/1/canned-replies",
        "/api/attendants/1",
        "/api/conversations",
        "/api/stream",
        "/api/me",
        contract.SERVICE_HANDOFFS_PATH,
        contract.SERVICE_EVENTS_PATH,
    } <= paths
    answers = {}
    for method, path in routes:
        reply = await service.call(method, path + MALFORMED_QUERY, raw=MALFORMED_BODY)
        answers[(method, path)] = reply.status
    assert {route: status for route, status in answers.items() if status != 401} == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/tickets/1/claim"),
        ("POST", "/api/teams"),
        ("PATCH", "/api/attendants/1"),
        ("POST", "/api/takeovers"),
    ],
)
async def test_a_forged_session_is_refused_before_its_body_is_read(
    service: RunningService, method: str, path: str
) -> None:
    reply = await service.call(
        method, path, raw=MALFORMED_BODY, headers={"Authorization": "Bearer forged.token"}
    )

    assert (reply.status, reply.body["error"]["code"], reply.body["error"]["field"]) == (
        401,
        "unauthorized",
        None,
    )
