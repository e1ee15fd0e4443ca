"""Uncertainty: how unsure the bot is, from the NLU's own confidence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core.uncertainty import FALLBACK_WEIGHT, score_uncertainty


def signal(result, name: str):
    return next((s for s in result.signals if s.name == name), None)


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_a_confident_clear_intent_is_certain() -> None:
    result = score_uncertainty("where is my order", ranking(("order_status", 0.99)))

    assert result.score < 0.02


def test_a_low_top_confidence_raises_uncertainty() -> None:
    confident = score_uncertainty("x", ranking(("a", 0.9), ("b", 0.05)))
    unsure = score_uncertainty("x", ranking(("a", 0.4), ("b", 0.05)))

    assert unsure.score > confident.score
    assert signal(unsure, "low_confidence").weight == pytest.approx(0.6 * 0.6)


def test_a_small_margin_raises_uncertainty() -> None:
    clear = score_uncertainty("x", ranking(("a", 0.6), ("b", 0.1)))
    torn = score_uncertainty("x", ranking(("a", 0.6), ("b", 0.55)))

    assert torn.score > clear.score
    assert signal(torn, "small_margin").detail == "a 0.60 vs b 0.55"


def test_the_fallback_classifier_giving_up_is_a_signal() -> None:
    result = score_uncertainty("x", ranking(("a", 0.3), ("b", 0.2)), fallback=True)

    assert signal(result, "nlu_fallback").weight == FALLBACK_WEIGHT
    assert result.score > 0.9


def test_without_a_ranking_only_text_is_used_and_said() -> None:
    result = score_uncertainty("where is my order")

    assert result.score == 0.0
    assert signal(result, "no_intent_ranking").detail == "text only: NLU confidence unknown"


def test_a_message_without_words_is_uncertain() -> None:
    assert signal(score_uncertainty("???"), "no_words") is not None


def test_keyboard_mashing_is_uncertain() -> None:
    result = score_uncertainty("asdfgh sdfghjkl")

    assert signal(result, "gibberish") is not None


def test_ordinary_words_with_consonant_runs_are_not_gibberish() -> None:
    assert signal(score_uncertainty("the strengths of rhythm"), "gibberish") is None


@pytest.mark.parametrize("text", ["I don't understand", "what do you mean?", "huh?"])
def test_a_confused_customer_adds_uncertainty(text: str) -> None:
    assert signal(score_uncertainty(text), "customer_confused") is not None


@given(
    st.text(max_size=100),
    st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=4),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_score_is_the_capped_sum_of_signal_weights(
    text: str, confidences: list[float], fallback: bool
) -> None:
    ranked = ranking(*[(f"i{n}", c) for n, c in enumerate(sorted(confidences, reverse=True))])

    result = score_uncertainty(text, ranked, fallback)

    assert 0.0 <= result.score <= 1.0
    assert result.score == pytest.approx(min(1.0, sum(s.weight for s in result.signals)))
