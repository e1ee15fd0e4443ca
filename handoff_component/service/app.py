"""The app factory: `create_app(settings)` wires stores, blueprints, listeners and error handlers.

Nothing lives at module level: every instance has its own engine, bus and background task, so tests
can run several apps side by side (each with a unique Sanic name, as sanic 21.12 keeps a registry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json
from sqlalchemy import exc as sa_exc

from handoff_component.contract import ContractError
from handoff_component.core.ticket_lifecycle import InvalidTransition
from handoff_component.service.attachments.store import AttachmentStore
from handoff_component.service.attendants import AttendantStore
from handoff_component.service.automation import Automation, run_forever
from handoff_component.service.bodies import check_path_ids, check_query_text
from handoff_component.service.connections import BoundedHttpProtocol
from handoff_component.service.connector_client import ConnectorClient
from handoff_component.service.conversations import ConversationStore
from handoff_component.service.db import Database, create_engine, migrate
from handoff_component.service.errors import ApiError
from handoff_component.service.event_queue import start_event_queue
from handoff_component.service.event_relay import start_relay
from handoff_component.service.notifications import TicketEventBus
from handoff_component.service.passwords import PasswordHasher
from handoff_component.service.ratelimit import LoginLimiter
from handoff_component.service.routes import (
    attachments,
    auth,
    conversations,
    docs,
    metrics,
    rasa,
    stream,
    teams,
    tickets,
)
from handoff_component.service.routes import inbox as inbox_routes
from handoff_component.service.security import add_security_headers, check_csrf
from handoff_component.service.sessions import SessionStore
from handoff_component.service.settings import Settings
from handoff_component.service.teams import TeamStore
from handoff_component.service.tickets import TicketStore
from handoff_component.service.webhooks import WebhookSender

logger = logging.getLogger(__name__)

BLUEPRINTS = (rasa, auth, tickets, attachments, teams, conversations, metrics, stream, docs)

DEMO_WARNING = (
    "DEMO MODE: secrets made up for this run, the demo seed's published passwords accepted, "
    "session cookies without Secure over http. Never expose this service; production runs "
    "without --demo, with HANDOFF_SECRET and HANDOFF_SESSION_SECRET set."
)


def service_context(settings: Settings) -> SimpleNamespace:
    """What one service instance holds before its database is open: the settings, the bus of
    live ticket events and the client of Rasa's connector. `start` adds the stores; the app is
    built around it, and a CLI command uses it without any app."""
    return SimpleNamespace(
        settings=settings,
        bus=TicketEventBus(),
        stream_keepalive_seconds=stream.KEEPALIVE_SECONDS,
        connector=ConnectorClient(
            settings.connector_url,
            settings.secret,
            timeout_seconds=settings.connector_timeout_seconds,
            attempts=settings.connector_attempts,
        ),
    )


def create_app(settings: Settings, *, seed_file: str | None = None) -> Sanic:
    """The service, or `InsecureConfiguration` naming what is missing (see `Settings.secured`).

    The administrative commands (migrate, seed, create-attendant) use `service_context` and
    `start` without an app: they never listen, sign or verify anything, so they need no secrets.
    """
    settings = settings.secured()
    if settings.demo:
        logger.warning(DEMO_WARNING)
    app = Sanic(settings.app_name, ctx=service_context(settings))
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    # Forwarded headers are believed only as far as the operator says a proxy sets them.
    app.config.PROXIES_COUNT = settings.proxies_count
    app.config.FORWARDED_SECRET = settings.forwarded_secret
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.ACCESS_LOG = False
    for module in BLUEPRINTS:
        app.blueprint(module.blueprint)
    app.blueprint(inbox_routes.blueprint)
    app.register_middleware(check_path_ids, "request")
    app.register_middleware(check_query_text, "request")
    app.register_middleware(check_csrf, "request")
    app.register_middleware(add_security_headers, "response")

    @app.before_server_start
    async def open_database(app: Sanic, _loop: Any) -> None:
        await start(app.ctx, seed_file)
        # The server consumes Rasa's events from RabbitMQ when HANDOFF_EVENTS_URL is set; the
        # CLI commands that share `start` (migrate, seed) do not.
        app.ctx.event_queue = await start_event_queue(settings, app.ctx.tickets)

    @app.after_server_start
    async def start_background(app: Sanic, _loop: Any) -> None:
        # Two loops, so a team webhook that never answers cannot hold back the safety net,
        # inactivity closes and hand-backs (and the other way round).
        if settings.run_background_tasks:
            loop = asyncio.get_running_loop()
            app.ctx.background = [
                loop.create_task(run_forever(app.ctx.automation, settings)),
                loop.create_task(app.ctx.webhooks.run_forever()),
            ]

    @app.before_server_stop
    async def stop_background(app: Sanic, _loop: Any) -> None:
        for task in getattr(app.ctx, "background", []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @app.after_server_stop
    async def close_database(app: Sanic, _loop: Any) -> None:
        await stop(app.ctx)

    app.error_handler.add(Exception, _error_response)
    return app


def server_options(app: Sanic) -> dict[str, Any]:
    """What `app.run` / `app.create_server` need besides host and port: the bounded protocol."""
    return {"protocol": BoundedHttpProtocol}


async def start(ctx: SimpleNamespace, seed_file: str | None = None) -> None:
    """Open the database, migrate it and build the stores into `ctx` (`service_context`); the
    app's start-up listener calls it, and so does each CLI command."""
    settings: Settings = ctx.settings
    db = Database(create_engine(settings.db_url))
    if settings.run_migrations:
        await migrate(db.engine)
    ctx.db = db
    ctx.tickets = TicketStore(db, ctx.bus, settings)
    ctx.attachments = AttachmentStore(db, settings)
    ctx.passwords = PasswordHasher(settings.password_workers, settings.password_queue)
    ctx.attendants = AttendantStore(db, settings, ctx.bus, ctx.passwords)
    ctx.sessions = SessionStore(db, ctx.bus, ttl=settings.session_ttl, clock=settings.clock)
    ctx.teams = TeamStore(db, settings)
    ctx.conversations = ConversationStore(db, settings)
    ctx.login_limiter = LoginLimiter(
        db,
        max_failures=settings.login_max_failures,
        max_failures_per_address=settings.login_max_failures_per_address,
        window=settings.login_failure_window,
        clock=settings.clock,
    )
    ctx.webhooks = WebhookSender(db, settings)
    ctx.automation = Automation(ctx.tickets, ctx.connector, settings)
    # Replicas on PostgreSQL share their live events through LISTEN/NOTIFY; None on SQLite.
    ctx.relay = await start_relay(settings.db_url, ctx.bus, ctx.tickets)
    if seed_file:
        from handoff_component.service.seed import apply_seed

        counts = await apply_seed(seed_file, ctx.teams, ctx.attendants, allow_demo=settings.demo)
        logger.info("seeded from %s: %s", seed_file, counts)
    await ctx.connector.start()


async def stop(ctx: SimpleNamespace) -> None:
    if getattr(ctx, "event_queue", None) is not None:
        await ctx.event_queue.stop()
    if getattr(ctx, "relay", None) is not None:
        await ctx.relay.stop()
    await ctx.connector.close()
    if hasattr(ctx, "webhooks"):
        await ctx.webhooks.close()
    if hasattr(ctx, "passwords"):
        ctx.passwords.close()
    if hasattr(ctx, "db"):
        await ctx.db.dispose()


def _error_response(request: Request, exception: Exception) -> HTTPResponse:
    if isinstance(exception, ApiError):
        return json(exception.body(), status=exception.status, headers=exception.headers())
    if isinstance(exception, ContractError):
        status = 401 if exception.__class__.__name__ == "SignatureError" else 422
        code = "bad_signature" if status == 401 else "invalid"
        return json(
            {"error": {"code": code, "message": exception.message, "field": exception.field}},
            status=status,
        )
    if isinstance(exception, InvalidTransition):
        return json(
            {
                "error": {
                    "code": "invalid_transition",
                    "message": str(exception),
                    "field": None,
                    "action": exception.action,
                    "status": exception.status.value,
                }
            },
            status=409,
        )
    if isinstance(exception, SanicException):
        status = getattr(exception, "status_code", 500) or 500
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            status, "http_error"
        )
        return json(
            {"error": {"code": code, "message": str(exception), "field": None}}, status=status
        )
    if _database_unavailable(exception):
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        return json(
            {
                "error": {
                    "code": "database_unavailable",
                    "message": "the database is unavailable; nothing was changed, try again",
                    "field": None,
                }
            },
            status=503,
            headers={"Retry-After": "5"},
        )
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return json(
        {
            "error": {
                "code": "internal",
                "message": "internal error; see the service log",
                "field": None,
            }
        },
        status=500,
    )


def _database_unavailable(exception: Exception) -> bool:
    """A lost or refused database connection is an outage to retry, not a bug to log as one.

    Each request runs in one transaction, so when the connection goes the transaction is rolled
    back whole: answering 503 with Retry-After tells a client (the Inbox, the event broker) the
    truth, that nothing was stored and the same request can be sent again.
    """
    if isinstance(exception, sa_exc.DBAPIError) and exception.connection_invalidated:
        return True
    return isinstance(
        exception,
        (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError),
    )
