"""The named reason behind a score.

Every scorer returns its number together with the signals that produced it, so an attendant can
read why a turn looked angry and a designer can see which rule or lexicon entry fired.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Signal"]


@dataclass(frozen=True)
class Signal:
    """One contribution to a score: what fired, how much it weighed, on which text."""

    name: str
    weight: float
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "weight": round(self.weight, 4), "detail": self.detail}
