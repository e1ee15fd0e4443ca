"""The lexicon frustration model: anger at the service counts, a described problem does not."""

from __future__ import annotations

import pytest

from handoff_component.core.frustration import lexicon_frustration
from handoff_component.core.sentiment import SentimentModel

SENTIMENT = SentimentModel.load()


def frustration(text: str) -> float:
    return lexicon_frustration(SENTIMENT.score(text).signals).score


@pytest.mark.parametrize(
    "text",
    [
        "my parcel was meant to come on monday and it is still not here, can you check?",
        "the app keeps crashing when I open the settings page",
        "I was charged twice for the same subscription this month",
    ],
)
def test_a_calmly_described_problem_is_not_frustration(text: str) -> None:
    assert frustration(text) < 0.2


@pytest.mark.parametrize(
    "text",
    [
        "are you kidding me, this is the fourth time I write to you about it",
        "I am sick of this, I will file a complaint and never shop here again",
        "NOBODY ANSWERS MY EMAILS, THIS IS A JOKE",
    ],
)
def test_anger_at_the_service_is_frustration(text: str) -> None:
    assert frustration(text) > 0.4


def test_the_signals_sum_to_the_score_by_the_stated_formula() -> None:
    result = lexicon_frustration(SENTIMENT.score("this is a joke, useless bot!!!").signals)

    total = sum(s.weight for s in result.signals)

    assert result.score == pytest.approx(total / (total + 2.5))
    assert {s.name for s in result.signals} >= {"exasperation", "bot_frustration"}
