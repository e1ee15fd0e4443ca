"""The handoff as the customer and the attendant feel it, with every real process running.

    .venv/bin/python benchmarks/bench_handoff.py [--handoffs 200] [--turns 200]

Measures, on a Stack of Rasa + action server + handoff service on 127.0.0.1 (SQLite):
- a normal bot turn (the baseline, same run): a fresh socket.io conversation asks about
  shipping, until the bot's answer arrives on the socket;
- a handoff turn: a fresh conversation asks for a person, until the bot's handoff message
  arrives on the socket (the target: under 2x a normal turn);
- message to ticket: the same message, until the supervisor's live stream (SSE) announces the
  ticket;
- reply delivery: an attendant's reply posted to the service, until the customer's socket
  receives it (the target: p99 under 50 ms on this machine).
Conversations run one after another, so figures are latencies, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.project_model import ensure_model
from scripts.stack import Ports, Stack
from tests.e2e.clients import Attendant, SocketCustomer


class TicketStream:
    """The supervisor's SSE stream: when each conversation's ticket was announced."""

    def __init__(self, service_url: str, token: str) -> None:
        self.url = f"{service_url}/api/stream"
        self.token = token
        self.created: dict[str, float] = {}
        self.arrived: dict[str, asyncio.Event] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self.url, headers=headers) as response,
        ):
            event = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                self.ready.set()
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "ticket.created":
                    conversation = json.loads(line[6:])["ticket"]["conversation_id"]
                    self.created.setdefault(conversation, time.perf_counter())
                    self.arrived.setdefault(conversation, asyncio.Event()).set()

    async def wait(self, conversation: str, timeout: float = 30.0) -> float:
        await asyncio.wait_for(
            self.arrived.setdefault(conversation, asyncio.Event()).wait(), timeout
        )
        return self.created[conversation]


def summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return (
        f"{name:<44} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms"
        f"   p99 {p99:7.1f} ms   max {ms[-1]:7.1f} ms"
    )


async def normal_turn(stack: Stack) -> float:
    customer = SocketCustomer(stack.rasa_url, f"bench-turn-{uuid.uuid4().hex[:10]}")
    await customer.connect()
    try:
        start = time.perf_counter()
        await customer.say("how long does shipping take?")
        message = await customer.next_message()
        elapsed = time.perf_counter() - start
        assert "Standard delivery" in message.get("text", ""), message
        return elapsed
    finally:
        await customer.close()


async def handoff(stack: Stack, stream: TicketStream, attendant: Attendant) -> tuple[float, ...]:
    conversation = f"bench-handoff-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_url, conversation)
    await customer.connect()
    try:
        start = time.perf_counter()
        await customer.say("I want to talk to a human")
        message = await customer.next_message()
        turn = time.perf_counter() - start
        assert "colleague" in message.get("text", ""), message
        ticket_at = await stream.wait(conversation)
        to_ticket = ticket_at - start

        listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
        ticket_id = listing["tickets"][0]["id"]
        await attendant.call("POST", f"/api/tickets/{ticket_id}/claim", {})
        sent = time.perf_counter()
        reply = asyncio.create_task(customer.next_message())
        await attendant.call("POST", f"/api/tickets/{ticket_id}/reply", {"text": "Hello!"})
        received = await reply
        delivery = time.perf_counter() - sent
        assert received.get("text", "").endswith("Hello!"), received
        await attendant.call("POST", f"/api/tickets/{ticket_id}/resume", {})
        await customer.next_message()  # the hand-back
        return turn, to_ticket, delivery
    finally:
        await customer.close()


async def measure(stack: Stack, handoffs: int, turns: int) -> None:
    supervisor = Attendant(stack.service_url)
    await supervisor.sign_in("sam", "demo-password-sam")
    stream = TicketStream(stack.service_url, supervisor.headers["Authorization"][7:])
    stream.task = asyncio.create_task(stream.run())
    await asyncio.wait_for(stream.ready.wait(), 10)
    try:
        for _ in range(3):  # warm up: first parses, first action calls, connection pools
            await normal_turn(stack)
            await handoff(stack, stream, supervisor)
        normal: list[float] = []
        turn: list[float] = []
        to_ticket: list[float] = []
        delivery: list[float] = []
        for index in range(max(handoffs, turns)):
            if index < turns:
                normal.append(await normal_turn(stack))
            if index < handoffs:
                t, k, d = await handoff(stack, stream, supervisor)
                turn.append(t)
                to_ticket.append(k)
                delivery.append(d)
        print(summary("normal bot turn (baseline)", normal))
        print(summary("handoff turn: message -> handoff message", turn))
        print(summary("message -> ticket announced (SSE)", to_ticket))
        print(summary("attendant reply -> customer's socket", delivery))
        ratio = statistics.median(turn) / statistics.median(normal)
        print(f"handoff turn / normal turn, p50: {ratio:.2f}x (target < 2x)")
    finally:
        stream.task.cancel()
        await supervisor.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=200)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    model = ensure_model()
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as data_dir:
        stack = Stack(model=model, ports=Ports.free(), data_dir=Path(data_dir))
        print(f"starting the stack with {model.name} ...", flush=True)
        stack.start()
        try:
            asyncio.run(measure(stack, args.handoffs, args.turns))
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
