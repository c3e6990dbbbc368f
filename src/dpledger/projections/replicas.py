"""Managed accounts a read model keeps in memory, rebuilt event by event with the aggregate's own
``mutate``: the same arithmetic as the write side, never a second implementation."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from eventsourcing.application import Application

from dpledger.domain.account import ManagedAccount
from dpledger.domain.events import AccountEvent


class Replicas:
    """Each account's state after the last of its events applied, for at most ``size`` accounts
    (the least recently used go; one not kept is loaded again from the store)."""

    def __init__(self, source: Application[Any], size: int = 2000) -> None:
        self.source = source
        self.size = size
        self._kept: OrderedDict[Any, ManagedAccount] = OrderedDict()

    def apply(self, event: AccountEvent) -> ManagedAccount:
        """The account after ``event``, from its state just before it; kept for the next."""
        mutated: Any = event.mutate(self._before(event))
        assert isinstance(mutated, ManagedAccount)
        kept = self._kept
        kept[event.originator_id] = mutated
        kept.move_to_end(event.originator_id)
        while len(kept) > self.size:
            kept.popitem(last=False)
        return mutated

    def get(self, originator_id: Any) -> ManagedAccount | None:
        """The account kept in memory, if it is."""
        return self._kept.get(originator_id)

    def clear(self) -> None:
        """Forget every account (after a rollback, or before a rebuild)."""
        self._kept.clear()

    def _before(self, event: AccountEvent) -> ManagedAccount | None:
        if event.originator_version == 1:
            return None
        kept = self._kept.get(event.originator_id)
        if kept is not None and kept.version == event.originator_version - 1:
            return kept
        # Not in memory (a new process, or evicted): the state just before this event from the
        # account's own events (and checked snapshots), never from another account's.
        loaded: Any = self.source.repository.get(
            event.originator_id, version=event.originator_version - 1
        )
        assert isinstance(loaded, ManagedAccount)
        return loaded
