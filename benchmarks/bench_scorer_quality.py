"""How well the turn scores match people's labels, next to vaderSentiment run in the same process.

    .venv/bin/python benchmarks/bench_scorer_quality.py [--data ../shared/data] [--bootstrap 1000]

Sentiment, "negative vs not": each set's negative label against `score <= -0.05` (VADER's own
convention, used unchanged for both models), macro-F1 over the two classes, and ROC-AUC of
`-score`. Human request: `human_request >= 0.5` on text alone (no intents), F1 on rasa_helpdesk,
false alarms on banking77 (no query there asks for a person).

What was tuned on what (docs/scoring-tuning.md): tweeteval_val and cs_dev for sentiment, the
"dev" halves of rasa_helpdesk and banking77 (CRC32 of the text, even) for human request. Every
other figure is held out and marked so. Folders under --data that are missing are skipped;
without vaderSentiment installed only this project's figures are printed.
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from handoff_component.core.scoring import ScoringOptions, TurnScorer  # noqa: E402

NEGATIVE_CUT = -0.05
HUMAN_CUT = 0.5
OWN_DATA = PROJECT_DIR / "benchmarks" / "data"


@dataclass
class LabelledSet:
    name: str
    texts: list[str]
    labels: list[bool]
    tuned: bool
    note: str


# --- loading -------------------------------------------------------------------------------------


def is_dev_half(text: str) -> bool:
    """The fixed split used for human-request tuning: even CRC32 of the UTF-8 text."""
    return zlib.crc32(text.encode("utf-8")) % 2 == 0


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def own_rows(name: str) -> list[list[str]]:
    return [
        line.split("\t") for line in _lines(OWN_DATA / name) if line and not line.startswith("#")
    ]


def sentiment_sets(data: Path) -> list[LabelledSet]:
    sets: list[LabelledSet] = []
    vader = data / "vader_gt"
    for file, name in (
        ("tweets_GroundTruth.txt", "vader_gt tweets"),
        ("amazonReviewSnippets_GroundTruth.txt", "vader_gt amazon"),
    ):
        if (vader / file).exists():
            rows = [line.split("\t") for line in _lines(vader / file) if line.count("\t") >= 2]
            sets.append(
                LabelledSet(
                    name,
                    [row[2] for row in rows],
                    [float(row[1]) <= -0.5 for row in rows],
                    False,
                    "mean rating <= -0.5",
                )
            )
    tweeteval = data / "tweeteval_val"
    if (tweeteval / "val_text.txt").exists():
        sets.append(
            LabelledSet(
                "tweeteval_val",
                _lines(tweeteval / "val_text.txt"),
                [label.strip() == "0" for label in _lines(tweeteval / "val_labels.txt")],
                True,
                "label 0",
            )
        )
    uci = data / "uci_sentences"
    for file, name in (
        ("amazon_cells_labelled.txt", "uci amazon"),
        ("yelp_labelled.txt", "uci yelp"),
    ):
        if (uci / file).exists():
            # "sentence<TAB>label"; a few lines separate the label with spaces instead.
            rows = [
                match.groups()
                for line in _lines(uci / file)
                if (match := re.match(r"(.*\S)\s+([01])\s*$", line))
            ]
            sets.append(
                LabelledSet(
                    name,
                    [row[0] for row in rows],
                    [row[1] == "0" for row in rows],
                    False,
                    "label 0",
                )
            )
    for file, tuned in (("cs_dev.tsv", True), ("cs_holdout.tsv", False)):
        rows = own_rows(file)
        sets.append(
            LabelledSet(
                file.removesuffix(".tsv"),
                [row[2] for row in rows],
                [row[0] == "neg" for row in rows],
                tuned,
                "ours, label neg",
            )
        )
    return sets


def helpdesk_rows(data: Path) -> list[tuple[str, bool]]:
    """(text, asks for a human) from the Rasa helpdesk NLU file, entity markup removed."""
    path = data / "rasa_helpdesk" / "nlu.yml"
    if not path.exists():
        return []
    rows, intent = [], None
    for line in _lines(path):
        header = re.match(r"- (intent|synonym|regex|lookup): (.*)", line)
        if header:
            intent = header.group(2).strip() if header.group(1) == "intent" else None
            continue
        example = re.match(r"\s+- (.*)", line)
        if example and intent:
            text = re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", example.group(1)).strip()
            rows.append((text, intent == "human_handoff"))
    return rows


def banking_texts(data: Path) -> list[str]:
    path = data / "banking77" / "test.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


# --- metrics -------------------------------------------------------------------------------------


def macro_f1(predicted: Sequence[bool], gold: Sequence[bool]) -> float:
    scores = []
    for positive in (True, False):
        tp = sum(p == positive and g == positive for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == positive and g != positive for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != positive and g == positive for p, g in zip(predicted, gold, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 2


def f1(predicted: Sequence[bool], gold: Sequence[bool]) -> float:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum(g and not p for p, g in zip(predicted, gold, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


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


def paired_macro_f1(
    ours: Sequence[bool], theirs: Sequence[bool], gold: Sequence[bool], sample: list[int]
) -> tuple[float, float]:
    picked = [gold[i] for i in sample]
    return (
        macro_f1([ours[i] for i in sample], picked),
        macro_f1([theirs[i] for i in sample], picked),
    )


def bootstrap_difference(
    metric: Callable[[list[int]], tuple[float, float]], n: int, rounds: int, seed: int = 7
) -> tuple[float, float]:
    """95 % interval of metric(ours) - metric(VADER) over paired resamples of the items."""
    rng = random.Random(seed)
    differences = []
    for _ in range(rounds):
        sample = [rng.randrange(n) for _ in range(n)]
        ours, vader = metric(sample)
        differences.append(ours - vader)
    differences.sort()
    return differences[int(0.025 * rounds)], differences[int(0.975 * rounds) - 1]


# --- report --------------------------------------------------------------------------------------


def load_vader() -> Callable[[str], float] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return lambda text: analyzer.polarity_scores(text)["compound"]


def report_sentiment(sets: list[LabelledSet], scorer: TurnScorer, rounds: int) -> None:
    vader = load_vader()
    print("Sentiment, negative vs not (cut at <= -0.05 for both models)")
    if vader is None:
        print("  vaderSentiment is not installed: only this project's figures")
    header = f"  {'set':17s} {'n':>5s} {'neg':>5s}  {'role':8s} {'macro-F1':>17s}  {'ROC-AUC':>17s}"
    print(header + ("  95% CI of F1 gain" if vader and rounds else ""))
    models = f"{'ours':>8s} {'VADER':>8s}"
    print(f"  {'':17s} {'':>5s} {'':>5s}  {'':8s} {models}  {models}")
    for labelled in sets:
        ours = [scorer.score(text).sentiment for text in labelled.texts]
        theirs = [vader(text) for text in labelled.texts] if vader else None
        gold = labelled.labels
        row = (
            f"  {labelled.name:17s} {len(gold):5d} {sum(gold):5d}  "
            f"{'tuned' if labelled.tuned else 'held out':8s} "
            f"{macro_f1([s <= NEGATIVE_CUT for s in ours], gold):8.3f} "
        )
        row += (
            f"{macro_f1([s <= NEGATIVE_CUT for s in theirs], gold):8.3f}  "
            if theirs
            else f"{'-':>8s}  "
        )
        row += f"{roc_auc([-s for s in ours], gold):8.3f} "
        row += f"{roc_auc([-s for s in theirs], gold):8.3f}" if theirs else f"{'-':>8s}"
        if theirs and rounds:
            ours_neg = [s <= NEGATIVE_CUT for s in ours]
            theirs_neg = [s <= NEGATIVE_CUT for s in theirs]

            paired = functools.partial(paired_macro_f1, ours_neg, theirs_neg, gold)
            low, high = bootstrap_difference(paired, len(gold), rounds)
            row += f"  [{low:+.3f}, {high:+.3f}]"
        print(row)
    print("  roles: 'tuned' = rules, lexicon entries or weights were chosen looking at this set")


def report_human_request(data: Path, scorer: TurnScorer) -> None:
    helpdesk = helpdesk_rows(data)
    banking = banking_texts(data)
    print(f"\nHuman request, text only (no intents), asks for a person when >= {HUMAN_CUT}")
    if helpdesk:
        for part, role, keep in (
            ("dev half", "tuned", is_dev_half),
            ("test half", "held out", lambda t: not is_dev_half(t)),
            ("all", "mixed", lambda t: True),
        ):
            rows = [(text, label) for text, label in helpdesk if keep(text)]
            predicted = [scorer.score(text).human_request >= HUMAN_CUT for text, _ in rows]
            gold = [label for _, label in rows]
            tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
            print(
                f"  rasa_helpdesk {part:9s} ({role:8s}) n={len(rows):4d} human={sum(gold):3d}  "
                f"F1 {f1(predicted, gold):.3f}  precision {tp / max(1, sum(predicted)):.3f}  "
                f"recall {tp / max(1, sum(gold)):.3f}"
            )
    else:
        print("  rasa_helpdesk: not found, skipped")
    if banking:
        for part, role, keep in (
            ("dev half", "tuned", is_dev_half),
            ("test half", "held out", lambda t: not is_dev_half(t)),
            ("all", "mixed", lambda t: True),
        ):
            texts = [text for text in banking if keep(text)]
            alarms = [text for text in texts if scorer.score(text).human_request >= HUMAN_CUT]
            print(
                f"  banking77     {part:9s} ({role:8s}) n={len(texts):4d}  false alarms "
                f"{len(alarms):3d} = {len(alarms) / len(texts):.2%}"
                + (f"  e.g. {alarms[0]!r}" if alarms else "")
            )
    else:
        print("  banking77: not found, skipped")
    for file, role in (("cs_dev.tsv", "tuned"), ("cs_holdout.tsv", "held out")):
        rows = own_rows(file)
        predicted = [scorer.score(row[2]).human_request >= HUMAN_CUT for row in rows]
        gold = [row[1] == "1" for row in rows]
        false_alarms = sum(p and not g for p, g in zip(predicted, gold, strict=True))
        print(
            f"  {file.removesuffix('.tsv'):13s} {'':9s} ({role:8s}) n={len(rows):4d} "
            f"human={sum(gold):3d}  F1 {f1(predicted, gold):.3f}  false alarms {false_alarms}"
        )


def report_banking_negativity(data: Path, scorer: TurnScorer) -> None:
    banking = banking_texts(data)
    vader = load_vader()
    if not banking:
        return
    ours = sum(scorer.score(text).sentiment <= NEGATIVE_CUT for text in banking) / len(banking)
    line = f"\nbanking77 queries read as negative (informational): ours {ours:.1%}"
    if vader:
        theirs = sum(vader(text) <= NEGATIVE_CUT for text in banking) / len(banking)
        line += f", VADER {theirs:.1%}"
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=PROJECT_DIR.parent / "shared" / "data")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="paired resamples for the F1-gain interval"
    )
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data} not found: only the project's own sets (benchmarks/data) are scored")
    scorer = TurnScorer(ScoringOptions())
    report_sentiment(sentiment_sets(args.data), scorer, args.bootstrap)
    report_human_request(args.data, scorer)
    report_banking_negativity(args.data, scorer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
