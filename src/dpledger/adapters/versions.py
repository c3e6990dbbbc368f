"""Class versions of stored events: upcast when read, never rewritten, verified as written.

An event class that gains, loses or renames a field says so with ``class_version`` and a static
``upcast_vN_vN+1(state)`` for each step (eventsourcing's convention, see
:mod:`dpledger.domain.events`). The store writes ``class_version`` into an event's state when it
is above 1; :class:`VersionedMapper` reads an older event into today's shape by running the
upcasters, and keeps the state as it was written on the event (under
:data:`~dpledger.domain.chain.AS_WRITTEN`) so that:

- its digest is recomputed from what was stored (:func:`~dpledger.domain.chain.event_digest`),
  so upcasting never makes an old event look tampered;
- encoding it again gives the bytes it was stored with (what ``verify`` compares, and what a
  history export writes), never today's shape: a stored event is never rewritten.

An event stored by a *newer* dpledger (a class version this code does not know) is refused with
a message saying so, rather than read half-understood.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from dpledger.domain.chain import AS_WRITTEN, CLASS_VERSION


class NewerEventVersion(MapperDeserialisationError):
    """A stored event of a class version this code does not know (written by a newer dpledger)."""


class VersionedMapper(Mapper[UUID]):
    """eventsourcing's mapper, upcasting old events while keeping the state they were written
    with (see the module docstring). Events of today's class version take eventsourcing's own
    path unchanged."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The stored event in today's shape; an upcast one remembers its stored state."""
        cls = resolve_topic(stored_event.topic)
        if getattr(cls, CLASS_VERSION, 1) == 1:
            return super().to_domain_event(stored_event)
        state = self._decoded(stored_event)
        written_at = state.get(CLASS_VERSION, 1)
        today = cls.class_version
        if not isinstance(written_at, int) or written_at > today:
            raise NewerEventVersion(
                f"the stored {cls.__name__} at version {stored_event.originator_version} is of "
                f"class version {written_at!r}, but this dpledger knows class version {today}: "
                "it was written by a newer dpledger (upgrade to read this store)"
            )
        written = copy.deepcopy(state) if written_at < today else None
        state.pop(CLASS_VERSION, None)
        for step in range(written_at, today):
            getattr(cls, f"upcast_v{step}_v{step + 1}")(state)
        convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        state["originator_id"] = convert(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        if written is not None:
            state[AS_WRITTEN] = written
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The event as stored: an upcast one as it was written, never in today's shape."""
        written = domain_event.__dict__.get(AS_WRITTEN)
        if written is None:
            return super().to_stored_event(domain_event)
        state = self.transcoder.encode(dict(written))
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def _decoded(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The stored state as written (decrypted, decompressed, decoded; not upcast)."""
        state = stored_event.state
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
            decoded: dict[str, Any] = self.transcoder.decode(state)
        except Exception as exc:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {exc}"
            ) from exc
        return decoded
