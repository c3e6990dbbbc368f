"""The demo year's scheduler, and the notable moments it collects.

:class:`Year` takes each account's story as steps on dated days, then runs every account's steps
together in date order (within a day: set-up, money in, paperwork, payments out), sending each
step as a command to the :class:`~dpledger.Ledger`. A payment the bank cannot cover is held and
made when money next arrives; refusals, retries and "what happened" lines are kept for the report.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from dpledger import AccountPolicy, Ledger, Money, SpendCategory
from dpledger.demo.payroll import (
    PAYROLL_FEE,
    Payslip,
    four_weekly_payslip,
    hmrc_due_date,
    next_month_22nd,
)
from dpledger.demo.setting import (
    ADMIN,
    BANK_FEED,
    COUNCIL,
    FINANCE,
    IN,
    OUT,
    PAYROLL,
    SETUP,
    SOCIAL_WORK,
    YEAR_END,
    YEAR_START,
    calendar_months,
    four_weekly_periods,
)
from dpledger.errors import InsufficientFunds
from dpledger.ledger import Receipt


# ----------------------------------------------------------------------------- what happened
@dataclass(frozen=True, slots=True)
class PreventedOverdraft:
    """A payment refused with :class:`~dpledger.errors.InsufficientFunds`, and when it was made."""

    account_id: str
    attempted_on: date
    payment: str
    amount: Money
    balance: Money
    shortfall: Money
    paid_on: date | None
    paid_after: str | None
    """What arrived that let it be paid (e.g. ``"CouncilPaymentReceived"``)."""


@dataclass(frozen=True, slots=True)
class RefusedInvoice:
    """An invoice the ledger refused as a duplicate."""

    account_id: str
    day: date
    agency_id: str
    invoice_number: str
    message: str


@dataclass(frozen=True, slots=True)
class IdempotentRetry:
    """A bank line imported twice with the same idempotency key."""

    account_id: str
    day: date
    key: str
    first_version: int
    retry_version: int
    replayed: bool
    events_before: int
    events_after: int


@dataclass(frozen=True, slots=True)
class Highlight:
    """One line of "what happened"."""

    day: date
    account_id: str
    text: str


# ----------------------------------------------------------------------------- the year
@dataclass(order=True, slots=True)
class _Step:
    day: date
    stage: int
    seq: int
    action: Callable[[], object] = field(compare=False)


class Year:
    """The demo year: steps scheduled per account, then run across all accounts in date order."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._steps: list[_Step] = []  # a heap, earliest first
        self._seq = 0
        # Payments the bank could not cover, with the command that makes them.
        self._held: list[tuple[PreventedOverdraft, Callable[..., Receipt]]] = []
        self.highlights: list[Highlight] = []
        self.refused: list[RefusedInvoice] = []
        self.retries: list[IdempotentRetry] = []
        self.commands = 0

    # -- scheduling
    def on(self, day: date, stage: int, action: Callable[[], object]) -> None:
        """Run ``action`` on ``day`` (only days inside the demo year happen)."""
        if YEAR_START <= day <= YEAR_END:
            self._seq += 1
            heapq.heappush(self._steps, _Step(day, stage, self._seq, action))

    def run(self) -> None:
        """Run every step in date order; within a day, money in before paperwork before payments.

        A step may schedule later steps (a recoupment demanded at a review is repaid later).
        """
        heapq.heapify(self._steps)
        while self._steps:
            heapq.heappop(self._steps).action()

    def note(self, day: date, account_id: str, text: str) -> None:
        """Add a "what happened" line."""
        self.highlights.append(Highlight(day, account_id, text))

    # -- commands
    def send(self, command: Callable[[], Receipt]) -> Receipt:
        """Send one command to the ledger."""
        self.commands += 1
        return command()

    def money_in(self, day: date, account_id: str, command: Callable[[], Receipt]) -> None:
        """Schedule money arriving; payments held for want of funds are retried after it."""

        def arrive() -> None:
            receipt = self.send(command)
            self.retry_held(day, account_id, receipt.event_type)

        self.on(day, IN, arrive)

    def pay(
        self, day: date, account_id: str, what: str, amount: Money, command: Callable[..., Receipt]
    ) -> None:
        """Schedule a payment out of the bank; ``command`` takes the ``effective_date``.

        A payment the bank cannot cover is refused by the ledger (never overdrawn). The provider
        holds it and makes it as soon as money arrives.
        """
        self.on(day, OUT, lambda: self._try_pay(day, account_id, what, amount, command))

    def _try_pay(
        self, day: date, account_id: str, what: str, amount: Money, command: Callable[..., Receipt]
    ) -> None:
        try:
            self.send(partial(command, effective_date=day))
        except InsufficientFunds as refused:
            # InsufficientFunds types its amounts as `object`; they are Money.
            balance, shortfall = _money(refused.balance), _money(refused.shortfall)
            held = PreventedOverdraft(account_id, day, what, amount, balance, shortfall, None, None)
            self._held.append((held, command))

    def retry_held(self, day: date, account_id: str, arrived: str) -> None:
        """Make the held payments of ``account_id`` that the bank can now cover, oldest first,
        now that money (an ``arrived`` event) came in."""
        for index, (held, command) in enumerate(self._held):
            waiting = held.account_id == account_id and held.paid_on is None
            if waiting and self.ledger.bank_balance(account_id) >= held.amount:
                self.send(partial(command, effective_date=day))
                self._held[index] = (replace(held, paid_on=day, paid_after=arrived), command)

    def prevented_overdrafts(self) -> tuple[PreventedOverdraft, ...]:
        """The payments the ledger refused for want of funds."""
        return tuple(held for held, _ in self._held)

    # -- building blocks shared by the accounts
    def open_account(
        self,
        account_id: str,
        person_ref: str,
        provider: str,
        policy: AccountPolicy,
        weekly_gross: str,
        weekly_contribution: str,
    ) -> None:
        """Open the account and agree its first budget at the start of the year."""
        ledger = self.ledger
        self.on(
            YEAR_START,
            SETUP,
            partial(
                self.send,
                partial(
                    ledger.open_account,
                    account_id,
                    person_ref=person_ref,
                    council=COUNCIL,
                    provider=provider,
                    policy=policy,
                    effective_date=YEAR_START,
                    actor=SOCIAL_WORK,
                ),
            ),
        )
        self.agree_budget(YEAR_START, account_id, weekly_gross, weekly_contribution, SETUP)

    def agree_budget(
        self, day: date, account_id: str, gross: str, contribution: str, stage: int = ADMIN
    ) -> None:
        """Agree (or revise) the weekly budget from ``day``."""
        command = partial(
            self.ledger.agree_budget,
            account_id,
            weekly_gross=gross,
            weekly_contribution=contribution,
            effective_date=day,
            actor=SOCIAL_WORK,
        )
        self.on(day, stage, partial(self.send, command))

    def council_payment(
        self, day: date, account_id: str, amount: Money, period_end: date
    ) -> Callable[[], Receipt]:
        """Schedule a council payment for ``day`` to ``period_end``; returns the command."""
        key = f"{account_id}:council:{day.isoformat()}"
        command = partial(
            self.ledger.receive_council_payment,
            account_id,
            amount=amount,
            period_start=day,
            period_end=period_end,
            effective_date=day,
            actor=BANK_FEED,
            bank_reference=f"NCC DP {account_id} {day:%d%m%y}",
            idempotency_key=key,
        )
        self.money_in(day, account_id, command)
        return command

    def contribution(self, day: date, account_id: str, amount: Money) -> None:
        """Schedule the person's contribution arriving."""
        command = partial(
            self.ledger.receive_contribution,
            account_id,
            amount=amount,
            effective_date=day,
            actor=BANK_FEED,
            bank_reference=f"{account_id} CONTRIBUTION",
            idempotency_key=f"{account_id}:contribution:{day.isoformat()}",
        )
        self.money_in(day, account_id, command)

    def spend(
        self, day: date, account_id: str, category: SpendCategory, amount: Money, what: str
    ) -> None:
        """Schedule other care-plan spend (insurance, fees, equipment) paid from the bank."""
        command = partial(
            self.ledger.pay_care_plan_spend,
            account_id,
            category=category,
            amount=amount,
            description=what,
            actor=FINANCE,
            idempotency_key=f"{account_id}:spend:{day.isoformat()}:{what}",
        )
        self.pay(day, account_id, what, amount, command)

    def register_agency(self, account_id: str, agency_id: str, name: str, rate: Money) -> None:
        """Register the agency at the start of the year."""
        command = partial(
            self.ledger.register_agency,
            account_id,
            agency_id=agency_id,
            name=name,
            hourly_rate=rate,
            effective_date=YEAR_START,
            actor=FINANCE,
        )
        self.on(YEAR_START, SETUP, partial(self.send, command))

    def invoice(
        self,
        account_id: str,
        agency_id: str,
        number: str,
        period: tuple[date, date],
        hours: Decimal,
        rate: Money,
        *,
        received: date,
        approved: date | None,
        paid: date | None,
    ) -> Money:
        """Schedule an agency invoice: received, then (optionally) approved and paid."""
        total = Money(int((hours * rate.pence).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        ledger = self.ledger
        receive = partial(
            ledger.receive_invoice,
            account_id,
            agency_id=agency_id,
            invoice_number=number,
            period_start=period[0],
            period_end=period[1],
            hours=hours,
            rate=rate,
            total=total,
            effective_date=received,
            actor=FINANCE,
            idempotency_key=f"{account_id}:invoice:{agency_id}:{number}",
        )
        self.on(received, ADMIN, partial(self.send, receive))
        if approved is not None:
            approve = partial(
                ledger.approve_invoice,
                account_id,
                agency_id=agency_id,
                invoice_number=number,
                effective_date=approved,
                actor=FINANCE,
            )
            self.on(approved, ADMIN, partial(self.send, approve))
        if approved is not None and paid is not None:
            pay = partial(
                ledger.pay_invoice,
                account_id,
                agency_id=agency_id,
                invoice_number=number,
                amount=total,
                actor=FINANCE,
                bank_reference=f"{agency_id} {number}",
                idempotency_key=f"{account_id}:pay-invoice:{agency_id}:{number}",
            )
            self.pay(paid, account_id, f"invoice {number}", total, pay)
        return total

    def monthly_invoices(
        self,
        account_id: str,
        agency_id: str,
        prefix: str,
        rate: Money,
        hours: tuple[str, ...],
        *,
        special: dict[int, Callable[[str, tuple[date, date], date], None]] | None = None,
    ) -> None:
        """One invoice per calendar month (received on the 4th, approved on the 6th, paid on the
        14th of the next month); ``special`` handles a month's invoice differently."""
        for index, (start, end) in enumerate(calendar_months()):
            if end > YEAR_END:
                break  # April 2026 has not been worked yet
            number = f"{prefix}-{start:%y%m}"
            received = end + timedelta(days=4)
            # The last month's invoice arrives just before the year ends and is not paid yet.
            received = min(received, YEAR_END - timedelta(days=2))
            if special and index in special:
                special[index](number, (start, end), received)
                continue
            self.invoice(
                account_id,
                agency_id,
                number,
                (start, end),
                Decimal(hours[index]),
                rate,
                received=received,
                approved=received + timedelta(days=1),
                paid=end + timedelta(days=14),
            )

    def payroll(
        self,
        account_id: str,
        pas: tuple[tuple[str, Money, tuple[tuple[date, str], ...]], ...],
        *,
        hmrc_quarterly: bool,
    ) -> None:
        """Register the PAs and run 4-weekly payroll in arrears: each run is recorded and the net
        wages paid on the Friday after the period ends; the bureau's fee is paid with it; HMRC
        monthly or quarterly and the pension provider monthly, both on the 22nd."""
        ledger = self.ledger
        hmrc_due: dict[date, Money] = {}
        pension_due: dict[date, Money] = {}
        for pa_id, rate, _hours in pas:
            register = partial(
                ledger.register_personal_assistant,
                account_id,
                pa_id=pa_id,
                hourly_rate=rate,
                effective_date=YEAR_START,
                actor=PAYROLL,
            )
            self.on(YEAR_START, SETUP, partial(self.send, register))
        for number, (start, end) in enumerate(four_weekly_periods(), start=1):
            pay_day = end + timedelta(days=5)
            if pay_day > YEAR_END:
                continue
            for pa_id, rate, hours_from in pas:
                slip = four_weekly_payslip(_in_force(hours_from, start), rate)
                self._wage_run(account_id, pa_id, (start, end), pay_day, slip)
                hmrc_day = hmrc_due_date(pay_day, quarterly=hmrc_quarterly)
                hmrc_due[hmrc_day] = hmrc_due.get(hmrc_day, Money(0)) + slip.hmrc
                pension_day = next_month_22nd(pay_day)
                pension_due[pension_day] = pension_due.get(pension_day, Money(0)) + slip.pension
            self.spend(
                pay_day,
                account_id,
                SpendCategory.SUPPORT_FEES,
                PAYROLL_FEE,
                f"payroll run {number}",
            )
        for day, amount in hmrc_due.items():
            hmrc = partial(
                ledger.pay_hmrc,
                account_id,
                amount=amount,
                actor=PAYROLL,
                bank_reference=f"HMRC PAYE {account_id}",
                idempotency_key=f"{account_id}:hmrc:{day.isoformat()}",
            )
            self.pay(day, account_id, "HMRC", amount, hmrc)
        for day, amount in pension_due.items():
            pension = partial(
                ledger.pay_pension,
                account_id,
                amount=amount,
                actor=PAYROLL,
                bank_reference=f"PENSION {account_id}",
                idempotency_key=f"{account_id}:pension:{day.isoformat()}",
            )
            self.pay(day, account_id, "pension", amount, pension)

    def _wage_run(
        self, account_id: str, pa_id: str, period: tuple[date, date], pay_day: date, slip: Payslip
    ) -> None:
        ledger = self.ledger
        record = partial(
            ledger.record_wage_run,
            account_id,
            pa_id=pa_id,
            period_start=period[0],
            period_end=period[1],
            hours=slip.hours,
            gross=slip.gross,
            paye=slip.paye,
            employee_ni=slip.employee_ni,
            employer_ni=slip.employer_ni,
            employee_pension=slip.employee_pension,
            employer_pension=slip.employer_pension,
            net=slip.net,
            effective_date=pay_day,
            actor=PAYROLL,
        )
        self.on(pay_day, ADMIN, partial(self.send, record))
        wages = partial(
            ledger.pay_net_wages,
            account_id,
            pa_id=pa_id,
            amount=slip.net,
            actor=PAYROLL,
            bank_reference=f"WAGES {pa_id} {period[1]:%d%m%y}",
            idempotency_key=f"{account_id}:wages:{pa_id}:{period[1].isoformat()}",
        )
        self.pay(pay_day, account_id, f"{pa_id} net wages", slip.net, wages)


def _money(value: object) -> Money:
    if not isinstance(value, Money):
        raise TypeError(f"expected Money, got {type(value).__name__}")
    return value


def _in_force(schedule: tuple[tuple[date, str], ...], day: date) -> Decimal:
    """The value of a dated schedule (``(from, value)`` pairs) in force on ``day``."""
    value = schedule[0][1]
    for start, later in schedule:
        if start <= day:
            value = later
    return Decimal(value)
