"""The key index on PostgreSQL (see :mod:`dpledger.adapters.keyindex`): a table in the store's
schema, written in the same transaction as the events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from dpledger.adapters.keyindex import INDEX_VERSION, KEYS_TABLE, META_TABLE, Change
from dpledger.domain.keys import KeyRecord


class KeyedPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, writing the key index in the same
    transaction as the events."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._keys = SQL("{}.{}").format(schema, Identifier(KEYS_TABLE))
        self._meta = SQL("{}.{}").format(schema, Identifier(META_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (originator_id uuid NOT NULL, key text NOT NULL,"
                " version bigint NOT NULL, digest text, PRIMARY KEY (originator_id, key))"
            ).format(self._keys)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, value text NOT NULL)"
            ).format(self._meta)
        )

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        self._write(curs, kwargs.get("keys", ()))

    def _write(self, curs: Any, changes: Iterable[Change]) -> None:
        for originator_id, key, record in changes:
            if record is None:
                curs.execute(
                    SQL("DELETE FROM {} WHERE originator_id = %s AND key = %s").format(self._keys),
                    (originator_id, key),
                )
            else:
                curs.execute(
                    SQL(
                        "INSERT INTO {} (originator_id, key, version, digest)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (originator_id, key)"
                        " DO UPDATE SET version = EXCLUDED.version, digest = EXCLUDED.digest"
                    ).format(self._keys),
                    (originator_id, key, record.version, record.digest),
                )

    def lookup(self, originator_id: UUID, keys: Sequence[str]) -> dict[str, KeyRecord]:
        """The index's records of ``keys`` for one aggregate."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT key, version, digest FROM {} WHERE originator_id = %s AND key = ANY(%s)"
                ).format(self._keys),
                (originator_id, list(keys)),
            )
            return {
                row["key"]: KeyRecord(int(row["version"]), row["digest"]) for row in curs.fetchall()
            }

    def lookup_prefix(self, originator_id: UUID, prefix: str) -> dict[str, KeyRecord]:
        """The index's records of every key starting with ``prefix`` for one aggregate."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                # starts_with, not a range: a database collation may not order text by bytes.
                SQL(
                    "SELECT key, version, digest FROM {}"
                    " WHERE originator_id = %s AND starts_with(key, %s)"
                ).format(self._keys),
                (originator_id, prefix),
            )
            rows = curs.fetchall()
        return {row["key"]: KeyRecord(int(row["version"]), row["digest"]) for row in rows}

    def is_built(self) -> bool:
        """Whether the index covers the store's events."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT value FROM {} WHERE name = 'key_index'").format(self._meta))
            row = curs.fetchone()
        return row is not None and row["value"] == INDEX_VERSION

    def write_built(self, changes: Iterable[Change]) -> None:
        """Write a whole index built from the history, and mark it built, in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._meta))
            curs.execute(SQL("SELECT value FROM {} WHERE name = 'key_index'").format(self._meta))
            if curs.fetchone() is not None:
                return
            self._write(curs, changes)
            curs.execute(
                SQL("INSERT INTO {} (name, value) VALUES ('key_index', %s)").format(self._meta),
                (INDEX_VERSION,),
            )
