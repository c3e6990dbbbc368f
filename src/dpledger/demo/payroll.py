"""The demo's personal-assistant payroll: 2025/26 payslip figures and when HMRC and the pension
provider are paid.

The ledger only records what a payslip says; this module is the demo's stand-in for a payroll
bureau: :func:`dpledger.domain.payslip.payslip` with the 2025/26 rates of
``dpledger/domain/data/uk_rates.toml`` (:func:`dpledger.domain.rates.uk_rates`), exact to the penny.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dpledger import Money
from dpledger.domain.payroll import hmrc_due_date as hmrc_due_date  # the demo's name for it
from dpledger.domain.payslip import Payslip as Payslip  # the demo exports it
from dpledger.domain.payslip import payslip
from dpledger.domain.rates import AgeBand, PayFrequency, uk_rates

# ----------------------------------------------------------------------------- payslips
# 2025/26 figures for a 4-weekly pay period (13 a year), read from the rates table.
_YEAR = uk_rates().year_of(date(2025, 4, 7))
assert _YEAR is not None, "the rates table has 2025/26"
_NI = _YEAR.national_insurance
_NI_4W = _NI.thresholds(PayFrequency.FOUR_WEEKLY)
_AE_4W = _YEAR.auto_enrolment.thresholds(PayFrequency.FOUR_WEEKLY)
DEMO_PERIOD = (date(2025, 4, 7), date(2025, 5, 4))
"""A 4-week pay period of 2025/26 (every demo run is 4-weekly within that tax year)."""

NATIONAL_LIVING_WAGE = _YEAR.minimum_wage.rate(AgeBand.AGE_21_AND_OVER)
"""National Living Wage (21+), 2025/26."""
EMPLOYER_NI_RATE = _NI.employer_rate
EMPLOYER_NI_THRESHOLD = Money(_NI_4W.secondary_threshold)
"""The secondary threshold, £96 a week, for 4 weeks."""
EMPLOYEE_NI_RATE = _NI.employee_rate
EMPLOYEE_NI_THRESHOLD = Money(_NI_4W.primary_threshold)
"""The primary threshold, £242 a week, for 4 weeks."""
PERSONAL_ALLOWANCE_PENCE = int(_YEAR.paye.personal_allowance * 100)
"""Tax code 1257L; free pay per period from HMRC's Table A (£967.68 for 4 weeks)."""
BASIC_RATE = _YEAR.paye.basic_rate
PENSION_TRIGGER = Money(_AE_4W.trigger)
"""Auto-enrolment earnings trigger (£10,000 a year) for a 4-weekly pay reference period."""
PENSION_LOWER = Money(_AE_4W.lower)
PENSION_UPPER = Money(_AE_4W.upper)
"""Qualifying earnings band (£6,240-£50,270 a year) for a 4-weekly pay reference period."""
EMPLOYEE_PENSION_RATE = Decimal("0.05")
EMPLOYER_PENSION_RATE = _YEAR.auto_enrolment.employer_minimum
PAYROLL_FEE = Money("45.00")
"""The payroll bureau's fee per run (category support_fees)."""


def four_weekly_payslip(
    hours: Decimal, rate: Money, period: tuple[date, date] = DEMO_PERIOD
) -> Payslip:
    """The payslip for ``hours`` worked in a 4-week ``period`` at ``rate`` an hour (2025/26).

    See :func:`dpledger.domain.payslip.payslip`: gross is hours x rate rounded half-up; NI the
    exact percentage method; PAYE from HMRC's tables for code 1257L (week 1 basis); pension 5%
    (employee) and 3% (employer) of qualifying earnings above the trigger. Refuses a rate below
    the National Living Wage (a ``ValueError``).
    """
    return payslip(hours, rate, period)


# ----------------------------------------------------------------------------- due dates
def next_month_22nd(day: date) -> date:
    """The 22nd of the month after ``day`` (when the pension provider is paid)."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 22)
