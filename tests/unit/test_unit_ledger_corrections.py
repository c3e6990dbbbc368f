"""Ledger: corrections (reversing events) and the invariants every event keeps."""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

import pytest
from every_event import record_every_event

from dpledger import LedgerAccount, Money
from dpledger.domain.records import InvoiceStatus, SuspenseStatus
from dpledger.domain.registry import ACCOUNT_EVENTS
from dpledger.errors import (
    AccountClosed,
    DpledgerError,
    DuplicateInvoice,
    DuplicateWageRun,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    InvoiceTotalMismatch,
    Overpayment,
    SurplusExceeded,
    UnknownParty,
    ValidationError,
    WageRunDoesNotBalance,
)

A = LedgerAccount
LEGACY_EVENTS = {"BankBalanceAsserted", "PendingBankLinesSeen"}


def correct(account: Any, version: int, **kwargs: Any) -> Any:
    kwargs.setdefault("reason", "entered in error")
    return account.do("correct", version=version, **kwargs)


def test_correcting_a_council_payment_reverses_its_postings(funded: Any) -> None:
    original = funded.ledger.events("DP-1")[2]
    assert type(original).__name__ == "CouncilPaymentReceived"
    receipt = correct(funded, 3, reason="paid to the wrong account")
    event = receipt.event
    assert receipt.event_type == "EntryCorrected"
    assert receipt.version == 5
    assert event.corrected_version == 3
    assert event.corrected_type == "CouncilPaymentReceived"
    assert event.corrected_fields == {
        "amount": Money("1000.00"),
        "period_start": None,
        "period_end": None,
        "bank_reference": None,
    }
    assert event.reason == "paid to the wrong account"
    assert receipt.postings == original.postings.reversed()
    state = funded.state()
    assert state.bank_balance == Money("100.00")
    assert state.balances[A.COUNCIL_INCOME] == Money(0)
    assert funded.ledger.load("DP-1").corrected_by(3) == 5
    assert funded.ledger.load("DP-1").corrected_by(4) is None


def test_a_correction_needs_a_reason(funded: Any) -> None:
    for reason in (None, "", " "):
        with pytest.raises(ValidationError) as caught:
            funded.do("correct", version=3, reason=reason)
        assert caught.value.field == "reason"
    assert funded.version == 4


def test_an_event_cannot_be_corrected_twice(funded: Any) -> None:
    correct(funded, 4)
    with pytest.raises(InvalidTransition, match="event 4 was already corrected by event 5"):
        correct(funded, 4)
    assert funded.bank() == Money("1000.00")
    assert funded.version == 5


def test_correcting_a_missing_event_is_refused(funded: Any) -> None:
    with pytest.raises(UnknownParty, match=r"has no event 5 \(its last is 4\)"):
        correct(funded, 5)


@pytest.mark.parametrize(
    ("make", "type_name", "instead"),
    [
        (lambda f: 1, "AccountOpened", "an account is not un-opened: close it, or open another"),
        (lambda f: 2, "BudgetAgreed", "the terms are revised by a new command, not reversed"),
        (
            lambda f: f.agency().version,
            "AgencyRegistered",
            "register the agency again under another id",
        ),
        (
            lambda f: f.pa().version,
            "PersonalAssistantRegistered",
            "register the PA again under another id",
        ),
        (
            lambda f: f.do("suspend", reason="r").version,
            "AccountSuspended",
            "resume the account instead",
        ),
        (
            lambda f: (
                (
                    f.agency(),
                    f.invoice(approve=False),
                    f.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="r"),
                )[-1].version
            ),
            "InvoiceDisputed",
            "approve the invoice again",
        ),
        (
            lambda f: correct(f, 4).version,
            "EntryCorrected",
            "a correction is not reversed: record the right entry again as a new command",
        ),
    ],
)
def test_budgets_registrations_and_corrections_cannot_be_corrected(
    funded: Any, make: Any, type_name: str, instead: str
) -> None:
    """Each kind that cannot be reversed says what to do instead, and nothing is recorded."""
    version = make(funded)
    before = funded.state()
    with pytest.raises(InvalidTransition, match=f"a {type_name} cannot be corrected") as caught:
        correct(funded, version)
    assert caught.value.fix == instead
    assert caught.value.account_id == "DP-1"
    assert funded.state() == before


def test_reversing_money_already_spent_is_refused(funded: Any) -> None:
    funded.do("pay_care_plan_spend", category="insurance", amount="500.00", description="EL")
    with pytest.raises(InsufficientFunds) as caught:
        correct(funded, 3)
    assert caught.value.shortfall == Money("400.00")
    assert caught.value.balance == Money("600.00")
    assert funded.version == 5
    assert funded.ledger.load("DP-1").corrected_by(3) is None


def test_correct_a_payment_then_its_approval_then_the_invoice(funded: Any) -> None:
    funded.agency()
    received = funded.invoice("INV-1", approve=False).version  # 6
    approved = funded.do("approve_invoice", agency_id="AG-1", invoice_number="INV-1").version
    paid = funded.do(
        "pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="200.00"
    ).version
    assert (received, approved, paid) == (6, 7, 8)
    with pytest.raises(InvalidTransition, match="correct its payments first"):
        correct(funded, approved)
    with pytest.raises(InvalidTransition, match="needs it to be received or disputed"):
        correct(funded, received)

    correct(funded, paid)
    state = funded.state()
    invoice = state.invoices["AG-1/INV-1"]
    assert (invoice.status, invoice.paid) == (InvoiceStatus.APPROVED, Money(0))
    assert state.owed(A.AGENCY_PAYABLE) == Money("200.00")
    assert state.bank_balance == Money("1100.00")

    correct(funded, approved)
    state = funded.state()
    assert state.invoices["AG-1/INV-1"].status is InvoiceStatus.RECEIVED
    assert state.owed(A.AGENCY_PAYABLE) == Money(0)
    assert state.balances[A.AGENCY_CARE] == Money(0)

    correct(funded, received)
    assert funded.state().invoices["AG-1/INV-1"].status is InvoiceStatus.VOIDED
    with pytest.raises(UnknownParty):
        funded.do("approve_invoice", agency_id="AG-1", invoice_number="INV-1")
    # the number is free again
    funded.invoice("inv-1", hours="5", rate="20.00", total="100.00")
    invoice = funded.state().invoices["AG-1/INV-1"]
    assert (invoice.invoice_number, invoice.total, invoice.status) == (
        "inv-1",
        Money("100.00"),
        InvoiceStatus.APPROVED,
    )
    assert funded.owed(A.AGENCY_PAYABLE) == Money("100.00")


def test_correcting_a_part_payment_restores_what_is_owed(funded: Any) -> None:
    funded.agency()
    funded.invoice("INV-1")
    pay = {"agency_id": "AG-1", "invoice_number": "INV-1"}
    first = funded.do("pay_invoice", **pay, amount="50.00").version
    funded.do("pay_invoice", **pay, amount="150.00")
    assert funded.state().invoices["AG-1/INV-1"].status is InvoiceStatus.PAID
    correct(funded, first)
    invoice = funded.state().invoices["AG-1/INV-1"]
    assert (invoice.status, invoice.paid, invoice.outstanding) == (
        InvoiceStatus.APPROVED,
        Money("150.00"),
        Money("50.00"),
    )
    assert funded.owed(A.AGENCY_PAYABLE) == Money("50.00")
    assert funded.bank() == Money("950.00")


def test_correcting_a_stale_approval_cannot_touch_a_reused_invoice_number(funded: Any) -> None:
    funded.agency()
    received = funded.invoice("INV-1", hours="2.5", rate="20.00", total="50.00", approve=False)
    approved = funded.do("approve_invoice", agency_id="AG-1", invoice_number="INV-1")
    funded.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="wrong hours")
    correct(funded, received.version)  # voids INV-1; its number is free again
    funded.invoice("INV-1", hours="5", rate="20.00", total="100.00")  # the new INV-1, approved
    assert funded.owed(A.AGENCY_PAYABLE) == Money("100.00")
    # The old approval's liability was already withdrawn by the dispute; reversing it again
    # must not reach the new invoice.
    with contextlib.suppress(InvalidTransition):
        correct(funded, approved.version)
    state = funded.state()
    invoice = state.invoices["AG-1/INV-1"]
    assert invoice.status is InvoiceStatus.APPROVED
    assert state.owed(A.AGENCY_PAYABLE) == invoice.outstanding == Money("100.00")


def test_a_wage_run_whose_net_was_paid_cannot_be_corrected(funded: Any) -> None:
    funded.pa()
    run = funded.wage_run().version
    paid = funded.do("pay_net_wages", pa_id="PA-1", amount="415.00").version
    with pytest.raises(InvalidTransition, match="already been paid to PA-1") as caught:
        correct(funded, run)
    assert caught.value.fix == "correct the net wage payment first"
    correct(funded, paid)
    assert funded.state().personal_assistants["PA-1"].net_owed == Money("415.00")
    correct(funded, run)
    state = funded.state()
    assert state.wage_runs == {}
    assert state.personal_assistants["PA-1"].net_owed == Money(0)
    assert state.unpaid_liabilities == Money(0)
    for account in (A.PA_GROSS_WAGES, A.EMPLOYER_NI, A.EMPLOYER_PENSION):
        assert state.balances[account] == Money(0)
    assert state.bank_balance == Money("1100.00")
    # the run can be recorded again, once
    funded.wage_run()
    with pytest.raises(DuplicateWageRun):
        funded.wage_run()


def test_a_part_paid_wage_run_cannot_be_corrected(funded: Any) -> None:
    funded.pa()
    run = funded.wage_run().version
    funded.do("pay_net_wages", pa_id="PA-1", amount="0.01")
    with pytest.raises(InvalidTransition):
        correct(funded, run)


def test_a_wage_run_whose_hmrc_was_paid_cannot_be_reversed(funded: Any) -> None:
    funded.pa()
    run = funded.wage_run().version
    funded.do("pay_hmrc", amount="90.00")
    with pytest.raises(Overpayment, match=re.escape("liabilities:hmrc overpaid by £90.00")):
        correct(funded, run)
    assert funded.owed(A.PA_NET_WAGES_PAYABLE) == Money("415.00")


def test_correcting_unexpected_income_and_its_resolution(funded: Any) -> None:
    item = funded.unexpected("75.00")  # version 5
    refund = funded.do("refund_unexpected_income", item_id=item).version
    with pytest.raises(InvalidTransition, match="already refunded"):
        correct(funded, 5)
    correct(funded, refund)
    state = funded.state()
    assert state.suspense_items[item].status is SuspenseStatus.HELD
    assert state.suspense_items[item].resolution is None
    assert state.bank_balance == Money("1175.00")
    correct(funded, 5)
    state = funded.state()
    assert state.suspense_items[item].status is SuspenseStatus.REVERSED
    assert state.balances[A.SUSPENSE] == Money(0)
    assert state.bank_balance == Money("1100.00")
    # a reversed item no longer blocks closing
    funded.do("close_account", effective_date="2026-04-19")


def test_correcting_recoupment(funded: Any) -> None:
    demand = funded.do("demand_recoupment", amount="100.00").version
    repaid = funded.do("repay_recoupment", amount="100.00").version
    with pytest.raises(Overpayment):
        correct(funded, demand)
    correct(funded, repaid)
    assert funded.owed(A.COUNCIL_PAYABLE) == Money("100.00")
    assert funded.bank() == Money("1100.00")
    correct(funded, demand)
    assert funded.owed(A.COUNCIL_PAYABLE) == Money(0)
    assert funded.state().balances[A.RETURNED_TO_COUNCIL] == Money(0)


def test_a_closed_account_cannot_be_corrected(funded: Any) -> None:
    funded.do("close_account", effective_date="2026-04-19")
    with pytest.raises(AccountClosed):
        correct(funded, 4)


def test_a_correction_is_idempotent_with_a_key(funded: Any) -> None:
    first = correct(funded, 4, idempotency_key="fix-4")
    again = correct(funded, 4, idempotency_key="fix-4")
    assert again.replayed is True
    assert again.version == first.version == 5
    assert funded.bank() == Money("1000.00")


# ---------------------------------------------------------------------------- invariants
def test_every_event_balances_and_balances_are_sums_of_postings(funded: Any) -> None:
    record_every_event(funded)
    events = funded.ledger.events("DP-1")
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    # Every kind of event a managed account records now; 0.1's statement events on the account
    # itself are only read from old stores (bank accounts are aggregates of their own now).
    every_kind = set(ACCOUNT_EVENTS) - LEGACY_EVENTS
    assert {type(e).__name__ for e in events} == every_kind
    totals: dict[A, int] = {}
    bank = 0
    for event in events:
        assert sum(line.amount.pence for line in event.postings) == 0, type(event).__name__
        for line in event.postings:
            totals[line.account] = totals.get(line.account, 0) + line.amount.pence
        bank += event.postings.effect_on(A.BANK)
        assert bank >= 0
    state = funded.state()
    assert {a: b.pence for a, b in state.balances.items() if b.pence} == {
        a: p for a, p in totals.items() if p
    }
    assert sum(b.pence for b in state.balances.values()) == 0
    assert state.bank_balance == Money(0)
    assert state.unpaid_liabilities == Money(0)
    assert state.closed_on == date(2026, 5, 10)


# ---------------------------------------------------------------------------- error details
def _agency_invoice(f: Any) -> None:
    f.agency()
    f.invoice("INV-1", approve=False)


ERRORS: list[Any] = [
    pytest.param(lambda f: f.do("pay_hmrc", amount="1"), Overpayment, id="overpayment"),
    pytest.param(
        lambda f: f.do("pay_care_plan_spend", category="insurance", amount="2000", description="d"),
        InsufficientFunds,
        id="insufficient-funds",
    ),
    pytest.param(
        lambda f: f.do("demand_recoupment", amount="301"), SurplusExceeded, id="surplus-exceeded"
    ),
    pytest.param(lambda f: f.do("resume"), InvalidTransition, id="resume-open"),
    pytest.param(
        lambda f: (f.agency(), f.invoice(approve=False), f.invoice(approve=False)),
        DuplicateInvoice,
        id="duplicate-invoice",
    ),
    pytest.param(
        lambda f: (f.agency(), f.invoice(total="300.00", approve=False)),
        InvoiceTotalMismatch,
        id="invoice-total-mismatch",
    ),
    pytest.param(
        lambda f: (f.pa(), f.wage_run(net="1.00")), WageRunDoesNotBalance, id="wage-run-unbalanced"
    ),
    pytest.param(
        lambda f: (f.pa(), f.wage_run(), f.wage_run()), DuplicateWageRun, id="duplicate-wage-run"
    ),
    pytest.param(lambda f: (f.agency(), f.agency()), InvalidTransition, id="agency-twice"),
    pytest.param(
        lambda f: f.do("pay_net_wages", pa_id="PA-9", amount="1"), UnknownParty, id="unknown-pa"
    ),
    pytest.param(
        lambda f: f.do("pay_invoice", agency_id="AG-1", invoice_number="X", amount="1"),
        UnknownParty,
        id="unknown-invoice",
    ),
    pytest.param(
        lambda f: f.do("agree_budget", weekly_gross="1", weekly_contribution="2"),
        ValidationError,
        id="contribution-above-gross",
    ),
    pytest.param(
        lambda f: f.do("correct", version=2, reason="r"), InvalidTransition, id="correct-budget"
    ),
    pytest.param(
        lambda f: (f.do("correct", version=4, reason="r"), f.do("correct", version=4, reason="r")),
        InvalidTransition,
        id="correct-twice",
    ),
    pytest.param(
        lambda f: (
            f.do("receive_contribution", amount="1", idempotency_key="k")
            and f.do("receive_contribution", amount="2", idempotency_key="k")
        ),
        IdempotencyConflict,
        id="idempotency-conflict",
    ),
    pytest.param(
        lambda f: (
            _agency_invoice(f),
            f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="1"),
        ),
        InvalidTransition,
        id="pay-unapproved-invoice",
    ),
    pytest.param(
        lambda f: f.do("correct", version=99, reason="r"),
        UnknownParty,
        id="correct-missing-event",
    ),
    pytest.param(
        lambda f: f.do("refund_unexpected_income", item_id="S9"),
        UnknownParty,
        id="unknown-suspense-item",
    ),
    pytest.param(
        lambda f: f.do("receive_contribution", amount="1", effective_date="2026-01-01"),
        ValidationError,
        id="effective-date-before-opening",
    ),
    pytest.param(
        lambda f: f.do("receive_contribution", amount="0"),
        ValidationError,
        id="zero-amount",
    ),
    pytest.param(
        lambda f: f.do("suspend", reason=None),
        ValidationError,
        id="missing-reason",
    ),
]


@pytest.mark.parametrize(("provoke", "kind"), ERRORS)
def test_errors_carry_the_account_id_and_a_fix(
    funded: Any, provoke: Any, kind: type[DpledgerError]
) -> None:
    with pytest.raises(DpledgerError) as caught:
        provoke(funded)
    error = caught.value
    assert type(error) is kind
    assert error.account_id == "DP-1"
    assert str(error).startswith("[DP-1] ")
    assert error.fix, f"{type(error).__name__} has no fix: {error}"
    assert str(error).endswith(f". Fix: {error.fix}")
