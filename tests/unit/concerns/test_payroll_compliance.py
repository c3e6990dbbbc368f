"""Payroll compliance: each wage run against the UK rates of its pay period.

Every check has a test here that proves it (a breach raises its alert with the figures, a
compliant run raises none), and the payslip helper is property-tested against all of them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from concern_harness import FUNDED, Given, alerts_of, cmd, given, opening
from hypothesis import given as for_all
from hypothesis import strategies as st

from dpledger.domain.alerts import Alert
from dpledger.domain.commands import Command
from dpledger.domain.compliance import COMPLIANCE_RULES
from dpledger.domain.errors import ValidationError
from dpledger.domain.money import Money
from dpledger.domain.payroll import (
    HmrcDue,
    PayHmrc,
    PersonalAssistantUpdated,
    RecordWageRun,
    RegisterPersonalAssistant,
    UpdatePersonalAssistant,
    WageRunRecorded,
    hmrc_due,
)
from dpledger.domain.payslip import NO_PENSION, Payslip, payslip
from dpledger.domain.rates import AgeBand, uk_rates

WEEK = (date(2026, 4, 6), date(2026, 4, 12))


def pa(rate: str = "12.71", pa_id: str = "PA-1") -> Command:
    return cmd(RegisterPersonalAssistant, pa_id=pa_id, hourly_rate=rate)


def run(slip: Payslip, period: tuple[date, date] = WEEK, **change: Any) -> Command:
    """The wage run of ``slip`` for ``period``, with figures changed (net kept balanced)."""
    pa_id = change.pop("pa_id", "PA-1")
    figures: dict[str, Any] = {**slip.figures(), **change}
    if "net" not in change:
        figures["net"] = (
            _money(figures["gross"])
            - _money(figures["paye"])
            - _money(figures["employee_ni"])
            - _money(figures["employee_pension"])
        )
    start, end = period
    return cmd(
        RecordWageRun,
        pa_id=pa_id,
        period_start=start,
        period_end=end,
        effective_date=end + timedelta(days=5),
        **figures,
    )


def _money(value: Money | str) -> Money:
    return value if isinstance(value, Money) else Money(value)


def rules(alerts: list[Alert]) -> list[str]:
    return sorted(a.rule for a in alerts if a.rule in COMPLIANCE_RULES)


def only(alerts: list[Alert], rule: str) -> Alert:
    (found,) = [a for a in alerts if a.rule == rule]
    return found


def slip(hours: str = "30", rate: str = "12.71", period: tuple[date, date] = WEEK) -> Payslip:
    return payslip(Decimal(hours), Money(rate), period)


def test_a_payslip_of_the_helper_raises_no_alert() -> None:
    outcome = given(*FUNDED, pa()).when(run(slip()))
    outcome.then(WageRunRecorded)
    assert rules(outcome.alerts) == []


# ---------------------------------------------------------------------------- minimum wage
def test_pay_below_the_national_living_wage_raises_an_alert_with_the_figures() -> None:
    """The issue's case: £10.00 an hour, below £12.71 (2026/27), recorded with an alert."""
    scenario = given(*FUNDED, pa("10.00"))
    ten = payslip(Decimal(30), Money("12.71"), WEEK)
    outcome = scenario.when(run(ten, gross=Money("300.00"), employee_ni=Money("4.64")))
    outcome.then(WageRunRecorded)  # recorded all the same: the caller decides
    alert = only(outcome.alerts, "below_minimum_wage")
    assert alert.subject == "PA-1/2026-04-06/2026-04-12"
    assert alert.figures["paid"] == 30000
    assert alert.figures["minimum_hourly"] == 1271
    assert alert.figures["due"] == 38130
    assert alert.figures["shortfall"] == 8130
    assert alert.figures["paid_hourly"] == "10.00"
    assert alert.figures["date_of_birth_known"] is False
    assert "£300.00 for 30 hours (£10.00 an hour)" in alert.message
    assert "National Living Wage (21 and over) of £12.71 an hour" in alert.message
    assert "a shortfall of £81.30" in alert.message
    assert "21-and-over rate is assumed" in alert.message


def test_a_younger_pa_is_checked_against_their_age_band() -> None:
    born = date(2006, 1, 1)  # 20 in April 2026: £10.85 an hour
    scenario = given(*FUNDED, pa("11.00"))
    scenario.when(cmd(UpdatePersonalAssistant, pa_id="PA-1", date_of_birth=born)).then(
        PersonalAssistantUpdated
    )
    eleven = payslip(Decimal(30), Money("11.00"), WEEK, born=born)
    outcome = scenario.when(run(eleven))
    assert rules(outcome.alerts) == []
    below = payslip(Decimal(30), Money("11.00"), (date(2026, 4, 13), date(2026, 4, 19)), born=born)
    outcome = scenario.when(
        run(below, (date(2026, 4, 13), date(2026, 4, 19)), gross=Money("300.00"), hours="30")
    )
    alert = only(outcome.alerts, "below_minimum_wage")
    assert alert.figures["age_band"] == AgeBand.AGE_18_TO_20.value
    assert alert.figures["due"] == 32550  # 30 x £10.85
    assert "minimum wage for 18 to 20 year olds of £10.85" in alert.message


def test_the_new_rate_applies_from_the_first_period_starting_on_or_after_1_april() -> None:
    scenario = given(opening(effective_date="2026-03-01"), pa("12.50"))
    march = (date(2026, 3, 26), date(2026, 3, 31))  # starts before 1 April: £12.21
    april = (date(2026, 4, 1), date(2026, 4, 5))  # starts on 1 April: £12.71, though 2025/26 tax
    figures = {"hours": "10", "gross": Money("125.00"), "net": Money("125.00")}
    zero = {f: Money(0) for f in ("paye", "employee_ni", "employee_pension", "employer_pension")}
    first = scenario.when(
        cmd(
            RecordWageRun,
            pa_id="PA-1",
            period_start=march[0],
            period_end=march[1],
            employer_ni=Money("4.35"),  # 15% of (£125 - £96): 6 days, one week's threshold
            **figures,
            **zero,
        )
    )
    assert "below_minimum_wage" not in rules(first.alerts)
    second = scenario.when(
        cmd(
            RecordWageRun,
            pa_id="PA-1",
            period_start=april[0],
            period_end=april[1],
            employer_ni=Money("4.35"),
            **figures,
            **zero,
        )
    )
    alert = only(second.alerts, "below_minimum_wage")
    assert (alert.figures["minimum_hourly"], alert.figures["shortfall"]) == (1271, 210)


# ---------------------------------------------------------------------------- NI
def test_employer_ni_of_nothing_on_1008_pounds_raises_an_alert() -> None:
    """The issue's case: £1,008 for 4 weeks owes 15% of (£1,008 - £384) = £93.60 employer NI
    (2025/26, when £12.60 an hour was above the £12.21 National Living Wage)."""
    scenario = given(opening(effective_date="2025-04-01"), pa("12.60"))
    period = (date(2025, 4, 7), date(2025, 5, 4))
    good = payslip(Decimal(80), Money("12.60"), period)
    assert (good.gross, good.employer_ni, good.paye) == (
        Money("1008.00"),
        Money("93.60"),
        Money("8.00"),
    )
    outcome = scenario.when(run(good, period, employer_ni=Money(0)))
    alert = only(outcome.alerts, "ni_differs")
    assert alert.figures["employer_ni_paid"] == 0
    assert alert.figures["employer_ni_due"] == 9360
    assert alert.figures["employer_ni_shortfall"] == 9360
    assert "employee_ni_due" not in alert.figures
    assert "employer NI is £0.00 but £93.60 is due (£93.60 short)" in alert.message


def test_employee_ni_deducted_wrongly_raises_an_alert() -> None:
    scenario = given(*FUNDED, pa())
    good = slip("30")  # £381.30: 8% of (£381.30 - £242) = £11.14
    outcome = scenario.when(run(good, employee_ni=good.employee_ni + Money("5.00")))
    alert = only(outcome.alerts, "ni_differs")
    assert alert.figures["employee_ni_due"] == 1114
    assert alert.figures["employee_ni_shortfall"] == -500
    assert "£5.00 too much" in alert.message


def test_ni_within_the_tables_method_tolerance_raises_no_alert() -> None:
    scenario = given(*FUNDED, pa())
    good = slip("30")
    outcome = scenario.when(
        run(good, employee_ni=good.employee_ni + Money(8), employer_ni=good.employer_ni - Money(15))
    )
    assert rules(outcome.alerts) == []


def test_an_under_21_owes_no_employer_ni_below_the_upper_secondary_threshold() -> None:
    born = date(2007, 1, 1)
    scenario = given(*FUNDED, pa())
    scenario.when(cmd(UpdatePersonalAssistant, pa_id="PA-1", date_of_birth=born))
    young = payslip(Decimal(30), Money("12.71"), WEEK, born=born)
    assert young.employer_ni == Money(0)
    assert rules(scenario.when(run(young)).alerts) == []
    # For a PA of 21 or over (or of unknown age) the same nothing is a breach.
    other = given(*FUNDED, pa())
    assert "ni_differs" in rules(other.when(run(young)).alerts)


# ---------------------------------------------------------------------------- pension
def test_no_pension_above_the_auto_enrolment_trigger_raises_an_alert() -> None:
    scenario = given(*FUNDED, pa())
    unenrolled = payslip(Decimal(30), Money("12.71"), WEEK, pension=NO_PENSION)
    outcome = scenario.when(run(unenrolled))
    alert = only(outcome.alerts, "pension_short")
    # £381.30 above £120: qualifying earnings £261.30; 3% = £7.84, 8% = £20.90.
    assert alert.figures["qualifying_earnings"] == 26130
    assert (alert.figures["employer_due"], alert.figures["total_due"]) == (784, 2090)
    assert alert.figures["shortfall"] == 2090
    assert "opt-out notice" in alert.message


def test_relief_at_source_deductions_meet_the_minimum() -> None:
    """NEST takes 4% from pay and claims 1% from HMRC: 4% + 3% is the legal minimum."""
    scenario = given(*FUNDED, pa())
    good = slip("30")  # qualifying £261.30
    outcome = scenario.when(
        run(good, employee_pension=Money("10.45"), employer_pension=Money("7.84"))
    )
    assert "pension_short" not in rules(outcome.alerts)
    less = given(*FUNDED, pa()).when(
        run(good, employee_pension=Money("10.45"), employer_pension=Money("7.00"))
    )
    assert only(less.alerts, "pension_short").figures["employer_due"] == 784


def test_below_the_trigger_or_under_22_no_pension_is_due() -> None:
    scenario = given(*FUNDED, pa())
    small = payslip(Decimal(15), Money("12.71"), WEEK)  # £190.65, below the £192 trigger
    assert small.employer_pension == Money(0)
    assert rules(scenario.when(run(small)).alerts) == []
    young = given(*FUNDED, pa())
    young.when(cmd(UpdatePersonalAssistant, pa_id="PA-1", date_of_birth="2005-01-01"))
    unenrolled = payslip(Decimal(30), Money("12.71"), WEEK, pension=NO_PENSION)
    assert "pension_short" not in rules(young.when(run(unenrolled)).alerts)


# ---------------------------------------------------------------------------- periods, hours
def test_overlapping_periods_for_one_pa_raise_an_alert() -> None:
    scenario = given(*FUNDED, pa(), pa(pa_id="PA-2"))
    scenario.when(run(slip()))
    other = scenario.when(run(slip(), pa_id="PA-2"))
    assert "pay_periods_overlap" not in rules(other.alerts)  # another PA's period
    outcome = scenario.when(run(slip(), (date(2026, 4, 10), date(2026, 4, 16))))
    alert = only(outcome.alerts, "pay_periods_overlap")
    assert alert.figures["days"] == 3
    assert alert.figures["first"] == ["2026-04-06", "2026-04-12"]
    assert "two wage runs for 3 of the same days" in alert.message


def test_gross_that_is_not_hours_times_rate_raises_an_alert() -> None:
    """The issue's case: £5,000 for 10 hours."""
    scenario = given(*FUNDED, pa())
    big = payslip(Decimal(10), Money("500.00"), WEEK)
    outcome = scenario.when(run(big))
    alert = only(outcome.alerts, "pay_inconsistent")
    assert (alert.figures["paid"], alert.figures["expected"]) == (500000, 12710)
    assert alert.figures["difference"] == 487290
    assert "£5,000.00 is not 10 hours x £12.71 an hour" in alert.message


def test_a_new_hourly_rate_is_used_from_its_date() -> None:
    scenario = given(*FUNDED, pa())
    scenario.when(
        cmd(UpdatePersonalAssistant, pa_id="PA-1", hourly_rate="13.50", effective_date="2026-04-13")
    )
    assert scenario.account is not None
    assert scenario.account.payroll.pas["PA-1"].hourly_rate == Money("13.50")
    assert rules(scenario.when(run(slip("30"))).alerts) == []  # before it: £12.71
    later = (date(2026, 4, 13), date(2026, 4, 19))
    assert rules(scenario.when(run(slip("30", "13.50", later), later)).alerts) == []


def test_a_run_across_5_and_6_april_is_refused() -> None:
    scenario = given(opening(effective_date="2026-03-01"), pa())
    good = slip()
    outcome = scenario.when(run(good, (date(2026, 3, 31), date(2026, 4, 6))))
    error = outcome.refused(ValidationError, "crosses 5/6 April")
    assert isinstance(error, ValidationError)
    assert error.field == "period_end"
    assert "split it into two wage runs" in error.fix


def test_an_update_needs_a_rate_or_a_date_of_birth() -> None:
    with pytest.raises(ValidationError, match="neither an hourly rate nor a date of birth"):
        cmd(UpdatePersonalAssistant, pa_id="PA-1")
    with pytest.raises(ValidationError, match="date_of_birth"):
        cmd(UpdatePersonalAssistant, pa_id="PA-1", date_of_birth="1899-12-31")


# ---------------------------------------------------------------------------- properties
frequencies = st.sampled_from(
    [
        (date(2026, 4, 6), date(2026, 4, 12)),
        (date(2026, 4, 6), date(2026, 4, 19)),
        (date(2026, 4, 6), date(2026, 5, 3)),
        (date(2026, 4, 6), date(2026, 5, 5)),
    ]
)
births = st.one_of(st.none(), st.dates(min_value=date(1945, 1, 1), max_value=date(2010, 1, 1)))


@st.composite
def payslips(draw: st.DrawFn) -> tuple[Payslip, tuple[date, date], date | None, Money]:
    period = draw(frequencies)
    born = draw(births)
    wage = uk_rates().minimum_wage_for(period[0])
    assert wage is not None
    from dpledger.domain.rates import age_band

    floor = wage.rate(age_band(born, period[0]))
    rate = Money(draw(st.integers(floor.pence, 4000)))
    hours = Decimal(draw(st.integers(1, 20000))) / 100
    return payslip(hours, rate, period, born=born), period, born, rate


def _scenario(born: date | None, rate: Money) -> Given:
    scenario = given(*FUNDED, cmd(RegisterPersonalAssistant, pa_id="PA-1", hourly_rate=rate))
    if born is not None:
        scenario.after(cmd(UpdatePersonalAssistant, pa_id="PA-1", date_of_birth=born))
    return scenario


@for_all(payslips())
def test_a_payslip_the_helper_computes_never_raises_a_compliance_alert(
    case: tuple[Payslip, tuple[date, date], date | None, Money],
) -> None:
    computed, period, born, rate = case
    outcome = _scenario(born, rate).when(run(computed, period))
    outcome.then(WageRunRecorded)
    assert rules(outcome.alerts) == []


@for_all(payslips(), st.sampled_from(["gross", "employee_ni", "employer_ni", "pension"]))
def test_breaking_a_figure_of_a_payslip_raises_an_alert(
    case: tuple[Payslip, tuple[date, date], date | None, Money], broken: str
) -> None:
    computed, period, born, rate = case
    if broken == "gross":
        change = {"gross": computed.gross + Money(2)}
    elif broken in ("employee_ni", "employer_ni"):
        if broken == "employee_ni" and computed.net < Money("0.50"):
            return  # 50p more deducted would take the net pay below zero: not a payslip
        change = {broken: getattr(computed, broken) + Money("0.50")}
    else:
        if computed.employer_pension.pence <= 1 or born is not None:
            return  # no pension due (or the PA may not be an eligible jobholder)
        change = {"employer_pension": Money(0)}
    outcome = _scenario(born, rate).when(run(computed, period, **change))
    outcome.then(WageRunRecorded)
    assert rules(outcome.alerts), f"breaking {broken} raised no alert"


# ---------------------------------------------------------------------------- HMRC due dates
def test_hmrc_due_lists_what_is_owed_by_due_date() -> None:
    scenario = given(*FUNDED, pa())
    first = slip("30")  # paid 2026-04-17: tax month 6 Apr-5 May, due 22 May
    second_period = (date(2026, 4, 27), date(2026, 5, 3))  # paid 8 May: due 22 June
    second = slip("30", period=second_period)
    scenario.after(run(first), run(second, second_period))
    assert scenario.account is not None
    each = first.hmrc.pence
    assert hmrc_due(scenario.account) == [
        HmrcDue(date(2026, 5, 22), date(2026, 4, 6), date(2026, 5, 5), Money(each)),
        HmrcDue(date(2026, 6, 22), date(2026, 5, 6), date(2026, 6, 5), Money(each)),
    ]
    quarterly = hmrc_due(scenario.account, quarterly=True)
    assert quarterly == [
        HmrcDue(date(2026, 7, 22), date(2026, 4, 6), date(2026, 7, 5), Money(2 * each))
    ]
    # A payment settles the oldest first.
    scenario.after(cmd(PayHmrc, amount=Money(each), effective_date="2026-05-20"))
    assert [(d.due_on, d.amount) for d in hmrc_due(scenario.account)] == [
        (date(2026, 6, 22), Money(each))
    ]
    assert rules(alerts_of(scenario.account)) == []
