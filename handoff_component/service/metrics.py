"""SLA figures per team and attendant, stats per trigger rule, and their Prometheus rendering.

Figures come from the tickets' own timestamps, which the lifecycle sets exactly once each:
time to claim (created -> claimed), time to first response (created -> first attendant reply),
resolution time (created -> closed) and reopen rate (reopened tickets / tickets ever closed).
They are computed in Python over the period asked for, which keeps the SQL identical on SQLite and
PostgreSQL; a month of a busy desk is some tens of thousands of rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from handoff_component.service.db import Database
from handoff_component.service.models import attendants, teams, tickets


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p90": None}
    ordered = sorted(values)
    p90_index = min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))
    return {
        "count": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "p50": round(statistics.median(ordered), 3),
        "p90": round(ordered[p90_index], 3),
    }


def sla_of(rows: Iterable[Any]) -> dict[str, Any]:
    """The four SLA figures of a group of tickets."""
    claim: list[float] = []
    first_response: list[float] = []
    resolution: list[float] = []
    tickets_count = reopened = ever_closed = 0
    for row in rows:
        tickets_count += 1
        for bucket, end in (
            (claim, row.claimed_at),
            (first_response, row.first_response_at),
            (resolution, row.closed_at),
        ):
            seconds = _seconds(row.created_at, end)
            if seconds is not None:
                bucket.append(seconds)
        if row.status == "closed" or row.reopen_count > 0:
            ever_closed += 1
        if row.reopen_count > 0:
            reopened += 1
    return {
        "tickets": tickets_count,
        "time_to_claim_seconds": _summary(claim),
        "time_to_first_response_seconds": _summary(first_response),
        "resolution_seconds": _summary(resolution),
        "reopen_rate": round(reopened / ever_closed, 4) if ever_closed else None,
    }


async def sla_report(db: Database, since: datetime) -> dict[str, Any]:
    query = select(
        tickets.c.team_id,
        tickets.c.assignee_id,
        tickets.c.status,
        tickets.c.created_at,
        tickets.c.claimed_at,
        tickets.c.first_response_at,
        tickets.c.closed_at,
        tickets.c.reopen_count,
    ).where(tickets.c.created_at >= since)
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
        team_names = dict((await conn.execute(select(teams.c.id, teams.c.name))).all())
        attendant_names = dict(
            (await conn.execute(select(attendants.c.id, attendants.c.username))).all()
        )
    by_team: dict[int | None, list[Any]] = defaultdict(list)
    by_attendant: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_team[row.team_id].append(row)
        if row.assignee_id is not None:
            by_attendant[row.assignee_id].append(row)
    return {
        "since": since.isoformat(),
        "overall": sla_of(rows),
        "teams": [
            {"team_id": team_id, "team": team_names.get(team_id), **sla_of(group)}
            for team_id, group in sorted(by_team.items(), key=lambda item: item[0] or 0)
        ],
        "attendants": [
            {"attendant_id": aid, "username": attendant_names.get(aid), **sla_of(group)}
            for aid, group in sorted(by_attendant.items())
        ],
    }


async def rule_stats(db: Database, since: datetime) -> list[dict[str, Any]]:
    """How often each trigger rule fired, and how its tickets ended."""
    query = (
        select(
            tickets.c.rule,
            tickets.c.status,
            tickets.c.resolution,
            func.count().label("n"),
            func.sum(tickets.c.reopen_count).label("reopens"),
        )
        .where(tickets.c.created_at >= since)
        .group_by(tickets.c.rule, tickets.c.status, tickets.c.resolution)
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    rules: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = rules.setdefault(
            row.rule,
            {"rule": row.rule, "tickets": 0, "active": 0, "outcomes": {}, "reopens": 0},
        )
        entry["tickets"] += row.n
        entry["reopens"] += int(row.reopens or 0)
        if row.status == "closed":
            entry["outcomes"][row.resolution] = entry["outcomes"].get(row.resolution, 0) + row.n
        else:
            entry["active"] += row.n
    return sorted(rules.values(), key=lambda e: (-e["tickets"], e["rule"]))


async def status_counts(db: Database) -> list[tuple[str | None, str, int]]:
    query = (
        select(teams.c.name, tickets.c.status, func.count())
        .select_from(tickets.outerjoin(teams, teams.c.id == tickets.c.team_id))
        .group_by(teams.c.name, tickets.c.status)
    )
    async with db.read() as conn:
        return [(r[0], r[1], int(r[2])) for r in (await conn.execute(query)).all()]


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(
    report: dict[str, Any],
    counts: list[tuple[str | None, str, int]],
    webhooks: dict[str, int],
    subscribers: int,
    published: int,
) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP handoff_tickets Tickets by team and status.",
        "# TYPE handoff_tickets gauge",
    ]
    for team, status, n in sorted(counts, key=lambda c: (c[0] or "", c[1])):
        lines.append(f'handoff_tickets{{team="{_label(team or "")}",status="{status}"}} {n}')
    figures = (
        ("time_to_claim_seconds", "Seconds from ticket creation to claim."),
        ("time_to_first_response_seconds", "Seconds from creation to first attendant reply."),
        ("resolution_seconds", "Seconds from creation to close."),
    )
    for key, help_text in figures:
        name = f"handoff_{key}"
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} summary"]
        for team in report["teams"]:
            figure = team[key]
            label = _label(team["team"] or "")
            for quantile, field in (("0.5", "p50"), ("0.9", "p90")):
                if figure[field] is not None:
                    lines.append(f'{name}{{team="{label}",quantile="{quantile}"}} {figure[field]}')
            if figure["count"]:
                total = figure["mean"] * figure["count"]
                lines.append(f'{name}_sum{{team="{label}"}} {round(total, 3)}')
            lines.append(f'{name}_count{{team="{label}"}} {figure["count"]}')
    lines += [
        "# HELP handoff_reopen_rate Reopened / ever-closed tickets.",
        "# TYPE handoff_reopen_rate gauge",
    ]
    for team in report["teams"]:
        if team["reopen_rate"] is not None:
            label = _label(team["team"] or "")
            lines.append(f'handoff_reopen_rate{{team="{label}"}} {team["reopen_rate"]}')
    lines += [
        "# HELP handoff_webhook_deliveries Team webhook deliveries by status.",
        "# TYPE handoff_webhook_deliveries gauge",
    ]
    for status, n in sorted(webhooks.items()):
        lines.append(f'handoff_webhook_deliveries{{status="{status}"}} {n}')
    lines += [
        "# HELP handoff_stream_subscribers Open live streams.",
        "# TYPE handoff_stream_subscribers gauge",
        f"handoff_stream_subscribers {subscribers}",
        "# HELP handoff_notifications_total Ticket notifications published by this process.",
        "# TYPE handoff_notifications_total counter",
        f"handoff_notifications_total {published}",
    ]
    return "\n".join(lines) + "\n"


def since_from(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)
