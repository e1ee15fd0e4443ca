"""SLA figures (`/api/metrics`), stats per trigger rule, and Prometheus text (`/metrics`)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text

from handoff_component.service import metrics
from handoff_component.service.auth import signed_in
from handoff_component.service.errors import BadRequest

blueprint = Blueprint("metrics")

DEFAULT_PERIOD_HOURS = 24 * 30


def _period_hours(request: Request) -> float:
    unknown = sorted(set(request.args) - {"hours"})
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    raw = request.args.get("hours")
    if raw is None:
        return DEFAULT_PERIOD_HOURS
    try:
        hours = float(raw)
    except ValueError:
        raise BadRequest("hours must be a number", field="hours") from None
    if not 0 < hours <= 24 * 366:
        raise BadRequest("hours must be between 0 and 8784", field="hours")
    return hours


@blueprint.get("/api/metrics")
@signed_in
async def sla(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    since = metrics.since_from(ctx.settings.clock(), _period_hours(request))
    report = await metrics.sla_report(ctx.db, since)
    report["webhooks"] = await ctx.webhooks.counts()
    return json(report)


@blueprint.get("/api/stats/rules")
@signed_in
async def rules(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    since = metrics.since_from(ctx.settings.clock(), _period_hours(request))
    return json({"since": since.isoformat(), "rules": await metrics.rule_stats(ctx.db, since)})


@blueprint.get("/metrics")
async def prometheus(request: Request) -> HTTPResponse:
    """Unauthenticated, as Prometheus scrapes it: bind the service to a private interface."""
    ctx = request.app.ctx
    since = metrics.since_from(ctx.settings.clock(), _period_hours(request))
    body = metrics.prometheus_text(
        await metrics.sla_report(ctx.db, since),
        await metrics.status_counts(ctx.db),
        await ctx.webhooks.counts(),
        ctx.bus.subscriber_count,
        ctx.bus.published,
    )
    if getattr(ctx, "event_queue", None) is not None:
        body += "\n".join(ctx.event_queue.prometheus_lines()) + "\n"
    return text(body, content_type="text/plain; version=0.0.4; charset=utf-8")
