"""Tamper evidence: every event's digest, chained to its account's previous event.

Each event carries ``previous_digest`` (the digest of the account's event before it, or
:data:`GENESIS` for the first) and ``digest``, a SHA-256 over a canonical encoding of everything the
event says: its type, account, version, recorded time and every field, ``previous_digest``
included. Changing, deleting, inserting or reordering a stored event therefore breaks a link that
:func:`event_digest` can recompute from the events alone.

A chain on its own can be rebuilt by whoever can write the database, so it is *anchored* by seals
(see :func:`seal_mac`): an account's head digest at a version, with an HMAC under a key kept outside
the database. A seal exported into an audit report lets a later verification expose a rewrite.

**Class versions.** An event class may evolve (``class_version`` 2 and an ``upcast_v1_v2``, see
:mod:`dpledger.domain.events`). The digest is always over the event *as it was stored*: an event
stored at an older class version is upcast when it is read, but keeps the state it was written
with under :data:`AS_WRITTEN`, and :func:`event_digest` recomputes its digest from that state. A
class version above 1 is part of what the digest covers (as ``class_version``, the key the store
writes it under), so a stored version cannot be changed either; at version 1 it is absent, which
leaves every digest written before class versions existed unchanged.

Snapshots are never trusted over the history: :func:`broken_snapshots` checks each one against the
events it stands for (its state digest, its chain head, and the state its events rebuild).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from dpledger.domain.chart import Postings
from dpledger.domain.money import Money
from dpledger.domain.personal import (
    SEALS,
    TOKEN,
    Path,
    Seal,
    marked,
    marked_tokens,
    new_seals,
    sealing,
)
from dpledger.domain.snapshots import SnapshotRefused, unseal_state

GENESIS = "0" * 64
"""The ``previous_digest`` of an account's first event."""

_NOT_DIGESTED = frozenset({"digest"})

AS_WRITTEN = "_as_written"
"""The attribute under which an upcast event keeps its stored state (decoded, before upcasting,
``class_version`` included when above 1); set only by the store's mapper when it upcasts."""

CLASS_VERSION = "class_version"
"""The key a class version above 1 is stored (and digested) under (eventsourcing's)."""


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data with one spelling only (exact money, ISO dates, sorted keys)."""
    fast = _CANONICAL.get(type(value))
    if fast is not None:  # the common types by exact type: every event's digest needs them
        return fast(value)
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, Money):
        return {"pence": value.pence, "currency": value.currency}
    if isinstance(value, Postings):
        return [[line.account.value, line.amount.pence] for line in value]
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        stored = getattr(value, "stored_fields", None)
        if stored is not None:  # fields added later count only when set (AccountPolicy)
            return {name: canonical(field) for name, field in stored().items()}
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def _same(value: Any) -> Any:
    return value


def _text(value: str) -> str:
    # A sealed value read without its key (a history file, say) counts by its commitment.
    return marked_tokens(value) if value.startswith(TOKEN) else value


def _iso(value: date) -> str:
    return value.isoformat()


_CANONICAL: dict[type, Any] = {
    type(None): _same,
    bool: _same,
    int: _same,
    str: _text,
    Money: lambda value: {"pence": value.pence, "currency": value.currency},
    Postings: lambda value: [[line.account.value, line.amount.pence] for line in value],
    date: _iso,
    datetime: _iso,
    Decimal: str,
    UUID: str,
}


def digest_of(
    event_type: str, fields: Mapping[str, Any], seals: Mapping[Path, Seal] | None = None
) -> str:
    """The digest of an event of type ``event_type`` whose dataclass fields are ``fields``; a
    sealed personal value counts by its commitment (see :mod:`dpledger.domain.personal`)."""
    body = {k: canonical(v) for k, v in fields.items() if k not in _NOT_DIGESTED}
    if seals:
        body = marked(body, seals)
    text = json.dumps([event_type, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_digest(event: Any) -> str:
    """Recompute an event's digest from what was stored: the state it was written with if it
    was upcast when read (see :data:`AS_WRITTEN`), else what it says now."""
    written = event.__dict__.get(AS_WRITTEN)
    if written is not None:
        return written_digest(
            type(event).__name__, written, event.originator_id, event.originator_version
        )
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    seals = event.__dict__.get(SEALS)
    return digest_of(type(event).__name__, with_class_version(type(event), fields), seals)


def written_digest(
    event_type: str, written: Mapping[str, Any], originator_id: Any, originator_version: int
) -> str:
    """The digest of an event from its stored state as written (before any upcasting; a sealed
    value as its commitment)."""
    whole = {
        **marked_tokens(written),
        "originator_id": originator_id,
        "originator_version": originator_version,
    }
    return digest_of(event_type, whole)


def with_class_version(event_class: type[Any], fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """``fields`` with the class version when it is above 1 (what the store writes with them)."""
    version = getattr(event_class, CLASS_VERSION, 1)
    return fields if version == 1 else {**fields, CLASS_VERSION: version}


def seal_mac(key: bytes, account_id: str, version: int, digest: str) -> str:
    """The HMAC-SHA256 that anchors an account's chain head at ``version``."""
    message = f"dpledger-seal-v1\n{account_id}\n{version}\n{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_mac_matches(key: bytes, account_id: str, version: int, digest: str, mac: str) -> bool:
    """Whether ``mac`` is the seal HMAC for this head (constant-time comparison)."""
    return hmac.compare_digest(seal_mac(key, account_id, version, digest), mac)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first place an account's chain does not hold, and why."""

    account_id: str
    version: int
    reason: str


def first_broken_link(
    account_id: str,
    stored: Iterable[tuple[int, Any]],
    seals: Iterable[tuple[int, str]] = (),
) -> BrokenLink | None:
    """Check one account's stored events, in stored order; ``None`` if every link holds.

    ``stored`` gives ``(stored version, event)`` pairs, where the event is the decoded event or an
    exception saying why it could not be decoded. ``seals`` are ``(version, digest)`` heads
    recorded earlier (already authenticated by the caller): each must still be found.
    """
    previous = GENESIS
    expected_version = 1
    digests: dict[int, str] = {}
    for version, event in stored:
        if isinstance(event, BaseException):
            return BrokenLink(account_id, version, f"the stored event cannot be read: {event}")
        if version != expected_version:
            missing = "missing" if version > expected_version else "repeated or out of order"
            return BrokenLink(
                account_id,
                expected_version,
                f"version {expected_version} is {missing} (found version {version} next)",
            )
        if getattr(event, "originator_version", None) != version:
            return BrokenLink(account_id, version, "the event's version was changed")
        recorded = getattr(event, "digest", None)
        try:
            recomputed = event_digest(event)
        except Exception as exc:  # a field removed or mangled: evidence, not a crash
            return BrokenLink(account_id, version, f"the stored event is incomplete: {exc}")
        if recorded != recomputed:
            return BrokenLink(
                account_id, version, "the event's content does not match its recorded digest"
            )
        if event.previous_digest != previous:
            return BrokenLink(
                account_id,
                version,
                "the event does not chain to the previous event (an event before it was "
                "changed, removed, inserted or reordered)",
            )
        digests[version] = recorded
        previous = recorded
        expected_version += 1
    for version, digest in seals:
        if version not in digests:
            last = expected_version - 1
            return BrokenLink(
                account_id,
                version,
                f"a seal names version {version} but the account now ends at version {last} "
                "(events were removed)",
            )
        if digests[version] != digest:
            return BrokenLink(
                account_id,
                version,
                "the event no longer matches its seal (the history was rewritten)",
            )
    return None


def broken_snapshots(
    account_id: str,
    stored: Sequence[tuple[int, Any]],
    snapshots: Iterable[Any],
    chain_broken_at: int | None = None,
) -> list[BrokenLink]:
    """Check an aggregate's stored snapshots against its stored events; one link per bad one.

    ``stored`` is what :func:`first_broken_link` checked (``(version, event or exception)``);
    ``snapshots`` are the aggregate's snapshots of today's kind (with a ``head`` and a sealed
    state, see :func:`~dpledger.domain.snapshots.seal_state`), oldest first; ``chain_broken_at``
    is the version of the chain's first broken link, if any. Each snapshot's state must match
    its digest, its head must be the stored event's digest at its version, and its state must be
    the state the events up to that version rebuild: a forger who edits a snapshot and
    recomputes its digest is caught by the last check. Where the chain itself is broken at or
    before a snapshot's version, the events cannot vouch for it and the chain's link already
    reports the aggregate, so that snapshot is checked against its digest and head only.
    """
    events = dict(stored)
    last = max(events, default=0)
    broken: list[BrokenLink] = []
    rebuilt: Any = None
    applied = 0

    def refuse(at: int, reason: str) -> None:
        broken.append(BrokenLink(account_id, at, f"the snapshot at version {at} {reason}"))

    for snapshot in snapshots:
        at = int(snapshot.originator_version)
        try:
            state = unseal_state(snapshot.state)
        except SnapshotRefused as refused:
            refuse(at, f"is refused: {refused}")
            continue
        except Exception as exc:  # not JSON behind a matching digest, or no state at all
            refuse(at, f"cannot be read: {exc!r}")
            continue
        anchor = events.get(at)
        if anchor is None:
            refuse(at, f"is beyond the stored events, which end at version {last}")
            continue
        if isinstance(anchor, BaseException) or snapshot.head != anchor.digest:
            refuse(at, "does not carry the stored event's digest at its version as its head")
            continue
        if chain_broken_at is not None and chain_broken_at <= at:
            continue
        try:
            for version in range(applied + 1, at + 1):
                rebuilt = events[version].mutate(rebuilt)
            applied = at
            # Compared as JSON data (what the snapshot holds), not as text: key order is no
            # evidence either way.
            kind = get_topic(type(rebuilt))
            same = state == json.loads(json.dumps(rebuilt.dump()))
        except Exception as exc:  # the domain refuses to rebuild it: evidence, not a crash
            refuse(at, f"cannot be compared with its events ({exc!r})")
            break
        if snapshot.topic != kind:
            refuse(at, f"names {snapshot.topic}, but its events are of {kind}")
        elif not same:
            refuse(at, "is not the state its events rebuild (altered, its digest recomputed)")
    return broken


def chained(
    event_class: type[Any],
    fields: Mapping[str, Any],
    originator_id: UUID,
    version: int,
    previous: str,
    imposed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``fields`` with the recorded time, the previous event's digest and the event's own digest.

    The digest covers the recorded time too, so the timestamp is chosen here rather than by
    eventsourcing when it builds the event. While personal values are sealed
    (:func:`~dpledger.domain.personal.sealing`), the result also holds their seals under
    :data:`~dpledger.domain.personal.SEALS`, for the caller to take out and
    :func:`~dpledger.domain.personal.attach` to the event it makes.
    """
    timestamp = event_class.create_timestamp()
    seals = new_seals(fields) if sealing() else None
    fields = {**fields, "timestamp": timestamp, "previous_digest": previous}
    whole = {
        **fields,
        **(imposed or {}),
        "originator_id": originator_id,
        "originator_version": version,
    }
    digest = digest_of(event_class.__name__, with_class_version(event_class, whole), seals)
    if seals:
        return {**fields, "digest": digest, SEALS: seals}
    return {**fields, "digest": digest}
