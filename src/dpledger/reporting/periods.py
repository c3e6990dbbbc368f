"""Named periods: a council financial year, a calendar month or a calendar quarter, as days.

One parser for the period shortcuts every command and caller shares (``--fy 2025-26``,
``--month 2025-05``, ``--quarter 2025q3``): each is pure, and a malformed or impossible one is a
:class:`~dpledger.domain.errors.ValidationError` naming the field and the form it takes.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dpledger.domain.errors import ValidationError

FY_FIRST_MONTH = 4
"""A council's financial year runs from 1 April to 31 March."""

_FY = re.compile(r"(\d{4})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})[qQ](\d)")


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def financial_year(text: str, field: str = "fy") -> tuple[date, date]:
    """``2025-26``: 1 April 2025 to 31 March 2026 (the second year is the next one, two digits)."""
    found = _FY.fullmatch(text.strip())
    if found is None:
        raise ValidationError(
            f"{text!r} is not a financial year",
            field=field,
            fix="write the two years it spans, e.g. 2025-26 (1 April 2025 to 31 March 2026)",
        )
    first = int(found.group(1))
    second = (first + 1) % 100
    if int(found.group(2)) != second:
        raise ValidationError(
            f"{text!r} does not span two consecutive years",
            field=field,
            fix=f"write {first}-{second:02d} for 1 April {first} to 31 March {first + 1}",
        )
    return date(first, FY_FIRST_MONTH, 1), date(first + 1, FY_FIRST_MONTH, 1) - timedelta(days=1)


def calendar_month(text: str, field: str = "month") -> tuple[date, date]:
    """``2025-05``: 1 to 31 May 2025."""
    found = _MONTH.fullmatch(text.strip())
    month = int(found.group(2)) if found else 0
    if found is None or not 1 <= month <= 12:
        raise ValidationError(
            f"{text!r} is not a month",
            field=field,
            fix="write the year and month, e.g. 2025-05 (months 01 to 12)",
        )
    year = int(found.group(1))
    return date(year, month, 1), _month_end(year, month)


def calendar_quarter(text: str, field: str = "quarter") -> tuple[date, date]:
    """``2025q3``: the calendar quarter, 1 July to 30 September 2025 (q1 is January to March)."""
    found = _QUARTER.fullmatch(text.strip())
    quarter = int(found.group(2)) if found else 0
    if found is None or not 1 <= quarter <= 4:
        raise ValidationError(
            f"{text!r} is not a calendar quarter",
            field=field,
            fix="write the year, q and the quarter 1 to 4, e.g. 2025q3 (July to September 2025)",
        )
    year, first = int(found.group(1)), 3 * quarter - 2
    return date(year, first, 1), _month_end(year, first + 2)


def named_period(
    *, fy: str | None = None, month: str | None = None, quarter: str | None = None
) -> tuple[date, date] | None:
    """The days of the one named period given (``None`` if none is); more than one is refused."""
    given = [(n, v) for n, v in (("fy", fy), ("month", month), ("quarter", quarter)) if v]
    if not given:
        return None
    if len(given) > 1:
        names = " and ".join(n for n, _ in given)
        raise ValidationError(
            f"two periods were named ({names})", field=given[1][0], fix="name one period"
        )
    name, value = given[0]
    parse = {"fy": financial_year, "month": calendar_month, "quarter": calendar_quarter}[name]
    return parse(value, name)


def months_of(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months ``start``..``end`` touches, each clipped to the period."""
    if end < start:
        raise ValidationError(
            f"the period ends ({end}) before it starts ({start})",
            field="end",
            fix="give an end on or after the start",
        )
    months = []
    first = start
    while first <= end:
        last = min(_month_end(first.year, first.month), end)
        months.append((first, last))
        first = last + timedelta(days=1)
    return months
