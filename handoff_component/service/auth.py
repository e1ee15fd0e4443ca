"""Who is calling: attendants with a signed session token, Rasa's side with an HMAC signature.

A session token is `<payload>.<hmac>`: the attendant, the session's id and its expiry, signed with
`HANDOFF_SESSION_SECRET`, so a forged token is refused without asking the database, and any replica
that shares the key reads it. A genuine token is then accepted only while its session row exists
(sessions.py): signing out, a password change or a deactivation ends it everywhere at once. The
attendant's role and teams are read with the session on every request. The token travels as
`Authorization: Bearer ...`, or as the `handoff_session` cookie (HttpOnly, SameSite=Strict) for
the Inbox page and its EventSource.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sanic import Request
from sanic.response import HTTPResponse

from handoff_component import contract
from handoff_component.service.access import Viewer
from handoff_component.service.errors import Forbidden, ServiceUnavailable, Unauthorized

SESSION_COOKIE = "handoff_session"


@dataclass(frozen=True)
class SessionToken:
    """What a genuine token says: whose session, which one, until when (Unix time)."""

    attendant_id: int
    session_id: str
    expires: int


def issue_token(
    key: bytes,
    attendant_id: int,
    ttl_seconds: float,
    now: float | None = None,
    *,
    session_id: str = "",
) -> str:
    expires = int((time.time() if now is None else now) + ttl_seconds)
    payload = json.dumps(
        {"a": attendant_id, "s": session_id, "e": expires}, separators=(",", ":")
    ).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_token(key: bytes, token: str, now: float | None = None) -> SessionToken:
    """What a token says; `Unauthorized` if forged, malformed or expired."""
    body, _, mac = token.partition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not mac or not hmac.compare_digest(expected, mac):
        raise Unauthorized("the session token is not valid; sign in again")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        read = SessionToken(int(payload["a"]), str(payload["s"]), int(payload["e"]))
    except (ValueError, KeyError, TypeError, RecursionError):
        raise Unauthorized("the session token is not valid; sign in again") from None
    if (time.time() if now is None else now) > read.expires:
        raise Unauthorized("the session has expired; sign in again")
    return read


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    # EventSource cannot set headers; a token in the query string is accepted for the stream only.
    if request.path.endswith("/stream"):
        return request.args.get("token")
    return None


def session_of(request: Request) -> SessionToken:
    """The genuine, unexpired session token of this request (not yet checked for revocation)."""
    token = token_of(request)
    if not token:
        raise Unauthorized("sign in first: no session token or cookie")
    return read_token(request.app.ctx.settings.signing_key_for_sessions(), token)


async def viewer_of(request: Request) -> Viewer:
    """The signed-in attendant making this request, as their live session says."""
    session = session_of(request)
    return await request.app.ctx.sessions.viewer(session.attendant_id, session.session_id)


async def supervisor_of(request: Request) -> Viewer:
    viewer = await viewer_of(request)
    if not viewer.is_supervisor:
        raise Forbidden("only supervisors may do this")
    return viewer


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse | None]])


def signed_in(handler: Handler) -> Handler:
    """The route answers signed-in attendants only: their session is checked before the handler
    runs, so before any body or query is read (an anonymous caller gets 401, never a complaint
    about a field). The handler finds the caller in `current_viewer(request)`."""

    @functools.wraps(handler)
    async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
        request.ctx.viewer = await viewer_of(request)
        return await handler(request, *args, **kwargs)

    return checked  # type: ignore[return-value]  # same signature, wrapped


def supervisors_only(handler: Handler) -> Handler:
    """As `signed_in`, and the caller must be a supervisor (403 otherwise)."""

    @functools.wraps(handler)
    async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
        request.ctx.viewer = await supervisor_of(request)
        return await handler(request, *args, **kwargs)

    return checked  # type: ignore[return-value]  # same signature, wrapped


def current_viewer(request: Request) -> Viewer:
    """The caller `signed_in` or `supervisors_only` checked for this request."""
    viewer: Viewer = request.ctx.viewer
    return viewer


def verify_rasa(request: Request) -> None:
    """Refuse a call from Rasa's side unless it carries a fresh signature of its exact body."""
    settings = request.app.ctx.settings
    if not settings.secret:
        raise ServiceUnavailable(
            "HANDOFF_SECRET is not configured; the service refuses unsigned Rasa calls"
        )
    try:
        contract.verify(
            settings.secret,
            request.headers.get(contract.TIMESTAMP_HEADER),
            request.body or b"",
            request.headers.get(contract.SIGNATURE_HEADER),
            max_skew=settings.signature_max_skew_seconds,
        )
    except contract.SignatureError as error:
        raise Unauthorized(error.message, field=error.field) from None


def session_cookie_options(ttl_seconds: float, secure: bool) -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "Strict",
        "max-age": int(ttl_seconds),
        "path": "/",
        "secure": secure,
    }
