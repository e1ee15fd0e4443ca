"""How long the trigger rules take per turn: 50 rules on a 200-event tracker.

    .venv/bin/python benchmarks/bench_rules.py [--rules 50] [--events 200] [--repeat 2000]
    .venv/bin/python benchmarks/bench_rules.py --rules-file handoff.yml   # the example bot's

Two conversations of the same 200 events: one whose last message is calm (no rule fires, the
common case) and one whose last message is furious (9 of the 50 rules fire at once). For each:
the pure evaluation (the ConversationView already built), the tracker -> view step (cold: every
turn built; warm: the earlier turns remembered, as on every message after a replica's first),
and the policy's whole predict (tracker -> view -> evaluate -> prediction, warm). Each figure is
the median, p95 and best of `--repeat` single timed runs. The target is under 0.1 ms per turn
for the evaluation, against a `/model/parse` p50 of about 6 ms. No timed assertions live in the
tests; this script is the measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from handoff_component.core.rules import (
    ConversationView,
    Firing,
    Turn,
    evaluate,
    parse_ruleset,
)

_WORD_TEXT = (
    "order delivery package refund payment card account password address parcel tracking "
    "invoice store return exchange size colour shipping late broken missing help please "
    "today yesterday week still again where when why how"
)
WORDS = _WORD_TEXT.split()
CHANNELS = ["socketio", "rest", "callback", "facebook"]


def rules_yaml(count: int, seed: int = 7) -> str:
    """`count` rules mixing every condition kind, most of which do not fire on a typical turn."""
    rng = random.Random(seed)
    kinds = [
        lambda i: f'sentiment: "<= -{0.55 + rng.random() * 0.4:.2f}"',
        lambda i: f'complexity: ">= {0.75 + rng.random() * 0.2:.2f}"',
        lambda i: f'uncertainty: ">= {0.7 + rng.random() * 0.25:.2f}"',
        lambda i: f'human_request: ">= {0.6 + rng.random() * 0.3:.2f}"',
        lambda i: f'average: {{score: sentiment, last: {rng.randint(2, 5)}, is: "<= -0.5"}}',
        lambda i: f'trend: {{score: sentiment, last: {rng.randint(3, 5)}, is: "<= -0.3"}}',
        lambda i: f'failed_attempts: {{is: ">= {rng.randint(3, 5)}", within_last: 8}}',
        lambda i: f"intent: [complaint_{i}, request_human_{i}]",
        lambda i: f"keywords: [{rng.choice(WORDS)}x{i}, legal action {i}, chargeback{i}*]",
        lambda i: f'message_count: ">= {rng.randint(60, 90)}"',
    ]
    lines = ['version: "1"', "safety_net:", "  default: {cooldown: 0s}", "rules:"]
    for i in range(count):
        first = kinds[i % len(kinds)](i)
        second = kinds[(i * 3 + 1) % len(kinds)](i)
        lines += [
            f"  - name: rule_{i}",
            "    when:",
            "      any:" if i % 2 else "      all:",
            f"        - {{{first}}}",
            f"        - {{{second}}}",
        ]
        if i % 2 == 0:
            lines.append(f"        - not: {{intent: greet_{i}}}")
        lines += [
            f"    team: team_{i % 4}",
            f"    priority: {['low', 'normal', 'high', 'urgent'][i % 4]}",
            f"    cooldown: {i % 20}m",
        ]
        if i % 3 == 0:
            lines.append(f"    channels: [{', '.join(CHANNELS[: 1 + i % len(CHANNELS)])}]")
    return "\n".join(lines) + "\n"


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))


def turns(count: int, seed: int = 11) -> list[Turn]:
    rng = random.Random(seed)
    return [
        Turn(
            text=sentence(rng),
            intent=rng.choice(["order_status", "shipping_info", "refund_status", "complaint"]),
            intent_confidence=0.6 + rng.random() * 0.4,
            # A calm conversation: no rule fires until the last message says otherwise.
            scores={
                "sentiment": rng.uniform(0.0, 0.3),
                "complexity": rng.uniform(0, 0.6),
                "uncertainty": rng.uniform(0, 0.6),
                "human_request": rng.uniform(0, 0.3),
            },
            fallback=rng.random() < 0.05,
            timestamp=1_000.0 + 30 * i,
        )
        for i in range(count)
    ]


def timed(function: Callable[[], object], repeat: int) -> str:
    """Median, p95 and best of `repeat` single runs, in microseconds, after a warm-up. The best
    shows the cost without the noise of a shared machine; the median is what to expect."""
    for _ in range(min(50, repeat)):
        function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {median:6.1f} us, p95 {p95:6.1f} us, best {samples[0]:6.1f} us"


def tracker_events(user_turns: list[Turn], target_events: int) -> list:
    """A realistic tracker of exactly `target_events` events, ending with a user message that
    awaits its prediction: session start, then per turn the user message, a slot, the bot's
    action (a fallback now and then), its utterance and action_listen; one earlier handoff."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    def message(turn: Turn) -> UserUttered:
        return UserUttered(
            turn.text,
            {"name": turn.intent, "confidence": turn.intent_confidence},
            [],
            parse_data={"handoff": {**turn.scores, "signals": {}}},
            input_channel="socketio",
            timestamp=turn.timestamp,
        )

    events: list = [
        ActionExecuted("action_session_start", timestamp=999.0),
        SessionStarted(timestamp=999.0),
        ActionExecuted("action_listen", timestamp=999.0),
    ]
    for index, turn in enumerate(user_turns):
        at = turn.timestamp
        if index == 3:
            handoff = {"handoff_rule": "rule_3"}
            bot = [ActionExecuted("action_handoff", metadata=handoff, timestamp=at + 0.2)]
        else:
            action = "action_default_fallback" if turn.fallback else "utter_answer"
            bot = [ActionExecuted(action, timestamp=at + 0.2)]
        answer = [
            message(turn),
            SlotSet("order_id", str(index), timestamp=at + 0.1),
            *bot,
            BotUttered("an answer", timestamp=at + 0.3),
            ActionExecuted("action_listen", timestamp=at + 0.4),
        ]
        if len(events) + len(answer) + 1 > target_events:
            events += answer[: target_events - 1 - len(events)]
            events.append(message(user_turns[index + 1]))
            return events
        events += answer
    raise ValueError("not enough turns for that many events")


def angry_ending(user_turns: list[Turn], count: int) -> list[Turn]:
    """The same conversation whose `count`-th message is furious: several rules fire on it."""
    last = user_turns[count - 1]
    angry = last._replace(
        intent="complaint",
        intent_confidence=0.99,
        scores={**last.scores, "sentiment": -0.95, "human_request": 0.9},
    )
    return [*user_turns[: count - 1], angry, *user_turns[count:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=50, help="generated rules (default 50)")
    parser.add_argument("--rules-file", help="time this rules file instead, e.g. handoff.yml")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--skip-policy", action="store_true", help="pure evaluation only")
    args = parser.parse_args()

    source = args.rules_file or "generated.yml"
    text = Path(args.rules_file).read_text() if args.rules_file else rules_yaml(args.rules)
    start = time.perf_counter()
    ruleset = parse_ruleset(text, source)
    parse_ms = (time.perf_counter() - start) * 1000
    user_turns = turns(args.events)
    print(f"{source}: {len(ruleset.rules)} rules, parsed in {parse_ms:.1f} ms (once, at load)")

    if args.skip_policy:
        count = args.events // 5
        for label, conversation in (
            ("calm last message", user_turns),
            ("furious last message", angry_ending(user_turns, count)),
        ):
            view = ConversationView(
                tuple(conversation[:count]), "socketio", (Firing("rule_3", 1_090.0),)
            )
            now = view.turns[-1].timestamp
            fired = len(evaluate(ruleset, view, now))
            print(f"pure evaluation, {count} user turns, {label}, {fired} rules fire:")
            print(f"  {timed(lambda: evaluate(ruleset, view, now), args.repeat)}")  # noqa: B023
        return 0

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from handoff_component.bot.policy import HandoffPolicy
    from handoff_component.bot.tracker_view import TurnMemo, conversation_view

    domain = Domain.from_yaml(
        "version: '3.1'\nintents: [order_status, shipping_info, refund_status, complaint]\n"
        "actions: [action_handoff, utter_answer]\n"
    )
    settings = ruleset.settings
    with tempfile.TemporaryDirectory() as directory:
        policy = HandoffPolicy(
            {**HandoffPolicy.get_default_config()},
            LocalModelStorage(Path(directory)),
            Resource("bench"),
            ExecutionContext(GraphSchema({}), "bench"),
            ruleset=ruleset,
        )
        calm_events = tracker_events(user_turns, args.events)
        count = sum(type(e).__name__ == "UserUttered" for e in calm_events)
        angry_events = tracker_events(angry_ending(user_turns, count), args.events)
        assert angry_events[-1].parse_data["handoff"]["sentiment"] == -0.95
        for label, events in (
            ("calm last message", calm_events),
            ("furious last message", angry_events),
        ):
            tracker = DialogueStateTracker.from_events("bench", events, domain.slots)
            assert len(tracker.events) == args.events, len(tracker.events)
            view = conversation_view(tracker, settings)
            now = view.turns[-1].timestamp
            fired = len(evaluate(ruleset, view, now))
            print(f"-- {len(tracker.events)} events, {len(view.turns)} user turns, {label}:")
            print(f"pure evaluation, {fired} rules fire:")
            print(f"  {timed(lambda: evaluate(ruleset, view, now), args.repeat)}")  # noqa: B023
            print("tracker -> view, every turn built (a replica's first message):")
            print(f"  {timed(lambda: conversation_view(tracker, settings), args.repeat)}")  # noqa: B023
            memo = TurnMemo(settings)
            print("tracker -> view, earlier turns remembered (every later message):")
            print(
                f"  {timed(lambda: conversation_view(tracker, settings, memo=memo), args.repeat)}"  # noqa: B023
            )
            prediction = policy.predict_action_probabilities(tracker, domain)
            outcome = "action_handoff" if prediction.max_confidence else "no opinion"
            print(f"policy predict (tracker -> view -> evaluate -> prediction), {outcome}:")
            predict = policy.predict_action_probabilities
            print(f"  {timed(lambda: predict(tracker, domain), args.repeat)}")  # noqa: B023
    return 0


if __name__ == "__main__":
    sys.exit(main())
