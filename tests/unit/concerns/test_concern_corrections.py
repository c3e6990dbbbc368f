"""Corrections: every correctable event reversed, its postings and its documents restored."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from concern_harness import FUNDED, Given, cmd, given

from dpledger.domain.account import PARTS, ManagedAccount
from dpledger.domain.commands import Command
from dpledger.domain.corrections import Correct, EntryCorrected, own_fields
from dpledger.domain.errors import (
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.events import Correctable
from dpledger.domain.funds import (
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveOneOffPayment,
)
from dpledger.domain.invoices import (
    ApproveInvoice,
    DisputeInvoice,
    PayInvoice,
    ReceiveCreditNote,
    ReceiveInvoice,
    RegisterAgency,
)
from dpledger.domain.lifecycle import RecordReview
from dpledger.domain.money import Money
from dpledger.domain.payroll import (
    ClaimEmploymentAllowance,
    PayHmrc,
    PayNetWages,
    PayPension,
    RecordWageRun,
    RegisterPersonalAssistant,
)
from dpledger.domain.records import InvoiceStatus, OutgoingStatus, SuspenseStatus
from dpledger.domain.registry import ACCOUNT_EVENTS
from dpledger.domain.remittances import PayRemittance
from dpledger.domain.surplus import DemandRecoupment, RepayRecoupment
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

AGENCY = cmd(RegisterAgency, agency_id="AG-1", name="Oak Care", hourly_rate="20.00")
INVOICE = cmd(
    ReceiveInvoice,
    agency_id="AG-1",
    invoice_number="INV-7",
    period_start="2026-04-06",
    period_end="2026-04-12",
    hours="10",
    rate="20.00",
    total="200.00",
)
APPROVE = cmd(ApproveInvoice, agency_id="AG-1", invoice_number="INV-7")
PA = cmd(RegisterPersonalAssistant, pa_id="PA-1", hourly_rate="12.71")
WAGE_RUN = cmd(
    RecordWageRun,
    pa_id="PA-1",
    period_start="2026-04-06",
    period_end="2026-04-12",
    hours="39.34",
    gross="500.00",
    paye="40.00",
    employee_ni="20.00",
    employer_ni="30.00",
    employee_pension="25.00",
    employer_pension="15.00",
    net="415.00",
)
INCOME = cmd(ReceiveUnexpectedIncome, amount="75.00", description="UNKNOWN TRANSFER")
OUTGOING = cmd(RecordUnexplainedOutgoing, amount="75.00", description="CARD CHARGE")


def credit(amount: str = "20.00") -> Command:
    return cmd(
        ReceiveCreditNote,
        agency_id="AG-1",
        invoice_number="INV-7",
        credit_note_number="CN-1",
        amount=amount,
    )


def correct(version: int, **fields: Any) -> Command:
    fields.setdefault("reason", "entered in error")
    return cmd(Correct, version=version, **fields)


Check = Callable[[ManagedAccount, dict[str, Any]], None]


def _voided(account: ManagedAccount, before: dict[str, Any]) -> None:
    invoice = account.invoicing.invoices["AG-1/INV-7"]
    assert (invoice.status, invoice.settled_on) == (InvoiceStatus.VOIDED, date(2026, 4, 13))
    del account.invoicing.invoices["AG-1/INV-7"]  # what is left is as it was before


def _income_reversed(account: ManagedAccount, before: dict[str, Any]) -> None:
    item = account.suspense.income.pop("S5")
    assert item.status is SuspenseStatus.REVERSED
    assert account.suspense.held_ids() == []


def _outgoing_reversed(account: ManagedAccount, before: dict[str, Any]) -> None:
    item = account.suspense.outgoings.pop("U5")
    assert item.status is OutgoingStatus.REVERSED
    assert account.suspense.held_ids() == []


@dataclass(frozen=True)
class Case:
    """An event recorded by ``command`` after ``setup``, and what its correction leaves behind
    beyond the account as it was before the event (``changed``, which also removes it)."""

    event_type: str
    setup: tuple[Command, ...]
    command: Command
    changed: Check | None = None


CASES = [
    Case(
        "CouncilPaymentReceived",
        FUNDED,
        cmd(
            ReceiveCouncilPayment,
            amount="500.00",
            period_start="2026-04-13",
            period_end="2026-05-10",
        ),
    ),
    Case("ContributionReceived", FUNDED, cmd(ReceiveContribution, amount="38.50")),
    Case(
        "OneOffPaymentReceived",
        FUNDED,
        cmd(ReceiveOneOffPayment, amount="250.00", purpose="hoist"),
    ),
    Case(
        "CarePlanSpendPaid",
        FUNDED,
        cmd(PayCarePlanSpend, category="insurance", amount="96.50", description="EL"),
    ),
    Case("RecoupmentDemanded", FUNDED, cmd(DemandRecoupment, amount="100.00")),
    Case(
        "RecoupmentRepaid",
        (*FUNDED, cmd(DemandRecoupment, amount="100.00")),
        cmd(RepayRecoupment, amount="100.00"),
    ),
    Case("InvoiceReceived", (*FUNDED, AGENCY), INVOICE, _voided),
    Case("InvoiceApproved", (*FUNDED, AGENCY, INVOICE), APPROVE),
    Case(
        "InvoicePaid",
        (*FUNDED, AGENCY, INVOICE, APPROVE),
        cmd(PayInvoice, agency_id="AG-1", invoice_number="INV-7", amount="200.00"),
    ),
    Case(
        "RemittancePaid",
        (*FUNDED, AGENCY, INVOICE, APPROVE),
        cmd(PayRemittance, agency_id="AG-1", payments={"INV-7": "150.00"}),
    ),
    Case("CreditNoteReceived", (*FUNDED, AGENCY, INVOICE, APPROVE), credit()),
    Case("WageRunRecorded", (*FUNDED, PA), WAGE_RUN),
    Case(
        "NetWagesPaid",
        (*FUNDED, PA, WAGE_RUN),
        cmd(PayNetWages, pa_id="PA-1", amount="415.00"),
    ),
    Case("HmrcPaid", (*FUNDED, PA, WAGE_RUN), cmd(PayHmrc, amount="90.00")),
    Case("PensionPaid", (*FUNDED, PA, WAGE_RUN), cmd(PayPension, amount="40.00")),
    Case(
        "EmploymentAllowanceClaimed",
        (*FUNDED, PA, WAGE_RUN),
        cmd(ClaimEmploymentAllowance, amount="30.00"),
    ),
    Case("UnexpectedIncomeReceived", FUNDED, INCOME, _income_reversed),
    Case(
        "UnexpectedIncomeClassified",
        (*FUNDED, INCOME),
        cmd(ClassifyUnexpectedIncome, item_id="S5", classified_as="council"),
    ),
    Case(
        "UnexpectedIncomeRefunded",
        (*FUNDED, INCOME),
        cmd(RefundUnexpectedIncome, item_id="S5"),
    ),
    Case(
        "UnexpectedIncomeKept",
        (*FUNDED, INCOME),
        cmd(KeepUnexpectedIncome, item_id="S5", reason="bank interest"),
    ),
    Case("UnexpectedOutgoingRecorded", FUNDED, OUTGOING, _outgoing_reversed),
    Case(
        "UnexpectedOutgoingClassified",
        (*FUNDED, OUTGOING),
        cmd(ClassifyUnexpectedOutgoing, item_id="U5", category="insurance"),
    ),
    Case(
        "UnexpectedOutgoingRecovered",
        (*FUNDED, OUTGOING, INCOME),
        cmd(RecoverUnexpectedOutgoing, item_id="U5", income_item_id="S6"),
    ),
    Case(
        "UnexpectedOutgoingAccepted",
        (*FUNDED, OUTGOING),
        cmd(AcceptUnexpectedOutgoing, item_id="U5", reason="bank's fee"),
    ),
]


def _documents(account: ManagedAccount) -> dict[str, Any]:
    """The account's parts, but for the corrections themselves and the figures a reversal
    nets to nothing without removing (a ledger account or a day that is back to zero)."""
    parts = {name: copy.deepcopy(getattr(account, name)) for name in PARTS}
    del parts["corrections"]
    funds = parts["funds"]
    parts["funds"] = dataclasses.replace(
        funds,
        balances={code: pence for code, pence in funds.balances.items() if pence},
        bank_days={day: pence for day, pence in funds.bank_days.items() if pence},
        last_day=None,
    )
    return parts


def test_every_correctable_event_has_a_case() -> None:
    correctable = {
        name for name, cls in ACCOUNT_EVENTS.items() if isinstance(cls.correction, Correctable)
    }
    assert {case.event_type for case in CASES} == correctable


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.event_type)
def test_a_correction_reverses_the_event_and_restores_its_documents(case: Case) -> None:
    scenario = given(*case.setup)
    account = scenario.account
    assert account is not None
    before = _documents(account)
    balances = account.balances
    (event,) = scenario.when(case.command).then(ACCOUNT_EVENTS[case.event_type])
    version = event.originator_version

    corrected = scenario.when(correct(version)).event(
        EntryCorrected,
        corrected_version=version,
        corrected_type=case.event_type,
        corrected_fields=own_fields(event),
        postings=event.postings.reversed(),
        reason="entered in error",
    )
    assert account.balances == balances
    assert account.corrected_by(version) == corrected.originator_version
    if case.changed is not None:
        case.changed(account, before)
    assert _documents(account) == before
    # Restored, the documents take the same command again.
    if case.changed is None:
        scenario.when(case.command).then(ACCOUNT_EVENTS[case.event_type])


def test_a_voided_invoice_number_can_be_used_again() -> None:
    scenario = given(*FUNDED, AGENCY, INVOICE, correct(6))
    scenario.when(INVOICE).then(ACCOUNT_EVENTS["InvoiceReceived"])
    account = scenario.account
    assert account is not None
    assert account.invoice("AG-1", "INV-7").received_version == 8


def test_a_corrected_credit_note_number_can_be_used_again() -> None:
    scenario = given(*FUNDED, AGENCY, INVOICE, APPROVE, credit("20.00"), correct(8))
    scenario.when(credit("25.00")).then(ACCOUNT_EVENTS["CreditNoteReceived"])
    account = scenario.account
    assert account is not None
    assert account.invoice("AG-1", "INV-7").credited == Money("25.00")


def test_correcting_the_first_council_payment_moves_the_first_review() -> None:
    scenario = given(
        *FUNDED[:2],
        cmd(ReceiveCouncilPayment, amount="10.00", effective_date="2026-04-06"),
        cmd(ReceiveCouncilPayment, amount="10.00", effective_date="2026-05-04"),
    )
    account = scenario.account
    assert account is not None
    assert account.next_review_due == date(2026, 10, 6)
    scenario.after(correct(3, reason="it was the other account's"))
    assert account.first_payment_on == date(2026, 5, 4)
    assert account.next_review_due == date(2026, 11, 4)
    scenario.after(correct(4, reason="it was the other account's", effective_date="2026-05-04"))
    assert account.first_payment_on is None
    assert account.next_review_due is None


# ---------------------------------------------------------------------------- refusals
REFUSALS = [
    pytest.param(
        (*FUNDED, AGENCY, INVOICE, APPROVE),
        6,
        InvalidTransition,
        "INV-7 from AG-1 is approved; this needs it to be received or disputed",
        id="approved-invoice",
    ),
    pytest.param(
        (*FUNDED, AGENCY, INVOICE, credit()),
        6,
        InvalidTransition,
        r"invoice INV-7 has credit notes of £20.00",
        id="credited-invoice",
    ),
    pytest.param(
        (
            *FUNDED,
            AGENCY,
            INVOICE,
            APPROVE,
            cmd(PayInvoice, agency_id="AG-1", invoice_number="INV-7", amount="1.00"),
        ),
        7,
        InvalidTransition,
        r"invoice INV-7 is approved with £1.00 paid",
        id="paid-approval",
    ),
    pytest.param(
        (*FUNDED, AGENCY, INVOICE, APPROVE, credit()),
        7,
        InvalidTransition,
        "INV-7 had credit notes since it was approved",
        id="approval-credited-since",
    ),
    pytest.param(
        (
            *FUNDED,
            AGENCY,
            INVOICE,
            credit(),
            APPROVE,
        ),
        7,
        InvalidTransition,
        "was not approved when the credit note came and is approved now",
        id="credit-note-status-changed",
    ),
    pytest.param(
        (
            *FUNDED,
            AGENCY,
            INVOICE,
            APPROVE,
            credit(),
            cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7", reason="hours"),
        ),
        8,
        InvalidTransition,
        "INV-7 was approved when the credit note came and is disputed now",
        id="credit-note-invoice-disputed-since",
    ),
    pytest.param(
        (*FUNDED, PA, WAGE_RUN, cmd(PayNetWages, pa_id="PA-1", amount="1.00")),
        6,
        InvalidTransition,
        "net wages of this run have already been paid to PA-1",
        id="paid-wage-run",
    ),
    pytest.param(
        (*FUNDED, INCOME, cmd(RefundUnexpectedIncome, item_id="S5")),
        5,
        InvalidTransition,
        "suspense item S5 was already refunded",
        id="resolved-income",
    ),
    pytest.param(
        (*FUNDED, OUTGOING, cmd(AcceptUnexpectedOutgoing, item_id="U5", reason="fee")),
        5,
        InvalidTransition,
        "unexplained outgoing U5 was already accepted",
        id="resolved-outgoing",
    ),
    pytest.param(
        (*FUNDED, cmd(DemandRecoupment, amount="100.00"), cmd(RepayRecoupment, amount="100.00")),
        5,
        Overpayment,
        "liabilities:council overpaid by £100.00",
        id="repaid-recoupment",
    ),
    pytest.param(
        (
            *FUNDED,
            cmd(PayCarePlanSpend, category="insurance", amount="500.00", description="EL"),
        ),
        3,
        InsufficientFunds,
        r"the bank cannot cover £1,000.00 on 2026-04-13: £600.00 is available",
        id="money-already-spent",
    ),
    pytest.param(FUNDED, 5, UnknownParty, r"has no event 5 \(its last is 4\)", id="no-event"),
]


@pytest.mark.parametrize(("setup", "version", "error", "match"), REFUSALS)
def test_a_correction_its_event_does_not_allow_is_refused(
    setup: tuple[Command, ...], version: int, error: type[Exception], match: str
) -> None:
    given(*setup).when(correct(version)).refused(error, match)  # type: ignore[arg-type]


def test_an_event_is_corrected_once() -> None:
    scenario = given(*FUNDED, correct(4))
    scenario.when(correct(4)).refused(InvalidTransition, "event 4 was already corrected by event 5")


def test_a_correction_of_an_event_that_is_not_correctable_says_what_to_do() -> None:
    scenario: Given = given(*FUNDED, cmd(RecordReview))
    error = scenario.when(correct(5)).refused(
        InvalidTransition, "a ReviewRecorded cannot be corrected"
    )
    assert error.fix == "record the review again"


def test_a_correction_needs_a_reason() -> None:
    for reason in (None, "", "  "):
        with pytest.raises(ValidationError) as caught:
            correct(4, reason=reason)
        assert caught.value.field == "reason"


def test_a_disputed_invoice_voided_after_its_approval_was_corrected() -> None:
    scenario = given(
        *FUNDED,
        AGENCY,
        INVOICE,
        APPROVE,
        cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7", reason="hours"),
    )
    # The approval is no longer in force once disputed, so correcting it is refused; the
    # invoice itself, disputed, may be voided.
    scenario.when(correct(7)).refused(InvalidTransition, "is not the one that event recorded")
    scenario.when(correct(6)).then(EntryCorrected)
    account = scenario.account
    assert account is not None
    assert account.invoicing.invoices["AG-1/INV-7"].status is InvoiceStatus.VOIDED
