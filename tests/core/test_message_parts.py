"""An attendant's long text is cut into parts a platform accepts, losing nothing but whitespace."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handoff_component.core.message_parts import characters, split_for_limit, utf8_bytes

texts = st.lists(st.sampled_from([*"ab é漢🙂", "\n", "\n\n", "word "]), max_size=200).map("".join)


def _no_space(text: str) -> str:
    return "".join(text.split())


def test_text_within_the_limit_is_one_part() -> None:
    assert split_for_limit("  Your refund is on its way.  ", 100) == ["Your refund is on its way."]


def test_a_cut_falls_at_a_paragraph_break_before_a_line_break_or_a_space() -> None:
    text = "First paragraph here.\n\nSecond one, a bit longer."
    assert split_for_limit(text, 30) == ["First paragraph here.", "Second one, a bit longer."]
    assert split_for_limit("one two\nthree four five", 16) == ["one two", "three four five"]
    assert split_for_limit("one two three four", 9) == ["one two", "three", "four"]


def test_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_for_limit("https://example.com/abcdefghij", 10) == [
        "https://ex",
        "ample.com/",
        "abcdefghij",
    ]


def test_instagrams_limit_counts_bytes_so_accented_text_is_cut_sooner() -> None:
    parts = split_for_limit("é" * 9, 6, utf8_bytes)
    assert parts == ["ééé", "ééé", "ééé"]


def test_whitespace_only_text_has_no_part() -> None:
    assert split_for_limit(" \n\n ", 10) == []


def test_a_limit_too_small_for_any_character_is_refused() -> None:
    with pytest.raises(ValueError, match="below 4"):
        split_for_limit("hi", 3)


@given(texts, st.integers(min_value=4, max_value=60), st.sampled_from([characters, utf8_bytes]))
def test_parts_fit_are_never_empty_and_keep_every_character_in_order(
    text: str, limit: int, measure
) -> None:
    parts = split_for_limit(text, limit, measure)

    assert all(part and part == part.strip() for part in parts)
    assert all(measure(part) <= limit for part in parts)
    assert _no_space("".join(parts)) == _no_space(text)


def test_a_10_000_character_reply_is_cut_in_one_pass() -> None:
    text = ("word " * 2000).strip()
    parts = split_for_limit(text, 1600)
    assert len(parts) == 7
    assert " ".join(parts) == text
