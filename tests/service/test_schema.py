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


def _index_sql(connection: Any, schema: str | None) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).all()
        return {name: " ".join(sql.split()) for name, sql in rows}
    rows = connection.exec_driver_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
    ).all()
    return {name: definition.replace(f"{schema}.", "") for name, definition in rows}


async def test_the_migrated_indexes_are_exactly_the_models_indexes(
    db_url: str, tmp_path: Any
) -> None:
    """Column order, DESC and partial predicates included (compare_metadata skips those)."""
    migrated_engine = create_engine(db_url)
    reference_url = f"sqlite:///{tmp_path}/reference.db" if "sqlite" in db_url else db_url
    reference_engine = create_engine(reference_url)
    schema = None if "sqlite" in db_url else "models_reference"
    try:
        await migrate(migrated_engine)
        async with reference_engine.begin() as connection:
            if schema:
                await connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
                connection = await connection.execution_options(schema_translate_map={None: schema})
            await connection.run_sync(metadata.create_all)
        async with migrated_engine.connect() as connection:
            migrated = await connection.run_sync(lambda c: _index_sql(c, "public"))
        async with reference_engine.connect() as connection:
            reference = await connection.run_sync(lambda c: _index_sql(c, schema))
            if schema:
                await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                await connection.commit()
    finally:
        await migrated_engine.dispose()
        await reference_engine.dispose()

    migrated.pop("alembic_version_pkc", None)
    assert "DESC" in reference["ix_tickets_active_order"]
    assert "closed" in reference["ix_tickets_active_order"]
    assert migrated == reference


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

    assert version == "0009"


async def test_a_database_at_the_first_revision_upgrades_with_its_tickets(db_url: str) -> None:
    from alembic import command

    from handoff_component.service.db import alembic_config

    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0001"))
            await connection.exec_driver_sql(
                "INSERT INTO tickets (idempotency_key, conversation_id, channel, status, priority,"
                " rule, reason, scores, created_at, handed_back, reopen_count, updated_at)"
                " VALUES ('k', 'c', 'socketio', 'open', 1, 'r', 'why', '[]',"
                " '2024-01-01 00:00:00', false, 0, '2024-01-01 00:00:00')"
            )
        await migrate(engine)
        async with engine.connect() as connection:
            count = (await connection.exec_driver_sql("SELECT count(*) FROM tickets")).scalar()
            indexes = await connection.run_sync(_indexes)
    finally:
        await engine.dispose()

    assert count == 1
    assert "ix_tickets_active_order" in indexes
    assert "ix_tickets_listing" not in indexes
