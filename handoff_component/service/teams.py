"""Teams (the queues tickets wait in), their optional webhook, and their canned replies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handoff_component.service.db import Database
from handoff_component.service.errors import Conflict, NotFound
from handoff_component.service.models import canned_replies, team_members, teams
from handoff_component.service.settings import Settings


def team_view(row: Any, member_ids: list[int] | None = None) -> dict[str, Any]:
    view = {
        "id": row.id,
        "name": row.name,
        "display_name": row.display_name,
        "webhook_url": row.webhook_url,
    }
    if member_ids is not None:
        view["member_ids"] = member_ids
    return view


def canned_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "team_id": row.team_id,
        "title": row.title,
        "text": row.text,
        "updated_at": row.updated_at.isoformat(),
    }


class TeamStore:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def create(
        self,
        *,
        name: str,
        display_name: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> dict[str, Any]:
        async with self.db.write() as conn:
            try:
                async with conn.begin_nested():
                    result = await conn.execute(
                        insert(teams).values(
                            name=name,
                            display_name=display_name or name.title(),
                            webhook_url=webhook_url,
                            webhook_secret=webhook_secret,
                            created_at=self.settings.clock(),
                        )
                    )
            except IntegrityError:
                raise Conflict(f"team {name!r} exists", field="name") from None
        return await self.get(result.inserted_primary_key[0])

    async def upsert(self, **values: Any) -> dict[str, Any]:
        existing = await self.by_name(values["name"])
        if existing is None:
            return await self.create(**values)
        changes = {k: v for k, v in values.items() if k != "name"}
        if changes.get("display_name") is None:
            changes.pop("display_name", None)  # keep the name shown; the webhook follows the seed
        return await self.update(existing["id"], changes)

    async def update(self, team_id: int, values: dict[str, Any]) -> dict[str, Any]:
        async with self.db.write() as conn:
            result = await conn.execute(update(teams).where(teams.c.id == team_id).values(**values))
            if result.rowcount == 0:
                raise NotFound(f"team {team_id} does not exist", field="team_id")
        return await self.get(team_id)

    async def get(self, team_id: int) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
            if row is None:
                raise NotFound(f"team {team_id} does not exist", field="team_id")
            members = (
                await conn.execute(
                    select(team_members.c.attendant_id)
                    .where(team_members.c.team_id == team_id)
                    .order_by(team_members.c.attendant_id)
                )
            ).scalars()
            return team_view(row, list(members))

    async def by_name(self, name: str) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(teams).where(teams.c.name == name))).first()
        return team_view(row) if row else None

    async def all(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(teams).order_by(teams.c.name))).all()
            members = (await conn.execute(select(team_members))).all()
        by_team: dict[int, list[int]] = {}
        for member in members:
            by_team.setdefault(member.team_id, []).append(member.attendant_id)
        return [team_view(r, sorted(by_team.get(r.id, []))) for r in rows]

    async def webhook_secret(self, team_id: int) -> str | None:
        async with self.db.read() as conn:
            return (
                await conn.execute(select(teams.c.webhook_secret).where(teams.c.id == team_id))
            ).scalar()

    # --- canned replies -------------------------------------------------------------------------

    async def canned_replies(self, team_id: int) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(canned_replies)
                .where(canned_replies.c.team_id == team_id)
                .order_by(canned_replies.c.title)
            )
            return [canned_view(r) for r in rows]

    async def canned_reply(self, team_id: int, reply_id: int) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(canned_replies).where(
                        canned_replies.c.id == reply_id, canned_replies.c.team_id == team_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"canned reply {reply_id} of team {team_id} does not exist")
        return canned_view(row)

    async def add_canned_reply(
        self, team_id: int, title: str, text: str, author_id: int
    ) -> dict[str, Any]:
        await self.get(team_id)
        async with self.db.write() as conn:
            try:
                async with conn.begin_nested():
                    result = await conn.execute(
                        insert(canned_replies).values(
                            team_id=team_id,
                            title=title,
                            text=text,
                            created_by=author_id,
                            updated_at=self.settings.clock(),
                        )
                    )
            except IntegrityError:
                raise Conflict(
                    f"team {team_id} already has a reply titled {title!r}", field="title"
                ) from None
        return await self.canned_reply(team_id, result.inserted_primary_key[0])

    async def change_canned_reply(
        self, team_id: int, reply_id: int, values: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.write() as conn:
            try:
                async with conn.begin_nested():
                    result = await conn.execute(
                        update(canned_replies)
                        .where(canned_replies.c.id == reply_id, canned_replies.c.team_id == team_id)
                        .values(**values, updated_at=self.settings.clock())
                    )
            except IntegrityError:
                raise Conflict("another reply of this team has that title", field="title") from None
            if result.rowcount == 0:
                raise NotFound(f"canned reply {reply_id} of team {team_id} does not exist")
        return await self.canned_reply(team_id, reply_id)

    async def remove_canned_reply(self, team_id: int, reply_id: int) -> None:
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(canned_replies).where(
                    canned_replies.c.id == reply_id, canned_replies.c.team_id == team_id
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"canned reply {reply_id} of team {team_id} does not exist")
