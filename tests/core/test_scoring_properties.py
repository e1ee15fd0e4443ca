"""Any text, however hostile, is scored with bounded work and gives well-formed scores.

Customer text is untrusted: one message of 100,000 "!" used to take minutes in a quadratic
regex on Rasa's event loop. These properties run every scorer on generated pathological inputs.
The deadline below is a hang guard, generous by two orders of magnitude over the measured cost
(benchmarks/bench_scorer_inputs.py prints the time per KB of each kind of input).
"""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff_component.core.scoring import (
    MAX_SCORED_CHARACTERS,
    ScoringOptions,
    TurnScorer,
    scored_part,
)

SCORER = TurnScorer()
RANGES = {
    "sentiment": (-1.0, 1.0),
    "complexity": (0.0, 1.0),
    "uncertainty": (0.0, 1.0),
    "human_request": (0.0, 1.0),
}
PIECES = [
    "!",
    "?",
    "?!",
    "*",
    "f*",
    "a.",
    "#",
    "$",
    "'",
    "-",
    "_",
    " ",
    "\n",
    "\t",
    "\x00",
    "a",
    "A",
    "1",
    "😡",
    "👍🏽",
    "\u200d",
    "\ufffd",
    "not ",
    "don't ",
    "talk to ",
    "human ",
    "waiting for ",
    "but ",
    "NO ",
    "مرحبا ",
    "שלום ",
    "привет ",
    "你好",
    "é",
    "\u0301",
]

runs = st.builds(lambda piece, n: piece * n, st.sampled_from(PIECES), st.integers(1, 100_000))
mixtures = st.lists(
    st.builds(lambda piece, n: piece * n, st.sampled_from(PIECES), st.integers(1, 2_000)),
    min_size=1,
    max_size=30,
).map("".join)
hostile_text = st.one_of(runs, mixtures, st.text(max_size=5_000))


RANGES["frustration"] = (0.0, 1.0)
UNKNOWABLE = ("sentiment", "frustration", "human_request")


def check_well_formed(result) -> None:
    data = result.to_dict()
    for name, (low, high) in RANGES.items():
        if name not in data:  # only a language the models cannot judge leaves a score out
            assert name in UNKNOWABLE, name
            assert "language_unsupported" in [s["name"] for s in data["signals"][name]], name
            continue
        value = data[name]
        assert math.isfinite(value) and low <= value <= high, (name, value)
    encoded = json.dumps(data, ensure_ascii=False).encode("utf-8")
    assert len(encoded) < 64_000


@settings(
    max_examples=60,
    deadline=5_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_text)
def test_any_text_gives_scores_in_range_and_a_bounded_explanation(text: str) -> None:
    check_well_formed(SCORER.score(text))


@settings(max_examples=25, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_scoring_is_deterministic(text: str) -> None:
    assert SCORER.score(text).to_dict() == SCORER.score(text).to_dict()


@settings(max_examples=25, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=50), st.integers(MAX_SCORED_CHARACTERS + 1, 200_000))
def test_a_long_message_is_scored_on_its_head_and_tail_only(piece: str, length: int) -> None:
    text = (piece * (length // len(piece) + 1))[:length]

    full = SCORER.score(text).to_dict()
    part = SCORER.score(scored_part(text)).to_dict()

    assert {k: full.get(k) for k in RANGES} == {k: part.get(k) for k in RANGES}
    assert "truncated" in [s["name"] for s in full["signals"]["complexity"]]


def test_the_scored_part_of_a_long_message_keeps_its_end() -> None:
    text = "hello " * 1000 + "THIS IS A JOKE, GET ME A HUMAN"

    part = scored_part(text)

    assert len(part) <= MAX_SCORED_CHARACTERS + 1
    assert part.endswith("GET ME A HUMAN")
    assert SCORER.score(text).frustration >= 0.7


def test_forty_thousand_exclamation_marks_cost_what_four_thousand_do() -> None:
    result = SCORER.score("!" * 40_000)

    assert result.to_dict() == SCORER.score("!" * 4_001).to_dict() | {
        "signals": result.to_dict()["signals"]
    }


def test_a_long_message_keeps_its_strongest_signals_and_sums_the_rest() -> None:
    text = "good " * 300 + "terrible"

    result = TurnScorer(ScoringOptions(model="lexicon")).score(text)
    listed = result.to_dict()["signals"]["sentiment"]

    assert len(listed) <= 12
    assert listed[-1]["name"] == "others"
    total = sum(s.weight for s in result.signals["sentiment"])
    assert math.isclose(sum(s["weight"] for s in listed), total, abs_tol=0.01)
