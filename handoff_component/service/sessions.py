"""Attendants' sessions: one row per sign-in, checked on every request, deleted to revoke it.

A session token is a signed `{attendant, session id, expiry}` (auth.py), so a forged one is
refused before the database is asked; a genuine one is accepted only while its row exists and has
not expired. Signing out deletes the row; a password change, a deactivation or a role change
deletes every row of that attendant (in the same transaction as the change, attendants.py), so a
stolen or forgotten token stops working at once, on every replica.

Each revocation, and each change of what an attendant may see (teams, role), is also announced on
the event bus (`access_changed`), so a live stream that is already open re-reads its viewer and
ends if its session is gone (routes/stream.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.service.access import Viewer
from handoff_component.service.db import Database
from handoff_component.service.errors import Unauthorized
from handoff_component.service.models import attendants, sessions, team_members
from handoff_component.service.notifications import TicketEventBus, access_changed


class SessionStore:
    def __init__(
        self, db: Database, bus: TicketEventBus, *, ttl: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.bus = bus
        self.ttl = ttl
        self.clock = clock

    async def open(self, attendant_id: int) -> str:
        """A new session of the attendant; expired sessions of anyone are deleted on the way."""
        now = self.clock()
        session_id = secrets.token_urlsafe(24)
        async with self.db.write() as conn:
            await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            await conn.execute(
                insert(sessions).values(
                    id=session_id,
                    attendant_id=attendant_id,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        return session_id

    async def close(self, attendant_id: int, session_id: str) -> None:
        """Sign-out: this session only (the attendant's other browsers stay signed in)."""
        async with self.db.write() as conn:
            await conn.execute(
                delete(sessions).where(
                    sessions.c.id == session_id, sessions.c.attendant_id == attendant_id
                )
            )
        self.bus.publish(access_changed(attendant_id))

    async def viewer(self, attendant_id: int, session_id: str) -> Viewer:
        """Who this session is now: role and teams as stored; `Unauthorized` once revoked."""
        query = (
            select(attendants.c.role, attendants.c.active, team_members.c.team_id)
            .select_from(
                sessions.join(attendants, attendants.c.id == sessions.c.attendant_id).outerjoin(
                    team_members, team_members.c.attendant_id == attendants.c.id
                )
            )
            .where(
                sessions.c.id == session_id,
                sessions.c.attendant_id == attendant_id,
                sessions.c.expires_at > self.clock(),
            )
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        if not rows or not rows[0].active:
            raise Unauthorized("this session has ended (signed out, expired or revoked); sign in")
        team_ids = frozenset(r.team_id for r in rows if r.team_id is not None)
        return Viewer(attendant_id, rows[0].role, team_ids)


async def revoke_all(conn: AsyncConnection, attendant_id: int) -> None:
    """Delete every session of the attendant, inside the caller's transaction."""
    await conn.execute(delete(sessions).where(sessions.c.attendant_id == attendant_id))
