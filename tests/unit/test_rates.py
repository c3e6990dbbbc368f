"""The UK rates table: loaded from the package's data file, checked, and read by tax year."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger.domain.money import Money
from dpledger.domain.payslip import free_pay, over_state_pension_age, paye_due, payslip
from dpledger.domain.rates import (
    AgeBand,
    PayFrequency,
    PeriodKind,
    RatesTableError,
    age_band,
    parse_rates,
    period_kind,
    straddles_tax_years,
    tax_year_name,
    uk_rates,
)

TEXT = resources.files("dpledger.domain").joinpath("data/uk_rates.toml").read_text("utf-8")


def test_the_table_has_the_three_tax_years_in_order() -> None:
    table = uk_rates()
    assert [y.name for y in table.tax_year] == ["2024/25", "2025/26", "2026/27"]
    assert (table.first_day, table.last_day) == (date(2024, 4, 6), date(2027, 4, 5))
    assert [y.confirmed for y in table.tax_year] == [True, True, False]


@pytest.mark.parametrize(
    ("year", "nlw", "age_18_to_20", "under_18", "employer_rate", "secondary", "allowance", "ssp"),
    [
        ("2024/25", "11.44", "8.60", "6.40", "0.138", "175", "5000", "116.75"),
        ("2025/26", "12.21", "10.00", "7.55", "0.15", "96", "10500", "118.75"),
        ("2026/27", "12.71", "10.85", "8.00", "0.15", "96", "10500", "123.25"),
    ],
)
def test_each_year_holds_the_published_figures(
    year: str,
    nlw: str,
    age_18_to_20: str,
    under_18: str,
    employer_rate: str,
    secondary: str,
    allowance: str,
    ssp: str,
) -> None:
    (found,) = [y for y in uk_rates().tax_year if y.name == year]
    wage = found.minimum_wage
    assert wage.rate(AgeBand.AGE_21_AND_OVER) == Money(nlw)
    assert wage.rate(AgeBand.AGE_18_TO_20) == Money(age_18_to_20)
    assert wage.rate(AgeBand.UNDER_18) == wage.rate(AgeBand.APPRENTICE) == Money(under_18)
    ni = found.national_insurance
    assert (ni.employee_rate, ni.employer_rate) == (Decimal("0.08"), Decimal(employer_rate))
    assert ni.weekly.secondary_threshold == Decimal(secondary)
    assert ni.four_weekly.secondary_threshold == 4 * Decimal(secondary)
    assert (ni.weekly.primary_threshold, ni.monthly.primary_threshold) == (242, 1048)
    assert ni.employment_allowance == Decimal(allowance)
    assert found.statutory_sick_pay.weekly == Decimal(ssp)
    ae = found.auto_enrolment
    assert (ae.employer_minimum, ae.total_minimum) == (Decimal("0.03"), Decimal("0.08"))
    assert (ae.four_weekly.trigger, ae.four_weekly.lower, ae.four_weekly.upper) == (768, 480, 3867)
    assert found.holiday.irregular_hours_accrual == Decimal("0.1207")
    assert (found.paye.standard_code, found.paye.personal_allowance) == ("1257L", 12570)


def test_ssp_from_april_2026_is_the_lower_of_the_rate_and_80_percent_from_day_one() -> None:
    ssp = uk_rates().tax_year[-1].statutory_sick_pay
    assert (ssp.percent_of_earnings, ssp.waiting_days) == (Decimal("0.80"), 0)


def test_the_minimum_wage_changes_on_1_april_though_the_tax_year_starts_on_6_april() -> None:
    table = uk_rates()
    assert table.year_of(date(2026, 4, 1)) is not None
    assert table.year_of(date(2026, 4, 1)).name == "2025/26"  # type: ignore[union-attr]
    assert table.minimum_wage_for(date(2026, 3, 31)).age_21_and_over == Decimal("12.21")  # type: ignore[union-attr]
    assert table.minimum_wage_for(date(2026, 4, 1)).age_21_and_over == Decimal("12.71")  # type: ignore[union-attr]
    assert table.minimum_wage_for(date(2024, 3, 31)) is None
    assert table.year_of(date(2027, 4, 6)) is None


@given(st.dates(min_value=date(2024, 4, 6), max_value=date(2027, 4, 5)))
def test_every_day_of_the_table_lies_in_exactly_one_tax_year(day: date) -> None:
    years = [y for y in uk_rates().tax_year if y.covers(day)]
    assert len(years) == 1
    assert years[0].name == tax_year_name(day)


# ---------------------------------------------------------------------------- bad tables
def test_a_missing_tax_year_is_a_gap_naming_both_years() -> None:
    start = TEXT.index('[[tax_year]]\nname = "2025/26"')
    end = TEXT.index('[[tax_year]]\nname = "2026/27"')
    with pytest.raises(RatesTableError) as caught:
        parse_rates(TEXT[:start] + TEXT[end:])
    error = caught.value
    assert error.field == "tax_year.2026/27.starts"
    assert "leaves a gap after 2024/25" in str(error)
    assert "2025-04-06" in error.fix


def test_an_overlap_names_the_year_and_the_fix() -> None:
    start = TEXT.index('[[tax_year]]\nname = "2025/26"')
    end = TEXT.index('[[tax_year]]\nname = "2026/27"')
    twice = TEXT[:end] + TEXT[start:end] + TEXT[end:]
    with pytest.raises(RatesTableError) as caught:
        parse_rates(twice)
    assert caught.value.field == "tax_year.2025/26.starts"
    assert "overlaps 2025/26" in str(caught.value)


def test_a_year_not_from_6_april_to_5_april_is_refused() -> None:
    with pytest.raises(RatesTableError, match="not 6 April to 5 April"):
        parse_rates(TEXT.replace("ends = 2025-04-05", "ends = 2025-04-04", 1))


def test_a_missing_figure_names_the_year_and_the_field() -> None:
    with pytest.raises(RatesTableError) as caught:
        parse_rates(TEXT.replace('employment_allowance = "10500"\n', "", 1))
    assert caught.value.field == "tax_year.2025/26.national_insurance.employment_allowance"
    assert "is missing" in str(caught.value)
    assert "docs/payroll.md" in caught.value.fix


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('employer_rate = "0.15"', 'employer_rate = "15"', "national_insurance.employer_rate"),
        ('age_21_and_over = "12.21"', 'age_21_and_over = "12.215"', "minimum_wage"),
        ('weekly = "118.75"', "weekly = 118.75", "statutory_sick_pay.weekly"),
    ],
)
def test_a_malformed_figure_is_refused(old: str, new: str, field: str) -> None:
    with pytest.raises(RatesTableError) as caught:
        parse_rates(TEXT.replace(old, new, 1))
    assert caught.value.field is not None
    assert caught.value.field.startswith(f"tax_year.2025/26.{field}")


def test_bad_toml_is_refused() -> None:
    with pytest.raises(RatesTableError, match="not valid TOML"):
        parse_rates("[[tax_year]\n")


# ---------------------------------------------------------------------------- periods, ages
@pytest.mark.parametrize(
    ("start", "end", "kind"),
    [
        (date(2025, 4, 7), date(2025, 4, 13), PeriodKind(PayFrequency.WEEKLY)),
        (date(2025, 4, 7), date(2025, 4, 20), PeriodKind(PayFrequency.FORTNIGHTLY)),
        (date(2025, 4, 7), date(2025, 5, 4), PeriodKind(PayFrequency.FOUR_WEEKLY)),
        (date(2025, 5, 1), date(2025, 5, 31), PeriodKind(PayFrequency.MONTHLY)),
        (date(2026, 2, 1), date(2026, 2, 28), PeriodKind(PayFrequency.FOUR_WEEKLY)),
        (date(2025, 4, 6), date(2025, 5, 5), PeriodKind(PayFrequency.MONTHLY)),
        (date(2025, 4, 7), date(2025, 4, 16), PeriodKind(PayFrequency.WEEKLY, 2)),
    ],
)
def test_a_pay_period_is_classified_by_its_length(start: date, end: date, kind: PeriodKind) -> None:
    assert period_kind(start, end) == kind


def test_a_period_straddles_tax_years_across_5_and_6_april() -> None:
    assert straddles_tax_years(date(2026, 3, 30), date(2026, 4, 6))
    assert not straddles_tax_years(date(2026, 3, 30), date(2026, 4, 5))
    assert not straddles_tax_years(date(2026, 4, 6), date(2026, 4, 12))


def test_the_age_band_is_the_age_at_the_start_of_the_period() -> None:
    born = date(2005, 4, 10)  # 21 on 10 April 2026
    assert age_band(born, date(2026, 4, 6)) is AgeBand.AGE_18_TO_20
    assert age_band(born, date(2026, 4, 13)) is AgeBand.AGE_21_AND_OVER
    assert age_band(date(2009, 1, 1), date(2026, 4, 6)) is AgeBand.UNDER_18
    assert age_band(None, date(2026, 4, 6)) is AgeBand.AGE_21_AND_OVER


@pytest.mark.parametrize(
    ("born", "reaches"),
    [
        (date(1959, 1, 1), date(2025, 1, 1)),  # 66
        (date(1960, 4, 6), date(2026, 5, 6)),  # 66 and 1 month
        (date(1960, 5, 6), date(2026, 7, 6)),  # 66 and 2 months
        (date(1961, 3, 5), date(2028, 2, 5)),  # 66 and 11 months
        (date(1961, 3, 6), date(2028, 3, 6)),  # 67
    ],
)
def test_state_pension_age_rises_a_month_at_a_time_to_67(born: date, reaches: date) -> None:
    assert over_state_pension_age(born, reaches)
    assert not over_state_pension_age(born, reaches - timedelta(days=1))


# ---------------------------------------------------------------------------- PAYE tables
def test_tax_code_1257l_free_pay_follows_hmrc_table_a() -> None:
    assert free_pay("1257L", PeriodKind(PayFrequency.WEEKLY)) == Money("241.92")
    assert free_pay("1257L", PeriodKind(PayFrequency.FORTNIGHTLY)) == Money("483.84")
    assert free_pay("1257L", PeriodKind(PayFrequency.FOUR_WEEKLY)) == Money("967.68")
    assert free_pay("1257L", PeriodKind(PayFrequency.MONTHLY)) == Money("1048.26")
    assert free_pay("500L", PeriodKind(PayFrequency.WEEKLY)) == Money(
        "96.33"
    )  # £5,009 / 52, rounded up
    assert free_pay("0L", PeriodKind(PayFrequency.WEEKLY)) == Money(0)


def test_paye_on_1008_for_four_weeks_is_8_pounds_not_8_20() -> None:
    """The issue's case: £1,008.00 less £967.68 free pay is £40.32, taxed on £40 whole."""
    year = uk_rates().tax_year[1]
    kind = PeriodKind(PayFrequency.FOUR_WEEKLY)
    assert paye_due(Money("1008.00"), "1257L", kind, year) == Money("8.00")


def test_paye_above_the_basic_rate_band_is_40_percent() -> None:
    year = uk_rates().tax_year[1]
    monthly = PeriodKind(PayFrequency.MONTHLY)
    # £5,000.00 - £1,048.26 = £3,951 taxable: 20% of £3,142 + 40% of £809.
    assert paye_due(Money("5000.00"), "1257L", monthly, year) == Money("952.00")


def test_a_non_standard_tax_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not a standard tax code"):
        payslip(Decimal(10), Money("13.00"), (date(2025, 4, 7), date(2025, 4, 13)), "BR")
