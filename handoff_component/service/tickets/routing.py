"""Where a new ticket goes: the team a handoff names, else the default team, noted on the timeline;
and the team webhooks a ticket change queues in the durable outbox."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.service.models import teams, webhook_deliveries
from handoff_component.service.tickets.model import Ticket
from handoff_component.service.tickets.rows import StoreBase
from handoff_component.service.tickets.views import ticket_json

ROUTE_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Route:
    team_id: int | None
    team_name: str | None
    note: str
    has_webhook: bool
    team_display_name: str | None = None


class Routing(StoreBase):
    """Team resolution (cached briefly, as teams rarely change) and webhook queuing."""

    _routes: dict[str | None, tuple[float, Route]]

    async def resolve_team(self, conn: AsyncConnection, name: str | None) -> tuple[int | None, str]:
        """The team a handoff goes to; an unknown name falls back to the default team, noted."""
        note = ""
        if name:
            team_id = (await conn.execute(select(teams.c.id).where(teams.c.name == name))).scalar()
            if team_id is not None:
                return team_id, note
            note = f"team {name!r} is unknown"
        fallback = self.settings.default_team
        if fallback:
            team_id = (
                await conn.execute(select(teams.c.id).where(teams.c.name == fallback))
            ).scalar()
            if team_id is not None:
                return team_id, (note + f"; routed to {fallback!r}").lstrip("; ")
        return None, (note + "; left without a team (supervisors see it)").lstrip("; ")

    async def _route(self, conn: AsyncConnection, name: str | None) -> Route:
        """Where a handoff naming team `name` goes; cached briefly, as teams rarely change."""
        cached = self._routes.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        team_id, note = await self.resolve_team(conn, name)
        team_name = display_name = has_webhook = None
        if team_id is not None:
            row = (
                await conn.execute(
                    select(teams.c.name, teams.c.display_name, teams.c.webhook_url).where(
                        teams.c.id == team_id
                    )
                )
            ).one()
            team_name, display_name = row.name, row.display_name
            has_webhook = bool(row.webhook_url)
        route = Route(team_id, team_name, note, bool(has_webhook), display_name)
        self._routes[name] = (time.monotonic() + ROUTE_CACHE_SECONDS, route)
        return route

    async def _queue_webhook(
        self, conn: AsyncConnection, team_id: int | None, event: str, ticket: Ticket
    ) -> None:
        if team_id is None:
            return
        webhook_url = (
            await conn.execute(select(teams.c.webhook_url).where(teams.c.id == team_id))
        ).scalar()
        if not webhook_url:
            return
        now = self.settings.clock()
        await conn.execute(
            insert(webhook_deliveries).values(
                team_id=team_id,
                event=event,
                payload={
                    "event": event,
                    "ticket": ticket_json(ticket),
                    "occurred_at": now.isoformat(),
                },
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
