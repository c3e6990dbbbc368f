"""The key index: uniqueness that holds for ever, kept beside the events instead of in the state.

An account's key index maps keys to the digest and version of the event that took them:

- ``cmd:<idempotency key>`` for every command sent with a key (the digest is the command's);
- ``invoice:<agency>/<NUMBER>`` for every invoice in force (a voided invoice gives it back);
- ``creditnote:<agency>/<NUMBER>`` for every agency credit note;
- ``wagerun:<pa>/<start>/<end>`` for every wage run in force;
- ``corrected:<version>`` for every event a correction reversed;
- ``move:<version>`` for money recorded by hand that no bank line has confirmed yet (its type,
  date, signed pence and reference beside it), given back when a line confirms it;
- on a bank account, ``line:<dedup key>`` for every statement line booked.

It is written in the same transaction as the events that take or give back its keys, and it is a
function of the events alone (:meth:`~dpledger.domain.events.AccountEvent.claims` and
``releases``), so it can be rebuilt from the history at any time. Decisions read it through
:class:`Facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the key index holds for a key: the event that took it, and the digest beside it."""

    version: int
    digest: str | None


class Facts(Protocol):
    """What a decision may know besides the account's own state."""

    def key(self, key: str) -> KeyRecord | None:
        """The key index's record for ``key`` on this account, or ``None`` if the key is free."""

    def event(self, version: int) -> Any:
        """The account's stored (or just recorded) event ``version``."""

    def prefixed(self, prefix: str) -> dict[str, KeyRecord]:
        """Every key of the account's key index starting with ``prefix``."""


AWAITING_PREFIX = "move:"
"""Keys of money recorded by hand that no bank line has confirmed yet: ``move:<version>``."""


def awaiting_key(version: int) -> str:
    """The key index's record that event ``version`` moved money a bank line may confirm."""
    return f"{AWAITING_PREFIX}{version}"


class NoFacts:
    """Facts of an account whose key index is empty (a new account, a unit test)."""

    def key(self, key: str) -> KeyRecord | None:
        """No key is taken."""
        return None

    def event(self, version: int) -> Any:
        """No stored event is known."""
        raise LookupError(f"no stored event {version}")

    def prefixed(self, prefix: str) -> dict[str, KeyRecord]:
        """No key is taken."""
        return {}


def fold_claims(changes: dict[str, KeyRecord | None], event: Any) -> None:
    """Apply one event's key-index changes to ``changes`` (what it gives back, then what it
    takes). An idempotency key stays with the first event of its command."""
    for key in event.releases():
        changes[key] = None
    for key, digest in event.claims().items():
        if key.startswith("cmd:") and changes.get(key) is not None:
            continue
        changes[key] = KeyRecord(event.originator_version, digest)


def index_changes(events: Any) -> dict[str, KeyRecord | None]:
    """The key-index changes of one aggregate's events, in order."""
    changes: dict[str, KeyRecord | None] = {}
    for event in events:
        fold_claims(changes, event)
    return changes


class AccountFacts:
    """Facts of an account that is not in a store (a unit test): the keys of its unsaved
    events, and nothing else."""

    def __init__(self, aggregate: Any) -> None:
        self.aggregate = aggregate

    def key(self, key: str) -> KeyRecord | None:
        """The key as the unsaved events left it."""
        found = self.aggregate.pending_key(key)
        return None if found is False else found

    def prefixed(self, prefix: str) -> dict[str, KeyRecord]:
        """Every key starting with ``prefix`` the unsaved events hold."""
        claims: dict[str, KeyRecord | None] = self.aggregate.__dict__.get("_claims", {})
        return {k: r for k, r in claims.items() if k.startswith(prefix) and r is not None}

    def event(self, version: int) -> Any:
        """An unsaved event."""
        for event in self.aggregate.pending_events:
            if event.originator_version == version:
                return event
        raise LookupError(f"no stored event {version}")


class HoldsKeys:
    """What an aggregate knows of the keys its unsaved events take: a decision in the same unit
    of work (a batch, an import) sees them before they reach the store."""

    def claim(self, event: Any) -> None:
        """Note the keys ``event`` takes and gives back."""
        fold_claims(self.__dict__.setdefault("_claims", {}), event)

    def unsaved_keys(self) -> dict[str, KeyRecord | None]:
        """The key-index changes of the unsaved events (what saving them writes)."""
        claims: dict[str, KeyRecord | None] = self.__dict__.get("_claims", {})
        return claims

    def pending_key(self, key: str) -> KeyRecord | bool | None:
        """A key taken (a record) or given back (``None``) by events not yet saved; ``False``
        when no unsaved event touched it."""
        claims: dict[str, KeyRecord | None] = self.__dict__.get("_claims", {})
        return claims.get(key, False)
