"""The ``dpledger demo``: a year of a fictional council's managed accounts, and a summary of it.

Everything here goes through the public :class:`~dpledger.Ledger` API, the way a council or
provider system would. The council, providers, agencies and people are invented; people appear only
by reference (``P-10231``) and personal assistants by id (``PA-1``). The year is deterministic: no
randomness and no clock, so every run records the same events and prints the same summary.

:func:`build_demo` records the year on a ledger and returns a :class:`DemoReport`; :func:`render`
turns the report into the plain-text summary the ``dpledger demo`` command prints.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from functools import partial
from textwrap import wrap
from typing import Any

from dpledger import AccountPolicy, Ledger, LedgerAccount, Money, PaymentFrequency, SpendCategory
from dpledger.adapters.store import store_environment
from dpledger.domain.corrections import EntryCorrected, own_fields
from dpledger.domain.records import SuspenseStatus
from dpledger.errors import AccountAlreadyExists, DuplicateInvoice, InsufficientFunds
from dpledger.ledger import AccountState, Receipt

# ----------------------------------------------------------------------------- the setting
COUNCIL = "Northshire County Council"
"""A fictional council."""
KESTREL = "Kestrel Managed Accounts"
RIVERSIDE = "Riverside Independent Living CIC"
"""Two fictional managed-account providers."""

YEAR_START = date(2025, 4, 7)
"""A Monday: the first 4-weekly period and the first payroll period start here."""
YEAR_END = date(2026, 4, 5)
"""The Sunday that ends the 13th 4-weekly period (52 weeks after ``YEAR_START``)."""

DEMO_ACCOUNT_IDS = ("DP-1001", "DP-1002", "DP-1003", "DP-1004", "DP-1005")
ABOUT = {
    "DP-1001": "agency care, about 16 hours a week at £25.80, invoiced monthly",
    "DP-1002": "one PA at £13.00 an hour (NLW is £12.21), 30 then 35 hours a week; HMRC quarterly",
    "DP-1003": "two PAs; the council pays monthly in advance, pro rata by days; HMRC monthly",
    "DP-1004": "agency care at £27.10 an hour, using almost all of the budget",
    "DP-1005": "agency care, about 7 hours a week: family helps more, so money builds up",
}
"""What each demo account is, in a few words."""

NORTHSHIRE_POLICY = AccountPolicy(contingency_weeks=6, first_review_within_months=3)
"""The council's policy: net payments every 4 weeks, 6 weeks' contingency (Trafford keeps 6-8),
a first review within 3 months (Hartlepool). The monthly account overrides the frequency."""

# Who did what: bank lines come from the bank feed, decisions from people at the provider/council.
BANK_FEED = "bank-feed"
FINANCE = "provider:finance-officer"
PAYROLL = "provider:payroll-bureau"
SOCIAL_WORK = "council:dp-team"

# Stages within one day: money arrives first, then paperwork, then payments go out.
_SETUP, _IN, _ADMIN, _OUT = range(4)

# ----------------------------------------------------------------------------- PA payroll
# 2025/26 figures for a 4-weekly pay period (13 a year). The ledger only records what a payslip
# says; this is the demo's stand-in for a payroll bureau, simplified but exact to the penny.
NATIONAL_LIVING_WAGE = Money("12.21")
"""National Living Wage (21+), 2025/26."""
EMPLOYER_NI_RATE = Decimal("0.15")
EMPLOYER_NI_THRESHOLD = Money("384.00")
"""The secondary threshold, £96 a week, for 4 weeks."""
EMPLOYEE_NI_RATE = Decimal("0.08")
EMPLOYEE_NI_THRESHOLD = Money("968.00")
"""The primary threshold, £242 a week, for 4 weeks."""
PERSONAL_ALLOWANCE_PENCE = 1_257_000
"""Tax code 1257L; spread evenly over 13 periods (real PAYE is cumulative, from HMRC's tables)."""
BASIC_RATE = Decimal("0.20")
PENSION_TRIGGER = Money("768.00")
"""Auto-enrolment earnings trigger (£10,000 a year) for a 4-weekly pay reference period."""
PENSION_LOWER = Money("480.00")
PENSION_UPPER = Money("3868.00")
"""Qualifying earnings band (£6,240-£50,270 a year) for a 4-weekly pay reference period."""
EMPLOYEE_PENSION_RATE = Decimal("0.05")
EMPLOYER_PENSION_RATE = Decimal("0.03")
PAYROLL_FEE = Money("45.00")
"""The payroll bureau's fee per run (category support_fees)."""


@dataclass(frozen=True, slots=True)
class Payslip:
    """One PA's 4-weekly payslip: the figures a wage run records."""

    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money

    @property
    def hmrc(self) -> Money:
        """What this payslip adds to the HMRC bill: PAYE and both kinds of NI."""
        return self.paye + self.employee_ni + self.employer_ni

    @property
    def pension(self) -> Money:
        """What this payslip adds to the pension provider's bill."""
        return self.employee_pension + self.employer_pension


def _percent(base: Money, rate: Decimal, rounding: str) -> Money:
    """``rate`` of ``base`` (floored at zero), rounded to the penny as ``rounding`` says."""
    pence = Decimal(max(base.pence, 0)) * rate
    return Money(int(pence.quantize(Decimal(1), rounding=rounding)))


def four_weekly_payslip(hours: Decimal, rate: Money) -> Payslip:
    """The payslip for ``hours`` worked in a 4-week period at ``rate`` an hour (2025/26).

    Gross is hours x rate rounded half-up to the penny. NI is the exact-percentage method,
    rounded to the nearest penny with a half penny rounded down (as HMRC does). PAYE is 20% of
    taxable pay rounded down to whole pounds, after an even 13th of the personal allowance.
    Pension is 5% (employee) and 3% (employer) of qualifying earnings, rounded half-up, once
    gross reaches the auto-enrolment trigger. Refuses a rate below the National Living Wage.
    """
    if rate < NATIONAL_LIVING_WAGE:
        raise ValueError(f"{rate} an hour is below the National Living Wage {NATIONAL_LIVING_WAGE}")
    gross = Money(int((hours * rate.pence).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    free_pay = PERSONAL_ALLOWANCE_PENCE * 4 // 52  # rounded down: a penny less free pay
    taxable_pounds = max(gross.pence - free_pay, 0) // 100
    paye = Money(int(Decimal(taxable_pounds * 100) * BASIC_RATE))
    employee_ni = _percent(gross - EMPLOYEE_NI_THRESHOLD, EMPLOYEE_NI_RATE, ROUND_HALF_DOWN)
    employer_ni = _percent(gross - EMPLOYER_NI_THRESHOLD, EMPLOYER_NI_RATE, ROUND_HALF_DOWN)
    if gross >= PENSION_TRIGGER:
        qualifying = min(gross, PENSION_UPPER) - PENSION_LOWER
        employee_pension = _percent(qualifying, EMPLOYEE_PENSION_RATE, ROUND_HALF_UP)
        employer_pension = _percent(qualifying, EMPLOYER_PENSION_RATE, ROUND_HALF_UP)
    else:
        employee_pension = employer_pension = Money(0)
    net = gross - paye - employee_ni - employee_pension
    return Payslip(
        hours, gross, paye, employee_ni, employer_ni, employee_pension, employer_pension, net
    )


# ----------------------------------------------------------------------------- the report
@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One account at the end of the demo year: its terms, cash in and out, and position."""

    account_id: str
    person_ref: str
    provider: str
    payment_basis: str
    frequency: str
    weekly_gross: Money
    weekly_contribution: Money
    budget_revisions: int
    money_in: dict[str, Money]
    money_out: dict[str, Money]
    bank_balance: Money
    unpaid_liabilities: Money
    contingency: Money
    surplus: Money
    status: str
    events: int


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


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What :func:`build_demo` recorded: a summary per account and the year's notable moments."""

    council: str
    year_start: date
    year_end: date
    store_url: str
    accounts: tuple[AccountSummary, ...]
    highlights: tuple[Highlight, ...]
    prevented_overdrafts: tuple[PreventedOverdraft, ...]
    refused_invoices: tuple[RefusedInvoice, ...]
    retries: tuple[IdempotentRetry, ...]
    commands: int
    """Commands sent to the ledger, including refused ones and retries."""
    about: dict[str, str]
    """What each account is, in a few words, by account id."""


# ----------------------------------------------------------------------------- the year
@dataclass(order=True, slots=True)
class _Step:
    day: date
    stage: int
    seq: int
    action: Callable[[], object] = field(compare=False)


class _Year:
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

        self.on(day, _IN, arrive)

    def pay(
        self, day: date, account_id: str, what: str, amount: Money, command: Callable[..., Receipt]
    ) -> None:
        """Schedule a payment out of the bank; ``command`` takes the ``effective_date``.

        A payment the bank cannot cover is refused by the ledger (never overdrawn). The provider
        holds it and makes it as soon as money arrives.
        """
        self.on(day, _OUT, lambda: self._try_pay(day, account_id, what, amount, command))

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
            _SETUP,
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
        self.agree_budget(YEAR_START, account_id, weekly_gross, weekly_contribution, _SETUP)

    def agree_budget(
        self, day: date, account_id: str, gross: str, contribution: str, stage: int = _ADMIN
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
        self.on(YEAR_START, _SETUP, partial(self.send, command))

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
        self.on(received, _ADMIN, partial(self.send, receive))
        if approved is not None:
            approve = partial(
                ledger.approve_invoice,
                account_id,
                agency_id=agency_id,
                invoice_number=number,
                effective_date=approved,
                actor=FINANCE,
            )
            self.on(approved, _ADMIN, partial(self.send, approve))
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
        for index, (start, end) in enumerate(_calendar_months()):
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
            self.on(YEAR_START, _SETUP, partial(self.send, register))
        for number, (start, end) in enumerate(_four_weekly_periods(), start=1):
            pay_day = end + timedelta(days=5)
            if pay_day > YEAR_END:
                continue
            for pa_id, rate, hours_from in pas:
                slip = four_weekly_payslip(_in_force(hours_from, start), rate)
                self._wage_run(account_id, pa_id, (start, end), pay_day, slip)
                hmrc_day = _hmrc_due_date(pay_day, quarterly=hmrc_quarterly)
                hmrc_due[hmrc_day] = hmrc_due.get(hmrc_day, Money(0)) + slip.hmrc
                pension_day = _next_month_22nd(pay_day)
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
        self.on(pay_day, _ADMIN, partial(self.send, record))
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


# ----------------------------------------------------------------------------- calendars
def _four_weekly_periods() -> Iterator[tuple[date, date]]:
    """The 13 four-week periods of the year, Monday to Sunday."""
    for k in range(13):
        start = YEAR_START + timedelta(days=28 * k)
        yield start, start + timedelta(days=27)


def _calendar_months() -> Iterator[tuple[date, date]]:
    """The calendar months of the year (the first starts on ``YEAR_START``)."""
    start = YEAR_START
    while start <= YEAR_END:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        yield start, following - timedelta(days=1)
        start = following


def _next_month_22nd(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 22)


def _hmrc_due_date(pay_day: date, *, quarterly: bool) -> date:
    """The 22nd after the tax month (6th to 5th) or tax quarter (ending 5 Jul, Oct, Jan, Apr)
    in which wages were paid."""
    # Tax month m runs from the 6th of calendar month m to the 5th of m+1; due the 22nd of m+1.
    month_start = pay_day if pay_day.day >= 6 else pay_day.replace(day=1) - timedelta(days=1)
    year, month = month_start.year, month_start.month
    if quarterly:
        # Tax quarters start on 6 Apr, 6 Jul, 6 Oct and 6 Jan: move to the quarter's last month.
        month += (3 - (month - 4) % 3) - 1
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year + month // 12, month % 12 + 1, 22)


def _in_force(schedule: tuple[tuple[date, str], ...], day: date) -> Decimal:
    """The value of a dated schedule (``(from, value)`` pairs) in force on ``day``."""
    value = schedule[0][1]
    for start, later in schedule:
        if start <= day:
            value = later
    return Decimal(value)


def _four_weekly(gross: str, contribution: str) -> Money:
    """A net-basis council payment for 4 weeks: (gross - contribution) x 4."""
    return (Money(gross) - Money(contribution)) * 4


def _pro_rata(weekly: str, start: date, end: date) -> Money:
    """A monthly payment pro-rated by days, rounded half-up to the penny (£150 a week is
    £664.29 for 31 days)."""
    days = (end - start).days + 1
    pence = Decimal(Money(weekly).pence) * days / 7
    return Money(int(pence.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


# ----------------------------------------------------------------------------- the accounts
def _dp1001_agency_care(year: _Year) -> None:
    """Agency care only. The agency sends an invoice twice (refused as a duplicate), bills too
    many hours once (disputed and re-issued), a benefit lands here by mistake (held, refunded),
    and the bank feed delivers one council payment twice (an idempotent no-op)."""
    acct, gross, contribution = "DP-1001", "455.00", "38.50"
    ledger, rate = year.ledger, Money("25.80")
    year.open_account(acct, "P-10231", KESTREL, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-BHC", "Brightwater Home Care Ltd", rate)
    commands: dict[date, Callable[[], Receipt]] = {}
    for start, end in _four_weekly_periods():
        commands[start] = year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        year.contribution(start, acct, Money(contribution) * 4)

    # The bank feed is re-read the day after a council payment: same line, same key.
    first_day = date(2025, 6, 2)

    def import_again() -> None:
        key = f"{acct}:council:{first_day.isoformat()}"
        before = ledger.events(acct)
        original = next(e for e in before if e.command_key == key)
        retry = year.send(commands[first_day])
        year.retries.append(
            IdempotentRetry(
                account_id=acct,
                day=first_day + timedelta(days=1),
                key=key,
                first_version=original.originator_version,
                retry_version=retry.version,
                replayed=retry.replayed,
                events_before=len(before),
                events_after=ledger.account(acct).version,
            )
        )
        year.note(
            first_day + timedelta(days=1),
            acct,
            f"idempotent retry: the bank feed sent the {first_day} council payment again "
            f"with the same key; the ledger returned the original receipt (event "
            f"{retry.version}, replayed={retry.replayed}) and recorded nothing",
        )

    year.on(first_day + timedelta(days=1), _IN, import_again)

    # The July invoice arrives a second time (a "reminder"): the ledger refuses a repeated number.
    def duplicate() -> None:
        day = date(2025, 8, 12)
        try:
            year.send(
                partial(
                    ledger.receive_invoice,
                    acct,
                    agency_id="AG-BHC",
                    invoice_number="BHC-2507",
                    period_start=date(2025, 7, 1),
                    period_end=date(2025, 7, 31),
                    hours="72",
                    rate=rate,
                    total=rate * 72,
                    effective_date=day,
                    actor=FINANCE,
                )
            )
        except DuplicateInvoice as refused:
            year.refused.append(RefusedInvoice(acct, day, "AG-BHC", "BHC-2507", refused.message))
            year.note(day, acct, f"duplicate invoice refused: {refused.message}")

    year.on(date(2025, 8, 12), _ADMIN, duplicate)

    # October is billed at 82 hours; the visit log shows 70.5: disputed, then re-issued.
    def october(number: str, period: tuple[date, date], received: date) -> None:
        year.invoice(
            acct,
            "AG-BHC",
            number,
            period,
            Decimal(82),
            rate,
            received=received,
            approved=None,
            paid=None,
        )
        reason = "82 hours billed; the visit log shows 70.5"
        dispute = partial(
            ledger.dispute_invoice,
            acct,
            agency_id="AG-BHC",
            invoice_number=number,
            reason=reason,
            effective_date=received + timedelta(days=1),
            actor=FINANCE,
        )
        year.on(received + timedelta(days=1), _ADMIN, partial(year.send, dispute))
        reissued = received + timedelta(days=8)
        total = year.invoice(
            acct,
            "AG-BHC",
            f"{number}R",
            period,
            Decimal("70.5"),
            rate,
            received=reissued,
            approved=reissued,
            paid=reissued + timedelta(days=7),
        )
        year.note(
            received + timedelta(days=1),
            acct,
            f"invoice {number} disputed ({reason}); re-issued as {number}R for {total}, "
            f"approved and paid {reissued + timedelta(days=7)}",
        )

    hours = ("56.5", "73", "70.5", "72", "69.5", "70", "-", "70", "74.5", "72", "64", "71.5")
    year.monthly_invoices(acct, "AG-BHC", "BHC", rate, hours, special={6: october})

    # A benefit paid to the wrong account: held in suspense, then sent back.
    arrived, refunded = date(2025, 6, 16), date(2025, 6, 27)
    item: list[str] = []

    def unexpected() -> None:
        receipt = year.send(
            partial(
                ledger.receive_unexpected_income,
                acct,
                amount="250.00",
                description="DWP credit, reference matches no expected payment",
                effective_date=arrived,
                actor=BANK_FEED,
                idempotency_key=f"{acct}:unexpected:{arrived.isoformat()}",
            )
        )
        assert receipt.item_id is not None
        item.append(receipt.item_id)

    def refund() -> None:
        year.send(
            partial(
                ledger.refund_unexpected_income,
                acct,
                item_id=item[0],
                reason="DWP confirmed it was paid to the wrong account",
                effective_date=refunded,
                actor=FINANCE,
            )
        )
        year.note(
            arrived,
            acct,
            f"unexpected income: £250.00 from DWP held in suspense (item {item[0]}); DWP "
            f"confirmed it was meant for another account; refunded {refunded}",
        )

    year.on(arrived, _IN, unexpected)
    year.on(refunded, _OUT, refund)


def _dp1002_one_pa(year: _Year) -> None:
    """One PA, payroll every 4 weeks, HMRC quarterly. The person pays one contribution short
    (the rest arrives later from an unknown payer, classified as contribution), the review adds
    5 hours a week, and an insurance premium keyed twice is put right by a correction."""
    acct, contribution = "DP-1002", "60.00"
    ledger = year.ledger
    year.open_account(acct, "P-10232", KESTREL, NORTHSHIRE_POLICY, "480.00", contribution)
    revised = date(2025, 10, 20)
    year.agree_budget(revised, acct, "560.00", contribution)
    year.note(revised, acct, "review: 5 more PA hours a week; budget £480.00 -> £560.00 a week")
    short_period = date(2025, 6, 30)
    for start, end in _four_weekly_periods():
        gross = "480.00" if start < revised else "560.00"
        year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        paid = Money("140.00") if start == short_period else Money(contribution) * 4
        year.contribution(start + timedelta(days=3), acct, paid)
    year.payroll(
        acct,
        (("PA-1", Money("13.00"), ((YEAR_START, "120"), (revised, "140"))),),
        hmrc_quarterly=True,
    )
    year.spend(
        date(2025, 4, 15),
        acct,
        SpendCategory.INSURANCE,
        Money("96.50"),
        "employer's liability insurance 2025/26",
    )

    # The same premium keyed again by hand; the weekly bank reconciliation finds it.
    keyed: list[Receipt] = []

    def key_again() -> None:
        keyed.append(
            year.send(
                partial(
                    ledger.pay_care_plan_spend,
                    acct,
                    category="insurance",
                    amount="96.50",
                    description="employer's liability insurance",
                    effective_date=date(2025, 4, 15),
                    actor=FINANCE,
                )
            )
        )

    def correct() -> None:
        fixed = year.send(
            partial(
                ledger.correct,
                acct,
                version=keyed[0].version,
                reason="premium entered twice; the bank statement shows one payment",
                effective_date=date(2025, 4, 22),
                actor=FINANCE,
            )
        )
        year.note(
            date(2025, 4, 22),
            acct,
            f"correction: the £96.50 insurance premium had been keyed twice; event "
            f"{fixed.version} reverses event {keyed[0].version} (events are never edited)",
        )

    year.on(date(2025, 4, 15), _OUT, key_again)
    year.on(date(2025, 4, 22), _ADMIN, correct)

    # The missing £100 arrives three weeks late from a payer reference nobody recognises.
    late = date(2025, 7, 24)
    item: list[str] = []

    def unknown_payer() -> None:
        receipt = year.send(
            partial(
                ledger.receive_unexpected_income,
                acct,
                amount="100.00",
                description="FASTER PAYMENT ref HOUSEHOLD 4471",
                effective_date=late,
                actor=BANK_FEED,
                idempotency_key=f"{acct}:unexpected:{late.isoformat()}",
            )
        )
        assert receipt.item_id is not None
        item.append(receipt.item_id)
        year.retry_held(late, acct, receipt.event_type)

    def classify() -> None:
        year.send(
            partial(
                ledger.classify_unexpected_income,
                acct,
                item_id=item[0],
                classified_as="contribution",
                effective_date=late + timedelta(days=4),
                actor=FINANCE,
            )
        )
        year.note(
            short_period + timedelta(days=3),
            acct,
            f"contribution short: £140.00 of £240.00; the £100.00 rest came {late} "
            f"from an unknown payer (held as {item[0]}), classified as contribution",
        )

    year.on(late, _IN, unknown_payer)
    year.on(late + timedelta(days=4), _ADMIN, classify)


def _dp1003_monthly_two_pas(year: _Year) -> None:
    """Two PAs, the council pays monthly (pro-rated by days), HMRC monthly, nil contribution,
    and a one-off piece of equipment from the care plan."""
    acct, gross = "DP-1003", "760.00"
    policy = AccountPolicy(
        frequency=PaymentFrequency.MONTHLY,
        contingency_weeks=NORTHSHIRE_POLICY.contingency_weeks,
        first_review_within_months=NORTHSHIRE_POLICY.first_review_within_months,
    )
    year.open_account(acct, "P-10233", KESTREL, policy, gross, "0.00")
    for start, end in _calendar_months():
        year.council_payment(start, acct, _pro_rata(gross, start, end), end)
    year.payroll(
        acct,
        (
            ("PA-1", Money("12.80"), ((YEAR_START, "112"),)),
            ("PA-2", Money("12.50"), ((YEAR_START, "80"),)),
        ),
        hmrc_quarterly=False,
    )
    year.spend(
        date(2025, 4, 10),
        acct,
        SpendCategory.INSURANCE,
        Money("112.00"),
        "employer's liability insurance 2025/26",
    )
    year.spend(
        date(2025, 9, 3),
        acct,
        SpendCategory.OTHER_CARE_PLAN,
        Money("385.00"),
        "shower chair (care plan item 4)",
    )


def _dp1004_suspended(year: _Year) -> None:
    """Agency care. The council suspends payments for a missing monitoring return and withholds
    one payment; the next agency invoice cannot be paid until the council pays again."""
    acct, gross, contribution = "DP-1004", "380.00", "20.00"
    ledger, rate = year.ledger, Money("27.10")
    year.open_account(acct, "P-10234", RIVERSIDE, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-MBC", "Meadowbank Care", rate)
    suspended, resumed = date(2025, 11, 10), date(2025, 12, 8)
    withheld, withheld_on = Money(0), []
    for start, end in _four_weekly_periods():
        amount = _four_weekly(gross, contribution)
        if suspended <= start < resumed:
            # The ledger records what the bank shows; the council paid nothing while suspended.
            withheld += amount
            withheld_on.append(f"{start}")
        else:
            year.council_payment(start, acct, amount, end)
        year.contribution(start, acct, Money(contribution) * 4)
    hours = ("48", "63", "61.5", "63", "61", "60", "62.5", "66", "62", "61", "56", "62")
    year.monthly_invoices(acct, "AG-MBC", "MBC", rate, hours)

    reason = "quarterly monitoring return (bank statements, timesheets) not received"
    suspend = partial(
        ledger.suspend, acct, reason=reason, effective_date=suspended, actor=SOCIAL_WORK
    )
    resume = partial(
        ledger.resume,
        acct,
        backfill_ordered=True,
        reason="monitoring return received; the withheld payment is to be made good",
        effective_date=resumed,
        actor=SOCIAL_WORK,
    )
    back_pay_day = resumed + timedelta(days=11)
    back_pay = partial(
        ledger.receive_one_off_payment,
        acct,
        amount=withheld,
        purpose="back-pay of the payment withheld while suspended",
        effective_date=back_pay_day,
        actor=BANK_FEED,
        idempotency_key=f"{acct}:one-off:{back_pay_day.isoformat()}",
    )
    year.on(suspended, _ADMIN, partial(year.send, suspend))
    year.on(resumed, _ADMIN, partial(year.send, resume))
    year.money_in(back_pay_day, acct, back_pay)
    year.note(
        suspended,
        acct,
        f"suspended: {reason}, so the council withheld the {', '.join(withheld_on)} payment; "
        f"resumed {resumed} with back-pay ordered ({withheld}, arrived {back_pay_day})",
    )


def _dp1005_recoupment(year: _Year) -> None:
    """Agency care used well below the budget (family help more): at the review the council
    recoups surplus, never more than ``Ledger.surplus`` allows."""
    acct, gross, contribution = "DP-1005", "300.00", "15.00"
    ledger, rate = year.ledger, Money("27.10")
    year.open_account(acct, "P-10235", RIVERSIDE, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-MBC", "Meadowbank Care", rate)
    for start, end in _four_weekly_periods():
        year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        year.contribution(start, acct, Money(contribution) * 4)
    hours = ("22", "30", "28.5", "31", "26", "29", "30.5", "29", "33", "30", "27", "30")
    year.monthly_invoices(acct, "AG-MBC", "MBC", rate, hours)

    review, repaid = date(2026, 1, 14), date(2026, 1, 23)

    def recoup() -> None:
        surplus = ledger.surplus(acct, review)
        demand = Money(surplus.pence // 10_000 * 10_000)  # the council asks in whole £100s
        if demand.is_zero():
            return
        year.send(
            partial(
                ledger.demand_recoupment,
                acct,
                amount=demand,
                effective_date=review,
                actor=SOCIAL_WORK,
            )
        )
        repay = partial(
            ledger.repay_recoupment,
            acct,
            amount=demand,
            actor=FINANCE,
            bank_reference=f"NCC RECOUP {acct}",
            idempotency_key=f"{acct}:recoupment:{repaid.isoformat()}",
        )
        year.pay(repaid, acct, "recoupment", demand, repay)
        year.note(
            review,
            acct,
            f"recoupment at the review: surplus {surplus}; the council recouped {demand}, "
            f"repaid {repaid} (within 2 weeks)",
        )

    year.on(review, _ADMIN, recoup)


def _reviews(year: _Year) -> None:
    """The council's reviews (reg 7: the first within 3 months under Northshire's policy). DP-1004's
    first review was never held (the suspension took the social worker's time), so the portfolio
    shows it overdue; DP-1002 and DP-1005 were reviewed again when their plans changed."""
    reviews = (
        ("DP-1001", date(2025, 6, 30), "first review: agency care meets the outcomes"),
        ("DP-1002", date(2025, 6, 30), "first review: PA arrangement working"),
        ("DP-1003", date(2025, 7, 2), "first review: two PAs, monthly payments confirmed"),
        ("DP-1005", date(2025, 7, 1), "first review: family support growing, watch the surplus"),
        ("DP-1002", date(2025, 10, 20), "review: 5 more PA hours a week"),
        ("DP-1005", date(2026, 1, 14), "review: surplus recouped"),
    )
    for account_id, day, reason in reviews:
        review = partial(
            year.ledger.record_review,
            account_id,
            effective_date=day,
            actor=SOCIAL_WORK,
            reason=reason,
        )
        year.on(day, _ADMIN, partial(year.send, review))


# ----------------------------------------------------------------------------- build and summarise
def build_demo(ledger: Ledger) -> DemoReport:
    """Record the demo year on ``ledger`` and return what happened.

    Refuses a store that already holds a demo account (the year would be recorded twice):
    :class:`~dpledger.errors.AccountAlreadyExists` says to use a fresh store.
    """
    existing = set(ledger.account_ids()) & set(DEMO_ACCOUNT_IDS)
    if existing:
        raise AccountAlreadyExists(
            "this store already holds the demo",
            account_id=sorted(existing)[0],
            fix="record it on an empty store: `dpledger demo --fresh` rebuilds the SQLite file; "
            "for PostgreSQL use a new ?schema=",
        )
    year = _Year(ledger)
    for story in (
        _dp1001_agency_care,
        _dp1002_one_pa,
        _dp1003_monthly_two_pas,
        _dp1004_suspended,
        _dp1005_recoupment,
        _reviews,
    ):
        story(year)
    year.run()

    overdrafts = year.prevented_overdrafts()
    for held in overdrafts:
        paid = "still held at the year end"
        if held.paid_on is not None:
            arrival = _ARRIVALS.get(held.paid_after or "", "money")
            paid = f"held, and paid {held.paid_on} when {arrival} arrived"
        year.note(
            held.attempted_on,
            held.account_id,
            f"overdraft prevented: paying {held.payment} ({held.amount}) from {held.balance} "
            f"would leave the bank short by {held.shortfall} (InsufficientFunds); {paid}",
        )
    return DemoReport(
        council=COUNCIL,
        year_start=YEAR_START,
        year_end=YEAR_END,
        store_url=ledger.store_url,
        accounts=tuple(summarise(ledger, account_id) for account_id in DEMO_ACCOUNT_IDS),
        highlights=tuple(sorted(year.highlights, key=lambda h: (h.day, h.account_id))),
        prevented_overdrafts=overdrafts,
        refused_invoices=tuple(year.refused),
        retries=tuple(year.retries),
        commands=year.commands,
        about=dict(ABOUT),
    )


_ARRIVALS = {
    "CouncilPaymentReceived": "the council payment",
    "ContributionReceived": "the contribution",
    "OneOffPaymentReceived": "a one-off council payment",
    "UnexpectedIncomeReceived": "unexpected income",
}

MONEY_IN_ROWS = ("council", "contribution", "other")
MONEY_OUT_ROWS = (
    "agency care",
    "PA net wages",
    "HMRC",
    "pension",
    "insurance",
    "support fees",
    "other care plan",
    "refunded",
    "to the council",
)
_CASH_ROWS = {
    "CouncilPaymentReceived": "council",
    "OneOffPaymentReceived": "council",
    "ContributionReceived": "contribution",
    "InvoicePaid": "agency care",
    "NetWagesPaid": "PA net wages",
    "HmrcPaid": "HMRC",
    "PensionPaid": "pension",
    "UnexpectedIncomeRefunded": "refunded",
    "RecoupmentRepaid": "to the council",
    "AccountClosed": "to the council",
}


def _cash_row(event_type: str, fields: Mapping[str, Any], state: AccountState) -> str:
    """Which summary row a bank movement belongs to."""
    if event_type == "CarePlanSpendPaid":
        return SpendCategory(fields["category"]).value.replace("_", " ")
    if event_type == "UnexpectedIncomeReceived":
        # Money that was later identified counts as what it turned out to be.
        item = state.suspense_items[str(fields["item_id"])]
        if item.status is SuspenseStatus.CLASSIFIED and item.resolution is not None:
            return item.resolution
        return "other"
    return _CASH_ROWS[event_type]


def summarise(ledger: Ledger, account_id: str) -> AccountSummary:
    """One account's position now, with the bank's money in and out by row since it opened.

    Money in and out are read from each event's bank posting; a correction counts against the
    row of the event it reverses, so opening (nil) + in - out = the bank balance.
    """
    state = ledger.account(account_id)
    money_in = {row: Money(0) for row in MONEY_IN_ROWS}
    money_out = {row: Money(0) for row in MONEY_OUT_ROWS}
    for event in ledger.events(account_id):
        moved = Money(event.postings.effect_on(LedgerAccount.BANK))
        if moved.is_zero():
            continue
        if isinstance(event, EntryCorrected):
            row = _cash_row(event.corrected_type, event.corrected_fields, state)
        else:
            row = _cash_row(type(event).__name__, own_fields(event), state)
        if row in money_in:
            money_in[row] += moved
        else:
            money_out[row] -= moved
    budget = state.budgets[-1]
    policy = state.policy
    frequency = "4-weekly" if policy.frequency is PaymentFrequency.FOUR_WEEKLY else "monthly"
    return AccountSummary(
        account_id=account_id,
        person_ref=state.person_ref,
        provider=state.provider,
        payment_basis=policy.payment_basis.value,
        frequency=frequency,
        weekly_gross=budget.weekly_gross,
        weekly_contribution=budget.weekly_contribution,
        budget_revisions=len(state.budgets) - 1,
        money_in=money_in,
        money_out=money_out,
        bank_balance=state.bank_balance,
        unpaid_liabilities=state.unpaid_liabilities,
        contingency=policy.contingency(budget.weekly_gross),
        surplus=ledger.surplus(account_id, YEAR_END),
        status=state.status.value,
        events=state.version,
    )


def _sqlite_file(store_url: str) -> str | None:
    """The SQLite file behind ``store_url``, if it is one."""
    env = store_environment(store_url)
    return env.get("SQLITE_DBNAME")


def render(report: DemoReport) -> str:
    """The plain-text summary ``dpledger demo`` prints (about 70 lines, 90 columns at most)."""
    accounts = report.accounts

    def row(name: str, values: list[str]) -> str:
        return (f"{name:<19}" + "".join(f"{value:>12}" for value in values)).rstrip()

    def money_row(name: str, amounts: list[Money], *, nil: str = "£0.00") -> str:
        return row(name, [nil if amount.is_zero() else str(amount) for amount in amounts])

    providers: dict[str, list[str]] = {}
    for account in accounts:
        providers.setdefault(account.provider, []).append(account.account_id)
    run_by = " and ".join(f"{name} ({', '.join(ids)})" for name, ids in providers.items())
    events = sum(a.events for a in accounts)
    lines = [
        f"dpledger demo: a year at {report.council} (fictional), "
        f"{report.year_start:%d %b %Y} to {report.year_end:%d %b %Y}",
        *wrap(
            f"{len(accounts)} managed accounts run by {run_by}: "
            f"{events} events recorded from {report.commands} commands "
            f"(the other {report.commands - events} were refused or were retries).",
            width=90,
        ),
        "",
        *(f"{a.account_id}  {report.about.get(a.account_id, '')}".rstrip() for a in accounts),
        "",
        row("", [a.account_id for a in accounts]),
        row("person", [a.person_ref for a in accounts]),
        row("council pays", [a.frequency for a in accounts]),
        row("  basis", [a.payment_basis for a in accounts]),
        row(
            "weekly budget",
            [f"{a.weekly_gross}{'*' if a.budget_revisions else ''}" for a in accounts],
        ),
        money_row("  contribution", [a.weekly_contribution for a in accounts]),
        "money in",
    ]
    # Rows that are nil for every account say nothing; leave them out.
    for name in MONEY_IN_ROWS:
        if any(not a.money_in[name].is_zero() for a in accounts):
            lines.append(money_row(f"  {name}", [a.money_in[name] for a in accounts], nil="-"))
    lines.append("money out")
    for name in MONEY_OUT_ROWS:
        if any(not a.money_out[name].is_zero() for a in accounts):
            lines.append(money_row(f"  {name}", [a.money_out[name] for a in accounts], nil="-"))
    lines += [
        money_row("bank balance", [a.bank_balance for a in accounts]),
        money_row("unpaid liabilities", [a.unpaid_liabilities for a in accounts]),
        money_row("contingency", [a.contingency for a in accounts]),
        money_row("surplus", [a.surplus for a in accounts]),
        row("status", [a.status for a in accounts]),
        row("events", [str(a.events) for a in accounts]),
        "* revised during the year. Every account opened with £0: money in - money out = bank.",
        "Surplus = bank - unpaid liabilities - contingency (6 weeks' budget), never below £0.",
        "",
        "What happened",
    ]
    for highlight in report.highlights:
        text = f"{highlight.day} {highlight.account_id}  {highlight.text}"
        lines += wrap(text, width=90, subsequent_indent=" " * 20, break_on_hyphens=False)
    lines.append("")
    sqlite_file, last = _sqlite_file(report.store_url), accounts[-1]
    if sqlite_file is None:
        lines.append(f"The events were stored in {report.store_url}")
    else:
        lines += [
            f"The events are in {os.path.abspath(sqlite_file)} (SQLite).",
            f'Read them back: Ledger.sqlite("{sqlite_file}").bank_balance("{last.account_id}")'
            f"  # {last.bank_balance}",
        ]
    lines += [
        "Next: .venv/bin/python examples/01_quickstart.py (then 02_idempotency_and_errors.py,",
        "      03_sqlite_store.py); docs/model.md explains every event, posting and rule.",
    ]
    return "\n".join(lines)
