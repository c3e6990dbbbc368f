"""dpledger: an event-sourced, double-entry accounting core for Direct Payment managed accounts.

``from dpledger import Ledger, Money`` is the public entry point; commands as data live in
:mod:`dpledger.commands`, errors in :mod:`dpledger.errors` and hypothesis strategies in
:mod:`dpledger.testing`.
"""

from dpledger.application.batch import BatchReport
from dpledger.domain.alerts import Alert
from dpledger.domain.chart import LedgerAccount, SpendCategory
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.ledger import AccountState, Ledger, Receipt

__version__ = "0.1.0"

__all__ = [
    "AccountPolicy",
    "AccountState",
    "Alert",
    "BatchReport",
    "Ledger",
    "LedgerAccount",
    "Money",
    "PaymentBasis",
    "PaymentFrequency",
    "Receipt",
    "SpendCategory",
    "__version__",
]
