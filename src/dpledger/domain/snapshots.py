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
from typing import Any


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
