"""How well the scores match people's labels: learned models, lexicon models and vaderSentiment.

    .venv/bin/python benchmarks/bench_scorer_quality.py [--data ../shared/data]

Prints first the split: which sets trained the shipped weights (from the weights file itself) and
which are scored here, then per set:

- sentiment, negative vs not: ROC-AUC of -score, macro-F1 at `<= -0.05` (VADER's convention);
- frustration, upset vs calm: ROC-AUC, and at the recommended threshold (`frustration >= 0.7`
  for the learned model; the lexicon model's own calibrated one; VADER `compound <= -0.6`, the
  example bot's old angry rule) the recall on upset messages and the false alarms per 1,000 calm
  ones, per register;
- human request on text alone (`>= 0.7`): F1, precision, recall, and false alarms per 1,000;
- languages: how often an English message is taken for another language, and how often each
  other language is recognised.

Only `test` parts are scored (never what trained the weights: see scripts/scorer_datasets.py);
`dev` parts chose the thresholds and are printed as such. Sets absent under --data are skipped.
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from handoff_component.core.scoring import ScoringOptions, TurnScorer  # noqa: E402
from scripts.scorer_datasets import DEFAULT_DATA, Example, evaluation_only  # noqa: E402
from scripts.train_scorers import all_examples  # noqa: E402

NEGATIVE_CUT = -0.05
FRUSTRATION_CUT = 0.7
LEXICON_FRUSTRATION_CUT = 0.5
VADER_ANGRY_CUT = -0.6
HUMAN_CUT = 0.7
OWN_DATA = PROJECT_DIR / "benchmarks" / "data"


def own_sets() -> list[Example]:
    """benchmarks/data/cs_*.tsv: support-chat lines written before any scoring code (eval only)."""
    out = []
    for name in ("cs_dev", "cs_holdout"):
        for line in (OWN_DATA / f"{name}.tsv").read_text("utf-8").splitlines():
            if line and not line.startswith("#"):
                sentiment, human, text = line.split("\t")
                out.append(Example(text, name, "customer_service", "test", None, sentiment,
                                   int(human)))  # fmt: skip
    return out


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Mann-Whitney U over average ranks (ties share a rank)."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            j += 1
        for k in range(i, j):
            ranks[order[k]] = (i + j + 1) / 2
        i = j
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return float("nan")
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def macro_f1(predicted: Sequence[bool], gold: Sequence[bool]) -> float:
    scores = []
    for positive in (True, False):
        tp = sum(p == positive and g == positive for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == positive and g != positive for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != positive and g == positive for p, g in zip(predicted, gold, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 2


def f1_parts(predicted: Sequence[bool], gold: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum(g and not p for p, g in zip(predicted, gold, strict=True))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return f1, tp / max(1, tp + fp), tp / max(1, tp + fn)


class Models:
    """Each model's scores of a text, computed once."""

    def __init__(self) -> None:
        self.learned = TurnScorer(ScoringOptions(model="learned"))
        self.lexicon = TurnScorer(ScoringOptions(model="lexicon"))
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            analyzer = SentimentIntensityAnalyzer()
            self.vader: Callable[[str], float] | None = lambda t: analyzer.polarity_scores(t)[
                "compound"
            ]
        except ImportError:
            self.vader = None
        self._cache: dict[str, tuple] = {}

    def of(self, text: str) -> tuple:
        found = self._cache.get(text)
        if found is None:
            learned = self.learned.score(text)
            lexicon = self.lexicon.score(text)
            found = (learned, lexicon, self.vader(text) if self.vader else None)
            self._cache[text] = found
        return found


def value(score: float | None, default: float) -> float:
    return default if score is None else score


def print_split(scorer: TurnScorer, scored: dict[str, list[Example]]) -> None:
    learned = scorer._learned
    print("Split (train = fed the shipped weights; dev = chose thresholds; test = scored here)")
    if learned is not None:
        trained = learned.metadata.get("trained_on", {})
        print(f"  {'set (from the weights file)':36s} {'train':>7s}")
        for source, counts in trained.items():
            print(f"  {source:36s} {counts.get('train', 0):7d}")
        print(f"  thresholds chosen on dev: {learned.thresholds}")
    print(f"  {'scored here (test parts)':36s} {'n':>7s}")
    for name, rows in scored.items():
        print(f"  {name:36s} {len(rows):7d}")


def sentiment_report(models: Models, sets: dict[str, list[Example]]) -> None:
    print("\nSentiment, negative vs not: ROC-AUC of -score, macro-F1 at <= -0.05")
    print(f"  {'set':34s} {'n':>6s} {'neg':>5s}   {'AUC learned':>11s} {'lexicon':>8s} "
          f"{'VADER':>6s}   {'F1 learned':>10s} {'lexicon':>8s} {'VADER':>6s}")  # fmt: skip
    for name, rows in sets.items():
        rows = [e for e in rows if e.sentiment is not None]
        if not rows:
            continue
        gold = [e.sentiment == "neg" for e in rows]
        if not any(gold) or all(gold):
            continue
        triples = [models.of(e.text) for e in rows]
        learned = [value(t[0].sentiment, 0.0) for t in triples]
        lexicon = [value(t[1].sentiment, 0.0) for t in triples]
        vader = [t[2] for t in triples] if models.vader else None
        line = (f"  {name:34s} {len(rows):6d} {sum(gold):5d}   "
                f"{roc_auc([-s for s in learned], gold):11.3f} "
                f"{roc_auc([-s for s in lexicon], gold):8.3f} ")  # fmt: skip
        line += f"{roc_auc([-s for s in vader], gold):6.3f}   " if vader else f"{'-':>6s}   "
        line += (f"{macro_f1([s <= NEGATIVE_CUT for s in learned], gold):10.3f} "
                 f"{macro_f1([s <= NEGATIVE_CUT for s in lexicon], gold):8.3f} ")  # fmt: skip
        line += f"{macro_f1([s <= NEGATIVE_CUT for s in vader], gold):6.3f}" if vader else "     -"
        print(line)


def frustration_report(models: Models, sets: dict[str, list[Example]]) -> None:
    print(
        f"\nFrustration, upset vs calm. Thresholds: learned >= {FRUSTRATION_CUT}, lexicon >= "
        f"{LEXICON_FRUSTRATION_CUT}, VADER compound <= {VADER_ANGRY_CUT} (the old angry rule)"
    )
    print(f"  {'set':34s} {'n':>6s} {'upset':>5s}   {'AUC learned':>11s} {'lexicon':>8s} "
          f"{'VADER':>6s}   {'flagged: learned':>16s} {'lexicon':>8s} {'VADER':>7s}")  # fmt: skip
    for name, rows in sets.items():
        rows = [e for e in rows if e.frustration is not None]
        if not rows:
            continue
        gold = [bool(e.frustration) for e in rows]
        triples = [models.of(e.text) for e in rows]
        learned = [value(t[0].frustration, 0.0) for t in triples]
        lexicon = [value(t[1].frustration, 0.0) for t in triples]
        vader = [t[2] for t in triples] if models.vader else None
        both = any(gold) and not all(gold)
        line = f"  {name:34s} {len(rows):6d} {sum(gold):5d}   "
        if both:
            line += (
                f"{roc_auc(learned, gold):11.3f} {roc_auc(lexicon, gold):8.3f} "
                f"{roc_auc([-s for s in vader], gold) if vader else float('nan'):6.3f}   "
            )
        else:
            line += f"{'':11s} {'':8s} {'':6s}   "
        flagged = [
            [s >= FRUSTRATION_CUT for s in learned],
            [s >= LEXICON_FRUSTRATION_CUT for s in lexicon],
            [s <= VADER_ANGRY_CUT for s in vader] if vader else None,
        ]
        # Upset sets: recall (share flagged). Calm sets: false alarms per 1,000.
        cells = []
        for marks in flagged:
            if marks is None:
                cells.append("-")
                continue
            if all(gold):
                cells.append(f"{sum(marks) / len(marks):.1%} rec")
            elif not any(gold):
                cells.append(f"{1000 * sum(marks) / len(marks):.1f}/1k")
            else:
                upset = [m for m, g in zip(marks, gold, strict=True) if g]
                calm = [m for m, g in zip(marks, gold, strict=True) if not g]
                cells.append(f"{sum(upset) / len(upset):.0%}|{1000 * sum(calm) / len(calm):.0f}")
        line += f"{cells[0]:>16s} {cells[1]:>8s} {cells[2]:>7s}"
        print(line)
    print("  cells: 'rec' = recall on upset; '/1k' = false alarms per 1,000 calm; "
          "'r%|f' = both (recall | false alarms per 1,000)")  # fmt: skip


THRESHOLD_SWEEP = (0.5, 0.6, 0.7, 0.8, 0.9)
CALM_TASK_SETS = ("banking77 test", "hwu64", "snips", "nlupp banking", "nlupp hotels", "multidogo",
                  "rasa_helpdesk", "composed calm")  # fmt: skip
UPSET_SETS = ("goemotions", "goemotions anger+disgust", "xed", "tweeteval_emotion",
              "written turns", "composed upset")  # fmt: skip


def threshold_report(models: Models, sets: dict[str, list[Example]]) -> None:
    """The learned frustration at other thresholds: what docs/rules.md recommends from."""
    print("\nLearned frustration at other thresholds (test parts): false alarms per 1,000 calm "
          "turns | recall on upset")  # fmt: skip
    calm = [name for name in CALM_TASK_SETS if name in sets]
    upset = [name for name in UPSET_SETS if name in sets]
    print(f"  {'>=':>5s} " + " ".join(f"{name[:13]:>13s}" for name in calm) + "  |  "
          + " ".join(f"{name[:13]:>13s}" for name in upset))  # fmt: skip
    scored = {
        name: [(value(models.of(e.text)[0].frustration, 0.0), e.frustration) for e in sets[name]
               if e.frustration is not None]
        for name in calm + upset
    }  # fmt: skip
    for cut in THRESHOLD_SWEEP:
        cells = []
        for name in calm:
            rows = [s for s, y in scored[name] if y == 0]
            cells.append(f"{1000 * sum(s >= cut for s in rows) / max(1, len(rows)):13.1f}")
        cells.append(" |")
        for name in upset:
            rows = [s for s, y in scored[name] if y == 1]
            cells.append(f"{sum(s >= cut for s in rows) / max(1, len(rows)):13.0%}")
        print(f"  {cut:5.2f} " + " ".join(cells))


def human_report(models: Models, sets: dict[str, list[Example]]) -> None:
    print(f"\nHuman request on text alone, asks for a person at >= {HUMAN_CUT}")
    print(f"  {'set':34s} {'n':>6s} {'asks':>5s}   {'learned F1/P/R or false alarms':>32s}"
          f"   {'lexicon':>22s}")  # fmt: skip
    for name, rows in sets.items():
        rows = [e for e in rows if e.human is not None]
        if not rows:
            continue
        gold = [bool(e.human) for e in rows]
        triples = [models.of(e.text) for e in rows]
        cells = []
        for k in (0, 1):
            marks = [value(t[k].human_request, 0.0) >= HUMAN_CUT for t in triples]
            if any(gold):
                f1, precision, recall = f1_parts(marks, gold)
                fa = sum(m and not g for m, g in zip(marks, gold, strict=True))
                cells.append(f"F1 {f1:.3f} P {precision:.2f} R {recall:.2f} fa {fa}")
            else:
                cells.append(f"{sum(marks)} = {1000 * sum(marks) / len(marks):.2f}/1k")
        print(f"  {name:34s} {len(rows):6d} {sum(gold):5d}   {cells[0]:>32s}   {cells[1]:>22s}")


def language_report(models: Models, sets: dict[str, list[Example]]) -> None:
    print("\nLanguages: share of messages guessed as not English")
    for name, rows in sets.items():
        if not rows:
            continue
        guesses = collections.Counter(
            "en" if models.of(e.text)[0].frustration is not None else "other" for e in rows
        )
        print(f"  {name:34s} {len(rows):6d}   not English {guesses['other'] / len(rows):7.2%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data} not found: only the project's own sets are scored")
    seed = 13
    examples = [*all_examples(args.data, seed), *evaluation_only(args.data), *own_sets()]
    sets: dict[str, list[Example]] = collections.defaultdict(list)
    for e in examples:
        if e.split == "test":
            sets[e.source].append(e)
    for e in examples:
        if e.split == "dev" and e.source.split()[0] in ("banking77_train", "multidogo", "hwu64"):
            sets[f"{e.source} (dev: chose thresholds)"].append(e)
        elif e.split == "dev" and e.source.startswith(("complaints", "tweeteval_emotion")):
            sets[f"{e.source} (dev half: guided choices)"].append(e)
    english = {k: v for k, v in sets.items() if not k.startswith(("xsid", "xed "))}
    english = {k: [e for e in v if e.language == "en"] for k, v in english.items()}
    models = Models()
    print_split(models.learned, {k: v for k, v in sets.items()})
    sentiment_report(models, english)
    frustration_report(models, english)
    threshold_report(models, english)
    human_report(models, sets)
    xsid = {k: v for k, v in sets.items() if k.startswith("xsid")}
    language_report(models, {k: v for k, v in english.items() if "xsid" not in k} | xsid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
