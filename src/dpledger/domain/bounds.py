"""The limits every value keeps when it crosses into dpledger, so that nothing the write side
accepts can break the read side.

Each limit is one named constant with the reason it was chosen; the pydantic field types at the
end (:data:`Amount`, :data:`Day`, :data:`Text`, ...) are how commands apply them, and the
``check_*`` functions are how the rest of the domain does.

- **Amounts** are at most :data:`MAX_PENCE` (£10,000,000.00). No Direct Payment movement comes
  near it: a whole council's Direct Payments for a year are £15-60m (Coventry, Leicester). With
  it, the sum of every amount of a store of a million events (10^15 pence) stays a thousand times
  inside the 64-bit integers SQLite and PostgreSQL keep (9.2 x 10^18), so no balance, total or
  report can overflow.
- **Dates** lie from :data:`EARLIEST_DATE` (the Community Care (Direct Payments) Act 1996 came
  into force on 1 April 1997: no Direct Payment is older) to :data:`LATEST_DATE`, far enough
  ahead for any plan and far enough from ``date.max`` that date arithmetic (a review 12 months
  on, a payment 28 days on) never overflows.
- **Text** is one line of printable characters, at most :data:`MAX_TEXT` (descriptions,
  reasons), :data:`MAX_NAME` (councils, providers, agencies) or :data:`MAX_REFERENCE` (bank
  references, invoice numbers) long. Control characters (NUL, newlines, escapes) and the
  Unicode bidirectional controls (which can make ``£10.00`` read as ``£00.01`` on screen) are
  refused, so every statement, CSV and HTML report prints what was recorded.
- **Idempotency keys** are 1-:data:`MAX_KEY` printable characters, with no bidirectional controls.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ValidationInfo

from dpledger.domain.errors import ValidationError
from dpledger.domain.money import GBP, Money

MAX_PENCE: Final = 1_000_000_000
"""The largest amount one command may carry: £10,000,000.00 (see the module docstring)."""
EARLIEST_DATE: Final = date(1997, 4, 1)
"""No Direct Payment is older than the Act that created them (in force 1 April 1997)."""
LATEST_DATE: Final = date(2099, 12, 31)
"""The latest date any field may hold: ahead of any plan, far from ``date.max``."""
MAX_TEXT: Final = 1000
"""Descriptions, purposes and reasons: enough for a paragraph, not a file."""
MAX_NAME: Final = 200
"""Councils, providers, agencies: the longest council name is under 60 characters."""
MAX_REFERENCE: Final = 140
"""Bank references and invoice numbers: 140 is the Faster Payments / SEPA remittance limit."""
MAX_KEY: Final = 200
"""Idempotency keys: a bank's transaction id or a request id fits easily."""
MAX_HOURS: Final = Decimal(24 * 366)
"""No invoice or payslip covers more hours than a (leap) year has."""
MAX_VERSION: Final = 1_000_000_000
"""No account has more events than this."""

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
# Unicode bidirectional controls: they reorder what a reader sees without changing the text.
_BIDI = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u206a\u206b"
    "\u206c\u206d\u206e\u206f"
)


# ---------------------------------------------------------------------------- checks
def check_amount(
    value: object, field: str, *, allow_zero: bool = False, signed: bool = False
) -> Money:
    """``value`` as GBP ``Money`` above zero (or zero, or either sign) and within the ceiling."""
    if not isinstance(value, Money):
        raise ValidationError(
            f"must be Money, got {type(value).__name__}", field=field, fix="pass Money('12.34')"
        )
    if value.currency != GBP:
        raise ValidationError(
            f"must be in GBP, got {value.currency}",
            field=field,
            fix="a managed account keeps GBP only",
        )
    if abs(value.pence) > MAX_PENCE:
        raise ValidationError(
            f"{value} is above the ceiling of {Money(MAX_PENCE)} for one amount",
            field=field,
            fix="check the amount (pence, not pounds?); no Direct Payment movement is that large",
        )
    if not signed and (value.is_negative() or (value.is_zero() and not allow_zero)):
        raise ValidationError(
            f"must be {'zero or more' if allow_zero else 'more than zero'}, got {value}",
            field=field,
            fix="amounts are never negative: corrections reverse entries instead",
        )
    return value


def to_money(value: object, field: str = "amount") -> Money:
    """An amount given as ``Money``, pounds as ``str`` or ``Decimal``, or ``int`` pence."""
    if isinstance(value, Money):
        return value
    if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        try:
            return Money(value)
        except ValidationError as exc:
            raise ValidationError(exc.message.split(": ", 1)[-1], field=field, fix=exc.fix) from exc
    raise ValidationError(
        f"{value!r} is not an amount of money",
        field=field,
        fix="pass Money, pounds as a str like '12.34' or a Decimal, or int pence",
    )


def to_day(value: object, field: str = "date") -> date:
    """A calendar date given as a ``date`` or ``'YYYY-MM-DD'``, within the dates' window."""
    if isinstance(value, datetime):
        raise ValidationError(
            "must be a date, not a datetime", field=field, fix="pass value.date() or 'YYYY-MM-DD'"
        )
    day: date | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        raise ValidationError(f"{value!r} is not a date", field=field, fix="use 'YYYY-MM-DD'")
    return check_day(day, field)


def check_day(value: date, field: str) -> date:
    """Refuse a date outside :data:`EARLIEST_DATE` .. :data:`LATEST_DATE`."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            f"{value} is outside the dates dpledger keeps ({EARLIEST_DATE} to {LATEST_DATE})",
            field=field,
            fix="check the year: no Direct Payment is older than April 1997"
            if value < EARLIEST_DATE
            else f"check the year: no plan runs past {LATEST_DATE}",
        )
    return value


def check_text(value: object, field: str, *, limit: int = MAX_TEXT) -> str:
    """One line of printable text, 1 to ``limit`` characters once stripped; returns it stripped."""
    if not isinstance(value, str):
        raise ValidationError(
            f"must be text, got {type(value).__name__}",
            field=field,
            fix=f"pass the {field} as text",
        )
    text = value.strip()
    if not text:
        raise ValidationError("must not be blank", field=field, fix=f"give a {field}")
    if len(text) > limit:
        raise ValidationError(
            f"is {len(text):,} characters long, more than {limit:,}",
            field=field,
            fix="shorten it; keep documents outside the ledger and refer to them",
        )
    if not (text.isprintable() and (text.isascii() or _BIDI.isdisjoint(text))):
        _refuse_invisible(text, field)
    return text


def check_key(value: object, field: str = "idempotency_key") -> str:
    """An idempotency key: 1 to :data:`MAX_KEY` printable characters, kept exactly as given."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY:
        raise ValidationError(
            f"must be a non-blank string of at most {MAX_KEY} characters",
            field=field,
            fix="use the bank's transaction id or your request id as it is printed",
        )
    if not value.isprintable() or _BIDI.intersection(value):
        raise ValidationError(
            "must be printable characters only (no newlines, tabs or control characters)",
            field=field,
            fix="use the bank's transaction id or your request id as it is printed",
        )
    return value


def check_identifier(value: object, field: str) -> str:
    """A caller-chosen id: 1-64 letters, digits and ``._:-``, starting with a letter or digit."""
    # fullmatch: ``$`` alone would let a trailing newline through.
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ValidationError(
            f"{value!r} is not a valid id",
            field=field,
            fix="use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
        )
    return value


def check_hours(value: object, field: str = "hours") -> Decimal:
    """Hours from 0 to :data:`MAX_HOURS`, with at most 2 decimal places."""
    valid = (
        isinstance(value, Decimal)
        and value.is_finite()
        and Decimal(0) <= value <= MAX_HOURS
        and (value * 100) == (value * 100).to_integral_value()
    )
    if not valid:
        raise ValidationError(
            f"must be a number of hours from 0 to {MAX_HOURS} with at most 2 places, got {value!r}",
            field=field,
            fix="pass hours as a Decimal or str such as '37.5'",
        )
    assert isinstance(value, Decimal)
    return value


def to_hours(value: object, field: str = "hours") -> Decimal:
    """Hours given as ``Decimal``, ``str`` or ``int`` (never a float), checked."""
    if isinstance(value, bool | float):
        raise ValidationError(
            f"{value!r} is not exact", field=field, fix="pass a Decimal or a str like '12.5'"
        )
    if isinstance(value, Decimal | int | str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            pass
        else:
            if number.is_finite():
                return check_hours(number, field)
    raise ValidationError(
        f"{value!r} is not a number",
        field=field,
        fix="pass hours as a Decimal or str such as '37.5'",
    )


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """Text from a bank file made fit to record: whitespace runs (tabs, newlines) become one
    space, control and bidirectional characters are dropped, and it is cut to ``limit``.

    Bank statements are evidence read as they come; a tab inside a description is not a reason
    to refuse a whole statement, but it must not reach an audit sheet either.
    """
    if value.isprintable() and (value.isascii() or _BIDI.isdisjoint(value)):
        # Nearly all bank text: nothing to drop, only spaces to tidy.
        return " ".join(value.split())[:limit]
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if ch.isspace() or (ch.isprintable() and ch not in _BIDI)
    )
    return " ".join(kept.split())[:limit]


def _refuse_invisible(text: str, field: str) -> None:
    for ch in text:
        if ch in _BIDI or (not ch.isprintable() and ch != " "):
            name = unicodedata.name(ch, "control character")
            raise ValidationError(
                f"contains U+{ord(ch):04X} ({name.lower()}), which would not print as written",
                field=field,
                fix="remove control characters, line breaks and direction marks",
            )


# ---------------------------------------------------------------------------- pydantic types
def _amount(value: Any) -> Money:
    return check_amount(to_money(value), "amount")


def _amount_or_zero(value: Any) -> Money:
    return check_amount(to_money(value), "amount", allow_zero=True)


def _text(limit: int) -> Any:
    # The field's own name, so a blank one asks for "a reason", not "a text".
    def check(value: Any, info: ValidationInfo) -> str:
        return check_text(value, info.field_name or "text", limit=limit)

    return BeforeValidator(check)


Amount = Annotated[Money, BeforeValidator(_amount)]
"""Money above zero and at most the ceiling; given as ``Money``, pounds text or ``int`` pence."""
AmountOrZero = Annotated[Money, BeforeValidator(_amount_or_zero)]
"""Money from zero to the ceiling."""
Day = Annotated[date, BeforeValidator(lambda value: to_day(value, "date"))]
"""A date within the window; a ``date`` or ``'YYYY-MM-DD'``."""
Identifier = Annotated[str, BeforeValidator(lambda value: check_identifier(value, "id"))]
"""1-64 letters, digits and ``._:-``."""
Name = Annotated[str, _text(MAX_NAME)]
"""A council, provider or agency name: printable, at most 200 characters."""
Text = Annotated[str, _text(MAX_TEXT)]
"""A description, purpose or reason: printable, one line, at most 1,000 characters."""
Reference = Annotated[str, _text(MAX_REFERENCE)]
"""A bank reference or invoice number: printable, at most 140 characters."""
Key = Annotated[str, BeforeValidator(lambda value: check_key(value))]
"""An idempotency key."""
Hours = Annotated[Decimal, BeforeValidator(lambda value: to_hours(value))]
"""Hours, 0 to a year's worth, at most 2 decimal places; never a float."""


def check_version(value: object, field: str = "version") -> int:
    """An event version: a whole number from 1 to :data:`MAX_VERSION` (never ``True``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise ValidationError(
            "must be a positive event version",
            field=field,
            fix="name an event version from the account's history (Ledger.events)",
        )
    return value


Version = Annotated[int, BeforeValidator(lambda value: check_version(value))]
"""An event version of an account."""
