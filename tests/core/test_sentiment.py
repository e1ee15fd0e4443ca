"""Sentiment: VADER as published, plus the customer-service layer, every contribution explained."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.core.lexicon import LexiconError
from handoff_component.core.sentiment import ALPHA, SentimentModel


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load()


@pytest.fixture(scope="module")
def plain() -> SentimentModel:
    return SentimentModel.load(customer_service=False)


def names(result) -> list[str]:
    return [signal.name for signal in result.signals]


# VADER's own demonstration sentences (vaderSentiment.py, __main__), covering its rules.
VADER_EXAMPLES = [
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "no problem at all, no worries",
]


@pytest.mark.parametrize("text", VADER_EXAMPLES)
def test_plain_mode_reproduces_vader_compound(plain: SentimentModel, text: str) -> None:
    vader = pytest.importorskip("vaderSentiment.vaderSentiment")
    expected = vader.SentimentIntensityAnalyzer().polarity_scores(text)["compound"]

    result = plain.score(text)

    assert round(result.score, 4) == pytest.approx(expected, abs=1e-4)


def test_but_rule_rescales_by_position_where_vader_rescales_by_value(plain: SentimentModel) -> None:
    # Two equal valences ("good" twice) confuse VADER's list.index(); by position both are right.
    result = plain.score("good food, good service but rude staff")

    weights = [signal.weight for signal in result.signals if signal.name == "lexicon"]
    assert weights == pytest.approx([1.9 * 0.5, 1.9 * 0.5, -2.0 * 1.5])


_MODEL = SentimentModel.load()


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_score_is_the_squashed_sum_of_signal_weights(text: str) -> None:
    result = _MODEL.score(text)

    total = sum(signal.weight for signal in result.signals)
    assert -1.0 <= result.score <= 1.0
    assert result.score == pytest.approx(total / math.sqrt(total * total + ALPHA), abs=1e-9)


def test_plain_vader_misses_a_long_wait_that_the_customer_service_layer_reads(
    model: SentimentModel, plain: SentimentModel
) -> None:
    text = "I've been waiting for 3 weeks for my order"

    assert plain.score(text).score == 0.0
    assert model.score(text).score < -0.3
    assert "long_wait" in names(model.score(text))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I have been waiting for 3 weeks", "long_wait"),
        ("been on hold for 45 minutes", "long_wait"),
        ("this is taking forever", "long_wait"),
        ("I still haven't received my package", "not_received"),
        ("my parcel never arrived", "not_received"),
        ("it says delivered but nothing is here", "not_received"),
        ("this is the third time I contact you", "repeated_contact"),
        ("fourth time I am asking for this", "repeated_contact"),
        ("I called you 4 times already", "repeated_contact"),
        ("you charged me twice for one order", "charged_wrongly"),
        ("they double charged my card", "charged_wrongly"),
        ("where is my money", "money_lost"),
        ("I am out of pocket by $50 now", "money_lost"),
        ("they refused to give me a refund", "refund_refused"),
        ("the app keeps crashing", "not_working"),
        ("the reset link doesn't work", "not_working"),
        ("nobody answers my emails", "no_response"),
        ("the tracking hasn't updated in days", "no_progress"),
        ("I was told someone would call me back", "broken_promise"),
        ("I will leave a bad review", "escalation_threat"),
        ("I'm fed up with this", "exasperation"),
        ("you don't understand", "bot_frustration"),
        ("thanks for nothing", "sarcasm"),
        ("thank you so much for ignoring my emails", "sarcasm"),
    ],
)
def test_customer_service_phrase_rule_fires_and_pulls_negative(
    model: SentimentModel, text: str, rule: str
) -> None:
    result = model.score(text)

    assert rule in names(result)
    assert result.score < -0.05


@pytest.mark.parametrize(
    "text", ["thanks for your help", "thank you for sorting it", "great service as always"]
)
def test_sincere_thanks_is_not_sarcasm(model: SentimentModel, text: str) -> None:
    result = model.score(text)

    assert "sarcasm" not in names(result)
    assert result.score > 0.3


def test_phrase_signal_carries_the_matched_text(model: SentimentModel) -> None:
    result = model.score("I've been waiting for 3 weeks!")

    signal = next(s for s in result.signals if s.name == "long_wait")
    assert signal.weight < 0
    assert "waiting for 3 weeks" in signal.detail


def test_a_rule_counts_once_per_message(model: SentimentModel) -> None:
    result = model.score("still waiting, still waiting, still waiting")

    assert names(result).count("long_wait") == 1


def test_phrase_before_but_weighs_half(model: SentimentModel) -> None:
    result = model.score("I waited 2 weeks but it finally came")

    signal = next(s for s in result.signals if s.name == "long_wait")
    assert signal.weight == pytest.approx(-1.5 * 0.5)


def test_curly_apostrophes_match_like_straight_ones(model: SentimentModel) -> None:
    curly = model.score("I still haven\u2019t received it")
    straight = model.score("I still haven't received it")

    assert curly.score == pytest.approx(straight.score)
    assert "not_received" in names(curly)


def test_shouting_a_neutral_question_reads_as_frustration(model: SentimentModel) -> None:
    result = model.score("WHERE IS MY ORDER")

    assert "shouting" in names(result)
    assert result.score < -0.05


def test_shouting_a_thank_you_stays_positive(model: SentimentModel) -> None:
    result = model.score("THANK YOU SO MUCH")

    assert "shouting" in names(result)
    assert result.score > 0.5


def test_two_capitalised_words_are_not_shouting(model: SentimentModel) -> None:
    assert "shouting" not in names(model.score("OK GOOD"))


def test_one_capitalised_word_in_a_sentence_is_emphasis_not_shouting(
    model: SentimentModel,
) -> None:
    result = model.score("this is NOT acceptable")

    assert "shouting" not in names(result)


def test_three_question_marks_without_other_evidence_read_negative(model: SentimentModel) -> None:
    result = model.score("where is my order???")

    assert "repeated_punctuation" in names(result)
    assert result.score < -0.05


def test_exclamation_marks_alone_are_excitement_not_anger(model: SentimentModel) -> None:
    result = model.score("see you on friday!!!")

    assert "repeated_punctuation" not in names(result)
    assert result.score == 0.0


def test_exclamation_marks_amplify_existing_sentiment(model: SentimentModel) -> None:
    assert model.score("this is terrible!!!").score < model.score("this is terrible").score


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("f*ck this", "fuck"),
        ("sh!t service", "shit"),
        ("what the f**k", "fuck"),
        ("a$$", "ass"),
        ("cheap s*** again", "shit"),
    ],
)
def test_masked_profanity_is_read_as_the_word_behind_it(
    model: SentimentModel, text: str, word: str
) -> None:
    result = model.score(text)

    masked = next(s for s in result.signals if s.name == "masked_profanity")
    assert repr(word) in masked.detail
    assert result.score < -0.05


def test_profanity_on_a_neutral_question_reads_as_anger(
    model: SentimentModel, plain: SentimentModel
) -> None:
    text = "where is my fucking order"

    assert plain.score(text).score == 0.0  # VADER takes "fucking" as a mere booster
    assert "profanity" in names(model.score(text))
    assert model.score(text).score < -0.05


def test_profanity_in_praise_stays_praise(model: SentimentModel) -> None:
    result = model.score("this is fucking awesome")

    assert "profanity" not in names(result)
    assert result.score > 0.5


def test_an_angry_emoji_is_negative(model: SentimentModel) -> None:
    assert model.score("my order \U0001f621").score < -0.05


def test_paying_is_neutral_in_a_support_chat(model: SentimentModel, plain: SentimentModel) -> None:
    assert plain.score("can I pay with PayPal").score < 0
    assert model.score("can I pay with PayPal").score == 0.0


def test_lexicon_signal_explains_negation(model: SentimentModel) -> None:
    result = model.score("the service was not good")

    signal = next(s for s in result.signals if s.name == "lexicon")
    assert signal.weight < 0
    assert "negated by 'not'" in signal.detail


def test_empty_text_scores_zero_without_signals(model: SentimentModel) -> None:
    result = model.score("")

    assert result.score == 0.0
    assert result.signals == ()


# --- extra lexicon files ---------------------------------------------------------------------


def test_extra_lexicon_adds_and_overrides_words(tmp_path: Path) -> None:
    extra = tmp_path / "shop.tsv"
    extra.write_text("# shop words\nbackorder\t-1.5\ngreat\t0.5\n", encoding="utf-8")

    result = SentimentModel.load([extra]).score("backorder again")

    signal = next(s for s in result.signals if s.name == "extra_lexicon")
    assert signal.weight == pytest.approx(-1.5)
    assert (
        SentimentModel.load([extra]).score("great").score
        < SentimentModel.load().score("great").score
    )


def test_extra_lexicon_phrase_matches_as_a_phrase(tmp_path: Path) -> None:
    extra = tmp_path / "phrases.tsv"
    extra.write_text("out of stock\t-1.2\n", encoding="utf-8")

    result = SentimentModel.load([extra]).score("it is Out of Stock again")

    assert [(s.name, s.weight) for s in result.signals] == [("extra_lexicon", -1.2)]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("good\t1.0\nbad -2\n", 2, "expected 'token<TAB>valence'"),
        ("good\tvery\n", 1, "is not a number"),
        ("# c\n\nawful\t-9\n", 3, "outside [-4.0, 4.0]"),
        ("x\t1\ty\n", 1, "expected 'token<TAB>valence'"),
    ],
)
def test_bad_extra_lexicon_line_names_file_and_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    extra = tmp_path / "bad.tsv"
    extra.write_text(content, encoding="utf-8")

    with pytest.raises(LexiconError) as caught:
        SentimentModel.load([extra])

    assert caught.value.line == line
    assert f"{extra}:{line}:" in str(caught.value)
    assert message in str(caught.value)


def test_missing_extra_lexicon_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"missing\.tsv: file not found"):
        SentimentModel.load([tmp_path / "missing.tsv"])
