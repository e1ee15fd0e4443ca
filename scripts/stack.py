"""Start and stop the example bot's processes: Rasa server, action server and handoff service.

One definition used by `make run` and by the end-to-end tests, so the tests exercise exactly the
processes a user starts. Everything binds 127.0.0.1.

`Stack(replicas=2, ...)` starts the production topology (deploy/compose.yml): each replica is one
Rasa server, its own action server and one handoff service replica, named `rasa`, `actions`,
`service` for the first and `rasa-2`, `actions-2`, `service-2` for the second. Rasa replica N calls
action server N and sends its events to service replica N; service replica N reaches Rasa through
replica N's HandoffConnector. The stores (tracker, locks, tickets) are whatever `endpoints` and
`extra_env` name: shared PostgreSQL and Redis in production.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 240.0


def free_port() -> int:
    """A port nobody listens on right now, for tests that run beside `make run`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055
    service: int = 5100

    @classmethod
    def free(cls) -> Ports:
        return cls(rasa=free_port(), actions=free_port(), service=free_port())


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    ready_url: str
    log_path: Path

    @classmethod
    def spawn(
        cls,
        name: str,
        command: list[str],
        ready_url: str,
        env: dict[str, str],
        log_path: Path,
        cwd: Path = PROJECT_DIR,
    ) -> Process:
        """Start `command` in `cwd`, in its own process group (so stopping it stops its children),
        with its output appended to `log_path`, which a failure quotes."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name, popen, ready_url, log_path)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Return once `ready_url` answers; raise with the log's tail if the process exits or
        does not answer within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.popen.returncode} before it was ready; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        raise TimeoutError(
            f"{self.name} did not answer {self.ready_url} within {timeout_s:.0f} s; "
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """The bot's processes for one model, on the given ports, with state under `data_dir`.

    `project_dir` is the bot's directory (its actions package, handoff.yml): the example bot's by
    default, another bot's in the test that adds the plugin to one.
    """

    model: Path
    project_dir: Path = PROJECT_DIR
    ports: Ports = field(default_factory=Ports)
    data_dir: Path = PROJECT_DIR / ".data"
    credentials: Path = PROJECT_DIR / "credentials.yml"
    endpoints: Path = PROJECT_DIR / "endpoints.yml"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    secret: str = field(default_factory=lambda: secrets.token_hex(32))
    # Signs attendants' sessions; shared by every service replica, independent of `secret`.
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    seed: Path | None = PROJECT_DIR / "service.yml"
    # The service's explicit demo mode (`make run`): it accepts the demo seed's published
    # passwords and says so loudly. The production topology's tests turn it off.
    demo: bool = True
    processes: list[Process] = field(default_factory=list)
    # Replicas of the whole chain (Rasa, action server, service); the first one uses `ports`.
    replicas: int = 1
    replica_ports: list[Ports] = field(default_factory=list)

    def __post_init__(self) -> None:
        while len(self.replica_ports) < self.replicas - 1:
            self.replica_ports.append(Ports.free())

    def ports_of(self, replica: int) -> Ports:
        """The ports of replica 1, 2, ... (replica 1 is `ports`)."""
        return self.ports if replica == 1 else self.replica_ports[replica - 2]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports_of(n).rasa}" for n in self._replica_numbers()]

    @property
    def service_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports_of(n).service}" for n in self._replica_numbers()]

    def _replica_numbers(self) -> range:
        return range(1, self.replicas + 1)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.service}"

    def env(self) -> dict[str, str]:
        """The environment every process shares: endpoints.yml and credentials.yml read it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",
            "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
            "TRACKER_DB": str(self.data_dir / "tracker.db"),
            "CALLBACK_URL": f"http://127.0.0.1:{self.ports.rasa}/webhooks/callback/no-listener",
            "PYTHONPATH": str(self.project_dir),
            "HANDOFF_SECRET": self.secret,
            "HANDOFF_SESSION_SECRET": self.session_secret,
            "HANDOFF_SERVICE_URL": self.service_url,
            "HANDOFF_OUTBOX": str(self.data_dir / "outbox.db"),
            "HANDOFF_DB_URL": f"sqlite+aiosqlite:///{self.data_dir / 'handoff.db'}",
            "HANDOFF_ATTACHMENTS_DIR": str(self.data_dir / "attachments"),
            "HANDOFF_CONNECTOR_URL": f"{self.rasa_url}/webhooks/handoff/",
        }
        env.update(self.extra_env)
        return env

    def commands(self) -> dict[str, tuple[list[str], str]]:
        """Each process's command line and the URL that answers once it is ready, in start order."""
        service = [self.python, "-m", "handoff_component.service"]
        service += ["--port", str(self.ports.service)]
        if self.demo:
            service.append("--demo")
        if self.seed is not None:
            service += ["--seed", str(self.seed)]
        rasa = self.rasa_command(self.ports.rasa)
        actions = [self.python, "-m", "rasa_sdk", "--actions", "actions"]
        actions += ["-p", str(self.ports.actions)]
        return {
            "service": (service, f"{self.service_url}/health"),
            "actions": (actions, f"{self.actions_url}/health"),
            "rasa": (rasa, f"{self.rasa_url}/"),
        }

    def replica_env(self, replica: int) -> dict[str, str]:
        """Replica N's environment: its own action server, service replica, connector and outbox."""
        env = self.env()
        if replica == 1:
            return env
        ports = self.ports_of(replica)
        env.update(
            {
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports.actions}/webhook",
                "HANDOFF_SERVICE_URL": f"http://127.0.0.1:{ports.service}",
                "HANDOFF_OUTBOX": str(self.data_dir / f"outbox-replica-{replica}.db"),
                "HANDOFF_CONNECTOR_URL": f"http://127.0.0.1:{ports.rasa}/webhooks/handoff/",
            }
        )
        return env

    def plan(self) -> list[tuple[str, list[str], str, dict[str, str]]]:
        """Every process of the topology: name, command line, ready URL and environment.

        Replica 1 is exactly `commands()` with `env()`; replicas 2, 3, ... follow, suffixed `-N`.
        """
        env = self.env()
        plan = [(name, cmd, ready, env) for name, (cmd, ready) in self.commands().items()]
        for replica in self._replica_numbers()[1:]:
            ports = self.ports_of(replica)
            twin = Stack(
                model=self.model,
                project_dir=self.project_dir,
                ports=ports,
                data_dir=self.data_dir,
                credentials=self.credentials,
                endpoints=self.endpoints,
                python=self.python,
                secret=self.secret,
                session_secret=self.session_secret,
                seed=self.seed,
                demo=self.demo,
            )
            replica_env = self.replica_env(replica)
            for name, (cmd, ready) in twin.commands().items():
                plan.append((f"{name}-{replica}", cmd, ready, replica_env))
        return plan

    def rasa_command(self, port: int) -> list[str]:
        return [
            self.python, "-m", "rasa", "run",
            "--model", str(self.model),
            "--enable-api",
            "--interface", "127.0.0.1",
            "--port", str(port),
            "--credentials", str(self.credentials),
            "--endpoints", str(self.endpoints),
            "--cors", "*",
        ]  # fmt: skip

    def start(self, only: str | None = None, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start every process (or the one named) and return once each answers on its port.

        With several replicas, service replicas 2, 3, ... start once the first one is ready, so
        one process migrates and seeds an empty database before the others look at it.
        """
        first: list[Process] = []
        later = []
        try:
            for name, command, ready_url, env in self.plan():
                if only is not None and name != only:
                    continue
                if only is None and name.startswith("service-"):
                    later.append((name, command, ready_url, env))
                else:
                    first.append(self._spawn(name, command, ready_url, env))
            for process in first:
                process.wait_ready(timeout_s)
            for process in [self._spawn(*spec) for spec in later]:
                process.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self, only: str | None = None) -> None:
        """Stop the processes (or the one named): SIGTERM to each group, SIGKILL if it lingers."""
        stopping = [p for p in reversed(self.processes) if only is None or p.name == only]
        for process in stopping:
            if process.popen.poll() is None:
                _signal_group(process.popen, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in stopping:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.popen.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal_group(process.popen, signal.SIGKILL)
                process.popen.wait(timeout=5)
            self.processes.remove(process)

    def _spawn(self, name: str, command: list[str], ready_url: str, env: dict[str, str]) -> Process:
        log_path = self.data_dir / "logs" / f"{name}.log"
        process = Process.spawn(name, command, ready_url, env, log_path, self.project_dir)
        self.processes.append(process)
        return process


def _signal_group(popen: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, sig)
