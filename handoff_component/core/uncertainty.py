"""How unsure the bot is about what the customer meant.

The NLU already knows: a low top confidence, a top intent barely ahead of the next one, and the
FallbackClassifier giving up. Without a ranking (the command line without a model, or a pipeline
with no classifier) only what text can show is used, and the signals say so:

    uncertainty = min(1, 0.6 * (1 - top) + 0.4 * (1 - (top - second)) + fallback + text cues)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handoff_component.core.signals import ScoreResult, Signal
from handoff_component.core.text import PhraseSet, normalize

__all__ = ["ScoreResult", "score_uncertainty"]

LOW_CONFIDENCE_WEIGHT = 0.6
SMALL_MARGIN_WEIGHT = 0.4
FALLBACK_WEIGHT = 0.5
NO_WORDS_WEIGHT = 0.5
GIBBERISH_WEIGHT = 0.4
CONFUSED_WEIGHT = 0.3

# Letters of any script: "مرحبا" and "שלום" are words, not "no words".
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[a-z]+")
# Six consonants in a row, or a run of neighbouring keys: "sdfghj", "qwerty", "xzcvb".
_MASHED = re.compile(r"[b-df-hj-np-tv-xz]{6}|qwert|asdf|zxcv|hjkl|uiop|sdfg|dfgh|fghj|ghjk")
_CONFUSED = PhraseSet(
    [
        (
            "confused",
            r"\bi don't understand|\bi dont understand|\bi do not understand|\bwhat do you mean"
            r"|\bmakes no sense|\bdoesn't make (?:any )?sense|\bdoes not make sense|\bi'm confused"
            r"|\bim confused|\bi am confused|\bnot sure what you mean|\bwhat are you talking about"
            r"|^(?:huh|what|wut|eh|hm+)\s*\?*$",
        )
    ]
)


def score_uncertainty(
    text: str, intent_ranking: Sequence[dict] | None = None, fallback: bool = False
) -> ScoreResult:
    """`intent_ranking` as `scoring.clean_ranking` returns it (best first, float confidences, no
    fallback intent); `fallback` when the NLU gave up on the turn."""
    signals: list[Signal] = []
    if intent_ranking is None:
        signals.append(Signal("no_intent_ranking", 0.0, "text only: NLU confidence unknown"))
    elif intent_ranking:
        top = intent_ranking[0]["confidence"]
        second = intent_ranking[1]["confidence"] if len(intent_ranking) > 1 else 0.0
        name = intent_ranking[0].get("name")
        low = LOW_CONFIDENCE_WEIGHT * (1.0 - top)
        if low > 0:
            signals.append(Signal("low_confidence", low, f"{name} at {top:.2f}"))
        small = SMALL_MARGIN_WEIGHT * (1.0 - max(0.0, top - second))
        if small > 0:
            runner_up = intent_ranking[1].get("name") if len(intent_ranking) > 1 else "none"
            signals.append(
                Signal("small_margin", small, f"{name} {top:.2f} vs {runner_up} {second:.2f}")
            )
    if fallback:
        signals.append(Signal("nlu_fallback", FALLBACK_WEIGHT, "the fallback classifier gave up"))
    _text_cues(normalize(text), signals)
    total = sum(signal.weight for signal in signals)
    return ScoreResult(min(1.0, max(0.0, total)), tuple(signals))


def _text_cues(normalized: str, signals: list[Signal]) -> None:
    if not _LETTER.search(normalized):
        signals.append(Signal("no_words", NO_WORDS_WEIGHT, repr(normalized[:40])))
        return
    mashed = []
    if _MASHED.search(normalized):
        words = _WORD.findall(normalized)
        mashed = [word for word in words if _MASHED.search(word)]
    if mashed and len(mashed) * 2 >= len(words):
        signals.append(Signal("gibberish", GIBBERISH_WEIGHT, ", ".join(mashed[:4])))
    confused = _CONFUSED.search_all(normalized).get("confused")
    if confused is not None:
        signals.append(Signal("customer_confused", CONFUSED_WEIGHT, repr(confused.group())))
