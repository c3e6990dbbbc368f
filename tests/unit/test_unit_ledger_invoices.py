"""Ledger: agencies and their invoices (received, approved, disputed, paid)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.domain.records import InvoiceStatus
from dpledger.errors import (
    DuplicateInvoice,
    InsufficientFunds,
    InvalidTransition,
    InvoiceTotalMismatch,
    Overpayment,
    UnknownParty,
    ValidationError,
)

A = LedgerAccount


@pytest.fixture
def agency(funded: Any) -> Any:
    funded.agency("AG-1", hourly_rate="20.00")
    return funded


def test_register_agency(funded: Any) -> None:
    receipt = funded.agency("AG-1", hourly_rate="20.00")
    assert receipt.event_type == "AgencyRegistered"
    assert not receipt.postings
    agency = funded.state().agencies["AG-1"]
    assert (agency.name, agency.hourly_rate) == ("AG-1 Care", Money("20.00"))
    with pytest.raises(InvalidTransition, match="already registered") as caught:
        funded.agency("AG-1")
    assert caught.value.account_id == "DP-1"
    assert caught.value.fix == "use the existing agency id; agree a new rate with agree_agency_rate"


def test_invoice_received_is_not_owed_until_approved(agency: Any) -> None:
    receipt = agency.invoice("INV-1", hours="10", rate="20.00", total="200.00", approve=False)
    assert receipt.event_type == "InvoiceReceived"
    assert not receipt.postings
    invoice = agency.state().invoices["AG-1/INV-1"]
    assert invoice.status is InvoiceStatus.RECEIVED
    assert invoice.hours == Decimal("10")
    assert invoice.total == Money("200.00")
    assert invoice.outstanding == Money(0)
    assert agency.owed(A.AGENCY_PAYABLE) == Money(0)


def test_approval_makes_the_invoice_owed(agency: Any) -> None:
    receipt = agency.invoice("INV-1", total="200.00")
    assert receipt.event_type == "InvoiceApproved"
    assert receipt.event.amount == Money("200.00")
    assert receipt.postings.effect_on(A.AGENCY_CARE) == 20000
    assert receipt.postings.effect_on(A.AGENCY_PAYABLE) == -20000
    state = agency.state()
    assert state.invoices["AG-1/INV-1"].status is InvoiceStatus.APPROVED
    assert state.invoices["AG-1/INV-1"].outstanding == Money("200.00")
    assert state.owed(A.AGENCY_PAYABLE) == Money("200.00")
    assert state.unpaid_liabilities == Money("200.00")


@pytest.mark.parametrize(
    ("hours", "rate", "total"),
    [("10", "20.00", "200.02"), ("10", "20.00", "199.98"), ("10.25", "12.71", "130.30")],
)
def test_invoice_total_must_be_hours_times_rate_within_a_penny(
    agency: Any, hours: str, rate: str, total: str
) -> None:
    with pytest.raises(InvoiceTotalMismatch) as caught:
        agency.invoice("INV-1", hours=hours, rate=rate, total=total, approve=False)
    assert caught.value.account_id == "DP-1"
    assert "within a penny" in caught.value.fix
    assert f"total £{total}" in str(caught.value)
    assert agency.version == 5
    assert agency.state().invoices == {}


@pytest.mark.parametrize("total", ["200.01", "199.99", "200.00"])
def test_a_penny_of_rounding_is_accepted(agency: Any, total: str) -> None:
    agency.invoice("INV-1", hours="10", rate="20.00", total=total, approve=False)
    # 10.25h x £12.71 = £130.2775: both £130.27 and £130.28 are fine
    agency.invoice("INV-2", hours="10.25", rate="12.71", total="130.28", approve=False)
    assert len(agency.state().invoices) == 2


@pytest.mark.parametrize("again", ["INV-1", "inv-1", " INV-1 ", "INV -1", "I N V-1", "inv-1\t"])
def test_duplicate_invoice_number_from_the_same_agency_is_refused(agency: Any, again: str) -> None:
    agency.invoice("INV-1", approve=False)
    with pytest.raises(DuplicateInvoice) as caught:
        agency.invoice(again, hours="5", rate="20.00", total="100.00", approve=False)
    assert caught.value.account_id == "DP-1"
    assert "INV-1" in str(caught.value)
    assert "fraud" in caught.value.fix
    assert agency.version == 6
    assert list(agency.state().invoices) == ["AG-1/INV-1"]


def test_duplicate_is_refused_whatever_the_first_invoice_became(agency: Any) -> None:
    agency.invoice("INV-1")
    agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="200.00")
    with pytest.raises(DuplicateInvoice, match="paid"):
        agency.invoice("inv-1", approve=False)


def test_same_number_from_another_agency_is_allowed(agency: Any) -> None:
    agency.agency("AG-2")
    agency.invoice("INV-1", agency_id="AG-1", approve=False)
    agency.invoice("INV-1", agency_id="AG-2", approve=False)
    assert set(agency.state().invoices) == {"AG-1/INV-1", "AG-2/INV-1"}


def test_invoice_from_an_unknown_agency_is_refused(agency: Any) -> None:
    with pytest.raises(UnknownParty, match="no agency 'AG-9'") as caught:
        agency.invoice("INV-1", agency_id="AG-9", approve=False)
    assert caught.value.fix == "register the agency first"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": "1.234", "total": "24.68"}, "hours"),
        ({"hours": "-1", "total": "20.00"}, "hours"),
        ({"hours": 1.5, "total": "30.00"}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"hours": "ten"}, "hours"),
        ({"rate": "0"}, "rate"),
        ({"total": "0", "hours": "0"}, "total"),
        ({"invoice_number": "  "}, "invoice_number"),
        ({"period_start": "2026-04-13", "period_end": "2026-04-12"}, "period_end"),
    ],
)
def test_invoice_fields_are_validated(agency: Any, change: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "agency_id": "AG-1",
        "invoice_number": "INV-1",
        "period_start": "2026-04-06",
        "period_end": "2026-04-12",
        "hours": "10",
        "rate": "20.00",
        "total": "200.00",
    }
    args.update(change)
    with pytest.raises(ValidationError) as caught:
        agency.do("receive_invoice", **args)
    assert caught.value.field == field
    assert agency.version == 5


def test_absurd_hours_are_a_validation_error(agency: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        agency.invoice("INV-1", hours="1e30", total="200.00", approve=False)
    assert caught.value.field == "hours"


# ---------------------------------------------------------------------------- paying
def test_pay_in_full(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    receipt = agency.do(
        "pay_invoice",
        agency_id="AG-1",
        invoice_number="inv-1",
        amount="200.00",
        bank_reference="FP-1",
    )
    assert receipt.event_type == "InvoicePaid"
    assert receipt.event.invoice_number == "INV-1"
    assert receipt.postings.effect_on(A.AGENCY_PAYABLE) == 20000
    assert receipt.postings.effect_on(A.BANK) == -20000
    state = agency.state()
    invoice = state.invoices["AG-1/INV-1"]
    assert (invoice.status, invoice.paid, invoice.outstanding) == (
        InvoiceStatus.PAID,
        Money("200.00"),
        Money(0),
    )
    assert state.bank_balance == Money("900.00")
    assert state.owed(A.AGENCY_PAYABLE) == Money(0)
    assert state.balances[A.AGENCY_CARE] == Money("200.00")


def test_part_payments(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    pay = {"agency_id": "AG-1", "invoice_number": "INV-1"}
    agency.do("pay_invoice", **pay, amount="50.00")
    invoice = agency.state().invoices["AG-1/INV-1"]
    assert (invoice.status, invoice.paid, invoice.outstanding) == (
        InvoiceStatus.APPROVED,
        Money("50.00"),
        Money("150.00"),
    )
    assert agency.owed(A.AGENCY_PAYABLE) == Money("150.00")
    with pytest.raises(Overpayment) as caught:
        agency.do("pay_invoice", **pay, amount="150.01")
    assert caught.value.fix == "pay at most £150.00"
    assert caught.value.account_id == "DP-1"
    agency.do("pay_invoice", **pay, amount="149.99")
    agency.do("pay_invoice", **pay, amount="0.01")
    invoice = agency.state().invoices["AG-1/INV-1"]
    assert (invoice.status, invoice.paid) == (InvoiceStatus.PAID, Money("200.00"))
    assert agency.bank() == Money("900.00")
    assert agency.version == 10


def test_paying_more_than_owed_is_refused(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    with pytest.raises(Overpayment, match=re.escape("£200.01 is more than the £200.00 owed")):
        agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="200.01")
    assert agency.version == 7
    assert agency.bank() == Money("1100.00")


def test_paying_twice_is_an_invalid_transition(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    pay = {"agency_id": "AG-1", "invoice_number": "INV-1", "amount": "200.00"}
    agency.do("pay_invoice", **pay)
    with pytest.raises(InvalidTransition, match="already paid in full") as caught:
        agency.do("pay_invoice", **pay)
    assert "do not pay an invoice twice" in caught.value.fix
    assert agency.bank() == Money("900.00")
    assert agency.version == 8


@pytest.mark.parametrize("status", ["received", "disputed"])
def test_only_approved_invoices_can_be_paid(agency: Any, status: str) -> None:
    agency.invoice("INV-1", approve=False)
    if status == "disputed":
        agency.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="hours")
    with pytest.raises(InvalidTransition, match=f"is {status}; this needs it to be approved"):
        agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="1.00")


def test_paying_an_unknown_invoice_is_refused(agency: Any) -> None:
    with pytest.raises(UnknownParty, match="no invoice 'NOPE'"):
        agency.do("pay_invoice", agency_id="AG-1", invoice_number="NOPE", amount="1.00")


def test_paying_beyond_the_bank_balance_is_refused(agency: Any) -> None:
    agency.invoice("INV-1", hours="60", rate="20.00", total="1200.00")
    with pytest.raises(InsufficientFunds) as caught:
        agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="1200.00")
    assert caught.value.shortfall == Money("100.00")
    assert caught.value.balance == Money("1100.00")
    # a part payment the bank can cover is fine
    agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="1100.00")
    assert agency.bank() == Money(0)


# ---------------------------------------------------------------------------- disputes
def test_disputing_an_approved_invoice_withdraws_the_liability(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    receipt = agency.do(
        "dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="hours not worked"
    )
    assert receipt.event_type == "InvoiceDisputed"
    assert receipt.event.amount == Money("200.00")
    assert receipt.event.reason == "hours not worked"
    assert receipt.postings.effect_on(A.AGENCY_PAYABLE) == 20000
    assert receipt.postings.effect_on(A.AGENCY_CARE) == -20000
    state = agency.state()
    assert state.invoices["AG-1/INV-1"].status is InvoiceStatus.DISPUTED
    assert state.owed(A.AGENCY_PAYABLE) == Money(0)
    assert state.balances[A.AGENCY_CARE] == Money(0)
    # approving it again makes it owed again
    agency.do("approve_invoice", agency_id="AG-1", invoice_number="INV-1")
    assert agency.owed(A.AGENCY_PAYABLE) == Money("200.00")


def test_disputing_a_received_invoice_posts_nothing(agency: Any) -> None:
    agency.invoice("INV-1", approve=False)
    receipt = agency.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="x")
    assert receipt.event.amount == Money(0)
    assert not receipt.postings


def test_a_part_paid_invoice_cannot_be_disputed(agency: Any) -> None:
    agency.invoice("INV-1", total="200.00")
    agency.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="10.00")
    with pytest.raises(InvalidTransition, match="part paid"):
        agency.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason="x")
    assert agency.owed(A.AGENCY_PAYABLE) == Money("190.00")


def test_a_dispute_needs_a_reason(agency: Any) -> None:
    agency.invoice("INV-1")
    with pytest.raises(ValidationError) as caught:
        agency.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-1", reason=None)
    assert caught.value.field == "reason"


def test_approving_twice_is_an_invalid_transition(agency: Any) -> None:
    agency.invoice("INV-1")
    with pytest.raises(InvalidTransition, match="is approved; this needs it to be received"):
        agency.do("approve_invoice", agency_id="AG-1", invoice_number="INV-1")
    assert agency.owed(A.AGENCY_PAYABLE) == Money("200.00")


def test_disputing_twice_is_an_invalid_transition(agency: Any) -> None:
    agency.invoice("INV-1")
    dispute = {"agency_id": "AG-1", "invoice_number": "INV-1", "reason": "x"}
    agency.do("dispute_invoice", **dispute)
    with pytest.raises(InvalidTransition):
        agency.do("dispute_invoice", **dispute)


# ---------------------------------------------------------------------------- properties
@given(
    hours=st.decimals(min_value=0, max_value=200, places=2, allow_nan=False, allow_infinity=False),
    rate=st.integers(min_value=1, max_value=5000),
    parts=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=4),
)
def test_part_payments_add_up_to_the_total(hours: Decimal, rate: int, parts: list[int]) -> None:
    total = int((hours * rate).to_integral_value())
    if total == 0:
        return
    with Ledger.in_memory() as ledger:
        ledger.open_account(
            "DP-P",
            person_ref="P",
            council="C",
            provider="S",
            effective_date="2026-04-06",
            actor="a",
        )
        day = {"effective_date": "2026-04-06", "actor": "a"}
        ledger.receive_council_payment("DP-P", amount=total, **day)
        ledger.register_agency("DP-P", agency_id="AG", name="Agency", **day)
        ledger.receive_invoice(
            "DP-P",
            agency_id="AG",
            invoice_number="1",
            period_start="2026-04-06",
            period_end="2026-04-06",
            hours=hours,
            rate=Money(rate),
            total=Money(total),
            **day,
        )
        ledger.approve_invoice("DP-P", agency_id="AG", invoice_number="1", **day)
        # split the total in the drawn proportions; the last part takes the remainder
        weights = sum(parts)
        amounts = [total * p // weights for p in parts[:-1]]
        amounts.append(total - sum(amounts))
        paid = 0
        for amount in amounts:
            if amount == 0:
                continue
            ledger.pay_invoice("DP-P", agency_id="AG", invoice_number="1", amount=amount, **day)
            paid += amount
        state = ledger.account("DP-P")
        invoice = state.invoices["AG/1"]
        assert paid == total
        assert invoice.status is InvoiceStatus.PAID
        assert invoice.paid == Money(total)
        assert state.bank_balance == Money(0)
        assert state.owed(A.AGENCY_PAYABLE) == Money(0)
        with pytest.raises(InvalidTransition):
            ledger.pay_invoice("DP-P", agency_id="AG", invoice_number="1", amount=1, **day)
