"""The demo's personal-assistant payroll: 2025/26 payslip figures and when HMRC and the pension
provider are paid.

The ledger only records what a payslip says; this module is the demo's stand-in for a payroll
bureau, simplified but exact to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal

from dpledger import Money

# ----------------------------------------------------------------------------- payslips
# 2025/26 figures for a 4-weekly pay period (13 a year).
NATIONAL_LIVING_WAGE = Money("12.21")
"""National Living Wage (21+), 2025/26."""
EMPLOYER_NI_RATE = Decimal("0.15")
EMPLOYER_NI_THRESHOLD = Money("384.00")
"""The secondary threshold, £96 a week, for 4 weeks."""
EMPLOYEE_NI_RATE = Decimal("0.08")
EMPLOYEE_NI_THRESHOLD = Money("968.00")
"""The primary threshold, £242 a week, for 4 weeks."""
PERSONAL_ALLOWANCE_PENCE = 1_257_000
"""Tax code 1257L; spread evenly over 13 periods (real PAYE is cumulative, from HMRC's tables)."""
BASIC_RATE = Decimal("0.20")
PENSION_TRIGGER = Money("768.00")
"""Auto-enrolment earnings trigger (£10,000 a year) for a 4-weekly pay reference period."""
PENSION_LOWER = Money("480.00")
PENSION_UPPER = Money("3868.00")
"""Qualifying earnings band (£6,240-£50,270 a year) for a 4-weekly pay reference period."""
EMPLOYEE_PENSION_RATE = Decimal("0.05")
EMPLOYER_PENSION_RATE = Decimal("0.03")
PAYROLL_FEE = Money("45.00")
"""The payroll bureau's fee per run (category support_fees)."""


@dataclass(frozen=True, slots=True)
class Payslip:
    """One PA's 4-weekly payslip: the figures a wage run records."""

    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money

    @property
    def hmrc(self) -> Money:
        """What this payslip adds to the HMRC bill: PAYE and both kinds of NI."""
        return self.paye + self.employee_ni + self.employer_ni

    @property
    def pension(self) -> Money:
        """What this payslip adds to the pension provider's bill."""
        return self.employee_pension + self.employer_pension


def _percent(base: Money, rate: Decimal, rounding: str) -> Money:
    """``rate`` of ``base`` (floored at zero), rounded to the penny as ``rounding`` says."""
    pence = Decimal(max(base.pence, 0)) * rate
    return Money(int(pence.quantize(Decimal(1), rounding=rounding)))


def four_weekly_payslip(hours: Decimal, rate: Money) -> Payslip:
    """The payslip for ``hours`` worked in a 4-week period at ``rate`` an hour (2025/26).

    Gross is hours x rate rounded half-up to the penny. NI is the exact-percentage method,
    rounded to the nearest penny with a half penny rounded down (as HMRC does). PAYE is 20% of
    taxable pay rounded down to whole pounds, after an even 13th of the personal allowance.
    Pension is 5% (employee) and 3% (employer) of qualifying earnings, rounded half-up, once
    gross reaches the auto-enrolment trigger. Refuses a rate below the National Living Wage.
    """
    if rate < NATIONAL_LIVING_WAGE:
        raise ValueError(f"{rate} an hour is below the National Living Wage {NATIONAL_LIVING_WAGE}")
    gross = Money(int((hours * rate.pence).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    free_pay = PERSONAL_ALLOWANCE_PENCE * 4 // 52  # rounded down: a penny less free pay
    taxable_pounds = max(gross.pence - free_pay, 0) // 100
    paye = Money(int(Decimal(taxable_pounds * 100) * BASIC_RATE))
    employee_ni = _percent(gross - EMPLOYEE_NI_THRESHOLD, EMPLOYEE_NI_RATE, ROUND_HALF_DOWN)
    employer_ni = _percent(gross - EMPLOYER_NI_THRESHOLD, EMPLOYER_NI_RATE, ROUND_HALF_DOWN)
    if gross >= PENSION_TRIGGER:
        qualifying = min(gross, PENSION_UPPER) - PENSION_LOWER
        employee_pension = _percent(qualifying, EMPLOYEE_PENSION_RATE, ROUND_HALF_UP)
        employer_pension = _percent(qualifying, EMPLOYER_PENSION_RATE, ROUND_HALF_UP)
    else:
        employee_pension = employer_pension = Money(0)
    net = gross - paye - employee_ni - employee_pension
    return Payslip(
        hours, gross, paye, employee_ni, employer_ni, employee_pension, employer_pension, net
    )


# ----------------------------------------------------------------------------- due dates
def next_month_22nd(day: date) -> date:
    """The 22nd of the month after ``day`` (when the pension provider is paid)."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 22)


def hmrc_due_date(pay_day: date, *, quarterly: bool) -> date:
    """The 22nd after the tax month (6th to 5th) or tax quarter (ending 5 Jul, Oct, Jan, Apr)
    in which wages were paid."""
    # Tax month m runs from the 6th of calendar month m to the 5th of m+1; due the 22nd of m+1.
    month_start = pay_day if pay_day.day >= 6 else pay_day.replace(day=1) - timedelta(days=1)
    year, month = month_start.year, month_start.month
    if quarterly:
        # Tax quarters start on 6 Apr, 6 Jul, 6 Oct and 6 Jan: move to the quarter's last month.
        month += (3 - (month - 4) % 3) - 1
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year + month // 12, month % 12 + 1, 22)
