"""Alembic's entry point for the service's schema.

The service runs `upgrade head` itself at start-up (`handoff-service migrate` does only that), on
its own async engine, and hands the open connection in through `config.attributes["connection"]`.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from handoff_component.service.models import metadata

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online_from_url(url: str) -> None:
    from handoff_component.service.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("HANDOFF_DB_URL", "")
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif config.attributes.get("connection") is not None:
    run_with(config.attributes["connection"])
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ["HANDOFF_DB_URL"]
    asyncio.run(run_online_from_url(url))
