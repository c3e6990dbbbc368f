"""Commands as data: ``from dpledger.commands import PayInvoice``.

Each class is a frozen pydantic model, checked when built (a bad field raises
:class:`~dpledger.errors.ValidationError` naming it); ``Ledger.execute(command)`` runs one and
``Ledger.execute_many(commands)`` a batch. Each command's ``method`` names the typed ``Ledger``
method that builds the same command from looser arguments.
"""

from dpledger.application.batch import BatchReport
from dpledger.domain.careplan import AgreeCarePlan
from dpledger.domain.commands import Command
from dpledger.domain.corrections import Correct
from dpledger.domain.funds import (
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveOneOffPayment,
)
from dpledger.domain.invoices import (
    AgreeAgencyRate,
    ApproveInvoice,
    DisputeInvoice,
    PayInvoice,
    ReceiveCreditNote,
    ReceiveInvoice,
    RegisterAgency,
)
from dpledger.domain.lifecycle import (
    AgreeBudget,
    CloseAccount,
    NameBankAccount,
    OpenAccount,
    RecordReview,
    Resume,
    Suspend,
)
from dpledger.domain.payroll import (
    ClaimEmploymentAllowance,
    PayHmrc,
    PayNetWages,
    PayPension,
    RecordWageRun,
    RegisterPersonalAssistant,
)
from dpledger.domain.policychanges import ChangePolicy
from dpledger.domain.remittances import PayRemittance
from dpledger.domain.surplus import (
    DemandRecoupment,
    RepayRecoupment,
)
from dpledger.domain.suspense import (
    AcceptUnexpectedOutgoing,
    ClassifyUnexpectedIncome,
    ClassifyUnexpectedOutgoing,
    KeepUnexpectedIncome,
    ReceiveUnexpectedIncome,
    RecordUnexplainedOutgoing,
    RecoverUnexpectedOutgoing,
    RefundUnexpectedIncome,
)

__all__ = [
    "AcceptUnexpectedOutgoing",
    "AgreeAgencyRate",
    "AgreeBudget",
    "AgreeCarePlan",
    "ApproveInvoice",
    "BatchReport",
    "ChangePolicy",
    "ClaimEmploymentAllowance",
    "ClassifyUnexpectedIncome",
    "ClassifyUnexpectedOutgoing",
    "CloseAccount",
    "Command",
    "Correct",
    "DemandRecoupment",
    "DisputeInvoice",
    "KeepUnexpectedIncome",
    "NameBankAccount",
    "OpenAccount",
    "PayCarePlanSpend",
    "PayHmrc",
    "PayInvoice",
    "PayNetWages",
    "PayPension",
    "PayRemittance",
    "ReceiveContribution",
    "ReceiveCouncilPayment",
    "ReceiveCreditNote",
    "ReceiveInvoice",
    "ReceiveOneOffPayment",
    "ReceiveUnexpectedIncome",
    "RecordReview",
    "RecordUnexplainedOutgoing",
    "RecordWageRun",
    "RecoverUnexpectedOutgoing",
    "RefundUnexpectedIncome",
    "RegisterAgency",
    "RegisterPersonalAssistant",
    "RepayRecoupment",
    "Resume",
    "Suspend",
]
