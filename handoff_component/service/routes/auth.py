"""Attendants sign in and out; `GET /api/me` tells the Inbox who is signed in.

Failed sign-ins are counted per account and per client address (ratelimit.py), atomically with
the attempt, so guessing passwords is slow: 429 with Retry-After once a limit is reached. The
password is checked off the event loop (passwords.py). Each sign-in opens a session row, and
signing out deletes it (sessions.py), so the token stops working at once.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component.service.auth import (
    SESSION_COOKIE,
    current_viewer,
    issue_token,
    read_token,
    session_cookie_options,
    signed_in,
    token_of,
)
from handoff_component.service.bodies import Login, json_body
from handoff_component.service.errors import Unauthorized

blueprint = Blueprint("auth")


@blueprint.post("/api/auth/login")
async def login(request: Request) -> HTTPResponse:
    body = Login.from_dict(json_body(request))
    ctx = request.app.ctx
    # The TCP peer, or the client a configured proxy names (settings.proxies_count).
    address = request.remote_addr or request.ip
    reservation = await ctx.login_limiter.reserve(body.username, address)
    try:
        attendant = await ctx.attendants.authenticate(body.username, body.password)
    except Unauthorized:
        raise  # the reserved failure stays counted
    except BaseException:
        await ctx.login_limiter.release(reservation)  # not a wrong guess: busy, or a fault
        raise
    await ctx.login_limiter.succeeded(reservation)
    ttl = ctx.settings.session_ttl.total_seconds()
    session_id = await ctx.sessions.open(attendant["id"])
    token = issue_token(
        ctx.settings.signing_key_for_sessions(), attendant["id"], ttl, session_id=session_id
    )
    response = json({"token": token, "expires_in": int(ttl), "attendant": attendant})
    response.cookies[SESSION_COOKIE] = token
    secure = ctx.settings.cookie_is_secure(request.scheme)
    for key, value in session_cookie_options(ttl, secure).items():
        response.cookies[SESSION_COOKIE][key] = value
    return response


@blueprint.post("/api/auth/logout")
async def logout(request: Request) -> HTTPResponse:
    """Ends this session on every replica (its token stops working) and clears the cookie."""
    token = token_of(request)
    if token:
        try:
            session = read_token(request.app.ctx.settings.signing_key_for_sessions(), token)
        except Unauthorized:
            pass  # forged or expired: nothing to end, the cookie is cleared all the same
        else:
            await request.app.ctx.sessions.close(session.attendant_id, session.session_id)
    response = json({"signed_out": True})
    response.cookies[SESSION_COOKIE] = ""
    response.cookies[SESSION_COOKIE]["max-age"] = 0
    response.cookies[SESSION_COOKIE]["path"] = "/"
    return response


@blueprint.get("/api/me")
@signed_in
async def me(request: Request) -> HTTPResponse:
    viewer = current_viewer(request)
    return json({"attendant": await request.app.ctx.attendants.get(viewer.attendant_id)})
