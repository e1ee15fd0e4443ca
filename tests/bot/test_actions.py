"""action_handoff and action_session_start against a real handoff service process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handoff_component.bot.actions import ActionHandoff, ActionSessionStartWithHandoff
from scripts.stack import Process, free_port
from tests.local_http import serve
from tests.queue_history import claimed_history, sign_in
from tests.shared_secret import SHARED_SECRET, UNSAFE_OR_MISSING_SECRETS

SECRET = SHARED_SECRET


@pytest.fixture(scope="module")
def service_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The service's folder: its SQLite database is `handoff.db` there."""
    return tmp_path_factory.mktemp("service")


@pytest.fixture(scope="module")
def service_url(service_data: Path) -> Iterator[str]:
    data = service_data
    port = free_port()
    env = {
        **os.environ,
        "HANDOFF_SECRET": SECRET,
        "HANDOFF_DB_URL": f"sqlite+aiosqlite:///{data / 'handoff.db'}",
    }
    seed = str(Path(__file__).parents[2] / "service.yml")
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "handoff_component.service", "--port", str(port)]
    service = Process.spawn(
        "service", [*command, "--demo", "--seed", seed], f"{url}/health", env, data / "log"
    )
    service.wait_ready(timeout_s=60)
    yield url
    service.popen.terminate()
    service.popen.wait(timeout=10)


@pytest.fixture
def service_env(service_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HANDOFF_SERVICE_URL", service_url)
    monkeypatch.setenv("HANDOFF_SECRET", SECRET)
    return service_url


def user(text: str, ts: float, intent: str = "complaint", sentiment: float = -0.8) -> dict:
    return {
        "event": "user",
        "text": text,
        "timestamp": ts,
        "input_channel": "socketio",
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "handoff": {"sentiment": sentiment, "complexity": 0.1, "uncertainty": 0.2,
                        "human_request": 0.0, "signals": {}},
        },
    }  # fmt: skip


def slot(name: str, value, ts: float) -> dict:
    return {"event": "slot", "name": name, "value": value, "timestamp": ts}


def tracker_of(sender: str, events: list[dict], slots: dict | None = None) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender, slots or {}, {**latest["parse_data"], "text": latest["text"]}, events, False,
        None, {}, "action_listen",
    )  # fmt: skip


def fired(sender: str, rule: str = "angry_sentiment", extra: dict | None = None) -> Tracker:
    events = [
        user("where is my order", 10.0, "order_status", 0.0),
        {"event": "action", "name": "action_check_order_status", "timestamp": 10.5},
        {"event": "bot", "text": "Your order is delayed.", "timestamp": 10.6},
        user("this is ridiculous", 20.0),
        slot("handoff_rule", rule, 20.1),
    ]
    slots = {
        "handoff_rule": rule,
        "handoff_reason": "sentiment -0.80 <= -0.6",
        "handoff_priority": "high",
        "handoff_team": "support",
        **(extra or {}),
    }
    return tracker_of(sender, events, slots)


def tickets_of(service_url: str, conversation: str) -> list[dict]:
    login = urllib.request.Request(
        f"{service_url}/api/auth/login",
        data=json.dumps({"username": "sam", "password": "demo-password-sam"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    token = json.load(urllib.request.urlopen(login))["token"]
    listing = urllib.request.Request(
        f"{service_url}/api/tickets?conversation_id={conversation}",
        headers={"Authorization": f"Bearer {token}"},
    )
    return json.load(urllib.request.urlopen(listing))["tickets"]


async def test_handoff_opens_one_ticket_tells_the_customer_and_pauses(service_env: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = fired("action-c1")

    events = await ActionHandoff().run(dispatcher, tracker, {})
    again = await ActionHandoff().run(CollectingDispatcher(), tracker, {})

    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff"]
    assert events[-1] == {"event": "pause", "timestamp": None}
    assert {"event": "slot", "timestamp": None, "name": "handoff_active", "value": True} in events
    tickets = tickets_of(service_env, "action-c1")
    assert len(tickets) == 1
    assert tickets[0]["rule"] == "angry_sentiment" and tickets[0]["priority"] == "high"
    ticket_slot = [e["value"] for e in events if e.get("name") == "handoff_ticket_id"]
    assert (
        ticket_slot
        == [str(tickets[0]["id"])]
        == [e["value"] for e in again if e.get("name") == "handoff_ticket_id"]
    )


async def test_the_channels_unclaimed_timeout_reaches_the_ticket(service_env: str) -> None:
    tracker = fired("action-c7", extra={"handoff_unclaimed_timeout": 300.0})

    await ActionHandoff().run(CollectingDispatcher(), tracker, {})

    assert tickets_of(service_env, "action-c7")[0]["unclaimed_timeout_seconds"] == 300.0


async def test_an_unreachable_service_is_admitted_and_the_request_kept_for_the_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HANDOFF_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HANDOFF_SECRET", SECRET)
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(dispatcher, fired("action-c2"), {})

    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_delayed"]
    pending = [e["value"] for e in events if e.get("name") == "handoff_request"]
    assert pending[0]["conversation_id"] == "action-c2"
    assert pending[0]["rule"] == "angry_sentiment"
    assert events[-1]["event"] == "pause"


async def test_a_service_that_never_answers_is_admitted_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow peer: the action waits HANDOFF_TIMEOUT_S, then keeps the request for the broker
    (on Python 3.10 aiohttp's timeout is not the builtin TimeoutError: it escaped as a crash)."""
    import asyncio

    from aiohttp import web

    arrived = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("never answers")

    app = web.Application()
    app.router.add_post("/api/handoffs", silent)
    served = await serve(app)
    monkeypatch.setenv("HANDOFF_SERVICE_URL", served.url)
    monkeypatch.setenv("HANDOFF_SECRET", SECRET)
    monkeypatch.setenv("HANDOFF_TIMEOUT_S", "0.5")
    dispatcher = CollectingDispatcher()
    try:
        events = await asyncio.wait_for(
            ActionHandoff().run(dispatcher, fired("action-slow"), {}), timeout=20
        )
    finally:
        await served.close()

    assert arrived.is_set()
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_delayed"]
    pending = [e["value"] for e in events if e.get("name") == "handoff_request"]
    assert pending[0]["conversation_id"] == "action-slow"


async def test_a_channel_without_auto_pause_alerts_the_team_and_keeps_the_bot(
    service_env: str,
) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(
        dispatcher, fired("action-c3", extra={"handoff_auto_pause": False}), {}
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_alerted"]
    assert all(e["event"] != "pause" for e in events)
    assert len(tickets_of(service_env, "action-c3")) == 1


async def test_a_story_triggered_handoff_does_not_reuse_an_earlier_rule(service_env: str) -> None:
    events = [
        user("I want a person", 30.0, "request_human", 0.0),
    ]
    stale = {"handoff_rule": "angry_sentiment", "handoff_priority": "urgent"}

    await ActionHandoff().run(CollectingDispatcher(), tracker_of("action-c4", events, stale), {})

    ticket = tickets_of(service_env, "action-c4")[0]
    assert ticket["rule"] == "story"
    assert ticket["priority"] == "normal"
    assert "request_human" in ticket["reason"]


async def test_a_new_session_stays_paused_while_a_human_has_the_conversation() -> None:
    tracker = tracker_of(
        "action-c5", [user("hi", 1.0)], {"handoff_active": True, "order_id": "48213"}
    )
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}

    events = await ActionSessionStartWithHandoff().run(CollectingDispatcher(), tracker, domain)

    kinds = [e["event"] for e in events]
    assert kinds[0] == "session_started" and kinds[-2:] == ["pause", "action"]
    assert {e.get("name") for e in events if e["event"] == "slot"} == {"handoff_active"}


async def test_a_new_session_without_a_handoff_is_not_paused() -> None:
    tracker = tracker_of("action-c6", [user("hi", 1.0)], {"order_id": "48213"})

    events = await ActionSessionStartWithHandoff().run(CollectingDispatcher(), tracker, {})

    assert "pause" not in [e["event"] for e in events]
    assert {"event": "slot", "timestamp": None, "name": "order_id", "value": "48213"} in events


def test_the_action_name_comes_from_the_rules_file(tmp_path, monkeypatch) -> None:
    from handoff_component.bot.actions import ActionHandoff

    rules = tmp_path / "handoff.yml"
    rules.write_text("settings: {action_name: action_handoff_to_human}\nrules: []\n")
    monkeypatch.setenv("HANDOFF_RULES_FILE", str(rules))
    monkeypatch.setenv("HANDOFF_SECRET", SECRET)
    assert ActionHandoff().name() == "action_handoff_to_human"


def test_an_action_of_the_bot_with_the_same_name_stops_the_action_server(monkeypatch) -> None:
    """rasa-sdk would register the later one with an INFO line only: refuse instead."""
    import pytest
    from rasa_sdk import Action
    from rasa_sdk.executor import ActionExecutor

    from handoff_component.bot.actions import ActionHandoff, HandoffActionError

    monkeypatch.setenv("HANDOFF_RULES_FILE", "/nonexistent/handoff.yml")
    monkeypatch.setenv("HANDOFF_SECRET", SECRET)

    class BotsOwnHandoff(Action):
        def name(self) -> str:
            return "action_handoff"

    executor = ActionExecutor()
    with pytest.raises(HandoffActionError, match=r"BotsOwnHandoff is registered under the same"):
        executor.register_action(ActionHandoff)
    del BotsOwnHandoff
    import gc

    gc.collect()
    assert ActionHandoff().name() == "action_handoff"


async def test_the_customer_hears_the_display_name_of_the_team_the_ticket_went_to(
    service_env: str,
) -> None:
    dispatcher = CollectingDispatcher()

    await ActionHandoff().run(
        dispatcher, fired("action-team", extra={"handoff_team": "billing"}), {}
    )

    assert dispatcher.messages[0]["response"] == "utter_handoff"
    # service.yml: billing's display name is "Billing"
    assert dispatcher.messages[0]["colleague"] == "a colleague from Billing"


async def test_the_customer_hears_the_expected_wait_of_the_team_s_queue(
    service_env: str, service_data: Path
) -> None:
    """Legal (service.yml: carla and sam) took 4 minutes to claim each of its latest tickets;
    both are signed in, so the queue's first two customers wait one round, the third two."""
    carla = sign_in(service_env, "carla", "demo-password-carla")
    sign_in(service_env, "sam", "demo-password-sam")
    claimed_history(
        service_env, SECRET, service_data / "handoff.db", carla, team="legal", minutes=4
    )
    heard = []

    for index in range(3):
        dispatcher = CollectingDispatcher()
        tracker = fired(f"action-wait-{index}", extra={"handoff_team": "legal"})
        await ActionHandoff().run(dispatcher, tracker, {})
        heard.append(dispatcher.messages[0])

    assert [m["response"] for m in heard] == ["utter_handoff_with_wait"] * 3
    assert [m["wait"] for m in heard] == ["about 4 minutes", "about 4 minutes", "about 8 minutes"]
    assert heard[0]["colleague"] == "a colleague from Legal and complaints"
    assert tickets_of(service_env, "action-wait-2")[0]["expected_wait_minutes"] == 8


@pytest.mark.parametrize(
    ("value", "problem"),
    UNSAFE_OR_MISSING_SECRETS,
    ids=["missing", "placeholder", "short"],
)
def test_an_action_server_with_an_unsafe_secret_refuses_to_start_naming_it(
    tmp_path: Path, value: str | None, problem: str
) -> None:
    """The service would refuse the same value (contract.shared_secret): a Rasa-side process
    signing with it must not start either, rather than fail each handoff later."""
    env = {**os.environ, "SANIC_HOST": "127.0.0.1", "HANDOFF_RULES_FILE": str(tmp_path / "no")}
    env.pop("HANDOFF_SECRET", None)
    if value is not None:
        env["HANDOFF_SECRET"] = value
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(free_port())]

    server = subprocess.Popen(
        command, cwd=Path(__file__).parents[2], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        _, stderr = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        raise AssertionError("the action server started (still running after 60 s)") from None

    assert server.returncode != 0
    assert f"HANDOFF_SECRET in the action server's environment {problem}" in stderr


def test_without_a_known_team_the_customer_hears_of_no_team() -> None:
    from handoff_component.bot.actions import colleague_phrase

    assert colleague_phrase(None) == "a colleague"
    assert colleague_phrase("Legal and complaints") == "a colleague from Legal and complaints"


async def test_a_story_handoff_on_a_channel_that_does_not_pause_keeps_the_bot_talking(
    service_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The policy was held back (a cooldown) and data/rules.yml ran the action for an explicit
    # request: no safety-net slot this turn, so handoff.yml's `rest: auto_pause: false` decides.
    monkeypatch.chdir(Path(__file__).parents[2])
    request = {**user("I want to talk to a human", 40.0, "request_human", 0.0)}
    request["input_channel"] = "rest"
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(
        dispatcher, tracker_of("action-rest-story", [request], {"handoff_auto_pause": None}), {}
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_alerted"]
    assert all(e["event"] != "pause" for e in events)
    assert {"event": "slot", "timestamp": None, "name": "handoff_active", "value": False} in events


async def test_the_ticket_s_priority_is_kept_in_its_slot_for_later_triggers(
    service_env: str,
) -> None:
    first = fired("action-prio", extra={"handoff_auto_pause": False})
    await ActionHandoff().run(CollectingDispatcher(), first, {})
    milder = fired(
        "action-prio",
        rule="complex_request",
        extra={"handoff_auto_pause": False, "handoff_priority": "low"},
    )
    milder.events[-2]["timestamp"] = 25.0  # another customer message: another trigger

    events = await ActionHandoff().run(CollectingDispatcher(), milder, {})

    assert {"event": "slot", "timestamp": None, "name": "handoff_priority", "value": "high"} in (
        events
    )
    timeline_rules = [t["rule"] for t in tickets_of(service_env, "action-prio")]
    assert timeline_rules == ["angry_sentiment"]
