"""The OpenAPI document of this API, and a health check for load balancers."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff_component.service.openapi import load_openapi

blueprint = Blueprint("docs")


@blueprint.get("/openapi.json")
async def openapi(request: Request) -> HTTPResponse:
    return json(load_openapi())


@blueprint.get("/health")
async def health(request: Request) -> HTTPResponse:
    """200 once the database answers; a load balancer keeps a replica out until then."""
    async with request.app.ctx.db.read() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return json({"status": "ok"})
