"""What hostile inputs cost the scorer: time per KB for each kind, at several lengths.

    .venv/bin/python benchmarks/bench_scorer_inputs.py [--lengths 1000,10000,100000] [--repeat 5]

Each kind of text (runs of punctuation, one character repeated, thousands of emoji, mixed
scripts, NUL, masked profanity, phrase-rule bait, ordinary chat) is scored by `TurnScorer` at
each length; the best of `--repeat` runs is printed as ms per message and ms per KB of UTF-8
input. Below the cap (`MAX_SCORED_CHARACTERS`) the cost per KB should stay flat as the length
grows (linear work); above it the cost per message stops growing. The baseline, in the same run,
is an ordinary chat line of the same length.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from handoff_component.core.scoring import MAX_SCORED_CHARACTERS, TurnScorer  # noqa: E402

CHAT = "I have been waiting for 3 weeks and my order still has not arrived, can I talk to someone? "
KINDS: dict[str, str] = {
    "ordinary chat (baseline)": CHAT,
    "'!' repeated": "!",
    "'?!' repeated": "?!",
    "'a' repeated": "a",
    "'A' repeated (shouting)": "A ",
    "'*' repeated (mask bait)": "*",
    "'f*' repeated": "f*",
    "emoji": "😡👍🏽",
    "mixed scripts": "مرحبا שלום привет 你好 hello ",
    "NUL": "\x00",
    "'not ' repeated (negation bait)": "not ",
    "'talk to ' repeated (phrase bait)": "talk to ",
}


def text_of(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


def best_ms(scorer: TurnScorer, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        scorer.score(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    scorer = TurnScorer()
    scorer.score(CHAT)
    print(f"cap: messages over {MAX_SCORED_CHARACTERS} characters are scored on head + tail")
    header = "".join(f"{f'{n} chars':>24s}" for n in lengths)
    print(f"{'kind':34s}{header}")
    print(f"{'':34s}" + "".join(f"{'ms/msg':>12s}{'ms/KB':>12s}" for _ in lengths))
    for kind, piece in KINDS.items():
        row = f"{kind:34s}"
        for length in lengths:
            text = text_of(piece, length)
            ms = best_ms(scorer, text, args.repeat)
            kb = len(text.encode("utf-8")) / 1024
            row += f"{ms:12.3f}{ms / kb:12.4f}"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
