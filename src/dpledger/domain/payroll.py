"""Payroll: personal assistants the person employs, their wage runs, and paying net wages,
HMRC and the pension provider.

A wage run makes the net pay owed to the PA, PAYE and NI owed to HMRC and pension contributions
owed to the provider; each is paid from the bank, never beyond what is owed. Net pay must be gross
minus the employee's deductions; one PA has one run per pay period, within one tax year (a period
across 5/6 April is refused: split it). Each run is checked against the UK rates of its period
(:mod:`dpledger.domain.compliance`); a PA's date of birth and later hourly rates are recorded with
:class:`UpdatePersonalAssistant`. :func:`hmrc_due` lists what HMRC is owed by due date.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, model_validator

from dpledger.domain.bounds import Amount, AmountOrZero, Day, Hours, Identifier, Reference
from dpledger.domain.chart import NO_POSTINGS, LedgerAccount, Posting, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import (
    DuplicateWageRun,
    InvalidTransition,
    UnknownParty,
    ValidationError,
    WageRunDoesNotBalance,
)
from dpledger.domain.events import (
    MONEY_ONLY,
    AccountEvent,
    Correctable,
    NotCorrectable,
    amount_text,
    can_always,
    money_in,
    period_text,
    reference_text,
)
from dpledger.domain.funds import check_not_over, check_period, pay_liability
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.rates import straddles_tax_years
from dpledger.domain.records import AgreedRate, PersonalAssistant, WageRun, wage_run_key
from dpledger.domain.rules import wage_run_net

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount


def wage_run_index_key(pa_id: str, start: date, end: date) -> str:
    """A wage run's key in the key index (one run per PA and period, for ever)."""
    return f"wagerun:{wage_run_key(pa_id, start, end)}"


# ---------------------------------------------------------------------------- state
@dataclass(frozen=True, slots=True)
class PaDetails:
    """What was recorded about a PA after registration: date of birth and hourly rates."""

    date_of_birth: date | None = None
    rates: tuple[AgreedRate, ...] = ()
    """Hourly rates agreed after registration, by the day each took effect."""
    registered_rate: Money | None = None
    """The rate the PA was registered with (kept once a later rate replaces it)."""


@dataclass(slots=True)
class Payroll:
    """The PAs, what each is owed, and the wage runs of the recent window."""

    pas: dict[str, PersonalAssistant] = field(default_factory=dict)
    wage_runs: dict[str, WageRun] = field(default_factory=dict)
    """By ``pa_id/start/end``: runs whose period ended within the recent window."""
    details: dict[str, PaDetails] | None = None
    """PAs' dates of birth and later rates (``None`` until any is recorded: the stored form of
    accounts without them stays as it was)."""
    recorded_on: dict[str, date] | None = None
    """Each run's effective date (its pay day), by run key, for :func:`hmrc_due`."""

    @classmethod
    def empty(cls) -> Payroll:
        """No PAs yet."""
        return cls()

    def stored_fields(self) -> tuple[str, ...]:
        """The fields a snapshot stores: the later ones only once they hold something."""
        later = tuple(n for n in ("details", "recorded_on") if getattr(self, n) is not None)
        return ("pas", "wage_runs", *later)

    def compact(self, cutoff: date) -> None:
        """Forget runs whose period ended before ``cutoff``."""
        self.wage_runs = {k: r for k, r in self.wage_runs.items() if r.period_end >= cutoff}
        if self.recorded_on is not None:
            self.recorded_on = {k: d for k, d in self.recorded_on.items() if k in self.wage_runs}

    def date_of_birth(self, pa_id: str) -> date | None:
        """The PA's date of birth, if recorded."""
        found = (self.details or {}).get(pa_id)
        return None if found is None else found.date_of_birth

    def rate_for(self, pa_id: str, day: date) -> Money | None:
        """The PA's hourly rate in force on ``day`` (``None`` for an unknown PA)."""
        pa = self.pas.get(pa_id)
        if pa is None:
            return None
        found = (self.details or {}).get(pa_id)
        if found is None:
            return pa.hourly_rate
        in_force = [r for r in found.rates if r.effective_from <= day]
        if in_force:
            return max(in_force, key=lambda r: r.effective_from).hourly_rate
        return found.registered_rate or pa.hourly_rate

    def pa(self, account: ManagedAccount, pa_id: str) -> PersonalAssistant:
        """A registered PA; raises :class:`UnknownParty` if there is none."""
        found = self.pas.get(pa_id)
        if found is None:
            raise UnknownParty(
                f"no personal assistant {pa_id!r} is registered",
                account_id=account.account_id,
                fix="register the PA first",
            )
        return found

    def change_net_owed(self, pa_id: str, change: Money) -> None:
        """Owe the PA ``change`` more (or less, when negative)."""
        pa = self.pas[pa_id]
        self.pas[pa_id] = replace(pa, net_owed=pa.net_owed + change)


# ---------------------------------------------------------------------------- PAs
class RegisterPersonalAssistant(Command):
    """Register a personal assistant the person employs, with their hourly rate."""

    method: ClassVar[str] = "register_personal_assistant"
    pa_id: Identifier
    hourly_rate: Amount


class PersonalAssistantRegistered(AccountEvent):
    """A personal assistant employed by the person was registered."""

    pa_id: str
    hourly_rate: Money

    correction: ClassVar[Any] = NotCorrectable("register the PA again under another id")

    def evolve(self, account: ManagedAccount) -> None:
        """A PA, owed nothing yet."""
        account.payroll.pas[self.pa_id] = PersonalAssistant(self.pa_id, self.hourly_rate, Money(0))

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``personal assistant PA-1 registered``."""
        return f"personal assistant {details.get('pa_id')} registered"


@decides(RegisterPersonalAssistant)
def register_personal_assistant(
    account: ManagedAccount, command: RegisterPersonalAssistant, ctx: Context
) -> None:
    """A PA id is registered once."""
    check_writable(account, ctx)
    if command.pa_id in account.payroll.pas:
        raise InvalidTransition(
            f"personal assistant {command.pa_id} is already registered",
            account_id=account.account_id,
            fix="use the existing PA id",
        )
    account.record(
        ctx,
        PersonalAssistantRegistered,
        NO_POSTINGS,
        pa_id=command.pa_id,
        hourly_rate=command.hourly_rate,
    )


EARLIEST_BIRTH = date(1900, 1, 1)
"""No PA was born before this."""


def _birth_date(value: object) -> date:
    # A date of birth lies before the dates dpledger keeps (April 1997), so not a ``Day``.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if isinstance(value, datetime) or not isinstance(value, date) or value < EARLIEST_BIRTH:
        raise ValidationError(
            f"{value!r} is not a date of birth",
            field="date_of_birth",
            fix=f"give it as 'YYYY-MM-DD', on or after {EARLIEST_BIRTH}",
        )
    return value


BirthDate = Annotated[date, BeforeValidator(_birth_date)]
"""A date of birth: a ``date`` or ISO text, from 1900 on."""


class UpdatePersonalAssistant(Command):
    """Record a PA's date of birth (for the minimum-wage band and NI category) or a new hourly
    rate, in force from ``effective_date``."""

    method: ClassVar[str] = "update_personal_assistant"
    raises_alerts: ClassVar[bool] = True
    pa_id: Identifier
    hourly_rate: Amount | None = None
    date_of_birth: BirthDate | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdatePersonalAssistant:
        if self.hourly_rate is None and self.date_of_birth is None:
            raise ValidationError(
                "gives neither an hourly rate nor a date of birth",
                field="hourly_rate",
                fix="pass hourly_rate=, date_of_birth= or both",
            )
        if self.date_of_birth is not None and self.date_of_birth >= self.effective_date:
            raise ValidationError(
                f"{self.date_of_birth} is not before {self.effective_date}",
                field="date_of_birth",
                fix="give the PA's date of birth",
            )
        return self


class PersonalAssistantUpdated(AccountEvent):
    """A PA's date of birth or a new hourly rate (from the effective date) was recorded."""

    pa_id: str
    hourly_rate: Money | None
    date_of_birth: date | None

    correction: ClassVar[Any] = NotCorrectable("update the PA again with the right details")

    def evolve(self, account: ManagedAccount) -> None:
        """The details, and the PA's rate now when one is given."""
        payroll = account.payroll
        details = dict(payroll.details or {})
        found = details.get(self.pa_id, PaDetails())
        if self.date_of_birth is not None:
            found = replace(found, date_of_birth=self.date_of_birth)
        if self.hourly_rate is not None:
            pa = payroll.pas[self.pa_id]
            rates = [r for r in found.rates if r.effective_from != self.effective_date]
            rates.append(AgreedRate(self.effective_date, self.hourly_rate))
            found = replace(
                found,
                rates=tuple(sorted(rates, key=lambda r: r.effective_from)),
                registered_rate=found.registered_rate or pa.hourly_rate,
            )
            payroll.pas[self.pa_id] = replace(pa, hourly_rate=self.hourly_rate)
        details[self.pa_id] = found
        payroll.details = details

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``personal assistant PA-1 updated: hourly rate £12.71, date of birth recorded``."""
        said = []
        if details.get("hourly_rate") is not None:
            said.append(f"hourly rate {money_in(details, 'hourly_rate')}")
        if details.get("date_of_birth") is not None:
            said.append("date of birth recorded")
        return f"personal assistant {details.get('pa_id')} updated: {', '.join(said)}"


@decides(UpdatePersonalAssistant)
def update_personal_assistant(
    account: ManagedAccount, command: UpdatePersonalAssistant, ctx: Context
) -> None:
    """A registered PA."""
    check_writable(account, ctx)
    account.payroll.pa(account, command.pa_id)
    account.record(
        ctx,
        PersonalAssistantUpdated,
        NO_POSTINGS,
        pa_id=command.pa_id,
        hourly_rate=command.hourly_rate,
        date_of_birth=command.date_of_birth,
    )


# ---------------------------------------------------------------------------- wage runs
class RecordWageRun(Command):
    """A payslip for one PA and period: net must be gross minus PAYE, employee NI and employee
    pension."""

    method: ClassVar[str] = "record_wage_run"
    raises_alerts: ClassVar[bool] = True
    pa_id: Identifier
    period_start: Day
    period_end: Day
    hours: Hours
    gross: Amount
    paye: AmountOrZero
    employee_ni: AmountOrZero
    employer_ni: AmountOrZero
    employee_pension: AmountOrZero
    employer_pension: AmountOrZero
    net: AmountOrZero

    def payload(self) -> dict[str, Any]:
        """The payload as 0.1 digested it (the period as one pair)."""
        payload = super().payload()
        payload["period"] = [payload.pop("period_start"), payload.pop("period_end")]
        return payload

    def index_keys(self) -> tuple[str, ...]:
        """Its period's key."""
        return (wage_run_index_key(self.pa_id, self.period_start, self.period_end),)


def _can_unrecord_run(account: ManagedAccount, target: Any) -> None:
    if account.payroll.pa(account, target.pa_id).net_owed < target.net:
        raise InvalidTransition(
            f"net wages of this run have already been paid to {target.pa_id}",
            account_id=account.account_id,
            fix="correct the net wage payment first",
        )


def _unrecord_run(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    payroll = account.payroll
    payroll.wage_runs.pop(
        wage_run_key(fields["pa_id"], fields["period_start"], fields["period_end"]), None
    )
    key = wage_run_key(fields["pa_id"], fields["period_start"], fields["period_end"])
    if payroll.recorded_on is not None:
        payroll.recorded_on.pop(key, None)
        payroll.recorded_on = payroll.recorded_on or None  # none left: as if none recorded
    payroll.change_net_owed(fields["pa_id"], -fields["net"])


class WageRunRecorded(AccountEvent):
    """A payroll run for one PA: gross pay, deductions and employer costs become liabilities."""

    pa_id: str
    period_start: date
    period_end: date
    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money

    correction: ClassVar[Any] = Correctable(
        _can_unrecord_run,
        _unrecord_run,
        lambda f: (wage_run_index_key(f["pa_id"], f["period_start"], f["period_end"]),),
    )

    def evolve(self, account: ManagedAccount) -> None:
        """The run, and the PA owed its net pay."""
        run = WageRun(
            pa_id=self.pa_id,
            period_start=self.period_start,
            period_end=self.period_end,
            hours=self.hours,
            gross=self.gross,
            paye=self.paye,
            employee_ni=self.employee_ni,
            employer_ni=self.employer_ni,
            employee_pension=self.employee_pension,
            employer_pension=self.employer_pension,
            net=self.net,
        )
        account.payroll.wage_runs[run.key] = run
        account.payroll.recorded_on = {
            **(account.payroll.recorded_on or {}),
            run.key: self.effective_date,
        }
        account.payroll.change_net_owed(self.pa_id, self.net)

    def claims(self) -> dict[str, str | None]:
        """Its period, besides its command's key."""
        key = wage_run_index_key(self.pa_id, self.period_start, self.period_end)
        return {**super().claims(), key: None}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``wages of PA-1 for 2025-04-07 to 2025-05-04: gross £400.00, net £388.00``."""
        return (
            f"wages of {details.get('pa_id')}{period_text(details)}: gross "
            f"{money_in(details, 'gross')}, net {money_in(details, 'net')}"
        )


@decides(RecordWageRun)
def record_wage_run(account: ManagedAccount, command: RecordWageRun, ctx: Context) -> None:
    """A registered PA, a sane period not recorded before, and a payslip that balances."""
    check_writable(account, ctx)
    account.payroll.pa(account, command.pa_id)
    check_period(account, command.period_start, command.period_end)
    c = command
    expected = wage_run_net(c.gross, c.paye, c.employee_ni, c.employee_pension)
    if c.net != expected:
        raise WageRunDoesNotBalance(
            f"net pay {c.net} is not gross {c.gross} minus deductions, which is {expected}",
            account_id=account.account_id,
            fix="check the payslip: net = gross - PAYE - employee NI - employee pension",
        )
    key = wage_run_key(c.pa_id, c.period_start, c.period_end)
    if key in account.payroll.wage_runs or ctx.facts.key(f"wagerun:{key}") is not None:
        raise DuplicateWageRun(
            f"a wage run for {c.pa_id} for {c.period_start}..{c.period_end} is already recorded",
            account_id=account.account_id,
            fix="correct the recorded run instead of recording it again",
        )
    if straddles_tax_years(c.period_start, c.period_end):
        raise ValidationError(
            f"the pay period {c.period_start} to {c.period_end} crosses 5/6 April, into another "
            "tax year (PAYE, NI and pension thresholds are per tax year)",
            field="period_end",
            account_id=account.account_id,
            fix="split it into two wage runs: one ending on 5 April, one starting on 6 April",
        )
    postings = Postings.of(
        [
            Posting.debit(LedgerAccount.PA_GROSS_WAGES, c.gross),
            Posting.debit(LedgerAccount.EMPLOYER_NI, c.employer_ni),
            Posting.debit(LedgerAccount.EMPLOYER_PENSION, c.employer_pension),
            Posting.credit(LedgerAccount.PA_NET_WAGES_PAYABLE, c.net),
            Posting.credit(LedgerAccount.HMRC_PAYABLE, c.paye + c.employee_ni + c.employer_ni),
            Posting.credit(LedgerAccount.PENSION_PAYABLE, c.employee_pension + c.employer_pension),
        ]
    )
    account.record(
        ctx,
        WageRunRecorded,
        postings,
        pa_id=c.pa_id,
        period_start=c.period_start,
        period_end=c.period_end,
        hours=c.hours,
        gross=c.gross,
        paye=c.paye,
        employee_ni=c.employee_ni,
        employer_ni=c.employer_ni,
        employee_pension=c.employee_pension,
        employer_pension=c.employer_pension,
        net=c.net,
    )


# ---------------------------------------------------------------------------- paying
class PayNetWages(Command):
    """Pay a PA net wages owed to them."""

    method: ClassVar[str] = "pay_net_wages"
    pa_id: Identifier
    amount: Amount
    bank_reference: Reference | None = None


def _owe_again(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account.payroll.change_net_owed(fields["pa_id"], fields["amount"])


class NetWagesPaid(AccountEvent):
    """Net wages were paid to a PA."""

    pa_id: str
    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = Correctable(can_always, _owe_again)

    def evolve(self, account: ManagedAccount) -> None:
        """The PA is owed that much less."""
        account.payroll.change_net_owed(self.pa_id, -self.amount)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``net wages paid to PA-1 £388.00 (ref X)``."""
        paid = f"{amount_text(details)}{reference_text(details)}"
        return f"net wages paid to {details.get('pa_id')}{paid}"


@decides(PayNetWages)
def pay_net_wages(account: ManagedAccount, command: PayNetWages, ctx: Context) -> None:
    """Never more than the PA is owed; never overdrawn."""
    check_writable(account, ctx)
    pa = account.payroll.pa(account, command.pa_id)
    check_not_over(account, command.amount, pa.net_owed, f"net wages owed to {pa.pa_id}")
    account.record(
        ctx,
        NetWagesPaid,
        Postings.transfer(LedgerAccount.PA_NET_WAGES_PAYABLE, LedgerAccount.BANK, command.amount),
        pa_id=pa.pa_id,
        amount=command.amount,
        bank_reference=command.bank_reference,
    )


class PayHmrc(Command):
    """Pay HMRC the PAYE and NI owed."""

    method: ClassVar[str] = "pay_hmrc"
    amount: Amount
    bank_reference: Reference | None = None


class HmrcPaid(AccountEvent):
    """PAYE and NI were paid to HMRC."""

    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``HMRC paid £120.00 (ref X)``."""
        return f"HMRC paid{amount_text(details)}{reference_text(details)}"


@decides(PayHmrc)
def pay_hmrc(account: ManagedAccount, command: PayHmrc, ctx: Context) -> None:
    """Never more than HMRC is owed; never overdrawn."""
    pay_liability(
        account,
        ctx,
        HmrcPaid,
        LedgerAccount.HMRC_PAYABLE,
        "HMRC",
        command.amount,
        command.bank_reference,
    )


class PayPension(Command):
    """Pay the pension provider the contributions owed."""

    method: ClassVar[str] = "pay_pension"
    amount: Amount
    bank_reference: Reference | None = None


class PensionPaid(AccountEvent):
    """Pension contributions were paid to the pension provider."""

    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``pension paid £96.00 (ref X)``."""
        return f"pension paid{amount_text(details)}{reference_text(details)}"


@decides(PayPension)
def pay_pension(account: ManagedAccount, command: PayPension, ctx: Context) -> None:
    """Never more than the pension provider is owed; never overdrawn."""
    pay_liability(
        account,
        ctx,
        PensionPaid,
        LedgerAccount.PENSION_PAYABLE,
        "the pension",
        command.amount,
        command.bank_reference,
    )


class ClaimEmploymentAllowance(Command):
    """Offset employer NI owed to HMRC by Employment Allowance (no money moves)."""

    method: ClassVar[str] = "claim_employment_allowance"
    amount: Amount


class EmploymentAllowanceClaimed(AccountEvent):
    """Employment Allowance offset employer NI owed to HMRC (PA employers may claim it)."""

    amount: Money

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``employment allowance claimed £100.00``."""
        return f"employment allowance claimed{amount_text(details)}"


@decides(ClaimEmploymentAllowance)
def claim_employment_allowance(
    account: ManagedAccount, command: ClaimEmploymentAllowance, ctx: Context
) -> None:
    """Never more than HMRC is owed, nor more than the employer NI incurred so far."""
    check_writable(account, ctx)
    check_not_over(account, command.amount, account.owed(LedgerAccount.HMRC_PAYABLE), "HMRC")
    check_not_over(
        account,
        command.amount,
        account.balance(LedgerAccount.EMPLOYER_NI),
        "employer NI incurred",
    )
    account.record(
        ctx,
        EmploymentAllowanceClaimed,
        Postings.transfer(LedgerAccount.HMRC_PAYABLE, LedgerAccount.EMPLOYER_NI, command.amount),
        amount=command.amount,
    )


# ---------------------------------------------------------------------------- HMRC due dates
def hmrc_due_date(pay_day: date, *, quarterly: bool) -> date:
    """The 22nd after the tax month (6th to 5th) or tax quarter (ending 5 Jul, Oct, Jan, Apr)
    in which wages were paid (HMRC's date for electronic payments)."""
    # Tax month m runs from the 6th of calendar month m to the 5th of m+1; due the 22nd of m+1.
    month_start = pay_day if pay_day.day >= 6 else pay_day.replace(day=1) - timedelta(days=1)
    year, month = month_start.year, month_start.month
    if quarterly:
        # Tax quarters start on 6 Apr, 6 Jul, 6 Oct and 6 Jan: move to the quarter's last month.
        month += (3 - (month - 4) % 3) - 1
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year + month // 12, month % 12 + 1, 22)


@dataclass(frozen=True, slots=True)
class HmrcDue:
    """PAYE and NI owed to HMRC for one tax month or quarter, due on ``due_on``."""

    due_on: date | None
    """``None``: owed for runs paid before the recent window (overdue)."""
    period_start: date | None
    period_end: date | None
    """The tax month or quarter (6th to 5th) whose pay it is for."""
    amount: Money


def hmrc_due(account: ManagedAccount, *, quarterly: bool = False) -> list[HmrcDue]:
    """What HMRC is owed now, by due date, earliest first.

    Each run's PAYE and NI fall due on the 22nd after the tax month (or quarter, for an employer
    paying quarterly: average monthly payments under £1,500) of its pay day, the run's effective
    date. Payments and Employment Allowance settle the oldest first, so what is still owed (the
    ``HMRC_PAYABLE`` balance) belongs to the latest due dates.
    """
    payroll = account.payroll
    recorded_on = payroll.recorded_on or {}
    by_due: dict[date, int] = {}
    for key, run in payroll.wage_runs.items():
        due = hmrc_due_date(recorded_on.get(key, run.period_end), quarterly=quarterly)
        amount = run.paye.pence + run.employee_ni.pence + run.employer_ni.pence
        by_due[due] = by_due.get(due, 0) + amount
    remaining = account.owed(LedgerAccount.HMRC_PAYABLE).pence
    found = []
    for due in sorted(by_due, reverse=True):
        share = min(remaining, by_due[due])
        if share > 0:
            months = 3 if quarterly else 1
            end = date(due.year, due.month, 5)
            start_month = due.year * 12 + due.month - 1 - months
            start = date(start_month // 12, start_month % 12 + 1, 6)
            found.append(HmrcDue(due, start, end, Money(share)))
            remaining -= share
    if remaining > 0:
        found.append(HmrcDue(None, None, None, Money(remaining)))
    return sorted(found, key=lambda d: (d.due_on is not None, d.due_on or date.min))
