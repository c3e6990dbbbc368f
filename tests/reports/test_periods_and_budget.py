"""Named periods (financial years, months, quarters) and the budget for a period."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Money
from dpledger.domain.records import BudgetAgreement
from dpledger.errors import ValidationError
from dpledger.reporting.periods import (
    calendar_month,
    calendar_quarter,
    financial_year,
    months_of,
    named_period,
)
from dpledger.reporting.statement import care_spend, period_budget

years = st.integers(min_value=1990, max_value=2200)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


# ----------------------------------------------------------------------------- periods
@given(years)
def test_a_financial_year_runs_from_april_to_march(year: int) -> None:
    first, last = financial_year(f"{year}-{(year + 1) % 100:02d}")
    assert (first, last) == (date(year, 4, 1), date(year + 1, 3, 31))


@given(years, st.integers(min_value=0, max_value=99))
def test_a_financial_year_must_span_consecutive_years(year: int, second: int) -> None:
    if second == (year + 1) % 100:
        return
    with pytest.raises(ValidationError) as refused:
        financial_year(f"{year}-{second:02d}")
    assert refused.value.field == "fy"
    assert f"{year}-{(year + 1) % 100:02d}" in refused.value.fix


@given(years)
def test_the_quarters_and_months_of_a_year_cover_it_exactly_once(year: int) -> None:
    for parts in (
        [calendar_quarter(f"{year}q{q}") for q in range(1, 5)],
        [calendar_month(f"{year}-{m:02d}") for m in range(1, 13)],
    ):
        assert parts[0][0] == date(year, 1, 1)
        assert parts[-1][1] == date(year, 12, 31)
        for (_, end), (start, _) in itertools.pairwise(parts):
            assert start == end + timedelta(days=1)


@given(days, st.integers(min_value=0, max_value=800))
def test_the_months_of_a_period_partition_it(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    months = months_of(start, end)
    assert months[0][0] == start
    assert months[-1][1] == end
    for first, last in months:
        assert (first.year, first.month) == (last.year, last.month)
        assert first <= last
    for (_, last), (first, _) in itertools.pairwise(months):
        assert first == last + timedelta(days=1)


@pytest.mark.parametrize(
    ("given_", "field"),
    [
        ({"fy": "2025-27"}, "fy"),
        ({"fy": "25-26"}, "fy"),
        ({"month": "2025-13"}, "month"),
        ({"month": "2025-5"}, "month"),
        ({"quarter": "2025q5"}, "quarter"),
        ({"quarter": "2025q0"}, "quarter"),
        ({"fy": "2025-26", "quarter": "2025q3"}, "quarter"),
    ],
)
def test_bad_named_periods_are_refused_naming_the_field(given_: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        named_period(**given_)
    assert refused.value.field == field
    assert refused.value.fix


def test_no_named_period_is_none() -> None:
    assert named_period() is None


# ----------------------------------------------------------------------------- budget
@given(
    st.integers(min_value=0, max_value=1_000_000),
    st.integers(min_value=0, max_value=104),
    st.integers(min_value=0, max_value=30),
    days,
)
def test_the_budget_of_whole_weeks_is_weeks_times_the_weekly_gross(
    weekly: int, weeks: int, before: int, agreed: date
) -> None:
    budgets = [BudgetAgreement(agreed, Money(weekly), Money(0))]
    # Days before the first agreement carry no budget.
    start = agreed - timedelta(days=before)
    end = agreed + timedelta(days=7 * weeks - 1)
    assert period_budget(budgets, start, end) == Money(weekly * weeks)


def test_the_budget_follows_each_agreement_for_its_days() -> None:
    budgets = [
        BudgetAgreement(date(2026, 4, 6), Money("100.00"), Money("20.00")),
        BudgetAgreement(date(2026, 4, 20), Money("170.00"), Money("20.00")),
    ]
    # Two weeks at £100, then one at £170.
    assert period_budget(budgets, date(2026, 4, 1), date(2026, 4, 26)) == Money("370.00")
    assert period_budget(budgets, date(2026, 4, 20), date(2026, 4, 26)) == Money("170.00")


def test_returns_and_unexplained_outgoings_are_not_spend() -> None:
    out = {
        "agency_care": Money("200.00"),
        "returned_to_council": Money("50.00"),
        "unexplained_outgoing": Money("7.50"),
        "insurance": Money("60.00"),
    }
    assert care_spend(out) == Money("260.00")
