"""Corrections: events are never edited; a mistake is reversed by a new event that names it.

``EntryCorrected`` posts the corrected event's postings again with debit and credit swapped and
carries the corrected event's own fields, so it reads on its own. Whether an event may be
reversed, what must hold first and how the account's documents change is each event class's own
:attr:`~dpledger.domain.events.AccountEvent.correction`, beside the event in its concern's module.
An event is corrected once; the "never overdrawn" and "never overpaid" rules apply to the
reversal too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.domain.bounds import Text, Version
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import InvalidTransition, UnknownParty
from dpledger.domain.events import EVENT_TYPES, AccountEvent, Correctable, NotCorrectable
from dpledger.domain.keys import awaiting_key
from dpledger.domain.lifecycle import check_writable, require_reason

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

_COMMON = frozenset(f.name for f in dataclasses.fields(AccountEvent)) | {"originator_topic"}


def corrected_index_key(version: int) -> str:
    """The key index's record that event ``version`` was corrected (it holds for ever)."""
    return f"corrected:{version}"


@dataclass(frozen=True, slots=True)
class CorrectionNote:
    """Event ``by`` corrected the event it is filed under, on ``on``."""

    by: int
    on: date


@dataclass(slots=True)
class Corrections:
    """The corrections of the recent window, by the version they corrected."""

    recent: dict[str, CorrectionNote] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Corrections:
        """No corrections yet."""
        return cls()

    def compact(self, cutoff: date) -> None:
        """Forget corrections made before ``cutoff`` (the key index keeps them all)."""
        self.recent = {v: n for v, n in self.recent.items() if n.on >= cutoff}

    def corrected_by(self, version: int) -> int | None:
        """The correction that reversed event ``version``, if recent."""
        note = self.recent.get(str(version))
        return None if note is None else note.by


def own_fields(event: AccountEvent) -> dict[str, Any]:
    """An event's own fields: what it says beyond the metadata every account event carries."""
    return {
        f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in _COMMON
    }


def policy_of(event_type: str) -> Correctable | NotCorrectable:
    """The correction policy of the event class called ``event_type``."""
    found = EVENT_TYPES.get(event_type)
    if found is None or not issubclass(found, AccountEvent):
        return NotCorrectable(f"a {event_type} is not an event of a managed account")
    return found.correction


class Correct(Command):
    """Reverse the account's event number ``version`` by a new correcting event."""

    method: ClassVar[str] = "correct"
    raises_alerts: ClassVar[bool] = True
    version: Version
    reason: Text

    def index_keys(self) -> tuple[str, ...]:
        """Whether the event was corrected before."""
        return (corrected_index_key(self.version),)


class EntryCorrected(AccountEvent):
    """An earlier event was reversed: its postings posted again with debit and credit swapped."""

    corrected_version: int
    corrected_type: str
    corrected_fields: dict[str, Any]
    """The corrected event's own fields (amounts, ids), so the correction reads on its own."""

    correction: ClassVar[Any] = NotCorrectable(
        "a correction is not reversed: record the right entry again as a new command"
    )
    awaits_bank_line: ClassVar[bool] = False

    def evolve(self, account: ManagedAccount) -> None:
        """The corrected event's effect on the documents is undone (its postings already were)."""
        account.corrections.recent[str(self.corrected_version)] = CorrectionNote(
            self.originator_version, self.effective_date
        )
        account.funds.forget(self.corrected_version, self.corrected_type, self.corrected_fields)
        policy = policy_of(self.corrected_type)
        if isinstance(policy, Correctable):
            policy.undo(account, self.corrected_fields)

    def claims(self) -> dict[str, str | None]:
        """The corrected event, besides its command's key."""
        return {**super().claims(), corrected_index_key(self.corrected_version): None}

    def releases(self) -> tuple[str, ...]:
        """What the corrected event held (a voided invoice's number; money awaiting a bank
        line, which no line will now confirm)."""
        policy = policy_of(self.corrected_type)
        held = policy.releases(self.corrected_fields) if isinstance(policy, Correctable) else ()
        return (*held, awaiting_key(self.corrected_version))

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``corrects event 7 (CarePlanSpendPaid)``."""
        return (
            f"corrects event {details.get('corrected_version')} ({details.get('corrected_type')})"
        )


def check_correctable(account: ManagedAccount, target: AccountEvent, ctx: Context) -> None:
    """Refuse to reverse ``target`` unless it is this account's, not corrected before, of a kind
    that may be corrected, and its own correction check passes."""
    if target.originator_id != account.id or target.originator_version > account.version:
        raise UnknownParty(
            "the event to correct is not on this account",
            account_id=account.account_id,
            fix="name an event version of this account",
        )
    version = target.originator_version
    earlier = account.corrected_by(version)
    if earlier is None:
        taken = ctx.facts.key(corrected_index_key(version))
        earlier = None if taken is None else taken.version
    if earlier is not None:
        raise InvalidTransition(
            f"event {version} was already corrected by event {earlier}",
            account_id=account.account_id,
            fix="record the right entry as a new command",
        )
    policy = type(target).correction
    if isinstance(policy, NotCorrectable):
        raise InvalidTransition(
            f"a {type(target).__name__} cannot be corrected",
            account_id=account.account_id,
            fix=policy.instead,
        )
    policy.check(account, target)


@decides(Correct)
def correct(account: ManagedAccount, command: Correct, ctx: Context) -> None:
    """Reverse an earlier event of this account, with a reason."""
    check_writable(account, ctx)
    require_reason(account, ctx, "a correction")
    target = event_of(account, command.version, ctx)
    reverse(account, target, ctx)


def event_of(account: ManagedAccount, version: int, ctx: Context) -> AccountEvent:
    """The account's event ``version``; raises :class:`UnknownParty` if it has none."""
    for pending in account.pending_events:
        if isinstance(pending, AccountEvent) and pending.originator_version == version:
            return pending
    try:
        event = ctx.facts.event(version)
    except LookupError:
        event = None
    if not isinstance(event, AccountEvent) or version > account.version:
        raise UnknownParty(
            f"the account has no event {version} (its last is {account.version})",
            account_id=account.account_id,
            fix="name an event version from the account's history (Ledger.events)",
        )
    return event


def reverse(account: ManagedAccount, target: AccountEvent, ctx: Context) -> AccountEvent:
    """Record the correction of ``target`` (its checks passed or are checked here)."""
    check_correctable(account, target, ctx)
    return account.record(
        ctx,
        EntryCorrected,
        target.postings.reversed(),
        corrected_version=target.originator_version,
        corrected_type=type(target).__name__,
        corrected_fields=own_fields(target),
    )
