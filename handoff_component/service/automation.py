"""What the service does by itself, on a timer: inactivity closes and hand-backs to the bot.

- A ticket nobody claimed within its channel's safety net (`unclaimed_timeout_seconds`) goes
  back to the bot, and closes as `unclaimed`.
- A ticket awaiting the customer's answer for longer than the inactivity limit is closed.
- A customer still waiting for a claim whose expected wait has grown to at least twice what
  they were told, and by five minutes, is told the new figure, once per ticket
  (`wait_updates`, on by default; `service/expected_wait.py`).
- A closed ticket whose reopen window has ended is handed back: the connector resumes the bot,
  and only once it confirmed (or no connector is configured) is the ticket marked handed back, so
  a Rasa outage delays the hand-back instead of leaving the customer with a paused bot.

`run_once` does one pass and is what tests call, with the settings' injectable clock.

With several replicas on PostgreSQL, each pass first takes the advisory lock
`AUTOMATION_LOCK_KEY` (`pg_try_advisory_lock`, without waiting); a replica that does not get it
skips the pass, so the connector is told to resume a conversation once, not once per replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text

from handoff_component import contract
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor
from handoff_component.service.connector_client import FAILED, ConnectorClient
from handoff_component.service.retention import purge_expired
from handoff_component.service.settings import Settings
from handoff_component.service.tickets import TicketStore

logger = logging.getLogger(__name__)

# The PostgreSQL advisory lock held for each automation pass (one replica at a time). Fixed and
# documented in docs/deployment.md; the migrations' lock is its neighbour, 4242424242.
AUTOMATION_LOCK_KEY = 4242424243

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")


@dataclass
class AutomationPass:
    unclaimed: int = 0
    closed: int = 0
    handed_back: int = 0
    hand_back_failed: int = 0
    wait_updates: int = 0
    purged: int = 0
    # Another replica held the automation lock: this one did nothing.
    skipped: bool = False


class Automation:
    def __init__(self, store: TicketStore, connector: ConnectorClient, settings: Settings) -> None:
        self.store = store
        self.connector = connector
        self.settings = settings

    async def run_once(self) -> AutomationPass:
        """One pass, unless another replica is running one right now (then `skipped`)."""
        async with self._only_this_replica() as ours:
            if not ours:
                logger.debug("automation pass skipped: another replica holds the lock")
                return AutomationPass(skipped=True)
            return await self._pass()

    @contextlib.asynccontextmanager
    async def _only_this_replica(self) -> AsyncIterator[bool]:
        """Yield whether this process may run the pass: always on SQLite (a single process).

        On PostgreSQL a session-level advisory lock, taken on a connection in autocommit mode so
        no transaction stays open while the pass waits on Rasa's connector. If the connection
        dies the server releases the lock; if unlocking fails the connection is discarded rather
        than returned to the pool still holding it.
        """
        db = self.store.db
        if not db.locks_rows:
            yield True
            return
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            ours = bool((await conn.execute(_TRY_LOCK, {"key": AUTOMATION_LOCK_KEY})).scalar())
            if not ours:
                yield False
                return
            try:
                yield True
            finally:
                try:
                    await conn.execute(_UNLOCK, {"key": AUTOMATION_LOCK_KEY})
                except Exception:
                    logger.warning("could not release the automation lock; dropping the connection")
                    await conn.invalidate()

    async def _pass(self) -> AutomationPass:
        result = AutomationPass()
        await self._hand_back_unclaimed(result)
        await self._update_waits(result)
        now = self.settings.clock()
        actor = Actor.system("inactivity")
        for ticket_id in await self.store.due_for_inactivity(now, self.settings.inactivity_timeout):
            try:
                await self.store.act(
                    ticket_id, lifecycle.InactivityTimeout(self.settings.inactivity_timeout), actor
                )
                result.closed += 1
            except lifecycle.InvalidTransition:
                pass  # the customer answered, or an attendant acted, since the query
        now = self.settings.clock()
        for ticket_id in await self.store.due_for_hand_back(now, self.settings.reopen_window):
            ticket = await self.store.get(ticket_id)
            reason = "inactivity" if ticket.resolution == "inactivity" else "closed"
            command = contract.ResumeCommand(
                conversation_id=ticket.conversation_id,
                channel=ticket.channel,
                ticket_id=ticket_id,
                reason=reason,
            )
            sent = await self.connector.send(contract.CONNECTOR_RESUME_PATH, command)
            if sent.status == FAILED:
                result.hand_back_failed += 1
                logger.warning("hand-back of ticket %s postponed: %s", ticket_id, sent.error)
                continue
            try:
                await self.store.act(
                    ticket_id,
                    lifecycle.HandBack(self.settings.reopen_window),
                    Actor.system("reopen_window"),
                )
                result.handed_back += 1
            except lifecycle.InvalidTransition:
                pass
        result.purged = (await purge_expired(self.store.db, self.settings)).tickets_purged
        return result

    async def _hand_back_unclaimed(self, result: AutomationPass) -> None:
        """The safety net: a ticket nobody claimed in time goes back to the bot.

        Rasa is told first (the customer hears that nobody is free and the bot is back); only
        once it confirmed is the ticket closed, so an outage delays this instead of closing a
        ticket whose customer still waits on a paused bot.
        """
        for ticket_id, limit in await self.store.due_for_unclaimed(self.settings.clock()):
            ticket = await self.store.get(ticket_id)
            command = contract.ResumeCommand(
                conversation_id=ticket.conversation_id,
                channel=ticket.channel,
                ticket_id=ticket_id,
                reason="unclaimed",
            )
            sent = await self.connector.send(contract.CONNECTOR_RESUME_PATH, command)
            if sent.status == FAILED:
                logger.warning("unclaimed hand-back of %s postponed: %s", ticket_id, sent.error)
                continue
            try:
                await self.store.act(
                    ticket_id, lifecycle.UnclaimedTimeout(limit), Actor.system("safety_net")
                )
                result.unclaimed += 1
            except lifecycle.InvalidTransition:
                pass  # claimed in the meantime

    async def _update_waits(self, result: AutomationPass) -> None:
        """The one update of a wait that grew a lot, to a customer still waiting for a claim.

        Sent through the connector first (the customer's channel); the ticket keeps the new
        figure, and is marked so the customer hears it once, when the connector took the
        command. Without a connector there is nobody to tell, and nothing changes.
        """
        if not self.settings.wait_updates or not self.connector.configured:
            return
        for due in await self.store.waits_grown(self.settings.clock()):
            ticket = due.ticket
            assert ticket.expected_wait_seconds is not None
            command = contract.WaitUpdateCommand(
                conversation_id=ticket.conversation_id,
                channel=ticket.channel,
                ticket_id=ticket.id,
                expected_wait_seconds=round(due.expected_wait_seconds, 3),
            )
            sent = await self.connector.send(contract.CONNECTOR_WAIT_PATH, command)
            if sent.status == FAILED:
                logger.warning("wait update of ticket %s postponed: %s", ticket.id, sent.error)
                continue
            answer = sent.answer if isinstance(sent.answer, dict) else {}
            delivered = answer.get("notice") == "delivered"
            if not delivered:
                # Refused by the platform (a closed messaging window, say), or the bot's domain
                # has no utter_handoff_wait_update: not tried again; the figure stays as told.
                logger.warning(
                    "wait update of ticket %s not delivered: %s",
                    ticket.id,
                    answer.get("notice_error") or "the domain has no utter_handoff_wait_update",
                )
            recorded = await self.store.record_wait_update(
                ticket.id,
                ticket.expected_wait_seconds,
                due.expected_wait_seconds,
                delivered=delivered,
                error=answer.get("notice_error"),
            )
            if recorded is not None:
                result.wait_updates += 1


async def run_forever(automation: Automation, settings: Settings) -> None:
    """The automation loop the app starts; a failing pass is logged and retried next tick.

    Team webhooks have a loop of their own (`WebhookSender.run_forever`): a team endpoint that
    never answers must not hold back the safety net, inactivity closes or hand-backs.
    """
    every = max(settings.automation_interval_seconds, 0.05)
    while True:
        try:
            await automation.run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("automation pass failed; retrying")
        await asyncio.sleep(every)
