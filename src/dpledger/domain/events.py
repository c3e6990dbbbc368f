"""The immutable facts of a managed account.

Every event records its effective date (when it happened in the world), who did it (``actor``), why
where that matters (``reason``), the idempotency key and payload digest of the command that caused
it, and its postings, which always sum to zero. The recorded time is the event's ``timestamp``,
stamped when the event is created and stored with it. Events never change: a mistake is put right by
an :class:`EntryCorrected` event that names the event it reverses.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from dpledger.domain.chart import Postings, SpendCategory
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy


class AccountEvent(Aggregate.Event):
    """What every event of a managed account carries."""

    effective_date: date
    actor: str
    reason: str | None
    command_key: str | None
    command_digest: str | None
    postings: Postings
    previous_digest: str
    """The digest of the account's previous event (:data:`~dpledger.domain.chain.GENESIS` first)."""
    digest: str
    """This event's own digest over everything it says (see :mod:`dpledger.domain.chain`)."""

    def apply(self, aggregate: Any) -> None:
        """Hands the event to the account, which knows how each kind changes its state."""
        aggregate.when(self)


class AccountOpened(AccountEvent, Aggregate.Created):
    """A managed account was opened for a Direct Payment recipient."""

    account_id: str
    person_ref: str
    council: str
    provider: str
    policy: AccountPolicy


class BudgetAgreed(AccountEvent):
    """The personal budget was agreed or revised, from ``effective_date``."""

    weekly_gross: Money
    weekly_contribution: Money


class CouncilPaymentReceived(AccountEvent):
    """A regular council Direct Payment arrived in the bank."""

    amount: Money
    period_start: date | None
    period_end: date | None
    bank_reference: str | None


class ContributionReceived(AccountEvent):
    """The person's assessed contribution arrived in the bank."""

    amount: Money
    bank_reference: str | None


class OneOffPaymentReceived(AccountEvent):
    """A one-off council payment (equipment, a float, back-pay) arrived in the bank."""

    amount: Money
    purpose: str
    bank_reference: str | None


class AgencyRegistered(AccountEvent):
    """A care agency was registered to invoice this account."""

    agency_id: str
    name: str
    hourly_rate: Money | None


class InvoiceReceived(AccountEvent):
    """An agency invoice arrived; it is owed only once approved."""

    agency_id: str
    invoice_number: str
    period_start: date
    period_end: date
    hours: Decimal
    rate: Money
    total: Money


class InvoiceApproved(AccountEvent):
    """An agency invoice was approved for payment: it is now a liability."""

    agency_id: str
    invoice_number: str
    amount: Money


class InvoiceDisputed(AccountEvent):
    """An agency invoice was disputed; if it had been approved, the liability is withdrawn."""

    agency_id: str
    invoice_number: str
    amount: Money


class InvoicePaid(AccountEvent):
    """An approved invoice was paid, in full or in part."""

    agency_id: str
    invoice_number: str
    amount: Money
    bank_reference: str | None


class PersonalAssistantRegistered(AccountEvent):
    """A personal assistant employed by the person was registered."""

    pa_id: str
    hourly_rate: Money


class WageRunRecorded(AccountEvent):
    """A payroll run for one PA: gross pay, deductions and employer costs become liabilities."""

    pa_id: str
    period_start: date
    period_end: date
    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money


class NetWagesPaid(AccountEvent):
    """Net wages were paid to a PA."""

    pa_id: str
    amount: Money
    bank_reference: str | None


class HmrcPaid(AccountEvent):
    """PAYE and NI were paid to HMRC."""

    amount: Money
    bank_reference: str | None


class EmploymentAllowanceClaimed(AccountEvent):
    """Employment Allowance offset employer NI owed to HMRC (PA employers may claim it)."""

    amount: Money


class PensionPaid(AccountEvent):
    """Pension contributions were paid to the pension provider."""

    amount: Money
    bank_reference: str | None


class CarePlanSpendPaid(AccountEvent):
    """Other spend in the care plan (insurance, fees, equipment) was paid from the bank."""

    category: SpendCategory
    amount: Money
    description: str
    bank_reference: str | None


class UnexpectedIncomeReceived(AccountEvent):
    """Money arrived that matches nothing expected; it is held in suspense."""

    item_id: str
    amount: Money
    description: str


class UnexpectedIncomeClassified(AccountEvent):
    """Suspense money was identified as council money or the person's contribution."""

    item_id: str
    amount: Money
    classified_as: str


class UnexpectedIncomeRefunded(AccountEvent):
    """Suspense money was paid back to whoever sent it."""

    item_id: str
    amount: Money


class UnexpectedIncomeKept(AccountEvent):
    """Suspense money was kept in the account, for the reason given."""

    item_id: str
    amount: Money


class RecoupmentDemanded(AccountEvent):
    """The council demanded surplus back; ``surplus`` is what the demand was checked against."""

    amount: Money
    surplus: Money


class RecoupmentRepaid(AccountEvent):
    """Recouped surplus was paid back to the council."""

    amount: Money
    bank_reference: str | None


class AccountSuspended(AccountEvent):
    """Council payments were suspended from ``effective_date``, for ``reason``."""


class AccountResumed(AccountEvent):
    """Council payments resumed; missed payments are made good only if ``backfill_ordered``."""

    backfill_ordered: bool


class AccountClosed(AccountEvent):
    """The Direct Payment ended: the final reckoning returned the balance and closed the account."""

    returned_to_council: Money
    returned_to_person: Money
    contributions_due: Money
    contributions_received: Money
    paid_in_advance: Money
    """Council money paid for days after the policy's end date (returned within
    ``returned_to_council``)."""


class EntryCorrected(AccountEvent):
    """An earlier event was reversed: its postings posted again with debit and credit swapped."""

    corrected_version: int
    corrected_type: str
    corrected_fields: dict[str, Any]
    """The corrected event's own fields (amounts, ids), so the correction reads on its own."""


class ReviewRecorded(AccountEvent):
    """The council reviewed the Direct Payment on ``effective_date``.

    ``next_review_by`` is a date the council set for the next review, when sooner than the
    policy's interval would make it.
    """

    next_review_by: date | None


MONEY_IN: tuple[type[AccountEvent], ...] = (
    CouncilPaymentReceived,
    ContributionReceived,
    OneOffPaymentReceived,
    UnexpectedIncomeReceived,
)
"""Events that bring money into the bank."""


# ----------------------------------------------------------------- bank lines
class BankLineConfirmed(AccountEvent):
    """A booked bank line confirmed money movement already recorded (no postings).

    ``line_key`` is the line's de-duplication key; ``matched_version`` the event it confirms;
    ``amount`` is signed (positive money in, negative money out). ``reason`` says why they match.
    """

    line_key: str
    matched_version: int
    matched_type: str
    amount: Money
    description: str


class UnexpectedOutgoingRecorded(AccountEvent):
    """Money left the bank that matches nothing expected; held until someone explains it."""

    item_id: str
    amount: Money
    description: str


class UnexpectedOutgoingClassified(AccountEvent):
    """An unexplained outgoing was identified as care-plan spend of one category."""

    item_id: str
    amount: Money
    category: SpendCategory


class UnexpectedOutgoingRecovered(AccountEvent):
    """An unexplained outgoing came back: into the bank, or as unexpected income already held
    (``income_item_id``)."""

    item_id: str
    amount: Money
    income_item_id: str | None


class UnexpectedOutgoingAccepted(AccountEvent):
    """An unexplained outgoing was accepted as spent and not recoverable, for the reason given."""

    item_id: str
    amount: Money


class BankBalanceAsserted(AccountEvent):
    """A bank statement stated the bank balance at the end of ``effective_date`` (no postings).

    ``balance`` is signed (an overdraft is negative); ``stated_date`` and ``kind`` are as the bank
    wrote them, ``position`` is ``"opening"`` or ``"closing"``, ``source`` the file and statement.
    A difference from the ledger is derived, never posted: see ``reconciliation_breaks``.
    """

    balance: Money
    stated_date: date
    kind: str
    position: str
    source: str


class PendingBankLinesSeen(AccountEvent):
    """The bank's pending (not yet booked) lines as of ``as_of``; they post nothing and are
    replaced by later imports and by the booked lines that settle them."""

    as_of: date | None
    lines: list[Any]
    """:class:`~dpledger.domain.records.PendingBankLine` records."""
    source: str
