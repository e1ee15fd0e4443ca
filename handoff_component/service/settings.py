"""The service's configuration: one dataclass, filled from flags, environment or tests.

Every knob that a test needs to turn (the clock, the automation interval, the windows) is here, so
no test has to sleep or patch a module.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

DEFAULT_DB_URL = "sqlite+aiosqlite:///.data/handoff.db"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Settings:
    db_url: str = DEFAULT_DB_URL
    # Shared with Rasa's side: signs /api/handoffs and /api/events, and the connector commands.
    secret: str = ""
    # Signs attendants' session tokens; derived from `secret` when empty.
    session_secret: str = ""
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
    signature_max_skew_seconds: int = 300
    default_team: str | None = None
    # The trigger rules Rasa's HandoffPolicy was trained with, shown on the Inbox's rules page.
    rules_file: str = "handoff.yml"
    # Sign-in throttling (ratelimit.py): this many failures per username, and per client address,
    # within the window lock further tries out (429 with Retry-After) until the oldest expires.
    login_max_failures: int = 5
    login_failure_window: timedelta = timedelta(minutes=15)
    # Origins besides the service's own (its Host header) that may send cookie-authenticated
    # POST/PUT/PATCH/DELETE, e.g. "https://inbox.example.com" when a proxy rewrites Host.
    trusted_origins: tuple[str, ...] = ()
    # Days after closing that a ticket's messages, notes and texts are deleted (None: kept).
    retention_days: float | None = None
    # amqp://... : consume Rasa's events from RabbitMQ (event_queue.py) besides POST /api/events.
    events_url: str | None = None
    run_migrations: bool = True
    run_background_tasks: bool = True
    # Name of the Sanic app; unique per instance because sanic 21.12 keeps a registry of names.
    app_name: str = field(default_factory=lambda: f"handoff_service_{secrets.token_hex(4)}")
    clock: Callable[[], datetime] = utc_now

    def signing_key_for_sessions(self) -> bytes:
        base = self.session_secret or f"sessions:{self.secret}"
        return base.encode("utf-8")

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
        if env.get("HANDOFF_RETENTION_DAYS"):
            values["retention_days"] = float(env["HANDOFF_RETENTION_DAYS"])
        if env.get("HANDOFF_LOGIN_MAX_FAILURES"):
            values["login_max_failures"] = int(env["HANDOFF_LOGIN_MAX_FAILURES"])
        if env.get("HANDOFF_LOGIN_WINDOW_MINUTES"):
            values["login_failure_window"] = timedelta(
                minutes=float(env["HANDOFF_LOGIN_WINDOW_MINUTES"])
            )
        if env.get("HANDOFF_TRUSTED_ORIGINS"):
            values["trusted_origins"] = tuple(
                o.strip() for o in env["HANDOFF_TRUSTED_ORIGINS"].split(",") if o.strip()
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
