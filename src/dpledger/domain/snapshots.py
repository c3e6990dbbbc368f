"""What a snapshot is checked against before it is trusted: a digest of its state.

A snapshot holds an aggregate's state at a version as plain data, with the digest of the event at
that version (the chain head) and :func:`state_digest` of the state. The repository uses a
snapshot only if both match; otherwise it raises :class:`SnapshotRefused`, rebuilds the aggregate
from its events, and ``verify`` reports the snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.utils import get_topic, resolve_topic

A = TypeVar("A", bound=Aggregate)


class SnapshotRefused(ValueError):
    """A stored snapshot does not match what it claims: it is not used (the aggregate is rebuilt
    from its events) and ``verify`` reports it."""


def seal_state(state: Mapping[str, Any]) -> dict[str, str]:
    """A state as a snapshot stores it: its JSON text and that text's SHA-256.

    The state travels as one JSON string inside the stored snapshot, so checking it on load is
    one hash of the text as stored, and reading it one C-speed parse: nothing is re-encoded.
    """
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    return {"state": text, "state_digest": state_digest(text)}


def unseal_state(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The state :func:`seal_state` stored; raises :class:`SnapshotRefused` if it was altered."""
    text, digest = stored.get("state"), stored.get("state_digest")
    if not isinstance(text, str) or not isinstance(digest, str):
        raise SnapshotRefused("the snapshot carries no state digest (written before 0.2)")
    if state_digest(text) != digest:
        raise SnapshotRefused("the snapshot's state does not match its digest")
    state = json.loads(text)
    if not isinstance(state, dict):
        raise SnapshotRefused("the snapshot's state is not an object")
    return state


def state_digest(text: str) -> str:
    """The SHA-256 of a snapshot's state text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CheckedSnapshot(Snapshot):
    """An aggregate's state at a version as plain data, with the chain head at that version and
    the digest of the state, so a snapshot that was altered, or that belongs to another history,
    is refused (:class:`SnapshotRefused`) instead of trusted.

    The aggregate names its snapshot class (``Snapshot = ...``) and provides ``head`` (its
    chain head), ``dump()`` (its state as plain data) and ``restore(uuid, version, state)``.
    """

    @classmethod
    def take(cls, aggregate: Any) -> Any:
        """The snapshot of ``aggregate`` as it is now."""
        assert type(aggregate).Snapshot is cls, (
            f"{type(aggregate).__name__} takes another kind of snapshot"
        )
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state={"head": aggregate.head, **seal_state(aggregate.dump())},
        )

    def mutate(self, _: Any) -> Any:
        """The aggregate this snapshot holds; raises :class:`SnapshotRefused` if it was altered."""
        state = unseal_state(self.state)
        aggregate_class = resolve_topic(self.topic)
        if getattr(aggregate_class, "Snapshot", None) is not type(self):
            raise SnapshotRefused(f"the snapshot names {self.topic}, not what it snapshots")
        restored = aggregate_class.restore(self.originator_id, self.originator_version, state)
        if restored.head != self.head:
            raise SnapshotRefused("the snapshot's state names another chain head")
        return restored

    @property
    def head(self) -> str:
        """The digest of the aggregate's event at this snapshot's version."""
        return str(self.state.get("head", ""))


def restored_aggregate(cls: type[A], uuid: UUID, version: int, state: Mapping[str, Any]) -> A:
    """An instance of ``cls`` at ``version`` with the timestamps and chain head a ``dump()``
    stored, for its ``restore`` to fill in its own parts."""
    aggregate = object.__new__(cls)
    aggregate.__base_init__(
        originator_id=uuid,
        originator_version=version,
        timestamp=datetime.fromisoformat(state["created_on"]),
    )
    aggregate.modified_on = datetime.fromisoformat(state["modified_on"])
    aggregate.head = str(state["head"])  # type: ignore[attr-defined]
    return aggregate
