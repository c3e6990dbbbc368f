"""Audit sheets for the report tests, built once per test session from the demo year.

``DP-1002`` has the most going on: several sources of money in and categories out, an unexpected
item resolved in the period, warnings, a correction and a budget change (so the contingency
steps); ``DP-1004`` has the most warnings. The demo year may grow, so tests compare the reports
with the sheet rather than with fixed counts; and the event timestamps change on every run, so
tests check structure and figures, never whole files.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dpledger import Ledger
from dpledger.demo import build_demo
from dpledger.reporting.statement import Statement

GENERATED_AT = datetime(2026, 4, 30, 12, tzinfo=UTC)
START, END = "2025-04-01", "2026-03-31"


@pytest.fixture(scope="session")
def demo_sheets() -> dict[str, Statement]:
    """The year's audit sheet of two demo accounts, and one of a period with no events."""
    with Ledger.in_memory() as ledger:
        build_demo(ledger)
        sheets = {
            account: ledger.statement(account, START, END, generated_at=GENERATED_AT)
            for account in ("DP-1002", "DP-1004")
        }
        # After the demo year: nothing happens, so the sheet has no events at all.
        sheets["quiet"] = ledger.statement(
            "DP-1002", "2026-06-01", "2026-06-30", generated_at=GENERATED_AT
        )
    return sheets


@pytest.fixture(scope="session")
def sheet(demo_sheets: dict[str, Statement]) -> Statement:
    """The demo account with the most going on (DP-1002)."""
    return demo_sheets["DP-1002"]
