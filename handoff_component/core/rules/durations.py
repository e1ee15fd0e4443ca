"""Durations as designers write them in `handoff.yml`: `90s`, `15m`, `1h30m`, or plain seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[hms]\s*)+$")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: object) -> float:
    """Seconds in `value`; raises ValueError with the accepted forms when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90s, 15m or 1h30m, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if isinstance(value, str) and _WHOLE.match(value):
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(value))
    raise ValueError(f"expected a duration such as 90s, 15m or 1h30m, got {value!r}")


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration, for messages: 900 -> "15m", 5400 -> "1h30m"."""
    if seconds <= 0:
        return "0s"
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts)
