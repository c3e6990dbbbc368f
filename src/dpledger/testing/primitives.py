"""Hypothesis strategies for single domain values (amounts, dates, policies, invoices, payslips),
each satisfying the domain's rules. Use them through :mod:`dpledger.testing.strategies`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import strategies as st

from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.rules import hours_times_rate


def money(min_pence: int = 1, max_pence: int = 1_000_000) -> st.SearchStrategy[Money]:
    """GBP amounts between ``min_pence`` and ``max_pence`` inclusive."""
    return st.integers(min_value=min_pence, max_value=max_pence).map(Money)


def effective_dates(
    start: date = date(2024, 4, 1), end: date = date(2030, 3, 31)
) -> st.SearchStrategy[date]:
    """Calendar dates in a range of tax years."""
    return st.dates(min_value=start, max_value=end)


def hours(max_hours: int = 400) -> st.SearchStrategy[Decimal]:
    """Hours worked, to the hundredth of an hour."""
    return st.integers(min_value=0, max_value=max_hours * 100).map(lambda n: Decimal(n) / 100)


def policies() -> st.SearchStrategy[AccountPolicy]:
    """Any policy a council may set within the regulations."""
    return st.builds(
        AccountPolicy,
        payment_basis=st.sampled_from(PaymentBasis),
        frequency=st.sampled_from(PaymentFrequency),
        contingency_weeks=st.integers(min_value=0, max_value=12),
        first_review_within_months=st.integers(min_value=1, max_value=6),
        review_every_months=st.integers(min_value=1, max_value=12),
        contribution_spent_first=st.booleans(),
    )


@dataclass(frozen=True)
class BudgetFigures:
    """A weekly gross budget and an assessed contribution no larger than it."""

    weekly_gross: Money
    weekly_contribution: Money


@st.composite
def budgets(draw: st.DrawFn, max_weekly_pence: int = 200_000) -> BudgetFigures:
    """A budget whose contribution never exceeds its gross."""
    gross = draw(st.integers(min_value=1, max_value=max_weekly_pence))
    contribution = draw(st.integers(min_value=0, max_value=gross))
    return BudgetFigures(Money(gross), Money(contribution))


@dataclass(frozen=True)
class InvoiceFigures:
    """Hours, rate and a total equal to hours x rate rounded half-up to the penny."""

    hours: Decimal
    rate: Money
    total: Money


@st.composite
def invoice_figures(draw: st.DrawFn, max_rate_pence: int = 6_000) -> InvoiceFigures:
    """An invoice whose total is hours x rate (so it passes the within-a-penny rule)."""
    the_hours = draw(hours(200).filter(lambda h: h > 0))
    rate = Money(draw(st.integers(min_value=1, max_value=max_rate_pence)))
    exact = hours_times_rate(the_hours, rate)
    total = Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    if total.pence == 0:
        total = Money(1)
    return InvoiceFigures(the_hours, rate, total)


@dataclass(frozen=True)
class PayslipFigures:
    """A wage run's figures; ``net`` is gross minus PAYE, employee NI and employee pension."""

    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money


@st.composite
def payslips(draw: st.DrawFn, max_gross_pence: int = 400_000) -> PayslipFigures:
    """A payslip whose deductions never exceed its gross pay, so net pay is not negative."""
    gross = draw(st.integers(min_value=1, max_value=max_gross_pence))
    paye = draw(st.integers(min_value=0, max_value=gross // 4))
    employee_ni = draw(st.integers(min_value=0, max_value=gross // 10))
    employee_pension = draw(st.integers(min_value=0, max_value=gross // 20))
    employer_ni = draw(st.integers(min_value=0, max_value=gross // 7))
    employer_pension = draw(st.integers(min_value=0, max_value=gross // 30))
    return PayslipFigures(
        hours=draw(hours(200)),
        gross=Money(gross),
        paye=Money(paye),
        employee_ni=Money(employee_ni),
        employer_ni=Money(employer_ni),
        employee_pension=Money(employee_pension),
        employer_pension=Money(employer_pension),
        net=Money(gross - paye - employee_ni - employee_pension),
    )


def idempotency_keys() -> st.SearchStrategy[str]:
    """Caller-chosen idempotency keys."""
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=24)
