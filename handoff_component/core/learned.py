"""The learned scorers (`model: learned`, the default): frustration, sentiment, human request.

Three logistic regressions over the features of `features.py`, trained by
`scripts/train_scorers.py` on the data listed in `scripts/DATA_CARD.md` and shipped in the
package (`models/scorers.npz`: feature names, float16 weights, biases, thresholds). Loaded once;
scoring is a dictionary look-up per feature and a few dozen multiply-adds in plain Python
(numpy only to load the file).

Every score comes with the features that moved it, grouped so a designer can read them: a word
(its own weight plus its letter features), a pair of words, or a cue of the whole message. Each
signal's weight is its contribution to the model's log-odds, so for frustration and the phrase
part of human request

    score = 1 / (1 + exp(-(baseline + sum of the other signals)))

and for sentiment the signals are contributions to log-odds(positive) - log-odds(negative),
with the score P(positive) - P(negative).
"""

from __future__ import annotations

import functools
import json
import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handoff_component.core.features import (
    Features,
    cues_of,
    lexicon_cues,
    tokens_of,
    word_features,
)
from handoff_component.core.signals import Signal

__all__ = ["WEIGHTS_FILE", "LearnedResult", "LearnedScorers", "ModelFileError"]

WEIGHTS_FILE = Path(__file__).resolve().parent / "models" / "scorers.npz"
SHOWN_SIGNALS = 5
CALIBRATED_THRESHOLD = 0.7
_HEADS = ("frustration", "sentiment_neg", "sentiment_pos", "human")
_Sums = tuple[float, float, float, float]  # one contribution to each of the four heads
_ZERO: _Sums = (0.0, 0.0, 0.0, 0.0)


class ModelFileError(ValueError):
    """The weights file is missing or not one this code can read."""


@dataclass(frozen=True)
class LearnedResult:
    frustration: float
    sentiment: float
    human: float
    signals: Mapping[str, tuple[Signal, ...]]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class LearnedScorers:
    """Weights loaded once; `score()` is pure and safe to call from any thread."""

    def __init__(
        self,
        names: list[str],
        weights: np.ndarray,
        biases: np.ndarray,
        metadata: Mapping[str, Any],
        english_words: tuple[str, ...] = (),
    ) -> None:
        if weights.shape != (len(names), len(_HEADS)) or biases.shape != (len(_HEADS),):
            raise ModelFileError(
                f"weights of shape {weights.shape} do not match {len(names)} names"
            )
        self._index = {name: i for i, name in enumerate(names)}
        self._weights = weights.astype(np.float32)
        self._biases = biases.astype(np.float64)
        self.metadata = dict(metadata)
        self.thresholds: dict[str, float] = dict(self.metadata.get("thresholds", {}))
        self._words: dict[str, tuple[_Sums | None, int]] = {}
        self.english_words = english_words
        # Calibration: each chosen threshold (on the dev split, see scripts/train_scorers.py)
        # is moved to CALIBRATED_THRESHOLD by shifting that head's bias, so one number, 0.7,
        # means "the recommended threshold" for frustration and for human request alike.
        for head, name in ((0, "frustration"), (3, "human_request")):
            chosen = self.thresholds.get(name)
            if chosen is not None and 0 < chosen < 1:
                self._biases[head] += _logit(CALIBRATED_THRESHOLD) - _logit(chosen)
        # Inference reads one weight at a time: per-head columns of doubles (the float16
        # weights exactly) and the biases as Python floats, no numpy call per message.
        self._heads = tuple(array("d", self._weights[:, k].tolist()) for k in range(len(_HEADS)))
        self._bias_values: list[float] = self._biases.tolist()

    @classmethod
    @functools.lru_cache(maxsize=4)
    def load(cls, path: Path | str = WEIGHTS_FILE) -> LearnedScorers:
        """Read a weights file (cached: every scorer of a process shares one copy)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                names = [str(n) for n in data["names"]]
                weights, biases = data["weights"], data["biases"]
                metadata = json.loads(str(data["metadata"]))
                english = tuple(str(w) for w in data["english_words"]) if (
                    "english_words" in data.files) else ()  # fmt: skip
        except FileNotFoundError:
            raise ModelFileError(f"{path}: weights file not found (run `make models`)") from None
        except (OSError, KeyError, ValueError) as error:
            raise ModelFileError(f"{path}: not a scorer weights file ({error})") from None
        if metadata.get("heads") != list(_HEADS):
            raise ModelFileError(f"{path}: heads {metadata.get('heads')} are not {list(_HEADS)}")
        return cls(names, weights, biases, metadata, english)

    def score(self, text: str) -> LearnedResult:
        origins, grouped = self._grouped(text)
        biases = self._bias_values
        columns = _columns(grouped)
        logits = self._logits_of(columns)
        frustration = _sigmoid(logits[0])
        negative, positive = _sigmoid(logits[1]), _sigmoid(logits[2])
        human = _sigmoid(logits[3])
        net = [p - n for n, p in zip(columns[1], columns[2], strict=True)]
        signals = {
            "frustration": _explain(columns[0], biases[0], origins),
            "sentiment": _explain(net, biases[2] - biases[1], origins),
            "human_request": _explain(columns[3], biases[3], origins),
        }
        return LearnedResult(frustration, positive - negative, human, signals)

    def logits(self, text: str) -> np.ndarray:
        """The four outputs' log-odds (frustration, negative, positive, asks for a person)."""
        _, grouped = self._grouped(text)
        return np.array(self._logits_of(_columns(grouped)))

    def _logits_of(self, columns: list[tuple[float, ...]]) -> list[float]:
        """Each head's bias plus its contributions, summed in the groups' order."""
        return [bias + sum(column) for bias, column in zip(self._bias_values, columns, strict=True)]

    def reference_logits(self, features: Features) -> np.ndarray:
        """The same log-odds from `features_of`, feature by feature: what training saw. Slow;
        the tests check that the cached per-word path of `score()` gives the same numbers."""
        total = self._biases.copy()
        for name, value in zip(features.names, features.values, strict=True):
            row = self._index.get(name)
            if row is not None:
                total += value * self._weights[row].astype(np.float64)
        return total

    def _word_sums(self, token: str) -> tuple[_Sums | None, int]:
        """A word's known features' weights summed per head, and how many features it has
        (cached per word): every feature of a word has the same value in a message, so the
        word's contribution is this sum times that value."""
        cached = self._words.get(token)
        if cached is None:
            own = word_features(token)
            index, heads = self._index, self._heads
            rows = [index[n] for n in own if n in index]
            sums = (
                (
                    sum(heads[0][r] for r in rows),
                    sum(heads[1][r] for r in rows),
                    sum(heads[2][r] for r in rows),
                    sum(heads[3][r] for r in rows),
                )
                if rows
                else None
            )
            cached = (sums, len(own))
            if len(self._words) < 65536:
                self._words[token] = cached
        return cached

    def _row(self, row: int, value: float) -> _Sums:
        heads = self._heads
        return (
            heads[0][row] * value,
            heads[1][row] * value,
            heads[2][row] * value,
            heads[3][row] * value,
        )

    def _grouped(self, text: str) -> tuple[list[tuple[str, str]], list[_Sums]]:
        """The message's known features' contributions to each head, summed by the word, pair
        or cue they belong to, in the order those first appear. Same values as `features_of`
        (a word's and a pair's features weigh 1/sqrt(their count), a cue its strength),
        computed per word from a cache and in plain Python: a message has a few dozen active
        features, too few for numpy's per-call cost to pay off."""
        tokens = tokens_of(text)
        index = self._index
        group_of: dict[tuple[str, str], int] = {}
        scaled: list[tuple[int, _Sums]] = []  # (group, unscaled sums) of words and pairs
        count = 0
        previous = None
        seen: set[str] = set()
        for token in tokens:
            if token not in seen:
                seen.add(token)
                sums, size = self._word_sums(token)
                count += size
                if sums is not None:
                    group = group_of.setdefault(("word", token), len(group_of))
                    scaled.append((group, sums))
            if previous is not None:
                pair = f"{previous} {token}"
                if pair not in seen:
                    seen.add(pair)
                    count += 1
                    row = index.get(f"b|{pair}")
                    if row is not None:
                        group = group_of.setdefault(("phrase", pair), len(group_of))
                        scaled.append((group, self._row(row, 1.0)))
            previous = token
        grouped: list[_Sums] = [_ZERO] * len(group_of)
        if scaled:
            value = 1.0 / math.sqrt(count)
            for group, (a, b, c, d) in scaled:
                grouped[group] = (a * value, b * value, c * value, d * value)
        cues = [(cue, 1.0) for cue in cues_of(text, tokens)] + lexicon_cues(text)
        for cue, strength in cues:
            row = index.get(cue)
            if row is not None:
                group = group_of.setdefault(("cue", cue[2:]), len(group_of))
                added = self._row(row, strength)
                if group < len(grouped):
                    a, b, c, d = grouped[group]
                    grouped[group] = (a + added[0], b + added[1], c + added[2], d + added[3])
                else:
                    grouped.append(added)
        return list(group_of), grouped


def _columns(grouped: list[_Sums]) -> list[tuple[float, ...]]:
    """The groups' contributions as one column per head."""
    return list(zip(*grouped, strict=True)) if grouped else [() for _ in _HEADS]


def _explain(
    grouped: Sequence[float], baseline: float, origins: list[tuple[str, str]]
) -> tuple[Signal, ...]:
    """The strongest words, pairs and cues, then the model's baseline and the rest summed."""
    if not grouped:
        return (Signal("baseline", baseline, "the model's starting point"),)
    magnitude = [abs(weight) for weight in grouped]
    # Strongest first, ties in the order they appear (a reversed sort is still stable).
    order = sorted(range(len(grouped)), key=magnitude.__getitem__, reverse=True)[:SHOWN_SIGNALS]
    shown = []
    for i in order:
        weight = grouped[i]
        if abs(weight) < 0.05:
            break
        kind, word = origins[i]
        shown.append(Signal(kind, weight, word if kind == "cue" else repr(word)))
    signals = [*shown, Signal("baseline", baseline, "the model's starting point")]
    rest_count = len(grouped) - len(shown)
    if rest_count:
        rest = sum(grouped) - sum(s.weight for s in shown)
        signals.append(Signal("others", rest, f"{rest_count} weaker features"))
    return tuple(signals)
