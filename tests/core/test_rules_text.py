"""Folding text for keywords and repeated questions, and the durations of the rules file."""

from __future__ import annotations

import pytest

from handoff_component.core.rules.durations import format_duration, parse_duration
from handoff_component.core.rules.text import fold, fold_message, jaccard


def test_fold_removes_case_accents_and_punctuation() -> None:
    assert fold("Démarche LÉGALE!  C'est   ÇA_bon") == "demarche legale c est ca bon"


def test_folded_message_pads_words_for_whole_word_search() -> None:
    folded = fold_message("I'll SUE!")
    assert folded.padded == " i ll sue "
    assert folded.tokens == ("i", "ll", "sue")
    assert " sue " in folded.padded and " su " not in folded.padded


def test_jaccard_is_shared_words_over_all_words() -> None:
    assert jaccard(frozenset("abc"), frozenset("bcd")) == pytest.approx(2 / 4)
    assert jaccard(frozenset(), frozenset("a")) == 0.0


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("1.5h", 5400), (30, 30), (0.5, 0.5)],
)
def test_durations_are_read(written: object, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["15 minutes", "", "-5s", -1, True, None, "m"])
def test_bad_durations_are_refused(written: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(written)


@pytest.mark.parametrize(
    ("seconds", "text"), [(900, "15m"), (5400, "1h30m"), (42.5, "42.5s"), (0, "0s"), (3600, "1h")]
)
def test_durations_are_written_back_compactly(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
