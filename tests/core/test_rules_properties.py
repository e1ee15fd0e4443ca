"""Properties that hold for any conversation and any file, checked on generated examples."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core.rules import (
    ConversationView,
    Entity,
    Firing,
    RulesFileError,
    Turn,
    evaluate,
    evaluate_in_detail,
    load_ruleset,
    parse_ruleset,
)

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE_TEXT = (PROJECT / "handoff.yml").read_text(encoding="utf-8")
EXAMPLE = load_ruleset(PROJECT / "handoff.yml", PROJECT / "credentials.yml")
RULE_NAMES = [rule.name for rule in EXAMPLE.rules]

WORDS = ["order", "refund", "lawyer", "chargeback", "where", "is", "my", "human", "please", "sue"]

turns = st.builds(
    Turn,
    text=st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    intent=st.sampled_from([None, "request_human", "complaint", "greet", "nlu_fallback"]),
    intent_confidence=st.floats(0, 1),
    entities=st.lists(st.builds(Entity, st.just("order_id"), st.text(max_size=3)), max_size=1).map(
        tuple
    ),
    scores=st.fixed_dictionaries(
        {},
        optional={
            "sentiment": st.floats(-1, 1),
            "complexity": st.floats(0, 1),
            "uncertainty": st.floats(0, 1),
            "human_request": st.floats(0, 1),
        },
    ),
    fallback=st.booleans(),
)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[ConversationView, float]:
    written = draw(st.lists(turns, min_size=1, max_size=12))
    timed = tuple(turn._replace(timestamp=30.0 * i) for i, turn in enumerate(written))
    now = timed[-1].timestamp
    firings = draw(
        st.lists(
            st.builds(
                Firing,
                st.sampled_from([None, *RULE_NAMES]),
                st.floats(now - 3600, now),
            ),
            max_size=3,
        )
    )
    channel = draw(st.sampled_from([None, "socketio", "rest", "facebook", "slack"]))
    return ConversationView(timed, channel, tuple(firings)), now


@settings(max_examples=150, deadline=None)
@given(conversations())
def test_the_fast_path_and_the_detailed_one_agree(case: tuple[ConversationView, float]) -> None:
    view, now = case
    fast = evaluate(EXAMPLE, view, now)
    detail = evaluate_in_detail(EXAMPLE, view, now)
    assert [(m.rule.name, m.score) for m in fast] == [(m.rule.name, m.score) for m in detail.fired]
    assert {s.rule.name for s in detail.suppressed}.isdisjoint(m.rule.name for m in fast)


@settings(max_examples=150, deadline=None)
@given(conversations())
def test_scores_stay_in_range_and_every_match_is_explained(
    case: tuple[ConversationView, float],
) -> None:
    view, now = case
    for match in evaluate_in_detail(EXAMPLE, view, now).fired:
        assert 0.0 <= match.score <= 1.0
        assert match.explanation


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, len(EXAMPLE_TEXT) - 1), min_size=1, max_size=3),
    st.sampled_from([":", " ", "-", "{", "x", "\n", '"', ">", "]"]),
)
def test_a_damaged_rules_file_fails_only_with_rules_file_error(
    positions: list[int], character: str
) -> None:
    text = list(EXAMPLE_TEXT)
    for position in positions:
        text[position] = character
    try:
        parse_ruleset("".join(text), "handoff.yml")
    except RulesFileError as error:
        assert all(problem.line >= 0 for problem in error.problems)
        assert str(error).startswith("handoff.yml:")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_a_ruleset_or_a_rules_file_error(text: str) -> None:
    with contextlib.suppress(RulesFileError):
        parse_ruleset(text, "handoff.yml")
