"""The arithmetic payment rules in dpledger.domain.rules, by hand-computed example and property."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Money
from dpledger.domain.records import BudgetAgreement
from dpledger.domain.rules import (
    INVOICE_TOLERANCE_PENCE,
    budget_on,
    contributions_due,
    hours_times_rate,
    invoice_total_matches,
    surplus,
    wage_run_net,
)

HOURS = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
RATE = st.integers(min_value=1, max_value=20_000).map(Money)  # up to £200 an hour
PENCE = st.integers(min_value=0, max_value=10**10)
START = date(2026, 4, 6)


def budget(day: date | str, gross: str, contribution: str) -> BudgetAgreement:
    when = date.fromisoformat(day) if isinstance(day, str) else day
    return BudgetAgreement(when, Money(gross), Money(contribution))


def rounded(value: Decimal, rounding: str) -> Money:
    return Money(int(value.quantize(Decimal(1), rounding=rounding)))


# ---------------------------------------------------------------------------- invoices
def test_hours_times_rate_is_exact_in_pence() -> None:
    assert hours_times_rate(Decimal("10.5"), Money("12.34")) == Decimal("12957.0")
    assert hours_times_rate(Decimal("0.25"), Money("12.71")) == Decimal("317.75")
    assert INVOICE_TOLERANCE_PENCE == 1


@pytest.mark.parametrize(
    ("hours", "rate", "total", "matches"),
    [
        ("10.5", "12.34", "129.57", True),  # exact
        ("10.5", "12.34", "129.58", True),  # a penny over
        ("10.5", "12.34", "129.56", True),  # a penny under
        ("10.5", "12.34", "129.59", False),
        ("10.5", "12.34", "129.55", False),
        ("0.25", "12.71", "3.18", True),  # 317.75p rounded up
        ("0.25", "12.71", "3.17", True),  # 317.75p rounded down
        ("0.25", "12.71", "3.19", False),  # 1.25p over: more than a penny
        ("0.25", "12.71", "3.16", False),
        ("38.5", "25.00", "962.50", True),
        ("38.5", "25.00", "962.52", False),
    ],
)
def test_invoice_total_matches_within_a_penny(
    hours: str, rate: str, total: str, matches: bool
) -> None:
    assert invoice_total_matches(Decimal(hours), Money(rate), Money(total)) is matches


@given(HOURS, RATE, st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_FLOOR, ROUND_CEILING]))
def test_hours_times_rate_rounded_any_way_always_matches(
    hours: Decimal, rate: Money, rounding: str
) -> None:
    total = rounded(hours * rate.pence, rounding)
    assert invoice_total_matches(hours, rate, total)


@given(HOURS, RATE, st.sampled_from([-2, 2, -3, 3, 100]))
def test_a_total_off_by_two_pence_or_more_never_matches(
    hours: Decimal, rate: Money, off: int
) -> None:
    total = rounded(hours * rate.pence, ROUND_HALF_UP) + Money(off)
    assert not invoice_total_matches(hours, rate, total)


# ---------------------------------------------------------------------------- wages
def test_wage_run_net_is_gross_minus_employee_deductions() -> None:
    assert wage_run_net(Money("500.00"), Money("40.00"), Money("20.00"), Money("25.00")) == Money(
        "415.00"
    )
    assert wage_run_net(Money("96.00"), Money(0), Money(0), Money(0)) == Money("96.00")


@given(PENCE, PENCE, PENCE, PENCE)
def test_net_plus_deductions_is_gross(gross: int, paye: int, ni: int, pension: int) -> None:
    net = wage_run_net(Money(gross), Money(paye), Money(ni), Money(pension))
    assert net + Money(paye) + Money(ni) + Money(pension) == Money(gross)


# ---------------------------------------------------------------------------- contributions
def test_no_budget_means_nothing_due() -> None:
    assert contributions_due([], date(2026, 5, 1)) == Money(0)


@pytest.mark.parametrize(
    ("until", "due"),
    [
        ("2026-04-05", "0.00"),  # before the budget starts
        ("2026-04-06", "2.86"),  # 1 day: 2000p / 7 = 285.71p
        ("2026-04-08", "8.57"),  # 3 days: 857.14p
        ("2026-04-12", "20.00"),  # exactly one week
        ("2026-04-19", "40.00"),  # two weeks
        ("2026-04-22", "48.57"),  # two weeks and 3 days: 4000 + 857.14
        ("2027-04-04", "1040.00"),  # 52 weeks
    ],
)
def test_contributions_due_pro_rata_one_budget(until: str, due: str) -> None:
    budgets = [budget("2026-04-06", "100.00", "20.00")]
    assert contributions_due(budgets, date.fromisoformat(until)) == Money(due)


@pytest.mark.parametrize(
    ("until", "due"),
    [
        ("2026-04-19", "40.00"),  # the revision is not yet in force
        ("2026-04-20", "45.00"),  # two weeks at £20 + 1 day at £35 (500p)
        ("2026-04-22", "55.00"),  # + 3 days at £35 (1500p)
        ("2026-04-26", "75.00"),  # two weeks at £20 + one at £35
        ("2026-05-03", "89.29"),  # + one week at £14.29: 4000 + 3500 + 1429 pence
    ],
)
def test_contributions_due_across_budget_revisions(until: str, due: str) -> None:
    budgets = [
        budget("2026-04-06", "100.00", "20.00"),
        budget("2026-04-20", "150.00", "35.00"),
        budget("2026-04-27", "150.00", "14.29"),
    ]
    assert contributions_due(budgets, date.fromisoformat(until)) == Money(due)
    # order of the agreements does not matter
    assert contributions_due(budgets[::-1], date.fromisoformat(until)) == Money(due)


def test_contributions_due_rounds_once_at_the_end() -> None:
    # 3 days at 1p/week, then 3 days at 1p/week: 3/7 + 3/7 = 0.857p -> 1p
    # (rounding each agreement separately would give 0p + 0p).
    budgets = [budget("2026-04-06", "1.00", "0.01"), budget("2026-04-09", "1.00", "0.01")]
    assert contributions_due(budgets, date(2026, 4, 11)) == Money(1)
    # 2 days at 1p/week = 0.286p -> 0p
    assert contributions_due(budgets, date(2026, 4, 7)) == Money(0)
    # 4 days = 0.571p -> 1p
    assert contributions_due(budgets, date(2026, 4, 9)) == Money(1)


def test_a_zero_contribution_budget_contributes_nothing() -> None:
    budgets = [budget("2026-04-06", "100.00", "20.00"), budget("2026-04-13", "100.00", "0")]
    assert contributions_due(budgets, date(2026, 6, 1)) == Money("20.00")


@given(st.integers(0, 520), st.integers(0, 100_000), st.integers(0, 3650))
def test_whole_weeks_are_due_exactly(weeks: int, weekly: int, offset: int) -> None:
    start = START + timedelta(days=offset)
    budgets = [BudgetAgreement(start, Money(weekly + 1), Money(weekly))]
    assert contributions_due(budgets, start + timedelta(days=7 * weeks - 1)) == Money(
        weekly * weeks
    )


@given(st.integers(0, 100_000), st.integers(1, 400), st.integers(1, 400))
def test_a_revision_with_the_same_figures_changes_nothing(
    weekly: int, split: int, length: int
) -> None:
    first = BudgetAgreement(START, Money(weekly + 5), Money(weekly))
    same = BudgetAgreement(START + timedelta(days=split), Money(weekly + 5), Money(weekly))
    until = START + timedelta(days=length)
    assert contributions_due([first, same], until) == contributions_due([first], until)


@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 50_000)),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    st.integers(-10, 400),
)
def test_contributions_due_never_decrease_and_match_day_by_day(
    agreements: list[tuple[int, int]], days: int
) -> None:
    budgets = [
        BudgetAgreement(START + timedelta(days=d), Money(c + 1), Money(c)) for d, c in agreements
    ]
    until = START + timedelta(days=days)
    due = contributions_due(budgets, until)
    assert contributions_due(budgets, until + timedelta(days=1)) >= due
    # the same sum, computed day by day with the budget in force each day
    exact = Decimal(0)
    day = min(b.effective_date for b in budgets)
    while day <= until:
        in_force = budget_on(budgets, day)
        assert in_force is not None
        exact += Decimal(in_force.weekly_contribution.pence) / 7
        day += timedelta(days=1)
    assert due == rounded(exact, ROUND_HALF_UP)


def test_budget_on_picks_the_latest_agreement_in_force() -> None:
    first = budget("2026-04-06", "100.00", "20.00")
    second = budget("2026-05-04", "120.00", "20.00")
    assert budget_on([second, first], date(2026, 4, 5)) is None
    assert budget_on([second, first], date(2026, 4, 6)) is first
    assert budget_on([second, first], date(2026, 5, 3)) is first
    assert budget_on([second, first], date(2026, 5, 4)) is second
    assert budget_on([], date(2026, 5, 4)) is None


def test_weekly_council_share_never_below_zero() -> None:
    assert budget("2026-04-06", "100.00", "20.00").weekly_council_share == Money("80.00")
    assert budget("2026-04-06", "100.00", "100.00").weekly_council_share == Money(0)
    assert budget("2026-04-06", "100.00", "120.00").weekly_council_share == Money(0)


# ---------------------------------------------------------------------------- surplus
@pytest.mark.parametrize(
    ("bank", "owed", "contingency", "expected"),
    [
        ("1100.00", "0", "800.00", "300.00"),
        ("1100.00", "250.00", "800.00", "50.00"),
        ("1100.00", "300.00", "800.00", "0"),
        ("1100.00", "300.01", "800.00", "0"),
        ("0", "0", "0", "0"),
        ("500.00", "0", "0", "500.00"),
    ],
)
def test_surplus_examples(bank: str, owed: str, contingency: str, expected: str) -> None:
    assert surplus(Money(bank), Money(owed), Money(contingency)) == Money(expected)


@given(PENCE, PENCE, PENCE)
def test_surplus_is_never_negative(bank: int, owed: int, contingency: int) -> None:
    result = surplus(Money(bank), Money(owed), Money(contingency))
    assert result.pence == max(0, bank - owed - contingency)
    assert not result.is_negative()
