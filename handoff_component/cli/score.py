"""`python -m handoff_component score`: per-turn scores for messages read from stdin.

One message per input line, one JSON object per output line (same order, blank lines included),
so designers can check a lexicon or a rule against real transcripts without a running bot:

    printf 'where is my money???\\nI want a human\\n' | python -m handoff_component score
    python -m handoff_component score --model models/latest.tar.gz < transcript.txt

Without `--model` the scores come from the text alone (the signals say so). With it, a trained
Rasa model parses each line first: its intents and confidences feed uncertainty, complexity and
human request, and when its pipeline contains HandoffScorer its own `handoff` object is printed.
Rasa is imported only in that branch.

Input is read as bytes and decoded as UTF-8 whatever the locale, each undecodable byte replaced
by U+FFFD; output is always UTF-8, so a transcript with a stray Latin-1 byte or a NUL neither
stops the run nor produces a line another tool cannot read.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from handoff_component.core.scoring import SCORE_KEY, OptionError, ScoringOptions, TurnScorer

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score messages read from stdin, one JSON object per line",
        description=(
            "Read one message per line from stdin; write one JSON object per line (same order) "
            "with sentiment, frustration, complexity, uncertainty, human_request and their "
            "signals. Without "
            "--model the scores come from the text alone."
        ),
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="trained Rasa model (.tar.gz) whose NLU supplies intents and confidences",
    )
    parser.add_argument(
        "--scorer",
        choices=["learned", "lexicon"],
        default=None,
        help="which scoring model (default learned; lexicon when --extra-lexicon is given)",
    )
    parser.add_argument(
        "--extra-lexicon",
        metavar="TSV",
        action="append",
        default=[],
        help="extra sentiment lexicon for the lexicon model, 'token<TAB>valence' per line "
        "(repeatable)",
    )
    parser.set_defaults(run=run)


def run(
    args: argparse.Namespace, stdin: IO[Any] | None = None, stdout: IO[Any] | None = None
) -> int:
    """Exit status 0, or 2 when the options or the model cannot be used.

    `stdin` and `stdout` default to the process's binary streams; text streams work too.
    """
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout.buffer
    try:
        model = args.scorer or ("lexicon" if args.extra_lexicon else "learned")
        scorer = TurnScorer(
            ScoringOptions(model=model, extra_lexicon_files=tuple(args.extra_lexicon))
        )
    except OptionError as error:
        print(f"score: {error}", file=sys.stderr)
        return 2
    lines = input_lines(stdin)
    if args.model:
        try:
            results = _score_with_model(args.model, scorer, lines)
            first = next(results, None)
        except Exception as error:  # Rasa raises many types for an unusable model
            print(f"score: cannot use model {args.model!r}: {error}", file=sys.stderr)
            return 2
        results = _chain(first, results)
    else:
        results = ({"text": text, **scorer.score(text).to_dict()} for text in lines)
    for result in results:
        write_line(stdout, json.dumps(result, ensure_ascii=False))
    return 0


def input_lines(stream: IO[Any]) -> Iterator[str]:
    """Lines without their end, decoded as UTF-8 with U+FFFD for what cannot be decoded."""
    for line in stream:
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        else:  # a text stream may carry surrogates (surrogateescape): make them U+FFFD too
            line = line.encode("utf-8", errors="replace").decode("utf-8")
        yield line.rstrip("\r\n")


def write_line(stream: IO[Any], line: str) -> None:
    """One output line as valid UTF-8, to a binary or a text stream."""
    data = (line + "\n").encode("utf-8", errors="replace")
    if isinstance(stream, io.TextIOBase):
        stream.write(data.decode("utf-8"))
    else:
        stream.write(data)
    stream.flush()


def _chain(first: dict | None, rest: Iterator[dict]) -> Iterator[dict]:
    if first is not None:
        yield first
    yield from rest


def _score_with_model(model: str, scorer: TurnScorer, lines: Iterable[str]) -> Iterator[dict]:
    """Parse each line with the model (Rasa is imported only here)."""
    from handoff_component.bot.trained_model import TrainedModel

    with TrainedModel(model) as nlu:
        for text in lines:
            yield _result(text, nlu.parse(text), scorer)


def _result(text: str, parsed: dict, scorer: TurnScorer) -> dict:
    """The model's own `handoff` when its pipeline has HandoffScorer, else scored from its NLU."""
    intent = parsed.get("intent") or {}
    scores = parsed.get(SCORE_KEY)
    if scores is None:
        ranking = parsed.get("intent_ranking") or ([intent] if intent.get("name") else None)
        scores = scorer.score(
            text,
            intent_ranking=ranking,
            entities=parsed.get("entities"),
            fallback=intent.get("name") == scorer.options.fallback_intent,
        ).to_dict()
    return {
        "text": text,
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        **scores,
    }
