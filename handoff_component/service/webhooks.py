"""Team webhooks: deliver the outbox rows written with each new ticket and transfer.

A row is retried with exponential backoff until the team's endpoint answers 2xx or the attempts
run out (then it stays `failed`, visible in /api/metrics); an answer that says the request itself
is wrong (a 4xx other than 408, 425 and 429: `handoff_component.signed_http`) fails it at once.
Deliveries run in a loop of their own, apart from the automation, several at once
(`webhook_concurrency`), each bounded by `webhook_timeout_seconds`: a team whose endpoint never
answers delays neither the other teams' webhooks beyond that timeout nor any ticket's safety net.
The body is signed with the team's webhook secret (or the service secret) in the same way Rasa's
calls are, so the receiver can use `handoff_component.contract.verify`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from handoff_component.service.db import Database
from handoff_component.service.models import teams, webhook_deliveries
from handoff_component.service.settings import Settings
from handoff_component.signed_http import Unreachable, encode_json, post_signed

logger = logging.getLogger(__name__)

WEBHOOK_EVENT_HEADER = "X-Handoff-Event"


class WebhookSender:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver_due(self, batch_size: int = 50) -> int:
        """Try every delivery that is due now; returns how many were attempted."""
        now = self.settings.clock()
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        webhook_deliveries,
                        teams.c.webhook_url,
                        teams.c.webhook_secret,
                    )
                    .join(teams, teams.c.id == webhook_deliveries.c.team_id)
                    .where(
                        webhook_deliveries.c.status == "pending",
                        webhook_deliveries.c.next_attempt_at <= now,
                    )
                    .order_by(webhook_deliveries.c.id)
                    .limit(batch_size)
                )
            ).all()
        # Teams in parallel, each team's deliveries in order (a transfer after its creation).
        slots = asyncio.Semaphore(max(1, self.settings.webhook_concurrency))
        by_team: dict[int, list[Any]] = {}
        for row in rows:
            by_team.setdefault(row.team_id, []).append(row)

        async def deliver_in_order(team_rows: list[Any]) -> None:
            async with slots:
                for row in team_rows:
                    try:
                        await self._attempt(row)
                    except Exception as error:
                        logger.error("webhook %s: attempt failed: %r", row.id, error)

        await asyncio.gather(*(deliver_in_order(team_rows) for team_rows in by_team.values()))
        return len(rows)

    async def run_forever(self) -> None:
        """The delivery loop the app starts; a failing round is logged and retried."""
        every = max(self.settings.webhook_interval_seconds, 0.05)
        while True:
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("webhook delivery round failed; retrying")
            await asyncio.sleep(every)

    async def _lease(self, row: Any) -> bool:
        """Take the row for this attempt, so two replicas never post the same delivery at once."""
        lease_until = self.settings.clock() + timedelta(
            seconds=self.settings.webhook_timeout_seconds + 5
        )
        async with self.db.write() as conn:
            result = await conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.id == row.id,
                    webhook_deliveries.c.status == "pending",
                    webhook_deliveries.c.attempts == row.attempts,
                    webhook_deliveries.c.next_attempt_at == row.next_attempt_at,
                )
                .values(next_attempt_at=lease_until)
            )
            return result.rowcount == 1

    async def _attempt(self, row: Any) -> None:
        if not await self._lease(row):
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
            )
        attempts = row.attempts + 1
        error = None
        refused = False
        if not row.webhook_url:
            error = "the team no longer has a webhook URL"
        else:
            try:
                answer = await post_signed(
                    self._session,
                    row.webhook_url,
                    encode_json(row.payload),
                    row.webhook_secret or self.settings.secret,
                    {WEBHOOK_EVENT_HEADER: row.event},
                )
            except Unreachable as exc:
                error = str(exc)
            else:
                if not answer.ok:
                    error = f"answered {answer.status}"
                    refused = answer.refused
        now = self.settings.clock()
        if error is None:
            values: dict[str, Any] = {
                "status": "delivered",
                "delivered_at": now,
                "last_error": None,
            }
        elif refused or attempts >= self.settings.webhook_max_attempts:
            values = {"status": "failed", "last_error": error}
            logger.warning("webhook %s gave up after %s attempts: %s", row.id, attempts, error)
        else:
            delay = self.settings.webhook_backoff_seconds * 2 ** (attempts - 1)
            values = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": error}
        async with self.db.write() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == row.id)
                .values(attempts=attempts, **values)
            )

    async def counts(self) -> dict[str, int]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(webhook_deliveries.c.status, func.count()).group_by(
                    webhook_deliveries.c.status
                )
            )
            found = dict(rows.all())
        return {s: int(found.get(s, 0)) for s in ("pending", "delivered", "failed")}
