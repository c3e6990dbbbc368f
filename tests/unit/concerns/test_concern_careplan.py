"""The care plan: hours a week changing over time, and the ``care_plan_exceeded`` alert."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from concern_harness import FUNDED, alerts_of, cmd, given

from dpledger.domain.careplan import AgreeCarePlan, CarePlanAgreed
from dpledger.domain.commands import Command
from dpledger.domain.errors import ValidationError
from dpledger.domain.invoices import DisputeInvoice, ReceiveInvoice, RegisterAgency
from dpledger.domain.payroll import RecordWageRun, RegisterPersonalAssistant

AGENCY = cmd(RegisterAgency, agency_id="AG-1", name="Oak Care")
PA = cmd(RegisterPersonalAssistant, pa_id="PA-1", hourly_rate="12.00")


def plan(agency: str, pa: str, day: str = "2026-04-06") -> Command:
    return cmd(
        AgreeCarePlan, agency_hours_per_week=agency, pa_hours_per_week=pa, effective_date=day
    )


def invoice(number: str, hours: str, start: str, end: str) -> Command:
    return cmd(
        ReceiveInvoice,
        agency_id="AG-1",
        invoice_number=number,
        period_start=start,
        period_end=end,
        hours=hours,
        rate="20.00",
        total=str(Decimal(hours) * 20),
    )


def plan_alerts(outcome: Any) -> list[Any]:
    """The care-plan alerts a command raised (its wage runs raise payroll compliance ones too:
    £100 for these hours is below the minimum wage)."""
    return [a for a in outcome.alerts if a.rule == "care_plan_exceeded"]


def wage_run(hours: str, start: str, end: str) -> Command:
    return cmd(
        RecordWageRun,
        pa_id="PA-1",
        period_start=start,
        period_end=end,
        hours=hours,
        gross="100.00",
        paye="0",
        employee_ni="0",
        employer_ni="0",
        employee_pension="0",
        employer_pension="0",
        net="100.00",
    )


# ---------------------------------------------------------------------------- the plan
def test_a_plan_changes_over_time() -> None:
    scenario = given(*FUNDED)
    scenario.when(plan("10", "20")).event(
        CarePlanAgreed, agency_hours_per_week=Decimal("10"), pa_hours_per_week=Decimal("20")
    )
    scenario.after(plan("14", "21", day="2026-04-20"))
    account = scenario.account
    assert account is not None
    careplan = account.careplan
    first = careplan.in_force(date(2026, 4, 19))
    assert first is not None
    assert first.agency_hours_per_week == Decimal("10")
    assert careplan.in_force(date(2026, 4, 5)) is None
    # One week at 10 and one at 14; two of 20 and 21 a week.
    assert careplan.planned_hours("agency", date(2026, 4, 13), date(2026, 4, 26)) == Decimal(24)
    assert careplan.planned_hours("pa", date(2026, 4, 13), date(2026, 4, 26)) == Decimal(41)
    assert careplan.planned_hours("agency", date(2026, 4, 1), date(2026, 4, 12)) is None
    # Agreeing again from the same day replaces that plan.
    scenario.after(plan("12", "20"))
    assert [p.agency_hours_per_week for p in careplan.plans] == [Decimal(12), Decimal(14)]


@pytest.mark.parametrize(
    ("agency", "pa", "field", "message"),
    [
        ("168.01", "0", "agency_hours_per_week", "168.01 hours a week is more than the 168"),
        ("0", "169", "pa_hours_per_week", "169 hours a week is more than the 168"),
        ("1", "1.005", "pa_hours_per_week", "with at most 2 places"),
    ],
)
def test_plan_hours_are_bounded(agency: str, pa: str, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        plan(agency, pa)
    assert caught.value.field == field
    assert message in caught.value.message
    plan("168", "168")  # round the clock, both ways, is a plan
    with pytest.raises(ValidationError) as caught:
        cmd(AgreeCarePlan, agency_hours_per_week=10.5, pa_hours_per_week="1")
    assert caught.value.field == "agency_hours_per_week"
    assert "not exact" in caught.value.message


# ---------------------------------------------------------------------------- agency hours
def test_agency_hours_above_the_plan_raise_an_alert_with_the_excess() -> None:
    scenario = given(*FUNDED, AGENCY, plan("10", "20"))
    outcome = scenario.when(invoice("INV-1", "12", "2026-04-06", "2026-04-12"))
    (alert,) = outcome.alerts
    assert (alert.rule, alert.subject) == ("care_plan_exceeded", "agency:2026-04-06..2026-04-12")
    assert alert.figures == {
        "support": "agency",
        "period_start": "2026-04-06",
        "period_end": "2026-04-12",
        "planned_hours": "10.00",
        "billed_hours": "12.00",
        "excess_hours": "2.00",
    }
    assert alert.message == (
        "Agency support for 2026-04-06 to 2026-04-12 comes to 12.00 hours, 2.00 hours more than "
        "the care plan's 10.00 for that period. Check the hours with the agency, or ask the "
        "council to review the plan."
    )


def test_agency_hours_within_the_plan_raise_nothing() -> None:
    scenario = given(*FUNDED, AGENCY, plan("10", "20"))
    assert scenario.when(invoice("INV-1", "10", "2026-04-06", "2026-04-12")).alerts == []


def test_the_plan_in_force_on_each_day_of_the_period_counts() -> None:
    scenario = given(*FUNDED, AGENCY, plan("7", "0"), plan("14", "0", day="2026-04-13"))
    # Two weeks: 7 hours planned, then 14: 21 in all.
    assert scenario.when(invoice("INV-1", "21", "2026-04-06", "2026-04-19")).alerts == []
    (alert,) = scenario.when(invoice("INV-2", "22", "2026-04-20", "2026-04-26")).alerts
    assert alert.figures["planned_hours"] == "14.00"
    assert alert.figures["excess_hours"] == "8.00"


def test_overlapping_invoices_are_pro_rated_into_each_period() -> None:
    scenario = given(*FUNDED, AGENCY, plan("7", "0"))
    # 7 hours over week 1, then 14 hours over two weeks from its Thursday: the second
    # invoice's days that fall in week 1 (4 of 14) bring 4 hours into it.
    scenario.after(invoice("INV-1", "7", "2026-04-06", "2026-04-12"))
    outcome = scenario.when(invoice("INV-2", "14", "2026-04-09", "2026-04-22"))
    found = {a.subject: a.figures for a in outcome.alerts}
    assert found["agency:2026-04-06..2026-04-12"]["billed_hours"] == "11.00"
    assert found["agency:2026-04-06..2026-04-12"]["excess_hours"] == "4.00"
    # Over INV-2's own fortnight: its 14 hours, and INV-1's 4 of 7 days.
    assert found["agency:2026-04-09..2026-04-22"]["billed_hours"] == "18.00"
    assert found["agency:2026-04-09..2026-04-22"]["excess_hours"] == "4.00"


def test_a_bigger_plan_or_a_dispute_clears_the_alert() -> None:
    scenario = given(*FUNDED, AGENCY, plan("10", "0"))
    scenario.after(invoice("INV-1", "12", "2026-04-06", "2026-04-12"))
    assert [a.rule for a in alerts_of(scenario.account)] == ["care_plan_exceeded"]
    scenario.after(plan("12", "0"))
    assert alerts_of(scenario.account) == []
    scenario.after(plan("10", "0"))
    assert len(alerts_of(scenario.account)) == 1
    scenario.after(
        cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-1", reason="hours wrong")
    )
    assert alerts_of(scenario.account) == []


def test_without_a_plan_for_the_whole_period_no_alert_is_raised() -> None:
    scenario = given(*FUNDED, AGENCY)
    assert scenario.when(invoice("INV-1", "100", "2026-04-06", "2026-04-12")).alerts == []
    scenario.after(plan("1", "1", day="2026-04-10"))
    assert alerts_of(scenario.account) == []  # the plan starts part-way through the period


# ---------------------------------------------------------------------------- PA hours
def test_pa_hours_above_the_plan_raise_an_alert_with_the_excess() -> None:
    scenario = given(*FUNDED, PA, plan("0", "37.5"))
    assert plan_alerts(scenario.when(wage_run("37.5", "2026-04-06", "2026-04-12"))) == []
    (alert,) = plan_alerts(scenario.when(wage_run("40.25", "2026-04-13", "2026-04-19")))
    assert (alert.rule, alert.subject) == ("care_plan_exceeded", "pa:2026-04-13..2026-04-19")
    assert alert.figures["support"] == "pa"
    assert (alert.figures["planned_hours"], alert.figures["billed_hours"]) == ("37.50", "40.25")
    assert alert.figures["excess_hours"] == "2.75"
    assert alert.message.startswith("PA support for 2026-04-13 to 2026-04-19 comes to 40.25")
    assert "Check the hours with the PA's timesheets" in alert.message


def test_agency_and_pa_hours_are_planned_separately() -> None:
    scenario = given(*FUNDED, AGENCY, PA, plan("10", "30"))
    # 25 PA hours are within the PA plan though above the agency one, and the other way round.
    assert plan_alerts(scenario.when(wage_run("25", "2026-04-06", "2026-04-12"))) == []
    assert scenario.when(invoice("INV-1", "10", "2026-04-06", "2026-04-12")).alerts == []
