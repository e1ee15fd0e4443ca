"""The agent summary and transcript built from tracker events."""

from __future__ import annotations

from handoff_component.contract import event_identity
from handoff_component.core.summary import build_summary, last_bot_action, transcript_of


def user(text: str, intent: str, ts: float, entities=(), scores=None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)}
    if scores is not None:
        parse["handoff"] = {**scores, "signals": {}}
    return {"event": "user", "text": text, "timestamp": ts, "parse_data": parse}


def action(name: str, ts: float) -> dict:
    return {"event": "action", "name": name, "timestamp": ts}


def bot(text: str, ts: float) -> dict:
    return {"event": "bot", "text": text, "timestamp": ts}


CONVERSATION = [
    action("action_session_start", 1.0),
    action("action_listen", 1.1),
    user("where is order 55120", "order_status", 2.0, [{"entity": "order_id", "value": "55120"}],
         {"sentiment": 0.0, "complexity": 0.2, "uncertainty": 0.1, "human_request": 0.0}),
    action("action_check_order_status", 2.1),
    bot("Your order 55120 (wool sweater) is delayed.", 2.2),
    action("action_listen", 2.3),
    user("this is ridiculous, three weeks!", "complaint", 3.0, (),
         {"sentiment": -0.8, "complexity": 0.1, "uncertainty": 0.2, "human_request": 0.1}),
    user("/request_human", "request_human", 4.0),
    action("action_handoff", 4.1),
]  # fmt: skip


def test_summary_carries_the_reason_topics_last_action_and_message_count() -> None:
    summary = build_summary(CONVERSATION, "Rule angry_sentiment: sentiment -0.80 <= -0.6")

    assert summary.reason == "Rule angry_sentiment: sentiment -0.80 <= -0.6"
    assert summary.topics == ["order status", "order_id: 55120"]
    assert summary.message_count == 3
    assert summary.last_bot_action.startswith('action_check_order_status: "Your order 55120')


def test_recent_scores_skip_turns_without_scores_such_as_button_payloads() -> None:
    summary = build_summary(CONVERSATION, "why")

    assert [s["sentiment"] for s in summary.recent_scores] == [0.0, -0.8]
    assert set(summary.recent_scores[0]) == {
        "sentiment",
        "complexity",
        "uncertainty",
        "human_request",
    }


def test_last_bot_action_ignores_plumbing_and_is_none_when_the_bot_did_nothing() -> None:
    assert last_bot_action([action("action_listen", 1), action("action_handoff", 2)]) is None
    assert last_bot_action([action("utter_greet", 1)]) == "utter_greet"


def test_transcript_keys_each_message_by_its_event_identity() -> None:
    transcript = transcript_of("c1", CONVERSATION)

    assert [(m.sender, m.text) for m in transcript] == [
        ("customer", "where is order 55120"),
        ("bot", "Your order 55120 (wool sweater) is delayed."),
        ("customer", "this is ridiculous, three weeks!"),
        ("customer", "/request_human"),
    ]
    assert transcript[0].event_id == event_identity("c1", CONVERSATION[2])


def test_untrusted_customer_text_is_kept_verbatim_not_interpreted() -> None:
    events = [user("<script>alert(1)</script>", "nlu_fallback", 1.0)]

    transcript = transcript_of("c1", events)
    summary = build_summary(events, "why")

    assert transcript[0].text == "<script>alert(1)</script>"
    assert summary.topics == []
