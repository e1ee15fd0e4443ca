"""The learned scorers (`model: learned`, the default): frustration, sentiment, human request.

Three logistic regressions over the features of `features.py`, trained by
`scripts/train_scorers.py` on the data listed in `scripts/DATA_CARD.md` and shipped in the
package (`models/scorers.npz`: feature names, float16 weights, biases, thresholds). Loaded once;
scoring is a dictionary look-up per feature and one small matrix product, in numpy only.

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
from collections.abc import Mapping
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
        self._words: dict[str, tuple[tuple[int, ...], int]] = {}
        self.english_words = english_words
        # Calibration: each chosen threshold (on the dev split, see scripts/train_scorers.py)
        # is moved to CALIBRATED_THRESHOLD by shifting that head's bias, so one number, 0.7,
        # means "the recommended threshold" for frustration and for human request alike.
        for head, name in ((0, "frustration"), (3, "human_request")):
            chosen = self.thresholds.get(name)
            if chosen is not None and 0 < chosen < 1:
                self._biases[head] += _logit(CALIBRATED_THRESHOLD) - _logit(chosen)

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
        rows, values, groups, origins = self._known(text)
        if rows:
            contributions = self._weights[rows] * np.asarray(values, dtype=np.float32)[:, None]
            logits = self._biases + contributions.sum(axis=0, dtype=np.float64)
            # One row per word, pair or cue: the sum of its features' contributions.
            ids = np.asarray(groups)
            grouped: np.ndarray = np.stack(
                [np.bincount(ids, contributions[:, k], len(origins)) for k in range(len(_HEADS))],
                axis=1,
            )
        else:
            grouped = np.zeros((0, len(_HEADS)))
            logits = self._biases.copy()
        frustration = _sigmoid(float(logits[0]))
        negative, positive = _sigmoid(float(logits[1])), _sigmoid(float(logits[2]))
        human = _sigmoid(float(logits[3]))
        biases = self._biases
        signals = {
            "frustration": _explain(grouped[:, 0], float(biases[0]), origins),
            "sentiment": _explain(
                grouped[:, 2] - grouped[:, 1], float(biases[2] - biases[1]), origins
            ),
            "human_request": _explain(grouped[:, 3], float(biases[3]), origins),
        }
        return LearnedResult(frustration, positive - negative, human, signals)

    def logits(self, text: str) -> np.ndarray:
        """The four outputs' log-odds (frustration, negative, positive, asks for a person)."""
        rows, values, _, _ = self._known(text)
        if not rows:
            return self._biases.copy()
        weighted = self._weights[rows] * np.asarray(values, dtype=np.float32)[:, None]
        return self._biases + weighted.sum(axis=0, dtype=np.float64)

    def reference_logits(self, features: Features) -> np.ndarray:
        """The same log-odds from `features_of`, feature by feature: what training saw. Slow;
        the tests check that the cached per-word path of `score()` gives the same numbers."""
        total = self._biases.copy()
        for name, value in zip(features.names, features.values, strict=True):
            row = self._index.get(name)
            if row is not None:
                total += value * self._weights[row].astype(np.float64)
        return total

    def _word_rows(self, token: str) -> tuple[tuple[int, ...], int]:
        """Rows of a word's known features and how many features it has (cached per word)."""
        cached = self._words.get(token)
        if cached is None:
            own = word_features(token)
            index = self._index
            cached = (tuple(index[n] for n in own if n in index), len(own))
            if len(self._words) < 65536:
                self._words[token] = cached
        return cached

    def _known(self, text: str) -> tuple[list[int], list[float], list[int], list[tuple[str, str]]]:
        """Rows of the message's known features, their values (as `features_of` defines them),
        and the group (word, pair, cue) each belongs to. Same sums as `features_of`, computed
        per word from a cache instead of per feature."""
        tokens = tokens_of(text)
        rows: list[int] = []
        groups: list[int] = []
        group_of: dict[tuple[str, str], int] = {}
        index = self._index
        count = 0
        previous = None
        seen: set[str] = set()
        for token in tokens:
            if token not in seen:
                seen.add(token)
                own, size = self._word_rows(token)
                count += size
                if own:
                    group = group_of.setdefault(("word", token), len(group_of))
                    rows.extend(own)
                    groups.extend([group] * len(own))
            if previous is not None:
                pair = f"{previous} {token}"
                if pair not in seen:
                    seen.add(pair)
                    count += 1
                    row = index.get(f"b|{pair}")
                    if row is not None:
                        rows.append(row)
                        groups.append(group_of.setdefault(("phrase", pair), len(group_of)))
            previous = token
        values = [1.0 / math.sqrt(count)] * len(rows) if count else []
        cues = [(cue, 1.0) for cue in cues_of(text, tokens)] + lexicon_cues(text)
        for cue, strength in cues:
            row = index.get(cue)
            if row is not None:
                rows.append(row)
                values.append(strength)
                groups.append(group_of.setdefault(("cue", cue[2:]), len(group_of)))
        return rows, values, groups, list(group_of)


def _explain(
    grouped: np.ndarray, baseline: float, origins: list[tuple[str, str]]
) -> tuple[Signal, ...]:
    """The strongest words, pairs and cues, then the model's baseline and the rest summed."""
    if not len(grouped):
        return (Signal("baseline", baseline, "the model's starting point"),)
    order = np.argsort(-np.abs(grouped), kind="stable")[:SHOWN_SIGNALS]
    shown = []
    for i in order.tolist():
        weight = float(grouped[i])
        if abs(weight) < 0.05:
            break
        kind, word = origins[i]
        shown.append(Signal(kind, weight, word if kind == "cue" else repr(word)))
    signals = [*shown, Signal("baseline", baseline, "the model's starting point")]
    rest_count = len(grouped) - len(shown)
    if rest_count:
        rest = float(grouped.sum()) - sum(s.weight for s in shown)
        signals.append(Signal("others", rest, f"{rest_count} weaker features"))
    return tuple(signals)
