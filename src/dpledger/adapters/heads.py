"""Keyed chain heads and the keyed manifest beside the event store (see
:mod:`dpledger.domain.keyring`).

Every save passes a :class:`ChainWrite` down to the recorder (as the key index's rows are): the
recorder checks each touched aggregate's stored keyed head is the one its new events chain to,
writes the new heads and advances the manifest, in the events' own transaction. A store with a
manifest is *keyed*: writing to it without the key is refused, and so is writing with a key to
a store that holds events but was never keyed (key it once with ``Ledger.key_store()``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteCursor

from dpledger.adapters.keyconfig import configured_keys
from dpledger.adapters.keyindex import KeyedPOPORecorder, KeyedSQLiteRecorder
from dpledger.domain.keyring import (
    CHAIN_KEY_ENV,
    CHAIN_KEY_FILE_ENV,
    CHAIN_OLD_KEYS_ENV,
    ChainKeyError,
    Keyring,
    Manifest,
    head_mac,
)

HEADS_TABLE = "dpledger_heads"
MANIFEST = "chain_manifest"
"""The manifest's name in the meta table (see :mod:`dpledger.adapters.keyindex`)."""


@dataclass(frozen=True, slots=True)
class HeadRow:
    """One aggregate's keyed head as stored."""

    aggregate_id: str
    version: int
    digest: str
    key_id: str
    mac: str

    @property
    def head(self) -> tuple[str, int, str]:
        """What the head says, as the manifest's terms take it."""
        return (self.aggregate_id, self.version, self.digest)


@dataclass(frozen=True, slots=True)
class HeadChange:
    """What one save does to one aggregate's chain: versions ``first``..``last``, the first
    chaining to ``previous``, the last's digest ``digest``."""

    aggregate_id: str
    first: int
    previous: str
    last: int
    digest: str


@dataclass(frozen=True)
class ChainWrite:
    """A save's chain heads, and the keyring to key them with (``None``: no key configured)."""

    changes: tuple[HeadChange, ...]
    keyring: Keyring | None


def chain_write(events: Iterable[Any], keyring: Keyring | None) -> ChainWrite:
    """The :class:`ChainWrite` of a save's domain events."""
    found: dict[str, list[Any]] = {}
    for event in events:
        key = str(event.originator_id)
        version = int(event.originator_version)
        now = found.get(key)
        if now is None:
            found[key] = [version, event.previous_digest, version, event.digest]
            continue
        if version < now[0]:
            now[0], now[1] = version, event.previous_digest
        if version > now[2]:
            now[2], now[3] = version, event.digest
    changes = tuple(HeadChange(k, v[0], v[1], v[2], v[3]) for k, v in found.items())
    return ChainWrite(changes, keyring)


def load_keyring(
    chain_key: str | bytes | Keyring | None = None, environ: Mapping[str, str] | None = None
) -> Keyring | None:
    """The chain keyring: ``chain_key`` if given, else ``$DPLEDGER_CHAIN_KEY`` (with
    ``$DPLEDGER_CHAIN_OLD_KEYS``), else the file named by ``$DPLEDGER_CHAIN_KEY_FILE`` (one key
    a line, the current one first; blank lines and ``#`` comments skipped); ``None`` if none."""
    if isinstance(chain_key, Keyring):
        return chain_key
    if chain_key is not None:
        return Keyring.of(chain_key)
    found = configured_keys(
        os.environ if environ is None else environ,
        key_env=CHAIN_KEY_ENV,
        old_env=CHAIN_OLD_KEYS_ENV,
        file_env=CHAIN_KEY_FILE_ENV,
        what="chain key",
        error=ChainKeyError,
    )
    return None if found is None else Keyring.of(*found[0], source=found[1])


# ------------------------------------------------------------------ the checks of one save
def advance(
    manifest: Manifest | None, heads: Mapping[str, HeadRow], write: ChainWrite | None
) -> tuple[list[HeadRow], Manifest] | None:
    """The head rows and the signed manifest a save writes (``None``: the store is not keyed
    and no key was given, nothing to write); raises if the save must be refused.

    ``manifest`` is the store's, ``heads`` the stored heads of the aggregates the save touches.
    A head moved on by another writer since this one read the aggregate is a conflict
    (:class:`IntegrityError`, retried like any other); a head that is not the one the events
    chain to, or is not authentic, refuses the save: the chain was tampered with.
    """
    keyring = None if write is None else write.keyring
    if manifest is None:
        if keyring is None:
            return None
        raise ChainKeyError(
            "this store holds events written without a chain key: it is not keyed yet",
            fix="key it once with Ledger.key_store() (after a verify), then write with the key",
        )
    if keyring is None:
        raise ChainKeyError(
            "this store is keyed: give the chain key to write to it",
            fix=f"set {CHAIN_KEY_ENV} (or {CHAIN_KEY_FILE_ENV}), or pass chain_key= to Ledger",
        )
    authentic_with(keyring, manifest)
    rows: list[HeadRow] = []
    moved = manifest
    key = keyring.current
    for change in write.changes if write is not None else ():
        stored = heads.get(change.aggregate_id)
        if stored is not None and stored.version >= change.first:
            raise IntegrityError(f"the chain of {change.aggregate_id} moved on meanwhile")
        expected = None if change.first == 1 else (change.aggregate_id, change.first - 1)
        found = None if stored is None else (stored.aggregate_id, stored.version)
        if found != expected or (stored is not None and stored.digest != change.previous):
            raise ChainKeyError(
                f"the stored chain of {change.aggregate_id} does not end at its keyed head "
                "(tampered with?); nothing was written",
                fix="run `dpledger verify` with the chain key",
            )
        if stored is not None and not head_authentic(keyring, stored):
            raise ChainKeyError(
                f"the keyed head of {change.aggregate_id} is not authentic; nothing was written",
                fix="run `dpledger verify` with the chain key",
            )
        new = (change.aggregate_id, change.last, change.digest)
        moved = moved.advanced(None if stored is None else stored.head, new)
        rows.append(HeadRow(*new, key.id, head_mac(key, *new)))
    return rows, moved.signed(key)


def authentic_with(keyring: Keyring, manifest: Manifest) -> None:
    """Refuse a keyring without the manifest's key, or a wrong secret under its id; refuse a
    manifest whose HMAC does not match (altered)."""
    key = keyring.get(manifest.key_id)
    if key is None:
        raise ChainKeyError(
            f"the chain key does not match (key id {manifest.key_id} expected; the keyring "
            f"holds {', '.join(keyring.ids)})",
            fix="give the key the store was keyed with (as an old key after a rotation)",
        )
    from dpledger.domain.keyring import key_check

    if key_check(key) != manifest.check:
        raise ChainKeyError(
            f"the chain key given as {key.id} does not match (key id {manifest.key_id} "
            "expected, with another secret)",
            fix="give the secret the store was keyed with",
        )
    if not manifest.authentic(key):
        raise ChainKeyError(
            "the store's keyed manifest is not authentic (altered); nothing was written",
            fix="run `dpledger verify` with the chain key",
        )


def head_authentic(keyring: Keyring, row: HeadRow) -> bool:
    """Whether a head row's HMAC is right under its key (``False`` if the key is not held)."""
    import hmac

    key = keyring.get(row.key_id)
    if key is None:
        return False
    return hmac.compare_digest(head_mac(key, *row.head), row.mac)


# ------------------------------------------------------------------ SQLite
class ChainedSQLiteRecorder(KeyedSQLiteRecorder):
    """The SQLite recorder with the key index, writing keyed heads and the manifest too."""

    def construct_create_table_statements(self) -> list[str]:
        """The tables of :class:`KeyedSQLiteRecorder`, and the heads table."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (originator_id TEXT PRIMARY KEY,"
            " version INTEGER NOT NULL, digest TEXT NOT NULL, key_id TEXT NOT NULL,"
            " mac TEXT NOT NULL) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        write: ChainWrite | None = kwargs.get("chain")
        manifest = _sqlite_manifest(c)
        if manifest is None and (write is None or write.keyring is None):
            return returning  # an unkeyed store written without a key: as before
        ids = [] if write is None else [ch.aggregate_id for ch in write.changes]
        outcome = advance(manifest, _sqlite_heads(c, ids), write)
        if outcome is not None:
            _sqlite_write(c, *outcome)
        return returning

    def read_chain(self) -> tuple[Manifest | None, dict[str, HeadRow]]:
        """The manifest and every keyed head, read in one transaction."""
        with self.datastore.transaction(commit=False) as c:
            return _sqlite_manifest(c), _sqlite_heads(c, None)

    def write_keyed(self, rows: Sequence[HeadRow], manifest: Manifest, seen: int) -> None:
        """Replace every head and the manifest, if the store still ends at notification
        ``seen`` (else another writer came between: :class:`ChainKeyError`)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {HEADS_TABLE}")  # noqa: S608 - takes the write lock first
            c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")  # noqa: S608
            _unchanged(c.fetchone()[0], seen)
            _sqlite_write(c, rows, manifest)


def _unchanged(now: int | None, seen: int) -> None:
    if (now or 0) != seen:
        raise ChainKeyError(
            "the store changed while it was being keyed; nothing was keyed",
            fix="run it again (or while nothing else writes)",
        )


def _sqlite_manifest(c: SQLiteCursor) -> Manifest | None:
    from dpledger.adapters.keyindex import META_TABLE

    c.execute(f"SELECT value FROM {META_TABLE} WHERE name = ?", (MANIFEST,))  # noqa: S608
    row = c.fetchone()
    return None if row is None else _manifest_or_altered(row[0])


def _manifest_or_altered(text: str) -> Manifest:
    manifest = Manifest.from_text(text)
    return Manifest(key_id="?", mac="?") if manifest is None else manifest


def _sqlite_heads(c: SQLiteCursor, ids: Sequence[str] | None) -> dict[str, HeadRow]:
    select = f"SELECT originator_id, version, digest, key_id, mac FROM {HEADS_TABLE}"  # noqa: S608
    rows: list[Any] = []
    if ids is None:
        c.execute(select)
        rows = list(c.fetchall())
    for start in range(0, len(ids or ()), 500):
        chunk = list((ids or [])[start : start + 500])
        c.execute(select + f" WHERE originator_id IN ({','.join('?' * len(chunk))})", chunk)
        rows += c.fetchall()
    return {r[0]: HeadRow(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows}


def _sqlite_write(c: SQLiteCursor, rows: Sequence[HeadRow], manifest: Manifest) -> None:
    from dpledger.adapters.keyindex import META_TABLE

    c.executemany(
        f"INSERT OR REPLACE INTO {HEADS_TABLE} (originator_id, version, digest, key_id, mac)"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?)",
        [(r.aggregate_id, r.version, r.digest, r.key_id, r.mac) for r in rows],
    )
    c.execute(
        f"INSERT OR REPLACE INTO {META_TABLE} (name, value) VALUES (?, ?)",  # noqa: S608
        (MANIFEST, manifest.as_text()),
    )


# ------------------------------------------------------------------ memory
class ChainedPOPORecorder(KeyedPOPORecorder):
    """The in-memory recorder with the key index, keeping keyed heads and the manifest too."""

    def __init__(self) -> None:
        super().__init__()
        self._heads: dict[str, HeadRow] = {}
        self._manifest: Manifest | None = None

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        # Under the recorder's lock: refuse before anything is appended, write after.
        write: ChainWrite | None = kwargs.get("chain")
        outcome = advance(self._manifest, self._heads, write)
        ids = super()._update_table(stored_events, **kwargs)
        if outcome is not None:
            rows, self._manifest = outcome
            self._heads.update((r.aggregate_id, r) for r in rows)
        return ids

    def read_chain(self) -> tuple[Manifest | None, dict[str, HeadRow]]:
        """The manifest and every keyed head."""
        with self._database_lock:
            return self._manifest, dict(self._heads)

    def write_keyed(self, rows: Sequence[HeadRow], manifest: Manifest, seen: int) -> None:
        """Replace every head and the manifest, if the store still ends at ``seen``."""
        with self._database_lock:
            _unchanged(len(self._stored_events), seen)
            self._heads = {r.aggregate_id: r for r in rows}
            self._manifest = manifest

    # for tests that tamper with a memory store
    def tamper_heads(self) -> dict[str, HeadRow]:
        """The heads themselves (tests only)."""
        return self._heads


_ = POPOApplicationRecorder  # the base the memory recorder extends


def read_chain(recorder: Any) -> tuple[Manifest | None, dict[str, HeadRow]]:
    """The store's manifest (``None``: not keyed) and every keyed head, by aggregate id."""
    reader = getattr(recorder, "read_chain", None)
    if reader is None:
        return None, {}
    manifest, heads = reader()
    return manifest, dict(heads)


def is_empty(recorder: Any) -> bool:
    """Whether the store holds no event."""
    return not recorder.select_notifications(start=None, limit=1)


def key_empty_store(recorder: Any, keyring: Keyring | None) -> bool:
    """Key a store that holds no event yet, when a key is given: it is keyed from its first
    event. Returns whether it was keyed now."""
    if keyring is None or not hasattr(recorder, "write_keyed"):
        return False
    manifest, _heads = read_chain(recorder)
    if manifest is not None or not is_empty(recorder):
        return False
    try:
        recorder.write_keyed([], Manifest().signed(keyring.current), 0)
    except ChainKeyError:  # another writer came first: the store is no longer empty
        return False
    return True


def check_uuid(value: str) -> UUID | None:
    """A head's aggregate id as a UUID (``None`` if a forger wrote something else)."""
    try:
        return UUID(value)
    except ValueError:
        return None
