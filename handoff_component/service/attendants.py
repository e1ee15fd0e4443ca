"""Attendants: who they are, their role, their password (scrypt-hashed) and their teams."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handoff_component.service.db import Database
from handoff_component.service.errors import Conflict, NotFound, Unauthorized
from handoff_component.service.models import attendants, team_members, teams
from handoff_component.service.notifications import Viewer
from handoff_component.service.settings import Settings

ROLES = ("attendant", "supervisor")

# scrypt with n=2**14, r=8, p=1 is the standard library's interactive-login strength (~50 ms).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()
    return f"scrypt$n={_SCRYPT['n']},r={_SCRYPT['r']},p={_SCRYPT['p']}${encoded}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, params, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        options = {k: int(v) for k, v in (part.split("=") for part in params.split(","))}
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except (ValueError, TypeError):
        return False
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        dklen=len(expected),
        maxmem=64 * 1024 * 1024,
        **options,
    )
    return hmac.compare_digest(digest, expected)


# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


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
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

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
        password_hash = hash_password(password)
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
    ) -> dict[str, Any]:
        """Create or bring in line with a seed file (password only set when given)."""
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
        if password:
            values["password_hash"] = hash_password(password)
        await self.update(existing, values, team_names)
        return await self.get(existing)

    async def update(
        self, attendant_id: int, values: dict[str, Any], team_names: list[str] | None = None
    ) -> dict[str, Any]:
        values = dict(values)
        if "password" in values:
            # Pop before building the row: the plain password must never reach the table.
            values["password_hash"] = hash_password(values.pop("password"))
        async with self.db.write() as conn:
            exists = (
                await conn.execute(select(attendants.c.id).where(attendants.c.id == attendant_id))
            ).scalar()
            if exists is None:
                raise NotFound(f"attendant {attendant_id} does not exist", field="attendant_id")
            if values:
                await conn.execute(
                    update(attendants).where(attendants.c.id == attendant_id).values(**values)
                )
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
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(attendants).where(attendants.c.username == username))
            ).first()
        if row is None:
            check_password(password, _DUMMY_HASH)
            raise Unauthorized("unknown username or wrong password")
        if not check_password(password, row.password_hash):
            raise Unauthorized("unknown username or wrong password")
        if not row.active:
            raise Unauthorized("this attendant is deactivated")
        return await self.get(row.id)

    async def viewer(self, attendant_id: int) -> Viewer:
        """The attendant's current role and teams, read on each request so changes apply at once."""
        query = (
            select(attendants.c.role, attendants.c.active, team_members.c.team_id)
            .select_from(
                attendants.outerjoin(team_members, team_members.c.attendant_id == attendants.c.id)
            )
            .where(attendants.c.id == attendant_id)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        if not rows or not rows[0].active:
            raise Unauthorized("this session's attendant no longer exists or is deactivated")
        team_ids = frozenset(r.team_id for r in rows if r.team_id is not None)
        return Viewer(attendant_id, rows[0].role, team_ids)
