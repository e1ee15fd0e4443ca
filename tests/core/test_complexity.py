"""Complexity: how much one turn asks of the bot, from its structure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core.complexity import (
    LENGTH_WEIGHT,
    MAX_CLOSE_INTENTS,
    PER_CLOSE_INTENT,
    score_complexity,
)


def signal(result, name: str):
    return next((s for s in result.signals if s.name == name), None)


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_a_short_single_request_is_simple() -> None:
    result = score_complexity("where is my order?", ranking(("order_status", 0.95)))

    assert result.score == 0.0
    assert result.signals == ()


def test_without_a_ranking_the_signals_say_text_only() -> None:
    result = score_complexity("where is my order?")

    assert signal(result, "no_intent_ranking").weight == 0.0
    assert "text only" in signal(result, "no_intent_ranking").detail


def test_length_grows_with_words_and_saturates() -> None:
    medium = score_complexity(" ".join(["word"] * 26), long_message_tokens=40)
    long = score_complexity(" ".join(["word"] * 40), long_message_tokens=40)
    longer = score_complexity(" ".join(["word"] * 400), long_message_tokens=40)

    assert signal(medium, "length").weight == pytest.approx(LENGTH_WEIGHT / 2)
    assert signal(long, "length").weight == pytest.approx(LENGTH_WEIGHT)
    assert signal(longer, "length").weight == pytest.approx(LENGTH_WEIGHT)


def test_a_second_question_adds_complexity() -> None:
    one = score_complexity("can I change my address?")
    two = score_complexity("can I change my address? and when does my card arrive?")

    assert signal(one, "questions") is None
    assert signal(two, "questions").detail == "2 questions"


def test_several_requests_are_counted_and_named() -> None:
    result = score_complexity("I need a new card and I want to close my savings, please")

    requests = signal(result, "requests")
    assert requests.detail.startswith("3 requests")
    assert "'i need'" in requests.detail


def test_a_topic_shift_is_a_signal() -> None:
    result = score_complexity("my card is blocked. also, one more thing about my loan")

    assert signal(result, "topic_shift") is not None


def test_conditions_are_a_signal() -> None:
    result = score_complexity("refund me unless you can send it today, but only if it's free")

    assert signal(result, "conditions").detail == "unless, but, if"


def test_distinct_entities_beyond_the_first_add_complexity() -> None:
    entities = [
        {"entity": "account", "value": "savings"},
        {"entity": "amount", "value": "200"},
        {"entity": "account", "value": "savings"},
    ]

    result = score_complexity("move 200 from savings", entities=entities)

    assert signal(result, "entities").detail == "2 entities: account, amount"


def test_intents_within_the_margin_compete() -> None:
    result = score_complexity(
        "card",
        ranking(("card_arrival", 0.41), ("card_lost", 0.38), ("greet", 0.1)),
        ambiguity_margin=0.1,
    )

    close = signal(result, "close_intents")
    assert close.weight == pytest.approx(PER_CLOSE_INTENT)
    assert close.detail == "card_arrival 0.41 vs card_lost 0.38"


def test_intents_outside_the_margin_do_not_compete() -> None:
    result = score_complexity(
        "card", ranking(("card_arrival", 0.6), ("card_lost", 0.3)), ambiguity_margin=0.1
    )

    assert signal(result, "close_intents") is None


def test_close_intents_weight_is_capped() -> None:
    result = score_complexity(
        "card", ranking(*[(f"intent_{i}", 0.1) for i in range(10)]), ambiguity_margin=0.1
    )

    assert signal(result, "close_intents").weight == pytest.approx(MAX_CLOSE_INTENTS)


def test_a_tangled_message_reaches_the_cap() -> None:
    text = (
        "Hi, can you tell me how to change my address? Also I need a new card, but only if it "
        "is free. And can I pay the fee by card? Thanks."
    )

    result = score_complexity(
        text,
        ranking(("a", 0.45), ("b", 0.4)),
        [
            {"entity": "x", "value": "1"},
            {"entity": "y", "value": "2"},
        ],
    )

    assert result.score == 1.0


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_score_is_the_capped_sum_of_signal_weights(text: str) -> None:
    result = score_complexity(text, ranking(("a", 0.5), ("b", 0.45)))

    assert 0.0 <= result.score <= 1.0
    assert result.score == pytest.approx(min(1.0, sum(s.weight for s in result.signals)))
