"""The event store: eventsourcing's in-memory, SQLite and PostgreSQL persistence behind one URL.

``memory:`` keeps events in the process; ``sqlite:///path/to/file.sqlite`` (or a bare path) is the
embedded default; ``postgresql://user:password@host:port/dbname?schema=name`` is for production.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import ApplicationRecorder, JSONTranscoder, Mapper, Transcoding
from eventsourcing.popo import POPOFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import get_topic

from dpledger.adapters import datakeys, heads, keyindex
from dpledger.adapters.datakeys import AesGcmCipher, DataKeys, MasterKeys, SealingMapper
from dpledger.domain import registry
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bank import BankAccount
from dpledger.domain.chart import LedgerAccount, Posting, Postings, SpendCategory
from dpledger.domain.errors import StoreError
from dpledger.domain.keyring import Keyring
from dpledger.domain.keys import AWAITING_PREFIX, KeyRecord, index_changes
from dpledger.domain.money import Money
from dpledger.domain.personal import DataKeyError
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.records import (
    AccountStatus,
    Agency,
    BankBalanceRecord,
    BankLineRecord,
    BankMovement,
    BudgetAgreement,
    CouncilPayment,
    Invoice,
    InvoiceStatus,
    OutgoingStatus,
    PendingBankLine,
    PersonalAssistant,
    SuspenseItem,
    SuspenseStatus,
    UnexplainedOutgoing,
    WageRun,
)
from dpledger.domain.snapshots import CheckedSnapshot, SnapshotRefused
from dpledger.log import get_logger

DEFAULT_SQLITE_FILE = "dpledger.sqlite"
ACCOUNT_CACHE_SIZE = 256
"""Accounts kept in memory after a save, so the next command on them reads only what is new."""
ACCOUNT_CACHE_ENV = "DPLEDGER_ACCOUNT_CACHE"
STATEMENT_TIMEOUT_ENV = "DPLEDGER_STATEMENT_TIMEOUT"
"""Seconds any one PostgreSQL statement may run before the server cancels it (0: no limit)."""
SNAPSHOT_INTERVAL = 50
"""Take a snapshot every this many events, so loading an account replays at most this many
events after its latest snapshot, however old the account is."""


class MoneyAsPence(Transcoding):
    """Money as ``[pence, currency]``: exact, never a float."""

    type = Money
    name = "money"

    def encode(self, obj: Money) -> list[Any]:
        return [obj.pence, obj.currency]

    def decode(self, data: list[Any]) -> Money:
        pence, currency = data
        return Money(int(pence), str(currency))


class DateAsISO(Transcoding):
    """A calendar date as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class PostingsAsList(Transcoding):
    """Postings as ``[[account code, pence], ...]`` (GBP)."""

    type = Postings
    name = "postings"

    def encode(self, obj: Postings) -> list[list[Any]]:
        return [[p.account.value, p.amount.pence] for p in obj]

    def decode(self, data: list[list[Any]]) -> Postings:
        # A dict of the chart, not LedgerAccount(code): every replayed event decodes postings.
        try:
            return Postings(tuple(Posting(_CHART[code], Money(int(p))) for code, p in data))
        except KeyError as unknown:
            raise ValueError(f"{unknown.args[0]!r} is not an account of the chart") from None


_CHART = {account.value: account for account in LedgerAccount}


class FastJSONTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder with a leaner hook for the ``{"_type_", "_data_"}``
    objects: it runs for every JSON object of every event a load replays."""

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) == 2 and "_type_" in d and "_data_" in d:
            name = d["_type_"]
            transcoding = self.names.get(name) if isinstance(name, str) else None
            if transcoding is None:
                return super()._decode_obj(d)  # names the unknown type
            return transcoding.decode(d["_data_"])
        return d


class EnumAsValue(Transcoding):
    """One enum class, by value."""

    def __init__(self, enum_class: type[Enum]) -> None:
        self.type = enum_class
        self.name = f"enum:{enum_class.__name__}"
        self._enum = enum_class

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return self._enum(data)


class RecordAsDict(Transcoding):
    """One frozen dataclass record, field by field (nested values use their own transcodings)."""

    def __init__(self, record_class: type[Any]) -> None:
        self.type = record_class
        self.name = f"record:{record_class.__name__}"
        self._class = record_class
        self._fields = tuple(f.name for f in dataclasses.fields(record_class))

    def encode(self, obj: Any) -> dict[str, Any]:
        stored = getattr(obj, "stored_fields", None)
        if stored is not None:  # fields added later are written only when set (AccountPolicy)
            return dict(stored())
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        # Fields added later take their defaults; a key the record does not have means the
        # stored data is not what dpledger wrote, so it is refused rather than dropped.
        unknown = set(data) - set(self._fields)
        if unknown:
            raise ValueError(f"{self._class.__name__} has no field {sorted(unknown)[0]!r}")
        return self._class(**data)


_ENUMS: tuple[type[Enum], ...] = (
    SpendCategory,
    PaymentBasis,
    PaymentFrequency,
    AccountStatus,
    InvoiceStatus,
    SuspenseStatus,
    OutgoingStatus,
)
_RECORDS: tuple[type[Any], ...] = (
    AccountPolicy,
    BudgetAgreement,
    Agency,
    Invoice,
    PersonalAssistant,
    WageRun,
    SuspenseItem,
    CouncilPayment,
    BankLineRecord,
    BankMovement,
    PendingBankLine,
    UnexplainedOutgoing,
    BankBalanceRecord,
)


class CheckedRepository(Repository[UUID]):
    """eventsourcing's repository, never trusting a snapshot over the history.

    A snapshot is used only when its state matches its digest and its chain head is the digest
    of the stored event at its version (read in the same query as the events after it). A
    snapshot that does not match, or cannot even be decoded or restored, is refused: the
    aggregate is rebuilt from its events, the refusal is logged (``snapshot.refused``), and
    ``verify`` reports it. One written by 0.1, before snapshots carried both, is not used
    either (``snapshot.not_used``). Either way the aggregate is marked for a fresh snapshot on
    its next save.
    """

    def __init__(self, *args: Any, cache_size: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_snapshot: set[UUID] = set()
        self.cache_size = cache_size
        self._kept: OrderedDict[UUID, Any] = OrderedDict()
        self._kept_lock = threading.Lock()

    def take(self, aggregate_id: UUID) -> Any:
        """The aggregate for a unit of work that may change it: the one kept in memory after
        this process's last save of it (brought up to date with any events stored since, by
        this or another process), else loaded from its snapshot and events.

        The unit of work owns it until it hands it back with :meth:`keep` after saving; a unit
        of work that fails never does, so a half-changed aggregate is never reused, and two
        units of work never share one.
        """
        with self._kept_lock:
            aggregate = self._kept.pop(aggregate_id, None)
        if aggregate is None:
            return self.get(aggregate_id)
        return project(aggregate, self.event_store.get(aggregate_id, gt=aggregate.version))

    def keep(self, aggregate: Any) -> None:
        """Keep an aggregate whose events are all saved, for the next :meth:`take` (the least
        recently kept are dropped beyond ``cache_size``)."""
        if self.cache_size <= 0 or aggregate.pending_events:
            return
        with self._kept_lock:
            self._kept[aggregate.id] = aggregate
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.cache_size:
                self._kept.popitem(last=False)

    def drop(self, aggregate_ids: Iterable[UUID]) -> None:
        """Drop the named aggregates from memory (a unit of work that failed to save them)."""
        with self._kept_lock:
            for aggregate_id in aggregate_ids:
                self._kept.pop(aggregate_id, None)

    def forget(self) -> None:
        """Drop every aggregate kept in memory."""
        with self._kept_lock:
            self._kept.clear()

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        """The aggregate at ``version`` (default: the latest), from its snapshot and events."""
        kwargs.setdefault("projector_func", project)
        return super().get(aggregate_id, version=version, **kwargs)

    def _reconstruct_aggregate(
        self, aggregate_id: UUID, version: int | None, projector_func: Any
    ) -> Any:
        snapshot: Any = None
        if self.snapshot_store is not None:
            store = self.snapshot_store
            found = store.recorder.select_events(aggregate_id, desc=True, limit=1, lte=version)
            if found:
                try:
                    snapshot = store.mapper.to_domain_event(found[0])
                except Exception as exc:  # bytes or a topic that do not decode: not trusted
                    self._refuse(aggregate_id, found[0].originator_version, exc)
        if snapshot is not None:
            aggregate = self._from_snapshot(aggregate_id, snapshot, version)
            if aggregate is not None:
                return aggregate
        events = self.event_store.get(aggregate_id, lte=version)
        aggregate = projector_func(None, events)
        if aggregate is None:
            raise AggregateNotFoundError(
                f"Aggregate {aggregate_id!r} version {version!r} not found."
            )
        return aggregate

    def _from_snapshot(self, aggregate_id: UUID, snapshot: Any, version: int | None) -> Any:
        at = snapshot.originator_version
        if not isinstance(snapshot, CheckedSnapshot):
            # 0.1's snapshots carry no chain head or digest: never used, and no evidence of
            # tampering either (``verify`` counts them as not checked).
            get_logger().info("snapshot.not_used", aggregate_id=str(aggregate_id), version=at)
            self.needs_snapshot.add(aggregate_id)
            return None
        events = iter(self.event_store.get(aggregate_id, gt=at - 1, lte=version))
        anchor: Any = next(events, None)
        try:
            if anchor is None or anchor.originator_version != at or anchor.digest != snapshot.head:
                raise SnapshotRefused(
                    "its chain head is not the stored event's digest at its version"
                )
            aggregate = snapshot.mutate(None)
        except Exception as refused:  # SnapshotRefused, or a state that cannot be restored
            self._refuse(aggregate_id, at, refused)
            return None
        return project(aggregate, events)

    def _refuse(self, aggregate_id: UUID, version: int, reason: BaseException) -> None:
        """Log a snapshot that is not trusted, and have the next save replace it."""
        text = str(reason) if isinstance(reason, SnapshotRefused) else repr(reason)
        get_logger().warning(
            "snapshot.refused", aggregate_id=str(aggregate_id), version=version, reason=text
        )
        self.needs_snapshot.add(aggregate_id)


_ = registry  # every event class, so every stored topic resolves


def project(aggregate: Any, events: Any) -> Any:
    """Apply ``events`` in order (eventsourcing's projector, without its protocol check)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class DpledgerApplication(Application[UUID]):
    """The eventsourcing application holding managed accounts and bank accounts.

    Snapshots are taken from the saved aggregate itself whenever a save crosses a multiple of
    :data:`SNAPSHOT_INTERVAL` (or the aggregate's stored snapshot was refused); every save writes
    its key-index rows in the events' own transaction.
    """

    name = "dpledger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        ManagedAccount: SNAPSHOT_INTERVAL,
        BankAccount: SNAPSHOT_INTERVAL,
    }
    chain_keyring: Keyring | None = None
    """The chain keys every save keys its chain heads with (see :mod:`dpledger.adapters.heads`)."""
    data_keys: DataKeys | None = None
    """The store's data keys when it is encrypted (see :mod:`dpledger.adapters.datakeys`)."""

    @property
    def seals_personal(self) -> bool:
        """Whether new events seal their personal values (the store is encrypted)."""
        return self.data_keys is not None

    def encrypt_with(self, keys: DataKeys) -> None:
        """Encrypt from now on: whole states under the store key, personal values under their
        person's key (the mapper is shared by the events and the snapshots)."""
        store_key = keys.key(datakeys.STORE_KEY, create=True)
        assert store_key is not None
        self.data_keys = keys
        for mapper in {
            id(m): m for m in (self.mapper, getattr(self.snapshots, "mapper", None))
        }.values():
            if isinstance(mapper, SealingMapper):
                mapper.keys = keys
                mapper.cipher = AesGcmCipher(store_key)

    def _record(self, processing_event: Any) -> Any:
        # Every save, whoever calls it, carries its chain heads down to the recorder.
        write = heads.chain_write(processing_event.events, self.chain_keyring)
        processing_event.saved_kwargs["chain"] = write
        keys = self.data_keys
        if keys is not None and processing_event.saved_kwargs.get("keys"):
            processing_event.saved_kwargs["keys"] = [
                (owner, key, _sealed_record(keys, owner, key, record))
                for owner, key, record in processing_event.saved_kwargs["keys"]
            ]
        return super()._record(processing_event)

    def open_index(self, owner: UUID, records: Mapping[str, KeyRecord]) -> dict[str, KeyRecord]:
        """Key-index records as written, each sealed one opened (see :meth:`_record`)."""
        keys = self.data_keys
        if keys is None:
            return dict(records)
        return {
            key: KeyRecord(r.version, datakeys.open_index_text(keys, str(owner), r.digest))
            if key.startswith(AWAITING_PREFIX)
            else r
            for key, r in records.items()
        }

    def seal_view(self, account_id: str, text: str) -> str:
        """Text a read model composes from an account's personal values, as it should keep it:
        sealed under the account's data key on an encrypted store, else as it is."""
        keys = self.data_keys
        if keys is None:
            return text
        return datakeys.seal_view_text(keys, str(account_uuid(account_id)), text)

    def open_view(self, account_id: str, text: str) -> str:
        """Text :meth:`seal_view` kept, as composed (``[erased]`` once the person is erased)."""
        return datakeys.open_view_text(self.data_keys, str(account_uuid(account_id)), text)

    def reveal(self, value: Any) -> Any:
        """A value read from a read model with its sealed personal values opened (``[erased]``
        once erased); unchanged on a store that is not encrypted."""
        mapper = self.mapper
        return mapper.reveal(value) if isinstance(mapper, SealingMapper) else value

    def erase_personal_data(self, account_id: str, reason: str) -> bool:
        """Crypto-shred one person: delete their data key (the key table's row stays, saying
        when and why), so every personal value sealed under it, in their account's events and
        in the bank lines matched to it, reads as erased for ever; and delete the snapshots that
        held them readable (their account's, and every bank account's: snapshots are only a
        cache of the events). Figures and the chain are untouched. Whether a key was erased
        (``False``: erased before). The caller must close the account first and rebuild the
        read models afterwards (``Ledger.erase_person`` does both)."""
        keys = self.data_keys
        if keys is None:
            raise DataKeyError(
                "this store is not encrypted, so no person's data can be erased by deleting a key",
                fix=f"set {datakeys.DATA_KEY_ENV} before recording personal data",
            )
        uuid = account_uuid(account_id)
        erased = keys.erase(str(uuid), reason)
        if self.snapshots is not None:
            gone = datakeys.forget_snapshots(
                self.snapshots.recorder, uuid, get_topic(BankAccount.Snapshot)
            )
            self.checked_repository.needs_snapshot.update(gone)  # taken afresh at next save
        self.checked_repository.forget()
        return erased

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that upcasts events of older class versions while keeping what was stored
        for their digests (see :mod:`dpledger.adapters.versions`)."""
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=SealingMapper
        )

    def construct_transcoder(self) -> JSONTranscoder:
        """The JSON transcoder with dpledger's value types (see :class:`FastJSONTranscoder`)."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Teach the store dpledger's value types, so they round-trip exactly."""
        super().register_transcodings(transcoder)
        for transcoding in (MoneyAsPence(), DateAsISO(), PostingsAsList()):
            transcoder.register(transcoding)
        for enum_class in _ENUMS:
            transcoder.register(EnumAsValue(enum_class))
        for record_class in _RECORDS:
            transcoder.register(RecordAsDict(record_class))

    def construct_recorder(self) -> ApplicationRecorder:
        """The store's application recorder, extended with the key index."""
        factory: Any = self.factory
        if isinstance(factory, POPOFactory):
            return heads.ChainedPOPORecorder()
        if isinstance(factory, SQLiteFactory):
            recorder: Any = heads.ChainedSQLiteRecorder(datastore=factory.datastore)
        else:
            from dpledger.adapters.heads_postgres import ChainedPostgresRecorder

            # Every connection the pool opens from now on: no statement runs for ever.
            seconds = int(self.env.get(STATEMENT_TIMEOUT_ENV) or "0")
            factory.datastore.pool.kwargs["options"] = f"-c statement_timeout={seconds * 1000}"
            prefix = self.name.lower() or "stored"
            recorder = ChainedPostgresRecorder(
                factory.datastore, events_table_name=f"{prefix}_events"
            )
        if factory.env_create_table():
            recorder.create_table()
        return recorder  # type: ignore[no-any-return]

    def construct_snapshot_store(self) -> Any:
        """The snapshot store; on SQLite, read with one statement per load."""
        factory: Any = self.factory
        if isinstance(factory, SQLiteFactory):
            recorder = keyindex.FastSQLiteSnapshots(
                datastore=factory.datastore, events_table_name="stored_snapshots"
            )
            if factory.env_create_table():
                recorder.create_table()
            return factory.event_store(mapper=self.mapper, recorder=recorder)
        return super().construct_snapshot_store()

    def construct_repository(self) -> Repository[UUID]:
        """A repository that checks snapshots and keeps recently saved aggregates in memory
        (see :class:`CheckedRepository`; ``DPLEDGER_ACCOUNT_CACHE`` sets how many, 0 for none)."""
        size = self.env.get(ACCOUNT_CACHE_ENV, "") or str(ACCOUNT_CACHE_SIZE)
        try:
            cache_size = int(size)
        except ValueError:
            raise StoreError(
                f"{ACCOUNT_CACHE_ENV}={size!r} is not a number",
                fix="set it to how many accounts to keep in memory (0: none)",
            ) from None
        return CheckedRepository(
            event_store=self.events, snapshot_store=self.snapshots, cache_size=cache_size
        )

    @property
    def checked_repository(self) -> CheckedRepository:
        """The repository, typed."""
        repository = self.repository
        assert isinstance(repository, CheckedRepository)
        return repository

    def _take_snapshots(self, processing_event: Any) -> None:
        if self.snapshots is None:
            return
        repository = self.checked_repository
        saved: dict[UUID, list[int]] = {}
        for event in processing_event.events:
            saved.setdefault(event.originator_id, []).append(event.originator_version)
        for aggregate_id, aggregate in processing_event.aggregates.items():
            interval = self.snapshotting_intervals.get(type(aggregate))
            versions = saved.get(aggregate_id, [])
            if interval is None or not versions:
                continue
            crossed = any(v % interval == 0 for v in versions)
            if crossed or aggregate_id in repository.needs_snapshot:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
                repository.needs_snapshot.discard(aggregate_id)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """On PostgreSQL, hold the advisory lock ``name`` (an account, say) for the block: a
        unit of work that lost a race takes it to run again, so writers that keep colliding
        on one account take turns instead of colliding again. Elsewhere, and if the lock is
        not granted within the lock timeout, the block runs without it (optimistically)."""
        datastore: Any = getattr(self.factory, "datastore", None)
        if type(self.factory).__module__ != "eventsourcing.postgres" or datastore is None:
            yield
            return
        tag = f"dpledger:{datastore.schema}:{name}"
        with datastore.get_connection() as conn:
            try:
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, false)",
                    (f"{max(1, datastore.lock_timeout)}s",),
                )
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (tag,))
            except Exception:  # not granted in time: go on optimistically
                yield
                return
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (tag,))

    def build_key_index(self) -> int:
        """Build the key index from the history once, for a store written before it existed."""
        return keyindex.ensure_built(self.recorder, self.mapper.to_domain_event, index_changes)


def store_environment(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store URL; raises :class:`StoreError` if malformed."""
    if url in ("memory:", "memory://"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        return _postgres_environment(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if parsed.netloc:
            path = parsed.netloc + path
        if not path:
            raise StoreError(
                f"no file in {url!r}", fix="write sqlite:///relative.sqlite or sqlite:////abs/path"
            )
        return _sqlite_environment(path.removeprefix("/") if url.startswith("sqlite:///") else path)
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # a bare path (or a Windows drive letter)
        return _sqlite_environment(url)
    raise StoreError(
        f"unknown store URL {url!r}",
        fix="use memory:, sqlite:///file.sqlite, a file path, or postgresql://user@host:5432/db",
    )


def _sqlite_environment(path: str) -> dict[str, str]:
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise StoreError(
            f"the folder {parent} for the SQLite store does not exist", fix="create it first"
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(Path(path).expanduser()),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


POSTGRES_SETTINGS: dict[str, tuple[str, str]] = {
    # URL parameter: (eventsourcing's environment variable, dpledger's default)
    "pool_size": ("POSTGRES_POOL_SIZE", "2"),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", "8"),
    "pool_timeout": ("POSTGRES_CONNECT_TIMEOUT", "5"),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", "10"),
    "idle_in_transaction_timeout": ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "10"),
    "statement_timeout": (STATEMENT_TIMEOUT_ENV, "30"),
    "pre_ping": ("POSTGRES_PRE_PING", "yes"),
    "conn_max_age": ("POSTGRES_CONN_MAX_AGE", "3600"),
}
"""PostgreSQL settings: each from the store URL's query (``?pool_size=4&lock_timeout=5``), else
its environment variable, else dpledger's default. Timeouts are in seconds; the pool holds
``pool_size`` connections per process and opens up to ``max_overflow`` more under load."""


def _postgres_environment(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    dbname = unquote(parsed.path.lstrip("/"))
    if not dbname:
        raise StoreError(f"no database name in {url!r}", fix="end the URL with /dbname")
    query: Mapping[str, list[str]] = parse_qs(parsed.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
    }
    if "connect_timeout" in query:  # the name this URL parameter always had
        query = {**query, "pool_timeout": query["connect_timeout"]}
    for name, (variable, default) in POSTGRES_SETTINGS.items():
        value = query.get(name, [os.environ.get(variable, default)])[0].strip()
        if variable not in ("POSTGRES_PRE_PING",) and not _is_number(value):
            raise StoreError(
                f"the PostgreSQL setting {name}={value!r} is not a number",
                fix=f"set {name} in the URL, or ${variable}, to a whole number",
            )
        env[variable] = value
    schema = query.get("schema", [""])[0]
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


def _sealed_record(
    keys: DataKeys, owner: UUID, key: str, record: KeyRecord | None
) -> KeyRecord | None:
    """A key-index record as an encrypted store writes it: money awaiting a bank line names
    its bank reference, so its text is sealed under the aggregate's data key."""
    if record is None or record.digest is None or not key.startswith(AWAITING_PREFIX):
        return record
    return KeyRecord(record.version, datakeys.seal_index_text(keys, str(owner), record.digest))


def _is_number(text: str) -> bool:
    return text.isdigit()


def _postgres_connect(env: Mapping[str, str]) -> Any:
    """A connection of its own (autocommit) to the server named in ``env``."""
    import psycopg

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
        autocommit=True,
    )


@contextmanager
def setup_lock(url: str) -> Iterator[None]:
    """Hold the store's setup lock while opening it: on PostgreSQL a session advisory lock, so
    processes opening the same schema at once create its tables one after the other (several
    ``CREATE TABLE IF NOT EXISTS`` at once fail with "tuple concurrently updated"). The lock
    is taken on its own connection, which closes (releasing it) even if the process dies."""
    env = store_environment(url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        yield
        return
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "PostgreSQL support is not installed", fix="pip install 'dpledger[postgres]'"
        ) from exc
    try:
        conn = _postgres_connect(env)
        conn.execute(
            "SELECT pg_advisory_lock(hashtext(%s))",
            (f"dpledger-setup:{env.get('POSTGRES_SCHEMA') or 'public'}",),
        )
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot reach PostgreSQL at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']} to open"
            f" the store {redact(url)}: {exc}",
            fix="check the server is running and the URL's host, port, user and password",
        ) from exc
    try:
        yield
    finally:
        conn.close()  # ends the session, releasing its advisory lock


def ensure_postgres_schema(env: Mapping[str, str]) -> None:
    """Create the PostgreSQL schema named in ``env`` if it is missing (eventsourcing expects it)."""
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    import psycopg
    from psycopg import sql

    try:
        with _postgres_connect(env) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot reach PostgreSQL at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}: {exc}",
            fix="check the server is running and the URL is right",
        ) from exc


def open_application(
    url: str,
    *,
    chain_key: str | bytes | Keyring | None = None,
    data_key: str | MasterKeys | None = None,
) -> DpledgerApplication:
    """An application on the store at ``url`` (on PostgreSQL, call it inside
    :func:`setup_lock`, as ``Ledger`` does, when several processes may open a new store),
    keying its chain with ``chain_key`` (default: from the environment, see
    :func:`dpledger.adapters.heads.load_keyring`) and encrypting it with ``data_key``
    (default: from the environment, see :func:`dpledger.adapters.datakeys.load_master_keys`;
    an encrypted store opened without its key raises
    :class:`~dpledger.domain.personal.DataKeyError`)."""
    keyring = heads.load_keyring(chain_key)
    master = datakeys.load_master_keys(data_key)
    env = store_environment(url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        try:
            ensure_postgres_schema(env)
        except ImportError as exc:
            raise StoreError(
                "PostgreSQL support is not installed", fix="pip install 'dpledger[postgres]'"
            ) from exc
    try:
        app = DpledgerApplication(env=env)
    except StoreError:
        raise
    except Exception as exc:  # eventsourcing/psycopg/sqlite3 raise many kinds; name the store
        raise StoreError(
            f"cannot open the store {redact(url)}: {exc}",
            fix=_open_fix(env, exc),
        ) from exc
    app.chain_keyring = keyring
    try:
        keys = datakeys.open_keys(app.recorder, master, redact(url))
        if keys is not None:
            app.encrypt_with(keys)
        events = app.build_key_index()
        heads.key_empty_store(app.recorder, keyring)  # a new store is keyed from its start
    except BaseException:
        app.close()
        raise
    if events:
        get_logger().info("key_index.built", store=redact(url), events=events)
    return app


def _open_fix(env: Mapping[str, str], exc: Exception) -> str:
    """What to do about a store that would not open, from what went wrong."""
    text = str(exc).lower()
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return "check the URL, and that the file and its folder can be read and written"
    if "concurrently" in text or "already exists" in text or "deadlock" in text:
        return "another process was creating the same tables; open it again"
    if "permission denied" in text or "must be owner" in text:
        return "grant the user CREATE and USAGE on the schema, or have its owner open it once"
    if "timeout" in text or "could not connect" in text or "connection" in text:
        return "check the server is running, reachable, and has free connections"
    return "check the URL's host, port, database, user and password"


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
