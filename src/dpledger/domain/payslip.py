"""A PA's payslip, gross to net, for the simple cases: hourly pay, one job, a standard tax code
(``1257L``, England and Northern Ireland), paid weekly, fortnightly, 4-weekly or monthly.

The figures follow HMRC's and the Pensions Regulator's methods, from the rates of the pay period's
tax year (:mod:`dpledger.domain.rates`):

- **Gross**: hours x hourly rate, rounded half-up to the penny.
- **PAYE**: on the week 1 / month 1 (non-cumulative) basis: the tax code's free pay for the
  period from HMRC's Table A (code 1257L: £241.92 a week, £967.68 for 4 weeks, £1,048.26 a
  month), taxable pay rounded down to whole pounds (Table B), 20% of it up to the period's share of
  the basic-rate band and 40% above. (Real PAYE is cumulative through the year; for steady pay
  the two agree.)
- **NI**: the exact percentage method: employee NI 8% between the primary threshold and the upper
  earnings limit and 2% above; employer NI above the secondary threshold (for an under-21, above
  the upper secondary threshold); each rounded to the nearest penny, a half penny down.
- **Pension**: once gross pay exceeds the auto-enrolment trigger, the scheme's employee and
  employer percentages of qualifying earnings (gross above the lower level, up to the upper
  level), each rounded half-up; the default is the legal minimum, 5% + 3% under a net pay
  arrangement.

:func:`payslip` refuses an hourly rate below the minimum wage for the PA's age band, so a payslip
it computes raises no compliance alert (:mod:`dpledger.domain.compliance`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal

from dpledger.domain.errors import ValidationError
from dpledger.domain.money import Money
from dpledger.domain.rates import (
    NationalInsurance,
    PayFrequency,
    PeriodKind,
    RatesTable,
    TaxYear,
    age_band,
    age_on,
    period_kind,
    straddles_tax_years,
    uk_rates,
)
from dpledger.domain.rules import add_months

_PENNY = Decimal(1)
_CODE = re.compile(r"^([0-9]{1,4})[LMNT]$")


@dataclass(frozen=True, slots=True)
class PensionScheme:
    """What the pension scheme takes, as fractions of qualifying earnings."""

    employee_rate: Decimal = Decimal("0.05")
    employer_rate: Decimal = Decimal("0.03")


AUTO_ENROLMENT_MINIMUM = PensionScheme()
"""The legal minimum (8% in all, at least 3% from the employer), net pay arrangement."""
NO_PENSION = PensionScheme(Decimal(0), Decimal(0))
"""A PA who opted out (or is not an eligible jobholder)."""


@dataclass(frozen=True, slots=True)
class Payslip:
    """One PA's payslip: the figures a wage run records."""

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

    def figures(self) -> dict[str, Money | Decimal]:
        """The fields of ``Ledger.record_wage_run`` this payslip fills (hours and money)."""
        return {
            "hours": self.hours,
            "gross": self.gross,
            "paye": self.paye,
            "employee_ni": self.employee_ni,
            "employer_ni": self.employer_ni,
            "employee_pension": self.employee_pension,
            "employer_pension": self.employer_pension,
            "net": self.net,
        }


# ---------------------------------------------------------------------------- the helper
def payslip(
    hours: Decimal,
    hourly_rate: Money,
    period: tuple[date, date],
    tax_code: str = "1257L",
    pension: PensionScheme = AUTO_ENROLMENT_MINIMUM,
    *,
    born: date | None = None,
    rates: RatesTable | None = None,
) -> Payslip:
    """The payslip for ``hours`` at ``hourly_rate`` for the pay ``period`` (first and last day).

    ``born`` (the PA's date of birth) sets the minimum-wage band and NI category; without it the
    PA is taken to be 21 or over. Raises :class:`ValidationError` for a rate below the minimum
    wage, a period across 5/6 April, a period outside the rates table, or a tax code that is not a
    standard ``1257L``-style code.
    """
    start, end = period
    year = tax_year_for(start, end, rates or uk_rates())
    table = rates or uk_rates()
    wage = table.minimum_wage_for(start)
    if wage is not None:
        band = age_band(born, start)
        floor = wage.rate(band)
        if hourly_rate < floor:
            raise ValidationError(
                f"{hourly_rate} an hour is below the National Living Wage / minimum wage "
                f"{floor} ({band.value.replace('_', ' ')}) from {wage.from_}",
                field="hourly_rate",
                fix=f"pay at least {floor} an hour",
            )
    kind = period_kind(start, end)
    gross = Money(int((hours * hourly_rate.pence).quantize(_PENNY, rounding=ROUND_HALF_UP)))
    paye = paye_due(gross, tax_code, kind, year)
    employee_ni, employer_ni = ni_due(gross, kind, year.national_insurance, born=born, on=end)
    employee_pension, employer_pension = pension_due(gross, kind, year, pension)
    net = gross - paye - employee_ni - employee_pension
    return Payslip(
        hours, gross, paye, employee_ni, employer_ni, employee_pension, employer_pension, net
    )


def tax_year_for(start: date, end: date, rates: RatesTable) -> TaxYear:
    """The tax year of a pay period; raises :class:`ValidationError` if it crosses 5/6 April or
    the table has no rates for it."""
    if end < start:
        raise ValidationError(
            f"the period ends on {end}, before it starts on {start}",
            field="period",
            fix="give the first and last day of the pay period",
        )
    if straddles_tax_years(start, end):
        raise ValidationError(
            f"the pay period {start} to {end} crosses 5/6 April, into another tax year",
            field="period",
            fix="split it into two runs: one ending on 5 April, one starting on 6 April",
        )
    year = rates.year_of(start)
    if year is None:
        raise ValidationError(
            f"the rates table has no rates for {start} (it covers {rates.first_day} to "
            f"{rates.last_day})",
            field="period",
            fix="add the tax year to dpledger/domain/data/uk_rates.toml",
        )
    return year


# ---------------------------------------------------------------------------- PAYE
def free_pay(tax_code: str, kind: PeriodKind) -> Money:
    """The tax code's free pay for one period, from HMRC's Table A (week 1 / month 1 basis).

    A code's number n allows n x £10 + £9 a year; the tables round each week's or month's share
    up to the penny, in blocks of 500: code 1257 is 2 x the 500 block (£96.16 a week, £416.67 a
    month) plus code 257 (£49.60 a week, £214.92 a month).
    """
    found = _CODE.match(tax_code.strip().upper())
    if found is None:
        raise ValidationError(
            f"{tax_code!r} is not a standard tax code",
            field="tax_code",
            fix="give a code such as 1257L (BR, D0, K, S and C codes are not covered)",
        )
    number = int(found.group(1))
    if number == 0:
        return Money(0)
    blocks, rest = (number - 1) // 500, number - 500 * ((number - 1) // 500)
    per_year = (rest * 10 + 9) * 100  # pence
    if kind.frequency is PayFrequency.MONTHLY:
        block, divisor, times = 41667, 12, 1
    else:
        block, divisor, times = 9616, 52, (kind.frequency.weeks or 1) * kind.multiple
    one = -(-per_year // divisor) + blocks * block  # rounded up to the penny
    return Money(one * times)


def paye_due(gross: Money, tax_code: str, kind: PeriodKind, year: TaxYear) -> Money:
    """PAYE for one period: taxable pay (gross minus free pay, in whole pounds, Table B) at the
    basic rate up to the period's share of the band (rounded up to the pound), higher above."""
    taxable_pounds = max(gross.pence - free_pay(tax_code, kind).pence, 0) // 100
    paye = year.paye
    if kind.frequency is PayFrequency.MONTHLY:
        share = paye.basic_rate_band / 12
    else:
        share = paye.basic_rate_band * (kind.frequency.weeks or 1) * kind.multiple / 52
    band = int(share.to_integral_value(rounding="ROUND_CEILING"))
    basic = Decimal(min(taxable_pounds, band) * 100) * paye.basic_rate
    higher = Decimal(max(taxable_pounds - band, 0) * 100) * paye.higher_rate
    return Money(int((basic + higher).quantize(_PENNY, rounding=ROUND_DOWN)))


# ---------------------------------------------------------------------------- NI
def ni_due(
    gross: Money, kind: PeriodKind, ni: NationalInsurance, *, born: date | None, on: date
) -> tuple[Money, Money]:
    """Employee and employer class 1 NI on ``gross`` for one period (exact percentage method).

    ``on`` is the pay day (or the period's last day): an under-21 then pays employer NI only above
    the upper secondary threshold (category M); someone over State Pension age pays no employee NI
    (category C). Without a date of birth, category A.
    """
    limits = ni.thresholds(kind.frequency)
    times = Decimal(kind.multiple)
    pt = limits.primary_threshold * 100 * times
    uel = limits.upper_earnings_limit * 100 * times
    employer_from = (
        (
            limits.upper_secondary_threshold
            if born is not None and age_on(born, on) < 21
            else limits.secondary_threshold
        )
        * 100
        * times
    )
    pence = Decimal(gross.pence)
    employee = Decimal(0)
    if born is None or not over_state_pension_age(born, on):
        employee = ni.employee_rate * max(min(pence, uel) - pt, Decimal(0))
        employee += ni.employee_rate_above_upper_limit * max(pence - uel, Decimal(0))
    employer = ni.employer_rate * max(pence - employer_from, Decimal(0))
    return _half_down(employee), _half_down(employer)


def over_state_pension_age(born: date, on: date) -> bool:
    """Whether someone born on ``born`` has reached State Pension age by ``on``: 66, rising a
    month at a time to 67 for those born from 6 April 1960 to 5 March 1961 (Pensions Act 2014)."""
    if born < date(1960, 4, 6):
        months = 66 * 12
    elif born >= date(1961, 3, 6):
        months = 67 * 12
    else:
        moved = born - timedelta(days=5)  # the phasing runs from the 6th to the 5th
        months = 66 * 12 + (moved.year - 1960) * 12 + moved.month - 4 + 1
    return add_months(born, months) <= on


def _half_down(value: Decimal) -> Money:
    return Money(int(value.quantize(_PENNY, rounding=ROUND_HALF_DOWN)))


# ---------------------------------------------------------------------------- pension
def qualifying_earnings(gross: Money, kind: PeriodKind, year: TaxYear) -> Money:
    """Gross pay above the lower level of qualifying earnings, up to the upper level."""
    limits = year.auto_enrolment.thresholds(kind.frequency)
    lower = int(limits.lower * 100) * kind.multiple
    upper = int(limits.upper * 100) * kind.multiple
    return Money(max(min(gross.pence, upper) - lower, 0))


def above_trigger(gross: Money, kind: PeriodKind, year: TaxYear) -> bool:
    """Whether gross pay exceeds the auto-enrolment earnings trigger for the period."""
    limits = year.auto_enrolment.thresholds(kind.frequency)
    return gross.pence > int(limits.trigger * 100) * kind.multiple


def pension_due(
    gross: Money, kind: PeriodKind, year: TaxYear, scheme: PensionScheme
) -> tuple[Money, Money]:
    """Employee and employer contributions: the scheme's rates of qualifying earnings once gross
    pay exceeds the trigger, else none."""
    if not above_trigger(gross, kind, year):
        return Money(0), Money(0)
    base = Decimal(qualifying_earnings(gross, kind, year).pence)
    return (
        Money(int((base * scheme.employee_rate).quantize(_PENNY, rounding=ROUND_HALF_UP))),
        Money(int((base * scheme.employer_rate).quantize(_PENNY, rounding=ROUND_HALF_UP))),
    )
