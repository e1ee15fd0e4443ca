"""Customer text on Rasa's side: does each adapter's work grow linearly with its input?

    .venv/bin/python benchmarks/bench_adapters.py [--quick]

Customer text reaches every Rasa process unbounded. This measures, at growing sizes, the work the
plugin's Rasa-side adapters do with it, each against its smallest size as the baseline (the
scorer's own scaling is benchmarks/bench_scorer_inputs.py):

- HandoffPolicy: tracker -> conversation view -> rules, for a conversation of 100 to 10,000
  events (cold: every turn built, as on a replica's first message);
- HandoffEventBroker.publish: keeping what the service reads of an event, bounding it (text,
  parse_data, metadata of the same size) and appending it to the durable outbox, for messages
  of 1 KB to 4 MB;
- HandoffConnector: the checks a command body goes through before a handler (size bound,
  signature, JSON, the contract), for bodies of 1 KB to 1 MB.

Two columns say whether the work is linear. `calls per unit` counts the Python function calls
of one run (sys.setprofile), which no machine load disturbs: flat means linear, quadratic work
would grow it with the size. `x baseline` is the median time per unit against the smallest size;
on a busy machine it also rises with size when the working set leaves the CPU caches (measured
here: the calls per event stay flat while the time per event rises), so read the two together.
Medians of repeated single runs; no timed assertion lives in the tests, this script is the
measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_rules import rules_yaml, tracker_events, turns


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    work()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def python_calls(work: Callable[[], object]) -> int:
    """Python-level function calls made by one run of `work` (C calls not counted)."""
    count = 0

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def measured(work: Callable[[], object], repeat: int) -> tuple[float, int]:
    return median_seconds(work, repeat), python_calls(work)


def report(title: str, unit: str, rows: list[tuple[int, tuple[float, int]]]) -> None:
    print(f"\n{title}")
    print(f"  {'size':>10}  {'median':>12}  {'per ' + unit:>14}  x baseline  calls per {unit}")
    base = rows[0][1][0] / rows[0][0]
    for size, (seconds, calls) in rows:
        per_unit = seconds / size
        print(
            f"  {size:>10,}  {seconds * 1e3:>9.3f} ms  {per_unit * 1e6:>11.3f} us"
            f"  {per_unit / base:>9.2f}  {calls / size:>13.2f}"
        )


def bench_policy(sizes: list[int], repeat: int) -> list[tuple[int, tuple[float, int]]]:
    from rasa.shared.core.trackers import DialogueStateTracker

    from handoff_component.bot.policy import conversation_view
    from handoff_component.core.rules import evaluate, parse_ruleset

    ruleset = parse_ruleset(rules_yaml(50), "generated.yml")
    user_turns = turns(max(sizes))
    rows = []
    for size in sizes:
        tracker = DialogueStateTracker.from_events("bench", tracker_events(user_turns, size), [])

        def predict(tracker: DialogueStateTracker = tracker) -> None:
            view = conversation_view(tracker, ruleset.settings)
            evaluate(ruleset, view, view.turns[-1].timestamp)

        rows.append((size, measured(predict, repeat)))
    return rows


def bench_broker(sizes_kb: list[int], repeat: int) -> list[tuple[int, tuple[float, int]]]:
    from handoff_component.bot.event_broker import capped
    from handoff_component.bot.outbox import Outbox
    from handoff_component.contract.events import bounded_event, service_part

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        outbox = Outbox(Path(directory) / "outbox.db")
        for size in sizes_kb:
            text = "ü" * (size * 512)  # 2 bytes each: `size` KB of UTF-8
            event = {
                "sender_id": "bench",
                "event": "user",
                "timestamp": 1.0,
                "text": text,
                "parse_data": {"text": text, "handoff": {"sentiment": -0.5}},
                "metadata": {"client": text},
            }

            def publish(event: dict = event) -> None:
                # What HandoffEventBroker.publish_many does with one customer event.
                outbox.put("event", capped(bounded_event(service_part(event))))

            rows.append((size, measured(publish, repeat)))
        outbox.close()
    return rows


def bench_connector(sizes_kb: list[int], repeat: int) -> list[tuple[int, tuple[float, int]]]:
    from handoff_component import contract

    secret = "bench-connector-secret-0123456789abcdef"
    rows = []
    for size in sizes_kb:
        command = {
            "conversation_id": "c",
            "channel": "socketio",
            "ticket_id": 1,
            "message_id": 1,
            "text": "x" * (size * 1024 - 200),
            "attendant_name": "Ana",
            "attachments": [],
        }
        body = json.dumps(command).encode()
        headers = contract.signed_headers(secret, body)

        def checks(body: bytes = body, headers: dict = headers) -> None:
            # What HandoffConnector._verified_command does before any handler runs.
            contract.verify(
                secret,
                headers[contract.TIMESTAMP_HEADER],
                body,
                headers[contract.SIGNATURE_HEADER],
            )
            # Over the text limit a body is refused, after the same linear work.
            with contextlib.suppress(contract.ContractError):
                contract.ReplyCommand.from_dict(json.loads(body))

        rows.append((size, measured(checks, repeat)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 5 if args.quick else 20
    events = [100, 1_000, 3_000] if args.quick else [100, 1_000, 3_000, 10_000]
    kilobytes = [1, 16, 256, 1024] if args.quick else [1, 16, 256, 1024, 4096]

    report("HandoffPolicy: tracker -> view -> 50 rules", "event", bench_policy(events, repeat))
    report(
        "HandoffEventBroker.publish: bound + durable append", "KB", bench_broker(kilobytes, repeat)
    )
    report(
        "HandoffConnector: size, signature, JSON, contract",
        "KB",
        bench_connector([k for k in kilobytes if k <= 1000] + [976], repeat),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
