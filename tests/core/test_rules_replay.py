"""Replaying written conversations through the rules, as `rules test` does."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from handoff_component.core.rules import Entity, Turn, load_ruleset, parse_ruleset
from handoff_component.core.rules.replay import (
    ConversationsFileError,
    ReplayTurn,
    load_conversations,
    replay,
)

PROJECT = Path(__file__).resolve().parents[2]
RULES_DATA = PROJECT / "tests" / "data" / "rules"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conversations.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_simple_turns_are_read_with_their_scores_and_times(tmp_path: Path) -> None:
    (conversation,) = load_conversations(
        write(
            tmp_path,
            """
            conversations:
              - name: angry
                channel: facebook
                turn_interval: 1m
                turns:
                  - hello
                  - text: this is bad
                    intent: complaint
                    confidence: 0.8
                    sentiment: -0.7
                    scores: {complexity: 0.4}
                    entities: {order_id: "123"}
                    fallback: true
                    at: 5m
                    expect: [angry_sentiment]
                  - '/request_human{"order_id": "9"}'
            """,
        )
    )
    assert (conversation.name, conversation.channel, conversation.turn_interval) == (
        "angry",
        "facebook",
        60,
    )
    first, second, third = conversation.turns
    assert first == ReplayTurn(text="hello")
    assert second.intent == "complaint" and second.confidence == 0.8
    assert second.scores == {"sentiment": -0.7, "complexity": 0.4}
    assert second.entities == (Entity("order_id", "123"),)
    assert second.fallback and second.at == 300
    assert second.expect == frozenset({"angry_sentiment"})
    assert third.intent == "request_human"  # a payload names its intent, as in Rasa
    assert third.entities == (Entity("order_id", "9"),)


def test_rasa_test_stories_become_conversations() -> None:
    story, button = load_conversations(RULES_DATA / "test_stories.yml")
    assert story.name == "customer goes in circles then asks for a person"
    assert story.channel == "socketio"
    texts = [t.text for t in story.turns]
    assert texts[0] == "where is my order 12345?"  # the entity annotation is stripped
    assert story.turns[0].entities == (Entity("order_id", "12345"),)
    assert [t.fallback for t in story.turns] == [False, True, True, True]
    assert button.turns == (ReplayTurn(text="/request_human", intent="request_human"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("conversations: [{name: x, turns: [{txt: hi}]}]", "unknown field 'txt'"),
        ("conversations: [{name: x, turns: [{text: hi, sentiment: -3}]}]", "out of range"),
        ("conversations: [{name: x, turns: [{text: hi, at: soon}]}]", "at: expected a duration"),
        ("conversations: [{name: x}]", "needs a 'turns' list"),
        ("hello: world", "expected 'conversations:' or 'stories:'"),
    ],
)
def test_mistakes_in_a_conversations_file_are_named(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(ConversationsFileError, match=message):
        load_conversations(write(tmp_path, content))


def test_replay_records_firings_so_cooldowns_show(tmp_path: Path) -> None:
    ruleset = parse_ruleset(
        textwrap.dedent(
            """
            rules:
              - name: angry
                when: {sentiment: "<= -0.6"}
                cooldown: 10m
            """
        )
    )
    (conversation,) = load_conversations(
        write(
            tmp_path,
            """
            conversations:
              - name: angry twice
                turns:
                  - {text: awful, sentiment: -0.8, expect: angry}
                  - {text: still awful, sentiment: -0.9, at: 5m, expect: none}
                  - {text: awful again, sentiment: -0.9, at: 11m, expect: angry}
            """,
        )
    )
    results = replay(ruleset, conversation)
    assert [r.fired_names for r in results] == [{"angry"}, set(), {"angry"}]
    assert [r.meets_expectation for r in results] == [True, True, True]
    held = results[1].evaluation.suppressed[0]
    assert held.why == "cooldown: fired 5m ago (cooldown 10m)"
    assert [r.turn.timestamp for r in results] == [0, 300, 660]


def test_replay_treats_a_bare_request_payload_as_a_human_request(tmp_path: Path) -> None:
    ruleset = parse_ruleset("rules: [{name: asked, when: {human_request: '>= 0.7'}}]")
    (conversation,) = load_conversations(
        write(tmp_path, "conversations: [{name: b, turns: [/request_human]}]")
    )
    (result,) = replay(ruleset, conversation)
    assert result.turn.scores == {"human_request": 1.0}
    assert result.fired_names == {"asked"}


def test_replay_uses_the_annotator_for_what_the_file_leaves_out(tmp_path: Path) -> None:
    ruleset = parse_ruleset("rules: [{name: complex, when: {complexity: '>= 0.8'}}]")
    (conversation,) = load_conversations(
        write(tmp_path, "conversations: [{name: c, turns: [a long and winding question]}]")
    )

    def scorer(written: ReplayTurn) -> Turn:
        return Turn(written.text, scores={"complexity": 0.9})

    (result,) = replay(ruleset, conversation, scorer)
    assert result.fired_names == {"complex"}


def test_the_shipped_example_conversations_meet_their_expectations() -> None:
    ruleset = load_ruleset(PROJECT / "handoff.yml", PROJECT / "credentials.yml")
    for conversation in load_conversations(RULES_DATA / "conversations.yml"):
        for result in replay(ruleset, conversation):
            assert result.meets_expectation is not False, (conversation.name, result.index)


def test_a_nlu_fallback_intent_marks_the_turn_as_failed() -> None:
    ruleset = load_ruleset(PROJECT / "handoff.yml", PROJECT / "credentials.yml")
    story, _button = load_conversations(RULES_DATA / "test_stories.yml")
    results = replay(ruleset, story)
    assert results[-1].fired_names == {"three_failed_attempts"}
    assert "3 fallbacks" in results[-1].evaluation.winner.explanation
