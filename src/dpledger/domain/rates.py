"""UK payroll rates by tax year, as data: ``domain/data/uk_rates.toml``, checked when loaded.

Each tax year (6 April to 5 April) holds the National Minimum and Living Wage by age band (in force
from 1 April: a pay reference period starting on or after it uses it), class 1 National
Insurance rates and thresholds per week, fortnight, 4 weeks and month, Employment Allowance,
auto-enrolment thresholds and minimum contributions, Statutory Sick Pay, the holiday accrual for
irregular hours and the PAYE bands. ``docs/payroll.md`` gives each figure's source.

A new tax year is a new table in the data file, not a code change. The file is checked by pydantic
as it loads: a missing figure, a year that does not start the day after the one before ends (a
gap or an overlap) or a rate outside 0..1 is a :class:`RatesTableError` naming the year, the
field and the fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dpledger.domain.errors import ValidationError
from dpledger.domain.money import Money

DATA_FILE = "data/uk_rates.toml"
"""The rates' data file, inside the ``dpledger.domain`` package."""


class RatesTableError(ValidationError):
    """The rates table is wrong: a figure is missing or malformed, or the tax years leave a gap or
    overlap. ``field`` names the year and the figure."""


class PayFrequency(Enum):
    """How often a PA is paid: the pay period whose thresholds apply."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"

    @property
    def periods_a_year(self) -> int:
        """Pay periods in a tax year (52, 26, 13 or 12)."""
        return {"weekly": 52, "fortnightly": 26, "four_weekly": 13, "monthly": 12}[self.value]

    @property
    def weeks(self) -> int | None:
        """Weeks in one period (``None`` for monthly)."""
        return {"weekly": 1, "fortnightly": 2, "four_weekly": 4, "monthly": None}[self.value]


# ---------------------------------------------------------------------------- the models
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f'{value} is a float; write it as text ("{value}") to keep it exact')
        return value


def _pounds(value: Decimal) -> Money:
    return Money(value.quantize(Decimal("0.01")))


class _Pounds(_Model):
    @field_validator("*", mode="after")
    @classmethod
    def _whole_pennies(cls, value: Any) -> Any:
        if isinstance(value, Decimal) and (value < 0 or value != value.quantize(Decimal("0.01"))):
            raise ValueError(f"{value} is not an amount of pounds and pence")
        return value


class _Rate(_Model):
    @field_validator("*", mode="after")
    @classmethod
    def _a_fraction(cls, value: Any) -> Any:
        if isinstance(value, Decimal) and not Decimal(0) <= value <= Decimal(1):
            raise ValueError(f"{value} is not a rate between 0 and 1 (write 8% as 0.08)")
        return value


class MinimumWage(_Pounds):
    """Hourly National Minimum Wage by age band; ``from_`` is the 1 April it took effect."""

    from_: date = Field(alias="from")
    age_21_and_over: Decimal
    """The National Living Wage (21 and over since 1 April 2024)."""
    age_18_to_20: Decimal
    under_18: Decimal
    apprentice: Decimal
    """Apprentices under 19, or in the first year of their apprenticeship."""

    def rate(self, band: AgeBand) -> Money:
        """The hourly rate of ``band``."""
        return _pounds(getattr(self, band.value))


class NiThresholds(_Pounds):
    """Class 1 thresholds for one pay period (pounds)."""

    primary_threshold: Decimal
    """Employee NI is due above it."""
    secondary_threshold: Decimal
    """Employer NI is due above it."""
    upper_earnings_limit: Decimal
    """Employee NI drops to the lower rate above it."""
    upper_secondary_threshold: Decimal
    """Employer NI for under-21s is due only above it (category M)."""


class NationalInsurance(_Model):
    """Class 1 NI rates, Employment Allowance and thresholds per pay period."""

    employee_rate: Decimal = Field(ge=0, le=1)
    employee_rate_above_upper_limit: Decimal = Field(ge=0, le=1)
    employer_rate: Decimal = Field(ge=0, le=1)
    employment_allowance: Decimal = Field(ge=0)
    weekly: NiThresholds
    fortnightly: NiThresholds
    four_weekly: NiThresholds
    monthly: NiThresholds

    def thresholds(self, frequency: PayFrequency) -> NiThresholds:
        """The thresholds of one pay period."""
        found: NiThresholds = getattr(self, frequency.value)
        return found


class AeThresholds(_Pounds):
    """Auto-enrolment thresholds for one pay reference period (pounds)."""

    trigger: Decimal
    """Earnings above it make a worker an eligible jobholder (to be enrolled)."""
    lower: Decimal
    """Qualifying earnings start above it."""
    upper: Decimal
    """Qualifying earnings stop at it."""


class AutoEnrolment(_Model):
    """Auto-enrolment minimum contributions (of qualifying earnings) and thresholds."""

    employer_minimum: Decimal = Field(ge=0, le=1)
    total_minimum: Decimal = Field(ge=0, le=1)
    weekly: AeThresholds
    fortnightly: AeThresholds
    four_weekly: AeThresholds
    monthly: AeThresholds

    def thresholds(self, frequency: PayFrequency) -> AeThresholds:
        """The thresholds of one pay reference period."""
        found: AeThresholds = getattr(self, frequency.value)
        return found


class StatutorySickPay(_Model):
    """SSP: a weekly rate, or the lower of it and a share of average weekly earnings."""

    weekly: Decimal = Field(ge=0)
    percent_of_earnings: Decimal | None = Field(default=None, ge=0, le=1)
    waiting_days: int = Field(ge=0, le=7)


class Holiday(_Rate):
    """Holiday for irregular-hours and part-year workers (leave years from 1 April 2024)."""

    irregular_hours_accrual: Decimal
    """Hours of holiday accrued per hour worked (12.07%)."""


class Paye(_Model):
    """PAYE for England and Northern Ireland (Scottish and Welsh codes are not covered)."""

    standard_code: str = Field(pattern=r"^[0-9]{1,4}L$")
    personal_allowance: Decimal = Field(ge=0)
    basic_rate: Decimal = Field(ge=0, le=1)
    basic_rate_band: Decimal = Field(ge=0)
    higher_rate: Decimal = Field(ge=0, le=1)


class TaxYear(_Model):
    """Every rate of one tax year, 6 April (``starts``) to 5 April (``ends``)."""

    name: str = Field(pattern=r"^[0-9]{4}/[0-9]{2}$")
    starts: date
    ends: date
    confirmed: bool
    """False while some figures are announced or assumed rather than in force (see the docs)."""
    minimum_wage: MinimumWage
    national_insurance: NationalInsurance
    auto_enrolment: AutoEnrolment
    statutory_sick_pay: StatutorySickPay
    holiday: Holiday
    paye: Paye

    def covers(self, day: date) -> bool:
        """Whether ``day`` lies in this tax year."""
        return self.starts <= day <= self.ends


class RatesTable(_Model):
    """The tax years, in order, each starting the day after the one before ends."""

    tax_year: tuple[TaxYear, ...] = Field(min_length=1)

    def year_of(self, day: date) -> TaxYear | None:
        """The tax year ``day`` lies in (``None`` when the table has no rates for it)."""
        return next((year for year in self.tax_year if year.covers(day)), None)

    def minimum_wage_for(self, period_start: date) -> MinimumWage | None:
        """The minimum wage for a pay reference period starting on ``period_start``: the latest
        rates in force from a 1 April on or before it."""
        found = [y.minimum_wage for y in self.tax_year if y.minimum_wage.from_ <= period_start]
        return found[-1] if found else None

    @property
    def first_day(self) -> date:
        """The first day the table has rates for."""
        return self.tax_year[0].starts

    @property
    def last_day(self) -> date:
        """The last day the table has rates for."""
        return self.tax_year[-1].ends


# ---------------------------------------------------------------------------- loading
def parse_rates(text: str, source: str = DATA_FILE) -> RatesTable:
    """The rates table of a TOML ``text`` (as :data:`DATA_FILE` holds it), checked; raises
    :class:`RatesTableError` naming the year and field, and the fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RatesTableError(
            f"{source} is not valid TOML: {exc}", field="file", fix="correct the TOML syntax"
        ) from None
    try:
        table = RatesTable.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _named(exc, data, source) from None
    _check_sequence(table, source)
    return table


def _named(exc: pydantic.ValidationError, data: dict[str, Any], source: str) -> RatesTableError:
    first = exc.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(part) for part in loc)
    if len(loc) >= 2 and loc[0] == "tax_year" and isinstance(loc[1], int):
        years = data.get("tax_year", [])
        name = years[loc[1]].get("name", f"#{loc[1] + 1}") if loc[1] < len(years) else loc[1]
        where = ".".join(["tax_year", str(name), *(str(p) for p in loc[2:])])
    missing = first["type"] == "missing"
    return RatesTableError(
        f"{source}: {'is missing' if missing else first['msg']}",
        field=where,
        fix="add the figure (see docs/payroll.md for its source)"
        if missing
        else 'correct the figure: pounds as text ("12.21"), rates as fractions ("0.15")',
    )


def _check_sequence(table: RatesTable, source: str) -> None:
    previous: TaxYear | None = None
    for year in table.tax_year:
        if (
            year.starts.month != 4
            or year.starts.day != 6
            or year.ends != date(year.starts.year + 1, 4, 5)
        ):
            raise RatesTableError(
                f"{source}: runs {year.starts} to {year.ends}, not 6 April to 5 April",
                field=f"tax_year.{year.name}",
                fix=f"a tax year runs from 6 April {year.starts.year} to 5 April "
                f"{year.starts.year + 1}",
            )
        if previous is not None and year.starts != previous.ends + timedelta(days=1):
            kind = "overlaps" if year.starts <= previous.ends else "leaves a gap after"
            raise RatesTableError(
                f"{source}: {year.name} starts on {year.starts}, so it {kind} {previous.name} "
                f"(which ends on {previous.ends})",
                field=f"tax_year.{year.name}.starts",
                fix=f"list the tax years in order, each starting on "
                f"{previous.ends + timedelta(days=1)} after the one before; add any missing year",
            )
        if previous is not None and year.minimum_wage.from_ <= previous.minimum_wage.from_:
            raise RatesTableError(
                f"{source}: {year.name}'s minimum wage takes effect on "
                f"{year.minimum_wage.from_}, not after {previous.name}'s",
                field=f"tax_year.{year.name}.minimum_wage.from",
                fix="give the 1 April the rates took effect",
            )
        previous = year


@cache
def uk_rates() -> RatesTable:
    """The UK rates table shipped with dpledger (loaded and checked once)."""
    text = resources.files("dpledger.domain").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_rates(text)


# ---------------------------------------------------------------------------- age bands
class AgeBand(Enum):
    """A minimum-wage age band (the field of :class:`MinimumWage` it reads)."""

    AGE_21_AND_OVER = "age_21_and_over"
    AGE_18_TO_20 = "age_18_to_20"
    UNDER_18 = "under_18"
    APPRENTICE = "apprentice"


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day`` (someone born on 29 February turns a year older on
    1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(born: date | None, period_start: date) -> AgeBand:
    """The minimum-wage band for a pay reference period starting on ``period_start``: the age at
    its start; without a date of birth, 21 and over (the highest rate)."""
    if born is None:
        return AgeBand.AGE_21_AND_OVER
    age = age_on(born, period_start)
    if age >= 21:
        return AgeBand.AGE_21_AND_OVER
    return AgeBand.AGE_18_TO_20 if age >= 18 else AgeBand.UNDER_18


# ---------------------------------------------------------------------------- pay periods
@dataclass(frozen=True, slots=True)
class PeriodKind:
    """How a pay period's thresholds are found: a frequency, or ``weeks`` x the weekly ones."""

    frequency: PayFrequency
    multiple: int = 1
    """Weekly thresholds x this, for a period of another length (whole weeks, rounded up)."""


def period_kind(start: date, end: date) -> PeriodKind:
    """The frequency a pay period from ``start`` to ``end`` (inclusive) is paid at: 7, 14 or 28
    days; a calendar month (the same day of the month to the day before it, a month on); or
    else that many weeks, rounded up, of weekly thresholds (as HMRC multiplies them)."""
    days = (end - start).days + 1
    by_days = {7: PayFrequency.WEEKLY, 14: PayFrequency.FORTNIGHTLY, 28: PayFrequency.FOUR_WEEKLY}
    if days in by_days:
        return PeriodKind(by_days[days])
    following = end + timedelta(days=1)
    month_on = (start.year * 12 + start.month) + 1 == following.year * 12 + following.month
    if month_on and (following.day == start.day or (start.day > 28 and following.day <= 3)):
        return PeriodKind(PayFrequency.MONTHLY)
    return PeriodKind(PayFrequency.WEEKLY, max(1, -(-days // 7)))


def tax_year_name(day: date) -> str:
    """The tax year ``day`` lies in, as ``2025/26``."""
    first = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def straddles_tax_years(start: date, end: date) -> bool:
    """Whether a period from ``start`` to ``end`` crosses 5/6 April."""
    return tax_year_name(start) != tax_year_name(end)
