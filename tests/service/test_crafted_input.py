"""Crafted input gets a clear 4xx, never a 5xx: forged cursors, NUL in a query, deep JSON, odd ids.

Each of these was a 500 (some before authentication); the fuzz tests build many more of the same
kind, so the next one of a class is caught too.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff_component import contract
from tests.service.support import SECRET, RunningService

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def _cursor(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor([99999999999, "2024-01-01T00:00:00+00:00", 1]),  # beyond the priority column
        _cursor([1, "2024-01-01T00:00:00+00:00", 2**40]),  # beyond the id column
        _cursor([1, "2024-01-01T00:00:00", 1]),  # a time without its zone
        _cursor([1, "0001-01-01T00:00:00+01:00", 1]),  # before year 1 once in UTC
        _cursor([1, "yesterday", 1]),
        _cursor([1, None, 1]),
        _cursor({"priority": 1}),
        _cursor([1, "2024-01-01T00:00:00+00:00"]),
        "%%%not-base64",
        "A" * 5000,
    ],
)
async def test_a_forged_cursor_is_a_400_naming_the_cursor(
    service: RunningService, cursor: str
) -> None:
    ana = await service.attendant("ana", teams=["support"])

    reply = await ana.get(f"/api/tickets?cursor={quote(cursor)}")

    assert reply.status == 400, reply.body
    assert reply.body["error"]["field"] == "cursor"


async def test_cursors_built_from_any_json_or_text_never_get_a_5xx(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    statuses: set[int] = set()

    @FUZZ
    @given(st.one_of(JSON.map(_cursor), st.text(max_size=60)))
    def check(cursor: str) -> None:
        cursors.append(cursor)

    cursors: list[str] = []
    check()
    for cursor in cursors:
        reply = await ana.get(f"/api/tickets?cursor={quote(cursor)}")
        statuses.add(reply.status)
        assert reply.status in (200, 400), (cursor, reply.body)
    assert 400 in statuses


@pytest.mark.parametrize(
    "path",
    [
        "/api/tickets?conversation_id={}",
        "/api/tickets?rule={}",
        "/api/tickets?status={}",
        "/api/tickets?cursor={}",
        "/api/conversations?active_minutes={}",
    ],
)
async def test_nul_in_a_query_parameter_is_a_400_naming_it(
    service: RunningService, path: str
) -> None:
    sam = await service.attendant("sam", role="supervisor")
    name = path.split("?", 1)[1].split("=", 1)[0]

    reply = await sam.get(path.format("a%00b"))

    assert reply.status == 400, reply.body
    assert reply.body["error"]["field"] == name


def _deep(depth: int, opener: str = "[") -> bytes:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return (opener * depth + "1" + closer * depth).encode()


@pytest.mark.parametrize("opener", ["[", '{"a":'])
async def test_deeply_nested_json_is_a_400_before_and_after_signing_in(
    service: RunningService, opener: str
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    body = _deep(100_000, opener)
    ticket = (await service.handoff("conv-deep")).body["ticket"]["id"]

    login = await service.call("POST", "/api/auth/login", raw=body)
    note = await ana.request("POST", f"/api/tickets/{ticket}/notes", raw=body)
    from_rasa = await service.call(
        "POST",
        contract.SERVICE_EVENTS_PATH,
        headers=contract.signed_headers(SECRET, body),
        raw=body,
    )

    for reply in (login, note, from_rasa):
        assert reply.status == 400, reply.body
        assert "nested" in reply.body["error"]["message"]


async def test_json_bodies_of_any_depth_get_a_4xx_on_sign_in(service: RunningService) -> None:
    bodies: list[bytes] = []

    @FUZZ
    @given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["[", '{"a":']))
    def build(depth: int, opener: str) -> None:
        bodies.append(_deep(depth, opener))

    build()
    for body in bodies:
        reply = await service.call("POST", "/api/auth/login", raw=body)
        assert 400 <= reply.status < 500, (len(body), reply.body)


CONVERSATIONS = ["a b", "what?", "a/b", "café 北京", "a%20b", "100%", "semi;colon", "#hash"]


async def test_a_conversation_is_exported_by_its_id_percent_encoded(
    service: RunningService,
) -> None:
    sam = await service.attendant("sam", role="supervisor")
    for conversation in CONVERSATIONS:
        opened = await service.handoff(
            conversation,
            idempotency_key=contract.idempotency_key_for(conversation, "ev"),
        )
        assert opened.status == 201, (conversation, opened.body)

    exported = {
        conversation: await sam.get(f"/api/conversations/{quote(conversation, safe='')}/export")
        for conversation in CONVERSATIONS
    }

    for conversation, reply in exported.items():
        assert reply.status == 200, (conversation, reply.body)
        assert reply.body["conversation_id"] == conversation
        assert [t["conversation_id"] for t in reply.body["tickets"]] == [conversation]


async def test_an_export_path_that_is_not_valid_percent_encoding_is_a_404(
    service: RunningService,
) -> None:
    sam = await service.attendant("sam", role="supervisor")

    bad_utf8 = await sam.get("/api/conversations/%FF%FE/export")
    nul = await sam.get("/api/conversations/a%00b/export")

    assert bad_utf8.status in (400, 404), bad_utf8.body
    assert nul.status in (400, 404), nul.body
