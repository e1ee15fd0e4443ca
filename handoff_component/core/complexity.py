"""How much one turn asks of the bot, read from its structure.

A bot handles one request per turn well. Several questions, several requests, a long story with
conditions, many entities or two intents the classifier cannot separate are what a person handles
better. Each of those is a signal with a weight; the score is their sum, capped to [0, 1]:

    complexity = min(1, sum(signal.weight for signal in signals))

The weights and their limits are documented in docs/scoring.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handoff_component.core.signals import ScoreResult, Signal
from handoff_component.core.text import normalize, trie_pattern

__all__ = ["ScoreResult", "score_complexity"]

SHORT_MESSAGE_TOKENS = 12
LENGTH_WEIGHT = 0.35
PER_EXTRA_QUESTION = 0.15
PER_EXTRA_REQUEST = 0.15
MAX_QUESTIONS_OR_REQUESTS = 0.3
TOPIC_SHIFT_WEIGHT = 0.15
PER_CONDITION = 0.1
MAX_CONDITIONS = 0.2
PER_EXTRA_ENTITY = 0.1
MAX_ENTITIES = 0.3
PER_CLOSE_INTENT = 0.2
MAX_CLOSE_INTENTS = 0.4
PER_EXTRA_SENTENCE = 0.05
MAX_SENTENCES = 0.15

# Words of any script (Arabic, Hebrew and Cyrillic words count towards length too).
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")
_QUESTION = re.compile(r"\?+")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
# Matched on the message's words joined by single spaces, padded: " can you ".
REQUEST_PHRASES = (
    "can you",
    "could you",
    "would you",
    "will you",
    "can i",
    "could i",
    "may i",
    "how do i",
    "how can i",
    "how to",
    "i want",
    "i wanna",
    "i need",
    "i'd like",
    "i would like",
    "i'm looking for",
    "help me",
    "tell me",
    "show me",
    "please",
    "pls",
    "is it possible",
    "is there a way",
    "i have to",
    "let me",
)
TOPIC_SHIFT_PHRASES = (
    "also",
    "another thing",
    "one more thing",
    "as well as",
    "in addition",
    "additionally",
    "second question",
    "another question",
    "on top of that",
    "besides that",
    "and then",
)
CONDITION_WORDS = frozenset(
    (
        "but",
        "unless",
        "except",
        "although",
        "though",
        "however",
        "otherwise",
        "if",
        "whether",
        "instead",
    )
)
_REQUESTS = re.compile(f"(?<= )(?:{trie_pattern(REQUEST_PHRASES)})(?= )")
_TOPIC_SHIFTS = re.compile(f"(?<= )(?:{trie_pattern(TOPIC_SHIFT_PHRASES)})(?= )")


def score_complexity(
    text: str,
    intent_ranking: Sequence[dict] | None = None,
    entities: Sequence[dict] | None = None,
    *,
    ambiguity_margin: float = 0.1,
    long_message_tokens: int = 40,
) -> ScoreResult:
    """Structure of the message, its entities and, when known, how close its intents are.

    `intent_ranking` is best first with float confidences, as `scoring.clean_ranking` returns it.
    """
    normalized = normalize(text)
    words = _TOKEN.findall(normalized)
    spaced = f" {' '.join(words)} "
    signals: list[Signal] = []
    _length(len(words), long_message_tokens, signals)
    _counted("questions", len(_QUESTION.findall(normalized)), PER_EXTRA_QUESTION, signals)
    requests = _REQUESTS.findall(spaced)
    _counted("requests", len(requests), PER_EXTRA_REQUEST, signals, requests)
    shift = _TOPIC_SHIFTS.search(spaced)
    if shift is not None:
        signals.append(Signal("topic_shift", TOPIC_SHIFT_WEIGHT, repr(shift.group())))
    conditions = [word for word in words if word in CONDITION_WORDS]
    if conditions:
        weight = min(MAX_CONDITIONS, PER_CONDITION * len(conditions))
        signals.append(Signal("conditions", weight, ", ".join(conditions[:5])))
    sentences = len(_SENTENCE_END.findall(normalized + " "))
    if sentences > 2:
        weight = min(MAX_SENTENCES, PER_EXTRA_SENTENCE * (sentences - 2))
        signals.append(Signal("sentences", weight, f"{sentences} sentences"))
    _entities(entities, signals)
    if intent_ranking is None:
        signals.append(Signal("no_intent_ranking", 0.0, "text only: intent closeness unknown"))
    else:
        _close_intents(intent_ranking, ambiguity_margin, signals)
    total = sum(signal.weight for signal in signals)
    return ScoreResult(min(1.0, max(0.0, total)), tuple(signals))


def _length(tokens: int, long_message_tokens: int, signals: list[Signal]) -> None:
    if tokens <= SHORT_MESSAGE_TOKENS:
        return
    span = max(1, long_message_tokens - SHORT_MESSAGE_TOKENS)
    share = min(1.0, (tokens - SHORT_MESSAGE_TOKENS) / span)
    signals.append(Signal("length", LENGTH_WEIGHT * share, f"{tokens} words"))


def _counted(
    name: str, count: int, per_extra: float, signals: list[Signal], examples: Sequence[str] = ()
) -> None:
    """One question or request is the normal case; each one beyond the first adds weight."""
    if count < 2:
        return
    weight = min(MAX_QUESTIONS_OR_REQUESTS, per_extra * (count - 1))
    detail = f"{count} {name}"
    if examples:
        detail += ": " + ", ".join(repr(e) for e in examples[:4])
    signals.append(Signal(name, weight, detail))


def _entities(entities: Sequence[dict] | None, signals: list[Signal]) -> None:
    if not entities:
        return
    distinct = {
        (str(e.get("entity")), str(e.get("value"))) for e in entities if isinstance(e, dict)
    }
    if len(distinct) < 2:
        return
    weight = min(MAX_ENTITIES, PER_EXTRA_ENTITY * (len(distinct) - 1))
    names = sorted({entity for entity, _ in distinct})
    signals.append(Signal("entities", weight, f"{len(distinct)} entities: {', '.join(names)}"))


def _close_intents(ranking: Sequence[dict], margin: float, signals: list[Signal]) -> None:
    """Intents within `margin` of the top one: the turn may be about several things at once."""
    if not ranking:
        return
    top_name, top = ranking[0]["name"], ranking[0]["confidence"]
    close = [
        item
        for item in ranking[1:]
        if top - item["confidence"] <= margin and item["confidence"] > 0.0
    ]
    if not close:
        return
    weight = min(MAX_CLOSE_INTENTS, PER_CLOSE_INTENT * len(close))
    detail = f"{top_name} {top:.2f} vs " + ", ".join(
        f"{item['name']} {item['confidence']:.2f}" for item in close[:3]
    )
    signals.append(Signal("close_intents", weight, detail))
