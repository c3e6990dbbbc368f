"""Hypothesis strategies for dpledger, each giving only what the domain's rules allow.

Single values: :func:`money`, :func:`effective_dates`, :func:`hours`, :func:`policies`,
:func:`budgets`, :func:`invoice_figures`, :func:`payslips`, :func:`idempotency_keys`. Whole
sequences of ``dpledger.commands`` a fresh ledger accepts in order: :func:`command_sequences` and
:func:`account_histories` (open to close). Bank data: :func:`bank_transactions` and
:func:`bank_statements`.

>>> from hypothesis import given
>>> from dpledger.testing import strategies as dps
>>> @given(dps.command_sequences())
... def test_any_sequence_keeps_the_invariants(commands): ...
"""

from __future__ import annotations

from dpledger.testing.banklines import bank_statements, bank_transactions
from dpledger.testing.primitives import (
    BudgetFigures,
    InvoiceFigures,
    PayslipFigures,
    budgets,
    effective_dates,
    hours,
    idempotency_keys,
    invoice_figures,
    money,
    payslips,
    policies,
)
from dpledger.testing.sequences import account_histories, command_sequences

__all__ = [
    "BudgetFigures",
    "InvoiceFigures",
    "PayslipFigures",
    "account_histories",
    "bank_statements",
    "bank_transactions",
    "budgets",
    "command_sequences",
    "effective_dates",
    "hours",
    "idempotency_keys",
    "invoice_figures",
    "money",
    "payslips",
    "policies",
]
