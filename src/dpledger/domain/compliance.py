"""Payroll compliance: each wage run checked against the UK rates in force for its pay period.

A wage run that breaks a rule is still recorded (the payslip was issued; the caller decides what
to do), and an alert holds until the run is corrected. Each alert names the PA, the period, what
was paid, what was due and the shortfall. The checks, each an alert rule:

- ``below_minimum_wage``: gross pay is below hours x the minimum wage for the PA's age band (the
  rates in force from the last 1 April on or before the period's first day; without a date of
  birth, the 21-and-over National Living Wage, and the alert says so). Due is rounded down to the
  penny; a penny short is a breach.
- ``ni_differs``: employee or employer class 1 NI differs from the exact percentage method by more
  than the NI on £1 of pay (HMRC's tables method works in whole pounds, so may differ by that).
- ``pension_short``: gross pay exceeds the auto-enrolment trigger, the PA is an eligible jobholder
  (22 to State Pension age; assumed without a date of birth) and the employer's contribution is
  below 3% of qualifying earnings, or the total below 8% (the employee's deduction counted with
  basic-rate relief at source added, as NEST and most master trusts claim it).
- ``pay_periods_overlap``: two runs of one PA share days.
- ``pay_inconsistent``: gross is not hours x the PA's hourly rate in force (within a penny).

Runs whose tax year is outside the rates table (:func:`dpledger.domain.rates.uk_rates`) are not
checked against rates; the overlap check holds for every run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from dpledger.domain.alerts import Alert
from dpledger.domain.money import Money
from dpledger.domain.payslip import (
    above_trigger,
    ni_due,
    over_state_pension_age,
    qualifying_earnings,
)
from dpledger.domain.rates import (
    AgeBand,
    RatesTable,
    TaxYear,
    age_band,
    age_on,
    period_kind,
    straddles_tax_years,
    uk_rates,
)
from dpledger.domain.records import WageRun

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

COMPLIANCE_RULES = (
    "below_minimum_wage",
    "ni_differs",
    "pension_short",
    "pay_periods_overlap",
    "pay_inconsistent",
)
"""The compliance alert rules, in the order reports list them."""

_BANDS = {
    AgeBand.AGE_21_AND_OVER: "National Living Wage (21 and over)",
    AgeBand.AGE_18_TO_20: "minimum wage for 18 to 20 year olds",
    AgeBand.UNDER_18: "minimum wage for under-18s",
    AgeBand.APPRENTICE: "apprentice minimum wage",
}


def compliance_alerts(account: ManagedAccount, rates: RatesTable | None = None) -> list[Alert]:
    """Every compliance alert holding for the wage runs of the recent window."""
    table = rates or uk_rates()
    payroll = account.payroll
    found: list[Alert] = []
    runs = sorted(payroll.wage_runs.values(), key=lambda r: (r.pa_id, r.period_start, r.key))
    for run in runs:
        born = payroll.date_of_birth(run.pa_id)
        rate = payroll.rate_for(run.pa_id, run.period_start)
        if rates is None:
            found.extend(_uk_rate_checks(run, born, rate))
        else:
            found.extend(_rate_checks(run, born, rate, table))
    found.extend(_overlaps(runs))
    return found


@lru_cache(maxsize=8192)
def _uk_rate_checks(run: WageRun, born: date | None, rate: Money | None) -> tuple[Alert, ...]:
    # A run's checks depend on nothing else, and the oversight projection asks for every run of
    # the window after each event: remembered, they cost a lookup instead of a payslip.
    return tuple(_rate_checks(run, born, rate, uk_rates()))


def _rate_checks(
    run: WageRun, born: date | None, rate: Money | None, table: RatesTable
) -> list[Alert]:
    found = []
    if rate is not None:
        found.extend(_inconsistent(run, rate))
    year = table.year_of(run.period_start)
    if year is None or straddles_tax_years(run.period_start, run.period_end):
        return found
    found.extend(_minimum_wage(run, born, table))
    found.extend(_ni(run, born, year))
    found.extend(_pension(run, born, year))
    return found


def _who(run: WageRun) -> str:
    return f"{run.pa_id}'s wages for {run.period_start} to {run.period_end}"


# ---------------------------------------------------------------------------- the checks
def _minimum_wage(run: WageRun, born: date | None, table: RatesTable) -> list[Alert]:
    wage = table.minimum_wage_for(run.period_start)
    if wage is None or run.hours <= 0:
        return []
    band = age_band(born, run.period_start)
    floor = wage.rate(band)
    due = int((run.hours * floor.pence).quantize(Decimal(1), rounding=ROUND_DOWN))
    if run.gross.pence >= due:
        return []
    hourly = (Decimal(run.gross.pence) / run.hours / 100).quantize(Decimal("0.01"), ROUND_DOWN)
    assumed = (
        f" No date of birth is recorded for {run.pa_id}, so the 21-and-over rate is assumed; "
        "record it (update_personal_assistant) if they are younger."
        if born is None
        else ""
    )
    return [
        Alert(
            "below_minimum_wage",
            run.key,
            {
                "pa_id": run.pa_id,
                "period_start": run.period_start.isoformat(),
                "period_end": run.period_end.isoformat(),
                "hours": str(run.hours),
                "paid": run.gross.pence,
                "paid_hourly": str(hourly),
                "minimum_hourly": floor.pence,
                "age_band": band.value,
                "date_of_birth_known": born is not None,
                "due": due,
                "shortfall": due - run.gross.pence,
            },
            f"{_who(run)} are {run.gross} for {run.hours} hours (£{hourly} an hour), below the "
            f"{_BANDS[band]} of {floor} an hour in force from {wage.from_}: {Money(due)} was due, "
            f"a shortfall of {Money(due - run.gross.pence)}. Pay the PA the arrears and correct "
            f"the wage run.{assumed}",
        )
    ]


def _ni(run: WageRun, born: date | None, year: TaxYear) -> list[Alert]:
    ni = year.national_insurance
    employee_due, employer_due = ni_due(
        run.gross, period_kind(run.period_start, run.period_end), ni, born=born, on=run.period_end
    )
    problems = []
    for label, recorded, due, rate in (
        ("employee", run.employee_ni, employee_due, ni.employee_rate),
        ("employer", run.employer_ni, employer_due, ni.employer_rate),
    ):
        # HMRC's tables method works in whole pounds of pay: it may differ by the NI on £1.
        tolerance = int((rate * 100).to_integral_value(rounding="ROUND_CEILING"))
        if abs(recorded.pence - due.pence) > tolerance:
            problems.append((label, recorded, due))
    if not problems:
        return []
    figures: dict[str, object] = {
        "pa_id": run.pa_id,
        "period_start": run.period_start.isoformat(),
        "period_end": run.period_end.isoformat(),
        "gross": run.gross.pence,
        "tax_year": year.name,
    }
    parts = []
    for label, recorded, due in problems:
        figures[f"{label}_ni_paid"] = recorded.pence
        figures[f"{label}_ni_due"] = due.pence
        figures[f"{label}_ni_shortfall"] = due.pence - recorded.pence
        gap = due - recorded
        side = f"{gap} short" if gap.is_positive() else f"{Money(-gap.pence)} too much"
        parts.append(f"{label} NI is {recorded} but {due} is due ({side})")
    assumed = "" if born is not None else " (no date of birth recorded: category A assumed)"
    return [
        Alert(
            "ni_differs",
            run.key,
            figures,
            f"On {_who(run)} (gross {run.gross}, {year.name} rates{assumed}), "
            + "; ".join(parts)
            + ". Correct the wage run, and the next payment to HMRC.",
        )
    ]


def _pension(run: WageRun, born: date | None, year: TaxYear) -> list[Alert]:
    kind = period_kind(run.period_start, run.period_end)
    if not above_trigger(run.gross, kind, year):
        return []
    if born is not None and (
        age_on(born, run.period_end) < 22 or over_state_pension_age(born, run.period_end)
    ):
        return []  # not an eligible jobholder: may opt in, is not enrolled automatically
    ae = year.auto_enrolment
    base = Decimal(qualifying_earnings(run.gross, kind, year).pence)
    employer_min = int((base * ae.employer_minimum).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    total_min = int((base * ae.total_minimum).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    relief = year.paye.basic_rate
    # Under relief at source the deduction is net of basic-rate tax, which the scheme claims.
    employee_gross = Decimal(run.employee_pension.pence) / (1 - relief)
    total = Decimal(run.employer_pension.pence) + employee_gross
    employer_short = employer_min - run.employer_pension.pence > 1
    total_short = total_min - total > 1
    if not (employer_short or total_short):
        return []
    total_paid = run.employer_pension.pence + run.employee_pension.pence
    shortfall = max(employer_min - run.employer_pension.pence, 0, total_min - total_paid)
    return [
        Alert(
            "pension_short",
            run.key,
            {
                "pa_id": run.pa_id,
                "period_start": run.period_start.isoformat(),
                "period_end": run.period_end.isoformat(),
                "gross": run.gross.pence,
                "qualifying_earnings": int(base),
                "employer_paid": run.employer_pension.pence,
                "employer_due": employer_min,
                "employee_paid": run.employee_pension.pence,
                "total_paid": total_paid,
                "total_due": total_min,
                "shortfall": shortfall,
            },
            f"{_who(run)} (gross {run.gross}) are above the auto-enrolment trigger, but the "
            f"pension contributions are {Money(run.employer_pension.pence)} from the employer "
            f"and {run.employee_pension} from the PA: at least {Money(employer_min)} from the "
            f"employer and {Money(total_min)} in all are due on qualifying earnings of "
            f"{Money(int(base))}, a shortfall of up to {Money(shortfall)}. Enrol the PA and pay "
            "the contributions, or keep the PA's opt-out notice on file.",
        )
    ]


def _inconsistent(run: WageRun, rate: Money) -> list[Alert]:
    expected = run.hours * rate.pence
    if abs(expected - run.gross.pence) <= 1:
        return []
    expected_pence = int(expected.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    difference = Money(run.gross.pence - expected_pence)
    return [
        Alert(
            "pay_inconsistent",
            run.key,
            {
                "pa_id": run.pa_id,
                "period_start": run.period_start.isoformat(),
                "period_end": run.period_end.isoformat(),
                "hours": str(run.hours),
                "hourly_rate": rate.pence,
                "paid": run.gross.pence,
                "expected": expected_pence,
                "difference": run.gross.pence - expected_pence,
            },
            f"{_who(run)}: gross {run.gross} is not {run.hours} hours x {rate} an hour "
            f"({Money(expected_pence)}), a difference of {difference}. "
            "Check the timesheet and payslip; if the PA's rate changed, record the new rate "
            "(update_personal_assistant).",
        )
    ]


def _overlaps(runs: list[WageRun]) -> list[Alert]:
    by_pa: dict[str, list[WageRun]] = defaultdict(list)
    for run in runs:
        by_pa[run.pa_id].append(run)
    found = []
    for pa_id, own in by_pa.items():
        for index, first in enumerate(own):
            for later in own[index + 1 :]:
                if later.period_start > first.period_end:
                    continue
                shared = (min(first.period_end, later.period_end) - later.period_start).days + 1
                found.append(
                    Alert(
                        "pay_periods_overlap",
                        f"{later.key}|{first.key}",
                        {
                            "pa_id": pa_id,
                            "first": [first.period_start.isoformat(), first.period_end.isoformat()],
                            "second": [
                                later.period_start.isoformat(),
                                later.period_end.isoformat(),
                            ],
                            "days": shared,
                            "first_gross": first.gross.pence,
                            "second_gross": later.gross.pence,
                        },
                        f"{pa_id} has two wage runs for {shared} of the same days: "
                        f"{first.period_start} to {first.period_end} ({first.gross}) and "
                        f"{later.period_start} to {later.period_end} ({later.gross}). The days "
                        "may have been paid twice: correct one of the runs.",
                    )
                )
    return found
