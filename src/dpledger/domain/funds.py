"""Funds: money in and out of the client bank account, and the rule that it is never overdrawn.

:class:`Funds` keeps the double-entry balances, the bank's movement day by day over the recent
window (:mod:`~dpledger.domain.window`), and the money movements a bank line may still confirm.
Money recorded by hand that a bank line may still confirm is kept in the key index
(``move:<version>``), not in the state, so the state does not grow with unreconciled entries.
Two rules every event meets are here, checked by the account for every event alike:

- **never overdrawn** (:meth:`Funds.check_funds`): a payment may take the bank's end-of-day
  balance below zero neither on its effective date nor on any later date;
- **never overpaid** (:meth:`Funds.check_not_overpaid`): no liability or suspense account ends
  in debit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator

from dpledger.domain.bounds import Amount, Day, Reference, Text
from dpledger.domain.chart import LIABILITIES, LedgerAccount, Postings, SpendCategory
from dpledger.domain.codec import PLAIN
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import (
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    ValidationError,
)
from dpledger.domain.events import (
    MONEY_ONLY,
    AccountEvent,
    NotCorrectable,
    amount_text,
    period_text,
    reference_text,
)
from dpledger.domain.keys import KeyRecord, awaiting_key
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy, PaymentFrequency
from dpledger.domain.records import BankMovement, ContributionReceipt, CouncilPayment
from dpledger.domain.rules import add_months, paid_in_advance_after

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

_BANK = LedgerAccount.BANK
BANK_KEY_PREFIX = "bank:"
"""Idempotency keys of events recorded from bank lines: ``bank:<dedup key>``."""


# ---------------------------------------------------------------------------- state
Rows = Annotated[dict[str, list[Any]], PLAIN]
"""Rows of plain values by version: a snapshot reads them with no work per row."""


@dataclass(slots=True)
class Funds:
    """The money: balances, the bank day by day, and what a bank line may still confirm.

    The collections that grow with activity within the window are kept as rows of plain values
    (ISO dates, pence) rather than records, so that loading a snapshot costs one JSON parse.
    """

    balances: dict[str, int] = field(default_factory=dict)
    """Ledger account code -> balance in pence, debit positive."""
    bank_days: Annotated[dict[str, int], PLAIN] = field(default_factory=dict)
    """ISO day -> the bank's net movement that day, for the days from :attr:`kept_from`."""
    bank_before: int = 0
    """The bank's net movement over the days before :attr:`kept_from`."""
    kept_from: date | None = None
    """The first day kept day by day (``None``: every day is)."""
    last_day: date | None = None
    """The latest day the bank moved."""
    council_payments: Rows = field(default_factory=dict)
    """Regular council payments in force within the window: version -> [ISO date, pence, ISO
    period start or None, ISO period end or None]."""
    first_payment_on: date | None = None
    """The date of the first regular council payment."""
    contributions: Rows = field(default_factory=dict)
    """Contributions in force within the window: version -> [ISO date, pence, reference]."""
    contributions_before: int = 0
    """Pence of the contributions in force received before the window."""

    @classmethod
    def empty(cls) -> Funds:
        """No money yet."""
        return cls()

    # ------------------------------------------------------------ applying
    def post(self, event: AccountEvent) -> None:
        """Apply ``event``'s postings (every event, before its own effect)."""
        change = 0
        touches_bank = False
        balances = self.balances
        for line in event.postings.lines:
            account, pence = line.account, line.amount.pence
            balances[account] = balances.get(account, 0) + pence  # a StrEnum: its code as key
            if account is _BANK:
                change += pence
                touches_bank = True
        if not touches_bank:
            return
        day = event.effective_date
        iso = day.isoformat()
        if self.kept_from is not None and day < self.kept_from:
            self.bank_before += change
        else:
            self.bank_days[iso] = self.bank_days.get(iso, 0) + change
        if self.last_day is None or day > self.last_day:
            self.last_day = day

    def forget(self, version: int, event_type: str, fields: Mapping[str, Any]) -> None:
        """A correction reversed event ``version``: it no longer awaits a bank line, pays a due
        date or counts as a contribution."""
        key = str(version)
        payment = self.council_payments.pop(key, None)
        first = self.first_payment_on
        if payment is not None and first is not None and payment[0] == first.isoformat():
            # The first payment in force dates the first review, as in 0.1: when it is
            # corrected, the next one in force (of those the window keeps) takes its place.
            kept = min((row[0] for row in self.council_payments.values()), default=None)
            self.first_payment_on = None if kept is None else date.fromisoformat(kept)
        gone = self.contributions.pop(key, None)
        amount = fields.get("amount")
        if gone is None and event_type == "ContributionReceived" and isinstance(amount, Money):
            self.contributions_before -= amount.pence  # received before the window

    def compact(self, cutoff: date) -> None:
        """Fold the days before ``cutoff`` into one figure and forget settled movements."""
        iso = cutoff.isoformat()
        old = [day for day in self.bank_days if day < iso]
        for day in old:
            self.bank_before += self.bank_days.pop(day)
        if self.kept_from is None or cutoff > self.kept_from:
            self.kept_from = cutoff
        self.council_payments = {
            v: row for v, row in self.council_payments.items() if _covers_until(row) >= iso
        }
        for version, row in list(self.contributions.items()):
            if row[0] < iso:
                self.contributions_before += row[1]
                del self.contributions[version]

    # ------------------------------------------------------------ queries
    def balance(self, account: LedgerAccount) -> Money:
        """One ledger account's balance, debit positive."""
        return Money(self.balances.get(account.value, 0))

    def last_bank_day(self) -> date | None:
        """The latest day the bank moved."""
        return self.last_day

    def bank_balance_on(self, day: date) -> Money:
        """The bank balance at the end of ``day`` (a day within the window)."""
        iso = day.isoformat()
        return Money(self.bank_before + sum(p for d, p in self.bank_days.items() if d <= iso))

    def available_from(self, day: date, account_id: str = "") -> Money:
        """The most that can be paid out on ``day``: the lowest end-of-day bank balance from
        ``day`` on (money arriving later cannot pay for it; later payments already spent some).

        Refused for a day before the window the account keeps day by day.
        """
        if self.kept_from is not None and day < self.kept_from:
            raise ValidationError(
                f"{day} is before {self.kept_from}, the first day of the bank's day-by-day "
                "history the account keeps for its decisions",
                field="effective_date",
                account_id=account_id or None,
                fix=f"date money going out on or after {self.kept_from}; money the bank paid "
                "earlier comes in with its statement",
            )
        return lowest_balance_from(self.bank_before, self.bank_days.items(), day)

    def check_funds(self, postings: Postings, day: date, account_id: str) -> None:
        """Refuse postings that would take the bank below zero on ``day`` or later."""
        change = postings.effect_on(LedgerAccount.BANK)
        if change >= 0:
            return
        available = self.available_from(day, account_id)
        if available.pence + change < 0:
            shortfall = Money(-(available.pence + change))
            raise InsufficientFunds(
                f"the bank cannot cover {Money(-change)} on {day}: {available} is available from "
                f"that date on, short by {shortfall}",
                shortfall=shortfall,
                balance=available,
                account_id=account_id,
                fix="wait for the next council payment or contribution, or pay less",
            )

    def check_not_overpaid(self, postings: Postings, account_id: str) -> None:
        """Refuse postings that would leave a liability or suspense account overpaid."""
        for line in postings:
            if line.account in LIABILITIES or line.account is LedgerAccount.SUSPENSE:
                after = self.balances.get(line.account.value, 0) + line.amount.pence
                if after > 0:
                    raise Overpayment(
                        f"this would leave {line.account.value} overpaid by {Money(after)}",
                        account_id=account_id,
                        fix="pay or reverse no more than is owed",
                    )

    def council_payment_records(self) -> list[CouncilPayment]:
        """The regular council payments of the window, in recording order."""
        return [
            CouncilPayment(
                int(v),
                date.fromisoformat(day),
                Money(pence),
                None if start is None else date.fromisoformat(start),
                None if end is None else date.fromisoformat(end),
            )
            for v, (day, pence, start, end) in sorted(
                self.council_payments.items(), key=lambda item: int(item[0])
            )
        ]

    def contribution_records(self) -> list[ContributionReceipt]:
        """The contributions of the window, in recording order."""
        return [
            ContributionReceipt(int(v), date.fromisoformat(day), Money(pence), reference)
            for v, (day, pence, reference) in sorted(
                self.contributions.items(), key=lambda item: int(item[0])
            )
        ]

    def paid_in_advance(
        self, policy_on: Callable[[date], AccountPolicy], end_date: date | None
    ) -> Money:
        """Council payments for days after ``end_date`` (none when ``None``).

        A payment with no stated period is taken to cover the 4 weeks (or the month, by the
        frequency in force on its date) from its date, as councils pay in advance.
        """
        return paid_in_advance_of(self.council_payment_records(), policy_on, end_date)

    def received_by(self, day: date) -> int:
        """Pence of contributions received up to ``day`` (the window's, and all before it)."""
        iso = day.isoformat()
        within: int = sum(
            int(pence) for row_day, pence, _ in self.contributions.values() if row_day <= iso
        )
        return self.contributions_before + within


def lowest_balance_from(before: int, days: Iterable[tuple[str, int]], day: date) -> Money:
    """The lowest end-of-day bank balance from ``day`` on: what can be paid out on ``day``
    (money arriving later cannot pay for it; later payments already spent some).

    ``before`` is the bank's movement over the days not listed, all before ``day``; ``days``
    each ISO day's net movement (any order).
    """
    iso = day.isoformat()
    running = before
    later = []
    for when, pence in days:
        if when <= iso:
            running += pence
        else:
            later.append((when, pence))
    lowest = running
    for _, pence in sorted(later):
        running += pence
        lowest = min(lowest, running)
    return Money(lowest)


def paid_in_advance_of(
    payments: Iterable[CouncilPayment],
    policy_on: Callable[[date], AccountPolicy],
    end_date: date | None,
) -> Money:
    """What the regular council ``payments`` paid for days after ``end_date`` (none when
    ``None``).

    A payment with no stated period is taken to cover the 4 weeks (or the month, by the
    frequency in force on its date) from its date, as councils pay in advance.
    """
    if end_date is None:
        return Money(0)
    periods = []
    for payment in payments:
        start = payment.period_start or payment.effective_date
        stop = payment.period_end or _default_period_end(start, policy_on(start).frequency)
        periods.append((start, stop, payment.amount))
    return paid_in_advance_after(periods, end_date)


def awaiting_movements(records: Mapping[str, KeyRecord]) -> dict[int, BankMovement]:
    """Money recorded by hand that no bank line has confirmed yet, by version, from the key
    index's ``move:<version>`` records (see :data:`~dpledger.domain.keys.AWAITING_PREFIX`)."""
    found = {}
    for record in records.values():
        event_type, day, pence, reference = json.loads(record.digest or "[]")
        found[record.version] = BankMovement(
            record.version, event_type, date.fromisoformat(day), Money(pence), reference, None
        )
    return found


def movements_near(
    movements: Mapping[int, BankMovement], amount: Money, around: date, days: int
) -> list[BankMovement]:
    """The ``movements`` of ``amount`` (signed) dated at most ``days`` from ``around``, in
    recording order."""
    first, last = around - timedelta(days=days), around + timedelta(days=days)
    return [
        movements[v]
        for v in sorted(movements)
        if movements[v].amount == amount and first <= movements[v].effective_date <= last
    ]


def _default_period_end(start: date, frequency: PaymentFrequency) -> date:
    if frequency is PaymentFrequency.MONTHLY:
        return add_months(start, 1) - timedelta(days=1)
    return start + timedelta(days=27)


def _covers_until(row: list[Any]) -> str:
    # The last day a council payment row pays for (ISO): its period's end, else a month on.
    day, _, _, end = row
    return str(end) if end else (date.fromisoformat(day) + timedelta(days=31)).isoformat()


# ---------------------------------------------------------------------------- shared
def to_category(value: object) -> SpendCategory:
    """A spend category given as the enum or its value."""
    if isinstance(value, SpendCategory):
        return value
    try:
        return SpendCategory(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a spend category",
            field="category",
            fix=f"use one of {', '.join(c.value for c in SpendCategory)}",
        ) from None


Category = Annotated[SpendCategory, BeforeValidator(to_category)]


def check_period(account: ManagedAccount, start: date, end: date) -> None:
    """A period's last day is not before its first."""
    if end < start:
        raise ValidationError(
            f"period {start}..{end} ends before it starts",
            field="period_end",
            account_id=account.account_id,
            fix="give dates with the period's first day first",
        )


def check_not_over(account: ManagedAccount, amount: Money, owed: Money, what: str) -> None:
    """Never pay more than is owed on ``what``."""
    if amount > owed:
        raise Overpayment(
            f"{amount} is more than the {owed} owed on {what}",
            account_id=account.account_id,
            fix=f"pay at most {owed}",
        )


def pay_liability(
    account: ManagedAccount,
    ctx: Context,
    event_class: type[AccountEvent],
    liability: LedgerAccount,
    payee: str,
    amount: Money,
    bank_reference: str | None,
) -> None:
    """Pay a payee what a liability account says is owed: never more, never overdrawn."""
    check_writable(account, ctx)
    check_not_over(account, amount, account.owed(liability), payee)
    account.record(
        ctx,
        event_class,
        Postings.transfer(liability, LedgerAccount.BANK, amount),
        amount=amount,
        bank_reference=bank_reference,
    )


# ---------------------------------------------------------------------------- money in
class ReceiveCouncilPayment(Command):
    """A council Direct Payment arrived in the bank, optionally for a stated period."""

    method: ClassVar[str] = "receive_council_payment"
    raises_alerts: ClassVar[bool] = True  # another amount than due; a missing one now past
    amount: Amount
    period_start: Day | None = None
    period_end: Day | None = None
    bank_reference: Reference | None = None

    def payload(self) -> dict[str, Any]:
        """The payload as 0.1 digested it (the period as one pair)."""
        return {
            "amount": self.amount,
            "period": [self.period_start, self.period_end],
            "bank_reference": self.bank_reference,
        }


class CouncilPaymentReceived(AccountEvent):
    """A regular council Direct Payment arrived in the bank."""

    amount: Money
    period_start: date | None
    period_end: date | None
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """A payment that settles a due date of the schedule."""
        funds = account.funds
        funds.council_payments[str(self.originator_version)] = [
            self.effective_date.isoformat(),
            self.amount.pence,
            None if self.period_start is None else self.period_start.isoformat(),
            None if self.period_end is None else self.period_end.isoformat(),
        ]
        if funds.first_payment_on is None or self.effective_date < funds.first_payment_on:
            funds.first_payment_on = self.effective_date

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``council payment £1,666.00 for 2025-04-07 to 2025-05-04 (ref X)``."""
        return (
            f"council payment{amount_text(details)}{period_text(details)}{reference_text(details)}"
        )


@decides(ReceiveCouncilPayment)
def receive_council_payment(
    account: ManagedAccount, command: ReceiveCouncilPayment, ctx: Context
) -> None:
    """Money in; a stated period does not end before it starts."""
    check_writable(account, ctx)
    if command.period_start is not None and command.period_end is not None:
        check_period(account, command.period_start, command.period_end)
    account.record(
        ctx,
        CouncilPaymentReceived,
        Postings.transfer(LedgerAccount.BANK, LedgerAccount.COUNCIL_INCOME, command.amount),
        amount=command.amount,
        period_start=command.period_start,
        period_end=command.period_end,
        bank_reference=command.bank_reference,
    )


class ReceiveContribution(Command):
    """The person's assessed contribution arrived in the bank."""

    method: ClassVar[str] = "receive_contribution"
    raises_alerts: ClassVar[bool] = True  # a contribution missing now past its margin
    amount: Amount
    bank_reference: Reference | None = None


class ContributionReceived(AccountEvent):
    """The person's assessed contribution arrived in the bank."""

    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """A contribution towards what is due."""
        account.funds.contributions[str(self.originator_version)] = [
            self.effective_date.isoformat(),
            self.amount.pence,
            self.bank_reference,
        ]

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``contribution £38.50 (ref X)``."""
        return f"contribution{amount_text(details)}{reference_text(details)}"


@decides(ReceiveContribution)
def receive_contribution(
    account: ManagedAccount, command: ReceiveContribution, ctx: Context
) -> None:
    """Money in."""
    check_writable(account, ctx)
    account.record(
        ctx,
        ContributionReceived,
        Postings.transfer(LedgerAccount.BANK, LedgerAccount.CONTRIBUTION_INCOME, command.amount),
        amount=command.amount,
        bank_reference=command.bank_reference,
    )


class ReceiveOneOffPayment(Command):
    """A one-off council payment arrived (equipment, a float, back-pay), for ``purpose``."""

    method: ClassVar[str] = "receive_one_off_payment"
    amount: Amount
    purpose: Text
    bank_reference: Reference | None = None


class OneOffPaymentReceived(AccountEvent):
    """A one-off council payment (equipment, a float, back-pay) arrived in the bank."""

    amount: Money
    purpose: str
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``one-off council payment £500.00: hoist (ref X)``."""
        return (
            f"one-off council payment{amount_text(details)}: {details.get('purpose')}"
            f"{reference_text(details)}"
        )


@decides(ReceiveOneOffPayment)
def receive_one_off_payment(
    account: ManagedAccount, command: ReceiveOneOffPayment, ctx: Context
) -> None:
    """Money in, with a purpose."""
    check_writable(account, ctx)
    account.record(
        ctx,
        OneOffPaymentReceived,
        Postings.transfer(LedgerAccount.BANK, LedgerAccount.COUNCIL_INCOME, command.amount),
        amount=command.amount,
        purpose=command.purpose,
        bank_reference=command.bank_reference,
    )


# ---------------------------------------------------------------------------- money out
class PayCarePlanSpend(Command):
    """Pay other care-plan spend (insurance, fees, equipment) straight from the bank."""

    method: ClassVar[str] = "pay_care_plan_spend"
    category: Category
    amount: Amount
    description: Text
    bank_reference: Reference | None = None


class CarePlanSpendPaid(AccountEvent):
    """Other spend in the care plan (insurance, fees, equipment) was paid from the bank."""

    category: SpendCategory
    amount: Money
    description: str
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``insurance: employer's liability £96.50 (ref X)``."""
        return (
            f"{details.get('category')}: {details.get('description')}{amount_text(details)}"
            f"{reference_text(details)}"
        )


@decides(PayCarePlanSpend)
def pay_care_plan_spend(account: ManagedAccount, command: PayCarePlanSpend, ctx: Context) -> None:
    """Money out, to the category's expense account; never overdrawn."""
    check_writable(account, ctx)
    account.record(
        ctx,
        CarePlanSpendPaid,
        Postings.transfer(command.category.ledger_account, LedgerAccount.BANK, command.amount),
        category=command.category,
        amount=command.amount,
        description=command.description,
        bank_reference=command.bank_reference,
    )


# ---------------------------------------------------------------------------- bank lines
class BankLineConfirmed(AccountEvent):
    """A booked bank line confirmed money movement already recorded (no postings).

    ``line_key`` is the line's de-duplication key; ``matched_version`` the event it confirms;
    ``amount`` is signed (positive money in, negative money out). ``reason`` says why they match.
    """

    line_key: str
    matched_version: int
    matched_type: str
    amount: Money
    description: str

    correction: ClassVar[Any] = NotCorrectable(
        "a bank line's confirmation stands; correct the entry it confirms"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """Nothing in the state: the key index stops counting the movement as awaiting."""

    def releases(self) -> tuple[str, ...]:
        """The movement no longer awaits its bank line."""
        return (awaiting_key(self.matched_version),)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``bank line confirms event 7 £12.00``."""
        return f"bank line confirms event {details.get('matched_version')}{amount_text(details)}"


def confirm_movement(
    account: ManagedAccount,
    ctx: Context,
    *,
    line_key: str,
    version: int,
    amount: Money,
    description: str,
) -> AccountEvent:
    """Record that a booked bank line of ``amount`` (signed) confirms event ``version``, a
    movement recorded by hand that no bank line has confirmed yet."""
    check_writable(account, ctx)
    record = ctx.facts.key(awaiting_key(version))
    row = json.loads(record.digest or "[]") if record is not None else None
    if row is None or row[2] != amount.pence:
        raise InvalidTransition(
            f"event {version} is not a recorded movement of {amount} awaiting its bank line",
            account_id=account.account_id,
            fix="match the line again against the account as it is now",
        )
    return account.record(
        ctx,
        BankLineConfirmed,
        Postings(),
        line_key=line_key,
        matched_version=version,
        matched_type=row[0],
        amount=amount,
        description=description,
    )
