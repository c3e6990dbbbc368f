"""What dpledger ships for property-based testing of payment rules (the ``testing`` extra).

- :mod:`dpledger.testing.strategies`: hypothesis strategies for domain values, whole command
  sequences a ledger accepts (:func:`~dpledger.testing.strategies.command_sequences`,
  :func:`~dpledger.testing.strategies.account_histories`) and bank statements.
- :mod:`dpledger.testing.invariants`: the invariants every account keeps (postings balance,
  bank never below zero, balances are sums of postings, replay gives the same account, pools
  add up); the functions are exported here too.
- :mod:`dpledger.testing.model`: a clerk's model of one account, saying what the ledger must
  accept or refuse.
- :mod:`dpledger.testing.stateful`: :class:`~dpledger.testing.stateful.LedgerMachine`, a hypothesis
  ``RuleBasedStateMachine`` driving a ledger against the model; subclass it to add rules.
- :mod:`dpledger.testing.plugin`: pytest fixtures ``dpledger_ledger`` (in memory) and
  ``dpledger_sqlite_ledger``, registered as a ``pytest11`` plugin.

Importing this package needs no hypothesis; its submodules other than ``invariants`` do.
"""

from dpledger.testing.invariants import (
    InvariantViolation,
    check_account_invariants,
    check_ledger_invariants,
    check_pool_invariants,
)

__all__ = [
    "InvariantViolation",
    "check_account_invariants",
    "check_ledger_invariants",
    "check_pool_invariants",
]
