"""Attendants: who they are, their role, their password (scrypt-hashed) and their teams.

A change of password, role or `active` ends every session of the attendant in the same
transaction; any change of what they may see (those, and their teams) is announced on the event
bus after the commit, so their open live streams re-read it (sessions.py).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handoff_component.service.db import Database
from handoff_component.service.errors import Conflict, NotFound, Unauthorized
from handoff_component.service.models import attendants, team_members, teams
from handoff_component.service.notifications import TicketEventBus, access_changed
from handoff_component.service.passwords import DUMMY_HASH, PasswordHasher
from handoff_component.service.sessions import revoke_all
from handoff_component.service.settings import Settings

ROLES = ("attendant", "supervisor")
# Changes after which every session of the attendant ends: they must sign in again.
REVOKING = frozenset({"password_hash", "active", "role"})


def attendant_view(row: Any, team_rows: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "active": bool(row.active),
        "teams": [{"id": t.id, "name": t.name} for t in team_rows],
    }


class AttendantStore:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        bus: TicketEventBus | None = None,
        passwords: PasswordHasher | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.bus = bus or TicketEventBus()
        self.passwords = passwords or PasswordHasher()

    async def create(
        self,
        *,
        username: str,
        display_name: str,
        password: str,
        role: str = "attendant",
        team_names: list[str] | None = None,
    ) -> dict[str, Any]:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        password_hash = await self.passwords.hash(password)
        async with self.db.write() as conn:
            try:
                async with conn.begin_nested():
                    result = await conn.execute(
                        insert(attendants).values(
                            username=username,
                            display_name=display_name,
                            role=role,
                            password_hash=password_hash,
                            active=True,
                            created_at=self.settings.clock(),
                        )
                    )
            except IntegrityError:
                raise Conflict(f"username {username!r} is taken", field="username") from None
            attendant_id = result.inserted_primary_key[0]
            for name in team_names or []:
                team_id = (
                    await conn.execute(select(teams.c.id).where(teams.c.name == name))
                ).scalar()
                if team_id is None:
                    raise NotFound(f"team {name!r} does not exist", field="teams")
                await conn.execute(
                    insert(team_members).values(team_id=team_id, attendant_id=attendant_id)
                )
        return await self.get(attendant_id)

    async def upsert(
        self,
        *,
        username: str,
        display_name: str,
        password: str | None,
        role: str,
        team_names: list[str],
        reset_password: bool = False,
    ) -> dict[str, Any]:
        """Create, or bring in line with a seed file.

        The password is create-only: an existing attendant keeps theirs (they may have changed
        the one they were given) unless `reset_password` says to set the file's again.
        """
        async with self.db.read() as conn:
            existing = (
                await conn.execute(select(attendants.c.id).where(attendants.c.username == username))
            ).scalar()
        if existing is None:
            return await self.create(
                username=username,
                display_name=display_name,
                password=password or secrets.token_urlsafe(16),
                role=role,
                team_names=team_names,
            )
        values: dict[str, Any] = {"display_name": display_name, "role": role}
        if password and reset_password:
            values["password"] = password
        await self.update(existing, values, team_names)
        return await self.get(existing)

    async def update(
        self, attendant_id: int, values: dict[str, Any], team_names: list[str] | None = None
    ) -> dict[str, Any]:
        values = dict(values)
        if "password" in values:
            # Pop before building the row: the plain password must never reach the table.
            values["password_hash"] = await self.passwords.hash(values.pop("password"))
        async with self.db.write() as conn:
            current = (
                await conn.execute(select(attendants).where(attendants.c.id == attendant_id))
            ).first()
            if current is None:
                raise NotFound(f"attendant {attendant_id} does not exist", field="attendant_id")
            before_teams = set(
                (
                    await conn.execute(
                        select(team_members.c.team_id).where(
                            team_members.c.attendant_id == attendant_id
                        )
                    )
                ).scalars()
            )
            # A seed applied at every start sets the same role again: only real changes count.
            changed = {
                k for k, v in values.items() if k == "password_hash" or current._mapping[k] != v
            }
            if values:
                await conn.execute(
                    update(attendants).where(attendants.c.id == attendant_id).values(**values)
                )
            if REVOKING & changed:
                await revoke_all(conn, attendant_id)
            if team_names is not None:
                team_ids = []
                for name in team_names:
                    team_id = (
                        await conn.execute(select(teams.c.id).where(teams.c.name == name))
                    ).scalar()
                    if team_id is None:
                        raise NotFound(f"team {name!r} does not exist", field="teams")
                    team_ids.append(team_id)
                await conn.execute(
                    delete(team_members).where(team_members.c.attendant_id == attendant_id)
                )
                for team_id in sorted(set(team_ids)):
                    await conn.execute(
                        insert(team_members).values(team_id=team_id, attendant_id=attendant_id)
                    )
                if set(team_ids) != before_teams:
                    changed.add("teams")
        if changed & (REVOKING | {"teams"}):
            self.bus.publish(access_changed(attendant_id))
        return await self.get(attendant_id)

    async def get(self, attendant_id: int) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(attendants).where(attendants.c.id == attendant_id))
            ).first()
            if row is None:
                raise NotFound(f"attendant {attendant_id} does not exist", field="attendant_id")
            team_rows = (await conn.execute(self._teams_of(attendant_id))).all()
        return attendant_view(row, team_rows)

    async def all(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(attendants).order_by(attendants.c.id))).all()
            memberships = (
                await conn.execute(
                    select(team_members.c.attendant_id, teams.c.id, teams.c.name).join(
                        teams, teams.c.id == team_members.c.team_id
                    )
                )
            ).all()
        by_attendant: dict[int, list[Any]] = {}
        for membership in memberships:
            by_attendant.setdefault(membership.attendant_id, []).append(membership)
        return [attendant_view(r, by_attendant.get(r.id, [])) for r in rows]

    def _teams_of(self, attendant_id: int) -> Any:
        return (
            select(teams.c.id, teams.c.name)
            .join(team_members, team_members.c.team_id == teams.c.id)
            .where(team_members.c.attendant_id == attendant_id)
            .order_by(teams.c.name)
        )

    async def authenticate(self, username: str, password: str) -> dict[str, Any]:
        """The attendant if the password is theirs; `Unauthorized` otherwise, equally slow."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(attendants).where(attendants.c.username == username))
            ).first()
        if row is None:
            await self.passwords.check(password, DUMMY_HASH)
            raise Unauthorized("unknown username or wrong password")
        if not await self.passwords.check(password, row.password_hash):
            raise Unauthorized("unknown username or wrong password")
        if not row.active:
            raise Unauthorized("this attendant is deactivated")
        return await self.get(row.id)
