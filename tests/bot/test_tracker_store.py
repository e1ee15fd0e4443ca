"""HandoffTrackerStore publishes exactly what Rasa's re-read would, without the re-read.

Each test drives the real SQL tracker store on SQLite the way Rasa's MessageProcessor does
(retrieve or create, append a turn's events, save) once through Rasa's own store with a broker and
once through the wrapper, and compares what each broker received and what each stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from handoff_component.bot.tracker_store import HandoffTrackerStore

DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")


class RecordingBroker:
    """A Rasa broker that records each publish (Rasa's interface: one event at a time)."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.calls = 0

    def publish(self, event: dict[str, Any]) -> None:
        self.calls += 1
        self.published.append(event)

    def is_ready(self) -> bool:
        return True


class BatchRecordingBroker(RecordingBroker):
    """A broker that takes a save's events at once, as HandoffEventBroker does."""

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        self.calls += 1
        self.published.extend(events)


def turn_events(n: int) -> list[Any]:
    return [
        UserUttered(f"question {n}", {"name": "shipping_info", "confidence": 0.9}),
        ActionExecuted("utter_shipping_info"),
        BotUttered(f"answer {n}"),
        SlotSet("handoff_active", False),
        ActionExecuted("action_listen"),
    ]


async def converse(store: Any, sender: str, turns: int) -> None:
    """Rasa's processor: per message, retrieve (or create), append the turn's events, save."""
    for n in range(turns):
        tracker = await store.get_or_create_tracker(sender, append_action_listen=True)
        for event in turn_events(n):
            tracker.update(event)
        await store.save(tracker)


def wrapper(tmp_path: Path, broker: Any) -> HandoffTrackerStore:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return HandoffTrackerStore(
        domain=DOMAIN, event_broker=broker, wraps="SQL", dialect="sqlite", db=str(tmp_path / "w.db")
    )


def comparable(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["sender_id"], e["event"], e.get("text"), e.get("name"), e["timestamp"]) for e in events
    ]


async def test_a_save_publishes_the_same_events_as_rasas_re_read(tmp_path: Path) -> None:
    rasa_broker, our_broker = RecordingBroker(), BatchRecordingBroker()
    rasa_store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "r.db"),
                                 event_broker=rasa_broker)  # fmt: skip
    our_store = wrapper(tmp_path, our_broker)

    await converse(rasa_store, "c1", 4)
    await converse(our_store, "c1", 4)

    ours, theirs = comparable(our_broker.published), comparable(rasa_broker.published)
    assert [e[1:4] for e in ours] == [e[1:4] for e in theirs]
    assert len(ours) == 1 + 4 * 5  # action_listen of the new tracker, then five per turn
    stored = await our_store.retrieve("c1")
    assert [e.as_dict()["event"] for e in stored.events] == [e[1] for e in ours]


async def test_each_save_is_one_call_to_a_batch_broker_and_per_event_to_any_other(
    tmp_path: Path,
) -> None:
    batch, single = BatchRecordingBroker(), RecordingBroker()

    await converse(wrapper(tmp_path / "a", batch), "c1", 3)
    await converse(wrapper(tmp_path / "b", single), "c1", 3)

    assert batch.calls == 1 + 3  # the new tracker's save, then one per turn
    assert single.calls == len(single.published) == 1 + 3 * 5


async def test_saving_without_a_re_read_reads_the_database_only_to_retrieve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = wrapper(tmp_path, BatchRecordingBroker())
    await converse(store, "c1", 1)
    reads = []
    original = store.store.retrieve

    async def counted(sender_id: str) -> Any:
        reads.append(sender_id)
        return await original(sender_id)

    monkeypatch.setattr(store.store, "retrieve", counted)

    await converse(store, "c1", 3)

    assert reads == ["c1"] * 3  # one per message (the processor's), none for publishing


async def test_a_tracker_the_store_did_not_hand_out_falls_back_to_rasas_comparison(
    tmp_path: Path,
) -> None:
    broker = BatchRecordingBroker()
    store = wrapper(tmp_path, broker)
    await converse(store, "c1", 2)
    broker.published.clear()
    full = await store.retrieve_full_tracker("c1")
    for event in turn_events(9):
        full.update(event)

    await store.save(full)

    assert [e.get("text") for e in broker.published if e["event"] == "user"] == ["question 9"]


async def test_two_stores_on_one_database_each_publish_only_their_own_turns(tmp_path: Path) -> None:
    """Two Rasa replicas taking turns on one conversation (the lock store serialises them)."""
    first_broker, second_broker = BatchRecordingBroker(), BatchRecordingBroker()
    first, second = wrapper(tmp_path, first_broker), wrapper(tmp_path, second_broker)

    for n in range(4):
        store = first if n % 2 == 0 else second
        tracker = await store.get_or_create_tracker("c1")
        for event in turn_events(n):
            tracker.update(event)
        await store.save(tracker)

    def user_texts(broker: BatchRecordingBroker) -> list[str]:
        return [e["text"] for e in broker.published if e["event"] == "user"]

    assert user_texts(first_broker) == ["question 0", "question 2"]
    assert user_texts(second_broker) == ["question 1", "question 3"]


def test_a_missing_wrapped_store_is_named() -> None:
    with pytest.raises(ValueError, match=r"tracker_store\.wraps"):
        HandoffTrackerStore(domain=DOMAIN)


async def test_a_handed_over_conversations_save_is_delivered_at_once_after_a_restart(
    tmp_path: Path,
) -> None:
    """A new Rasa process (a new broker that has seen no handoff) still does not hold a paused
    conversation's messages for the delivery window: the store reads the tracker's slot."""
    from handoff_component.bot.event_broker import HandoffEventBroker
    from tests.bot.test_event_broker import SECRET, FakeServiceListener
    from tests.waiting import async_wait_until

    listener = FakeServiceListener()
    await listener.start()
    before = wrapper(tmp_path, BatchRecordingBroker())
    tracker = await before.get_or_create_tracker("c1", append_action_listen=True)
    tracker.update(SlotSet("handoff_active", True))
    await before.save(tracker)
    broker = HandoffEventBroker(f"http://127.0.0.1:{listener.port}", SECRET,
                                str(tmp_path / "o.db"), delivery_window_s=10.0)  # fmt: skip
    broker.start()
    after = wrapper(tmp_path, broker)

    tracker = await after.get_or_create_tracker("c1")
    tracker.update(UserUttered("is anyone there?"))
    await after.save(tracker)

    await async_wait_until(lambda: len(listener.events()) == 1, timeout=5.0)
    await broker.close()
    await listener.stop()
    assert listener.events()[0]["text"] == "is anyone there?"
