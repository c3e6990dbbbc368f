"""The ``dpledger-history`` JSON Lines format: an account's or a store's history, out and in.

A history file is UTF-8 JSON Lines (in practice ASCII: every other character is written as a
``\\u`` escape, so no tool can split a line): a **header** line, one **event** line per stored
event (accounts in account-id order, each account's events in version order), and a **trailer**
line with each account's event count and chain head. :func:`export_history` writes one from the
stored events (never snapshots or projections); :func:`import_history` checks every line, digest,
link and count before it writes anything, then writes every new event in one transaction.

The format is described for readers in ``docs/interchange.md``; :data:`FORMAT_VERSION` is the one
version this module writes and reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from typing import Any, TextIO
from uuid import UUID

from eventsourcing.persistence import (
    Mapper,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from dpledger.adapters import keyindex
from dpledger.adapters.datakeys import SealingMapper
from dpledger.adapters.store import SNAPSHOT_INTERVAL, DpledgerApplication
from dpledger.adapters.versions import VersionedMapper
from dpledger.domain import events as ev
from dpledger.domain import registry
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bounds import check_identifier
from dpledger.domain.chain import CLASS_VERSION, GENESIS, event_digest, first_broken_link
from dpledger.domain.chart import Postings
from dpledger.domain.errors import (
    AccountAlreadyExists,
    AccountNotFound,
    ConflictError,
    DpledgerError,
    HistoryFileError,
    StoreError,
    ValidationError,
)
from dpledger.domain.keys import index_changes

FORMAT = "dpledger-history"
"""The ``format`` named in every history file's header."""

FORMAT_VERSION = 1
"""The format version this module writes, and the only one it reads."""

_EVENTS_TOPIC = "dpledger.domain.events:"
_ACCOUNT_TOPIC = get_topic(ManagedAccount)
_ENVELOPE_KEYS = (
    "kind",
    "account_id",
    "version",
    "event_type",
    "effective_date",
    "recorded_at",
    "previous_digest",
    "digest",
    "topic",
    "state",
)
_TRAILER_KEYS = frozenset({"kind", "events", "accounts"})
_HEAD_KEYS = frozenset({"events", "head_version", "head_digest"})
_HEADER_REQUIRED = ("kind", "format", "format_version", "accounts")

Progress = Callable[[int, int], None]
"""``progress(done, total)``: accounts exported, or lines checked on import."""


@dataclass(frozen=True)
class AccountHead:
    """One account in a history file: its event count and its chain head (last version, digest).

    Compare a head with a seal taken from the ledger (``Ledger.seal``) to know the file holds the
    ledger's own history up to that version.
    """

    account_id: str
    events: int
    head_version: int
    head_digest: str


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_history` wrote."""

    exported_at: datetime
    accounts: tuple[AccountHead, ...]
    events: int
    """Event lines written (the file has two more lines: the header and the trailer)."""


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_history` did with a history file."""

    source_name: str
    accounts: tuple[AccountHead, ...]
    """Every account in the file, with the head the file ends at."""
    events_in_file: int
    events_written: int
    imported: tuple[str, ...] = ()
    """Accounts the store did not hold: written whole."""
    appended: tuple[str, ...] = ()
    """Accounts whose stored history was a prefix of the file's: the newer events appended."""
    already_present: tuple[str, ...] = ()
    """Accounts the store already held exactly as in the file: nothing written."""
    newer_in_store: tuple[str, ...] = ()
    """Accounts whose stored history extends the file's (an older export): nothing written."""

    @property
    def no_op(self) -> bool:
        """Whether the import wrote nothing (the store already held everything in the file)."""
        return self.events_written == 0


# ===================================================================== export


def export_history(
    app: DpledgerApplication,
    out: TextIO,
    account_ids: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
    exported_at: datetime | None = None,
) -> ExportSummary:
    """Write the stored history of ``account_ids`` (``None``: every account in the store) to
    ``out`` as a ``dpledger-history`` file, and return what was written.

    Reads the stored events themselves (not snapshots or projections) and checks each account's
    chain as it goes: a broken history raises :class:`StoreError` (run ``Ledger.verify``), and an
    unknown account :class:`AccountNotFound`. What was written to ``out`` before an error has no
    trailer, so an import refuses it; write to a temporary file and rename it when this returns.
    Two exports of the same history are identical except the header's ``exported_at``.
    ``progress(done, total)`` is called after each account.
    """
    moment = exported_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValidationError(
            "must be timezone-aware", field="exported_at", fix="pass datetime.now(UTC)"
        )
    if account_ids is None:
        targets = _stored_accounts(app)
    else:
        targets = {}
        for name in account_ids:
            check_identifier(name, "account_ids")
            uuid = account_uuid(name)
            if not app.recorder.select_events(uuid, limit=1):
                raise AccountNotFound(
                    "no such account in the store", account_id=name, fix="check the account id"
                )
            targets[name] = uuid
    names = sorted(targets)
    # Without the store's cipher; an upcast event is written as it was stored (its digest), and
    # on an encrypted store each personal value as its sealed token, never in clear.
    plain = SealingMapper(transcoder=app.mapper.transcoder)
    plain.keys = app.data_keys
    header = {
        "kind": "header",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dpledger_version": _dpledger_version(),
        "exported_at": moment.isoformat(),
        "accounts": names,
    }
    out.write(_dumps(header))
    heads: list[AccountHead] = []
    for done, name in enumerate(names, start=1):
        events = _stored_history(app, name, targets[name])
        for event in events:
            out.write(_dumps(_event_line(plain, name, event)))
        heads.append(
            AccountHead(name, len(events), events[-1].originator_version, events[-1].digest)
        )
        if progress is not None:
            progress(done, len(names))
    total = sum(head.events for head in heads)
    trailer = {
        "kind": "trailer",
        "events": total,
        "accounts": {
            head.account_id: {
                "events": head.events,
                "head_version": head.head_version,
                "head_digest": head.head_digest,
            }
            for head in heads
        },
    }
    out.write(_dumps(trailer))
    return ExportSummary(exported_at=moment, accounts=tuple(heads), events=total)


def _stored_accounts(app: DpledgerApplication) -> dict[str, UUID]:
    """Every managed account in the store, named by its first event (read from the notification
    log). Bank accounts are left out: a bank account is shared by the managed accounts whose
    money it holds, so it is no part of any one account's history (see docs/interchange.md)."""
    uuids: dict[UUID, None] = {}
    start: int | None = None
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
        if not batch:
            break
        for notification in batch:
            uuids.setdefault(UUID(str(notification.originator_id)), None)
        start = batch[-1].id
    names: dict[str, UUID] = {}
    for uuid in uuids:
        first = app.recorder.select_events(uuid, limit=1)
        try:
            event: Any = app.mapper.to_domain_event(first[0])
            if isinstance(event, ev.BankAccountEvent):
                continue
            name = str(event.account_id)
        except Exception as exc:  # a missing or unreadable first event: the store is broken
            raise StoreError(
                f"the stored account {uuid} has no readable first event ({exc})",
                fix="run Ledger.verify() and restore the store from a backup",
            ) from exc
        if account_uuid(name) != uuid:
            raise StoreError(
                f"the stored account {uuid} calls itself {name!r}, whose id differs",
                account_id=name,
                fix="run Ledger.verify() and restore the store from a backup",
            )
        names[name] = uuid
    return names


def _stored_history(app: DpledgerApplication, name: str, uuid: UUID) -> list[Any]:
    """The account's stored events, oldest first, refused unless every link holds."""
    stored: list[tuple[int, Any]] = []
    for record in app.recorder.select_events(uuid):
        try:
            event: Any = app.mapper.to_domain_event(record)
            if not isinstance(event, ev.AccountEvent):
                raise TypeError(f"{record.topic} is not an account event")
        except Exception as exc:  # evidence for the broken-link report, not a crash
            event = exc
        stored.append((int(record.originator_version), event))
    link = first_broken_link(name, stored)
    if link is not None:
        raise StoreError(
            f"the stored history is broken at version {link.version}: {link.reason}; "
            "the export stopped there, without a trailer",
            account_id=name,
            fix="run Ledger.verify() and restore the store from a backup",
        )
    return [event for _, event in stored]


def _event_line(plain: Mapper[UUID], name: str, event: Any) -> dict[str, Any]:
    # The state is what the store holds (its transcodings, its key order), so an import writes
    # the same bytes back.
    state = _loads(plain.to_stored_event(event).state.decode("utf-8"))
    return {
        "kind": "event",
        "account_id": name,
        "version": event.originator_version,
        "event_type": type(event).__name__,
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.timestamp.isoformat(),
        "previous_digest": event.previous_digest,
        "digest": event.digest,
        "topic": get_topic(type(event)),
        "state": state,
    }


def _dpledger_version() -> str:
    try:
        return metadata.version("dpledger")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n"


# ===================================================================== import


@dataclass
class _Account:
    """One account as read from the file so far."""

    account_id: str
    events: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    @property
    def head_digest(self) -> str:
        return str(self.events[-1].digest) if self.events else GENESIS


def import_history(
    app: DpledgerApplication,
    source: Iterable[str] | str | os.PathLike[str],
    *,
    source_name: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a ``dpledger-history`` file into the store; all or nothing.

    ``source`` is a path (``str`` or path-like) or the file's lines (an open text file, a list
    of lines). ``source_name`` names it in errors (default: the path, or ``"history"``).

    Every line is checked before anything is written: the header's format and version, each
    line's JSON and fields, each event's digest (recomputed), each account's versions (1, 2, ...)
    and links, the replay of each account's events, and the trailer's counts and heads. A
    problem raises :class:`HistoryFileError` naming the file and line. Then, per account: one the
    store lacks is written whole; one whose stored history is the file's up to some version has
    the rest appended; one held exactly (or beyond) is left alone, so importing the same file
    again writes nothing. A stored history that differs from the file's raises
    :class:`AccountAlreadyExists` naming the account and the first differing version. Every new
    event is written in one transaction (another writer in between raises
    :class:`ConflictError` and nothing is written). ``progress(done, total)`` is called as lines
    are checked.
    """
    if isinstance(source, (str, os.PathLike)):
        name = source_name or os.fspath(source)
        lines = _read_path(source, name)
    else:
        name = source_name or "history"
        lines = list(source)
    accounts, heads = _check_file(app, lines, name, progress)
    return _write(app, accounts, heads, name)


def _read_path(path: str | os.PathLike[str], name: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return list(handle)
    except UnicodeDecodeError as exc:
        raise HistoryFileError(
            f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=name,
            fix="pass the file dpledger exported, unchanged",
        ) from exc
    except OSError as exc:
        raise HistoryFileError(
            f"cannot read the file: {exc.strerror or exc}",
            file=name,
            fix="check the path and its permissions",
        ) from exc


def _check_file(
    app: DpledgerApplication, lines: list[str], name: str, progress: Progress | None
) -> tuple[dict[str, _Account], tuple[AccountHead, ...]]:
    """Every account's checked events, and the heads the trailer names; raises if anything is
    wrong."""
    checker = _Checker(app, name)
    total = len(lines)
    if total == 0:
        raise HistoryFileError(
            "the file is empty", file=name, fix="pass a file made by dpledger's export"
        )
    trailer: tuple[int, dict[str, Any]] | None = None
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if trailer is not None:
            if text.strip():
                raise checker.error(
                    number, "a line follows the trailer", fix="the trailer must be the last line"
                )
            continue
        if not text.strip():
            raise checker.error(number, "the line is empty")
        data = checker.parse(number, text)
        if number == 1:
            checker.header(data)
        elif data.get("kind") == "event":
            checker.event(number, data)
        elif data.get("kind") == "trailer":
            trailer = (number, data)
        else:
            raise checker.error(
                number,
                f"unknown line kind {data.get('kind')!r} (expected 'event' or 'trailer')",
                fix="pass the file dpledger exported, unchanged",
            )
        if progress is not None:
            progress(number, total)
    if trailer is None:
        raise HistoryFileError(
            f"the file ends at line {total} without its trailer: it is truncated",
            file=name,
            line=total,
            fix="ask for the whole file again (the trailer is its last line)",
        )
    heads = checker.trailer(*trailer)
    return checker.accounts, heads


class _Checker:
    """Checks a history file line by line, keeping each account's decoded events."""

    def __init__(self, app: DpledgerApplication, file: str) -> None:
        self.file = file
        # Upcasts an older shape while keeping it, for its digest and to be stored as it was.
        self.mapper = VersionedMapper(transcoder=app.mapper.transcoder)
        self.listed: list[str] = []
        self.accounts: dict[str, _Account] = {}

    def error(
        self, line: int | None, reason: str, *, account_id: str | None = None, fix: str = ""
    ) -> HistoryFileError:
        return HistoryFileError(
            reason,
            file=self.file,
            line=line,
            account_id=account_id,
            fix=fix or "pass the file dpledger exported, unchanged (re-export it if in doubt)",
        )

    def parse(self, number: int, text: str) -> dict[str, Any]:
        try:
            data = _loads(text)
        except ValueError as exc:
            raise self.error(number, f"not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise self.error(number, "not a JSON object")
        return data

    def header(self, data: dict[str, Any]) -> None:
        if data.get("kind") != "header" or data.get("format") != FORMAT:
            raise self.error(
                1,
                f"not a {FORMAT} file (its first line is not a {FORMAT} header)",
                fix="pass a file made by dpledger's export --format jsonl",
            )
        missing = [key for key in _HEADER_REQUIRED if key not in data]
        if missing:
            raise self.error(1, f"the header has no {missing[0]!r}")
        version = data["format_version"]
        if not _is_int(version):
            raise self.error(1, f"format_version {version!r} is not a whole number")
        if version != FORMAT_VERSION:
            raise self.error(
                1,
                f"format_version {version} is not supported: this dpledger reads version "
                f"{FORMAT_VERSION} only",
                fix=f"use a dpledger that reads {FORMAT} version {version} "
                f"(the file says it was written by dpledger {data.get('dpledger_version')})",
            )
        accounts = data["accounts"]
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise self.error(1, "the header's accounts is not a list of account ids")
        for account_id in accounts:
            self._identifier(1, account_id)
        if len(set(accounts)) != len(accounts):
            raise self.error(1, "the header lists an account twice")
        self.listed = accounts

    def event(self, number: int, data: dict[str, Any]) -> None:
        keys = set(data)
        if keys != set(_ENVELOPE_KEYS):
            wrong = sorted(keys ^ set(_ENVELOPE_KEYS))[0]
            what = "has no" if wrong not in keys else "has an unknown field"
            raise self.error(number, f"the event line {what} {wrong!r}")
        account_id = self._identifier(number, data["account_id"])
        if account_id not in self.listed:
            raise self.error(
                number, "the account is not listed in the header", account_id=account_id
            )
        version = data["version"]
        if not _is_int(version) or version < 1:
            raise self.error(number, f"version {version!r} is not a whole number from 1")
        account = self.accounts.setdefault(account_id, _Account(account_id))
        expected = len(account.events) + 1
        if version != expected:
            problem = (
                f"version {expected} is missing (found version {version})"
                if version > expected
                else f"version {version} is repeated or out of order (expected {expected})"
            )
            raise self.error(
                number,
                problem,
                account_id=account_id,
                fix="the file was cut or edited: ask for the whole file again",
            )
        event = self._decode(number, account_id, version, data)
        if event.previous_digest != account.head_digest:
            raise self.error(
                number,
                f"version {version} does not chain to version {version - 1} (its previous_digest "
                "differs): an event was changed, removed or inserted",
                account_id=account_id,
                fix="the file was edited: ask for the whole file again",
            )
        account.events.append(event)
        account.lines.append(number)

    def _identifier(self, number: int, value: object) -> str:
        try:
            return check_identifier(value, "account_id")
        except ValidationError as exc:
            raise self.error(number, exc.message) from exc

    def _decode(self, number: int, account_id: str, version: int, data: dict[str, Any]) -> Any:
        """The event the line describes, once its state, type and digest are checked."""
        event_type, topic, state = data["event_type"], data["topic"], data["state"]
        cls = registry.ACCOUNT_EVENTS.get(event_type) if isinstance(event_type, str) else None
        if cls is None:
            raise self.error(number, f"{event_type!r} is not a dpledger event type")
        # Only dpledger's own event classes are ever resolved: a topic names code to import.
        if topic != _EVENTS_TOPIC + event_type:
            raise self.error(number, f"topic {topic!r} does not name the event type {event_type}")
        if not isinstance(state, dict):
            raise self.error(number, "the event's state is not a JSON object")
        fields = {f.name for f in dataclasses.fields(cls)} - {"originator_id", "originator_version"}
        written_at = state.get(CLASS_VERSION, 1)
        today = getattr(cls, CLASS_VERSION, 1)
        if written_at == today:
            fields |= {CLASS_VERSION} if today > 1 else set()
        elif isinstance(written_at, int) and 1 <= written_at < today:
            fields = set(state)  # an older shape: its upcasters read it, its digest checks it
        else:
            raise self.error(number, f"the {event_type} state has class version {written_at!r}")
        if set(state) != fields:
            wrong = sorted(set(state) ^ fields)[0]
            what = "has no" if wrong not in state else "has an unknown field"
            raise self.error(number, f"the {event_type} state {what} {wrong!r}")
        created = cls is registry.ACCOUNT_EVENTS["AccountOpened"]
        if created != (version == 1):
            raise self.error(
                number,
                "an account's first event must be AccountOpened, and only its first",
                account_id=account_id,
            )
        if created and (state["originator_topic"] != _ACCOUNT_TOPIC):
            raise self.error(number, f"originator_topic must be {_ACCOUNT_TOPIC!r}")
        stored = StoredEvent(
            originator_id=account_uuid(account_id),
            originator_version=version,
            topic=topic,
            state=json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        )
        try:
            event: Any = self.mapper.to_domain_event(stored)
            _check_types(event)
            recomputed = event_digest(event)
        except Exception as exc:  # a value the transcodings refuse: name the line
            raise self.error(
                number, f"the event's state cannot be read: {exc}", account_id=account_id
            ) from exc
        if created and event.account_id != account_id:
            raise self.error(
                number,
                f"the AccountOpened event opens {event.account_id!r}, not {account_id!r}",
                account_id=account_id,
            )
        if recomputed != event.digest:
            raise self.error(
                number,
                f"version {version}'s content does not match its digest (the line was edited)",
                account_id=account_id,
                fix="ask for the file again; an edited history cannot be imported",
            )
        envelope = {
            "digest": event.digest,
            "previous_digest": event.previous_digest,
            "effective_date": event.effective_date.isoformat(),
            "recorded_at": event.timestamp.isoformat(),
        }
        for key, value in envelope.items():
            if data[key] != value:
                raise self.error(
                    number,
                    f"the line's {key} {data[key]!r} differs from its state's ({value!r})",
                    account_id=account_id,
                )
        return event

    def trailer(self, number: int, data: dict[str, Any]) -> tuple[AccountHead, ...]:
        if set(data) != _TRAILER_KEYS:
            wrong = sorted(set(data) ^ _TRAILER_KEYS)[0]
            raise self.error(number, f"the trailer's fields are wrong ({wrong!r})")
        accounts = data["accounts"]
        if not isinstance(accounts, dict) or list(accounts) != self.listed:
            raise self.error(number, "the trailer does not list the header's accounts in order")
        truncated = "the file was cut or spliced: ask for the whole file again"
        heads: list[AccountHead] = []
        for account_id, head in accounts.items():
            if not isinstance(head, dict) or set(head) != _HEAD_KEYS:
                raise self.error(number, "the trailer's head is malformed", account_id=account_id)
            account = self.accounts.get(account_id, _Account(account_id))
            found = len(account.events)
            if not found:
                raise self.error(
                    number, "the file holds no event of this account", account_id=account_id
                )
            if head["events"] != found or head["head_version"] != found:
                raise self.error(
                    number,
                    f"the trailer counts {head['events']!r} events up to version "
                    f"{head['head_version']!r}, but the file holds {found}",
                    account_id=account_id,
                    fix=truncated,
                )
            if head["head_digest"] != account.head_digest:
                raise self.error(
                    number,
                    "the trailer's head digest is not the last event's digest",
                    account_id=account_id,
                    fix=truncated,
                )
            heads.append(AccountHead(account_id, found, found, account.head_digest))
        total = sum(h.events for h in heads)
        if data["events"] != total:
            raise self.error(
                number,
                f"the trailer counts {data['events']!r} events, but the file holds {total}",
                fix=truncated,
            )
        return tuple(heads)


def _check_types(event: Any) -> None:
    """The fields every event carries have their types (the digest alone proves no more than
    that whoever wrote the line computed it)."""
    if not (isinstance(event.timestamp, datetime) and event.timestamp.tzinfo is not None):
        raise ValueError("timestamp is not a timezone-aware time")
    if isinstance(event.effective_date, datetime) or not isinstance(event.effective_date, date):
        raise ValueError("effective_date is not a date")
    if not isinstance(event.postings, Postings):
        raise ValueError("postings are not postings")
    for name in ("previous_digest", "digest", "actor"):
        if not isinstance(getattr(event, name), str):
            raise ValueError(f"{name} is not text")


def _write(
    app: DpledgerApplication,
    accounts: dict[str, _Account],
    heads: tuple[AccountHead, ...],
    name: str,
) -> ImportSummary:
    """Compare each account with the store, replay what is new, and write it in one go."""
    imported: list[str] = []
    appended: list[str] = []
    present: list[str] = []
    newer: list[str] = []
    new_events: list[Any] = []
    keys: list[keyindex.Change] = []
    snapshots: list[tuple[UUID, int]] = []
    for head in heads:
        account = accounts[head.account_id]
        uuid = account_uuid(head.account_id)
        held = _held(app, account, uuid, name)
        if held >= len(account.events):
            (present if held == len(account.events) else newer).append(head.account_id)
            continue
        (appended if held else imported).append(head.account_id)
        _replay(app, account, uuid, held, name)
        new_events.extend(account.events[held:])
        keys.extend(keyindex.as_changes(uuid, index_changes(account.events[held:])))
        first = (held // SNAPSHOT_INTERVAL + 1) * SNAPSHOT_INTERVAL
        snapshots.extend((uuid, v) for v in range(first, head.head_version + 1, SNAPSHOT_INTERVAL))
    if new_events:
        try:
            # One insert_events call, the key index with it: one transaction on every recorder.
            app.save(*new_events, keys=keys)
        except RecordConflictError as exc:
            raise ConflictError(
                "another writer recorded events for an account being imported; nothing was "
                "imported",
                fix="import the file again (it appends only what is still missing)",
            ) from exc
        except PersistenceError as exc:
            raise StoreError(
                f"the store could not record the history: {exc}; nothing was imported",
                fix="check the store is reachable and writable, then import again",
            ) from exc
        # Snapshots only make loading fast; they are taken from the events just committed.
        if app.snapshots is not None:
            for uuid, version in snapshots:
                app.take_snapshot(uuid, version=version)
    return ImportSummary(
        source_name=name,
        accounts=heads,
        events_in_file=sum(h.events for h in heads),
        events_written=len(new_events),
        imported=tuple(imported),
        appended=tuple(appended),
        already_present=tuple(present),
        newer_in_store=tuple(newer),
    )


def _held(app: DpledgerApplication, account: _Account, uuid: UUID, name: str) -> int:
    """How many of the file's events the store already holds, in order and unchanged; raises if
    the stored history differs from the file's."""
    records = app.recorder.select_events(uuid)
    for index, record in enumerate(records):
        version = index + 1
        if version > len(account.events):
            return len(records)
        ours = account.events[index]
        try:
            theirs: Any = app.mapper.to_domain_event(record)
            same = (
                record.originator_version == version
                and theirs.digest == ours.digest
                and event_digest(theirs) == ours.digest
            )
        except Exception:  # an unreadable stored event differs from the file's
            same = False
        if not same:
            raise AccountAlreadyExists(
                f"the store's history of this account differs from {name}'s at version "
                f"{version} (line {account.lines[index]}); nothing was imported",
                account_id=account.account_id,
                fix="this file is not a later export of this store's account: import it into "
                "an empty store to compare, and run Ledger.verify() on both",
            )
    return len(records)


def _replay(app: DpledgerApplication, account: _Account, uuid: UUID, held: int, name: str) -> None:
    """Apply the new events to the account as stored, so nothing is written that the account
    cannot load."""
    aggregate: Any = app.repository.get(uuid) if held else None
    for index in range(held, len(account.events)):
        try:
            aggregate = account.events[index].mutate(aggregate)
        except Exception as exc:  # the domain refuses to apply it: name the line
            reason = exc.message if isinstance(exc, DpledgerError) else f"{exc!r}"
            raise HistoryFileError(
                f"version {index + 1} cannot be applied to the account: {reason}",
                file=name,
                line=account.lines[index],
                account_id=account.account_id,
                fix="the file was not made by dpledger's export: ask for it again",
            ) from exc


def _loads(text: str) -> Any:
    """JSON with no floats, no NaN and no repeated keys (money is whole pence)."""
    return json.loads(
        text,
        parse_float=_refuse_float,
        parse_constant=_refuse_float,
        object_pairs_hook=_unique_keys,
    )


def _refuse_float(text: str) -> Any:
    raise ValueError(f"the number {text} is not whole (amounts are integer pence)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
