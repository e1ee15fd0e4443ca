"""Facts derived from a ConversationView, computed at most once per evaluation.

Fifty rules often ask the same questions (how many failed attempts? the average sentiment of the
last three turns?); answering each once keeps a whole evaluation well under the NLU's parse time.
"""

from __future__ import annotations

import operator
from functools import lru_cache
from typing import Any

from handoff_component.core.rules.settings import RuleSettings
from handoff_component.core.rules.text import FoldedText, fold_message, jaccard
from handoff_component.core.rules.view import ConversationView, Turn

MISSING = object()
_TEXT = operator.attrgetter("text")


class ConversationFacts:
    """Lazy, memoised answers about one view; discarded after the evaluation."""

    __slots__ = (
        "_failed",
        "_rephrase",
        "current",
        "known",
        "padded",
        "scores",
        "settings",
        "turns",
        "view",
    )

    def __init__(self, view: ConversationView, settings: RuleSettings) -> None:
        self.view = view
        self.settings = settings
        self.turns: tuple[Turn, ...] = view.turns
        self.current: Turn = view.turns[-1]
        self.scores = self.current.scores
        self.padded = fold_message(self.current.text).padded
        self._rephrase: dict[int, bool] = {}
        self._failed: dict[int, bool] = {}
        # Answers by question, e.g. ("average", "sentiment", 3); conditions read it directly
        # with their precomputed key before calling the method that computes the answer.
        self.known: dict[tuple, Any] = {}

    def folded(self, index: int) -> FoldedText:
        return fold_message(self.turns[index].text)

    def is_rephrase(self, index: int) -> bool:
        """The same question asked again: see `_repeats`; compared with the previous
        `rephrase_window` messages. Button payloads (`/intent`) never count."""
        known = self._rephrase.get(index)
        if known is not None:
            return known
        settings = self.settings
        earlier = tuple(map(_TEXT, self.turns[max(0, index - settings.rephrase_window) : index]))
        result = _repeats(
            self.turns[index].text,
            earlier,
            settings.rephrase_similarity,
            settings.rephrase_min_words,
            settings.ignored_words,
        )
        self._rephrase[index] = result
        return result

    def is_failed(self, index: int) -> bool:
        """A failed attempt: the bot fell back on this message, or the customer had to repeat."""
        known = self._failed.get(index)
        if known is None:
            known = self.turns[index].fallback or self.is_rephrase(index)
            self._failed[index] = known
        return known

    def count(self, counter: str, within_last: int | None, consecutive: bool) -> int:
        """`message_count`, `failed_attempts`, `fallbacks` or `rephrasings` over the last
        `within_last` turns (all when None); `consecutive` counts only the unbroken run that ends
        at the current turn."""
        key = ("count", counter, within_last, consecutive)
        cached = self.known.get(key, MISSING)
        if cached is not MISSING:
            return cached
        size = len(self.turns)
        start = 0 if within_last is None else max(0, size - within_last)
        if counter == "message_count":
            result = sum(1 for index in range(start, size) if _typed(self.turns[index]))
        else:
            test = {
                "failed_attempts": self.is_failed,
                "fallbacks": lambda i: self.turns[i].fallback,
                "rephrasings": self.is_rephrase,
            }[counter]
            result = 0
            for index in range(size - 1, start - 1, -1):
                if test(index):
                    result += 1
                elif consecutive:
                    break
        self.known[key] = result
        return result

    def recent_scores(self, score: str, last: int) -> tuple[float, ...] | None:
        """The score of the last `last` turns that carry it, oldest first; None until there are
        that many (a button click without scores is skipped, not counted as zero)."""
        key = ("recent", score, last)
        cached = self.known.get(key, MISSING)
        if cached is not MISSING:
            return cached
        values: list[float] = []
        for turn in reversed(self.turns):
            value = turn.scores.get(score)
            if value is not None:
                values.append(value)
                if len(values) == last:
                    break
        result = tuple(reversed(values)) if len(values) == last else None
        self.known[key] = result
        return result

    def average(self, score: str, last: int) -> float | None:
        key = ("average", score, last)
        cached = self.known.get(key, MISSING)
        if cached is not MISSING:
            return cached
        values = self.recent_scores(score, last)
        result = None if values is None else sum(values) / len(values)
        self.known[key] = result
        return result

    def trend(self, score: str, last: int) -> float | None:
        """Least-squares slope per turn: negative when the score is falling."""
        key = ("trend", score, last)
        cached = self.known.get(key, MISSING)
        if cached is not MISSING:
            return cached
        values = self.recent_scores(score, last)
        result = None
        if values is not None:
            result = sum(map(operator.mul, _slope_weights(len(values)), values))
        self.known[key] = result
        return result


@lru_cache(maxsize=16384)
def _repeats(
    text: str,
    earlier: tuple[str, ...],
    similarity: float,
    min_words: int,
    ignored: frozenset[str],
) -> bool:
    """Whether `text` asks one of `earlier` again: the Jaccard similarity of their sets of
    folded words, ignored words left out, reaches `similarity`, and each has `min_words` such
    words. Cached: a turn's answer never changes, and every later turn asks it again."""
    if text.startswith("/"):
        return False
    words = fold_message(text).token_set - ignored
    if len(words) < max(1, min_words):
        return False
    for other_text in earlier:
        if other_text.startswith("/"):
            continue
        other = fold_message(other_text).token_set - ignored
        if len(other) >= min_words and jaccard(words, other) >= similarity:
            return True
    return False


@lru_cache(maxsize=128)
def _slope_weights(n: int) -> tuple[float, ...]:
    """Least-squares slope of y over x = 0..n-1 is sum(w[x] * y[x]) with these weights: the
    mean of y cancels out because the weights sum to zero."""
    mean_x = (n - 1) / 2
    den = sum((x - mean_x) ** 2 for x in range(n))
    return tuple((x - mean_x) / den for x in range(n))


def _typed(turn: Turn) -> bool:
    """A message the customer wrote, as opposed to a payload: a button click or the greeting a
    web widget sends by itself when it opens (`/greet`), neither of which shows how long the
    customer has been trying."""
    text = turn.text.lstrip()
    return bool(text) and not text.startswith("/")
