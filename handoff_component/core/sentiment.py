"""The lexicon sentiment model (`model: lexicon`): VADER plus the customer-service layer.

VADER (`vader.py`) rates words; `profanity.py` reads masked swear words first; the
customer-service layer (`customer_service.py`) adds phrase rules, profanity, shouting and repeated
punctuation. Every contribution is a `Signal` whose weight is its share of the valence sum, so the
score can be explained term by term:

    score = s / sqrt(s * s + 15),   s = sum(signal.weight for signal in signals)

With `customer_service=False` the model is plain VADER 3.3.2 (see `docs/scoring.md` for the one
deliberate difference, the "but" rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from handoff_component.core import vader
from handoff_component.core.customer_service import CustomerServiceLayer
from handoff_component.core.lexicon import (
    CUSTOMER_SERVICE_LEXICON,
    LexiconError,
    PhraseRule,
    read_emoji_lexicon,
    read_phrase_rules,
    read_vader_lexicon,
    read_valence_tsv,
)
from handoff_component.core.profanity import maybe_profane, read_masked
from handoff_component.core.signals import ScoreResult, Signal
from handoff_component.core.text import normalize, straighten_quotes

__all__ = ["ALPHA", "LexiconError", "ScoreResult", "SentimentModel"]

ALPHA = vader.ALPHA


class SentimentModel:
    """Lexicons loaded once; `score()` is pure and safe to call from any thread."""

    def __init__(
        self,
        lexicon: Mapping[str, float],
        emojis: Mapping[str, str],
        *,
        sources: Mapping[str, str] | None = None,
        phrase_rules: Sequence[PhraseRule] = (),
        customer_service: bool = True,
        shouting_min_words: int = 3,
    ) -> None:
        self._lexicon = dict(lexicon)
        self._emojis = dict(emojis)
        self._sources = dict(sources or {})
        # Emoji that a customer-service or extra entry rates in its own right, not by description.
        self._rated_emojis = frozenset(
            ch for ch in self._emojis if self._sources.get(ch, "lexicon") != "lexicon"
        )
        self._layer = CustomerServiceLayer(phrase_rules, shouting_min_words)
        self._customer_service = customer_service

    @classmethod
    def load(
        cls,
        extra_lexicon_files: Iterable[str | Path] = (),
        *,
        customer_service: bool = True,
        shouting_min_words: int = 3,
    ) -> SentimentModel:
        """VADER's lexicon, then this project's customer-service entries, then the caller's files.

        Later files override earlier entries; a multi-word entry in an extra file becomes a phrase
        rule. Raises `LexiconError` naming the file and line of a bad entry.
        """
        lexicon = read_vader_lexicon()
        sources = dict.fromkeys(lexicon, "lexicon")
        phrase_rules: list[PhraseRule] = []
        layers: list[tuple[Path, str]] = []
        if customer_service:
            layers.append((CUSTOMER_SERVICE_LEXICON, "cs_lexicon"))
            phrase_rules.extend(read_phrase_rules())
        layers.extend((Path(path), "extra_lexicon") for path in extra_lexicon_files)
        for path, source in layers:
            for token, valence in read_valence_tsv(path).items():
                if " " in token:
                    pattern = r"\b" + re.escape(normalize(token)) + r"\b"
                    phrase_rules.append(PhraseRule(source, valence, pattern, path.name))
                else:
                    lexicon[token] = valence
                    sources[token] = source
        return cls(
            lexicon,
            read_emoji_lexicon(),
            sources=sources,
            phrase_rules=phrase_rules,
            customer_service=customer_service,
            shouting_min_words=shouting_min_words,
        )

    def score(self, text: str) -> ScoreResult:
        original = text
        text = self._describe_emojis(text).strip()
        if self._customer_service:
            text = straighten_quotes(text)
        raw_tokens = text.split()
        signals: list[Signal] = []
        if self._customer_service and maybe_profane(text):
            tokens = read_masked(raw_tokens, signals, vader.strip_punc_if_word)
        else:
            tokens = [vader.strip_punc_if_word(token) for token in raw_tokens]
        lowers = [token.lower() for token in tokens]
        valences, notes = vader.token_valences(tokens, lowers, self._lexicon)
        vader.rescale_around_but(lowers, valences, notes)

        for i, valence in enumerate(valences):
            if valence:
                name = self._sources.get(lowers[i], "lexicon")
                signals.append(Signal(name, valence, vader.explain(tokens[i], notes[i])))
        total = sum(valences)
        if self._customer_service:
            total += self._layer.signals(
                text, normalize(original), raw_tokens, lowers, total, signals
            )

        emphasis = vader.punctuation_emphasis(text)
        if emphasis and total:
            weight = emphasis if total > 0 else -emphasis
            signals.append(Signal("punctuation_emphasis", weight, vader.emphasis_detail(text)))
            total += weight
        return ScoreResult(vader.normalize_score(total) if signals else 0.0, tuple(signals))

    def _describe_emojis(self, text: str) -> str:
        """VADER scores an emoji through the words of its description ("pouting face")."""
        if text.isascii():
            return text
        parts: list[str] = []
        prev_space = True
        for ch in text:
            description = self._emojis.get(ch)
            if ch in self._rated_emojis:
                description = ch
            if description is None:
                parts.append(ch)
                prev_space = ch == " "
            else:
                if not prev_space:
                    parts.append(" ")
                parts.append(description)
                prev_space = False
        return "".join(parts)
