"""Keyed chain heads and the keyed manifest on PostgreSQL (see :mod:`dpledger.adapters.heads`),
written in the events' own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from dpledger.adapters.heads import (
    HEADS_TABLE,
    MANIFEST,
    ChainWrite,
    HeadRow,
    _manifest_or_altered,
    _unchanged,
    advance,
)
from dpledger.adapters.keyindex_postgres import KeyedPostgresRecorder
from dpledger.domain.keyring import Manifest


class ChainedPostgresRecorder(KeyedPostgresRecorder):
    """The PostgreSQL recorder with the key index, writing keyed heads and the manifest too.

    The manifest row is read ``FOR UPDATE``: keyed writers queue on it (they queue on the events
    table's lock anyway, which eventsourcing takes to keep notification ids in commit order).
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._heads = SQL("{}.{}").format(schema, Identifier(HEADS_TABLE))
        self._events = SQL("{}.{}").format(schema, Identifier(events_table_name))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (originator_id uuid PRIMARY KEY,"
                " version bigint NOT NULL, digest text NOT NULL, key_id text NOT NULL,"
                " mac text NOT NULL)"
            ).format(self._heads)
        )

    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        write: ChainWrite | None = kwargs.get("chain")
        keyed = write is not None and write.keyring is not None
        manifest = self._manifest(curs, lock=keyed)
        if manifest is None and not keyed:
            return  # an unkeyed store written without a key: as before
        ids = [] if write is None else [c.aggregate_id for c in write.changes]
        outcome = advance(manifest, self._read_heads(curs, ids), write)
        if outcome is not None:
            self._write_heads(curs, *outcome)

    def _manifest(self, curs: Any, *, lock: bool) -> Manifest | None:
        select = SQL("SELECT value FROM {} WHERE name = %s").format(self._meta)
        if lock:
            select = SQL("{} FOR UPDATE").format(select)
        curs.execute(select, (MANIFEST,))
        row = curs.fetchone()
        return None if row is None else _manifest_or_altered(row["value"])

    def _read_heads(self, curs: Any, ids: Sequence[str] | None) -> dict[str, HeadRow]:
        select = SQL("SELECT originator_id, version, digest, key_id, mac FROM {}").format(
            self._heads
        )
        if ids is None:
            curs.execute(select)
        else:
            curs.execute(SQL("{} WHERE originator_id = ANY(%s::uuid[])").format(select), (ids,))
        return {
            str(r["originator_id"]): HeadRow(
                str(r["originator_id"]), int(r["version"]), r["digest"], r["key_id"], r["mac"]
            )
            for r in curs.fetchall()
        }

    def _write_heads(self, curs: Any, rows: Sequence[HeadRow], manifest: Manifest) -> None:
        if rows:
            curs.executemany(
                SQL(
                    "INSERT INTO {} (originator_id, version, digest, key_id, mac)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (originator_id) DO UPDATE SET"
                    " version = EXCLUDED.version, digest = EXCLUDED.digest,"
                    " key_id = EXCLUDED.key_id, mac = EXCLUDED.mac"
                ).format(self._heads),
                [(r.aggregate_id, r.version, r.digest, r.key_id, r.mac) for r in rows],
            )
        curs.execute(
            SQL(
                "INSERT INTO {} (name, value) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            ).format(self._meta),
            (MANIFEST, manifest.as_text()),
        )

    def read_chain(self) -> tuple[Manifest | None, dict[str, HeadRow]]:
        """The manifest and every keyed head, read in one transaction."""
        with self.datastore.transaction(commit=False) as curs:
            return self._manifest(curs, lock=False), self._read_heads(curs, None)

    def write_keyed(self, rows: Sequence[HeadRow], manifest: Manifest, seen: int) -> None:
        """Replace every head and the manifest, if the store still ends at notification
        ``seen`` (the events table locked against writers meanwhile)."""
        with self.datastore.transaction(commit=True) as curs:
            self._manifest(curs, lock=True)  # in the order keyed writers lock: no deadlock
            curs.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._events))
            curs.execute(SQL("SELECT MAX(notification_id) AS top FROM {}").format(self._events))
            row = curs.fetchone()
            _unchanged(None if row is None else row["top"], seen)
            curs.execute(SQL("DELETE FROM {}").format(self._heads))
            self._write_heads(curs, rows, manifest)
