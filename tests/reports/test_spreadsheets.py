"""The XLSX and CSV exports read back to exactly the sheet's figures."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from dpledger.adapters.reports.spreadsheet import (
    EVENTS_CSV_COLUMNS,
    MONEY_FORMAT,
    STATEMENT_CSV_COLUMNS,
    statement_rows,
    write_events_csv,
    write_statement_csv,
    write_xlsx,
)
from dpledger.domain.money import Money
from dpledger.reporting.statement import Statement


@pytest.fixture(scope="module")
def workbook(sheet: Statement, tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    path = tmp_path_factory.mktemp("xlsx") / "statement.xlsx"
    write_xlsx(sheet, path)
    return openpyxl.load_workbook(path)


def _decimal(value: Any) -> Decimal:
    # openpyxl reads numbers back as int or float; the file holds their exact decimal text,
    # and str() of a float gives the shortest text that reads back as it.
    assert isinstance(value, int | float), value
    return Decimal(str(value))


def _table(ws: Worksheet) -> list[dict[str, Any]]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_workbook_has_its_sheets_and_a_title(workbook: Workbook, sheet: Statement) -> None:
    assert workbook.sheetnames[:2] == ["Statement", "Events"]
    assert set(workbook.sheetnames) >= {"Unexpected items", "Warnings", "Reconciliation breaks"}
    assert (
        workbook.properties.title == f"Audit sheet {sheet.account_id}, {sheet.start} to {sheet.end}"
    )
    assert workbook.properties.creator == "dpledger"


def test_every_statement_figure_is_an_exact_amount(workbook: Workbook, sheet: Statement) -> None:
    ws = workbook["Statement"]
    cells = list(ws.iter_rows(min_col=1, max_col=3))
    header_row = next(i for i, row in enumerate(cells) if row[0].value == "Section")
    assert all(cell.font.b for cell in cells[header_row])
    figures = [row for row in cells[header_row + 1 :] if isinstance(row[2].value, int | float)]
    expected = statement_rows(sheet)
    assert [(row[1].value, _decimal(row[2].value)) for row in figures] == [
        (text, amount.amount) for _, _, text, amount in expected
    ]
    assert all(row[2].number_format == MONEY_FORMAT for row in figures)
    check = next(row for row in cells if row[1].value == "Opening + in - out = closing")
    assert check[2].value == "yes"


def test_money_in_and_out_sum_to_their_totals(workbook: Workbook, sheet: Statement) -> None:
    ws = workbook["Statement"]
    by_section: dict[str, list[Decimal]] = {}
    totals: dict[str, Decimal] = {}
    for section, item, amount in ws.iter_rows(min_col=1, max_col=3, values_only=True):
        if not isinstance(amount, int | float):
            continue
        if section == "Total":
            totals[str(item)] = _decimal(amount)
        else:
            by_section.setdefault(str(section), []).append(_decimal(amount))
    assert sum(by_section["Money in"]) == totals["Total money in"] == sheet.total_in.amount
    assert sum(by_section["Money out"]) == totals["Total money out"] == sheet.total_out.amount
    opening, closing = by_section["Bank"]
    assert opening + totals["Total money in"] - totals["Total money out"] == closing


def test_the_header_facts_are_real_dates(workbook: Workbook, sheet: Statement) -> None:
    facts = {
        row[0]: row[1]
        for row in workbook["Statement"].iter_rows(min_row=3, max_row=11, values_only=True)
    }
    assert facts["Account"] == sheet.account_id
    # openpyxl reads a date cell back as a datetime at midnight.
    assert facts["Period start"] == datetime(sheet.start.year, sheet.start.month, sheet.start.day)
    assert facts["Period end"].date() == sheet.end
    assert facts["Generated (UTC)"] == datetime(2026, 4, 30, 12)


def test_the_events_sheet_matches_the_event_list(workbook: Workbook, sheet: Statement) -> None:
    ws = workbook["Events"]
    assert ws.freeze_panes == "A2"
    assert all(cell.font.b for cell in ws[1])
    rows = _table(ws)
    assert len(rows) == len(sheet.lines)
    for row, line in zip(rows, sheet.lines, strict=True):
        assert row["Date"].date() == line.effective_date
        assert row["Version"] == line.version
        assert isinstance(row["Recorded at (UTC)"], datetime)
        assert row["Type"] == line.event_type
        assert row["Description"] == line.description
        assert (row["Reason"] or None) == line.reason
        assert _decimal(row["Bank change"]) == line.bank_change.amount
        assert _decimal(row["Balance"]) == line.bank_after.amount
        assert row["Digest"] == line.digest
    for cell in ws["A"][1:]:
        assert cell.is_date
    for cell in (*ws["H"][1:], *ws["I"][1:]):
        assert cell.number_format == MONEY_FORMAT
    # The running balance: opening plus each change, ending at the closing balance.
    running = sheet.opening.amount
    for row in rows:
        running += _decimal(row["Bank change"])
        assert running == _decimal(row["Balance"])
    assert running == sheet.closing.amount


def test_the_detail_sheets(workbook: Workbook, sheet: Statement) -> None:
    items = _table(workbook["Unexpected items"])
    assert [(r["Item"], _decimal(r["Amount"]), r["Status"]) for r in items] == [
        (i.item_id, i.amount.amount, i.status) for i in sheet.unexpected_items
    ]
    warnings = _table(workbook["Warnings"])
    assert sorted(r["Rule"] for r in warnings) == sorted(w.rule for w in sheet.warnings)
    assert _table(workbook["Reconciliation breaks"]) == []


def test_amounts_are_written_as_exact_decimal_text(sheet: Statement) -> None:
    stream = io.BytesIO()
    write_xlsx(sheet, stream)
    with zipfile.ZipFile(stream) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    # e.g. 4953.58, never 4953.580000000001
    assert f"<v>{sheet.closing.amount.normalize():f}</v>" in xml


def test_text_that_looks_like_a_formula_stays_text(sheet: Statement, tmp_path: Path) -> None:
    line = dataclasses.replace(sheet.lines[0], reason='=HYPERLINK("http://x","y")')
    path = tmp_path / "hostile.xlsx"
    write_xlsx(dataclasses.replace(sheet, lines=(line, *sheet.lines[1:])), path)
    cell = openpyxl.load_workbook(path)["Events"]["G2"]
    assert cell.value == '=HYPERLINK("http://x","y")'
    assert cell.data_type == "s"


def _csv(write: Any, sheet: Statement) -> list[dict[str, str]]:
    stream = io.StringIO(newline="")
    write(sheet, stream)
    return list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))


def test_the_statement_csv_is_a_long_table_of_exact_figures(sheet: Statement) -> None:
    stream = io.StringIO(newline="")
    write_statement_csv(sheet, stream)
    assert stream.getvalue().splitlines()[0] == ",".join(STATEMENT_CSV_COLUMNS)
    rows = _csv(write_statement_csv, sheet)
    expected = statement_rows(sheet)
    assert len(rows) == len(expected)
    for row, (section, item, text, amount) in zip(rows, expected, strict=True):
        assert (row["section"], row["item"], row["label"]) == (section, item, text)
        assert row["amount"] == f"{amount.amount:f}"
        assert Decimal(row["amount"]) == amount.amount
        assert int(row["amount_pence"]) == amount.pence
        assert row["account_id"] == sheet.account_id
        assert (row["period_start"], row["period_end"]) == (str(sheet.start), str(sheet.end))

    def pence(section: str, item: str | None = None) -> int:
        return sum(
            int(r["amount_pence"])
            for r in rows
            if r["section"] == section and (item is None or r["item"] == item)
        )

    assert pence("money_in") == pence("totals", "total_in") == sheet.total_in.pence
    assert pence("money_out") == pence("totals", "total_out") == sheet.total_out.pence
    assert pence("unpaid_liabilities") == pence("totals", "total_unpaid")
    assert (
        pence("bank", "opening") + pence("money_in") - pence("money_out")
        == pence("bank", "closing")
        == sheet.closing.pence
    )


def test_the_events_csv_matches_the_event_list(sheet: Statement) -> None:
    stream = io.StringIO(newline="")
    write_events_csv(sheet, stream)
    assert stream.getvalue().splitlines()[0] == ",".join(EVENTS_CSV_COLUMNS)
    rows = _csv(write_events_csv, sheet)
    assert len(rows) == len(sheet.lines)
    for row, line in zip(rows, sheet.lines, strict=True):
        assert date.fromisoformat(row["effective_date"]) == line.effective_date
        assert int(row["version"]) == line.version
        assert datetime.fromisoformat(row["recorded_at"]) == line.recorded_at
        assert row["event_type"] == line.event_type
        assert row["description"] == line.description
        assert row["actor"] == line.actor
        assert row["reason"] == (line.reason or "")
        assert Money(Decimal(row["bank_change"])) == line.bank_change
        assert int(row["bank_change_pence"]) == line.bank_change.pence
        assert Money(Decimal(row["balance"])) == line.bank_after
        assert int(row["balance_pence"]) == line.bank_after.pence
        assert row["digest"] == line.digest
    changes = sum(int(r["bank_change_pence"]) for r in rows)
    assert sheet.opening.pence + changes == int(rows[-1]["balance_pence"]) == sheet.closing.pence
    assert any(r["bank_change"].startswith("-") for r in rows)  # money out is signed


def test_csv_text_is_quoted_and_guarded(sheet: Statement) -> None:
    tricky = 'a "quoted", multi-line\nreason'
    lines = (
        dataclasses.replace(sheet.lines[0], reason=tricky),
        dataclasses.replace(sheet.lines[1], reason="=1+2"),
        *sheet.lines[2:],
    )
    rows = _csv(write_events_csv, dataclasses.replace(sheet, lines=lines))
    assert rows[0]["reason"] == tricky
    assert rows[1]["reason"] == "'=1+2"  # would run as a formula in a spreadsheet


def test_a_quiet_period_exports_headers_and_figures(demo_sheets: dict[str, Statement]) -> None:
    quiet = demo_sheets["quiet"]
    assert _csv(write_events_csv, quiet) == []
    rows = _csv(write_statement_csv, quiet)
    assert {r["item"]: r["amount"] for r in rows}["closing"] == f"{quiet.closing.amount:f}"
    stream = io.BytesIO()
    write_xlsx(quiet, stream)
    assert _table(openpyxl.load_workbook(stream)["Events"]) == []


def test_a_balance_the_bank_stated_names_its_bank_account(sheet: Statement) -> None:
    stated = dataclasses.replace(
        sheet.lines[-1],
        version=4,
        event_type="BankBalanceStated",
        bank_change=Money(0),
        bank_account="30-99-50 12345678",
    )
    changed = dataclasses.replace(sheet, lines=(*sheet.lines, stated))
    rows = _csv(write_events_csv, changed)
    assert [r["bank_account"] for r in rows] == [""] * len(sheet.lines) + ["30-99-50 12345678"]
    assert (rows[-1]["version"], rows[-1]["event_type"]) == ("4", "BankBalanceStated")
    stream = io.BytesIO()
    write_xlsx(changed, stream)
    events = _table(openpyxl.load_workbook(stream)["Events"])
    assert [r["Bank account"] for r in events] == [None] * len(sheet.lines) + ["30-99-50 12345678"]


def test_the_budget_and_its_period_are_in_the_workbook_and_the_csv(
    workbook: Workbook, sheet: Statement
) -> None:
    check = sheet.budget
    assert check is not None
    rows = _csv(write_statement_csv, sheet)
    figures = {r["item"]: int(r["amount_pence"]) for r in rows if r["section"].startswith("budget")}
    assert figures == {
        "budget": check.budget.pence,
        "spent": check.spent.pence,
        "contributions_due": check.contributions_due.pence,
        "contributions_received": check.contributions_received.pence,
        "under_budget": check.budget.pence - check.spent.pence,
        "contributions_short": check.contributions_due.pence - check.contributions_received.pence,
    }
    days = f"{check.start} to {check.end}"
    labels = [r["label"] for r in rows if r["section"] == "budget"]
    assert all(days in text for text in labels)  # each figure says the days it covers
    cells = [c for row in workbook["Statement"].iter_rows(values_only=True) for c in row]
    assert f"Budget, {days} (weekly gross, pro-rated)" in cells
    assert check.budget.amount in [Decimal(str(c)) for c in cells if isinstance(c, int | float)]
