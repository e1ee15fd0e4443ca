"""The per-turn scores, put together: what the Rasa component, the CLI and the policy share.

`TurnScorer` is built once from `ScoringOptions` (lexicons are read then) and scores one message
at a time without I/O. `TurnScores.to_dict()` is the `handoff` object that the component adds to
the parse data under `SCORE_KEY`, and that the policy, the summary and the service read back.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from handoff_component.contract.domain import DEFAULT_HUMAN_REQUEST_INTENTS
from handoff_component.contract.scores import SCORE_KEY, SCORE_NAMES
from handoff_component.core.complexity import SHORT_MESSAGE_TOKENS, score_complexity
from handoff_component.core.features import has_words
from handoff_component.core.frustration import lexicon_frustration
from handoff_component.core.human_request import HumanRequestModel
from handoff_component.core.language import LanguageGuess, LanguageGuesser
from handoff_component.core.learned import LearnedScorers, ModelFileError
from handoff_component.core.lexicon import LexiconError
from handoff_component.core.sentiment import SentimentModel
from handoff_component.core.signals import Signal
from handoff_component.core.uncertainty import score_uncertainty

__all__ = [
    "SCORE_KEY",
    "SUPPORTED_LANGUAGES",
    "OptionError",
    "ScoringOptions",
    "Signal",
    "TurnScorer",
    "TurnScores",
    "clean_ranking",
    "scored_part",
]

SUPPORTED_LANGUAGES = ("en",)
SCORING_MODELS = ("learned", "lexicon")
# Languages whose requests for a person the learned model was trained on, besides English.
HUMAN_REQUEST_LANGUAGES = ("es", "pt", "de", "fr")
# The work per message is capped: a longer message is scored on its first HEAD and last TAIL
# characters (where customers put what they want and how they feel), joined by a line break.
# Every scorer is linear below the cap, so no message costs more than a 4,000-character one.
HEAD_CHARACTERS = 3000
TAIL_CHARACTERS = 1000
MAX_SCORED_CHARACTERS = HEAD_CHARACTERS + TAIL_CHARACTERS
NO_WORDS = "no word of two or more letters: not judged"
# Signals kept per score in the parse data (the rest are summed into one `others` signal).
MAX_SIGNALS = 12


class OptionError(ValueError):
    """A scoring option with a bad value; `option` names it so adapters can report it."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(f"option '{option}': {message}")


@dataclass(frozen=True)
class ScoringOptions:
    """Everything that changes how turns are scored; validated when built."""

    language: str = "en"
    model: str = "learned"
    extra_lexicon_files: tuple[str, ...] = ()
    customer_service_rules: bool = True
    human_request_intents: tuple[str, ...] = DEFAULT_HUMAN_REQUEST_INTENTS
    fallback_intent: str = "nlu_fallback"
    ambiguity_margin: float = 0.1
    long_message_tokens: int = 40
    shouting_min_words: int = 3

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED_LANGUAGES:
            raise OptionError(
                "language",
                f"only {', '.join(SUPPORTED_LANGUAGES)} is supported, got {self.language!r}",
            )
        if self.model not in SCORING_MODELS:
            raise OptionError(
                "model", f"must be one of {', '.join(SCORING_MODELS)}, got {self.model!r}"
            )
        _check_strings("extra_lexicon_files", self.extra_lexicon_files)
        if self.model == "learned" and self.extra_lexicon_files:
            raise OptionError(
                "extra_lexicon_files",
                "extra lexicons change the lexicon model only: set model: lexicon to use them",
            )
        if self.model == "learned" and not self.customer_service_rules:
            raise OptionError(
                "customer_service_rules",
                "plain VADER is a lexicon model: set model: lexicon with this option",
            )
        _check_strings("human_request_intents", self.human_request_intents)
        if not isinstance(self.customer_service_rules, bool):
            raise OptionError("customer_service_rules", "must be true or false")
        if not isinstance(self.fallback_intent, str) or not self.fallback_intent:
            raise OptionError("fallback_intent", "must be an intent name")
        _check_number("ambiguity_margin", self.ambiguity_margin, 0.0, 1.0, integer=False)
        _check_number(
            "long_message_tokens",
            self.long_message_tokens,
            SHORT_MESSAGE_TOKENS + 1,
            10_000,
            integer=True,
        )
        _check_number("shouting_min_words", self.shouting_min_words, 1, 100, integer=True)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ScoringOptions:
        """From a `config.yml` entry: lists become tuples, an unknown key is an error."""
        known = {f.name for f in fields(cls)}
        for key in config:
            if key not in known:
                hint = difflib.get_close_matches(str(key), sorted(known), n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise OptionError(str(key), f"unknown option{suggestion}")
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key in ("extra_lexicon_files", "human_request_intents"):
                if value is None:
                    value = ()
                elif isinstance(value, str):
                    value = (value,)
                elif isinstance(value, (list, tuple)):
                    value = tuple(value)
                else:
                    raise OptionError(key, "must be a list of strings")
            values[key] = value
        return cls(**values)

    def as_config(self) -> dict[str, Any]:
        """The options as plain YAML-friendly values (lists, not tuples)."""
        return {
            f.name: list(value) if isinstance(value := getattr(self, f.name), tuple) else value
            for f in fields(self)
        }


def _check_strings(option: str, values: Any) -> None:
    if not isinstance(values, tuple) or not all(isinstance(v, str) and v for v in values):
        raise OptionError(option, "must be a list of non-empty strings")


def _check_number(option: str, value: Any, low: float, high: float, *, integer: bool) -> None:
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise OptionError(option, f"must be {kind}, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise OptionError(option, f"must be {kind} between {low} and {high}, got {value!r}")


@dataclass(frozen=True)
class TurnScores:
    """Scores of one user turn and the signals behind each one.

    A score the scorer could not judge (a language its models do not cover) is None: it is
    left out of the parse data, so rules treat it as unknown rather than as a calm 0.
    """

    sentiment: float | None
    complexity: float
    uncertainty: float
    human_request: float | None
    frustration: float | None = None
    signals: dict[str, list[Signal]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data: dict[str, Any] = {}
        for name in SCORE_NAMES:
            value = getattr(self, name)
            if value is not None:
                data[name] = round(value, 4)
        data["signals"] = {
            name: [signal.to_dict() for signal in bounded_signals(self.signals.get(name, []))]
            for name in SCORE_NAMES
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TurnScores:
        """Back from the parse data or an event; missing complexity and uncertainty read as 0,
        a missing sentiment, frustration or human request as unknown (None)."""
        raw_signals = data.get("signals") or {}

        def known(name: str) -> float | None:
            value = data.get(name)
            return None if value is None else float(value)

        return cls(
            sentiment=known("sentiment"),
            complexity=float(data.get("complexity", 0.0)),
            uncertainty=float(data.get("uncertainty", 0.0)),
            human_request=known("human_request"),
            frustration=known("frustration"),
            signals={
                name: [
                    Signal(
                        str(s.get("name", "")),
                        float(s.get("weight", 0.0)),
                        str(s.get("detail", "")),
                    )
                    for s in raw_signals.get(name, [])
                ]
                for name in SCORE_NAMES
            },
        )


def bounded_signals(signals: Sequence[Signal]) -> list[Signal]:
    """At most MAX_SIGNALS, so the parse data of a long message stays small.

    The strongest keep their place; the rest become one `others` signal carrying their summed
    weight, so the signals still add up to the score's raw sum.
    """
    if len(signals) <= MAX_SIGNALS:
        return list(signals)
    ranked = sorted(range(len(signals)), key=lambda i: abs(signals[i].weight), reverse=True)
    keep = set(ranked[: MAX_SIGNALS - 1])
    rest = [signals[i] for i in range(len(signals)) if i not in keep]
    kept = [signals[i] for i in sorted(keep)]
    return [*kept, Signal("others", sum(s.weight for s in rest), f"{len(rest)} more signals")]


def clean_ranking(
    intent_ranking: Sequence[Mapping[str, Any]] | None, fallback_intent: str
) -> tuple[list[dict] | None, bool]:
    """Rasa's ranking, best first, confidences as floats in [0, 1], without the fallback intent.

    Returns the cleaned ranking (None stays None: no NLU information) and whether the fallback
    intent was in it at the top.
    """
    if intent_ranking is None:
        return None, False
    cleaned: list[dict] = []
    fell_back = False
    for position, item in enumerate(intent_ranking):
        if not isinstance(item, Mapping) or not item.get("name"):
            continue
        if item["name"] == fallback_intent:
            fell_back = fell_back or position == 0
            continue
        try:
            confidence = float(item.get("confidence") or 0.0)
        except (TypeError, ValueError):
            confidence = 0.0
        if not math.isfinite(confidence):
            confidence = 0.0
        cleaned.append({"name": str(item["name"]), "confidence": min(1.0, max(0.0, confidence))})
    cleaned.sort(key=lambda item: item["confidence"], reverse=True)
    return cleaned, fell_back


class TurnScorer:
    """Scores user turns; build once (it reads the weights or lexicons), then `score()` each."""

    def __init__(self, options: ScoringOptions | None = None) -> None:
        self.options = options or ScoringOptions()
        self._human = HumanRequestModel(
            self.options.human_request_intents, self.options.ambiguity_margin
        )
        self._learned: LearnedScorers | None = None
        self._sentiment: SentimentModel | None = None
        english: tuple[str, ...] = ()
        try:
            self._learned = LearnedScorers.load()
            english = self._learned.english_words
        except ModelFileError as error:
            if self.options.model == "learned":
                raise OptionError("model", str(error)) from error
        if self.options.model == "learned":
            self._learned_only = True
        else:
            self._learned_only = False
            try:
                self._sentiment = SentimentModel.load(
                    self.options.extra_lexicon_files,
                    customer_service=self.options.customer_service_rules,
                    shouting_min_words=self.options.shouting_min_words,
                )
            except LexiconError as error:
                raise OptionError("extra_lexicon_files", str(error)) from error
        self._languages = LanguageGuesser(english)

    def score(
        self,
        text: str,
        intent_ranking: list[dict] | None = None,
        entities: list[dict] | None = None,
        fallback: bool = False,
    ) -> TurnScores:
        """`intent_ranking` in Rasa's shape (`{"name", "confidence"}`); None means text only."""
        text = text if isinstance(text, str) else ""
        full_length = len(text)
        text = scored_part(text)
        ranking, fell_back = clean_ranking(intent_ranking, self.options.fallback_intent)
        fallback = fallback or fell_back
        complexity = score_complexity(
            text,
            ranking,
            entities,
            ambiguity_margin=self.options.ambiguity_margin,
            long_message_tokens=self.options.long_message_tokens,
        )
        uncertainty = score_uncertainty(text, ranking, fallback)
        signals: dict[str, list[Signal]] = {
            "complexity": list(complexity.signals),
            "uncertainty": list(uncertainty.signals),
        }
        language = self._languages.guess(text)
        feelings: tuple[float | None, float | None, float | None]
        if language.code == "en":
            feelings = self._feelings(text, ranking, signals)
        else:
            feelings = self._unsupported(text, ranking, language, signals)
        if full_length > MAX_SCORED_CHARACTERS:
            cut = Signal(
                "truncated",
                0.0,
                f"scored the first {HEAD_CHARACTERS} and last {TAIL_CHARACTERS} of "
                f"{full_length} characters",
            )
            for found in signals.values():
                found.append(cut)
        return TurnScores(
            sentiment=feelings[0],
            complexity=complexity.score,
            uncertainty=uncertainty.score,
            human_request=feelings[2],
            frustration=feelings[1],
            signals=signals,
        )

    def _feelings(
        self, text: str, ranking: list[dict] | None, signals: dict[str, list[Signal]]
    ) -> tuple[float, float, float]:
        """Sentiment, frustration and human request of an English message."""
        intent_signals: list[Signal] = []
        intent = self._human.intent_strength(ranking, intent_signals)
        if self._learned_only:
            assert self._learned is not None
            learned = self._learned.score(text)
            phrase = learned.human
            signals["sentiment"] = list(learned.signals["sentiment"])
            signals["frustration"] = list(learned.signals["frustration"])
            signals["human_request"] = [*intent_signals, *learned.signals["human_request"]]
            sentiment, frustration = learned.sentiment, learned.frustration
        else:
            assert self._sentiment is not None
            lexical = self._sentiment.score(text)
            angry = lexicon_frustration(lexical.signals)
            phrase_signals: list[Signal] = []
            phrase = self._human.phrase_strength(text, phrase_signals)
            signals["sentiment"] = list(lexical.signals)
            signals["frustration"] = list(angry.signals)
            signals["human_request"] = [*intent_signals, *phrase_signals]
            sentiment, frustration = lexical.score, angry.score
        if not has_words(text):
            # Punctuation, digits, emoji or one letter: nothing to judge a customer's mood on.
            unjudged = Signal("no_words", 0.0, NO_WORDS)
            signals["frustration"] = [unjudged]
            frustration = 0.0
            if self._learned_only:  # the lexicon model keeps VADER's reading of emoji
                signals["sentiment"] = [unjudged]
                sentiment = 0.0
        human = min(1.0, max(0.0, 1.0 - (1.0 - intent) * (1.0 - phrase)))
        return sentiment, frustration, human

    def _unsupported(
        self,
        text: str,
        ranking: list[dict] | None,
        language: LanguageGuess,
        signals: dict[str, list[Signal]],
    ) -> tuple[None, None, float | None]:
        """A language the models cannot judge: sentiment and frustration are left unknown.

        A request for a person is still read where it can be: the learned model knows how it is
        asked in Spanish, Portuguese, German and French, and the bot's own intent counts in any
        language (it comes from the bot's NLU, not from these models).
        """
        detail = f"{language.code} ({language.name}; {language.evidence})"
        unsupported = Signal("language_unsupported", 0.0, detail)
        signals["sentiment"] = [unsupported]
        signals["frustration"] = [unsupported]
        intent_signals: list[Signal] = []
        intent = self._human.intent_strength(ranking, intent_signals)
        if self._learned_only and language.code in HUMAN_REQUEST_LANGUAGES:
            assert self._learned is not None
            learned = self._learned.score(text)
            signals["human_request"] = [
                Signal("language", 0.0, detail),
                *intent_signals,
                *learned.signals["human_request"],
            ]
            return None, None, 1.0 - (1.0 - intent) * (1.0 - learned.human)
        signals["human_request"] = [unsupported, *intent_signals]
        if ranking is None:
            return None, None, None
        return None, None, intent


def scored_part(text: str) -> str:
    """The part of a message that is scored: all of it up to the cap, else its head and tail."""
    if len(text) <= MAX_SCORED_CHARACTERS:
        return text
    return f"{text[:HEAD_CHARACTERS]}\n{text[-TAIL_CHARACTERS:]}"
