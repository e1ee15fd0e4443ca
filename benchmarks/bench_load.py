"""Load: many concurrent socket.io conversations, a share escalating, on 1 and 2 replicas.

    .venv/bin/python benchmarks/bench_load.py            # steps 100, 500, 1000, 5000 (~15 min)
    .venv/bin/python benchmarks/bench_load.py --quick    # steps 50, 200 (~5 min)
    .venv/bin/python benchmarks/bench_load.py --steps 100,1000 --messages 100 --replicas 2

For each event delivery mode (`http`: the HandoffEventBroker's outbox,
deploy/endpoints.production.yml; `rabbitmq`: Rasa's PikaEventBroker and the service replicas
consuming, deploy/endpoints.rabbitmq.yml, in a vhost created and deleted by the script) and each
topology (1 replica, then 2:
`Stack(replicas=N)` with deploy/credentials.production.yml: PostgreSQL tracker store and tickets,
Redis lock store and socket.io manager, fresh databases created and dropped by the script), the
number of connected
customer sockets grows step by step (the sockets of a step stay connected for the next ones,
spread over the Rasa replicas in turn). At each step:

- connect: the new sockets connect over websocket and confirm their session (time and failures);
- idle: for a few seconds nothing is said; the CPU used by the Rasa, action and service processes
  and Rasa's memory are what merely holding N conversations open costs (socket.io pings);
- messages: a bounded number of customer messages (`--messages`), at most `--concurrency` in
  flight, each from an idle socket. One in ten (`--escalate`) asks for a person: message until the
  handoff message arrives; then the customer writes once more: message until it is in the ticket
  (message-to-ticket, through the event path of the mode); then an attendant (HTTP, service
  replicas in turn) claims the ticket and replies: POST until the customer's socket receives it;
  then hands back. The others ask a
  question (a different one from the conversation's previous turn) and wait for the answer (the
  baseline turn).

Reported per step: customer messages per second over the message phase, p50/p99 of a bot turn,
of a handoff turn, of message-to-ticket and of reply delivery, CPU per message of Rasa and of the
service, and errors (timeouts, wrong answers, HTTP errors). Only
127.0.0.1 is used; every wait is bounded (`--timeout`), each step's message phase too
(`--phase-limit`), and so is the run (`--time-limit`, shared equally by the topologies: a step
that would start after its topology's share is skipped, and says so).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_services import pg_execute, rabbitmq_answers, rabbitmq_vhost, redis_answers
from scripts.project_model import ensure_model
from scripts.stack import PROJECT_DIR, Ports, Stack

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# A customer's questions differ from one turn to the next: the same question asked again counts as
# a failed attempt (handoff.yml, rephrase detection), and three of them hand the conversation off.
QUESTIONS = [
    ("how long does shipping take?", "Standard delivery"),
    ("what is your return policy?", "return any item within 30 days"),
    ("how do I reset my password?", "reset your password"),
    ("how long do refunds take?", "Refunds are issued"),
]
ASK_PERSON = "I want to talk to a human"
HANDOFF = "bringing in a colleague"
HANDOFF_DEGRADED = "slow to respond"
HAND_BACK = "back with the Northwind assistant"


class Customer:
    """One customer on socket.io (python-socketio's client), with a persistent session id."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.session_id = f"load-{uuid.uuid4().hex[:12]}"
        self.sio = socketio.AsyncClient(reconnection=False, http_session=http, handle_sigint=False)
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.confirmed = asyncio.Event()
        self.escalated = False
        self.turns = 0
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("session_confirm", self._on_confirm)

    async def _on_bot(self, data: dict[str, Any]) -> None:
        self.inbox.put_nowait(data.get("text", ""))

    async def _on_confirm(self, *_: Any) -> None:
        self.confirmed.set()

    async def connect(self, timeout: float) -> None:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self.confirmed.wait(), timeout)

    async def say(self, text: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})

    async def hear(self, fragment: str, timeout: float) -> str:
        """The first message containing `fragment` (others, e.g. late extras, are skipped)."""

        async def find() -> str:
            while True:
                text = await self.inbox.get()
                if fragment in text:
                    return text

        return await asyncio.wait_for(find(), timeout)

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()


@dataclass
class StepResult:
    replicas: int
    connected: int
    mode: str = "http"
    connect_seconds: float = 0.0
    connect_errors: int = 0
    idle_cpu: dict[str, float] = field(default_factory=dict)  # % of one core, per process kind
    phase_cpu: dict[str, float] = field(default_factory=dict)  # the same, during the messages
    rasa_rss_mb: float = 0.0
    messages: int = 0
    phase_seconds: float = 0.0
    turns: list[float] = field(default_factory=list)
    handoffs: list[float] = field(default_factory=list)
    to_ticket: list[float] = field(default_factory=list)
    deliveries: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    load_average: float = 0.0

    def row(self) -> dict[str, Any]:
        per_msg = {
            kind: round(10 * self.phase_seconds * self.phase_cpu.get(kind, 0.0) / self.messages, 1)
            for kind in ("rasa", "service")
            if self.messages
        }
        return {
            "mode": self.mode,
            "replicas": self.replicas,
            "connected": self.connected,
            "connect_s": round(self.connect_seconds, 1),
            "connect_errors": self.connect_errors,
            "idle_cpu_pct": {k: round(v, 1) for k, v in self.idle_cpu.items()},
            "rasa_rss_mb": round(self.rasa_rss_mb),
            "messages": self.messages,
            "phase_cpu_pct": {k: round(v, 1) for k, v in self.phase_cpu.items()},
            # CPU per customer message, all processes but this script: cost independent of load.
            "server_cpu_ms_per_msg": round(
                10
                * self.phase_seconds
                * sum(v for k, v in self.phase_cpu.items() if k != "client")
                / self.messages,
                1,
            )
            if self.messages
            else None,
            "msgs_per_s": round(self.messages / self.phase_seconds, 2) if self.phase_seconds else 0,
            "turn_ms": percentiles(self.turns),
            "handoff_ms": percentiles(self.handoffs),
            "message_to_ticket_ms": percentiles(self.to_ticket),
            "delivery_ms": percentiles(self.deliveries),
            "cpu_ms_per_msg": per_msg,
            "errors": dict(self.errors),
            "load_average_1m": round(self.load_average, 2),
        }


def percentiles(samples: list[float]) -> dict[str, float] | None:
    if not samples:
        return None
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return {"n": len(ms), "p50": round(statistics.median(ms), 1), "p99": round(p99, 1)}


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def kind_of(name: str) -> str:
    return name.split("-")[0]  # rasa-2 -> rasa, service-2 -> service


class TicketStreams:
    """The attendant's live streams (`GET /api/stream`, SSE), one per service replica, as the
    Inbox has them: when each customer message was announced in its ticket.

    Waiting on the stream rather than polling the ticket keeps the benchmark's own requests off
    the service: polling every 20 ms while the event path lagged added hundreds of requests per
    escalation and inflated the service's CPU per message.
    """

    def __init__(self, attendants: list[tuple[str, dict[str, str]]]) -> None:
        self.attendants = attendants
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.tasks: list[asyncio.Task] = []
        self.ready: list[asyncio.Event] = []

    async def start(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        for url, headers in self.attendants:
            ready = asyncio.Event()
            self.ready.append(ready)
            self.tasks.append(loop.create_task(self._listen(url, headers, ready)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in self.ready)), timeout)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def expect(self, text: str) -> asyncio.Future[float]:
        """A future set to the time the first stream announces a message with this text."""
        future = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future

    async def _listen(self, url: str, headers: dict[str, str], ready: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{url}/api/stream", headers=headers) as response,
        ):
            event = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                ready.set()
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "message.created":
                    text = json.loads(line[6:]).get("message", {}).get("text")
                    future = self.waiting.pop(text, None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())


class Load:
    def __init__(self, stack: Stack, args: argparse.Namespace, deadline: float) -> None:
        self.stack = stack
        self.args = args
        self.deadline = deadline
        self.customers: list[Customer] = []
        self.idle: collections.deque[Customer] = collections.deque()
        self.http: aiohttp.ClientSession | None = None
        self.attendants: list[tuple[str, dict[str, str]]] = []
        self.random = random.Random(7)

    async def __aenter__(self) -> Load:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        for url in self.stack.service_urls:
            async with self.http.post(
                f"{url}/api/auth/login",
                json={"username": "sam", "password": "demo-password-sam"},
            ) as response:
                body = await response.json()
            self.attendants.append((url, {"Authorization": f"Bearer {body['token']}"}))
        self.streams = TicketStreams(self.attendants)
        await self.streams.start(self.args.timeout)
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.streams.stop()
        sem = asyncio.Semaphore(200)

        async def close(customer: Customer) -> None:
            async with sem:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(customer.sio.disconnect(), 10)

        await asyncio.gather(*(close(c) for c in self.customers))
        if self.http is not None:
            await self.http.close()

    async def grow_to(self, target: int, result: StepResult) -> None:
        urls = self.stack.rasa_urls
        sem = asyncio.Semaphore(self.args.connect_concurrency)
        assert self.http is not None
        new = [Customer(urls[i % len(urls)], self.http) for i in range(len(self.customers), target)]

        async def connect(customer: Customer) -> None:
            async with sem:
                try:
                    await customer.connect(self.args.timeout)
                except Exception as error:
                    result.connect_errors += 1
                    result.errors[f"connect: {error.__class__.__name__}"] += 1
                    return
                self.customers.append(customer)
                self.idle.append(customer)

        start = time.perf_counter()
        await asyncio.gather(*(connect(c) for c in new))
        result.connect_seconds = time.perf_counter() - start
        result.connected = len(self.customers)

    async def idle_cost(self, result: StepResult) -> None:
        processes = [p for p in self.stack.processes if p.popen.poll() is None]
        before = {p.name: cpu_seconds(p.popen.pid) for p in processes}
        client_before = cpu_seconds(os.getpid())
        start = time.perf_counter()
        await asyncio.sleep(self.args.idle)
        elapsed = time.perf_counter() - start
        # This script: the customers' side of the pings.
        result.idle_cpu["client"] = 100 * (cpu_seconds(os.getpid()) - client_before) / elapsed
        for process in processes:
            used = cpu_seconds(process.popen.pid) - before[process.name]
            kind = kind_of(process.name)
            result.idle_cpu[kind] = result.idle_cpu.get(kind, 0.0) + 100 * used / elapsed
        result.rasa_rss_mb = sum(
            rss_mb(p.popen.pid) for p in processes if kind_of(p.name) == "rasa"
        )

    def cpu_by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = {"client": cpu_seconds(os.getpid())}
        for process in self.stack.processes:
            kind = kind_of(process.name)
            totals[kind] = totals.get(kind, 0.0) + cpu_seconds(process.popen.pid)
        return totals

    def take(self, escalate: bool) -> Customer | None:
        for _ in range(len(self.idle)):
            customer = self.idle.popleft()
            if not escalate or not customer.escalated:
                return customer
            self.idle.append(customer)
        return None

    async def turn(self, customer: Customer, result: StepResult) -> None:
        question, answer = QUESTIONS[customer.turns % len(QUESTIONS)]
        customer.turns += 1
        customer.drain()
        start = time.perf_counter()
        await customer.say(question)
        await customer.hear(answer, self.args.timeout)
        result.turns.append(time.perf_counter() - start)

    async def escalation(self, customer: Customer, index: int, result: StepResult) -> None:
        assert self.http is not None
        http = self.http  # the closure below keeps the narrowed type
        customer.escalated = True
        customer.drain()
        start = time.perf_counter()
        await customer.say(ASK_PERSON)
        text = await waited("the handoff message", customer.hear("colleague", self.args.timeout))
        if HANDOFF not in text or HANDOFF_DEGRADED in text:
            result.errors["handoff not made"] += 1
            return
        result.handoffs.append(time.perf_counter() - start)

        url, headers = self.attendants[index % len(self.attendants)]

        async def call(method: str, path: str, payload: Any = None) -> Any:
            async with http.request(method, url + path, json=payload, headers=headers) as response:
                body = await response.json(content_type=None)
                if response.status >= 400:
                    raise HttpError(f"{method} {path.split('?')[0]} -> {response.status}")
                return body

        ticket_id = None
        found_by = time.monotonic() + self.args.timeout
        while ticket_id is None:
            listing = await call("GET", f"/api/tickets?conversation_id={customer.session_id}")
            if listing["tickets"]:
                ticket_id = listing["tickets"][0]["id"]
            elif time.monotonic() > found_by:
                raise StageTimeout("the ticket listed")
            else:
                await asyncio.sleep(0.05)
        written = f"order {uuid.uuid4().hex[:8]} is missing"
        in_ticket = self.streams.expect(written)
        sent = time.perf_counter()
        await customer.say(written)
        arrived = await waited(
            "the message in the ticket", asyncio.wait_for(in_ticket, self.args.timeout)
        )
        result.to_ticket.append(arrived - sent)
        await call("POST", f"/api/tickets/{ticket_id}/claim", {})
        marker = f"reply {uuid.uuid4().hex[:8]}"
        sent = time.perf_counter()
        await call("POST", f"/api/tickets/{ticket_id}/reply", {"text": marker})
        await waited("the reply", customer.hear(marker, self.args.timeout))
        result.deliveries.append(time.perf_counter() - sent)
        await call("POST", f"/api/tickets/{ticket_id}/resume", {})
        await waited("the hand-back", customer.hear(HAND_BACK, self.args.timeout))

    async def messages(self, result: StepResult) -> None:
        every = max(1, round(1 / self.args.escalate)) if self.args.escalate > 0 else 0
        jobs = iter(range(self.args.messages))
        phase_deadline = min(self.deadline, time.monotonic() + self.args.phase_limit)

        async def worker() -> None:
            for index in jobs:
                if time.monotonic() > phase_deadline:
                    result.errors["not run: phase time limit"] += 1
                    continue
                escalate = bool(every) and index % every == every - 1
                customer = self.take(escalate)
                if customer is None:
                    result.errors["no idle socket"] += 1
                    continue
                try:
                    if escalate:
                        await self.escalation(customer, index, result)
                    else:
                        await self.turn(customer, result)
                    result.messages += 1
                except StageTimeout as timeout:
                    result.errors[f"timeout (handoff: {timeout.stage})"] += 1
                except asyncio.TimeoutError:
                    result.errors["timeout (handoff)" if escalate else "timeout (turn)"] += 1
                except HttpError as error:
                    result.errors[str(error)] += 1
                except Exception as error:
                    result.errors[error.__class__.__name__] += 1
                finally:
                    self.idle.append(customer)

        cpu_before = self.cpu_by_kind()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.args.concurrency)))
        result.phase_seconds = time.perf_counter() - start
        cpu_after = self.cpu_by_kind()
        for kind, seconds in cpu_after.items():
            result.phase_cpu[kind] = (
                100 * (seconds - cpu_before.get(kind, 0.0)) / max(result.phase_seconds, 1e-9)
            )


class HttpError(Exception):
    pass


class StageTimeout(asyncio.TimeoutError):
    """A wait of an escalation that ran out: which one tells where the event path stalled."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"timed out waiting for {stage}")
        self.stage = stage


async def waited(stage: str, wait: Any) -> Any:
    try:
        return await wait
    except asyncio.TimeoutError:
        raise StageTimeout(stage) from None


async def run_topology(
    stack: Stack, replicas: int, args: argparse.Namespace, deadline: float, mode: str
) -> list[StepResult]:
    results = []
    async with Load(stack, args, deadline) as load:
        # Warm up: first parses, first action calls, connection pools.
        warm = StepResult(replicas, 0, mode)
        await load.grow_to(2 * replicas, warm)
        for index in range(2 * replicas):
            customer = load.take(escalate=index % 2 == 1)
            if customer is not None:
                try:
                    if index % 2:
                        await load.escalation(customer, index, warm)
                    else:
                        await load.turn(customer, warm)
                finally:
                    load.idle.append(customer)
        if warm.errors:
            print(f"  warm-up errors: {dict(warm.errors)}", flush=True)
        for step in args.steps:
            if time.monotonic() > deadline:
                print(f"  {replicas} replica(s), {step} sockets: skipped (time limit)", flush=True)
                continue
            result = StepResult(replicas, step, mode)
            await load.grow_to(step, result)
            await load.idle_cost(result)
            result.load_average = os.getloadavg()[0]
            await load.messages(result)
            results.append(result)
            print_step(result)
    return results


def print_step(r: StepResult) -> None:
    row = r.row()
    per_msg = row["cpu_ms_per_msg"]

    def fmt(p: dict[str, float] | None) -> str:
        return f"{p['p50']:7.1f} /{p['p99']:7.1f}" if p else "      - /      -"

    cpu = ", ".join(f"{k} {v:.1f}%" for k, v in sorted(r.idle_cpu.items()))
    print(
        f"  {r.mode} {r.replicas} replica(s) {r.connected:>5} sockets"
        f" | connect {row['connect_s']:>5} s"
        f" | idle CPU {cpu} | rasa RSS {row['rasa_rss_mb']} MB | load {row['load_average_1m']}",
        flush=True,
    )
    print(
        f"      {row['messages']} msgs at {row['msgs_per_s']} msg/s"
        f" | turn p50/p99 {fmt(row['turn_ms'])} ms | handoff {fmt(row['handoff_ms'])} ms"
        f" | message-to-ticket {fmt(row['message_to_ticket_ms'])} ms"
        f" | reply {fmt(row['delivery_ms'])} ms"
        f" | CPU {', '.join(f'{k} {v:.0f}%' for k, v in sorted(r.phase_cpu.items()))}"
        f" = {row['server_cpu_ms_per_msg']} ms/msg (servers;"
        f" rasa {per_msg.get('rasa')}, service {per_msg.get('service')})"
        f" | errors {row['errors'] or 0}",
        flush=True,
    )


async def pg(statement: str) -> None:
    await pg_execute(statement, PG_URL, timeout=5)


def production_stack(
    model: Path, replicas: int, data_dir: Path, suffix: str, mode: str = "http"
) -> Stack:
    rabbitmq = {}
    if mode == "rabbitmq":
        vhost = f"bench-load-{suffix}"
        rabbitmq = {
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_PORT": "5672",
            "RABBITMQ_VHOST": vhost,
            "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest",
            "HANDOFF_EVENTS_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        }
    endpoints = "endpoints.rabbitmq.yml" if mode == "rabbitmq" else "endpoints.production.yml"
    return Stack(
        model=model,
        ports=Ports.free(),
        data_dir=data_dir,
        replicas=replicas,
        credentials=PROJECT_DIR / "deploy" / "credentials.production.yml",
        endpoints=PROJECT_DIR / "deploy" / endpoints,
        extra_env={
            **rabbitmq,
            "TRACKER_DB_HOST": "127.0.0.1:5432",
            "TRACKER_DB_NAME": f"bench_tracker_{suffix}",
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "REDIS_LOCK_DB": "3",
            "SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/4",
            "HANDOFF_DB_URL": f"postgresql://postgres@127.0.0.1:5432/bench_handoff_{suffix}",
            # Rasa and the action server log every request at INFO; keep the logs small.
            "LOG_LEVEL": "WARNING",
        },
    )


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# Rasa replicas loading their models at once on a busy 2-core machine take minutes.
STACK_READY_TIMEOUT_S = 900.0


def main() -> int:
    # Stopped from outside (a background job ignores SIGINT), it still stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="steps 50,200; 40 messages a step")
    parser.add_argument("--steps", help="connected sockets per step (default 100,500,1000,5000)")
    parser.add_argument("--replicas", default="1,2", help="topologies to run, e.g. 1,2")
    parser.add_argument(
        "--modes", default="http,rabbitmq", help="event delivery modes to run: http,rabbitmq"
    )
    parser.add_argument("--messages", type=int, help="customer messages per step (default 150)")
    parser.add_argument("--concurrency", type=int, default=8, help="messages in flight")
    parser.add_argument("--escalate", type=float, default=0.1, help="share asking for a person")
    parser.add_argument("--idle", type=float, help="seconds of the idle window (default 10)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds any one wait lasts")
    parser.add_argument(
        "--phase-limit", type=float, default=150.0, help="seconds a step's messages"
    )
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--time-limit", type=float, help="seconds for the whole run (default 900)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    args.steps = [
        int(s) for s in (args.steps or ("50,200" if args.quick else "100,500,1000,5000")).split(",")
    ]
    args.messages = args.messages or (40 if args.quick else 150)
    args.idle = args.idle or (5.0 if args.quick else 10.0)
    args.time_limit = args.time_limit or (420.0 if args.quick else 900.0)
    modes = args.modes.split(",")
    if "rabbitmq" in modes and not (rabbitmq_answers() and shutil.which("rabbitmqctl")):
        print(
            "!!! RabbitMQ mode NOT MEASURED: RabbitMQ does not answer on 127.0.0.1:5672"
            " (or rabbitmqctl, to make a scratch vhost, is absent)",
            flush=True,
        )
        modes.remove("rabbitmq")
    # Interleaved: each replica count runs in every mode before the next one.
    topologies = [(mode, int(r)) for r in args.replicas.split(",") for mode in modes]

    if not redis_answers():
        print(
            "bench_load needs Redis on 127.0.0.1:6379 (the production lock store)", file=sys.stderr
        )
        return 2
    try:
        asyncio.run(pg("SELECT 1"))
    except Exception as error:
        print(f"bench_load needs PostgreSQL at {PG_URL}: {error}", file=sys.stderr)
        return 2
    raise_file_limit()
    model = ensure_model()
    started = time.monotonic()
    print(
        f"bench_load: steps {args.steps}, {args.messages} messages a step, {args.concurrency} in"
        f" flight, {args.escalate:.0%} escalate; {os.cpu_count()} CPUs, load"
        f" {os.getloadavg()[0]:.2f}; model {model.name}",
        flush=True,
    )
    everything: list[StepResult] = []
    for mode, replicas in topologies:
        # Each topology gets its share of the time limit, so a slow one does not starve the next.
        deadline = time.monotonic() + args.time_limit / len(topologies)
        suffix = uuid.uuid4().hex[:8]
        databases = [f"bench_tracker_{suffix}", f"bench_handoff_{suffix}"]
        for database in databases:
            asyncio.run(pg(f'CREATE DATABASE "{database}"'))
        if mode == "rabbitmq":
            rabbitmq_vhost(f"bench-load-{suffix}")
        try:
            with tempfile.TemporaryDirectory(prefix="bench-load-") as data_dir:
                stack = production_stack(model, replicas, Path(data_dir), suffix, mode)
                print(
                    f"starting {replicas} replica(s) on PostgreSQL + Redis, events: {mode} ...",
                    flush=True,
                )
                begin = time.monotonic()
                stack.start(timeout_s=STACK_READY_TIMEOUT_S)
                print(f"  started in {time.monotonic() - begin:.0f} s", flush=True)
                try:
                    everything += asyncio.run(run_topology(stack, replicas, args, deadline, mode))
                finally:
                    stack.stop()
        finally:
            for database in databases:
                asyncio.run(pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            if mode == "rabbitmq":
                rabbitmq_vhost(f"bench-load-{suffix}", delete=True)
    print(f"total {time.monotonic() - started:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r.row() for r in everything], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
