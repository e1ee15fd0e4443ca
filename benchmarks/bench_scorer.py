"""What HandoffScorer costs per message, next to the whole NLU parse it is part of.

    .venv/bin/python benchmarks/bench_scorer.py                 # trains a small model first
    .venv/bin/python benchmarks/bench_scorer.py --model models/bot-....tar.gz

Without `--model` it trains the project's own NLU pipeline (config.yml, data/nlu.yml; DIET epochs
cut to 5, which changes accuracy, not inference cost) in a temporary folder. Messages are the
chat-like lines of benchmarks/data/cs_*.tsv, repeated. For each message it times
`Agent.parse_message` (the full pipeline, HandoffScorer included) and then
`HandoffScorer.process` alone on a Message carrying that parse's intent, ranking and entities,
in the same process, once with the default learned model and once with `model: lexicon`.
There is no accurate (embedding) mode to time: see docs/scoring.md for why. Figures are printed,
nothing is asserted: machines differ.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

TARGET_MS = 0.5  # p50 per message, default (learned) model, inside the NLU pipeline
TARGET_SHARE = 0.10

FALLBACK_PIPELINE = """\
recipe: default.v1
language: en
assistant_id: bench-scorer
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 5
  - name: FallbackClassifier
    threshold: 0.5
  - name: handoff_component.HandoffScorer
"""


def chat_messages() -> list[str]:
    """The hand-written customer-service lines of this repository (see benchmarks/README.md)."""
    texts = []
    for name in ("cs_dev.tsv", "cs_holdout.tsv"):
        for line in (PROJECT_DIR / "benchmarks" / "data" / name).read_text("utf-8").splitlines():
            if line and not line.startswith("#"):
                texts.append(line.split("\t")[2])
    return texts


def nlu_only_config(config_text: str) -> str:
    """The project's pipeline with DIET's epochs cut to 5 and the policies left out."""
    import yaml

    config = yaml.safe_load(config_text)
    config.pop("policies", None)
    for component in config.get("pipeline", []):
        if component.get("name") == "DIETClassifier":
            component["epochs"] = 5
    config.setdefault("assistant_id", "bench-scorer")
    return yaml.safe_dump(config, sort_keys=False)


def train_small_model(folder: Path) -> str:
    from rasa.model_training import train_nlu

    config_path = PROJECT_DIR / "config.yml"
    nlu_path = PROJECT_DIR / "data" / "nlu.yml"
    if config_path.exists() and nlu_path.exists():
        config = nlu_only_config(config_path.read_text("utf-8"))
        source = f"{config_path.name} (DIET epochs 5) on {nlu_path.relative_to(PROJECT_DIR)}"
    else:
        config = FALLBACK_PIPELINE
        nlu_path = PROJECT_DIR / "benchmarks" / "data" / "bench_nlu.yml"
        source = "built-in pipeline on benchmarks/data/bench_nlu.yml"
    (folder / "config.yml").write_text(config, encoding="utf-8")
    os.environ["RASA_CACHE_DIRECTORY"] = str(folder / "cache")
    print(f"training {source} ...", flush=True)
    return train_nlu(
        config=str(folder / "config.yml"),
        nlu_data=str(nlu_path),
        output=str(folder / "models"),
        fixed_model_name="bench",
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(model: str, messages: list[str], warmup: int) -> dict[str, list[float]]:
    from rasa.core.agent import Agent
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from handoff_component.bot.scorer import HandoffScorer
    from handoff_component.core.scoring import TurnScorer

    agent = Agent.load(model)
    with tempfile.TemporaryDirectory() as storage:
        component, lexicon_component = (
            HandoffScorer.create(
                {**HandoffScorer.get_default_config(), "model": mode},
                LocalModelStorage(Path(storage)),
                Resource("bench"),
                ExecutionContext(graph_schema=None, model_id="bench"),  # type: ignore[arg-type]
            )
            for mode in ("learned", "lexicon")
        )
    scorer = TurnScorer()
    has_scorer = "handoff" in await agent.parse_message("hello")

    for text in messages[:warmup]:
        await agent.parse_message(text)
    parse_ms, process_ms, core_ms, prepared, lexicon_ms = [], [], [], [], []
    parse_cpu_ms, process_cpu_ms = [], []
    clock, cpu = time.perf_counter, time.process_time
    for text in messages:
        start, start_cpu = clock(), cpu()
        parsed = await agent.parse_message(text)
        parse_ms.append((clock() - start) * 1000)
        parse_cpu_ms.append((cpu() - start_cpu) * 1000)

        message = Message(
            data={
                "text": text,
                "intent": parsed.get("intent"),
                "intent_ranking": parsed.get("intent_ranking"),
                "entities": parsed.get("entities"),
            }
        )
        prepared.append(message.data.copy())
        start, start_cpu = clock(), cpu()
        component.process([message])
        process_ms.append((clock() - start) * 1000)
        process_cpu_ms.append((cpu() - start_cpu) * 1000)

        start = clock()
        scorer.score(text, parsed.get("intent_ranking"), parsed.get("entities"))
        core_ms.append((clock() - start) * 1000)

        start = clock()
        lexicon_component.process([Message(data=dict(prepared[-1]))])
        lexicon_ms.append((clock() - start) * 1000)
    # The same calls back to back, away from TensorFlow: the interleaved figures above are the
    # real cost; this one shows how much of it is the parse evicting the scorer from the caches.
    batch = [Message(data=dict(data)) for data in prepared]
    start = clock()
    for message in batch:
        component.process([message])
    back_to_back = (clock() - start) * 1000 / len(batch)
    return {
        "parse": parse_ms,
        "process": process_ms,
        "core": core_ms,
        "lexicon": lexicon_ms,
        "back_to_back": [back_to_back],
        "parse_cpu": parse_cpu_ms,
        "process_cpu": process_cpu_ms,
        "has_scorer": [has_scorer],
    }


def report(model: str, figures: dict[str, list[float]]) -> None:
    parse, process, core = figures["parse"], figures["process"], figures["core"]
    share = statistics.mean(process) / statistics.mean(parse)
    print(f"\nmodel: {model}")
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"pipeline contains HandoffScorer: {figures['has_scorer'][0]}")
    print(f"messages timed: {len(parse)} (chat lines of benchmarks/data/cs_*.tsv, repeated)\n")
    print(f"{'per message (ms)':34s} {'mean':>8s} {'p50':>8s} {'p95':>8s} {'best':>8s}")
    for label, values in (
        ("Agent.parse_message (whole NLU)", parse),
        ("HandoffScorer.process (learned)", process),
        ("TurnScorer.score (pure core)", core),
        ("HandoffScorer.process (lexicon)", figures["lexicon"]),
    ):
        print(
            f"{label:34s} {statistics.mean(values):8.4f} {percentile(values, 0.5):8.4f} "
            f"{percentile(values, 0.95):8.4f} {min(values):8.4f}"
        )
    print(
        f"{'HandoffScorer.process back to back':34s} {figures['back_to_back'][0]:8.4f}"
        "   (same messages, no parse in between)"
    )
    parse_cpu = statistics.mean(figures["parse_cpu"])
    process_cpu = statistics.mean(figures["process_cpu"])
    print(
        f"CPU time (process_time, all threads): parse {parse_cpu:.4f} ms, HandoffScorer "
        f"{process_cpu:.4f} ms, share {process_cpu / parse_cpu:.2%}"
    )
    p50 = percentile(process, 0.5)
    print(
        f"\nHandoffScorer (learned) share of the parse: {share:.2%} (target <= "
        f"{TARGET_SHARE:.0%}); p50 {p50:.4f} ms per message (target <= {TARGET_MS} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a trained Rasa model (.tar.gz); default: train one")
    parser.add_argument("--messages", type=int, default=2000, help="messages to time")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    logging.getLogger("rasa").setLevel(logging.WARNING)
    base = chat_messages()
    messages = (base * (args.messages // len(base) + 1))[: args.messages]
    with tempfile.TemporaryDirectory() as folder:
        model = args.model or train_small_model(Path(folder))
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
        figures = asyncio.run(measure(model, messages, args.warmup))
        report(args.model or "small model trained for this run", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
