"""The bank statement strategies give statements that add up and import whole."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from dpledger import Ledger
from dpledger.adapters.bankfeeds import BankStatement, BankTransaction, Direction, EntryStatus
from dpledger.testing import check_ledger_invariants
from dpledger.testing import strategies as dps
from dpledger.testing.banklines import ACCOUNT

QUICK = settings(suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(dps.bank_statements())
def test_a_statement_adds_up_runs_in_date_order_and_never_goes_overdrawn(
    statement: BankStatement,
) -> None:
    assert statement.unexplained_difference() is not None
    assert statement.unexplained_difference().pence == 0
    days = [line.booking_date for line in statement.transactions]
    assert days == sorted(days)
    running = [line.running_balance for line in statement.transactions]
    assert all(balance is not None and balance.pence >= 0 for balance in running)
    keys = [line.dedup_key for line in statement.transactions]
    assert len(keys) == len(set(keys))


@QUICK
@given(dps.bank_transactions(pending=True, direction=Direction.DEBIT))
def test_a_line_is_the_direction_asked_and_booked_lines_have_a_date(
    line: BankTransaction,
) -> None:
    assert line.direction is Direction.DEBIT
    assert line.amount.is_positive()
    assert line.status is EntryStatus.PENDING or line.booking_date is not None


@QUICK
@given(dps.bank_statements(max_lines=8))
def test_a_statement_imports_whole_once_and_the_ledger_agrees_with_the_bank(
    statement: BankStatement,
) -> None:
    with Ledger.in_memory() as ledger:
        ledger.open_account(
            "DP-1",
            person_ref="P-1",
            council="Testshire",
            provider="Provider",
            bank_account=ACCOUNT,
            effective_date="2026-04-01",
            actor="property-test",
        )
        ledger.import_statement("DP-1", statement, actor="property-test")
        assert statement.closing_balance is not None
        assert ledger.bank_balance("DP-1") == statement.closing_balance.balance
        version = ledger.load("DP-1").version
        ledger.import_statement("DP-1", statement, actor="property-test")
        assert ledger.load("DP-1").version == version  # the same lines again record nothing
        # An import applies a day's lines in key order, not the bank's: only days must end >= 0.
        check_ledger_invariants(ledger, recording_order=False)
