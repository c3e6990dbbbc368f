"""Where the read models keep their rows: SQL tables beside the event store.

One small interface over two databases. A memory store keeps its views in an in-memory SQLite
database, a SQLite store in the same file as its events (its own connection; WAL lets readers and
the one writer proceed together), PostgreSQL in the same schema. Projections write portable SQL with
``?`` placeholders; the PostgreSQL cursor turns them into ``%s``.

Each projection's position in the notification log is a row of ``dpv_tracking``, written in the
same transaction as the projection's rows, so a projection that stops half-way resumes exactly
where its last committed batch ended. :meth:`ViewStore.transaction` with ``lock=`` takes the
projection's lock first (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL),
so two processes catching up the same projection never both apply the same events.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from dpledger.domain.errors import StoreError

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS dpv_tracking ("
    " projection TEXT NOT NULL,"
    " application_name TEXT NOT NULL,"
    " notification_id BIGINT NOT NULL,"
    " PRIMARY KEY (projection, application_name))"
)


class ViewCursor(Protocol):
    """The part of a DB-API cursor projections use (``?`` placeholders on every database)."""

    def execute(self, sql: str, params: Any = (), /) -> Any:
        """Run one statement."""

    def executemany(self, sql: str, rows: Any, /) -> Any:
        """Run one statement for each row of parameters."""

    def fetchone(self) -> Any:
        """The next row, or ``None``."""

    def fetchall(self) -> Any:
        """The remaining rows."""


class ViewStore:
    """The database of the read models (see the module docstring)."""

    dialect: str

    def transaction(
        self,
        *,
        lock: tuple[str, str] | None = None,
        also_lock: Sequence[tuple[str, str]] = (),
    ) -> Any:
        """A context manager yielding a :class:`ViewCursor`; commits on success, else rolls back.

        ``lock=(projection, application_name)`` serialises writers of that projection;
        ``also_lock`` names more projections to lock in the same transaction (with ``lock``).
        """
        raise NotImplementedError

    def create_tables(self, statements: Sequence[str]) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements (idempotent)."""
        with self.transaction() as cur:
            for statement in statements:
                cur.execute(statement)

    def close(self) -> None:
        """Release the connection."""
        raise NotImplementedError

    # ---------------------------------------------------------------- tracking
    def position(self, projection: str, application_name: str) -> int:
        """The last notification id the projection has applied (0 before the first)."""
        with self.transaction() as cur:
            return read_position(cur, projection, application_name)


def read_position(cur: ViewCursor, projection: str, application_name: str) -> int:
    """The tracked position, read inside the caller's transaction."""
    cur.execute(
        "SELECT notification_id FROM dpv_tracking WHERE projection = ? AND application_name = ?",
        (projection, application_name),
    )
    row = cur.fetchone()
    return int(row[0]) if row else 0


def write_position(cur: ViewCursor, projection: str, application_name: str, position: int) -> None:
    """Record the position inside the caller's transaction (the same one as the rows)."""
    cur.execute(
        "INSERT INTO dpv_tracking (projection, application_name, notification_id)"
        " VALUES (?, ?, ?) ON CONFLICT (projection, application_name)"
        " DO UPDATE SET notification_id = excluded.notification_id",
        (projection, application_name, position),
    )


class SQLiteViewStore(ViewStore):
    """Views in a SQLite database: the store's file, or memory for a memory store."""

    dialect = "sqlite"

    def __init__(self, path: str | None) -> None:
        self.path = path
        target = ":memory:" if path is None else str(Path(path).expanduser())
        try:
            # Autocommit mode: transactions are begun explicitly, so BEGIN IMMEDIATE is possible.
            self._conn = sqlite3.connect(
                target, isolation_level=None, check_same_thread=False, timeout=10
            )
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the views in {target}: {exc}", fix="check the file and its folder"
            ) from exc
        self._lock = threading.RLock()
        self.create_tables([TRACKING_DDL])

    @contextmanager
    def transaction(
        self,
        *,
        lock: tuple[str, str] | None = None,
        also_lock: Sequence[tuple[str, str]] = (),
    ) -> Iterator[ViewCursor]:
        # BEGIN IMMEDIATE locks the whole database: every projection's lock at once.
        with self._lock:
            cur = self._conn.cursor()
            try:
                # IMMEDIATE takes the write lock up front: the position read below cannot go
                # stale before this transaction commits.
                cur.execute("BEGIN IMMEDIATE" if lock is not None else "BEGIN")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _PostgresCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchall()]


class PostgresViewStore(ViewStore):
    """Views in the store's PostgreSQL schema."""

    dialect = "postgres"

    def __init__(self, env: Mapping[str, str]) -> None:
        import psycopg

        schema = env.get("POSTGRES_SCHEMA") or "public"
        try:
            self._conn = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=int(env["POSTGRES_PORT"]),
                user=env["POSTGRES_USER"],
                password=env.get("POSTGRES_PASSWORD") or None,
                connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
                options=f"-c search_path={schema}",
                autocommit=True,
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot open the views on PostgreSQL: {exc}",
                fix="check the server is running and the URL is right",
            ) from exc
        self._lock = threading.RLock()
        self.create_tables([TRACKING_DDL])

    @contextmanager
    def transaction(
        self,
        *,
        lock: tuple[str, str] | None = None,
        also_lock: Sequence[tuple[str, str]] = (),
    ) -> Iterator[ViewCursor]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as raw:
            cur = _PostgresCursor(raw)
            # Sorted, so two writers locking overlapping sets take the rows in the same order.
            keys = sorted({*([] if lock is None else [lock]), *also_lock})
            for key in keys:
                # Make sure the row exists, then lock it for the rest of the transaction.
                cur.execute(
                    "INSERT INTO dpv_tracking (projection, application_name, notification_id)"
                    " VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
                    key,
                )
                cur.execute(
                    "SELECT notification_id FROM dpv_tracking"
                    " WHERE projection = ? AND application_name = ? FOR UPDATE",
                    key,
                )
            yield cur

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_views(env: Mapping[str, str]) -> ViewStore:
    """The view store beside the event store described by ``env`` (see ``store_environment``)."""
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.popo":
        return SQLiteViewStore(None)
    if module == "eventsourcing.sqlite":
        return SQLiteViewStore(env["SQLITE_DBNAME"])
    if module == "eventsourcing.postgres":
        return PostgresViewStore(env)
    raise StoreError(f"no view store for {module}")
