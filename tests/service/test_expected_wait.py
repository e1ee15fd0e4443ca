"""The expected wait, on written cases: the formula of docs/handoff.md, its unknowns, its update
rule, and the minutes the customer and the Inbox read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handoff_component.contract import expected_wait_minutes, wait_phrase
from handoff_component.service.expected_wait import (
    QueueFigures,
    expected_wait_seconds,
    wait_grew,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def test_an_empty_queue_waits_the_team_s_median_time_to_claim() -> None:
    figures = QueueFigures(ahead=0, attendants=2, claim_seconds=[60, 240, 120, 90, 600])

    assert expected_wait_seconds(figures) == 120


@pytest.mark.parametrize(
    ("ahead", "attendants", "expected"),
    [
        (0, 1, 120),  # first in line
        (1, 1, 240),  # one ticket ahead, one attendant: two rounds
        (3, 1, 480),
        (3, 2, 240),  # two attendants take the three ahead two at a time: this one is in round 2
        (3, 4, 120),  # as many attendants as tickets ahead and more: the first round
        (7, 4, 240),
    ],
)
def test_tickets_ahead_are_taken_as_many_at_a_time_as_attendants_are_signed_in(
    ahead: int, attendants: int, expected: float
) -> None:
    figures = QueueFigures(ahead=ahead, attendants=attendants, claim_seconds=[120, 120, 120])

    assert expected_wait_seconds(figures) == expected


def test_the_wait_grows_with_the_queue_and_shrinks_with_attendants() -> None:
    pace = [30, 45, 60, 90]
    by_queue = [expected_wait_seconds(QueueFigures(n, 2, pace)) for n in range(10)]
    by_staff = [expected_wait_seconds(QueueFigures(6, n, pace)) for n in range(1, 8)]

    assert by_queue == sorted(by_queue)  # type: ignore[type-var]
    assert by_staff == sorted(by_staff, reverse=True)  # type: ignore[type-var]


def test_nobody_signed_in_means_unknown_whatever_the_history() -> None:
    assert expected_wait_seconds(QueueFigures(0, 0, [60] * 20)) is None


def test_too_little_history_means_unknown_even_with_attendants() -> None:
    assert expected_wait_seconds(QueueFigures(0, 3, [])) is None
    assert expected_wait_seconds(QueueFigures(0, 3, [60, 60])) is None
    assert expected_wait_seconds(QueueFigures(0, 3, [60, 60]), min_samples=2) == 60


def test_one_slow_claim_does_not_move_the_median_much() -> None:
    figures = QueueFigures(ahead=0, attendants=1, claim_seconds=[60, 70, 80, 90, 36_000])

    assert expected_wait_seconds(figures) == 80


def test_a_wait_that_doubled_and_grew_by_five_minutes_is_worth_an_update() -> None:
    told = 300.0  # "about 5 minutes" at T0
    later = T0 + timedelta(minutes=4)

    assert wait_grew(told, T0, 7 * 60, later)  # 4 waited + 7 to go = 11 min: 2.2x, +6 min
    assert not wait_grew(told, T0, 5 * 60, later)  # 9 min: not double
    assert not wait_grew(told, T0, 60, later)  # 5 min: as told


def test_a_short_wait_that_doubled_by_less_than_five_minutes_is_not() -> None:
    told = 60.0  # "about a minute"

    assert not wait_grew(told, T0, 180, T0 + timedelta(minutes=1))  # 4 min: 4x, but +3 min
    assert wait_grew(told, T0, 300, T0 + timedelta(minutes=1))  # 6 min: +5 min


def test_waiting_far_past_the_figure_counts_as_growth() -> None:
    """Nobody claimed it at the front of the queue: what is still expected adds to the wait."""
    assert wait_grew(120.0, T0, 120, T0 + timedelta(minutes=10))


@pytest.mark.parametrize(
    ("seconds", "minutes", "phrase"),
    [
        (0, 1, "about a minute"),
        (20, 1, "about a minute"),
        (89, 1, "about a minute"),
        (90, 2, "about 2 minutes"),
        (150, 3, "about 3 minutes"),  # half a minute rounds up, the same in Python and the Inbox
        (9 * 60 + 29, 9, "about 9 minutes"),
        (12 * 60, 10, "about 10 minutes"),  # five-minute steps from ten on
        (13 * 60, 15, "about 15 minutes"),
        (47 * 60, 45, "about 45 minutes"),
        (95 * 60, 95, "about 95 minutes"),
    ],
)
def test_the_customer_and_the_inbox_read_the_same_rounded_minutes(
    seconds: float, minutes: int, phrase: str
) -> None:
    assert expected_wait_minutes(seconds) == minutes
    assert wait_phrase(seconds) == phrase


def test_an_unknown_wait_has_no_phrase() -> None:
    assert wait_phrase(None) is None
    assert wait_phrase(float("nan")) is None
