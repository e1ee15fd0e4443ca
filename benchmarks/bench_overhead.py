"""What the plugin costs on an ordinary turn: the example bot with and without its pieces.

    .venv/bin/python benchmarks/bench_overhead.py                 # 6 rounds x 50 turns a variant
    .venv/bin/python benchmarks/bench_overhead.py --quick         # 2 rounds x 20 turns, SQLite only
    .venv/bin/python benchmarks/bench_overhead.py --stores sqlite --rounds 4 --profile

Four variants of the example bot, all trained from the same domain and data:

- `bare`: the pipeline and policies of config.yml without HandoffScorer and HandoffPolicy, no
  event broker, no HandoffConnector;
- `scorer`: + HandoffScorer;
- `scorer+policy`: + HandoffPolicy (config.yml as shipped), still no broker or connector;
- `full`: the whole plugin: config.yml, the HandoffEventBroker and the HandoffConnector of the
  project's endpoints and credentials, the handoff service running.

Each set of stores is measured with all its Rasa servers running at once (one action server and
one service shared), in rounds: in each round every variant greets `--conversations` new
conversations (not measured: session start), then the variants' turns alternate one by one
(`--interleave turn`; the order rotates from round to round), `--turns` ordinary questions per
conversation over the rest channel, one turn at a time. Every Rasa process's CPU (every thread's,
from schedstat) is read over the same window, the whole round and its settling, so the CPU per
turn includes whatever a turn left running on Rasa's event loop (the broker's delivery), and a
burst of other work on the machine falls on all variants alike. `--interleave variant` gives each
variant its turns of a round in one block instead. Ratios to `bare` are taken round by round;
their median and range (min-max) are reported.

Stores: `sqlite` is the example's default (SQL tracker store on SQLite, in-memory lock store);
`production` is deploy/'s (PostgreSQL tracker store, Redis lock store, the service on
PostgreSQL), measured only when both answer on 127.0.0.1, and said loudly otherwise.

`--profile` adds one round in which py-spy samples the `full` Rasa process and prints where its
time goes (Rasa's stream_events re-read, the broker, the scorer, the policy, the stores, TED,
DIET), as shares of its samples. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_services import pg_execute, redis_answers
from scripts.project_model import ensure_model
from scripts.stack import PROJECT_DIR, Ports, Stack, free_port

READY_TIMEOUT_S = 900.0  # four Rasa servers loading at once on a busy 2-core machine

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
VARIANTS = ("bare", "scorer", "scorer+policy", "full")
# Deployment choices measured beside the variants (`--experiments`), on the full plugin's model:
# Rasa's own re-read for the broker (the tracker store not wrapped), TensorFlow held to one
# thread per operation (Rasa reads these two variables), Rasa's default log level (INFO; every
# variant else runs at WARNING), the plugin without its event broker (what the events cost), and
# the broker sending every turn's events at once (`delivery_window_s: 0`: what the window saves),
# and Rasa's event-class look-up cached (`full-cached-events`, see CACHED_EVENTS_PATCH).
EXPERIMENTS = {
    "full-reread": {},
    "full-tf1": {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"},
    "full-info-log": {"LOG_LEVEL": "INFO"},
    "full-nobroker": {},
    "full-window0": {},
    "full-cached-events": {},
}
# Rasa 3.6 finds an event's class by walking every subclass of Event (`Event.resolve_by_type`,
# 27 classes, `inspect.isabstract` on each) for every event it deserialises, so a tracker store's
# retrieve pays it once per stored event of the session on every turn. The experiment caches that
# look-up in the Rasa process (a sitecustomize on its PYTHONPATH), to measure what it costs; it is
# not something the plugin does.
CACHED_EVENTS_PATCH = """\
import functools
from rasa.shared.core import events

events.Event.resolve_by_type = staticmethod(functools.lru_cache(maxsize=None)(
    events.Event.resolve_by_type))
"""
SCORER = "handoff_component.HandoffScorer"
POLICY = "handoff_component.HandoffPolicy"
CONNECTOR = "handoff_component.HandoffConnector"
TRACKER_STORE = "handoff_component.HandoffTrackerStore"
GREETING = ("hi there", "Northwind Store assistant")
# Ordinary questions, all different in their words: the same question asked again counts as a
# failed attempt (handoff.yml, rephrase detection), and three would hand the conversation off.
QUESTIONS = [
    ("how long does shipping take?", "Standard delivery"),
    ("what is your return policy?", "within 30 days"),
    ("how do I reset my password?", "reset your password"),
    ("how long do refunds take?", "Refunds are issued"),
    ("are you a bot?", "virtual assistant"),
    ("do you deliver to canada", "Standard delivery"),
    ("can I send an item back", "within 30 days"),
    ("when will I get my money back", "Refunds are issued"),
    ("thanks", "welcome"),
    ("I forgot my login", "reset your password"),
]


@dataclass
class Sample:
    """One variant's turns in one round."""

    turns: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    service_cpu_s: float = 0.0
    errors: collections.Counter = field(default_factory=collections.Counter)

    @property
    def cpu_per_turn_ms(self) -> float:
        return 1000 * self.cpu_s / len(self.turns) if self.turns else float("nan")

    @property
    def p50_ms(self) -> float:
        return 1000 * statistics.median(self.turns) if self.turns else float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid` (TensorFlow's pools included), to the nanosecond.

    `/proc/<pid>/task/*/schedstat` counts each thread's run time in ns; `/proc/<pid>/stat` only
    in clock ticks (10 ms), too coarse for a round of a few turns. A thread that ended between
    two readings would be missed by the first, so the ticks are the fallback.
    """
    try:
        return (
            sum(
                int(stat.read_text().split()[0])
                for stat in Path(f"/proc/{pid}/task").glob("*/schedstat")
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the variants: their config.yml, endpoints.yml and credentials.yml ----------------------------


def variant_config(variant: str, work: Path) -> Path:
    """config.yml with the plugin's components removed as the variant asks."""
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())
    drop = {"bare": {SCORER, POLICY}, "scorer": {POLICY}}.get(variant, set())
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in drop]
    config["policies"] = [p for p in config["policies"] if p["name"] not in drop]
    path = work / f"config-{variant}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def variant_files(variant: str, stores: str, work: Path) -> tuple[Path, Path]:
    """The endpoints and credentials of a variant: the plugin's entries only for `full`."""
    source = "deploy/endpoints.production.yml" if stores == "production" else "endpoints.yml"
    endpoints = yaml.safe_load((PROJECT_DIR / source).read_text())
    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())
    store = endpoints["tracker_store"]
    if not variant.startswith("full"):
        endpoints.pop("event_broker", None)
        credentials.pop(CONNECTOR, None)
    if variant == "full-nobroker":  # the tracker store wrapper and the connector, no events sent
        endpoints.pop("event_broker", None)
    if variant == "full-window0":  # every turn's events sent at once: one POST per turn
        endpoints["event_broker"]["delivery_window_s"] = 0
    if (not variant.startswith("full") or variant == "full-reread") and store[
        "type"
    ] == TRACKER_STORE:
        store["type"] = store.pop("wraps")  # the plain Rasa store it wraps
    endpoints_path = work / f"endpoints-{stores}-{variant}.yml"
    credentials_path = work / f"credentials-{variant}.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    credentials_path.write_text(yaml.safe_dump(credentials, sort_keys=False))
    return endpoints_path, credentials_path


def train_variants(work: Path) -> dict[str, Path]:
    """One model per distinct config; `scorer+policy` and `full` share the example's model."""
    models = {}
    for variant in (*VARIANTS, *EXPERIMENTS):
        if variant == "scorer+policy" or variant.startswith("full"):
            models[variant] = ensure_model()
        else:
            config = variant_config(variant, work)
            models[variant] = ensure_model(config=config, prefix=f"bot-{variant}")
    return models


# --- the run ----------------------------------------------------------------------------------


class StoreSet:
    """The four Rasa servers of one set of stores, with their action server and service."""

    def __init__(
        self,
        stores: str,
        variants: tuple[str, ...],
        models: dict[str, Path],
        work: Path,
        suffix: str,
    ) -> None:
        self.stores = stores
        self.variants = variants
        self.work = work / stores
        self.shared = Ports(rasa=0, actions=free_port(), service=free_port())
        self.stacks: dict[str, Stack] = {}
        self.databases: list[str] = []
        secret = uuid.uuid4().hex
        for variant in variants:
            endpoints, credentials = variant_files(variant, stores, work)
            extra = {"LOG_LEVEL": "WARNING", **EXPERIMENTS.get(variant, {})}
            if variant == "full-cached-events":
                patch = work / "cached-events"
                patch.mkdir(exist_ok=True)
                (patch / "sitecustomize.py").write_text(CACHED_EVENTS_PATCH)
                extra["PYTHONPATH"] = f"{patch}{os.pathsep}{PROJECT_DIR}"
            extra = {k: v for k, v in extra.items() if v is not None}
            if stores == "production":
                tracker_db = f"bench_overhead_{suffix}_{variant.replace('+', '_')}"
                self.databases.append(tracker_db)
                extra.update(
                    {
                        "TRACKER_DB_HOST": "127.0.0.1:5432",
                        "TRACKER_DB_NAME": tracker_db,
                        "TRACKER_DB_USER": "postgres",
                        "TRACKER_DB_PASSWORD": "",
                        "REDIS_HOST": "127.0.0.1",
                        "REDIS_PORT": "6379",
                        "REDIS_LOCK_DB": "5",
                    }
                )
            self.stacks[variant] = Stack(
                model=models[variant],
                ports=Ports(free_port(), self.shared.actions, self.shared.service),
                data_dir=work / stores / variant.replace("+", "_"),
                endpoints=endpoints,
                credentials=credentials,
                extra_env=extra,
                secret=secret,
            )
        if stores == "production":
            service_db = f"bench_overhead_{suffix}_service"
            self.databases.append(service_db)
            full = self.stacks["full"]
            full.extra_env = {
                **full.extra_env,
                "HANDOFF_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{service_db}",
            }

    def start(self) -> None:
        for database in self.databases:
            asyncio.run(pg_execute(f'CREATE DATABASE "{database}"', PG_URL))
        # The full stack starts the service and the action server the others share; the four
        # Rasa servers load their models at the same time.
        timeout = {"timeout_s": READY_TIMEOUT_S}
        starts = [threading.Thread(target=self.stacks["full"].start, kwargs=timeout)]
        for variant in [v for v in self.variants if v != "full"]:
            starts.append(
                threading.Thread(target=self.stacks[variant].start, args=("rasa",), kwargs=timeout)
            )
        for thread in starts:
            thread.start()
        for thread in starts:
            thread.join()
        missing = [v for v in self.variants if not self.stacks[v].processes]
        if missing:
            raise RuntimeError(f"Rasa did not start for {missing}: see the logs under {self.work}")

    def stop(self) -> None:
        for stack in self.stacks.values():
            stack.stop()
        for database in self.databases:
            asyncio.run(pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', PG_URL))

    def pid(self, variant: str, name: str = "rasa") -> int:
        return next(p.popen.pid for p in self.stacks[variant].processes if p.name == name)


async def turn(http: aiohttp.ClientSession, url: str, sender: str, text: str) -> str:
    async with http.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    ) as response:
        response.raise_for_status()
        return " ".join(m.get("text", "") for m in await response.json())


async def run_round(
    http: aiohttp.ClientSession, stores: StoreSet, variant: str, args: argparse.Namespace
) -> Sample:
    """`conversations` new conversations, greeted, then `turns` questions each, interleaved."""
    url = stores.stacks[variant].rasa_url
    sample = Sample()
    senders = [f"ovh-{uuid.uuid4().hex[:10]}" for _ in range(args.conversations)]
    for sender in senders:
        await turn(http, url, sender, GREETING[0])
    await asyncio.sleep(args.settle)  # the greetings' own broker work is not this round's
    rasa_pid = stores.pid(variant)
    service_pid = stores.pid("full", "service")
    cpu_before, service_before = cpu_seconds(rasa_pid), cpu_seconds(service_pid)
    for index in range(args.turns):
        for number, sender in enumerate(senders):
            question, answer = QUESTIONS[(index + number) % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                reply = await turn(http, url, sender, question)
            except aiohttp.ClientError as error:
                sample.errors[error.__class__.__name__] += 1
                continue
            sample.turns.append(time.perf_counter() - start)
            if answer not in reply:
                sample.errors["unexpected answer"] += 1
                if args.verbose:
                    print(f"    {variant}: {question!r} -> {reply[:100]!r}", flush=True)
    await asyncio.sleep(args.settle)  # what the last turn left running counts for this round
    sample.cpu_s = cpu_seconds(rasa_pid) - cpu_before
    sample.service_cpu_s = cpu_seconds(service_pid) - service_before
    return sample


async def run_interleaved_round(
    http: aiohttp.ClientSession, stores: StoreSet, order: tuple[str, ...], args: argparse.Namespace
) -> dict[str, Sample]:
    """One round with the variants' turns interleaved one by one (`--interleave turn`).

    Every variant's CPU is read over the same window (the whole round and its settling), so what
    a turn leaves running is counted wherever it runs, and a burst of other work on the machine
    falls on all variants alike: their turns alternate every few tens of milliseconds.
    """
    samples = {variant: Sample() for variant in order}
    senders = {
        v: [f"ovh-{uuid.uuid4().hex[:10]}" for _ in range(args.conversations)] for v in order
    }
    for variant in order:
        for sender in senders[variant]:
            await turn(http, stores.stacks[variant].rasa_url, sender, GREETING[0])
    await asyncio.sleep(args.settle)
    pids = {v: stores.pid(v) for v in order}
    service_pid = stores.pid("full", "service")
    before = {v: cpu_seconds(pid) for v, pid in pids.items()}
    service_before = cpu_seconds(service_pid)
    for index in range(args.turns):
        for number in range(args.conversations):
            question, answer = QUESTIONS[(index + number) % len(QUESTIONS)]
            for variant in order:
                sample, sender = samples[variant], senders[variant][number]
                start = time.perf_counter()
                try:
                    reply = await turn(http, stores.stacks[variant].rasa_url, sender, question)
                except aiohttp.ClientError as error:
                    sample.errors[error.__class__.__name__] += 1
                    continue
                sample.turns.append(time.perf_counter() - start)
                if answer not in reply:
                    sample.errors["unexpected answer"] += 1
    await asyncio.sleep(args.settle)
    service_cpu = cpu_seconds(service_pid) - service_before
    # One service serves every variant that sends it events: its CPU is shared among them
    # equally (an average; which of them costs it more is not told apart in this mode).
    senders_of_events = [v for v in order if v.startswith("full") and v != "full-nobroker"]
    for variant, sample in samples.items():
        sample.cpu_s = cpu_seconds(pids[variant]) - before[variant]
        if variant in senders_of_events:
            sample.service_cpu_s = service_cpu / len(senders_of_events)
    return samples


async def measure(stores: StoreSet, args: argparse.Namespace) -> dict[str, list[Sample]]:
    variants = stores.variants
    samples: dict[str, list[Sample]] = {v: [] for v in variants}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for variant in variants:  # warm up: first parses, connection pools, the tracker tables
            await run_round(http, stores, variant, argparse.Namespace(**{**vars(args), "turns": 1}))
        for number in range(args.rounds):
            order = variants[number % len(variants) :] + variants[: number % len(variants)]
            load = os.getloadavg()[0]
            if args.interleave == "turn":
                for variant, sample in (
                    await run_interleaved_round(http, stores, order, args)
                ).items():
                    samples[variant].append(sample)
            else:
                for variant in order:
                    samples[variant].append(await run_round(http, stores, variant, args))
            line = ", ".join(
                f"{v} {samples[v][-1].p50_ms:.1f} ms / {samples[v][-1].cpu_per_turn_ms:.1f} ms CPU"
                for v in variants
            )
            print(f"  round {number + 1} (load {load:.2f}): p50 / CPU per turn: {line}", flush=True)
    return samples


def summarise(stores: str, samples: dict[str, list[Sample]]) -> list[dict[str, Any]]:
    rows = []
    for variant in samples:
        turns = [t for s in samples[variant] for t in s.turns]
        cpu = sum(s.cpu_s for s in samples[variant])
        rounds = list(zip(samples[variant], samples["bare"], strict=True))
        p50_ratios = [s.p50_ms / b.p50_ms for s, b in rounds]
        cpu_ratios = [s.cpu_per_turn_ms / b.cpu_per_turn_ms for s, b in rounds]
        row: dict[str, Any] = {
            "stores": stores,
            "variant": variant,
            "turns": len(turns),
            "p50_ms": round(1000 * statistics.median(turns), 1),
            "p90_ms": round(1000 * percentile(turns, 0.90), 1),
            "p99_ms": round(1000 * percentile(turns, 0.99), 1),
            "cpu_ms_per_turn": round(1000 * cpu / len(turns), 2),
            "p50_vs_bare": round(statistics.median(p50_ratios), 3),
            "cpu_vs_bare": round(statistics.median(cpu_ratios), 3),
            # The round-to-round spread of those ratios: what tells 1.05 from 1.07, or does not.
            "p50_vs_bare_range": [round(min(p50_ratios), 3), round(max(p50_ratios), 3)],
            "cpu_vs_bare_range": [round(min(cpu_ratios), 3), round(max(cpu_ratios), 3)],
            "errors": dict(sum((s.errors for s in samples[variant]), collections.Counter())),
        }
        if variant.startswith("full"):
            row["service_cpu_ms_per_turn"] = round(
                1000 * sum(s.service_cpu_s for s in samples[variant]) / len(turns), 2
            )
        rows.append(row)
    return rows


def _span(bounds: list[float]) -> str:
    return f"{bounds[0]:.2f}-{bounds[1]:.2f}"


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(
        f"  {'variant':<14} {'turns':>5} {'p50':>7} {'p90':>7} {'p99':>7} {'CPU/turn':>9}"
        f" {'p50 vs bare':>12} {'CPU vs bare':>12} {'rounds: p50':>13} {'CPU':>11}  errors",
        flush=True,
    )
    for r in rows:
        service = r.get("service_cpu_ms_per_turn")
        extra = f" (service {service} ms)" if service is not None else ""
        print(
            f"  {r['variant']:<14} {r['turns']:>5} {r['p50_ms']:>7} {r['p90_ms']:>7}"
            f" {r['p99_ms']:>7} {r['cpu_ms_per_turn']:>9} {r['p50_vs_bare']:>12}"
            f" {r['cpu_vs_bare']:>12} {_span(r['p50_vs_bare_range']):>13}"
            f" {_span(r['cpu_vs_bare_range']):>11}  {r['errors'] or 0}{extra}",
            flush=True,
        )
    by = {r["variant"]: r for r in rows}
    steps = [("HandoffScorer", "bare", "scorer"), ("HandoffPolicy", "scorer", "scorer+policy")]
    steps.append(("event broker + connector", "scorer+policy", "full"))
    steps = [step for step in steps if step[1] in by and step[2] in by] or [
        ("the whole plugin", "bare", "full")
    ]
    parts = ", ".join(
        f"{name} {by[b]['cpu_ms_per_turn'] - by[a]['cpu_ms_per_turn']:+.2f} ms"
        for name, a, b in steps
    )
    print(f"  where the CPU difference goes (variant minus the one before): {parts}", flush=True)


# --- where the full variant's time goes (py-spy) ----------------------------------------------

# A sample goes to the first category any of its frames matches, so the plugin's pieces and
# Rasa's re-read are found before the Rasa code that calls them. A frame is (function, file).
PLUGIN_FILES = {"scorer.py", "policy.py", "event_broker.py", "outbox.py", "connector.py"}
CATEGORIES: list[tuple[str, Any]] = [
    ("Rasa's stream_events (re-read for the broker)", lambda f, p: f == "stream_events"),
    (
        "HandoffEventBroker publish (outbox write)",
        lambda f, p: (
            p.endswith(("event_broker.py", "outbox.py"))
            and f in ("publish", "publish_many", "put", "put_many")
        ),
    ),
    ("HandoffEventBroker delivery task", lambda f, p: f in ("_deliver_forever", "deliver_pending")),
    ("HandoffScorer", lambda f, p: _plugin(p, "scorer.py")),
    ("HandoffPolicy", lambda f, p: _plugin(p, "policy.py")),
    ("HandoffConnector", lambda f, p: _plugin(p, "connector.py")),
    ("tracker store: save", lambda f, p: p.endswith("tracker_store.py") and f == "save"),
    ("tracker store: retrieve", lambda f, p: p.endswith("tracker_store.py") and "retrieve" in f),
    ("lock store", lambda f, p: p.endswith("lock_store.py")),
    ("TEDPolicy", lambda f, p: p.endswith("ted_policy.py")),
    ("DIETClassifier", lambda f, p: p.endswith("diet_classifier.py")),
    ("other NLU components", lambda f, p: p.startswith("rasa/nlu/")),
    ("other policies", lambda f, p: p.startswith("rasa/core/policies/")),
    ("action server calls", lambda f, p: p.startswith(("rasa/core/actions/", "aiohttp/"))),
]
OTHER = "the rest (sanic, the rest channel, Rasa's processor, graph runner, events)"


def _plugin(path: str, name: str) -> bool:
    return path.rsplit("/", 1)[-1] == name and not path.startswith("rasa/")


def _frames(stack: str) -> list[tuple[str, str]]:
    """`fn (path:line);fn (path:line)` -> [(fn, path), ...]."""
    frames = []
    for frame in stack.split(";"):
        function, _, where = frame.strip().partition(" (")
        frames.append((function, where.rsplit(":", 1)[0]))
    return frames


def classify(stack: str) -> str | None:
    """The category of one sample; None for the event loop waiting (not CPU)."""
    frames = _frames(stack)
    if frames and frames[-1][1].startswith("sanic/server/runners.py"):
        return None
    for name, matches in CATEGORIES:
        if any(matches(function, path) for function, path in frames):
            return name
    return OTHER


PROFILE_RATE_HZ = 200


PROFILE_RATE_HZ = 200


def _read_profile(out: Path) -> tuple[collections.Counter, int]:
    totals: collections.Counter = collections.Counter()
    idle = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            category = classify(stack)
            if category is None:
                idle += int(count)
            else:
                totals[category] += int(count)
    return totals, idle


def profile_full(stores: StoreSet, args: argparse.Namespace) -> None:
    """Where the full variant's Rasa time goes, and where it differs from the bare bot's.

    Both Rasa processes are sampled at once over one round with their turns interleaved, so
    the machine's load falls on both alike.
    """
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("  --profile: py-spy is not installed (pip install py-spy); not profiled", flush=True)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    spies = {}
    for variant in ("bare", "full"):
        command = [py_spy, "record", "--pid", str(stores.pid(variant)), "--format", "raw"]
        command += ["--output", str(directory / f"{variant}.txt")]
        command += ["--rate", str(PROFILE_RATE_HZ), "--nonblocking"]
        spies[variant] = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    time.sleep(1.0)

    async def drive() -> dict[str, Sample]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            return await run_interleaved_round(http, stores, ("bare", "full"), args)

    samples = asyncio.run(drive())
    profiles = {}
    for variant, spy in spies.items():
        spy.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
        _, error = spy.communicate(timeout=60)
        out = directory / f"{variant}.txt"
        if not out.exists():
            print(f"  --profile: py-spy wrote nothing: {error.decode()[-300:]}", flush=True)
            return
        profiles[variant] = _read_profile(out)
    totals, idle = profiles["full"]
    total = sum(totals.values()) or 1
    print(
        f"  where the full variant's Rasa CPU goes (py-spy, {total} busy samples;"
        f" {idle} more with the event loop waiting, left out):",
        flush=True,
    )
    for name, count in totals.most_common():
        print(f"    {100 * count / total:5.1f} %  {name}", flush=True)

    def per_turn(variant: str, name: str) -> float:
        turns = len(samples[variant].turns) or 1
        return 1000 * profiles[variant][0][name] / PROFILE_RATE_HZ / turns

    print(
        "  busy samples per turn, bare / full / difference, sampled at once (ms; a thread"
        " waiting in a database call counts as busy):",
        flush=True,
    )
    names = sorted(set(totals) | set(profiles["bare"][0]), key=lambda n: -totals[n])
    for name in names:
        b, f = per_turn("bare", name), per_turn("full", name)
        print(f"    {b:7.2f} {f:7.2f} {f - b:+7.2f}  {name}", flush=True)
    b = sum(per_turn("bare", n) for n in names)
    f = sum(per_turn("full", n) for n in names)
    print(f"    {b:7.2f} {f:7.2f} {f - b:+7.2f}  all busy samples", flush=True)


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    # Stopped from outside (a background job ignores SIGINT), it still stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, 2 x 10 turns, SQLite only")
    parser.add_argument("--stores", help="sqlite,production (default both; --quick: sqlite)")
    parser.add_argument("--rounds", type=int, help="rounds (default 6)")
    parser.add_argument("--conversations", type=int, help="new conversations a round (default 5)")
    parser.add_argument("--turns", type=int, help="measured turns a conversation (default 10)")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.5,
        help="seconds after a round's turns (longer than the broker's 1 s delivery window, so"
        " the round's last delivery counts in it)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the full variant")
    parser.add_argument(
        "--interleave",
        choices=("turn", "variant"),
        default="turn",
        help="turn (default): the variants' turns alternate one by one, CPU read over the same"
        " window; variant: each variant's turns of a round in one block",
    )
    parser.add_argument(
        "--sqlite-variants", default=",".join(VARIANTS), help="variants measured on SQLite"
    )
    parser.add_argument(
        "--production-variants",
        default="bare,full",
        help="variants measured on the production stores (default bare,full; all four load"
        " four Rasa servers at once)",
    )
    parser.add_argument("--verbose", action="store_true", help="print unexpected answers")
    parser.add_argument(
        "--experiments",
        default="",
        help="deployment choices measured beside the variants on the production stores:"
        f" {','.join(EXPERIMENTS)}",
    )
    parser.add_argument(
        "--sqlite-experiments",
        default="",
        help="experiments measured beside the SQLite variants too (e.g. full-nobroker)",
    )
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 6)
    args.conversations = args.conversations or (2 if args.quick else 5)
    args.turns = args.turns or 10
    store_sets = (args.stores or ("sqlite" if args.quick else "sqlite,production")).split(",")
    args.experiments = tuple(e for e in args.experiments.split(",") if e)
    args.sqlite_experiments = tuple(e for e in args.sqlite_experiments.split(",") if e)
    unknown = set(args.experiments + args.sqlite_experiments) - set(EXPERIMENTS)
    if unknown:
        parser.error(f"unknown experiments {sorted(unknown)}; known: {', '.join(EXPERIMENTS)}")
    args.production_variants = tuple(
        v for v in VARIANTS if v in args.production_variants.split(",") or v in ("bare", "full")
    )
    args.sqlite_variants = tuple(
        v for v in VARIANTS if v in args.sqlite_variants.split(",") or v in ("bare", "full")
    )

    print(
        f"bench_overhead: {args.rounds} rounds x {args.conversations} conversations x {args.turns}"
        f" turns per variant and store set; {os.cpu_count()} CPUs, load"
        f" {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        work = Path(tmp)
        models = train_variants(work)
        print("models: " + ", ".join(f"{v} {m.name}" for v, m in models.items()), flush=True)
        for stores in store_sets:
            if stores == "production" and not production_stores_answer():
                continue
            if stores == "sqlite":
                variants = (*args.sqlite_variants, *args.sqlite_experiments)
            else:  # the deployment choices are measured in the production configuration
                variants = (*args.production_variants, *args.experiments)
            store_set = StoreSet(stores, variants, models, work, uuid.uuid4().hex[:8])
            print(
                f"\n[{stores}] starting {len(variants)} Rasa servers, an action server, the service"
            )
            begin = time.monotonic()
            try:
                store_set.start()
                print(f"  started in {time.monotonic() - begin:.0f} s", flush=True)
                samples = asyncio.run(measure(store_set, args))
                stores_rows = summarise(stores, samples)
                print(f"[{stores}] load {os.getloadavg()[0]:.2f} at the end", flush=True)
                print_rows(stores_rows)
                rows += stores_rows
                if args.profile:
                    profile_full(store_set, args)
            finally:
                store_set.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def production_stores_answer() -> bool:
    problem = None
    if not redis_answers():
        problem = "Redis does not answer on 127.0.0.1:6379"
    else:
        try:
            asyncio.run(pg_execute("SELECT 1", PG_URL))
        except Exception as error:
            problem = f"PostgreSQL is not reachable at {PG_URL} ({error.__class__.__name__})"
    if problem:
        print(f"\n!!! production stores NOT MEASURED: {problem}", flush=True)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
