"""Suspense: money that matched nothing expected, held until someone resolves it.

One flow for both directions. Unexpected **income** (a refund, a mistaken transfer) is held in
``suspense:unidentified`` until it is classified as council money or the person's contribution,
refunded, or kept with a reason. An unexplained **outgoing** (a bank debit no payment of the
account explains) is held in ``suspense:unexplained_outgoing`` until it is classified as care-plan
spend, recovered, or accepted as spent with a reason. A held item is resolved once; a correction
of the resolution holds it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from dpledger.domain.bounds import Amount, Identifier, Reference, Text
from dpledger.domain.chart import LedgerAccount, Postings, SpendCategory
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import InvalidTransition, UnknownParty, ValidationError
from dpledger.domain.events import AccountEvent, Correctable, amount_text, reference_text
from dpledger.domain.funds import Category
from dpledger.domain.lifecycle import check_writable, require_reason
from dpledger.domain.money import Money
from dpledger.domain.records import (
    OutgoingStatus,
    SuspenseItem,
    SuspenseStatus,
    UnexplainedOutgoing,
)

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

INCOME_CLASSES: Mapping[str, LedgerAccount] = MappingProxyType(
    {"council": LedgerAccount.COUNCIL_INCOME, "contribution": LedgerAccount.CONTRIBUTION_INCOME}
)
"""What unexpected income may be classified as, and the income account it then posts to."""

Item = TypeVar("Item", SuspenseItem, UnexplainedOutgoing)


# ---------------------------------------------------------------------------- state
@dataclass(slots=True)
class Suspense:
    """Held items both ways: held ones, and ones resolved within the recent window."""

    income: dict[str, SuspenseItem] = field(default_factory=dict)
    """Unexpected income by item id (``S`` and the version that received it)."""
    outgoings: dict[str, UnexplainedOutgoing] = field(default_factory=dict)
    """Unexplained outgoings by item id (``U`` and the version that recorded it)."""

    @classmethod
    def empty(cls) -> Suspense:
        """Nothing held."""
        return cls()

    def compact(self, cutoff: date) -> None:
        """Forget items resolved before ``cutoff``."""
        self.income = {k: i for k, i in self.income.items() if _kept(i, cutoff)}
        self.outgoings = {k: o for k, o in self.outgoings.items() if _kept(o, cutoff)}

    def held_ids(self) -> list[str]:
        """The ids of every item still held, income first."""
        held = [i.item_id for i in self.income.values() if i.status is SuspenseStatus.HELD]
        return held + [
            o.item_id for o in self.outgoings.values() if o.status is OutgoingStatus.HELD
        ]

    def held(self, account: ManagedAccount, item_id: str, direction: Direction) -> Any:
        """A held item; raises :class:`UnknownParty` or :class:`InvalidTransition` otherwise."""
        items: Mapping[str, Any] = self.income if direction == "in" else self.outgoings
        item = items.get(item_id)
        if item is None:
            what = "suspense item" if direction == "in" else "unexplained outgoing"
            source = "the unexpected income's receipt" if direction == "in" else "the import report"
            raise UnknownParty(
                f"no {what} {item_id!r} is held or recent",
                account_id=account.account_id,
                fix=f"use the item id from {source}",
            )
        if item.status.value != "held":
            what = "suspense item" if direction == "in" else "unexplained outgoing"
            raise InvalidTransition(
                f"{what} {item_id} was already {item.status.value}",
                account_id=account.account_id,
                fix="correct that resolution first if it was wrong",
            )
        return item

    def resolve(
        self, direction: Direction, item_id: str, status: Any, resolution: str | None, on: date
    ) -> None:
        """Set an item's status (and the day it changed)."""
        items: dict[str, Any] = self.income if direction == "in" else self.outgoings
        if item_id in items:
            held = status.value == "held"
            items[item_id] = replace(
                items[item_id],
                status=status,
                resolution=resolution,
                resolved_on=None if held else on,
            )


Direction = Literal["in", "out"]


def _kept(item: SuspenseItem | UnexplainedOutgoing, cutoff: date) -> bool:
    return item.resolved_on is None or item.resolved_on >= cutoff


def _can_correct_holding(direction: Direction) -> Any:
    def check(account: ManagedAccount, target: Any) -> None:
        account.suspense.held(account, target.item_id, direction)

    return check


def _can_correct_resolution(direction: Direction) -> Any:
    def check(account: ManagedAccount, target: Any) -> None:
        items: Mapping[str, Any] = (
            account.suspense.income if direction == "in" else account.suspense.outgoings
        )
        item = items.get(target.item_id)
        if item is None or item.status.value in ("held", "reversed"):
            state = "not recent" if item is None else item.status.value
            raise InvalidTransition(
                f"item {target.item_id} is {state}",
                account_id=account.account_id,
                fix="only a resolution still in force (and recent) can be corrected",
            )

    return check


def _reverse(direction: Direction) -> Any:
    status = SuspenseStatus.REVERSED if direction == "in" else OutgoingStatus.REVERSED

    def undo(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
        account.suspense.resolve(direction, fields["item_id"], status, None, account.latest_date)

    return undo


def _hold_again(direction: Direction) -> Any:
    status = SuspenseStatus.HELD if direction == "in" else OutgoingStatus.HELD

    def undo(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
        suspense = account.suspense
        suspense.resolve(direction, fields["item_id"], status, None, account.latest_date)
        if fields.get("income_item_id"):
            suspense.resolve(
                "in", fields["income_item_id"], SuspenseStatus.HELD, None, account.latest_date
            )

    return undo


def _describe_item(details: Mapping[str, Any], status: str, how: str = "") -> str:
    return f"item {details.get('item_id')} {status}{f' {how}' if how else ''}{amount_text(details)}"


# ---------------------------------------------------------------------------- income
class ReceiveUnexpectedIncome(Command):
    """Money that matches nothing expected arrived: hold it in suspense."""

    method: ClassVar[str] = "receive_unexpected_income"
    amount: Amount
    description: Text


class UnexpectedIncomeReceived(AccountEvent):
    """Money arrived that matches nothing expected; it is held in suspense."""

    item_id: str
    amount: Money
    description: str

    correction: ClassVar[Any] = Correctable(_can_correct_holding("in"), _reverse("in"))

    def evolve(self, account: ManagedAccount) -> None:
        """A held item."""
        account.suspense.income[self.item_id] = SuspenseItem(
            item_id=self.item_id,
            received_on=self.effective_date,
            amount=self.amount,
            description=self.description,
            status=SuspenseStatus.HELD,
            resolution=None,
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``unexpected income S7 £12.34: REFUND``."""
        return (
            f"unexpected income {details.get('item_id')}{amount_text(details)}: "
            f"{details.get('description')}"
        )


@decides(ReceiveUnexpectedIncome)
def receive_unexpected_income(
    account: ManagedAccount, command: ReceiveUnexpectedIncome, ctx: Context
) -> None:
    """Money in, held; its item id is ``S`` and its version."""
    check_writable(account, ctx)
    account.record(
        ctx,
        UnexpectedIncomeReceived,
        Postings.transfer(LedgerAccount.BANK, LedgerAccount.SUSPENSE, command.amount),
        item_id=f"S{account.version + 1}",
        amount=command.amount,
        description=command.description,
    )


class ClassifyUnexpectedIncome(Command):
    """Identify suspense money as ``"council"`` money or the person's ``"contribution"``."""

    method: ClassVar[str] = "classify_unexpected_income"
    item_id: Identifier
    classified_as: Identifier


class UnexpectedIncomeClassified(AccountEvent):
    """Suspense money was identified as council money or the person's contribution."""

    item_id: str
    amount: Money
    classified_as: str

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("in"), _hold_again("in"))

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved."""
        account.suspense.resolve(
            "in", self.item_id, SuspenseStatus.CLASSIFIED, self.classified_as, self.effective_date
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item S7 classified as council £12.34``."""
        return _describe_item(details, "classified", f"as {details.get('classified_as')}")


@decides(ClassifyUnexpectedIncome)
def classify_unexpected_income(
    account: ManagedAccount, command: ClassifyUnexpectedIncome, ctx: Context
) -> None:
    """A held item, as one of :data:`INCOME_CLASSES`."""
    check_writable(account, ctx)
    item = account.suspense.held(account, command.item_id, "in")
    income = INCOME_CLASSES.get(command.classified_as)
    if income is None:
        raise ValidationError(
            f"{command.classified_as!r} is not a class of income",
            field="classified_as",
            account_id=account.account_id,
            fix=f"use one of {', '.join(INCOME_CLASSES)}",
        )
    account.record(
        ctx,
        UnexpectedIncomeClassified,
        Postings.transfer(LedgerAccount.SUSPENSE, income, item.amount),
        item_id=command.item_id,
        amount=item.amount,
        classified_as=command.classified_as,
    )


class RefundUnexpectedIncome(Command):
    """Pay suspense money back to whoever sent it (``bank_reference``: the reference the refund
    goes out under, so its statement line confirms it by reference)."""

    method: ClassVar[str] = "refund_unexpected_income"
    added_later: ClassVar[frozenset[str]] = frozenset({"bank_reference"})
    item_id: Identifier
    bank_reference: Reference | None = None


class UnexpectedIncomeRefunded(AccountEvent):
    """Suspense money was paid back to whoever sent it, under ``bank_reference`` if given.

    Class version 2 added ``bank_reference`` (dpledger 0.2); version-1 events, stored before
    it, read with ``None`` (:meth:`upcast_v1_v2`).
    """

    class_version = 2
    item_id: str
    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("in"), _hold_again("in"))

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A refund stored before references were kept was made under none we know."""
        state["bank_reference"] = None

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved."""
        account.suspense.resolve(
            "in", self.item_id, SuspenseStatus.REFUNDED, self.reason, self.effective_date
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item S7 refunded £12.34 (ref R-1)``."""
        return _describe_item(details, "refunded") + reference_text(details)


@decides(RefundUnexpectedIncome)
def refund_unexpected_income(
    account: ManagedAccount, command: RefundUnexpectedIncome, ctx: Context
) -> None:
    """A held item; money out, never overdrawn."""
    check_writable(account, ctx)
    item = account.suspense.held(account, command.item_id, "in")
    account.record(
        ctx,
        UnexpectedIncomeRefunded,
        Postings.transfer(LedgerAccount.SUSPENSE, LedgerAccount.BANK, item.amount),
        item_id=command.item_id,
        amount=item.amount,
        bank_reference=command.bank_reference,
    )


class KeepUnexpectedIncome(Command):
    """Keep suspense money in the account, saying why."""

    method: ClassVar[str] = "keep_unexpected_income"
    item_id: Identifier
    reason: Text


class UnexpectedIncomeKept(AccountEvent):
    """Suspense money was kept in the account, for the reason given."""

    item_id: str
    amount: Money

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("in"), _hold_again("in"))

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved."""
        account.suspense.resolve(
            "in", self.item_id, SuspenseStatus.KEPT, self.reason, self.effective_date
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item S7 kept £12.34``."""
        return _describe_item(details, "kept")


@decides(KeepUnexpectedIncome)
def keep_unexpected_income(
    account: ManagedAccount, command: KeepUnexpectedIncome, ctx: Context
) -> None:
    """A held item, with a reason."""
    check_writable(account, ctx)
    require_reason(account, ctx, "keeping unexpected income")
    item = account.suspense.held(account, command.item_id, "in")
    account.record(
        ctx,
        UnexpectedIncomeKept,
        Postings.transfer(LedgerAccount.SUSPENSE, LedgerAccount.OTHER_INCOME, item.amount),
        item_id=command.item_id,
        amount=item.amount,
    )


# ---------------------------------------------------------------------------- outgoings
class RecordUnexplainedOutgoing(Command):
    """Money left the bank that no payment of the account explains: hold it until someone
    classifies, recovers or accepts it (a bank statement's unmatched debits come this way)."""

    method: ClassVar[str] = "record_unexplained_outgoing"
    amount: Amount
    description: Text


class UnexpectedOutgoingRecorded(AccountEvent):
    """Money left the bank that matches nothing expected; held until someone explains it."""

    item_id: str
    amount: Money
    description: str

    correction: ClassVar[Any] = Correctable(_can_correct_holding("out"), _reverse("out"))

    def evolve(self, account: ManagedAccount) -> None:
        """A held item."""
        account.suspense.outgoings[self.item_id] = UnexplainedOutgoing(
            item_id=self.item_id,
            amount=self.amount,
            effective_date=self.effective_date,
            description=self.description,
            status=OutgoingStatus.HELD,
            resolution=None,
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``unexpected outgoing U7 £7.50: BANK CHARGE``."""
        return (
            f"unexpected outgoing {details.get('item_id')}{amount_text(details)}: "
            f"{details.get('description')}"
        )


@decides(RecordUnexplainedOutgoing)
def record_unexplained_outgoing(
    account: ManagedAccount, command: RecordUnexplainedOutgoing, ctx: Context
) -> None:
    """Money out, held; its item id is ``U`` and its version."""
    check_writable(account, ctx)
    account.record(
        ctx,
        UnexpectedOutgoingRecorded,
        Postings.transfer(LedgerAccount.UNEXPLAINED_OUTGOING, LedgerAccount.BANK, command.amount),
        item_id=f"U{account.version + 1}",
        amount=command.amount,
        description=command.description,
    )


class ClassifyUnexpectedOutgoing(Command):
    """Identify an unexplained outgoing as care-plan spend of ``category``."""

    method: ClassVar[str] = "classify_unexpected_outgoing"
    item_id: Identifier
    category: Category


class UnexpectedOutgoingClassified(AccountEvent):
    """An unexplained outgoing was identified as care-plan spend of one category."""

    item_id: str
    amount: Money
    category: SpendCategory

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("out"), _hold_again("out"))

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved."""
        account.suspense.resolve(
            "out", self.item_id, OutgoingStatus.CLASSIFIED, self.category.value, self.effective_date
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item U7 classified as insurance £7.50``."""
        return _describe_item(details, "classified", f"as {details.get('category')}")


@decides(ClassifyUnexpectedOutgoing)
def classify_unexpected_outgoing(
    account: ManagedAccount, command: ClassifyUnexpectedOutgoing, ctx: Context
) -> None:
    """A held outgoing becomes spend of the category."""
    check_writable(account, ctx)
    item = account.suspense.held(account, command.item_id, "out")
    account.record(
        ctx,
        UnexpectedOutgoingClassified,
        Postings.transfer(
            command.category.ledger_account, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount
        ),
        item_id=command.item_id,
        amount=item.amount,
        category=command.category,
    )


class RecoverUnexpectedOutgoing(Command):
    """The unexplained outgoing came back: into the bank now, or as the unexpected income
    ``income_item_id`` already held (the same amount)."""

    method: ClassVar[str] = "recover_unexpected_outgoing"
    item_id: Identifier
    income_item_id: Identifier | None = None


class UnexpectedOutgoingRecovered(AccountEvent):
    """An unexplained outgoing came back: into the bank, or as unexpected income already held
    (``income_item_id``)."""

    item_id: str
    amount: Money
    income_item_id: str | None

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("out"), _hold_again("out"))

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved (and the income that repaid it, classified)."""
        suspense, day = account.suspense, self.effective_date
        if self.income_item_id is None:
            suspense.resolve(
                "out", self.item_id, OutgoingStatus.RECOVERED, "repaid into the bank", day
            )
            return
        suspense.resolve(
            "out", self.item_id, OutgoingStatus.RECOVERED, f"returned as {self.income_item_id}", day
        )
        suspense.resolve(
            "in", self.income_item_id, SuspenseStatus.CLASSIFIED, f"recovers {self.item_id}", day
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item U7 recovered by income item S9 £7.50``."""
        income = details.get("income_item_id")
        return _describe_item(details, "recovered", f"by income item {income}" if income else "")


@decides(RecoverUnexpectedOutgoing)
def recover_unexpected_outgoing(
    account: ManagedAccount, command: RecoverUnexpectedOutgoing, ctx: Context
) -> None:
    """A held outgoing, repaid into the bank or by held income of the same amount."""
    check_writable(account, ctx)
    item = account.suspense.held(account, command.item_id, "out")
    source = LedgerAccount.BANK
    if command.income_item_id is not None:
        income = account.suspense.held(account, command.income_item_id, "in")
        if income.amount != item.amount:
            raise ValidationError(
                f"suspense item {command.income_item_id} is {income.amount}, not {item.amount}",
                field="income_item_id",
                account_id=account.account_id,
                fix="recover with the unexpected income of the same amount",
            )
        source = LedgerAccount.SUSPENSE
    account.record(
        ctx,
        UnexpectedOutgoingRecovered,
        Postings.transfer(source, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount),
        item_id=command.item_id,
        amount=item.amount,
        income_item_id=command.income_item_id,
    )


class AcceptUnexpectedOutgoing(Command):
    """Accept an unexplained outgoing as spent and not recoverable, saying why."""

    method: ClassVar[str] = "accept_unexpected_outgoing"
    item_id: Identifier
    reason: Text


class UnexpectedOutgoingAccepted(AccountEvent):
    """An unexplained outgoing was accepted as spent and not recoverable, for the reason given."""

    item_id: str
    amount: Money

    correction: ClassVar[Any] = Correctable(_can_correct_resolution("out"), _hold_again("out"))

    def evolve(self, account: ManagedAccount) -> None:
        """Resolved."""
        account.suspense.resolve(
            "out", self.item_id, OutgoingStatus.ACCEPTED, self.reason, self.effective_date
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``item U7 accepted £7.50``."""
        return _describe_item(details, "accepted")


@decides(AcceptUnexpectedOutgoing)
def accept_unexpected_outgoing(
    account: ManagedAccount, command: AcceptUnexpectedOutgoing, ctx: Context
) -> None:
    """A held outgoing, with a reason, as unrecoverable spend."""
    check_writable(account, ctx)
    require_reason(account, ctx, "accepting an unexplained outgoing")
    item = account.suspense.held(account, command.item_id, "out")
    account.record(
        ctx,
        UnexpectedOutgoingAccepted,
        Postings.transfer(
            LedgerAccount.UNRECOVERED_OUTGOINGS, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount
        ),
        item_id=command.item_id,
        amount=item.amount,
    )
