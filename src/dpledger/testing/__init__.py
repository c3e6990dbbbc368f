"""What dpledger ships for property-based testing of payment rules.

``dpledger.testing.strategies`` has hypothesis strategies for amounts, dates, policies, invoices and
payslips that satisfy the domain's rules; ``dpledger.testing.invariants`` checks a ledger's
invariants (postings balance, bank never below zero, balances are sums of postings). Needs the
``testing`` extra (hypothesis).
"""

from dpledger.testing.invariants import InvariantViolation, check_account_invariants

__all__ = ["InvariantViolation", "check_account_invariants"]
