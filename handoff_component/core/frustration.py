"""The lexicon frustration model (`model: lexicon`): how upset the customer is with the service.

Frustration is not negative sentiment: "my card hasn't arrived, what can I do?" describes a
problem calmly (negative topic, low frustration); "third time I ask, this is a joke" is upset.
This model reads the lexicon sentiment model's signals and keeps only those that express anger
at the service rather than describe a problem: exasperation, threats to leave or complain, blame
of the bot, repeated contact, being ignored, swearing, shouting, "???", and
strongly negative words (valence -1.8 or lower: "useless", "worst", "hate"). Problem descriptions
(`long_wait`, `not_received`, `not_working`, `charged_wrongly`, `broken_promise`, ...) do not
count.

    frustration = s / (s + 2.5),   s = sum of the frustration signals' weights (each >= 0)

The learned model (`learned.py`) is the default; this one stays for designers who want every
weight to come from a rule they can read.
"""

from __future__ import annotations

from collections.abc import Iterable

from handoff_component.core.signals import ScoreResult, Signal

__all__ = ["ANGER_SIGNALS", "ScoreResult", "lexicon_frustration"]

# Customer-service signals that express anger at the service, not a description of a problem.
ANGER_SIGNALS = frozenset(
    [
        "exasperation",
        "escalation_threat",
        "bot_frustration",
        "sarcasm",
        "repeated_contact",
        "no_response",
        "profanity",
        "shouting",
        "repeated_punctuation",
    ]
)
STRONG_WORD_VALENCE = -1.8
HALF_SCORE_AT = 2.5
_WORD_SOURCES = frozenset(["lexicon", "cs_lexicon", "extra_lexicon"])


def lexicon_frustration(sentiment_signals: Iterable[Signal]) -> ScoreResult:
    """Frustration from the lexicon sentiment model's signals of the same message."""
    signals: list[Signal] = []
    for signal in sentiment_signals:
        if signal.name in ANGER_SIGNALS and signal.weight < 0:
            signals.append(Signal(signal.name, -signal.weight, signal.detail))
        elif signal.name in _WORD_SOURCES and signal.weight <= STRONG_WORD_VALENCE:
            signals.append(Signal("strong_word", -signal.weight - 1.0, signal.detail))
        elif signal.name == "punctuation_emphasis" and signal.weight < 0 and signals:
            signals.append(Signal(signal.name, -signal.weight, signal.detail))
    total = sum(signal.weight for signal in signals)
    return ScoreResult(total / (total + HALF_SCORE_AT), tuple(signals))
