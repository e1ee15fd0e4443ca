"""The composed turn scorer, its options, its payload, and the text helpers it stands on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core.lexicon import read_phrase_rules
from handoff_component.core.scoring import (
    SCORE_KEY,
    OptionError,
    ScoringOptions,
    Signal,
    TurnScorer,
    TurnScores,
    clean_ranking,
)
from handoff_component.core.text import PhraseSet, fold_accents, normalize, tokenize

SCORE_NAMES = ("sentiment", "frustration", "complexity", "uncertainty", "human_request")


@pytest.fixture(scope="module")
def scorer() -> TurnScorer:
    return TurnScorer(ScoringOptions(model="lexicon"))


def test_the_parse_data_key_is_handoff() -> None:
    assert SCORE_KEY == "handoff"


# --- TurnScores payload ------------------------------------------------------------------------


def test_to_dict_has_five_rounded_scores_and_signals_per_score() -> None:
    scores = TurnScores(
        sentiment=-0.123456,
        complexity=0.5,
        uncertainty=0.333333,
        human_request=1.0,
        frustration=0.654321,
        signals={"sentiment": [Signal("long_wait", -1.500004, "'waiting 3 weeks'")]},
    )

    data = scores.to_dict()

    assert data == {
        "sentiment": -0.1235,
        "frustration": 0.6543,
        "complexity": 0.5,
        "uncertainty": 0.3333,
        "human_request": 1.0,
        "signals": {
            "sentiment": [{"name": "long_wait", "weight": -1.5, "detail": "'waiting 3 weeks'"}],
            "frustration": [],
            "complexity": [],
            "uncertainty": [],
            "human_request": [],
        },
    }


def test_a_score_that_could_not_be_judged_is_left_out_not_zero() -> None:
    scores = TurnScores(
        sentiment=None, complexity=0.1, uncertainty=0.2, human_request=0.0, frustration=None
    )

    data = scores.to_dict()

    assert "sentiment" not in data and "frustration" not in data
    assert data["human_request"] == 0.0


def test_from_dict_reads_back_what_to_dict_wrote(scorer: TurnScorer) -> None:
    data = scorer.score("WHERE IS MY MONEY??? get me a human").to_dict()

    assert TurnScores.from_dict(data).to_dict() == data


def test_from_dict_reads_missing_structure_as_neutral_and_missing_feelings_as_unknown() -> None:
    scores = TurnScores.from_dict({"sentiment": -0.5})

    assert (scores.complexity, scores.uncertainty) == (0.0, 0.0)
    assert (scores.human_request, scores.frustration) == (None, None)
    assert scores.signals == {name: [] for name in SCORE_NAMES}


# --- TurnScorer ----------------------------------------------------------------------------------


def test_scores_are_in_range_and_every_score_has_a_signal_list(scorer: TurnScorer) -> None:
    data = scorer.score("I've been waiting for 3 weeks!!! I want to talk to a human").to_dict()

    assert -1.0 <= data["sentiment"] < -0.3
    assert data["human_request"] >= 0.9
    for name in ("frustration", "complexity", "uncertainty", "human_request"):
        assert 0.0 <= data[name] <= 1.0
    assert set(data["signals"]) == set(SCORE_NAMES)


def test_the_fallback_intent_at_the_top_marks_the_turn_uncertain(scorer: TurnScorer) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "order_status", "confidence": 0.28},
        {"name": "greet", "confidence": 0.2},
    ]

    scores = scorer.score("order thing", ranking)

    uncertainty = [s.name for s in scores.signals["uncertainty"]]
    assert "nlu_fallback" in uncertainty
    assert "order_status at 0.28" in scores.signals["uncertainty"][0].detail


def test_the_fallback_flag_is_enough_without_the_intent_in_the_ranking(
    scorer: TurnScorer,
) -> None:
    scores = scorer.score("hm", [{"name": "greet", "confidence": 0.4}], fallback=True)

    assert "nlu_fallback" in [s.name for s in scores.signals["uncertainty"]]


def test_a_lone_button_intent_is_certain(scorer: TurnScorer) -> None:
    scores = scorer.score("/request_human", [{"name": "request_human", "confidence": 1.0}])

    assert scores.uncertainty == 0.0
    assert scores.human_request == 1.0


def test_non_text_input_scores_as_empty(scorer: TurnScorer) -> None:
    scores = scorer.score(None)  # type: ignore[arg-type]

    assert scores.sentiment == 0.0


def test_a_bad_extra_lexicon_is_an_option_error_naming_the_option(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("good\n", encoding="utf-8")

    with pytest.raises(OptionError) as caught:
        TurnScorer(ScoringOptions(model="lexicon", extra_lexicon_files=(str(bad),)))

    assert caught.value.option == "extra_lexicon_files"
    assert f"{bad}:1:" in str(caught.value)


def test_customer_service_rules_can_be_turned_off() -> None:
    plain = TurnScorer(ScoringOptions(model="lexicon", customer_service_rules=False))

    assert plain.score("I've been waiting for 3 weeks").sentiment == 0.0


# --- clean_ranking -------------------------------------------------------------------------------


def test_clean_ranking_sorts_clips_and_drops_the_fallback_intent() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "b", "confidence": "0.2"},
        {"name": "a", "confidence": 1.7},
        {"name": "", "confidence": 0.9},
        {"confidence": 0.9},
        {"name": "c", "confidence": None},
    ]

    cleaned, fell_back = clean_ranking(ranking, "nlu_fallback")

    assert cleaned == [
        {"name": "a", "confidence": 1.0},
        {"name": "b", "confidence": 0.2},
        {"name": "c", "confidence": 0.0},
    ]
    assert fell_back


def test_clean_ranking_keeps_none_as_no_information() -> None:
    assert clean_ranking(None, "nlu_fallback") == (None, False)


# --- ScoringOptions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "option"),
    [
        ({"language": "de"}, "language"),
        ({"extra_lexicon_files": 3}, "extra_lexicon_files"),
        ({"extra_lexicon_files": [""]}, "extra_lexicon_files"),
        ({"customer_service_rules": "yes"}, "customer_service_rules"),
        ({"human_request_intents": [1]}, "human_request_intents"),
        ({"fallback_intent": ""}, "fallback_intent"),
        ({"ambiguity_margin": 1.5}, "ambiguity_margin"),
        ({"ambiguity_margin": "wide"}, "ambiguity_margin"),
        ({"ambiguity_margin": float("nan")}, "ambiguity_margin"),
        ({"long_message_tokens": 5}, "long_message_tokens"),
        ({"long_message_tokens": 40.5}, "long_message_tokens"),
        ({"shouting_min_words": 0}, "shouting_min_words"),
        ({"shouting_min_words": True}, "shouting_min_words"),
    ],
)
def test_a_bad_option_is_rejected_by_name(config: dict, option: str) -> None:
    with pytest.raises(OptionError) as caught:
        ScoringOptions.from_mapping(config)

    assert caught.value.option == option
    assert str(caught.value).startswith(f"option '{option}': ")


def test_an_unknown_option_suggests_the_close_one() -> None:
    with pytest.raises(OptionError, match="did you mean 'ambiguity_margin'"):
        ScoringOptions.from_mapping({"ambiguity_margn": 0.2})


def test_options_from_yaml_lists_become_tuples() -> None:
    options = ScoringOptions.from_mapping(
        {"human_request_intents": ["talk_to_human"], "extra_lexicon_files": None}
    )

    assert options.human_request_intents == ("talk_to_human",)
    assert options.extra_lexicon_files == ()


def test_as_config_round_trips_through_from_mapping() -> None:
    options = ScoringOptions(ambiguity_margin=0.2, human_request_intents=("a", "b"))

    assert ScoringOptions.from_mapping(options.as_config()) == options


# --- text helpers --------------------------------------------------------------------------------


def test_normalize_straightens_quotes_folds_accents_and_collapses_spaces() -> None:
    assert normalize("  I  haven\u2019t   received\tthe Caf\u00e9 ORDER ") == (
        "i haven't received the cafe order"
    )


def test_fold_accents_keeps_characters_without_a_decomposition() -> None:
    assert fold_accents("na\u00efve \U0001f621 \u00df") == "naive \U0001f621 \u00df"


def test_tokenize_keeps_contractions_and_drops_punctuation() -> None:
    assert tokenize("Don\u2019t!! charge me twice, OK?") == [
        "don't",
        "charge",
        "me",
        "twice",
        "ok",
    ]


_RULES = read_phrase_rules()
_RULE_SET = PhraseSet((rule.name, rule.pattern) for rule in _RULES)
_VOCABULARY = sorted(
    {word for rule in _RULES for word in re.findall(r"[a-z']{2,}", rule.pattern)}
    | {"i", "my", "the", "3", "weeks", "you", "a", "to", "me", "is", "it", "?", "!"}
)


@given(st.lists(st.sampled_from(_VOCABULARY), max_size=14))
@settings(max_examples=400, deadline=None)
def test_phrase_set_finds_what_plain_re_search_finds(words: list[str]) -> None:
    text = " ".join(words)

    found = _RULE_SET.search_all(text)

    for rule in _RULES:
        expected = re.search(rule.pattern, text)
        assert (rule.name in found) == (expected is not None), rule.name
        if expected is not None:
            assert found[rule.name].start() == expected.start()
