"""The expected wait as people read it: whole minutes, and the phrase the customer hears.

The service computes a wait in seconds (`service/expected_wait.py`) and sends it with the
handoff's ticket (`expected_wait_seconds`, and `expected_wait_minutes` for the Inbox); Rasa's
side (the handoff action, the connector's wait update) fills `{wait}` of the responses with
`wait_phrase`. One rounding here, so the customer and the attendant read the same number.
"""

from __future__ import annotations

import math


def expected_wait_minutes(seconds: float) -> int:
    """Whole minutes, at least 1: to the nearest minute below ten, to the nearest five above
    (an estimate of "23 minutes" claims a precision it does not have)."""
    minutes = max(1, math.floor(max(0.0, seconds) / 60 + 0.5))
    if minutes >= 10:
        minutes = 5 * math.floor(minutes / 5 + 0.5)
    return minutes


def wait_phrase(seconds: float | None) -> str | None:
    """`{wait}` of `utter_handoff_with_wait`: "about 4 minutes"; None when the wait is unknown."""
    if seconds is None or not math.isfinite(seconds):
        return None
    minutes = expected_wait_minutes(seconds)
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"
