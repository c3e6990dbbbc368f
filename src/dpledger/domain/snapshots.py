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


def state_digest(state: Mapping[str, Any]) -> str:
    """The SHA-256 of a snapshot's state in canonical JSON."""
    text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
