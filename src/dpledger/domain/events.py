"""What every event carries, and what every event class must say about itself.

Events never change: a mistake is put right by an ``EntryCorrected`` event that names the event
it reverses. Each event records its effective date (when it happened in the world), who did it
(``actor``), why where that matters (``reason``), the idempotency key and payload digest of the
command that caused it, and its postings, which always sum to zero. The recorded time is the
event's ``timestamp``, stamped when the event is created and stored with it.

Each concrete event class, in the module of its concern, also says:

- how it changes the account (:meth:`AccountEvent.evolve`; the postings are applied for every
  event in one place, by the account);
- whether and how a correction may reverse it (:attr:`AccountEvent.correction`);
- how the audit sheet describes it (:meth:`AccountEvent.describe`, from the stored details).

``tests/unit/test_registry.py`` fails for an event that forgets one of them.

**Topics.** An event's stored topic is ``dpledger.domain.events:<ClassName>`` wherever its class
lives (eventsourcing's explicit ``TOPIC``), so topics never change when code moves: stores,
history files and notification-log readers keep working. Each class registers its topic when it
is defined; the store imports :mod:`dpledger.domain.registry`, which imports every concern.

**Class versions.** A stored event is never rewritten, so an event class that changes shape says
so: ``class_version = 2`` and a static ``upcast_v1_v2(state)`` that turns a stored version-1
state (a dict of decoded fields, without ``originator_id``/``originator_version``) into today's,
in place; each later step adds ``upcast_v2_v3`` and so on (eventsourcing's convention; the store
writes ``class_version`` into the state when above 1). A class missing a step is refused when it
is defined. Old events are upcast when read, but their digests are checked over what was stored
(:mod:`dpledger.domain.chain`, :mod:`dpledger.adapters.versions`). How to evolve an event safely:
docs/operations.md, "Evolving an event".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.keys import awaiting_key
from dpledger.domain.money import Money

if TYPE_CHECKING:  # annotations only: the account imports the concerns that define events
    from dpledger.domain.account import ManagedAccount

TOPIC_PREFIX = "dpledger.domain.events:"
"""The namespace of every event's stored topic."""


@dataclass(frozen=True)
class Correctable:
    """A correction may reverse this event once ``check(account, event)`` passes; then
    ``undo(account, fields)`` puts the account's documents back (the postings reverse
    generically) and ``releases(fields)`` names keys of the key index the event no longer holds
    (a voided invoice frees its number)."""

    check: Callable[[ManagedAccount, Any], None]
    undo: Callable[[ManagedAccount, Mapping[str, Any]], None]
    releases: Callable[[Mapping[str, Any]], tuple[str, ...]] = lambda fields: ()


@dataclass(frozen=True)
class NotCorrectable:
    """No correction may reverse this event; ``instead`` says what to do."""

    instead: str


def can_always(account: ManagedAccount, target: Any) -> None:
    """The correction check of events that may always be reversed (money only)."""


def nothing_to_undo(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    """The undo of events whose effect is their postings only."""


MONEY_ONLY = Correctable(can_always, nothing_to_undo)
"""Reversible at any time; reversing it takes back its postings and nothing else."""


class AccountEvent(Aggregate.Event):
    """What every event of a managed account carries."""

    effective_date: date
    actor: str
    reason: str | None
    command_key: str | None
    command_digest: str | None
    postings: Postings
    previous_digest: str
    """The digest of the account's previous event (:data:`~dpledger.domain.chain.GENESIS` first)."""
    digest: str
    """This event's own digest over everything it says (see :mod:`dpledger.domain.chain`)."""

    correction: ClassVar[Correctable | NotCorrectable]
    """Whether a correction may reverse it, and how (every concrete event sets it)."""
    awaits_bank_line: ClassVar[bool] = True
    """Money this event moves, recorded by hand, waits for a bank line to confirm it (not so
    for corrections and closing, which no single bank line stands for)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _give_topic(cls)

    def apply(self, aggregate: Any) -> None:
        """Hands the event to the account, which applies its postings, then :meth:`evolve`."""
        aggregate.when(self)

    def evolve(self, account: ManagedAccount) -> None:
        """Change the account's documents as this event says (postings are already applied)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it changes the account")

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """How the audit sheet describes the event, from its stored fields (``details``: money
        as ``{"pence", "currency"}``, dates as ISO text)."""
        return cls.__name__

    def claims(self) -> dict[str, str | None]:
        """Keys this event takes in its account's key index, each with the digest stored beside
        it: its command's idempotency key, money recorded by hand that a bank line may confirm,
        and (in some events) a document number. The index is written in the same transaction as
        the event; it is a function of the events alone."""
        found: dict[str, str | None] = {}
        key = self.command_key
        if key is not None:
            found[command_index_key(key)] = self.command_digest
        if self.awaits_bank_line and not (key or "").startswith("bank:"):
            change = self.postings.effect_on(LedgerAccount.BANK)
            if change:
                reference = getattr(self, "bank_reference", None)
                found[awaiting_key(self.originator_version)] = json.dumps(
                    [
                        type(self).__name__,
                        self.effective_date.isoformat(),
                        change,
                        reference if isinstance(reference, str) else None,
                    ]
                )
        return found

    def releases(self) -> tuple[str, ...]:
        """Keys of the key index this event gives back (a voided invoice's number)."""
        return ()


def command_index_key(key: str) -> str:
    """Where a command's idempotency key lives in the account's key index."""
    return f"cmd:{key}"


class BankAccountEvent(Aggregate.Event):
    """What every event of a bank account carries (no postings: the managed accounts' events
    hold the money; a bank account holds what the bank said and how it was matched)."""

    effective_date: date
    actor: str
    reason: str | None
    command_key: str | None
    command_digest: str | None
    previous_digest: str
    digest: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _give_topic(cls)

    def apply(self, aggregate: Any) -> None:
        """Hands the event to the bank account."""
        aggregate.when(self)

    def evolve(self, bank: Any) -> None:
        """Change the bank account's book as this event says."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it changes the book")

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """How an audit listing describes the event, from its stored fields."""
        return cls.__name__

    def claims(self) -> dict[str, str | None]:
        """Keys this event takes in its bank account's key index: the idempotency key of the
        request it answers (a line's key or a stated balance are claimed by their events)."""
        key = self.command_key
        return {} if key is None else {command_index_key(key): self.command_digest}

    def releases(self) -> tuple[str, ...]:
        """Keys of the key index this event gives back."""
        return ()


EVENT_TYPES: dict[str, type[Any]] = {}
"""Every concrete event class defined so far, by name (each concern module adds its own)."""


def _give_topic(cls: type) -> None:
    # Stable topics: see the module docstring. Only concrete events get one: a base class
    # defined here keeps its module path.
    if cls.__module__ != __name__ and "TOPIC" not in cls.__dict__:
        if cls.__name__ in EVENT_TYPES:
            raise TypeError(f"two event classes are called {cls.__name__}")
        check_upcasters(cls)
        topic = f"{TOPIC_PREFIX}{cls.__name__}"
        cls.TOPIC = topic  # type: ignore[attr-defined]
        register_topic(topic, cls)
        EVENT_TYPES[cls.__name__] = cls


def check_upcasters(cls: type) -> None:
    """Refuse an event class whose ``class_version`` is not a whole number from 1, or that lacks
    a static ``upcast_vN_vN+1`` for a step from 1 to it (an old stored event could not be read)."""
    version = getattr(cls, "class_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TypeError(f"{cls.__name__}.class_version must be a whole number from 1")
    for step in range(1, version):
        name = f"upcast_v{step}_v{step + 1}"
        if not any(isinstance(kind.__dict__.get(name), staticmethod) for kind in cls.__mro__):
            raise TypeError(
                f"{cls.__name__} is at class version {version} but has no static {name}(state): "
                "old stored events could not be read"
            )


# ---------------------------------------------------------------------------- describing
def money_in(details: Mapping[str, Any], key: str = "amount") -> Money:
    """An amount from stored details (``{"pence": ..., "currency": ...}``); zero if absent."""
    value = details.get(key)
    if isinstance(value, Mapping):
        return Money(int(value["pence"]), str(value.get("currency", "GBP")))
    if isinstance(value, Money):
        return value
    return Money(0)


def amount_text(details: Mapping[str, Any]) -> str:
    """`` £12.34`` when the details hold an amount, else nothing."""
    return f" {money_in(details)}" if details.get("amount") is not None else ""


def period_text(details: Mapping[str, Any]) -> str:
    """`` for <start> to <end>`` when the details state a period, else nothing."""
    start, end = details.get("period_start"), details.get("period_end")
    return f" for {start} to {end}" if start and end else ""


def reference_text(details: Mapping[str, Any]) -> str:
    """`` (ref X)`` when the details carry a bank reference, else nothing."""
    reference = details.get("bank_reference")
    return f" (ref {reference})" if reference else ""
