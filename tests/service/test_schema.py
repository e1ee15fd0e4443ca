"""The migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from handoff_component.service.db import create_engine, migrate
from handoff_component.service.models import metadata


def _indexes(connection: Any) -> dict[str, tuple]:
    inspector = inspect(connection)
    found = {}
    for table in inspector.get_table_names():
        for index in inspector.get_indexes(table):
            found[index["name"]] = (table, tuple(index["column_names"]), bool(index["unique"]))
    return found


def _partial_index_predicate(connection: Any) -> str:
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'uq_tickets_open_conversation'"
        ).scalar()
    return connection.exec_driver_sql(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_tickets_open_conversation'"
    ).scalar()


async def test_migrating_gives_the_models_schema(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
            indexes = await connection.run_sync(_indexes)
            predicate = await connection.run_sync(_partial_index_predicate)
    finally:
        await engine.dispose()

    assert differences == []
    expected = {index.name for table in metadata.tables.values() for index in table.indexes}
    assert expected <= set(indexes)
    assert indexes["uq_tickets_open_conversation"][2] is True
    assert "closed" in predicate  # the unique index is partial: closed tickets don't count


async def test_migrating_twice_is_harmless(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        await migrate(engine)
        async with engine.connect() as connection:
            version = (
                await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            ).scalar()
    finally:
        await engine.dispose()

    assert version == "0001"
