"""The named reason behind a score.

Every scorer returns its number together with the signals that produced it, so an attendant can
read why a turn looked angry and a designer can see which rule or lexicon entry fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["MAX_DETAIL_CHARACTERS", "ScoreResult", "Signal"]

# A detail quotes the customer's words; a pasted essay must not become a 4,000-character signal.
MAX_DETAIL_CHARACTERS = 200


class Signal(NamedTuple):
    """One contribution to a score: what fired, how much it weighed, on which text.

    A named tuple rather than a dataclass: a turn creates a dozen of these and construction cost
    shows in the per-message budget.
    """

    name: str
    weight: float
    detail: str

    def to_dict(self) -> dict:
        detail = self.detail
        if len(detail) > MAX_DETAIL_CHARACTERS:
            detail = detail[: MAX_DETAIL_CHARACTERS - 3] + "..."
        return {"name": self.name, "weight": round(self.weight, 4), "detail": detail}


@dataclass(frozen=True)
class ScoreResult:
    """What every scorer returns: its score and the signals that produced it (for sentiment,
    in [-1, 1], the signals' weights sum to its raw valence; the others are in [0, 1])."""

    score: float
    signals: tuple[Signal, ...]
