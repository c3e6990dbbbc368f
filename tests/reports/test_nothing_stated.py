"""An audit sheet never reads "agreed" when the bank stated no balance (issue 11, item 7).

No reconciliation break is only reassuring if the bank stated balances to check: each renderer
(text, HTML, XLSX) says "No bank balance was stated in this period" when none was, and how many
stated balances agreed (or differ) when some were. The statement's JSON carries the count.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

import lxml.html
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, Money
from dpledger.adapters.reports.html import render_html
from dpledger.adapters.reports.spreadsheet import write_xlsx
from dpledger.demo import PoolLine, camt053
from dpledger.domain.records import ReconciliationBreak
from dpledger.reporting.statement import NOTHING_STATED, Statement
from dpledger.reporting.text import render_statement

ACCOUNT, ACTOR = "DP-NS", "finance-1"
IBAN = "GB29NWBK60161331926819"
OPENED = date(2026, 4, 6)
START, END = date(2026, 4, 7), date(2026, 4, 12)


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as the_ledger:
        the_ledger.open_account(
            ACCOUNT,
            person_ref="P-1",
            council="Kent County Council",
            provider="SOLO",
            effective_date=OPENED,
            actor=ACTOR,
        )
        the_ledger.agree_budget(
            ACCOUNT,
            weekly_gross="100.00",
            weekly_contribution="20.00",
            effective_date=OPENED,
            actor=ACTOR,
        )
        yield the_ledger


def _import(ledger: Ledger, tmp_path: Path, *, closing_off_by: int = 0) -> None:
    """One week's camt.053 statement: £320.00 in, opening £0.00, closing £320.00 (plus
    ``closing_off_by`` pence: a balance the ledger will not agree with)."""
    lines = [PoolLine(date(2026, 4, 8), 32_000, "KCC DP P-1", "KENT CC", "R-1")]
    data = camt053(lines, iban=IBAN, statement_id="S-1", period=(START, END), opening_pence=0)
    if closing_off_by:
        data = data.replace(
            b'<Amt Ccy="GBP">320.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt>',
            (
                f'<Amt Ccy="GBP">{(32_000 + closing_off_by) / 100:.2f}</Amt>'
                "<CdtDbtInd>CRDT</CdtDbtInd><Dt>"
            ).encode(),
        )
    path = tmp_path / "week.xml"
    path.write_bytes(data)
    ledger.import_bank_file(ACCOUNT, path, actor=ACTOR)


def _rendered(sheet: Statement, tmp_path: Path) -> dict[str, str]:
    """What each renderer says about reconciliation."""
    text = render_statement(sheet)
    section = text.split("RECONCILIATION BREAKS", 1)[1].split("\n\n", 1)[0]
    page = lxml.html.document_fromstring(render_html(sheet))
    html = " ".join(page.get_element_by_id("breaks").text_content().split())
    path = tmp_path / "sheet.xlsx"
    write_xlsx(sheet, path)
    rows = openpyxl.load_workbook(path)["Statement"].iter_rows(values_only=True)
    xlsx = next(str(row[2]) for row in rows if row[1] == "Bank's stated balances")
    return {"text": section, "html": html, "xlsx": xlsx}


def test_a_sheet_with_no_stated_balance_says_there_was_nothing_to_reconcile(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.receive_council_payment(
        ACCOUNT,
        amount="320.00",
        period_start=OPENED,
        period_end=date(2026, 5, 3),
        effective_date=date(2026, 4, 8),
        actor=ACTOR,
    )
    sheet = ledger.statement(ACCOUNT, START, END)
    assert sheet.stated_balances == 0
    assert sheet.reconciliation_breaks == ()
    assert sheet.reconciliation == NOTHING_STATED
    for where, said in _rendered(sheet, tmp_path).items():
        assert NOTHING_STATED in said, where
        assert "agreed" not in said, where
    assert sheet.to_dict()["stated_balances"] == 0


def test_stated_balances_that_agree_are_counted(ledger: Ledger, tmp_path: Path) -> None:
    _import(ledger, tmp_path)
    sheet = ledger.statement(ACCOUNT, START, END)
    # The opening balance is the end of the day before the statement's first day, 6 April:
    # outside the sheet's period. The closing one is inside it.
    assert sheet.stated_balances == 1
    assert sheet.reconciliation == "The bank and the ledger agreed on the 1 stated balance."
    whole = ledger.statement(ACCOUNT, OPENED, END)
    assert whole.stated_balances == 2
    assert whole.reconciliation == "The bank and the ledger agreed on all 2 stated balances."
    for where, said in _rendered(whole, tmp_path).items():
        assert "agreed on all 2 stated balances" in said, where
        assert NOTHING_STATED not in said, where
    assert json.loads(json.dumps(whole.to_dict()))["stated_balances"] == 2
    # A later period holds none of them: nothing was reconciled then.
    later = ledger.statement(ACCOUNT, date(2026, 4, 13), date(2026, 4, 30))
    assert later.stated_balances == 0
    assert later.reconciliation == NOTHING_STATED


def test_a_balance_that_differs_is_counted_among_those_stated(
    ledger: Ledger, tmp_path: Path
) -> None:
    _import(ledger, tmp_path, closing_off_by=500)
    sheet = ledger.statement(ACCOUNT, OPENED, END)
    assert sheet.stated_balances == 2
    assert len(sheet.reconciliation_breaks) == 1
    assert sheet.reconciliation == "1 of 2 stated balances differs from the ledger."
    said = _rendered(sheet, tmp_path)
    assert all(sheet.reconciliation in text for text in said.values())
    assert "£325.00" in said["text"]


@given(stated=st.integers(min_value=0, max_value=500), breaks=st.integers(0, 3))
def test_the_sentence_never_says_agreed_unless_something_agreed(stated: int, breaks: int) -> None:
    brk = ReconciliationBreak(
        effective_date=date(2026, 4, 12),
        asserted=Money("1.00"),
        ledger=Money("2.00"),
        difference=Money("-1.00"),
        source="s.xml",
        version=1,
    )
    sheet = dataclasses.replace(
        _a_sheet(), stated_balances=stated, reconciliation_breaks=(brk,) * breaks
    )
    sentence = sheet.reconciliation
    assert ("agreed" in sentence) == (stated > 0 and breaks == 0)
    assert (sentence == NOTHING_STATED) == (stated == 0 and breaks == 0)
    if breaks:
        assert sentence.startswith(f"{breaks} of {max(stated, breaks)} stated balance")
    elif stated:
        assert str(stated) in sentence


@cache
def _a_sheet() -> Statement:
    """An account's sheet with no events in the period (built once)."""
    with Ledger.in_memory() as ledger:
        ledger.open_account(
            ACCOUNT,
            person_ref="P-1",
            council="Kent County Council",
            provider="SOLO",
            effective_date=OPENED,
            actor=ACTOR,
        )
        return ledger.statement(ACCOUNT, OPENED, END)
