"""What fires, how strongly, and why: the evaluator on hand-built conversations."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from handoff_component.core.rules import (
    ConversationView,
    Entity,
    Firing,
    RuleSet,
    Turn,
    evaluate,
    evaluate_in_detail,
    parse_ruleset,
)

RULES_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "rules"


def rules(text: str) -> RuleSet:
    return parse_ruleset(textwrap.dedent(text), "handoff.yml")


def one_rule(when: str, extra: str = "") -> RuleSet:
    return rules(f"rules:\n  - name: r\n    when: {when}\n{extra}")


def view(*turns: Turn | str, channel: str | None = "socketio", firings=()) -> ConversationView:
    built = tuple(
        (Turn(t) if isinstance(t, str) else t)._replace(timestamp=100.0 + 30 * i)
        for i, t in enumerate(turns)
    )
    return ConversationView(built, channel, tuple(firings))


def fired(ruleset: RuleSet, conversation: ConversationView, now: float | None = None) -> list:
    now = conversation.turns[-1].timestamp if now is None else now
    return [m.rule.name for m in evaluate(ruleset, conversation, now)]


def scored(text: str = "a message", **scores: float) -> Turn:
    return Turn(text, scores=scores)


# --- scores of the current turn -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "scores", "fires"),
    [
        ("{sentiment: '<= -0.6'}", {"sentiment": -0.6}, True),
        ("{sentiment: '<= -0.6'}", {"sentiment": -0.59}, False),
        ("{sentiment: '< -0.6'}", {"sentiment": -0.6}, False),
        ("{complexity: '>= 0.8'}", {"complexity": 0.85}, True),
        ("{complexity: '> 0.8'}", {"complexity": 0.8}, False),
        ("{uncertainty: '>= 0.7'}", {"uncertainty": 0.7}, True),
        ("{human_request: '>= 0.7'}", {"human_request": 0.4}, False),
        ("{human_request: '== 1'}", {"human_request": 1.0}, True),
        ("{sentiment: '!= 0'}", {"sentiment": 0.0}, False),
        ("{frustration: '>= 0.7'}", {"frustration": 0.71}, True),
        ("{frustration: '>= 0.7'}", {"frustration": 0.69}, False),
    ],
)
def test_score_conditions_compare_the_current_turn(condition, scores, fires) -> None:
    ruleset = one_rule(condition)
    conversation = view(scored(sentiment=-0.9, complexity=0.9), scored(**scores))
    assert fired(ruleset, conversation) == (["r"] if fires else [])


def test_an_unknown_score_never_holds() -> None:
    """A button payload carries no scores: a low-sentiment rule must not fire on it."""
    ruleset = one_rule("{sentiment: '<= 0.5'}")
    assert fired(ruleset, view(Turn("/request_human", intent="request_human"))) == []
    assert fired(rules("rules: [{name: r, when: {not: {sentiment: '<= 0.5'}}}]"), view("x")) == [
        "r"
    ]


def test_strength_is_how_far_the_score_is_on_the_firing_side() -> None:
    conversation = view(scored(sentiment=-0.8, complexity=0.9))
    (match,) = evaluate(one_rule("{sentiment: '<= -0.6'}"), conversation, 100)
    assert match.score == pytest.approx(0.9)  # -0.8 on [-1, 1] is 0.1 from the bottom
    (match,) = evaluate(one_rule("{complexity: '>= 0.8'}"), conversation, 100)
    assert match.score == pytest.approx(0.9)
    (match,) = evaluate(
        one_rule("{all: [{sentiment: '<= -0.6'}, {complexity: '>= 0.5'}]}"), conversation, 100
    )
    assert match.score == pytest.approx(0.9)  # the weakest of the two


def test_explanation_says_the_values_that_made_the_rule_fire() -> None:
    ruleset = one_rule("{all: [{sentiment: '<= -0.6'}, {message_count: '>= 2'}]}")
    (match,) = evaluate(ruleset, view("hi", scored(sentiment=-0.72)), 130)
    assert match.explanation == "sentiment -0.72 <= -0.6 and message count 2 >= 2"
    assert match.reason == match.explanation


def test_reason_leads_with_the_rule_description() -> None:
    ruleset = one_rule("{human_request: '>= 0.7'}", "    description: Asked for a person\n")
    (match,) = evaluate(ruleset, view(scored(human_request=0.9)), 100)
    assert match.reason == "Asked for a person: human_request 0.90 >= 0.7"


# --- across turns ---------------------------------------------------------------------------------


def test_average_uses_the_last_n_scored_turns_and_needs_n_of_them() -> None:
    ruleset = one_rule("{average: {last: 3, is: '<= -0.5'}}")
    assert fired(ruleset, view(scored(sentiment=-0.9), scored(sentiment=-0.9))) == []
    three = view(scored(sentiment=0.9), scored(sentiment=-0.4), scored(sentiment=-0.6),
                 Turn("/affirm", intent="affirm"), scored(sentiment=-0.6))  # fmt: skip
    (match,) = evaluate(ruleset, three, 300)
    assert match.explanation == "average sentiment over the last 3 turns -0.53 <= -0.5"


def test_average_of_another_score() -> None:
    ruleset = one_rule("{average: {score: uncertainty, last: 2, is: '>= 0.6'}}")
    assert fired(ruleset, view(scored(uncertainty=0.5), scored(uncertainty=0.7))) == ["r"]


def test_frustration_has_its_condition_average_and_trend() -> None:
    calm_then_upset = view(
        scored(frustration=0.1), scored(frustration=0.5), scored(frustration=0.9)
    )
    ruleset = rules(
        """
        rules:
          - {name: now, when: {frustration: ">= 0.8"}}
          - {name: mean, when: {average: {score: frustration, last: 3, is: ">= 0.5"}}}
          - {name: rising, when: {trend: {score: frustration, last: 3, is: ">= 0.3"}}}
        """
    )

    matches = {m.rule.name: m for m in evaluate(ruleset, calm_then_upset, 160)}

    assert set(matches) == {"now", "mean", "rising"}
    assert matches["now"].explanation == "frustration 0.90 >= 0.8"
    assert "average frustration over the last 3 turns 0.50 >= 0.5" in matches["mean"].explanation


def test_a_turn_without_frustration_never_holds_a_frustration_condition() -> None:
    """A language the models do not cover leaves frustration out: unknown, not calm."""
    ruleset = one_rule("{frustration: '<= 0.2'}")
    assert fired(ruleset, view(scored(sentiment=0.0, complexity=0.1))) == []


def test_trend_is_the_least_squares_slope_per_turn() -> None:
    ruleset = one_rule("{trend: {last: 3, is: '<= -0.3'}}")
    falling = view(scored(sentiment=0.0), scored(sentiment=-0.3), scored(sentiment=-0.6))
    (match,) = evaluate(ruleset, falling, 160)
    assert "trend over the last 3 turns -0.30 per turn <= -0.3" in match.explanation
    rising = view(scored(sentiment=-0.6), scored(sentiment=-0.3), scored(sentiment=0.0))
    assert fired(ruleset, rising) == []
    dip = view(scored(sentiment=0.2), scored(sentiment=-0.9), scored(sentiment=-0.2))
    assert fired(ruleset, dip) == []  # one bad turn is not a falling trend: slope -0.2


def test_message_count_counts_user_turns_since_the_conversation_started() -> None:
    ruleset = one_rule("{message_count: '>= 3'}")
    assert fired(ruleset, view("a", "b")) == []
    assert fired(ruleset, view("a", "b", "c")) == ["r"]


def test_message_count_leaves_out_payloads_such_as_a_widgets_opening_greet() -> None:
    ruleset = one_rule("{message_count: '>= 2'}")
    assert fired(ruleset, view("/greet", "my order is late!")) == []
    assert fired(ruleset, view("/greet", "", "late!", "still late!")) == ["r"]


def test_failed_attempts_count_fallbacks() -> None:
    ruleset = one_rule("{failed_attempts: '>= 3'}")
    fallback = Turn("gibberish", fallback=True)
    assert fired(ruleset, view(fallback, "fine", fallback)) == []
    (match,) = evaluate(ruleset, view(fallback, "fine", fallback, fallback), 200)
    assert match.explanation == "failed attempts 3 >= 3 (3 fallbacks, 0 repeated questions)"


def test_the_same_question_asked_again_is_a_failed_attempt() -> None:
    ruleset = one_rule("{rephrasings: '>= 2'}")
    conversation = view(
        "How do I change the delivery address?",
        "how can I change my delivery address",
        "Change the DELIVERY address, please!",
    )
    assert fired(ruleset, conversation) == ["r"]


def test_different_questions_are_not_rephrasings() -> None:
    ruleset = one_rule("{rephrasings: '>= 1'}")
    assert fired(ruleset, view("where is my order", "can I pay by card instead")) == []
    assert fired(ruleset, view("where is my order?", "where is my refund?")) == []


def test_a_short_question_asked_again_is_a_rephrasing() -> None:
    ruleset = one_rule("{rephrasings: '>= 1'}")
    assert fired(ruleset, view("where is my order?", "WHERE IS MY ORDER")) == ["r"]


def test_words_to_ignore_can_be_added_for_other_languages() -> None:
    text = (
        "settings: {rephrase_ignore_words: [où, est, ma, mon]}\n"
        "rules: [{name: r, when: {rephrasings: '>= 1'}}]"
    )
    conversation = view("où est ma commande", "où est ma facture")
    assert fired(rules(text), conversation) == []
    assert fired(one_rule("{rephrasings: '>= 1'}"), conversation) == ["r"]


def test_short_replies_and_payloads_are_never_rephrasings() -> None:
    """ "yes" twice is not a customer repeating a question."""
    ruleset = one_rule("{rephrasings: '>= 1'}")
    assert fired(ruleset, view("yes", "yes")) == []
    assert fired(ruleset, view("/request_human", "/request_human")) == []


def test_rephrasing_only_looks_back_a_few_turns() -> None:
    ruleset = rules(
        "settings: {rephrase_window: 1}\nrules: [{name: r, when: {rephrasings: '>= 1'}}]"
    )
    question = "how do I change the delivery address"
    assert fired(ruleset, view(question, "something else entirely here", question)) == []


def test_rephrase_similarity_threshold_is_a_setting() -> None:
    text = "settings: {rephrase_similarity: 0.9}\nrules: [{name: r, when: {rephrasings: '>= 1'}}]"
    conversation = view("how do I change the delivery address", "how can I change my address")
    assert fired(rules(text), conversation) == []
    assert fired(one_rule("{rephrasings: '>= 1'}"), conversation) == ["r"]


def test_consecutive_failed_attempts_stop_at_a_success() -> None:
    ruleset = one_rule("{failed_attempts: {is: '>= 2', consecutive: true}}")
    fallback = Turn("gibberish", fallback=True)
    assert fired(ruleset, view(fallback, fallback, "thanks", fallback)) == []
    assert fired(ruleset, view("thanks", fallback, fallback)) == ["r"]


def test_within_last_limits_counts_to_recent_turns() -> None:
    ruleset = one_rule("{fallbacks: {is: '>= 2', within_last: 3}}")
    fallback = Turn("gibberish", fallback=True)
    assert fired(ruleset, view(fallback, fallback, "a", "b")) == []
    assert fired(ruleset, view(fallback, fallback, "a")) == ["r"]


# --- intents, entities, keywords ------------------------------------------------------------------


def test_intent_of_the_current_turn() -> None:
    ruleset = one_rule("{intent: [request_human, complaint]}")
    assert fired(ruleset, view(Turn("x", intent="complaint", intent_confidence=0.8))) == ["r"]
    assert fired(ruleset, view(Turn("x", intent="complaint"), Turn("y", intent="greet"))) == []


def test_intent_min_confidence_and_strength() -> None:
    ruleset = one_rule("{intent: {name: complaint, min_confidence: 0.6}}")
    assert fired(ruleset, view(Turn("x", intent="complaint", intent_confidence=0.5))) == []
    (match,) = evaluate(ruleset, view(Turn("x", intent="complaint", intent_confidence=0.7)), 100)
    assert match.score == pytest.approx(0.7)
    assert match.explanation == "intent complaint (0.70)"


def test_intent_within_last_turns() -> None:
    ruleset = one_rule("{intent: {name: complaint, within_last: 2}}")
    (match,) = evaluate(ruleset, view(Turn("x", intent="complaint"), Turn("y")), 130)
    assert match.explanation == "intent complaint (1.00) 1 turn ago"
    assert fired(ruleset, view(Turn("x", intent="complaint"), Turn("y"), Turn("z"))) == []


def test_entity_by_name_and_value() -> None:
    turn = Turn("x", entities=(Entity("order_id", "A-123"),))
    assert fired(one_rule("{entity: order_id}"), view(turn)) == ["r"]
    assert fired(one_rule("{entity: {name: order_id, value: a-123}}"), view(turn)) == ["r"]
    assert fired(one_rule("{entity: {name: order_id, value: B-9}}"), view(turn)) == []
    (match,) = evaluate(one_rule("{entity: order_id}"), view(turn), 100)
    assert match.explanation == "entity order_id='A-123'"


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("I will SUE you", True),
        ("Ich werde Sie verklagen, Légal Action!", True),
        ("this is a legal   action, really", True),
        ("I have an issue with my order", False),  # "sue" inside "issue"
        ("the legal team took action", False),  # not the phrase
        ("They charged me twice, chargebacks incoming", True),  # prefix keyword
        ("fraudulent payment", True),
    ],
)
def test_keywords_are_whole_words_case_and_accent_insensitive(text: str, fires: bool) -> None:
    ruleset = one_rule("{keywords: [sue, legal action, chargeback*, fraud*]}")
    assert fired(ruleset, view(text)) == (["r"] if fires else [])


def test_keywords_written_with_accents_match_text_without() -> None:
    ruleset = one_rule("{keywords: [réclamation, démarche légale]}")
    assert fired(ruleset, view("je lance une DEMARCHE LEGALE")) == ["r"]


def test_keyword_explanation_names_the_word_written() -> None:
    ruleset = one_rule("{keywords: {any: [chargeback*], within_last: 2}}")
    (match,) = evaluate(ruleset, view("I filed Chargebacks.", "ok"), 130)
    assert match.explanation == 'said "chargebacks" (keyword chargeback*) 1 turn ago'


# --- composition and custom hooks -----------------------------------------------------------------


def test_all_any_not_compose() -> None:
    ruleset = one_rule(
        "{any: [{all: [{sentiment: '<= -0.6'}, {not: {intent: greet}}]}, {intent: complaint}]}"
    )
    assert fired(ruleset, view(Turn("x", intent="greet", scores={"sentiment": -0.9}))) == []
    assert fired(ruleset, view(Turn("x", intent="other", scores={"sentiment": -0.9}))) == ["r"]
    assert fired(ruleset, view(Turn("x", intent="complaint"))) == ["r"]


def test_any_explains_only_what_held_and_takes_the_strongest() -> None:
    ruleset = one_rule("{any: [{sentiment: '<= -0.6'}, {complexity: '>= 0.5'}]}")
    (match,) = evaluate(ruleset, view(scored(sentiment=-0.2, complexity=0.7)), 100)
    assert match.explanation == "complexity 0.70 >= 0.5"
    (match,) = evaluate(ruleset, view(scored(sentiment=-1.0, complexity=0.7)), 100)
    assert match.score == pytest.approx(1.0)


def test_not_explains_the_condition_that_did_not_hold() -> None:
    (match,) = evaluate(one_rule("{not: {intent: greet}}"), view("x"), 100)
    assert match.explanation == "not (intent in [greet])"


@pytest.fixture()
def hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(RULES_DATA))


def test_custom_hook_returning_bool(hooks: None) -> None:
    ruleset = one_rule("{custom: 'rules_hooks:shouting'}")
    assert fired(ruleset, view("WHERE IS MY ORDER")) == ["r"]
    assert fired(ruleset, view("where is my order")) == []
    (match,) = evaluate(ruleset, view("WHERE IS MY ORDER"), 100)
    assert match.explanation == "rules_hooks:shouting returned True"


def test_custom_hook_returning_a_number_is_compared(hooks: None) -> None:
    ruleset = one_rule("{custom: {function: 'rules_hooks:order_share', is: '>= 0.5'}}")
    assert fired(ruleset, view("my order", "hello", "order again")) == ["r"]
    assert fired(ruleset, view("my order", "hello", "thanks")) == []
    (match,) = evaluate(ruleset, view("my order", "order"), 130)
    assert match.explanation == "rules_hooks:order_share returned 1 >= 0.5"


def test_a_failing_custom_hook_does_not_fire_nor_raise(
    hooks: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert fired(one_rule("{custom: 'rules_hooks:broken'}"), view("x")) == []
    assert fired(one_rule("{custom: 'rules_hooks:not_a_number'}"), view("x")) == []
    assert "rules_hooks:broken raised" in caplog.text
    assert "returned 'yes', not a bool or a number" in caplog.text


# --- per-rule and per-channel settings ------------------------------------------------------------


def test_rules_apply_only_on_their_channels() -> None:
    ruleset = one_rule("{intent: complaint}", "    channels: [facebook]\n")
    turn = Turn("x", intent="complaint")
    assert fired(ruleset, view(turn, channel="facebook")) == ["r"]
    assert fired(ruleset, view(turn, channel="socketio")) == []
    assert fired(ruleset, view(turn, channel=None)) == []


def test_disabled_rules_never_fire() -> None:
    ruleset = one_rule("{intent: complaint}", "    enabled: false\n")
    assert fired(ruleset, view(Turn("x", intent="complaint"))) == []


def test_a_rule_does_not_fire_again_within_its_cooldown() -> None:
    ruleset = one_rule("{intent: complaint}", "    cooldown: 15m\n")
    turn = Turn("x", intent="complaint")
    earlier = [Firing("r", 1000.0)]
    assert fired(ruleset, view(turn, firings=earlier), now=1000.0 + 899) == []
    assert fired(ruleset, view(turn, firings=earlier), now=1000.0 + 900) == ["r"]
    assert fired(ruleset, view(turn, firings=[Firing("other", 1000.0)]), now=1001) == ["r"]


def test_the_channel_safety_net_cooldown_holds_back_every_rule() -> None:
    ruleset = rules(
        """
        safety_net:
          default: {cooldown: 10m}
          rest: {cooldown: 0s}
        rules: [{name: r, when: {intent: complaint}}]
        """
    )
    turn = Turn("x", intent="complaint")
    story_handoff = [Firing(None, 1000.0)]  # action_handoff run by a story, not by a rule
    assert fired(ruleset, view(turn, firings=story_handoff), now=1300) == []
    assert fired(ruleset, view(turn, firings=story_handoff), now=1600) == ["r"]
    assert fired(ruleset, view(turn, channel="rest", firings=story_handoff), now=1300) == ["r"]


def test_with_a_ticket_open_only_a_more_urgent_rule_passes_the_safety_net_cooldown() -> None:
    ruleset = rules(
        """
        safety_net:
          default: {auto_pause: false, cooldown: 10m}
        rules:
          - {name: billing, when: {intent: complaint}, priority: high, team: billing}
          - {name: human, when: {intent: complaint}, priority: high}
          - {name: legal, when: {intent: complaint}, priority: urgent, move_open_ticket: true}
        """
    )
    turn = Turn("x", intent="complaint")
    earlier = [Firing("billing", 1000.0)]
    open_high = ConversationView(
        (turn._replace(timestamp=1300.0),), "rest", tuple(earlier), None, "high"
    )
    closed = ConversationView((turn._replace(timestamp=1300.0),), "rest", tuple(earlier))

    assert fired(ruleset, open_high, now=1300) == ["legal"]
    assert fired(ruleset, closed, now=1300) == []
    detail = evaluate_in_detail(ruleset, open_high, now=1300)
    assert [m.rule.name for m in detail.fired] == ["legal"]
    assert ruleset.rule("legal").move_open_ticket is True
    assert ruleset.rule("billing").move_open_ticket is False


def test_the_most_urgent_rule_wins_then_the_strongest_then_the_first_written() -> None:
    ruleset = rules(
        """
        rules:
          - {name: normal_strong, when: {sentiment: "<= 0"}, priority: normal}
          - {name: high_weak, when: {human_request: ">= 0.1"}, priority: high}
          - {name: high_strong, when: {sentiment: "<= 0"}, priority: high}
          - {name: high_strong_too, when: {sentiment: "<= 0"}, priority: high}
          - {name: urgent_late, when: {intent: complaint}, priority: urgent}
        """
    )
    turn = Turn("x", intent="greet", scores={"sentiment": -0.8, "human_request": 0.3})
    assert fired(ruleset, view(turn)) == [
        "high_strong",
        "high_strong_too",
        "high_weak",
        "normal_strong",
    ]
    urgent = Turn("x", intent="complaint", scores={"sentiment": -0.8})
    assert fired(ruleset, view(urgent))[0] == "urgent_late"
    first_written = Turn("x", scores={"sentiment": -0.8})
    assert fired(ruleset, view(first_written))[:2] == ["high_strong", "high_strong_too"]
    assert fired(ruleset, view(urgent))[0] == "urgent_late"


def test_an_empty_conversation_fires_nothing() -> None:
    assert evaluate(one_rule("{message_count: '>= 0'}"), ConversationView(()), 0) == []


# --- detail for designers -------------------------------------------------------------------------


def test_detail_says_why_a_holding_rule_was_held_back() -> None:
    ruleset = rules(
        """
        safety_net:
          facebook: {cooldown: 10m}
        rules:
          - {name: cooling, when: {intent: complaint}, cooldown: 15m}
          - {name: switched_off, when: {intent: complaint}, enabled: false}
          - {name: elsewhere, when: {intent: complaint}, channels: [slack]}
          - {name: fires, when: {intent: complaint}}
          - {name: quiet, when: {intent: greet}}
        """
    )
    conversation = view(Turn("x", intent="complaint"), firings=[Firing("cooling", 0.0)])
    detail = evaluate_in_detail(ruleset, conversation, now=300.0)
    assert [m.rule.name for m in detail.fired] == ["fires"]
    assert detail.winner.rule.name == "fires"
    why = {s.rule.name: s.why for s in detail.suppressed}
    assert why == {
        "cooling": "cooldown: fired 5m ago (cooldown 15m)",
        "switched_off": "disabled",
        "elsewhere": "not applied on channel socketio",
    }
    facebook = view(Turn("x", intent="complaint"), channel="facebook", firings=[Firing(None, 0)])
    held = evaluate_in_detail(ruleset, facebook, now=120.0).suppressed
    assert any(
        s.why == "channel facebook safety-net cooldown: a handoff 2m ago (cooldown 10m)"
        for s in held
    )


def test_detail_and_fast_path_agree_on_what_fires() -> None:
    ruleset = rules(
        """
        safety_net: {default: {cooldown: 1m}}
        rules:
          - {name: a, when: {sentiment: "<= -0.5"}, cooldown: 5m}
          - {name: b, when: {message_count: ">= 2"}, priority: high}
          - {name: c, when: {intent: complaint}, channels: [rest]}
        """
    )
    for now in (50.0, 100.0, 200.0, 400.0):
        for firings in ((), (Firing("a", 90.0),), (Firing("b", 20.0),)):
            conversation = view(
                "hi", Turn("x", intent="complaint", scores={"sentiment": -0.7}), firings=firings
            )
            fast = [m.rule.name for m in evaluate(ruleset, conversation, now)]
            slow = [m.rule.name for m in evaluate_in_detail(ruleset, conversation, now).fired]
            assert fast == slow
