"""Attendants sign in and out; `GET /api/me` tells the Inbox who is signed in.

Failed sign-ins are counted per username and per client address (ratelimit.py), so guessing
passwords is slow: 429 with Retry-After once the limit is reached.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component.service.auth import (
    SESSION_COOKIE,
    issue_token,
    session_cookie_options,
    viewer_of,
)
from handoff_component.service.bodies import Login, json_body
from handoff_component.service.errors import Unauthorized

blueprint = Blueprint("auth")


@blueprint.post("/api/auth/login")
async def login(request: Request) -> HTTPResponse:
    body = Login.from_dict(json_body(request))
    ctx = request.app.ctx
    address = request.remote_addr or request.ip
    await ctx.login_limiter.check(body.username, address)
    try:
        attendant = await ctx.attendants.authenticate(body.username, body.password)
    except Unauthorized:
        await ctx.login_limiter.failed(body.username, address)
        raise
    await ctx.login_limiter.succeeded(body.username)
    ttl = ctx.settings.session_ttl.total_seconds()
    token = issue_token(ctx.settings.signing_key_for_sessions(), attendant["id"], ttl)
    response = json({"token": token, "expires_in": int(ttl), "attendant": attendant})
    response.cookies[SESSION_COOKIE] = token
    for key, value in session_cookie_options(ttl, request.scheme == "https").items():
        response.cookies[SESSION_COOKIE][key] = value
    return response


@blueprint.post("/api/auth/logout")
async def logout(request: Request) -> HTTPResponse:
    response = json({"signed_out": True})
    response.cookies[SESSION_COOKIE] = ""
    response.cookies[SESSION_COOKIE]["max-age"] = 0
    response.cookies[SESSION_COOKIE]["path"] = "/"
    return response


@blueprint.get("/api/me")
async def me(request: Request) -> HTTPResponse:
    viewer = await viewer_of(request)
    return json({"attendant": await request.app.ctx.attendants.get(viewer.attendant_id)})
