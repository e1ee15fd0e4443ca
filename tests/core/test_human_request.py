"""Human request: an explicit ask for a person, from the intent and a phrase model."""

from __future__ import annotations

import pytest

from handoff_component.core.human_request import HumanRequestModel


@pytest.fixture(scope="module")
def model() -> HumanRequestModel:
    return HumanRequestModel(("human_handoff", "request_human"), ambiguity_margin=0.1)


def names(result) -> list[str]:
    return [signal.name for signal in result.signals]


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "can I speak to an agent please",
        "let me speak with a real person",
        "put me through to someone",
        "connect me to customer service",
        "can you transfer me to a live agent",
        "could you put me in touch with the claims team",
        "get me a supervisor now",
        "I need a real person",
        "I need an actual human being",
        "human please",
        "representative",
        "Agent!",
        "I don't want to talk to a bot",
        "talking to a bot is pointless",
        "is there a human I can chat with?",
        "do you have human support?",
        "may I chat with someone from sales?",
        "I would prefer to talk with a staff member",
        "no, I want to talk to a human",
    ],
)
def test_asking_for_a_person_scores_high(model: HumanRequestModel, text: str) -> None:
    assert model.score(text).score >= 0.8


@pytest.mark.parametrize(
    "text",
    [
        "can I split the bill with another person?",
        "can I transfer money to a friend abroad",
        "can someone else top up my account",
        "is your travel agent partner any good",
        "I work in human resources, can I get a letter",
        "what are your opening hours",
        "I lost my card",
        "",
    ],
)
def test_mentioning_people_without_asking_for_one_scores_zero(
    model: HumanRequestModel, text: str
) -> None:
    assert model.score(text).score == 0.0


def test_asking_whether_the_bot_is_human_is_not_a_request(model: HumanRequestModel) -> None:
    result = model.score("am I talking to a human?")

    assert result.score == 0.0
    assert "identity_question" in names(result)


def test_a_negated_request_scores_zero_and_says_why(model: HumanRequestModel) -> None:
    result = model.score("I do not want to speak to an agent, just tell me the fee")

    assert result.score == 0.0
    assert "negated_request" in names(result)


def test_a_clause_break_ends_the_negation(model: HumanRequestModel) -> None:
    assert model.score("you don't understand, put me through to someone").score >= 0.8


def test_the_phrase_signal_names_the_form_and_the_words(model: HumanRequestModel) -> None:
    result = model.score("ok fine, can you connect me to a human")

    signal = next(s for s in result.signals if s.name == "connect_to_person")
    assert signal.weight == pytest.approx(0.9)
    assert "connect me to a human" in signal.detail


def test_the_top_human_intent_counts_with_its_confidence(model: HumanRequestModel) -> None:
    ranking = [{"name": "human_handoff", "confidence": 0.7}, {"name": "greet", "confidence": 0.2}]

    result = model.score("hmm", ranking)

    assert result.score == pytest.approx(0.7)
    assert "human_handoff (0.70, ranked 1)" in result.signals[0].detail


def test_a_runner_up_human_intent_counts_within_the_margin(model: HumanRequestModel) -> None:
    ranking = [{"name": "greet", "confidence": 0.45}, {"name": "request_human", "confidence": 0.4}]

    assert model.score("hmm", ranking).score == pytest.approx(0.4)


def test_a_human_intent_far_behind_the_top_is_ignored(model: HumanRequestModel) -> None:
    ranking = [{"name": "greet", "confidence": 0.8}, {"name": "human_handoff", "confidence": 0.15}]

    assert model.score("hmm", ranking).score == 0.0


def test_intent_and_phrase_combine_like_independent_evidence(model: HumanRequestModel) -> None:
    ranking = [{"name": "human_handoff", "confidence": 0.5}]

    result = model.score("get me an agent", ranking)

    assert result.score == pytest.approx(1 - (1 - 0.5) * (1 - 0.9))


def test_text_only_scoring_says_so(model: HumanRequestModel) -> None:
    result = model.score("hello")

    assert names(result) == ["no_intent_ranking"]
