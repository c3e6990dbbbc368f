"""Invoices: agencies, agreed rates, invoices, credit notes and the ``rate_above_agreed`` alert."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from concern_harness import FUNDED, Given, alerts_of, cmd, given

from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.commands import Command
from dpledger.domain.corrections import Correct, EntryCorrected
from dpledger.domain.errors import (
    CreditExceedsInvoice,
    DuplicateInvoice,
    InvalidTransition,
    InvoiceTotalMismatch,
    Overpayment,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.invoices import (
    AgencyRateAgreed,
    AgencyRegistered,
    AgreeAgencyRate,
    ApproveInvoice,
    CreditNoteReceived,
    DisputeInvoice,
    InvoiceApproved,
    InvoiceDisputed,
    InvoicePaid,
    InvoiceReceived,
    PayInvoice,
    ReceiveCreditNote,
    ReceiveInvoice,
    RegisterAgency,
)
from dpledger.domain.money import Money
from dpledger.domain.records import InvoiceStatus

A = LedgerAccount
WEEK_1 = ("2026-04-06", "2026-04-12")
WEEK_2 = ("2026-04-13", "2026-04-19")


def agency(rate: str | None = "20.00", agency_id: str = "AG-1") -> Command:
    """Register ``Oak Care`` at ``rate`` an hour."""
    return cmd(RegisterAgency, agency_id=agency_id, name="Oak Care", hourly_rate=rate)


def invoice(
    number: str = "INV-7",
    hours: str = "10",
    rate: str = "20.00",
    total: str | None = None,
    period: tuple[str, str] = WEEK_1,
    agency_id: str = "AG-1",
) -> Command:
    """An invoice of ``hours`` at ``rate`` (total hours x rate unless given)."""
    if total is None:
        total = str((Decimal(hours) * Decimal(rate)).quantize(Decimal("0.01")))
    return cmd(
        ReceiveInvoice,
        agency_id=agency_id,
        invoice_number=number,
        period_start=period[0],
        period_end=period[1],
        hours=hours,
        rate=rate,
        total=total,
    )


def approve(number: str = "INV-7") -> Command:
    return cmd(ApproveInvoice, agency_id="AG-1", invoice_number=number)


def pay(amount: str, number: str = "INV-7") -> Command:
    return cmd(PayInvoice, agency_id="AG-1", invoice_number=number, amount=amount)


def credit(amount: str, number: str = "CN-1", invoice_number: str = "INV-7") -> Command:
    return cmd(
        ReceiveCreditNote,
        agency_id="AG-1",
        invoice_number=invoice_number,
        credit_note_number=number,
        amount=amount,
    )


def the_invoice(scenario: Given, number: str = "INV-7") -> Any:
    assert scenario.account is not None
    return scenario.account.invoice("AG-1", number)


def owed(scenario: Given) -> Money:
    assert scenario.account is not None
    return scenario.account.owed(A.AGENCY_PAYABLE)


# ---------------------------------------------------------------------------- agencies
def test_an_agency_is_registered_once() -> None:
    scenario = given(*FUNDED)
    scenario.when(agency()).event(
        AgencyRegistered, agency_id="AG-1", name="Oak Care", hourly_rate=Money("20.00")
    )
    error = scenario.when(agency("25.00")).refused(InvalidTransition, "AG-1 is already registered")
    assert error.fix == "use the existing agency id; agree a new rate with agree_agency_rate"


def test_a_rate_is_agreed_for_a_registered_agency_only() -> None:
    scenario = given(*FUNDED)
    scenario.when(cmd(AgreeAgencyRate, agency_id="AG-1", hourly_rate="21.00")).refused(
        UnknownParty, "no agency 'AG-1' is registered"
    )
    scenario.after(agency())
    scenario.when(cmd(AgreeAgencyRate, agency_id="AG-1", hourly_rate="21.00")).event(
        AgencyRateAgreed, agency_id="AG-1", hourly_rate=Money("21.00")
    )


# ---------------------------------------------------------------------------- receiving
def test_receiving_an_invoice_owes_nothing_yet() -> None:
    scenario = given(*FUNDED, agency())
    scenario.when(invoice()).event(
        InvoiceReceived, invoice_number="INV-7", hours=Decimal("10"), total=Money("200.00")
    )
    assert the_invoice(scenario).status is InvoiceStatus.RECEIVED
    assert owed(scenario) == Money(0)


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (invoice(agency_id="AG-9"), UnknownParty, "no agency 'AG-9' is registered"),
        (
            invoice(total="200.02"),
            InvoiceTotalMismatch,
            r"total £200.02 is not 10 hours x £20.00 \(= 200.0000\)",
        ),
        (
            invoice(period=("2026-04-12", "2026-04-06")),
            ValidationError,
            "period 2026-04-12..2026-04-06 ends before it starts",
        ),
    ],
    ids=["unknown-agency", "total-mismatch", "period"],
)
def test_a_bad_invoice_is_refused(bad: Command, error: type[Exception], match: str) -> None:
    given(*FUNDED, agency()).when(bad).refused(error, match)  # type: ignore[arg-type]


def test_an_agency_never_sends_two_invoices_with_one_number() -> None:
    scenario = given(*FUNDED, agency(), invoice("INV-7"))
    # Numbers are compared ignoring case and spaces.
    error = scenario.when(invoice("inv- 7", hours="1", period=WEEK_2)).refused(
        DuplicateInvoice, r"already sent invoice INV-7 \(£200.00, received\)"
    )
    assert "known error and fraud pattern" in error.fix
    # Another agency may use the same number.
    scenario.after(agency(agency_id="AG-2"))
    scenario.when(invoice("INV-7", agency_id="AG-2")).then(InvoiceReceived)


def test_a_voided_invoice_frees_its_number() -> None:
    scenario = given(*FUNDED, agency(), invoice("INV-7"))
    scenario.when(cmd(Correct, version=6, reason="keyed twice")).then(EntryCorrected)
    assert the_invoice_status(scenario, "INV-7") is InvoiceStatus.VOIDED
    with pytest.raises(UnknownParty):
        the_invoice(scenario)
    scenario.when(invoice("INV-7", hours="9")).event(InvoiceReceived, hours=Decimal("9"))
    assert the_invoice(scenario).total == Money("180.00")


def the_invoice_status(scenario: Given, number: str) -> InvoiceStatus:
    assert scenario.account is not None
    (found,) = [i for i in scenario.account.invoices.values() if i.invoice_number == number]
    return found.status


# ---------------------------------------------------------------------------- approving
def test_approving_makes_the_invoice_owed() -> None:
    scenario = given(*FUNDED, agency(), invoice())
    event = scenario.when(approve()).event(InvoiceApproved, amount=Money("200.00"))
    assert event.postings == Postings.transfer(A.AGENCY_CARE, A.AGENCY_PAYABLE, Money("200.00"))
    assert owed(scenario) == Money("200.00")
    scenario.when(approve()).refused(
        InvalidTransition, "INV-7 from AG-1 is approved; this needs it to be received or disputed"
    )


def test_disputing_an_approved_invoice_withdraws_what_it_owed() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve())
    with pytest.raises(ValidationError) as caught:
        cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7")
    assert caught.value.field == "reason"
    dispute = cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7", reason="hours wrong")
    scenario.when(dispute).event(InvoiceDisputed, amount=Money("200.00"))
    assert owed(scenario) == Money(0)
    assert the_invoice(scenario).status is InvoiceStatus.DISPUTED
    scenario.when(pay("1.00")).refused(
        InvalidTransition, "is disputed; this needs it to be approved"
    )
    scenario.when(approve()).event(InvoiceApproved, amount=Money("200.00"))


def test_a_part_paid_invoice_cannot_be_disputed() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve(), pay("50.00"))
    scenario.when(
        cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7", reason="hours wrong")
    ).refused(InvalidTransition, r"INV-7 is part paid \(£50.00\)")


# ---------------------------------------------------------------------------- paying
def test_paying_in_parts_never_more_than_is_owed() -> None:
    scenario = given(*FUNDED, agency(), invoice())
    scenario.when(pay("1.00")).refused(
        InvalidTransition, "is received; this needs it to be approved"
    )
    scenario.after(approve())
    event = scenario.when(pay("120.00")).event(InvoicePaid, amount=Money("120.00"))
    assert event.postings == Postings.transfer(A.AGENCY_PAYABLE, A.BANK, Money("120.00"))
    scenario.when(pay("80.01")).refused(Overpayment, "£80.01 is more than the £80.00 owed")
    scenario.when(pay("80.00")).then(InvoicePaid)
    assert the_invoice(scenario).status is InvoiceStatus.PAID
    assert the_invoice(scenario).settled_on == date(2026, 4, 13)
    scenario.when(pay("0.01")).refused(InvalidTransition, "already paid in full")


# ---------------------------------------------------------------------------- credit notes
def test_a_credit_note_reduces_what_an_approved_invoice_owes() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve())
    event = scenario.when(credit("50.00")).event(
        CreditNoteReceived, credit_note_number="CN-1", amount=Money("50.00")
    )
    assert event.postings == Postings.transfer(A.AGENCY_PAYABLE, A.AGENCY_CARE, Money("50.00"))
    assert owed(scenario) == Money("150.00")
    assert the_invoice(scenario).credited == Money("50.00")
    assert the_invoice(scenario).outstanding == Money("150.00")
    scenario.when(pay("150.01")).refused(Overpayment)
    scenario.when(pay("150.00")).then(InvoicePaid)
    assert the_invoice(scenario).status is InvoiceStatus.PAID
    assert owed(scenario) == Money(0)
    assert scenario.account is not None
    assert scenario.account.balance(A.AGENCY_CARE) == Money("150.00")


def test_a_credit_note_before_approval_moves_no_money_and_approval_owes_the_rest() -> None:
    scenario = given(*FUNDED, agency(), invoice())
    scenario.when(credit("50.00")).event(CreditNoteReceived, postings=Postings())
    scenario.when(approve()).event(InvoiceApproved, amount=Money("150.00"))
    assert owed(scenario) == Money("150.00")


def test_a_credit_can_settle_what_payments_left() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve(), pay("180.00"))
    scenario.when(credit("20.00")).then(CreditNoteReceived)
    assert the_invoice(scenario).status is InvoiceStatus.PAID
    assert owed(scenario) == Money(0)


def test_a_credit_above_what_is_left_is_refused() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve(), pay("120.00"), credit("30.00"))
    error = scenario.when(credit("50.01", number="CN-2")).refused(
        CreditExceedsInvoice,
        r"a credit of £50.01 is more than the £50.00 left on invoice INV-7 "
        r"\(£200.00, £120.00 paid, £30.00 credited\)",
    )
    assert "a refund: record it as money in" in error.fix
    scenario.when(credit("50.00", number="CN-2")).then(CreditNoteReceived)
    assert the_invoice(scenario).status is InvoiceStatus.PAID


def test_a_credit_note_number_is_used_once() -> None:
    scenario = given(*FUNDED, agency(), invoice(), approve(), credit("10.00"))
    error = scenario.when(credit("10.00")).refused(
        DuplicateInvoice, r"agency AG-1 already sent credit note CN-1 \(recorded as event 8\)"
    )
    assert error.fix == "check with the agency: a credit note is applied once"
    # Against another invoice too.
    scenario.after(invoice("INV-8", period=WEEK_2))
    scenario.when(credit("10.00", invoice_number="INV-8")).refused(DuplicateInvoice, "CN-1")


def test_a_credit_note_needs_an_invoice_in_force() -> None:
    given(*FUNDED, agency()).when(credit("10.00")).refused(
        UnknownParty, "no invoice 'INV-7' from agency 'AG-1'"
    )


# ---------------------------------------------------------------------------- agreed rates
def test_an_invoice_above_the_agreed_rate_is_recorded_with_an_alert() -> None:
    scenario = given(*FUNDED, agency("20.00"))
    outcome = scenario.when(invoice(hours="10", rate="22.50"))
    outcome.then(InvoiceReceived)
    (alert,) = outcome.alerts
    assert (alert.rule, alert.subject) == ("rate_above_agreed", "AG-1/INV-7")
    assert alert.figures == {
        "agency_id": "AG-1",
        "invoice_number": "INV-7",
        "billed_rate": 2250,
        "agreed_rate": 2000,
        "hours": "10",
        "overcharge": 2500,
    }
    assert alert.message == (
        "Oak Care (AG-1) invoice INV-7 bills 10 hours at £22.50 an hour, above the agreed "
        "£20.00 for 2026-04-06 to 2026-04-12: an overcharge of £25.00. Ask the agency for a "
        "credit note, or dispute the invoice."
    )
    # The same alert is not raised again by the next command.
    assert scenario.when(approve()).alerts == []


def test_the_overcharge_is_rounded_half_up_to_the_penny() -> None:
    outcome = given(*FUNDED, agency("20.00")).when(invoice(hours="7.5", rate="20.01"))
    (alert,) = outcome.alerts
    assert alert.figures["overcharge"] == 8  # 7.5 pence


def test_an_invoice_at_or_below_the_agreed_rate_raises_nothing() -> None:
    scenario = given(*FUNDED, agency("20.00"))
    assert scenario.when(invoice("INV-1", rate="20.00")).alerts == []
    assert scenario.when(invoice("INV-2", rate="19.00", period=WEEK_2)).alerts == []


def test_an_agency_without_an_agreed_rate_raises_nothing() -> None:
    assert given(*FUNDED, agency(None)).when(invoice(rate="99.00")).alerts == []


def test_the_rate_in_force_for_the_invoice_period_is_the_one_compared() -> None:
    scenario = given(
        *FUNDED,
        agency("20.00"),
        cmd(AgreeAgencyRate, agency_id="AG-1", hourly_rate="22.50", effective_date="2026-04-13"),
    )
    # Week 1 was billed before the new rate took effect: the old rate holds.
    (alert,) = scenario.when(invoice("INV-1", rate="22.50", period=WEEK_1)).alerts
    assert alert.figures["agreed_rate"] == 2000
    # Week 2 is at the new rate.
    assert scenario.when(invoice("INV-2", rate="22.50", period=WEEK_2)).alerts == []
    # A period the new rate starts part-way through may bill the new rate.
    assert (
        scenario.when(invoice("INV-3", rate="22.50", period=("2026-04-10", "2026-04-16"))).alerts
        == []
    )
    (above,) = scenario.when(invoice("INV-4", rate="23.00", period=WEEK_2)).alerts
    assert above.figures["agreed_rate"] == 2250
    assert above.figures["overcharge"] == 500


def test_agreeing_the_billed_rate_from_the_period_clears_the_alert() -> None:
    scenario = given(*FUNDED, agency("20.00"), invoice(rate="22.50"))
    assert [a.rule for a in alerts_of(scenario.account)] == ["rate_above_agreed"]
    scenario.after(
        cmd(AgreeAgencyRate, agency_id="AG-1", hourly_rate="22.50", effective_date="2026-04-06")
    )
    assert alerts_of(scenario.account) == []


def test_a_credit_note_for_the_overcharge_clears_the_alert() -> None:
    scenario = given(*FUNDED, agency("20.00"), invoice(hours="10", rate="22.50"), approve())
    assert scenario.when(credit("10.00")).alerts == []
    (left,) = alerts_of(scenario.account)
    assert left.figures["overcharge"] == 1500  # £25.00 less the £10.00 credited
    assert "an overcharge of £15.00" in left.message
    scenario.after(credit("15.00", number="CN-2"))
    assert alerts_of(scenario.account) == []
    assert owed(scenario) == Money("200.00")  # what the agreed rate makes it


def test_a_disputed_invoice_raises_no_rate_alert() -> None:
    scenario = given(*FUNDED, agency("20.00"), invoice(rate="22.50"))
    scenario.after(
        cmd(DisputeInvoice, agency_id="AG-1", invoice_number="INV-7", reason="above the rate")
    )
    assert alerts_of(scenario.account) == []
