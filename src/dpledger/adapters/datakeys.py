"""Encryption at rest: a master key outside the store wraps the data keys kept in it.

With a data key configured (``DPLEDGER_DATA_KEY``, or a file named by ``DPLEDGER_DATA_KEY_FILE``;
``DPLEDGER_DATA_OLD_KEYS`` while rotating), the store keeps a table of **data keys**
(:data:`KEYS_TABLE`), each random, 256 bits, and stored only wrapped (AES-256-GCM) under the
master key, with the master key's id:

- the **store key** encrypts every stored event and snapshot whole (AES-256-GCM through
  eventsourcing's cipher interface, :class:`AesGcmCipher`), so amounts, dates and account ids are
  not in clear either;
- one key **per person** (per managed account; a bank account's own events use the bank
  account's key, a bank line matched to an account uses the account's) encrypts each of their
  personal values inside the event (:mod:`dpledger.domain.personal`). Erasing a person deletes
  that key: their personal values can never be read again, while every figure, and ``verify``,
  still hold (the chain covers commitments, not the values).

The library is ``cryptography`` (PyCA): maintained, typed, AES-GCM from OpenSSL. A missing or
wrong master key is a :class:`~dpledger.domain.personal.DataKeyError` when the store is opened,
naming the key id the store needs, never a report of tampering.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import Cipher, StoredEvent
from eventsourcing.popo import POPOAggregateRecorder, POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

from dpledger.adapters.keyconfig import configured_keys
from dpledger.adapters.versions import VersionedMapper
from dpledger.domain.account import account_uuid
from dpledger.domain.chain import AS_WRITTEN
from dpledger.domain.events import BankAccountEvent
from dpledger.domain.personal import (
    ERASED,
    SEALS,
    TOKEN,
    DataKeyError,
    Seal,
    Token,
    commit,
    erased,
    from_plain,
    kind_of,
    parse_token,
    plain,
    replaced,
    value_at,
)
from dpledger.domain.personal import (
    Path as FieldPath,
)

DATA_KEY_ENV = "DPLEDGER_DATA_KEY"
"""The current master data key (``id:secret``, or a bare secret named by its fingerprint)."""
DATA_OLD_KEYS_ENV = "DPLEDGER_DATA_OLD_KEYS"
"""Older master keys still needed to unwrap data keys they wrapped, separated by spaces."""
DATA_KEY_FILE_ENV = "DPLEDGER_DATA_KEY_FILE"
"""A file of master data keys, one a line: the first is current, the others old."""
KEYS_TABLE = "dpledger_data_keys"
"""The table of wrapped data keys: one row for the store key, one per person (and bank account)."""
STORE_KEY = "store"
"""The key table's row of the store key (the others are named by aggregate id)."""
MIN_SECRET_BYTES = 16
_NAMED = re.compile(r"^([A-Za-z0-9_.-]{1,32}):(.+)$", re.DOTALL)
_MAGIC = b"DPE1"
"""How a state encrypted by :class:`AesGcmCipher` begins (a state written before encryption
was turned on is JSON, which never does)."""


# ------------------------------------------------------------------ the master keys
@dataclass(frozen=True)
class MasterKey:
    """One master data key: its id (stored beside every key it wraps) and its secret."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str, *, source: str) -> MasterKey:
        """A key from ``id:secret`` or a bare secret (its id: its fingerprint's first 8 hex)."""
        text = text.strip()
        named = _NAMED.match(text)
        key_id, secret = (named[1], named[2].encode()) if named else (None, text.encode())
        if len(secret) < MIN_SECRET_BYTES:
            raise DataKeyError(
                f"the data key in {source} is shorter than {MIN_SECRET_BYTES} bytes",
                fix="use a long random secret, e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`",
            )
        return cls(key_id or hashlib.sha256(secret).hexdigest()[:8], secret)

    def wrapping_key(self) -> AESGCM:
        """The AES-256-GCM key derived from the secret (HKDF-SHA256), which wraps data keys."""
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"dpledger-data-key-wrap-v1"
        ).derive(self.secret)
        return AESGCM(derived)


@dataclass(frozen=True)
class MasterKeys:
    """The current master key, which wraps every new data key, and old ones still needed."""

    current: MasterKey
    old: tuple[MasterKey, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id held, current first."""
        return (self.current.id, *(k.id for k in self.old))

    def get(self, key_id: str) -> MasterKey | None:
        """The key with this id, if held."""
        return next((k for k in (self.current, *self.old) if k.id == key_id), None)


def master_keys(*keys: str, source: str) -> MasterKeys:
    """Master keys from their texts, the current one first."""
    parsed = [MasterKey.parse(k, source=source) for k in keys]
    if not parsed:
        raise DataKeyError(f"no data key in {source}", fix="give at least one key")
    ids = [k.id for k in parsed]
    if len(set(ids)) != len(ids):
        raise DataKeyError(
            f"two data keys in {source} have the same id", fix="give each its own id (id:secret)"
        )
    return MasterKeys(parsed[0], tuple(parsed[1:]))


def load_master_keys(
    data_key: str | MasterKeys | None = None, environ: Mapping[str, str] | None = None
) -> MasterKeys | None:
    """The master keys: ``data_key`` if given, else ``$DPLEDGER_DATA_KEY`` (with
    ``$DPLEDGER_DATA_OLD_KEYS``), else the file named by ``$DPLEDGER_DATA_KEY_FILE`` (one key a
    line, the current one first; blank lines and ``#`` comments skipped); ``None`` if none."""
    if isinstance(data_key, MasterKeys):
        return data_key
    if data_key is not None:
        return master_keys(data_key, source="data_key")
    found = configured_keys(
        os.environ if environ is None else environ,
        key_env=DATA_KEY_ENV,
        old_env=DATA_OLD_KEYS_ENV,
        file_env=DATA_KEY_FILE_ENV,
        what="data key",
        error=DataKeyError,
    )
    return None if found is None else master_keys(*found[0], source=found[1])


# ------------------------------------------------------------------ the key table
@dataclass(frozen=True)
class KeyRow:
    """One row of the key table: whose key, the master key that wrapped it, the wrapped key
    (``None`` once erased), and when and why it was erased."""

    owner: str
    master_id: str
    wrapped: str | None
    erased_at: str | None = None
    erased_reason: str | None = None


class KeyTable:
    """The key table in the store's own database (SQLite, PostgreSQL, or memory)."""

    def __init__(self, recorder: Any) -> None:
        self._memory: dict[str, KeyRow] | None = None
        self._sqlite: Any = None
        self._postgres: Any = None
        if isinstance(recorder, POPOApplicationRecorder):
            self._memory = recorder.__dict__.setdefault("_dpledger_data_keys", {})
        elif isinstance(recorder, SQLiteAggregateRecorder):
            self._sqlite = recorder.datastore
        else:
            self._postgres = recorder.datastore
            from psycopg.sql import SQL, Identifier

            self._table = SQL("{}.{}").format(
                Identifier(recorder.datastore.schema or "public"), Identifier(KEYS_TABLE)
            )

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        datastore = self._sqlite if self._sqlite is not None else self._postgres
        with datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _sql(self, text: str) -> Any:
        """A statement naming the table as ``{t}`` (SQLite ``?`` becomes ``%s`` on PostgreSQL)."""
        if self._postgres is None:
            return text.replace("{t}", KEYS_TABLE)
        from psycopg.sql import SQL

        return SQL(text.replace("?", "%s")).format(t=self._table)

    def exists(self) -> bool:
        """Whether the store has a key table (an unencrypted store has none)."""
        if self._memory is not None:
            return bool(self._memory)
        with self._cursor(commit=False) as c:
            if self._sqlite is not None:
                c.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (KEYS_TABLE,))
                return c.fetchone() is not None
            c.execute("SELECT to_regclass(%s) AS t", (self._table.as_string(None),))
            return bool(c.fetchone()["t"])

    def create(self) -> None:
        """Create the table if it is missing."""
        if self._memory is not None:
            return
        statement = (
            "CREATE TABLE IF NOT EXISTS {t} (owner TEXT PRIMARY KEY, master_id TEXT NOT NULL,"
            " wrapped TEXT, erased_at TEXT, erased_reason TEXT)"
        )
        with self._cursor(commit=True) as c:
            c.execute(self._sql(statement))

    def get(self, owner: str) -> KeyRow | None:
        """The row of ``owner``, if any."""
        if self._memory is not None:
            return self._memory.get(owner)
        select = (
            "SELECT owner, master_id, wrapped, erased_at, erased_reason FROM {t} WHERE owner = ?"
        )
        with self._cursor(commit=False) as c:
            c.execute(self._sql(select), (owner,))
            row = c.fetchone()
        return None if row is None else _row(row)

    def rows(self) -> list[KeyRow]:
        """Every row."""
        if self._memory is not None:
            return list(self._memory.values())
        with self._cursor(commit=False) as c:
            c.execute(
                self._sql("SELECT owner, master_id, wrapped, erased_at, erased_reason FROM {t}")
            )
            return [_row(r) for r in c.fetchall()]

    def insert(self, row: KeyRow) -> None:
        """Add ``row`` unless its owner has one already (another writer's stays)."""
        if self._memory is not None:
            self._memory.setdefault(row.owner, row)
            return
        insert = (
            "INSERT INTO {t} (owner, master_id, wrapped) VALUES (?, ?, ?)"
            " ON CONFLICT (owner) DO NOTHING"
        )
        with self._cursor(commit=True) as c:
            c.execute(self._sql(insert), (row.owner, row.master_id, row.wrapped))

    def replace(self, row: KeyRow) -> None:
        """Write ``row`` over its owner's (a rewrap, or an erasure)."""
        if self._memory is not None:
            self._memory[row.owner] = row
            return
        update = (
            "UPDATE {t} SET master_id = ?, wrapped = ?, erased_at = ?, erased_reason = ?"
            " WHERE owner = ?"
        )
        values = (row.master_id, row.wrapped, row.erased_at, row.erased_reason, row.owner)
        with self._cursor(commit=True) as c:
            c.execute(self._sql(update), values)


def _row(row: Any) -> KeyRow:
    if isinstance(row, Mapping):
        return KeyRow(
            row["owner"], row["master_id"], row["wrapped"], row["erased_at"], row["erased_reason"]
        )
    return KeyRow(*row)


# ------------------------------------------------------------------ data keys
def _wrap(master: MasterKey, owner: str, key: bytes) -> str:
    nonce = secrets.token_bytes(12)
    wrapped = master.wrapping_key().encrypt(nonce, key, f"dpledger-data-key\n{owner}".encode())
    return base64.b64encode(nonce + wrapped).decode("ascii")


def _unwrap(master: MasterKey, owner: str, text: str) -> bytes:
    blob = base64.b64decode(text)
    aad = f"dpledger-data-key\n{owner}".encode()
    return master.wrapping_key().decrypt(blob[:12], blob[12:], aad)


class DataKeys:
    """The store's data keys, unwrapped on first use and kept in memory."""

    def __init__(self, table: KeyTable, master: MasterKeys) -> None:
        self.table = table
        self.master = master
        self._keys: dict[str, bytes | None] = {}
        self._aes: dict[str, tuple[AESGCM, str]] = {}
        self._lock = threading.Lock()

    def aes(self, owner: str, *, create: bool = False) -> tuple[AESGCM, str] | None:
        """The AES-256-GCM cipher of ``owner``'s data key and the key's id (a fingerprint),
        kept, since every sealed value uses them; ``None`` once erased (see :meth:`key`)."""
        found = self._aes.get(owner)
        if found is not None:
            return found
        key = self.key(owner, create=create)
        if key is None:
            return None
        kid = hashlib.sha256(b"dpledger-data-key-id\n" + key).hexdigest()[:8]
        with self._lock:
            return self._aes.setdefault(owner, (AESGCM(key), kid))

    def key(self, owner: str, *, create: bool = False) -> bytes | None:
        """The data key of ``owner`` (``None`` if it was erased); a new one if it has none and
        ``create``; ``None`` too if this store holds no key for it (values sealed in another
        store, brought by a history file). Raises :class:`DataKeyError` if it cannot be
        unwrapped."""
        with self._lock:
            if owner in self._keys:
                return self._keys[owner]
        row = self.table.get(owner)
        if row is None:
            if not create:  # sealed in another store (an imported history): unreadable here
                return None
            master = self.master.current
            self.table.insert(
                KeyRow(owner, master.id, _wrap(master, owner, AESGCM.generate_key(256)))
            )
            row = self.table.get(owner)
            assert row is not None
        key = None if row.wrapped is None else self._unwrapped(row)
        with self._lock:
            self._keys[owner] = key
        return key

    def _unwrapped(self, row: KeyRow) -> bytes:
        assert row.wrapped is not None
        master = self.master.get(row.master_id)
        if master is None:
            raise DataKeyError(
                f"the store's data keys are wrapped under the data key {row.master_id!r}, but "
                f"the data keys configured are {', '.join(self.master.ids)}",
                fix=f"set {DATA_KEY_ENV} (or {DATA_KEY_FILE_ENV}) to the key {row.master_id!r},"
                f" or list it in {DATA_OLD_KEYS_ENV} while rotating",
            )
        try:
            return _unwrap(master, row.owner, row.wrapped)
        except (InvalidTag, ValueError):
            raise DataKeyError(
                f"the data key {master.id!r} configured is not the one this store's keys were"
                " wrapped with (same id, another secret)",
                fix=f"set {DATA_KEY_ENV} (or {DATA_KEY_FILE_ENV}) to the store's own data key",
            ) from None

    def erase(self, owner: str, reason: str) -> bool:
        """Delete ``owner``'s data key for ever (its row stays, saying when and why); whether
        there was one to erase."""
        row = self.table.get(owner)
        if row is None or row.wrapped is None:
            return False
        when = datetime.now(UTC).isoformat(timespec="seconds")
        self.table.replace(KeyRow(owner, row.master_id, None, when, reason))
        with self._lock:
            self._keys[owner] = None
            self._aes.pop(owner, None)
        return True

    def rewrap(self) -> int:
        """Wrap every data key under the current master key (after a rotation); how many."""
        done = 0
        current = self.master.current
        for row in self.table.rows():
            if row.wrapped is None or row.master_id == current.id:
                continue
            key = self._unwrapped(row)
            self.table.replace(KeyRow(row.owner, current.id, _wrap(current, row.owner, key)))
            done += 1
        return done


def open_keys(recorder: Any, master: MasterKeys | None, where: str) -> DataKeys | None:
    """The store's data keys, checked against the master keys now: ``None`` for a store that
    is not encrypted and no key configured; :class:`DataKeyError` for an encrypted store
    without its key or with another one."""
    table = KeyTable(recorder)
    if master is None:
        if not table.exists():
            return None
        row = table.get(STORE_KEY)
        if row is None:
            return None
        raise DataKeyError(
            f"the store {where} is encrypted (its keys are wrapped under the data key"
            f" {row.master_id!r}), but no data key is configured",
            fix=f"set {DATA_KEY_ENV} (or {DATA_KEY_FILE_ENV}) to the store's data key",
        )
    table.create()
    keys = DataKeys(table, master)
    keys.key(STORE_KEY, create=True)  # a wrong key fails here, when the store is opened
    return keys


# ------------------------------------------------------------------ the key index
INDEX_TOKEN = "\x1fsealed-index:v1:"  # noqa: S105 - a marker, not a secret
"""How a key-index record's text sealed under its aggregate's data key begins."""


def seal_index_text(keys: DataKeys, owner: str, text: str) -> str:
    """A key-index record's text (money awaiting a bank line names its bank reference) sealed
    under ``owner``'s data key, so the index holds no personal value in clear either."""
    found = keys.aes(owner, create=True)
    if found is None:  # erased: nothing more is recorded for it
        raise DataKeyError(
            f"the personal data of {owner} was erased; nothing more can be recorded for it",
            fix="record it under a new account",
        )
    aes, kid = found
    nonce = secrets.token_bytes(12)
    body = aes.encrypt(nonce, text.encode(), f"index:{owner}".encode())
    return f"{INDEX_TOKEN}{kid}:{base64.b64encode(nonce + body).decode('ascii')}"


def open_index_text(keys: DataKeys | None, owner: str, text: str | None) -> str | None:
    """A key-index record's text as written; once its owner is erased, what it says without
    the reference (money awaiting a bank line: the reference becomes none)."""
    if text is None or keys is None or not text.startswith(INDEX_TOKEN):
        return text
    found = keys.aes(owner)
    kid, _, sealed = text.removeprefix(INDEX_TOKEN).partition(":")
    if found is None or found[1] != kid:  # erased, or sealed in another store
        return None
    blob = base64.b64decode(sealed)
    try:
        return found[0].decrypt(blob[:12], blob[12:], f"index:{owner}".encode()).decode()
    except InvalidTag:
        raise ValueError("a sealed key-index record does not decrypt (altered)") from None


# ------------------------------------------------------------------ read models' own text
VIEW_TOKEN = "\x1fsealed-view:v1:"  # noqa: S105 - a marker, not a secret
"""How text a read model composed from personal values (a warning's explanation) begins once
sealed under its account's data key."""


def seal_view_text(keys: DataKeys, owner: str, text: str) -> str:
    """Text a read model composes from an account's personal values (a warning's explanation
    quotes a bank line's text) sealed under ``owner``'s data key, so the read model holds it in
    clear no more than the events do. Left as it is where this store holds no key for ``owner``
    (an account recorded before the store was encrypted keeps its events in clear too), and
    :data:`~dpledger.domain.personal.ERASED` once the key was erased."""
    found = keys.aes(owner)
    if found is None:
        row = keys.table.get(owner)
        return text if row is None else ERASED
    aes, kid = found
    nonce = secrets.token_bytes(12)
    body = aes.encrypt(nonce, text.encode(), f"view:{owner}".encode())
    return f"{VIEW_TOKEN}{kid}:{base64.b64encode(nonce + body).decode('ascii')}"


def open_view_text(keys: DataKeys | None, owner: str, text: str) -> str:
    """Text :func:`seal_view_text` sealed, as composed; :data:`ERASED` once its owner's key is
    erased (or where another store sealed it); other text as it is."""
    if keys is None or not text.startswith(VIEW_TOKEN):
        return text
    found = keys.aes(owner)
    kid, _, sealed = text.removeprefix(VIEW_TOKEN).partition(":")
    if found is None or found[1] != kid:
        return ERASED
    blob = base64.b64decode(sealed)
    try:
        return found[0].decrypt(blob[:12], blob[12:], f"view:{owner}".encode()).decode()
    except InvalidTag:
        raise ValueError("a read model's sealed text does not decrypt (altered)") from None


def forget_snapshots(recorder: Any, uuid: UUID, topic: str) -> set[UUID]:
    """Delete, from the snapshot ``recorder``, the snapshots of ``uuid`` and every snapshot of
    the kind ``topic`` (an erasure: snapshots are a cache of the events, and they held the
    erased values readable under the store key); the ids of the aggregates that lost one."""
    gone: set[UUID] = set()
    if isinstance(recorder, POPOAggregateRecorder):
        index = recorder._stored_events_index
        for name, versions in list(index.items()):
            stored = [recorder._stored_events[i] for i in versions.values()]
            if name == str(uuid) or any(s.topic == topic for s in stored):
                del index[name]
                gone.add(UUID(name))
        return gone
    if isinstance(recorder, SQLiteAggregateRecorder):
        table = recorder.events_table_name
        where = (uuid.hex, topic)  # eventsourcing's SQLite keeps ids as hex
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT DISTINCT originator_id FROM {table}"  # noqa: S608
                " WHERE originator_id = ? OR topic = ?",
                where,
            )
            gone = {UUID(str(row[0])) for row in c.fetchall()}
            c.execute(f"DELETE FROM {table} WHERE originator_id = ? OR topic = ?", where)  # noqa: S608
        return gone
    from psycopg.sql import SQL, Identifier

    qualified = SQL("{}.{}").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    delete = SQL(
        "DELETE FROM {} WHERE originator_id = %s OR topic = %s RETURNING originator_id"
    ).format(qualified)
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(delete, (uuid, topic))
        return {UUID(str(row["originator_id"])) for row in c.fetchall()}


# ------------------------------------------------------------------ whole-state encryption
class AesGcmCipher(Cipher):
    """eventsourcing's cipher interface with AES-256-GCM from ``cryptography``: every stored
    state (events and snapshots) encrypted under the store key, with a fresh 96-bit nonce."""

    def __init__(self, key: bytes) -> None:  # not from the environment: the key table's key
        self._aes = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        """The state encrypted, after :data:`_MAGIC` and its nonce."""
        nonce = secrets.token_bytes(12)
        return _MAGIC + nonce + self._aes.encrypt(nonce, plaintext, _MAGIC)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The state decrypted; a state written before encryption was turned on, as it was."""
        if not ciphertext.startswith(_MAGIC):
            return ciphertext
        nonce, body = ciphertext[4:16], ciphertext[16:]
        try:
            return self._aes.decrypt(nonce, body, _MAGIC)
        except InvalidTag:
            raise ValueError("the stored state does not decrypt (it was altered)") from None


# ------------------------------------------------------------------ sealing personal values
def owner_of(event: Any) -> str:
    """Whose data key seals an event's personal values: the managed account a bank account's
    event is about, else the event's own aggregate."""
    if isinstance(event, BankAccountEvent):
        account_id = getattr(event, "account_id", None)
        if isinstance(account_id, str) and account_id:
            return str(account_uuid(account_id))
    return str(event.originator_id)


class SealingMapper(VersionedMapper):
    """The store's mapper: with data keys, it writes each sealed personal value as a token
    (its kind, owner, commitment and ciphertext) and reads it back, checked against its
    commitment, or as erased once its owner's key is gone. Without data keys it is
    :class:`~dpledger.adapters.versions.VersionedMapper` exactly."""

    keys: DataKeys | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The event as stored, its personal values sealed."""
        seals: dict[FieldPath, Seal] | None = domain_event.__dict__.get(SEALS)
        if not seals:
            return super().to_stored_event(domain_event)
        state = {k: v for k, v in domain_event.__dict__.items() if k != SEALS}
        if AS_WRITTEN not in state:  # an upcast event is written as it was stored
            owner = owner_of(domain_event)
            for path, seal in list(seals.items()):
                token = seal.token
                if token is None:
                    token = self._sealed(owner, seal, value_at(state, path))
                    seals[path] = Seal(seal.commitment, seal.salt, token)
                state = replaced(state, path, token)
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", state)
        return super().to_stored_event(clone)

    def _sealed(self, owner: str, seal: Seal, value: Any) -> str:
        if self.keys is None or seal.salt is None:
            raise DataKeyError(
                "an event with sealed personal values cannot be stored without a data key",
                fix=f"set {DATA_KEY_ENV}",
            )
        found = self.keys.aes(owner, create=True)
        if found is None:
            raise DataKeyError(
                f"the personal data of {owner} was erased; nothing more can be recorded for it",
                fix="record it under a new account",
            )
        nonce = secrets.token_bytes(12)
        text = json.dumps([seal.salt, plain(value)], separators=(",", ":")).encode()
        aes, kid = found
        body = aes.encrypt(nonce, text, f"{owner}:{seal.commitment}".encode())
        kind = kind_of(value) or "s"
        blob = base64.b64encode(nonce + body).decode("ascii")
        return Token(kind, owner, kid, seal.commitment, blob).text()

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The stored event with its personal values read (or erased), and its seals."""
        event = super().to_domain_event(stored_event)
        if self.keys is None:
            return event
        seals: dict[FieldPath, Seal] = {}
        fields = event.__dict__
        for name in list(fields):
            if name in (AS_WRITTEN, "originator_id", "originator_version", "timestamp"):
                continue
            for path, token in _tokens((name,), fields[name], 0):
                value, seal = self._opened(parse_token(token))
                fields[name] = replaced(fields[name], path[1:], value)
                seals[path] = seal
        if seals:
            fields[SEALS] = seals
        return event

    def reveal(self, value: Any) -> Any:
        """``value`` as read from a read model, each stored token in it opened (or erased)."""
        if self.keys is None:
            return value
        for path, token in list(_tokens((), value, 0)):
            value = replaced(value, path, self._opened(parse_token(token))[0])
        return value

    def _opened(self, token: Token) -> tuple[Any, Seal]:
        assert self.keys is not None
        found = self.keys.aes(token.owner)
        text = token.text()
        if found is None or found[1] != token.key_id:
            # Erased (or sealed in another store, brought by a history file): unreadable here,
            # while the commitment still stands in the digest.
            return erased(token.kind), Seal(token.commitment, None, text)
        aes = found[0]
        blob = base64.b64decode(token.ciphertext)
        aad = f"{token.owner}:{token.commitment}".encode()
        try:
            salt, value_text = json.loads(aes.decrypt(blob[:12], blob[12:], aad))
        except InvalidTag:
            raise ValueError("a sealed personal value does not decrypt (altered)") from None
        value = from_plain(value_text)
        if commit(salt, value) != token.commitment:
            raise ValueError("a sealed personal value does not match its commitment")
        return value, Seal(token.commitment, salt, text)


def _tokens(path: FieldPath, value: Any, depth: int) -> Iterator[tuple[FieldPath, str]]:
    """Every stored token in a decoded value, with where it is."""
    if isinstance(value, str):
        if value.startswith(TOKEN):
            yield path, value
        return
    if depth > 5 or value is None or isinstance(value, (int, float)):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _tokens((*path, key), item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _tokens((*path, index), item, depth + 1)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _tokens((*path, name), getattr(value, name), depth + 1)
