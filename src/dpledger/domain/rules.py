"""The payment rules that are plain arithmetic, one function per rule.

The aggregate calls these; they are also what the property tests exercise directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dpledger.domain.money import Money
from dpledger.domain.records import BudgetAgreement

INVOICE_TOLERANCE_PENCE = 1
"""An invoice total may differ from hours x rate by at most a penny (the agency's rounding)."""


def hours_times_rate(hours: Decimal, rate: Money) -> Decimal:
    """Exact hours x rate, in pence, as a Decimal (not rounded)."""
    return hours * rate.pence


def invoice_total_matches(hours: Decimal, rate: Money, total: Money) -> bool:
    """True when ``total`` is hours x rate within a penny."""
    return abs(hours_times_rate(hours, rate) - total.pence) <= INVOICE_TOLERANCE_PENCE


def wage_run_net(gross: Money, paye: Money, employee_ni: Money, employee_pension: Money) -> Money:
    """Net pay: gross minus the employee's deductions (PAYE, employee NI, employee pension)."""
    return gross - paye - employee_ni - employee_pension


def contributions_due(budgets: Sequence[BudgetAgreement], until: date) -> Money:
    """The person's contributions due from the first budget up to and including ``until``.

    Each agreement runs from its effective date to the day before the next one; a part week is
    pro-rated by days and the total rounded half-up to the penny once, at the end.
    """
    ordered = sorted(budgets, key=lambda b: b.effective_date)
    total = Decimal(0)
    for index, budget in enumerate(ordered):
        start = budget.effective_date
        stop = ordered[index + 1].effective_date if index + 1 < len(ordered) else None
        end = until + timedelta(days=1) if stop is None else min(stop, until + timedelta(days=1))
        days = (end - start).days
        if days > 0:
            total += Decimal(budget.weekly_contribution.pence) * days / 7
    return Money(int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def budget_on(budgets: Sequence[BudgetAgreement], day: date) -> BudgetAgreement | None:
    """The agreement in force on ``day`` (the latest one effective on or before it)."""
    in_force = [b for b in budgets if b.effective_date <= day]
    return max(in_force, key=lambda b: b.effective_date) if in_force else None


def surplus(bank: Money, unpaid_liabilities: Money, contingency: Money) -> Money:
    """Balance minus unpaid liabilities minus contingency, never negative."""
    value = bank - unpaid_liabilities - contingency
    return value if value.pence > 0 else Money(0)
