"""The database engine: URL normalisation, SQLite's pragmas, and migrations at start-up.

SQLite is the embedded default (a file under `.data/`); PostgreSQL is the production choice. The
service only ever talks to them through SQLAlchemy's asyncio extension (aiosqlite, asyncpg).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")
logger = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept the URLs people write (`postgresql://`, `sqlite:///x.db`) and pick async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = normalise_url(url)
    options: dict[str, Any] = {"future": True}
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # aiosqlite opens a thread per connection; pooling them avoids one per request.
            options.update(poolclass=AsyncAdaptedQueuePool, pool_size=5, max_overflow=5)
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **options)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the inbox read while a ticket is written; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Python's sqlite3 begins transactions lazily and commits on SAVEPOINT release; take control
    # so a transaction (and its savepoints) is exactly what SQLAlchemy says it is.
    dbapi_connection.isolation_level = None


# An execution option of the write transactions: on SQLite they begin IMMEDIATE (see `write`).
WRITE_OPTION = "handoff_write"


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Several replicas may start together: only one migrates, the others wait for it.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242424242)")
    command.upgrade(alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """`alembic upgrade head` on the service's own engine, inside one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


# PostgreSQL's "try again" answers: a deadlock the server broke, a serialization failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(error: BaseException) -> bool:
    """Whether `error` is a transaction PostgreSQL aborted only to let another one through."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    original = error.orig
    for candidate in (original, getattr(original, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return True
    return False


class Database:
    """The engine plus the write discipline each backend needs.

    SQLite allows one writer at a time. A deferred transaction that reads and then writes fails at
    once (SQLITE_BUSY, no waiting) when another connection took the write lock in between, so
    every write transaction here begins IMMEDIATE: it takes the write lock first, waiting up to
    `busy_timeout` (30 s) for another process to let go, and in-process writers queue on a lock
    before that. PostgreSQL writers lock rows with `SELECT ... FOR UPDATE` instead, which works
    across replicas; `transaction` retries the rare transaction PostgreSQL aborts to break a
    deadlock or a serialization conflict.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def locks_rows(self) -> bool:
        return self.dialect == "postgresql"

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._write_lock, self.engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                yield connection

    async def transaction(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 4
    ) -> T:
        """`work` in one write transaction, run again (from the start) if PostgreSQL aborted it
        to break a deadlock or a serialization conflict; `work` must not act outside the
        database before it returns (publish after), since a retry repeats it."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.write() as connection:
                    return await work(connection)
            except sa_exc.DBAPIError as error:
                if attempt == attempts or not is_retryable(error):
                    raise
                logger.info("transaction retried after %s (attempt %d)", error.orig, attempt)
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
