"""The audit sheet keeps its evidence: the budget against spend and contributions due against
received, and text that is never cut short."""

from __future__ import annotations

import dataclasses

from dpledger import Ledger, Money
from dpledger.reporting.statement import care_spend
from dpledger.reporting.text import WIDTH, render_statement


def test_the_sheet_sets_the_budget_against_spend(audited: Ledger) -> None:
    sheet = audited.statement("DP-AUDIT", "2026-04-01", "2026-05-31")
    check = sheet.budget
    assert check is not None
    assert (check.start, check.end) == (sheet.start, sheet.end)
    # £100 a week from 2026-04-06: 8 weeks by 2026-05-31; £20 a week of it the person's.
    assert check.budget == Money("800.00")
    assert check.spent == care_spend(sheet.money_out) == Money("260.00")
    assert check.under_budget == Money("540.00")
    assert check.contributions_due == Money("160.00")
    # The £45.00 of S9 classified as a contribution on 2026-05-06 counts, as the domain counts it.
    assert check.contributions_received == Money("125.00")
    assert check.contributions_short == Money("35.00")
    text = render_statement(sheet)
    assert "BUDGET AND CONTRIBUTIONS, 2026-04-01 to 2026-05-31" in text


def test_a_long_label_keeps_its_own_line_and_its_amount(audited: Ledger) -> None:
    sheet = audited.statement("DP-AUDIT", "2026-04-01", "2026-05-31")
    long = "BANK CHARGE " + "X" * 120 + " END"
    item = dataclasses.replace(sheet.unexpected_items[1], description=long)
    text = render_statement(dataclasses.replace(sheet, unexpected_items=(item,)))
    lines = text.splitlines()
    (at,) = [i for i, line in enumerate(lines) if long in line]
    assert lines[at + 1] == f"{item.amount!s:>{WIDTH}}"
    assert "…" not in text
