"""The durable outbox of the event broker."""

from __future__ import annotations

from pathlib import Path

from handoff_component.bot.outbox import Outbox


def test_items_come_back_in_the_order_they_were_put(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    for n in range(5):
        outbox.put("event", {"n": n})

    items = outbox.peek(3)

    assert [i.body["n"] for i in items] == [0, 1, 2]


def test_items_survive_a_restart_until_acknowledged(tmp_path: Path) -> None:
    first = Outbox(tmp_path / "o.db")
    a = first.put("event", {"n": 1})
    first.put("handoff", {"n": 2})
    first.ack([a])
    first.close()

    reopened = Outbox(tmp_path / "o.db")

    assert [(i.kind, i.body) for i in reopened.peek(10)] == [("handoff", {"n": 2})]


def test_refused_items_are_set_aside_with_the_error_not_lost(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    bad = outbox.put("event", {"bad": True})
    outbox.put("event", {"good": True})

    outbox.move_to_dead_letters([bad], "422 events[0].sender_id: is required")

    assert len(outbox) == 1
    assert outbox.dead_letters() == [
        {"id": bad, "kind": "event", "body": {"bad": True},
         "error": "422 events[0].sender_id: is required"}
    ]  # fmt: skip
