"""The key index beside the event store (see :mod:`dpledger.domain.keys`).

Each store's application recorder is extended so that the index rows an event batch takes or
gives back are written in the same transaction as the events (eventsourcing passes ``save``'s
keyword arguments down to the recorder): an event and its keys are stored together or not at
all. :func:`lookup` reads keys; :func:`ensure_built` builds the index once for a store written
before it existed, from the events themselves.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
)

from dpledger.domain.keys import KeyRecord

KEYS_TABLE = "dpledger_keys"
META_TABLE = "dpledger_meta"
INDEX_VERSION = "1"
"""Written to the meta table once the index covers every event in the store."""

Change = tuple[UUID, str, KeyRecord | None]
"""One row of the index taken (a record) or given back (``None``), for an aggregate."""


class FastSQLiteReads:
    """Reads an aggregate's events with one statement: no ``BEGIN`` / ``ROLLBACK`` around it (one
    SQLite statement is atomic on its own) and no UUID parsed per row (every row is the asked-for
    aggregate's). What loading an account costs is mostly these reads."""

    datastore: SQLiteDatastore
    select_events_statement: str

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The aggregate's stored events (or snapshots), as eventsourcing's recorder gives them."""
        statement = self.select_events_statement
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        try:
            with self.datastore.get_connection(commit=False) as conn:
                rows = conn._sqlite_conn.execute(statement, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.Error as exc:
            raise PersistenceError(exc) from exc
        return [StoredEvent(originator_id, row[1], row[2], row[3]) for row in rows]


class FastSQLiteSnapshots(FastSQLiteReads, SQLiteAggregateRecorder):
    """eventsourcing's SQLite recorder of snapshots, with :class:`FastSQLiteReads`."""


class KeyedSQLiteRecorder(FastSQLiteReads, SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, writing the key index in the same
    transaction as the events (and reading with :class:`FastSQLiteReads`)."""

    def construct_create_table_statements(self) -> list[str]:
        """The events table, and the key index and meta tables."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (originator_id TEXT NOT NULL,"
            " key TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT,"
            " PRIMARY KEY (originator_id, key)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        _write_sqlite(c, kwargs.get("keys", ()))
        return returning

    def lookup(self, originator_id: UUID, keys: Sequence[str]) -> dict[str, KeyRecord]:
        """The index's records of ``keys`` for one aggregate."""
        found: dict[str, KeyRecord] = {}
        try:
            with self.datastore.get_connection(commit=False) as conn:
                for start in range(0, len(keys), 500):
                    chunk = list(keys[start : start + 500])
                    marks = ",".join("?" * len(chunk))
                    rows = conn._sqlite_conn.execute(
                        f"SELECT key, version, digest FROM {KEYS_TABLE}"  # noqa: S608 - constants
                        f" WHERE originator_id = ? AND key IN ({marks})",
                        [originator_id.hex, *chunk],
                    ).fetchall()
                    for row in rows:
                        found[row[0]] = KeyRecord(int(row[1]), row[2])
        except sqlite3.Error as exc:
            raise PersistenceError(exc) from exc
        return found

    def lookup_prefix(self, originator_id: UUID, prefix: str) -> dict[str, KeyRecord]:
        """The index's records of every key starting with ``prefix`` for one aggregate."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT key, version, digest FROM {KEYS_TABLE}"  # noqa: S608 - constants
                " WHERE originator_id = ? AND key >= ? AND key < ?",
                (originator_id.hex, prefix, after(prefix)),
            )
            return {row[0]: KeyRecord(int(row[1]), row[2]) for row in c.fetchall()}

    def is_built(self) -> bool:
        """Whether the index covers the store's events."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT value FROM {META_TABLE} WHERE name = 'key_index'")  # noqa: S608
            row = c.fetchone()
        return row is not None and row[0] == INDEX_VERSION

    def write_built(self, changes: Iterable[Change]) -> None:
        """Write a whole index built from the history, and mark it built, in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT value FROM {META_TABLE} WHERE name = 'key_index'")  # noqa: S608
            if c.fetchone() is not None:
                return  # another process built it first
            _write_sqlite(c, changes)
            c.execute(
                f"INSERT OR REPLACE INTO {META_TABLE} (name, value) VALUES ('key_index', ?)",  # noqa: S608
                (INDEX_VERSION,),
            )


def _write_sqlite(c: SQLiteCursor, changes: Iterable[Change]) -> None:
    for originator_id, key, record in changes:
        if record is None:
            c.execute(
                f"DELETE FROM {KEYS_TABLE} WHERE originator_id = ? AND key = ?",  # noqa: S608
                (originator_id.hex, key),
            )
        else:
            c.execute(
                f"INSERT OR REPLACE INTO {KEYS_TABLE} (originator_id, key, version, digest)"  # noqa: S608
                " VALUES (?, ?, ?, ?)",
                (originator_id.hex, key, record.version, record.digest),
            )


class KeyedPOPORecorder(POPOApplicationRecorder):
    """eventsourcing's in-memory application recorder with the key index beside it."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[tuple[UUID, str], KeyRecord] = {}
        self._built = True  # a new in-memory store has no history to index

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        # Runs under the recorder's lock, after the uniqueness check: events and keys together.
        ids = super()._update_table(stored_events, **kwargs)
        for originator_id, key, record in kwargs.get("keys", ()):
            if record is None:
                self._keys.pop((originator_id, key), None)
            else:
                self._keys[(originator_id, key)] = record
        return ids

    def lookup(self, originator_id: UUID, keys: Sequence[str]) -> dict[str, KeyRecord]:
        """The index's records of ``keys`` for one aggregate."""
        with self._database_lock:
            return {
                key: self._keys[(originator_id, key)]
                for key in keys
                if (originator_id, key) in self._keys
            }

    def lookup_prefix(self, originator_id: UUID, prefix: str) -> dict[str, KeyRecord]:
        """The index's records of every key starting with ``prefix`` for one aggregate."""
        with self._database_lock:
            return {
                key: record
                for (owner, key), record in self._keys.items()
                if owner == originator_id and key.startswith(prefix)
            }

    def is_built(self) -> bool:
        """An in-memory store is indexed from its first event."""
        return self._built

    def write_built(self, changes: Iterable[Change]) -> None:
        """(Never needed in memory.)"""
        with self._database_lock:
            for originator_id, key, record in changes:
                if record is not None:
                    self._keys[(originator_id, key)] = record


def lookup(
    recorder: ApplicationRecorder, originator_id: UUID, keys: Sequence[str]
) -> dict[str, KeyRecord]:
    """The key index's records of ``keys`` for the aggregate ``originator_id``."""
    if not keys:
        return {}
    reader: Any = recorder
    return dict(reader.lookup(originator_id, keys))


def lookup_prefix(
    recorder: ApplicationRecorder, originator_id: UUID, prefix: str
) -> dict[str, KeyRecord]:
    """The key index's records of every key of ``originator_id`` starting with ``prefix``."""
    reader: Any = recorder
    return dict(reader.lookup_prefix(originator_id, prefix))


def after(prefix: str) -> str:
    """The first text after every text that starts with ``prefix`` (for a range scan)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


_build_lock = threading.Lock()


def ensure_built(
    recorder: ApplicationRecorder,
    decode: Any,
    claims_of: Any,
) -> int:
    """Build the key index from the history if the store was written before it existed;
    returns how many events were read (0 when it was built already).

    ``decode(notification)`` gives the domain event; ``claims_of(events)`` the index changes of
    one aggregate's events in order.
    """
    keyed: Any = recorder
    with _build_lock:
        if keyed.is_built():
            return 0
        by_aggregate: dict[UUID, list[Any]] = {}
        start = 0
        read = 0
        while True:
            batch = recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
            if not batch:
                break
            for notification in batch:
                event = decode(notification)
                originator = UUID(str(notification.originator_id))
                by_aggregate.setdefault(originator, []).append(event)
                read += 1
            start = batch[-1].id
        changes: list[Change] = []
        for originator, events in by_aggregate.items():
            for key, record in claims_of(events).items():
                changes.append((originator, key, record))
        keyed.write_built(changes)
        return read


def as_changes(originator_id: UUID, claims: Mapping[str, KeyRecord | None]) -> list[Change]:
    """An aggregate's index changes as rows for the recorder."""
    return [(originator_id, key, record) for key, record in claims.items()]
