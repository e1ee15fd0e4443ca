"""The customer-service layer of the lexicon sentiment model: what VADER misses in support chats.

"I've been waiting for 3 weeks" holds no sentiment word, "please help" reads as positive, a
shouted "WHERE IS MY ORDER" has no capitals *difference*. This layer adds named phrase rules (long
waits, repeated contact, money lost...; `lexicon/customer_service_phrases.tsv`), profanity,
shouting and repeated punctuation, each a `Signal` on VADER's valence scale. Weights, and how
each was chosen, are in docs/scoring.md and docs/scoring-tuning.md.

Every matcher here is linear in the message: the phrase rules run behind one trie scan
(`text.PhraseSet`), and runs of "?" and "!" are read in one pass (a regex with nested `[?!]*`
used to take 21 s on 40,000 "!").
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from handoff_component.core.lexicon import PhraseRule
from handoff_component.core.profanity import PROFANE_WORDS
from handoff_component.core.signals import Signal
from handoff_component.core.text import PhraseSet

__all__ = [
    "PROFANITY_WEIGHT",
    "REPEATED_PUNCTUATION_WEIGHT",
    "SHOUTING_WEIGHT",
    "CustomerServiceLayer",
    "repeated_punctuation",
]

PROFANITY_WEIGHT = -1.0
SHOUTING_WEIGHT = 0.8
REPEATED_PUNCTUATION_WEIGHT = -0.6
SHOUTING_MIN_UPPER_SHARE = 0.7

_PUNCT_RUN = re.compile(r"[?!]+")
_BUT_RE = re.compile(r"\bbut\b")


def repeated_punctuation(text: str) -> str | None:
    """The first run of "?"/"!" holding three "?" or a "?!" mix ("???", "?!", "!!?"), else None.

    `[?!]+` is matched once per run and never re-entered, so this is one pass over the text.
    """
    for run in _PUNCT_RUN.finditer(text):
        found = run.group()
        if found.count("?") >= 3 or "?!" in found or "!?" in found:
            return found
    return None


class CustomerServiceLayer:
    """Phrase rules compiled once; `signals()` adds this layer's signals for one message."""

    def __init__(self, phrase_rules: Sequence[PhraseRule], shouting_min_words: int = 3) -> None:
        self._phrase_rules = tuple(phrase_rules)
        self._phrases = PhraseSet((str(i), rule.pattern) for i, rule in enumerate(phrase_rules))
        self._shouting_min_words = shouting_min_words

    def phrase_signals(self, normalized: str, signals: list[Signal]) -> float:
        """Each matching phrase rule once, after VADER's "but" rule; returns their total."""
        but = _BUT_RE.search(normalized)
        added = 0.0
        for key, match in self._phrases.search_all(normalized).items():
            rule = self._phrase_rules[int(key)]
            weight, where = rule.weight, ""
            if but is not None and match.end() <= but.start():
                weight, where = weight * 0.5, " (before 'but' x0.5)"
            elif but is not None and match.start() >= but.end():
                weight, where = weight * 1.5, " (after 'but' x1.5)"
            signals.append(Signal(rule.name, weight, f"{match.group().strip()!r}{where}"))
            added += weight
        return added

    def signals(
        self,
        text: str,
        normalized: str,
        raw_tokens: list[str],
        lowers: list[str],
        lexicon_total: float,
        signals: list[Signal],
    ) -> float:
        """Phrase rules, profanity, shouting, repeated punctuation; returns their total weight.

        Phrases are matched on the customer's own words, normalized (emoji are not described).
        """
        added = self.phrase_signals(normalized, signals)
        total = lexicon_total + added
        if lexicon_total <= 0 and not PROFANE_WORDS.isdisjoint(lowers):
            profane = next(word for word in lowers if word in PROFANE_WORDS)
            masked = next((s.detail for s in signals if s.name == "masked_profanity"), None)
            signals.append(Signal("profanity", PROFANITY_WEIGHT, masked or repr(profane)))
            added += PROFANITY_WEIGHT
            total += PROFANITY_WEIGHT

        shouted = self.shouted_words(raw_tokens)
        if shouted:
            weight = SHOUTING_WEIGHT if total > 0 else -SHOUTING_WEIGHT
            signals.append(Signal("shouting", weight, " ".join(shouted[:6])))
            added += weight
            total += weight

        if total == 0:
            repeated = repeated_punctuation(text)
            if repeated is not None:
                detail = (
                    repeated if len(repeated) <= 12 else f"{repeated[:12]}... ({len(repeated)})"
                )
                signals.append(Signal("repeated_punctuation", REPEATED_PUNCTUATION_WEIGHT, detail))
                added += REPEATED_PUNCTUATION_WEIGHT
        return added

    def shouted_words(self, raw_tokens: list[str]) -> list[str]:
        """Words written in capitals when most of the message is: VADER only sees a *difference*."""
        if sum(1 for token in raw_tokens if token.isupper()) < self._shouting_min_words:
            return []
        words = [w for w in (t.strip(string.punctuation) for t in raw_tokens) if len(w) > 1]
        words = [w for w in words if any(ch.isalpha() for ch in w)]
        shouted = [w for w in words if w.isupper()]
        if len(shouted) < self._shouting_min_words:
            return []
        if len(shouted) < SHOUTING_MIN_UPPER_SHARE * len(words):
            return []
        return shouted
