"""The audit sheet for spreadsheets: an XLSX workbook and two CSV files.

Amounts are never floats. In the workbook they are numbers written from ``Money.amount`` (an
exact ``Decimal``) with a ``£#,##0.00`` format; in the CSV files they are exact decimal text
(``-1922.10``) beside the same amount in pence, for scripts that want integers. Dates are real
dates in the workbook and ISO 8601 text in the CSV files.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import IO, Any, TextIO

from dpledger.adapters.reports.chart import numbered_warnings
from dpledger.domain.money import Money
from dpledger.reporting.statement import Statement
from dpledger.reporting.text import label

try:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the XLSX and CSV exports need openpyxl: install dpledger[reports]") from exc

MONEY_FORMAT = "£#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

STATEMENT_CSV_COLUMNS = (
    "account_id",
    "period_start",
    "period_end",
    "section",
    "item",
    "label",
    "amount",
    "amount_pence",
)
EVENTS_CSV_COLUMNS = (
    "account_id",
    "effective_date",
    "version",
    "recorded_at",
    "event_type",
    "description",
    "actor",
    "reason",
    "bank_change",
    "bank_change_pence",
    "balance",
    "balance_pence",
    "digest",
    "bank_account",
)

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8ECF2")
_WRAP = Alignment(wrap_text=True, vertical="top")


def statement_rows(sheet: Statement) -> list[tuple[str, str, str, Money]]:
    """The sheet's figures as ``(section, item, label, amount)``, in the order of the sheet.

    Sections: ``bank`` (``opening``, ``closing``), ``money_in`` and ``money_out`` (one row per
    source or category, amounts out positive), ``totals`` (``total_in``, ``total_out``,
    ``total_unpaid``), ``unpaid_liabilities``, ``held_in_suspense``, and ``position``
    (``contingency``, ``surplus``), ``budget`` (``budget``, ``spent``, ``contributions_due``,
    ``contributions_received`` for the period, labelled with it) and ``budget_check`` (the
    differences: ``under_budget``, ``contributions_short``). Totals and differences have
    sections of their own so that summing a section never counts a figure twice.
    """
    rows = [("bank", "opening", f"Opening balance (start of {sheet.start})", sheet.opening)]
    rows += [("money_in", k, label(k), v) for k, v in sheet.money_in.items()]
    rows.append(("totals", "total_in", "Total money in", sheet.total_in))
    rows += [("money_out", k, label(k), v) for k, v in sheet.money_out.items()]
    rows.append(("totals", "total_out", "Total money out", sheet.total_out))
    rows.append(("bank", "closing", f"Closing balance (end of {sheet.end})", sheet.closing))
    rows += [
        ("unpaid_liabilities", k, label(k, "liability"), v)
        for k, v in sheet.unpaid_liabilities.items()
    ]
    rows.append(("totals", "total_unpaid", "Total unpaid liabilities", sheet.total_unpaid))
    rows += [("held_in_suspense", k, label(k), v) for k, v in sheet.held_in_suspense.items()]
    rows.append(("position", "contingency", "Contingency retained", sheet.contingency))
    rows.append(("position", "surplus", "Surplus (closing - unpaid - contingency)", sheet.surplus))
    check = sheet.budget
    if check is not None:
        days = f"{check.start} to {check.end}"
        rows += [
            ("budget", "budget", f"Budget, {days} (weekly gross, pro-rated)", check.budget),
            ("budget", "spent", f"Spent from the bank, {days} (less returns)", check.spent),
            ("budget", "contributions_due", f"Contributions due, {days}", check.contributions_due),
            (
                "budget",
                "contributions_received",
                f"Contributions received, {days}",
                check.contributions_received,
            ),
            ("budget_check", "under_budget", "Budget less spend", check.under_budget),
            (
                "budget_check",
                "contributions_short",
                "Contributions due less received",
                check.contributions_short,
            ),
        ]
    return rows


# ---------------------------------------------------------------------------------------------
# XLSX


def write_xlsx(sheet: Statement, path_or_stream: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write the audit sheet as an XLSX workbook to a path or a binary stream.

    Sheets: ``Statement`` (the header facts, then section, item and amount for every figure of
    the sheet, the opening + in - out = closing check, what the bank's stated balances showed
    (:attr:`~dpledger.reporting.statement.Statement.reconciliation`), and the chain head),
    ``Events`` (one row per event of the period with its bank change and the running balance,
    which ends at the closing balance), ``Unexpected items``, ``Warnings`` and ``Reconciliation
    breaks``. Amounts are exact numbers formatted ``£#,##0.00``; dates are dates; times are UTC
    (Excel has no time zones). Text is always stored as text, never as a formula, whatever it
    starts with.
    """
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = "Statement"
    _statement_sheet(summary, sheet)
    _events_sheet(book.create_sheet("Events"), sheet)
    _unexpected_sheet(book.create_sheet("Unexpected items"), sheet)
    _warnings_sheet(book.create_sheet("Warnings"), sheet)
    _breaks_sheet(book.create_sheet("Reconciliation breaks"), sheet)
    props = book.properties
    props.title = f"Audit sheet {sheet.account_id}, {sheet.start} to {sheet.end}"
    props.subject = "Direct Payment managed account: audit sheet"
    props.creator = "dpledger"
    props.keywords = f"dpledger; {sheet.account_id}; chain head {sheet.head_version}"
    props.created = _excel_time(sheet.generated_at)
    book.save(path_or_stream)


def _excel_time(moment: datetime) -> datetime:
    # Excel cannot hold a time zone: store UTC, and say so in the headers.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _put(ws: Worksheet, row: int, column: int, value: Any, *, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, Money):
        cell.value = value.amount  # an exact Decimal, never a float
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, datetime):
        cell.value = _excel_time(value)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # "=..." from a user stays text: openpyxl would make a formula
    if bold:
        cell.font = _BOLD


def _header(ws: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, start=1):
        _put(ws, row, column, name, bold=True)
        ws.cell(row=row, column=column).fill = _HEADER_FILL


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


def _table(
    ws: Worksheet,
    names: Sequence[str],
    widths: Sequence[float],
    rows: Iterable[Sequence[Any]],
    wrap: Sequence[int] = (),
) -> None:
    """A sheet holding one table: bold header in row 1, frozen, filterable."""
    _header(ws, 1, names)
    last_row = 1
    for values in rows:
        last_row += 1
        for column, value in enumerate(values, start=1):
            _put(ws, last_row, column, value)
            if column in wrap:
                ws.cell(row=last_row, column=column).alignment = _WRAP
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{last_row}"
    _widths(ws, widths)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


def _statement_sheet(ws: Worksheet, sheet: Statement) -> None:
    _put(ws, 1, 1, f"Audit sheet {sheet.account_id}, {sheet.start} to {sheet.end}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    facts: list[tuple[str, Any]] = [
        ("Account", sheet.account_id),
        ("Person", sheet.person_ref),
        ("Council", sheet.council),
        ("Provider", sheet.provider),
        ("Period start", sheet.start),
        ("Period end", sheet.end),
        ("Status at end", sheet.status),
        ("As known at (UTC)", "as known now" if sheet.known_at is None else sheet.known_at),
        ("Generated (UTC)", sheet.generated_at),
    ]
    row = 3
    for name, value in facts:
        _put(ws, row, 1, name, bold=True)
        _put(ws, row, 2, value)
        ws.cell(row=row, column=2).alignment = Alignment(horizontal="left")
        row += 1
    row += 1
    _header(ws, row, ("Section", "Item", "Amount"))
    for section, item, text, amount in statement_rows(sheet):
        row += 1
        total = section == "totals" or item in ("closing", "surplus")
        _put(ws, row, 1, _SECTION_NAMES[section], bold=total)
        _put(ws, row, 2, text, bold=total)
        _put(ws, row, 3, amount, bold=total)
        if item == "closing":
            row += 1
            _put(ws, row, 1, "Check")
            _put(ws, row, 2, "Opening + in - out = closing")
            _put(ws, row, 3, "yes" if sheet.reconciles else "NO: run dpledger verify")
            ws.cell(row=row, column=3).alignment = Alignment(horizontal="right")
            if not sheet.reconciles:
                ws.cell(row=row, column=3).font = Font(bold=True, color="B71C1C")
            # Whether the bank's stated balances were checked at all, not only the breaks.
            row += 1
            _put(ws, row, 1, "Check")
            _put(ws, row, 2, "Bank's stated balances")
            _put(ws, row, 3, sheet.reconciliation)
    row += 2
    _put(ws, row, 1, "Chain head version", bold=True)
    _put(ws, row, 2, sheet.head_version)
    ws.cell(row=row, column=2).alignment = Alignment(horizontal="left")
    _put(ws, row + 1, 1, "Chain head digest", bold=True)
    _put(ws, row + 1, 2, sheet.head_digest)
    _put(ws, row + 2, 1, "Seal HMAC", bold=True)
    _put(ws, row + 2, 2, sheet.head_mac or "none (no seal key configured)")
    ws.freeze_panes = "A2"
    _widths(ws, (22, 46, 16))
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


_SECTION_NAMES = {
    "bank": "Bank",
    "money_in": "Money in",
    "money_out": "Money out",
    "totals": "Total",
    "unpaid_liabilities": "Unpaid at end",
    "held_in_suspense": "Held at end",
    "position": "Position at end",
    "budget": "Budget",
    "budget_check": "Budget check",
}


def _events_sheet(ws: Worksheet, sheet: Statement) -> None:
    _table(
        ws,
        (
            "Date",
            "Version",
            "Recorded at (UTC)",
            "Type",
            "Description",
            "Actor",
            "Reason",
            "Bank change",
            "Balance",
            "Digest",
            "Bank account",
        ),
        (12, 9, 20, 28, 60, 20, 36, 14, 14, 20, 20),
        (
            (
                line.effective_date,
                line.version,
                line.recorded_at,
                line.event_type,
                line.description,
                line.actor,
                line.reason,
                line.bank_change,
                line.bank_after,
                line.digest,
                line.bank_account,
            )
            for line in sheet.lines
        ),
        wrap=(5, 7),
    )


def _unexpected_sheet(ws: Worksheet, sheet: Statement) -> None:
    _table(
        ws,
        ("Recorded", "In/out", "Item", "Description", "Amount", "Status", "Resolved", "Resolution"),
        (12, 8, 12, 50, 14, 12, 12, 50),
        (
            (
                item.recorded_on,
                item.direction,
                item.item_id,
                item.description,
                item.amount,
                item.status,
                item.resolved_on,
                item.resolution,
            )
            for item in sheet.unexpected_items
        ),
        wrap=(4, 8),
    )


def _warnings_sheet(ws: Worksheet, sheet: Statement) -> None:
    _table(
        ws,
        ("Number", "Raised", "Rule", "Subject", "Cleared", "Explanation"),
        (9, 12, 24, 14, 12, 80),
        (
            (f"W{n}", w.raised_on, w.rule, w.subject, w.cleared_on, w.explanation)
            for n, w in numbered_warnings(sheet)
        ),
        wrap=(6,),
    )


def _breaks_sheet(ws: Worksheet, sheet: Statement) -> None:
    _table(
        ws,
        ("Date", "Bank stated", "Ledger", "Difference", "Source", "Version", "Bank account"),
        (12, 14, 14, 14, 30, 9, 20),
        (
            (
                b.effective_date,
                b.asserted,
                b.ledger,
                b.difference,
                b.source,
                b.version,
                b.bank_account,
            )
            for b in sheet.reconciliation_breaks
        ),
    )


# ---------------------------------------------------------------------------------------------
# CSV


def write_statement_csv(sheet: Statement, stream: TextIO) -> None:
    """Write the sheet's figures as a long CSV table, one figure a row, header first.

    Columns: ``account_id``, ``period_start`` and ``period_end`` (ISO dates; so that the files
    of many accounts can be stacked and pivoted), ``section`` and ``item`` (stable keys, see
    :func:`statement_rows`), ``label`` (the words of the sheet), ``amount`` (exact pounds as
    decimal text, ``-1922.10``; money out is positive) and ``amount_pence`` (the same, in
    integer pence). Summing ``money_in`` gives ``totals/total_in``; opening + total_in -
    total_out = closing.

    Open ``stream`` with ``newline=""`` and ``encoding="utf-8"`` (``"utf-8-sig"`` if people
    will double-click it into Excel). Text that a spreadsheet would run as a formula (starting
    with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``.
    """
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(STATEMENT_CSV_COLUMNS)
    for section, item, text, amount in statement_rows(sheet):
        writer.writerow(
            (
                _text(sheet.account_id),
                sheet.start.isoformat(),
                sheet.end.isoformat(),
                section,
                _text(item),
                _text(text),
                str(amount.amount),
                amount.pence,
            )
        )


def write_events_csv(sheet: Statement, stream: TextIO) -> None:
    """Write the sheet's event list as CSV, one event a row in effective-date order, header
    first.

    Columns: ``account_id``; ``effective_date`` (ISO date); ``version`` (the event's number in
    the account's history, or in ``bank_account``'s); ``recorded_at`` (ISO 8601 with its UTC
    offset); ``event_type``; ``description``; ``actor``; ``reason`` (empty when none was given);
    ``bank_change`` and ``bank_change_pence`` (the event's effect on the bank, signed, as exact
    decimal pounds and as pence); ``balance`` and ``balance_pence`` (the running bank balance
    after it; the last row's is the closing balance); ``digest`` (the event's chain digest);
    ``bank_account`` (for a balance the bank account's statement stated: that bank account,
    whose event it is; empty for the account's own events).

    Open ``stream`` as for :func:`write_statement_csv`; the same formula guard applies.
    """
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(EVENTS_CSV_COLUMNS)
    for line in sheet.lines:
        writer.writerow(
            (
                _text(sheet.account_id),
                line.effective_date.isoformat(),
                line.version,
                line.recorded_at.isoformat(),
                _text(line.event_type),
                _text(line.description),
                _text(line.actor),
                _text(line.reason or ""),
                str(line.bank_change.amount),
                line.bank_change.pence,
                str(line.bank_after.amount),
                line.bank_after.pence,
                line.digest,
                _text(line.bank_account or ""),
            )
        )


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    # A description such as "=HYPERLINK(...)" would run as a formula when the CSV is opened in
    # a spreadsheet (CSV injection); a leading apostrophe makes it plain text.
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
