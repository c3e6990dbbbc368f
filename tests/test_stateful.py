"""Random command sequences against a clerk's model (dpledger.testing.stateful.LedgerMachine).

After every step: postings sum to zero; bank = money in - money out; the library never took the
bank below zero; the ledger refuses exactly what the model refuses, with its shortfall, and a
refusal records nothing; reloading the account from the store (events, snapshots, and a second
ledger on the SQLite file) gives the same state; idempotent retries change nothing; and the
ledger's bank, debts, suspense and spending agree with the model.
"""

from __future__ import annotations

from hypothesis import settings

from dpledger.testing.stateful import LedgerMachine, SqliteLedgerMachine

TestLedgerMachine = LedgerMachine.TestCase
TestSqliteLedgerMachine = SqliteLedgerMachine.TestCase
TestSqliteLedgerMachine.settings = settings(
    settings.default, max_examples=max(5, settings.default.max_examples // 4)
)
