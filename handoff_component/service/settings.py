"""The service's configuration: one dataclass, filled from flags, environment or tests.

Every knob that a test needs to turn (the clock, the automation interval, the windows) is here, so
no test has to sleep or patch a module.

A service that holds customer conversations must not start in a state where anyone can sign in as
a supervisor: `Settings.problems()` lists what is unsafe (a missing, short, placeholder or shared
secret; `contract.shared_secret` is the rule, which Rasa's side applies to the same secret) and
the app factory refuses to start on any of them, naming each variable. The one
exception is the explicit demo mode (`--demo`, `HANDOFF_DEMO=true`, what `make run` uses), which
makes up random secrets for this run and says so loudly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from handoff_component.contract.shared_secret import secret_problem
from handoff_component.service.attachments.file_types import DEFAULT_ALLOWED_TYPES

DEFAULT_DB_URL = "sqlite+aiosqlite:///.data/handoff.db"
DEFAULT_ATTACHMENTS_DIR = ".data/attachments"
ATTACHMENT_STORAGES = ("directory", "database")

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class InsecureConfiguration(Exception):
    """The settings would let strangers in; `problems` names each variable and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "refusing to start with an insecure configuration:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + '\nGenerate each secret with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"\n'
            "For a local demo only, start with --demo (HANDOFF_DEMO=true) instead."
        )


def parse_bool(variable: str, value: str) -> bool:
    if value.strip().lower() in TRUE_WORDS:
        return True
    if value.strip().lower() in FALSE_WORDS:
        return False
    raise ValueError(f"{variable} must be true or false, not {value!r}")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Settings:
    db_url: str = DEFAULT_DB_URL
    # Shared with Rasa's side: signs /api/handoffs and /api/events, and the connector commands.
    secret: str = ""
    # Signs attendants' session tokens. Independent of `secret`: whatever holds the Rasa secret
    # (Rasa, the action server, their config files) must not be able to mint a supervisor session.
    session_secret: str = ""
    # An explicit local demo: missing secrets are made up for this run, the demo seed (with its
    # published passwords) may be applied, and every start says so loudly. Never in production.
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 5100  # the action server has 5055
    # Base URL of Rasa's HandoffConnector, e.g. http://127.0.0.1:5005/webhooks/handoff/.
    connector_url: str | None = None
    connector_timeout_seconds: float = 5.0
    connector_attempts: int = 3
    reopen_window: timedelta = timedelta(minutes=15)
    inactivity_timeout: timedelta = timedelta(minutes=30)
    automation_interval_seconds: float = 30.0
    webhook_interval_seconds: float = 2.0
    webhook_max_attempts: int = 6
    webhook_backoff_seconds: float = 2.0
    webhook_timeout_seconds: float = 5.0
    session_ttl: timedelta = timedelta(hours=12)
    max_body_bytes: int = 1_000_000
    # A request's headers and body must have arrived this long after its first byte, however
    # steadily they trickle (connections.py); 0 turns the bound off.
    request_deadline_seconds: float = 30.0
    # Open connections one peer address may hold (0: no limit). Behind a proxy every
    # connection is the proxy's: there the proxy limits clients, and this is set high or to 0.
    max_connections_per_address: int = 100
    # Team webhooks in flight at once; each attempt is bounded by webhook_timeout_seconds.
    webhook_concurrency: int = 8
    signature_max_skew_seconds: int = 300
    default_team: str | None = None
    # The trigger rules Rasa's HandoffPolicy was trained with, shown on the Inbox's rules page.
    rules_file: str = "handoff.yml"
    # Sign-in throttling (ratelimit.py): this many failures per account, and (separately) per
    # client address, within the window lock further tries out (429 with Retry-After) until the
    # oldest expires. An address is shared by everyone behind one NAT, so its limit is higher.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window: timedelta = timedelta(minutes=15)
    # Password hashing (passwords.py) runs in this many threads; beyond `password_queue` waiting
    # sign-ins, more are refused at once (503, Retry-After) instead of queued without end.
    password_workers: int = 2
    password_queue: int = 32
    # Origins besides the service's own (its Host header) that may send cookie-authenticated
    # POST/PUT/PATCH/DELETE, e.g. "https://inbox.example.com" when a proxy rewrites Host.
    trusted_origins: tuple[str, ...] = ()
    # Proxies in front of the service whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (sanic's PROXIES_COUNT: how many hops append to X-Forwarded-For), or the secret a proxy
    # puts in an RFC 7239 `Forwarded` header (FORWARDED_SECRET). Unset: the headers are ignored,
    # and the client address is the TCP peer.
    proxies_count: int | None = None
    forwarded_secret: str | None = None
    # The session cookie's `Secure` flag: "true" always, "false" never, "auto" when the request
    # came over https (directly, or as a trusted proxy says). Empty: "true", "auto" in demo mode.
    cookie_secure: str = ""
    # Days after closing that a ticket's messages, notes and texts are deleted (None: kept).
    retention_days: float | None = None
    # The expected wait (expected_wait.py): a team's pace is the median time to claim of its
    # latest `wait_samples` claims within `wait_window`; below `wait_min_samples` it is unknown.
    wait_samples: int = 20
    wait_window: timedelta = timedelta(hours=24)
    wait_min_samples: int = 3
    # One message to a customer still waiting unclaimed whose expected wait has grown to at least
    # `wait_update_factor` times what they were told and by at least `wait_update_min_growth`.
    wait_updates: bool = True
    wait_update_factor: float = 2.0
    wait_update_min_growth: timedelta = timedelta(minutes=5)
    # amqp://... : consume Rasa's events from RabbitMQ (event_queue.py) besides POST /api/events.
    events_url: str | None = None
    # Files attendants upload (attachments/): where their bytes live ("directory" under
    # `attachments_dir`, or "database": a table of the service's database; empty: "database" on
    # PostgreSQL, "directory" on SQLite), the largest accepted, the types allowed (sniffed from
    # the bytes), and how long a link sent to the customer's channel stays valid.
    attachment_storage: str = ""
    attachments_dir: str = DEFAULT_ATTACHMENTS_DIR
    attachment_max_bytes: int = 10_000_000
    attachment_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    attachment_link_ttl: timedelta = timedelta(days=7)
    # The service's address as the customers' channels reach it (behind a proxy, the proxy's
    # https URL); links to attachments start with it. Empty: http://{host}:{port}.
    public_base_url: str = ""
    run_migrations: bool = True
    run_background_tasks: bool = True
    # Name of the Sanic app; unique per instance because sanic 21.12 keeps a registry of names.
    app_name: str = field(default_factory=lambda: f"handoff_service_{secrets.token_hex(4)}")
    clock: Callable[[], datetime] = utc_now

    def signing_key_for_sessions(self) -> bytes:
        if not self.session_secret:
            raise InsecureConfiguration(["HANDOFF_SESSION_SECRET is not set"])
        return self.session_secret.encode("utf-8")

    def problems(self) -> list[str]:
        """Everything that makes these settings unsafe to serve with (empty: safe)."""
        found = [
            problem
            for variable, value in (
                ("HANDOFF_SECRET", self.secret),
                ("HANDOFF_SESSION_SECRET", self.session_secret),
            )
            if (problem := secret_problem(variable, value))
        ]
        if self.secret and self.secret == self.session_secret:
            found.append(
                "HANDOFF_SESSION_SECRET equals HANDOFF_SECRET; they must be independent, or "
                "whatever holds the Rasa secret can mint supervisor sessions"
            )
        return found

    def secured(self) -> Settings:
        """These settings, checked: `InsecureConfiguration` unless safe or in demo mode.

        In demo mode each missing secret is made up for this run (sessions then end with the
        process), and the ones given are used as they are, however weak.
        """
        if not self.demo:
            problems = self.problems()
            if problems:
                raise InsecureConfiguration(problems)
            return self
        if not self.secret:
            self.secret = secrets.token_urlsafe(32)
        if not self.session_secret or self.session_secret == self.secret:
            self.session_secret = secrets.token_urlsafe(32)
        return self

    def storage_of_attachments(self) -> str:
        """Where new attachments' bytes go: the setting, or the database's own kind."""
        if self.attachment_storage:
            if self.attachment_storage not in ATTACHMENT_STORAGES:
                raise ValueError(
                    f"HANDOFF_ATTACHMENT_STORAGE must be one of {', '.join(ATTACHMENT_STORAGES)}, "
                    f"not {self.attachment_storage!r}"
                )
            return self.attachment_storage
        return "directory" if self.db_url.startswith("sqlite") else "database"

    def public_url(self) -> str:
        """The base of links the customers' channels fetch, without a trailing slash."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def cookie_is_secure(self, scheme: str) -> bool:
        mode = self.cookie_secure or ("auto" if self.demo else "true")
        if mode == "auto":
            return scheme == "https"
        return parse_bool("HANDOFF_COOKIE_SECURE", mode)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read HANDOFF_* variables; explicit overrides (command-line flags) win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        text = {
            "HANDOFF_DB_URL": "db_url",
            "HANDOFF_SECRET": "secret",
            "HANDOFF_SESSION_SECRET": "session_secret",
            "HANDOFF_HOST": "host",
            "HANDOFF_CONNECTOR_URL": "connector_url",
            "HANDOFF_DEFAULT_TEAM": "default_team",
            "HANDOFF_RULES_FILE": "rules_file",
            "HANDOFF_EVENTS_URL": "events_url",
            "HANDOFF_ATTACHMENT_STORAGE": "attachment_storage",
            "HANDOFF_ATTACHMENTS_DIR": "attachments_dir",
            "HANDOFF_PUBLIC_BASE_URL": "public_base_url",
        }
        for variable, name in text.items():
            if env.get(variable):
                values[name] = env[variable]
        if env.get("HANDOFF_PORT"):
            values["port"] = int(env["HANDOFF_PORT"])
        minutes = {
            "HANDOFF_REOPEN_WINDOW_MINUTES": "reopen_window",
            "HANDOFF_INACTIVITY_MINUTES": "inactivity_timeout",
        }
        for variable, name in minutes.items():
            if env.get(variable):
                values[name] = timedelta(minutes=float(env[variable]))
        if env.get("HANDOFF_AUTOMATION_INTERVAL_SECONDS"):
            values["automation_interval_seconds"] = float(
                env["HANDOFF_AUTOMATION_INTERVAL_SECONDS"]
            )
        if env.get("HANDOFF_REQUEST_DEADLINE_SECONDS"):
            values["request_deadline_seconds"] = float(env["HANDOFF_REQUEST_DEADLINE_SECONDS"])
        if env.get("HANDOFF_MAX_CONNECTIONS_PER_ADDRESS"):
            values["max_connections_per_address"] = int(env["HANDOFF_MAX_CONNECTIONS_PER_ADDRESS"])
        if env.get("HANDOFF_WEBHOOK_TIMEOUT_SECONDS"):
            values["webhook_timeout_seconds"] = float(env["HANDOFF_WEBHOOK_TIMEOUT_SECONDS"])
        if env.get("HANDOFF_RETENTION_DAYS"):
            values["retention_days"] = float(env["HANDOFF_RETENTION_DAYS"])
        if env.get("HANDOFF_LOGIN_MAX_FAILURES"):
            values["login_max_failures"] = int(env["HANDOFF_LOGIN_MAX_FAILURES"])
        if env.get("HANDOFF_LOGIN_MAX_FAILURES_PER_ADDRESS"):
            values["login_max_failures_per_address"] = int(
                env["HANDOFF_LOGIN_MAX_FAILURES_PER_ADDRESS"]
            )
        if env.get("HANDOFF_LOGIN_WINDOW_MINUTES"):
            values["login_failure_window"] = timedelta(
                minutes=float(env["HANDOFF_LOGIN_WINDOW_MINUTES"])
            )
        if env.get("HANDOFF_WAIT_SAMPLES"):
            values["wait_samples"] = int(env["HANDOFF_WAIT_SAMPLES"])
        if env.get("HANDOFF_WAIT_MIN_SAMPLES"):
            values["wait_min_samples"] = int(env["HANDOFF_WAIT_MIN_SAMPLES"])
        if env.get("HANDOFF_WAIT_WINDOW_HOURS"):
            values["wait_window"] = timedelta(hours=float(env["HANDOFF_WAIT_WINDOW_HOURS"]))
        if env.get("HANDOFF_WAIT_UPDATES"):
            values["wait_updates"] = parse_bool("HANDOFF_WAIT_UPDATES", env["HANDOFF_WAIT_UPDATES"])
        if env.get("HANDOFF_WAIT_UPDATE_MIN_GROWTH_MINUTES"):
            values["wait_update_min_growth"] = timedelta(
                minutes=float(env["HANDOFF_WAIT_UPDATE_MIN_GROWTH_MINUTES"])
            )
        if env.get("HANDOFF_ATTACHMENT_MAX_BYTES"):
            values["attachment_max_bytes"] = int(env["HANDOFF_ATTACHMENT_MAX_BYTES"])
        if env.get("HANDOFF_ATTACHMENT_TYPES"):
            values["attachment_types"] = tuple(
                t.strip().lower() for t in env["HANDOFF_ATTACHMENT_TYPES"].split(",") if t.strip()
            )
        if env.get("HANDOFF_ATTACHMENT_LINK_HOURS"):
            values["attachment_link_ttl"] = timedelta(
                hours=float(env["HANDOFF_ATTACHMENT_LINK_HOURS"])
            )
        if env.get("HANDOFF_DEMO"):
            values["demo"] = parse_bool("HANDOFF_DEMO", env["HANDOFF_DEMO"])
        if env.get("HANDOFF_PROXIES_COUNT"):
            values["proxies_count"] = int(env["HANDOFF_PROXIES_COUNT"])
        if env.get("HANDOFF_FORWARDED_SECRET"):
            values["forwarded_secret"] = env["HANDOFF_FORWARDED_SECRET"]
        if env.get("HANDOFF_COOKIE_SECURE"):
            word = env["HANDOFF_COOKIE_SECURE"].strip().lower()
            if word != "auto":
                word = str(parse_bool("HANDOFF_COOKIE_SECURE", word)).lower()
            values["cookie_secure"] = word
        if env.get("HANDOFF_TRUSTED_ORIGINS"):
            values["trusted_origins"] = tuple(
                o.strip() for o in env["HANDOFF_TRUSTED_ORIGINS"].split(",") if o.strip()
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
