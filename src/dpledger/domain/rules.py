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


def contributions_due(
    budgets: Sequence[BudgetAgreement],
    until: date,
    only: Sequence[tuple[date | None, date | None]] | None = None,
) -> Money:
    """The person's contributions due from the first budget up to and including ``until``.

    Each agreement runs from its effective date to the day before the next one; a part week is
    pro-rated by days and the total rounded half-up to the penny once, at the end. ``only``, when
    given, counts only the days of those periods (``(from, before)``, ``None`` open-ended): the
    days a policy paid on the net basis.
    """
    ordered = sorted(budgets, key=lambda b: b.effective_date)
    total = Decimal(0)
    for index, budget in enumerate(ordered):
        start = budget.effective_date
        stop = ordered[index + 1].effective_date if index + 1 < len(ordered) else None
        end = until + timedelta(days=1) if stop is None else min(stop, until + timedelta(days=1))
        days = (end - start).days if only is None else _days_within(start, end, only)
        if days > 0:
            total += Decimal(budget.weekly_contribution.pence) * days / 7
    return Money(int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _days_within(start: date, end: date, periods: Sequence[tuple[date | None, date | None]]) -> int:
    """The days from ``start`` to before ``end`` that fall within ``periods``."""
    days = 0
    for since, before in periods:
        first = start if since is None else max(start, since)
        last = end if before is None else min(end, before)
        days += max(0, (last - first).days)
    return days


def budget_on(budgets: Sequence[BudgetAgreement], day: date) -> BudgetAgreement | None:
    """The agreement in force on ``day`` (the latest one effective on or before it)."""
    in_force = [b for b in budgets if b.effective_date <= day]
    return max(in_force, key=lambda b: b.effective_date) if in_force else None


def surplus(bank: Money, unpaid_liabilities: Money, contingency: Money) -> Money:
    """Balance minus unpaid liabilities minus contingency, never negative."""
    value = bank - unpaid_liabilities - contingency
    return value if value.pence > 0 else Money(0)


def council_recoverable_surplus(
    surplus_now: Money, council_received: Money, contributions_received: Money, spent: Money
) -> Money:
    """The part of the surplus that is the council's when the contribution is spent first.

    Spending uses the person's contribution before council money, so the council's share of
    spending is ``max(0, spent - contributions)`` and its unspent money is what it paid minus that
    share. The council may recover at most that, and never more than the surplus.
    """
    council_share = spent - contributions_received
    unspent = council_received - (council_share if council_share.pence > 0 else Money(0))
    capped = min(surplus_now, unspent)
    return capped if capped.pence > 0 else Money(0)


def add_months(day: date, months: int) -> date:
    """``day`` moved on by whole calendar months, clamped to the month's last day (31 Jan + 1
    month is 28 or 29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def paid_in_advance_after(payments: Sequence[tuple[date, date, Money]], end_date: date) -> Money:
    """What payments for days after ``end_date`` amount to, pro-rated by days.

    Each payment is ``(period_start, period_end, amount)``; the days after ``end_date`` are
    returnable at the final reckoning. Rounded half-up to the penny once, at the end.
    """
    total = Decimal(0)
    for start, end, amount in payments:
        if end <= end_date:
            continue
        days = (end - start).days + 1
        after = (end - max(end_date, start - timedelta(days=1))).days
        total += Decimal(amount.pence) * after / days
    return Money(int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
