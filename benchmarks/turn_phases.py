"""Where a turn's Rasa CPU goes, model against model, inside one process.

    .venv/bin/python benchmarks/turn_phases.py                      # bare vs scorer+policy, SQLite
    .venv/bin/python benchmarks/turn_phases.py --rounds 6 --conversations 3

bench_overhead.py measures each variant as a Rasa server, which says how much more a variant
costs but not where: py-spy's samples count waiting for a core, and the plugin's code measured
on its own (bench_scorer.py) runs with warm caches, unlike between DIET and TED. This loads the
models as Rasa Agents in one process (SQL tracker store on SQLite files, structlog at WARNING as
`rasa run` sets it), alternates their turns one by one over the same ordinary questions, and adds
up the CPU of each graph node, of Rasa's graph runs, of the tracker store's retrieve and save and
of the plugin's HandoffScorer.process and HandoffPolicy.predict_action_probabilities, per turn.
Not a figure of record (the variants share one interpreter's caches); run it for the split.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa.core.agent import Agent
from rasa.core.tracker_store import SQLTrackerStore
from rasa.engine.graph import GraphNode, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.utils.log_utils import configure_structlog

from benchmarks.bench_overhead import GREETING, QUESTIONS, variant_config
from handoff_component.bot.policy import HandoffPolicy
from handoff_component.bot.scorer import HandoffScorer
from scripts.project_model import PROJECT_DIR, ensure_model

# (model label, phase) -> CPU nanoseconds; the label of the turn being run is CURRENT[0].
CPU_NS: collections.defaultdict[tuple[str, str], int] = collections.defaultdict(int)
CURRENT = ["warm-up"]


def _timed(phase: str, fn: Callable[..., Any], is_async: bool = False) -> Callable[..., Any]:
    if is_async:

        @functools.wraps(fn)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time_ns()
            try:
                return await fn(*args, **kwargs)
            finally:
                CPU_NS[(CURRENT[0], phase)] += time.process_time_ns() - start

        return timed_async

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU_NS[(CURRENT[0], phase)] += time.process_time_ns() - start

    return timed


def instrument() -> None:
    """Wrap Rasa's and the plugin's entry points with CPU counters (in this process only)."""
    run = DaskGraphRunner.run

    def graph_run(self: DaskGraphRunner, inputs: Any = None, targets: Any = None) -> Any:
        phase = "graph: NLU" if inputs and "__message__" in inputs else "graph: policies"
        return _timed(phase, run)(self, inputs, targets)

    DaskGraphRunner.run = graph_run  # type: ignore[method-assign]
    call = GraphNode.__call__

    def node_call(self: GraphNode, *inputs: Any) -> Any:
        # Nodes are numbered by their place in config.yml: run_TEDPolicy2 in one model is
        # run_TEDPolicy3 in the other. Without the number the rows line up.
        name = re.sub(r"\d+$", "", self._node_name.replace("handoff_component.", ""))
        return _timed(f"  node {name}", call)(self, *inputs)

    GraphNode.__call__ = node_call  # type: ignore[method-assign]
    GraphSchema.minimal_graph_schema = _timed(  # type: ignore[method-assign]
        "  graph: minimal_graph_schema", GraphSchema.minimal_graph_schema
    )
    SQLTrackerStore.retrieve = _timed(  # type: ignore[method-assign]
        "store: retrieve", SQLTrackerStore.retrieve, is_async=True
    )
    SQLTrackerStore.save = _timed(  # type: ignore[method-assign]
        "store: save", SQLTrackerStore.save, is_async=True
    )
    HandoffScorer.process = _timed(  # type: ignore[method-assign]
        "plugin: HandoffScorer.process", HandoffScorer.process
    )
    HandoffPolicy.predict_action_probabilities = _timed(  # type: ignore[method-assign]
        "plugin: HandoffPolicy.predict", HandoffPolicy.predict_action_probabilities
    )


async def measure(models: dict[str, Path], rounds: int, conversations: int) -> dict[str, list]:
    """Per-turn CPU of each model; the phases' totals accumulate in CPU_NS (round 0 warms up)."""
    work = Path(tempfile.mkdtemp(prefix="turn_phases_"))
    agents = {
        label: Agent.load(
            str(path), tracker_store=SQLTrackerStore(dialect="sqlite", db=str(work / f"{label}.db"))
        )
        for label, path in models.items()
    }
    labels = list(agents)
    per_turn: dict[str, list] = {label: [] for label in labels}
    for number in range(rounds + 1):
        if number == 1:
            CPU_NS.clear()
        CURRENT[0] = "warm-up"
        senders = {
            label: [f"{label}-{number}-{c}-{uuid.uuid4().hex[:6]}" for c in range(conversations)]
            for label in labels
        }
        for label in labels:
            for sender in senders[label]:
                await agents[label].handle_text(GREETING[0], sender_id=sender)
        for question, expected in QUESTIONS:
            for index in range(conversations):
                order = labels if (number + index) % 2 else labels[::-1]
                for label in order:
                    CURRENT[0] = label if number else "warm-up"
                    start = time.process_time_ns()
                    replies = await agents[label].handle_text(
                        question, sender_id=senders[label][index]
                    )
                    spent = time.process_time_ns() - start
                    if number:
                        CPU_NS[(label, "TOTAL turn")] += spent
                        per_turn[label].append(spent / 1e6)
                    if not any(expected in (reply.get("text") or "") for reply in replies):
                        print(f"  {label}: unexpected reply to {question!r}: {replies}")
    return per_turn


def report(per_turn: dict[str, list]) -> None:
    labels = list(per_turn)
    turns = len(per_turn[labels[0]])
    print(
        f"{turns} turns a model; CPU per turn, median: "
        + ", ".join(f"{label} {statistics.median(per_turn[label]):.2f} ms" for label in labels)
    )
    phases = sorted({phase for (label, phase) in CPU_NS if label in per_turn})
    print(f"{'ms of CPU per turn (mean)':44s}" + "".join(f"{label:>14s}" for label in labels))
    for phase in phases:
        values = [CPU_NS[(label, phase)] / 1e6 / turns for label in labels]
        difference = f"{values[-1] - values[0]:+10.3f}" if len(values) > 1 else ""
        print(f"{phase:44s}" + "".join(f"{value:14.3f}" for value in values) + difference)
    if len(labels) > 1:
        paired = [b - a for a, b in zip(per_turn[labels[0]], per_turn[labels[-1]], strict=True)]
        median, mean = statistics.median(paired), statistics.mean(paired)
        print(
            f"per-turn difference {labels[-1]} - {labels[0]}: "
            f"median {median:+.3f} ms, mean {mean:+.3f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models",
        default="",
        help="label=path,label=path (default: the bare and the scorer+policy models in models/)",
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--conversations", type=int, default=3)
    args = parser.parse_args()
    os.chdir(PROJECT_DIR)
    if args.models:
        models = {k: Path(v) for k, v in (spec.split("=", 1) for spec in args.models.split(","))}
    else:
        work = Path(tempfile.mkdtemp(prefix="turn_phases_config_"))
        bare = ensure_model(config=variant_config("bare", work), prefix="bot-bare")
        models = {"bare": bare, "scorer+policy": ensure_model()}
    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    instrument()
    report(asyncio.run(measure(models, args.rounds, args.conversations)))


if __name__ == "__main__":
    main()
