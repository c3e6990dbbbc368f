"""The period options every command that reads a period shares: ``--from``/``--to``, or one of
``--fy 2025-26``, ``--month 2025-05`` and ``--quarter 2025q3`` (parsed by
:mod:`dpledger.reporting.periods`, which programs use too).

Kept free of ``from __future__ import annotations``: typer reads the annotations at run time.
"""

from datetime import date
from typing import Annotated

import typer

from dpledger import Ledger
from dpledger.cli.common import parse_date
from dpledger.errors import ValidationError
from dpledger.reporting.periods import named_period

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="DATE",
        help="The period's first day. Default: the account's first effective date.",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to", metavar="DATE", help="The period's last day. Default: today.", show_default=False
    ),
]


FyOption = Annotated[
    str | None,
    typer.Option(
        "--fy",
        metavar="YYYY-YY",
        help="A council financial year: --fy 2025-26 is 1 April 2025 to 31 March 2026. Instead "
        "of --from/--to.",
        show_default=False,
    ),
]
MonthOption = Annotated[
    str | None,
    typer.Option(
        "--month",
        metavar="YYYY-MM",
        help="A calendar month, e.g. --month 2025-05. Instead of --from/--to.",
        show_default=False,
    ),
]
QuarterOption = Annotated[
    str | None,
    typer.Option(
        "--quarter",
        metavar="YYYYqN",
        help="A calendar quarter: --quarter 2025q3 is July to September 2025. Instead of "
        "--from/--to.",
        show_default=False,
    ),
]


def named_days(fy: str | None, month: str | None, quarter: str | None) -> tuple[date, date] | None:
    """The days of the one period shortcut given, or ``None``; a usage error naming the option
    when it is malformed or more than one is given."""
    try:
        return named_period(fy=fy, month=month, quarter=quarter)
    except ValidationError as bad:
        message = str(bad).split(": ", 1)[-1]  # the option is named by the hint instead
        raise typer.BadParameter(
            f"{message}{'; ' + bad.fix if bad.fix else ''}", param_hint=f"--{bad.field}"
        ) from None


def resolve_period(
    ledger: Ledger,
    account_id: str,
    start: str | None,
    end: str | None,
    fy: str | None = None,
    month: str | None = None,
    quarter: str | None = None,
) -> tuple[date, date]:
    """The period's days: a shortcut (--fy, --month, --quarter) or --from/--to, never both;
    the default start is the account's earliest effective date, the default end today."""
    named = named_days(fy, month, quarter)
    if named is not None:
        if start is not None or end is not None:
            used = "--fy" if fy else "--month" if month else "--quarter"
            raise typer.BadParameter(
                f"{used} names the whole period; leave out --from and --to", param_hint=used
            )
        return named
    last = parse_date(end, "--to") or date.today()
    first = parse_date(start, "--from")
    if first is None:
        trail = ledger.audit_trail(account_id)
        first = min(entry.effective_date for entry in trail)
    if last < first:
        raise typer.BadParameter(f"{last} is before the period's start, {first}", param_hint="--to")
    return first, last


def period_options(
    start: str | None, end: str | None, fy: str | None, month: str | None, quarter: str | None
) -> tuple[tuple[str, str | None], ...]:
    """Each period option with its value, as typed (for naming the one given)."""
    return (
        ("--from", start),
        ("--to", end),
        ("--fy", fy),
        ("--month", month),
        ("--quarter", quarter),
    )
