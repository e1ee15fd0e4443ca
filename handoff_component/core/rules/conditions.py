"""The conditions of the rules language.

Each condition answers `holds` on every turn, for every rule: that is the hot path, so it returns
a bool and builds nothing. Only for the rules that fired are `strength` (how strongly, in [0, 1])
and `explain` (why, in words) asked. `describe` gives the condition as written, for `not` and
listings.
"""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handoff_component.contract.scores import SCORE_RANGES
from handoff_component.core.rules.facts import MISSING, ConversationFacts
from handoff_component.core.rules.view import ConversationView

logger = logging.getLogger(__name__)

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
# A trend is a slope per turn between scores of width 2 at most (sentiment), so within [-2, 2].
TREND_RANGE = (-2.0, 2.0)


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str
    threshold: float
    # The operator's function, looked up once: `holds` runs hundreds of times per turn.
    fn: Callable[[float, float], bool] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fn", OPERATORS[self.op])

    def holds(self, value: float) -> bool:
        return self.fn(value, self.threshold)

    def strength(self, value: float, low: float, high: float) -> float:
        """How far into the firing side of its range the value is: for `sentiment <= -0.6`, a
        sentiment of -1 is 1.0 and -0.6 is 0.2; for `complexity >= 0.8`, 0.9 is 0.9."""
        normalised = min(1.0, max(0.0, (value - low) / (high - low)))
        if self.op in ("<", "<="):
            return 1.0 - normalised
        if self.op in (">", ">="):
            return normalised
        return 1.0

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


class Condition:
    """Base of every condition; subclasses are frozen dataclasses."""

    __slots__ = ()
    line: int

    def holds(self, facts: ConversationFacts) -> bool:
        raise NotImplementedError

    def strength(self, facts: ConversationFacts) -> float:
        """How strongly a holding condition holds, in [0, 1]; 1 unless there is a degree."""
        return 1.0

    def explain(self, facts: ConversationFacts) -> str:
        """Why a holding condition holds, with the values seen."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def walk(self) -> list[Condition]:
        """This condition and all it contains, for checks such as unknown intents."""
        return [self]


def _ago(turns_ago: int) -> str:
    if turns_ago == 0:
        return ""
    return " 1 turn ago" if turns_ago == 1 else f" {turns_ago} turns ago"


@dataclass(frozen=True, slots=True)
class ScoreCondition(Condition):
    """A score of the current turn, e.g. `sentiment <= -0.6`."""

    score: str
    comparison: Comparison
    line: int = 0

    def holds(self, facts: ConversationFacts) -> bool:
        value = facts.scores.get(self.score)
        comparison = self.comparison
        return value is not None and comparison.fn(value, comparison.threshold)

    def strength(self, facts: ConversationFacts) -> float:
        return self.comparison.strength(facts.scores[self.score], *SCORE_RANGES[self.score])

    def explain(self, facts: ConversationFacts) -> str:
        return f"{self.score} {facts.current.scores[self.score]:.2f} {self.comparison}"

    def describe(self) -> str:
        return f"{self.score} {self.comparison}"


WINDOW_KINDS = ("average", "trend")


@dataclass(frozen=True, slots=True)
class WindowCondition(Condition):
    """A figure of a score over the last `last` turns that carry it: their mean (`average`) or
    the least-squares slope per turn (`trend`: negative when the score is falling)."""

    kind: str
    score: str
    last: int
    comparison: Comparison
    line: int = 0
    key: tuple = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"a window condition is one of {WINDOW_KINDS}, not {self.kind!r}")
        object.__setattr__(self, "key", (self.kind, self.score, self.last))

    def value(self, facts: ConversationFacts) -> float | None:
        if self.kind == "average":
            return facts.average(self.score, self.last)
        return facts.trend(self.score, self.last)

    def holds(self, facts: ConversationFacts) -> bool:
        value = facts.known.get(self.key, MISSING)
        if value is MISSING:
            value = self.value(facts)
        comparison = self.comparison
        return value is not None and comparison.fn(value, comparison.threshold)

    def strength(self, facts: ConversationFacts) -> float:
        value = self.value(facts)
        if value is None:
            return 0.0
        low, high = SCORE_RANGES[self.score] if self.kind == "average" else TREND_RANGE
        return self.comparison.strength(value, low, high)

    def explain(self, facts: ConversationFacts) -> str:
        value = self.value(facts)
        if self.kind == "average":
            return (
                f"average {self.score} over the last {self.last} turns {value:.2f} "
                f"{self.comparison}"
            )
        return (
            f"{self.score} trend over the last {self.last} turns {value:+.2f} per turn "
            f"{self.comparison}"
        )

    def describe(self) -> str:
        if self.kind == "average":
            return f"average {self.score} over the last {self.last} turns {self.comparison}"
        return f"{self.score} trend over the last {self.last} turns {self.comparison}"


COUNTER_LABELS = {
    "message_count": "message count",
    "failed_attempts": "failed attempts",
    "fallbacks": "fallbacks",
    "rephrasings": "rephrasings",
}


@dataclass(frozen=True, slots=True)
class CountCondition(Condition):
    """A number of turns: messages, failed attempts (fallback or rephrasing), fallbacks, or
    rephrasings; over the whole conversation or the last `within_last` turns."""

    counter: str
    comparison: Comparison
    within_last: int | None = None
    consecutive: bool = False
    line: int = 0
    key: tuple = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        key = ("count", self.counter, self.within_last, self.consecutive)
        object.__setattr__(self, "key", key)

    def holds(self, facts: ConversationFacts) -> bool:
        comparison = self.comparison
        value = facts.known.get(self.key, MISSING)
        if value is MISSING:
            value = facts.count(self.counter, self.within_last, self.consecutive)
        return comparison.fn(value, comparison.threshold)

    def explain(self, facts: ConversationFacts) -> str:
        value = facts.count(self.counter, self.within_last, self.consecutive)
        text = f"{self._label()} {value} {self.comparison}"
        if self.counter == "failed_attempts":
            fallbacks = facts.count("fallbacks", self.within_last, self.consecutive)
            text += f" ({fallbacks} fallbacks, {value - fallbacks} repeated questions)"
        return text

    def _label(self) -> str:
        label = COUNTER_LABELS[self.counter]
        if self.consecutive:
            label = f"consecutive {label}"
        if self.within_last is not None:
            label = f"{label} in the last {self.within_last} turns"
        return label

    def describe(self) -> str:
        return f"{self._label()} {self.comparison}"


def _recent(facts: ConversationFacts, within_last: int) -> range:
    """Indexes of the last `within_last` turns, newest first."""
    size = len(facts.turns)
    return range(size - 1, max(-1, size - 1 - within_last), -1)


@dataclass(frozen=True, slots=True)
class IntentCondition(Condition):
    """The intent of the current turn (or of one of the last `within_last`) is one of `names`."""

    names: frozenset[str]
    min_confidence: float = 0.0
    within_last: int = 1
    line: int = 0

    def _find(self, facts: ConversationFacts) -> tuple[int, float] | None:
        turns = facts.turns
        for index in _recent(facts, self.within_last):
            turn = turns[index]
            if turn.intent in self.names and turn.intent_confidence >= self.min_confidence:
                return len(turns) - 1 - index, turn.intent_confidence
        return None

    def holds(self, facts: ConversationFacts) -> bool:
        if self.within_last == 1:  # the common case, without the search loop
            turn = facts.current
            return turn.intent in self.names and turn.intent_confidence >= self.min_confidence
        return self._find(facts) is not None

    def strength(self, facts: ConversationFacts) -> float:
        """The intent's confidence."""
        _, confidence = self._find(facts)  # type: ignore[misc]
        return min(1.0, max(0.0, confidence))

    def explain(self, facts: ConversationFacts) -> str:
        ago, _confidence = self._find(facts)  # type: ignore[misc]
        turn = facts.turns[len(facts.turns) - 1 - ago]
        return f"intent {turn.intent} ({turn.intent_confidence:.2f}){_ago(ago)}"

    def describe(self) -> str:
        return f"intent in [{', '.join(sorted(self.names))}]"


@dataclass(frozen=True, slots=True)
class EntityCondition(Condition):
    """An entity of one of `names` (optionally with one of `values`) in a recent turn."""

    names: frozenset[str]
    values: frozenset[str] | None = None
    within_last: int = 1
    line: int = 0

    def _find(self, facts: ConversationFacts) -> tuple[int, Any] | None:
        turns = facts.turns
        for index in _recent(facts, self.within_last):
            for entity in turns[index].entities:
                if entity.entity in self.names and (
                    self.values is None or str(entity.value).casefold() in self.values
                ):
                    return len(turns) - 1 - index, entity
        return None

    def holds(self, facts: ConversationFacts) -> bool:
        return self._find(facts) is not None

    def explain(self, facts: ConversationFacts) -> str:
        ago, entity = self._find(facts)  # type: ignore[misc]
        return f"entity {entity.entity}={entity.value!r}{_ago(ago)}"

    def describe(self) -> str:
        text = f"entity in [{', '.join(sorted(self.names))}]"
        if self.values is not None:
            text += f" with value in [{', '.join(sorted(self.values))}]"
        return text


@dataclass(frozen=True, slots=True)
class KeywordCondition(Condition):
    """One of the words or phrases, whole words, case and accent insensitive. `needles` are the
    folded phrases padded with spaces; a trailing `*` in the file makes the last word a prefix,
    which drops the trailing space (`refund*` matches "refunds", "refunded")."""

    phrases: tuple[str, ...]
    needles: tuple[str, ...]
    within_last: int = 1
    line: int = 0

    def _find(self, facts: ConversationFacts) -> tuple[int, str] | None:
        for index in _recent(facts, self.within_last):
            padded = facts.folded(index).padded
            for phrase, needle in zip(self.phrases, self.needles, strict=True):
                if needle in padded:
                    return len(facts.turns) - 1 - index, phrase
        return None

    def holds(self, facts: ConversationFacts) -> bool:
        if self.within_last == 1:  # the common case, without the search loop
            padded = facts.padded
            for needle in self.needles:  # noqa: SIM110 - a loop is faster than any(generator)
                if needle in padded:
                    return True
            return False
        return self._find(facts) is not None

    def explain(self, facts: ConversationFacts) -> str:
        ago, phrase = self._find(facts)  # type: ignore[misc]
        if not phrase.endswith("*"):
            return f'said "{phrase}"{_ago(ago)}'
        # Name the word actually written, which the prefix only stands for.
        prefix = self.needles[self.phrases.index(phrase)].strip().split()
        tokens = facts.folded(len(facts.turns) - 1 - ago).tokens
        said = phrase
        for start in range(len(tokens) - len(prefix) + 1):
            window = tokens[start : start + len(prefix)]
            if window[:-1] == tuple(prefix[:-1]) and window[-1].startswith(prefix[-1]):
                said = " ".join(window)
                break
        return f'said "{said}" (keyword {phrase}){_ago(ago)}'

    def describe(self) -> str:
        return "keywords [" + ", ".join(self.phrases) + "]"


def _cost(condition: Condition) -> int:
    """Rough relative cost of checking a condition, to order the children of `all`."""
    if isinstance(condition, ScoreCondition | IntentCondition):
        return 0
    if isinstance(condition, CountCondition | WindowCondition):
        return 1
    if isinstance(condition, KeywordCondition | EntityCondition):
        return 2
    if isinstance(condition, CustomCondition):
        return 9
    return 5


def _wrap(text: str, child: Condition) -> str:
    return f"({text})" if isinstance(child, AllOf | AnyOf) else text


@dataclass(frozen=True, slots=True)
class AllOf(Condition):
    """Every child holds; its strength is the weakest child's."""

    children: tuple[Condition, ...]
    line: int = 0
    # The children cheapest first, so a failing score test spares a keyword search.
    check_order: tuple[Condition, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.children, key=_cost))
        object.__setattr__(self, "check_order", ordered)

    def holds(self, facts: ConversationFacts) -> bool:
        # A plain loop: all() over a generator costs a microsecond per rule on the hot path.
        for child in self.check_order:  # noqa: SIM110
            if not child.holds(facts):
                return False
        return True

    def strength(self, facts: ConversationFacts) -> float:
        weakest = 1.0
        for child in self.children:
            weakest = min(weakest, child.strength(facts))
        return weakest

    def explain(self, facts: ConversationFacts) -> str:
        return " and ".join(_wrap(c.explain(facts), c) for c in self.children)

    def describe(self) -> str:
        return " and ".join(_wrap(c.describe(), c) for c in self.children)

    def walk(self) -> list[Condition]:
        return [self, *(n for c in self.children for n in c.walk())]


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """At least one child holds; its strength is the strongest holding child's."""

    children: tuple[Condition, ...]
    line: int = 0

    def holds(self, facts: ConversationFacts) -> bool:
        for child in self.children:  # noqa: SIM110 - see AllOf.holds
            if child.holds(facts):
                return True
        return False

    def strength(self, facts: ConversationFacts) -> float:
        strongest = 0.0
        for child in self.children:
            if child.holds(facts):
                strongest = max(strongest, child.strength(facts))
        return strongest

    def explain(self, facts: ConversationFacts) -> str:
        holding = [c for c in self.children if c.holds(facts)]
        if len(holding) == 1:
            return holding[0].explain(facts)
        return " and ".join(_wrap(c.explain(facts), c) for c in holding)

    def describe(self) -> str:
        return " or ".join(_wrap(c.describe(), c) for c in self.children)

    def walk(self) -> list[Condition]:
        return [self, *(n for c in self.children for n in c.walk())]


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """The child does not hold; there is no degree to an absence, so the strength is 1."""

    child: Condition
    line: int = 0

    def holds(self, facts: ConversationFacts) -> bool:
        return not self.child.holds(facts)

    def explain(self, facts: ConversationFacts) -> str:
        return f"not ({self.child.describe()})"

    def describe(self) -> str:
        return f"not ({self.child.describe()})"

    def walk(self) -> list[Condition]:
        return [self, *self.child.walk()]


@dataclass(frozen=True, slots=True)
class CustomCondition(Condition):
    """A designer's Python function, `module:function`, called with the ConversationView.

    It returns a bool, or a number compared with `comparison` (a number without a comparison
    holds when it is above 0). A hook that raises or returns anything else does not hold and is
    logged: a bug in one hook must not stop the bot from answering.
    """

    path: str
    function: Callable[[ConversationView], Any]
    comparison: Comparison | None = None
    line: int = 0

    def _value(self, facts: ConversationFacts) -> float | bool | None:
        """The hook's answer, asked once per evaluation however many rules use it."""
        key = ("custom", self.path)
        known = facts.known.get(key, MISSING)
        if known is not MISSING:
            return known
        value: float | bool | None
        try:
            value = self.function(facts.view)
        except Exception:
            logger.exception("Custom handoff condition %s raised; treating it as false", self.path)
            value = None
        if isinstance(value, bool):
            pass
        elif isinstance(value, int | float) and math.isfinite(value):
            value = float(value)
        elif value is not None:
            logger.warning(
                "Custom handoff condition %s returned %r, not a bool or a number", self.path, value
            )
            value = None
        facts.known[key] = value
        return value

    def holds(self, facts: ConversationFacts) -> bool:
        value = self._value(facts)
        if value is None or isinstance(value, bool):
            return bool(value)
        return self.comparison.holds(value) if self.comparison else value > 0

    def strength(self, facts: ConversationFacts) -> float:
        value = self._value(facts)
        return 1.0 if isinstance(value, bool) else min(1.0, max(0.0, value or 0.0))

    def explain(self, facts: ConversationFacts) -> str:
        value = self._value(facts)
        if isinstance(value, bool) or value is None:
            return f"{self.path} returned {value}"
        return f"{self.path} returned {value:g}" + (
            f" {self.comparison}" if self.comparison else ""
        )

    def describe(self) -> str:
        return f"custom {self.path}" + (f" {self.comparison}" if self.comparison else "")
