"""Reconciliation as people do it: part payments, remittances, a tolerance, and the alerts of a
council payment that differs from the schedule or an expected payment that is missing.

Uses the funded account of ``tests/unit/conftest.py`` (``DP-1``: £100.00 gross / £20.00
contribution a week from 2026-04-06, so £320.00 council payments due every 28 days; £1,000.00
council payment and £100.00 contribution recorded by hand on 2026-04-06, margin 5 days). The
matching is read through ``match_line`` on the account as stored; the end-to-end imports are in
``tests/bankfeeds/test_import_part_payments.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ACTOR, Funded, open_funded
from dpledger import Ledger, LedgerAccount, Money
from dpledger.domain.policy import MAX_MATCH_TOLERANCE_PENCE, AccountPolicy, to_policy
from dpledger.domain.reconciliation import BankLine, Match, MatchKind, match_line
from dpledger.errors import InvalidTransition, Overpayment, ValidationError

NEXT_DUE = "2026-05-04"
"""The second council due date (the first, 2026-04-06, is paid by the £1,000.00)."""


def line(pence: int, day: str = "2026-04-14", text: str = "") -> BankLine:
    return BankLine(
        key=f"ref:{pence}:{day}:{text}",
        booking_date=date.fromisoformat(day),
        amount=Money(abs(pence)),
        credit=pence > 0,
        description=text,
    )


def decide(funded: Funded, bank_line: BankLine) -> Match:
    return match_line(funded.ledger.load(funded.account_id), None, bank_line)


def alerts(funded: Funded, rule: str) -> list[Any]:
    from dpledger.domain.registry import ALERT_RULES

    account = funded.ledger.load(funded.account_id)
    return [a for r in ALERT_RULES for a in r(account) if a.rule == rule]


# ---------------------------------------------------------------------------- part payments
def test_a_debit_naming_the_pa_pays_part_of_the_wages_and_says_what_is_left(
    funded: Funded,
) -> None:
    funded.pa()
    funded.wage_run()  # net £415, HMRC £90, pension £40: several liabilities could take £80
    assert decide(funded, line(-8000, text="J SMITH")).kind is MatchKind.UNEXPECTED_OUTGOING
    decision = decide(funded, line(-8000, text="PA-1 WAGES"))
    assert (decision.kind, decision.pa_id) == (MatchKind.NET_WAGES, "PA-1")
    assert "a part payment of £80.00, £335.00 is left owed" in decision.reason
    assert "the bank's text names PA-1" in decision.reason


def test_the_only_liability_that_could_take_a_debit_is_the_pas_wages(funded: Funded) -> None:
    funded.pa()
    funded.wage_run(
        gross="160.02",
        paye="0",
        employee_ni="0",
        employer_ni="0",
        employee_pension="0",
        employer_pension="0",
        net="160.02",
    )
    decision = decide(funded, line(-8000, text="J SMITH WAGES"))
    assert decision.kind is MatchKind.NET_WAGES
    assert "nothing else owed could take it, £80.02 is left owed" in decision.reason
    # a line that does not say wages is not part of anyone's wages
    assert decide(funded, line(-8000, text="SHOP")).kind is MatchKind.UNEXPECTED_OUTGOING
    # more than owed is never a payment
    assert decide(funded, line(-16003)).kind is MatchKind.UNEXPECTED_OUTGOING


def test_an_invoice_is_paid_in_part_only_when_the_text_names_it(funded: Funded) -> None:
    funded.agency()
    funded.invoice("INV-1", hours="10", rate="20.00", total="200.00")
    # the only liability, but nothing names it: a card fee is not part of an invoice
    assert decide(funded, line(-750, text="CARD FEE")).kind is MatchKind.UNEXPECTED_OUTGOING
    decision = decide(funded, line(-12000, text="BACS INV-1"))
    assert (decision.kind, decision.invoice_number) == (MatchKind.INVOICE_PAYMENT, "INV-1")
    assert "the bank's text names the invoice number" in decision.reason
    assert "£80.00 is left owed" in decision.reason


def test_pay_invoice_and_pay_net_wages_accept_parts_and_the_rest_matches_exactly(
    funded: Funded,
) -> None:
    funded.agency()
    funded.invoice("INV-1", hours="10", rate="20.00", total="200.00")
    funded.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="120.00")
    decision = decide(funded, line(-8000, "2026-05-20"))
    assert decision.kind is MatchKind.INVOICE_PAYMENT
    assert decision.reason.startswith("pays invoice INV-1 from AG-1: £80.00 outstanding")
    funded.pa()
    funded.wage_run()
    funded.do("pay_net_wages", pa_id="PA-1", amount="400.00")
    decision = decide(funded, line(-1500, "2026-05-20", "PA-1"))
    assert (decision.kind, decision.pa_id) == (MatchKind.NET_WAGES, "PA-1")
    assert "(£15.00 owed)" in decision.reason


# ---------------------------------------------------------------------------- remittances
def _three_invoices(funded: Funded) -> None:
    funded.agency()
    funded.invoice("INV-1", hours="5", rate="20.00", total="100.00")
    funded.invoice("INV-2", hours="2", rate="20.00", total="40.00")
    funded.invoice("INV-3", hours="3", rate="20.00", total="60.00")


def test_a_remittance_pays_the_invoices_the_text_names(funded: Funded) -> None:
    _three_invoices(funded)
    decision = decide(funded, line(-16000, text="AG-1 CARE REMITTANCE INV-1 INV-3"))
    assert decision.kind is MatchKind.REMITTANCE
    assert decision.payments == (("INV-1", Money("100.00")), ("INV-3", Money("60.00")))
    assert "the bank's text names them" in decision.reason


def test_a_remittance_pays_the_oldest_invoices_when_they_add_up(funded: Funded) -> None:
    _three_invoices(funded)
    decision = decide(funded, line(-14000, text="AG-1 CARE"))
    assert decision.kind is MatchKind.REMITTANCE
    assert decision.payments == (("INV-1", Money("100.00")), ("INV-2", Money("40.00")))
    assert "oldest outstanding invoices" in decision.reason
    # not a prefix of the oldest: a person decides
    assert decide(funded, line(-16000)).kind is MatchKind.UNEXPECTED_OUTGOING
    # one invoice's exact amount is that invoice, not a remittance
    assert decide(funded, line(-10000)).kind is MatchKind.INVOICE_PAYMENT


def test_pay_remittance_pays_each_part_by_pay_invoices_rules(funded: Funded) -> None:
    _three_invoices(funded)
    bank = funded.bank()
    receipt = funded.do(
        "pay_remittance", agency_id="AG-1", payments={"INV-1": "100.00", "INV-2": "15.00"}
    )
    assert receipt.event_type == "RemittancePaid"
    assert funded.bank() == bank - Money("115.00")
    assert funded.owed(LedgerAccount.AGENCY_PAYABLE) == Money("85.00")
    with pytest.raises(Overpayment):
        funded.do("pay_remittance", agency_id="AG-1", payments={"INV-2": "25.01"})
    with pytest.raises(InvalidTransition, match="already paid in full"):
        funded.do("pay_remittance", agency_id="AG-1", payments={"INV-1": "1.00"})
    with pytest.raises(ValidationError, match="listed twice"):
        funded.do(
            "pay_remittance", agency_id="AG-1", payments=[("INV-3", "1.00"), ("inv-3", "2.00")]
        )
    funded.do("correct", version=receipt.version, reason="paid from the wrong account")
    assert funded.owed(LedgerAccount.AGENCY_PAYABLE) == Money("200.00")
    assert funded.bank() == bank


# ---------------------------------------------------------------------------- tolerance
def test_the_tolerance_is_a_bounded_policy_field() -> None:
    assert AccountPolicy().match_tolerance_pence == 0
    assert to_policy({"match_tolerance_pence": 5}).match_tolerance == Money(5)
    with pytest.raises(ValidationError, match="whole number from 0 to 10000") as bad:
        to_policy({"match_tolerance_pence": MAX_MATCH_TOLERANCE_PENCE + 1})
    assert bad.value.field == "policy.match_tolerance_pence"
    assert "in pence" in bad.value.fix
    with pytest.raises(ValidationError):
        to_policy({"match_tolerance_pence": True})
    # a policy at the default is stored as it was before the field existed
    assert "match_tolerance_pence" not in AccountPolicy().stored_fields()
    assert AccountPolicy(match_tolerance_pence=5).stored_fields()["match_tolerance_pence"] == 5


def test_amounts_within_the_tolerance_match_and_the_reason_says_the_difference(
    ledger: Ledger,
) -> None:
    funded = open_funded(ledger, match_tolerance_pence=50)
    decision = decide(funded, line(31960, NEXT_DUE))
    assert decision.kind is MatchKind.COUNCIL_PAYMENT
    assert "£319.60 is £0.40 less than the £320.00 due, within the tolerance of £0.50" in (
        decision.reason
    )
    assert decide(funded, line(31949, NEXT_DUE)).kind is MatchKind.UNEXPECTED_INCOME
    contribution = decide(funded, line(4030, "2026-04-20"))
    assert contribution.kind is MatchKind.CONTRIBUTION
    assert "£0.30 more than 2 week(s)" in contribution.reason
    funded.pa()
    funded.wage_run()
    wages = decide(funded, line(-41470))
    assert wages.kind is MatchKind.NET_WAGES
    assert "£0.30 less than the £415.00 owed, within the tolerance of £0.50" in wages.reason
    # above what is owed is never paid, within the tolerance or not
    assert decide(funded, line(-41501)).kind is MatchKind.UNEXPECTED_OUTGOING


@given(
    tolerance=st.integers(0, 500),
    off=st.integers(1, 2000),
    below=st.booleans(),
)
def test_amounts_outside_the_tolerance_never_match_by_tolerance(
    tolerance: int, off: int, below: bool
) -> None:
    with Ledger.in_memory() as ledger:
        funded = open_funded(ledger, match_tolerance_pence=tolerance)
        amount = 32000 - off if below else 32000 + off
        decision = decide(funded, line(amount, NEXT_DUE))
        assert ("within the tolerance" in decision.reason) == (off <= tolerance)
        if off > tolerance:
            assert decision.kind is not MatchKind.COUNCIL_PAYMENT


# ---------------------------------------------------------------------------- council and alerts
def test_a_credit_naming_the_council_is_its_payment_for_the_period_with_an_alert(
    funded: Funded,
) -> None:
    decision = decide(funded, line(30000, "2026-05-05", "KENT COUNTY COUNCIL DP"))
    assert decision.kind is MatchKind.COUNCIL_PAYMENT
    assert decision.period_start == date(2026, 5, 4)
    assert "names the council (Kent County Council)" in decision.reason
    assert "£300.00 is £20.00 less than the £320.00 due" in decision.reason
    # without the name, another amount is held (and the due date will be missing)
    assert decide(funded, line(30000, "2026-05-05")).kind is MatchKind.UNEXPECTED_INCOME


def test_a_council_payment_for_another_amount_raises_an_alert_with_figures(
    funded: Funded,
) -> None:
    receipt = funded.do(
        "receive_council_payment",
        amount="300.00",
        period_start=NEXT_DUE,
        period_end="2026-05-31",
        effective_date="2026-05-05",
    )
    (alert,) = receipt.alerts
    assert (alert.rule, alert.subject) == ("council_payment_differs", "council:2026-05-04")
    assert alert.figures == {
        "due_date": "2026-05-04",
        "due": 32000,
        "received": 30000,
        "difference": -2000,
    }
    assert "£20.00 short" in alert.message
    # the rest, in a second line, is read as the rest of that payment, and the alert clears
    rest = decide(funded, line(2000, "2026-05-06", "KENT COUNTY COUNCIL"))
    assert (rest.kind, rest.period_start) == (MatchKind.COUNCIL_PAYMENT, date(2026, 5, 4))
    funded.do(
        "receive_council_payment",
        amount="20.00",
        period_start=NEXT_DUE,
        period_end="2026-05-31",
        effective_date="2026-05-06",
    )
    assert alerts(funded, "council_payment_differs") == []


def test_a_missing_council_payment_and_contribution_raise_alerts_with_figures(
    funded: Funded,
) -> None:
    # By 2026-06-07 the council's £320.00 of 2026-05-04 and 2026-06-01 never came; of the
    # contributions (£80.00 each), £100.00 arrived: 2026-05-04's is part paid (arrears, for the
    # contribution_shortfall warning), 2026-06-01's never came.
    receipt = funded.do("receive_contribution", amount="20.00", effective_date="2026-06-07")
    found = {a.subject: a for a in receipt.alerts if a.rule == "expected_payment_missing"}
    assert set(found) == {"council:2026-05-04", "council:2026-06-01", "contribution:2026-06-01"}
    assert found["council:2026-05-04"].figures == {
        "kind": "council",
        "due_date": "2026-05-04",
        "due": 32000,
        "received": 0,
        "difference": -32000,
        "margin_days": 5,
    }
    assert "£320.00 is missing" in found["council:2026-05-04"].message
    assert found["contribution:2026-06-01"].figures["due"] == 8000
    funded.do(
        "receive_council_payment",
        amount="320.00",
        period_start=NEXT_DUE,
        period_end="2026-05-31",
        effective_date="2026-06-08",
    )
    missing = {a.subject for a in alerts(funded, "expected_payment_missing")}
    assert missing == {"council:2026-06-01", "contribution:2026-06-01"}
    warnings = {(w.rule, w.subject) for w in funded.ledger.warnings(funded.account_id)}
    assert ("expected_payment_missing", "contribution:2026-06-01") in warnings
    assert ("expected_payment_missing", "council:2026-05-04") not in warnings


def test_without_figures_to_compare_nothing_is_alerted(ledger: Ledger) -> None:
    ledger.open_account(
        "DP-9",
        person_ref="P-9",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        actor=ACTOR,
    )
    receipt = ledger.receive_council_payment(
        "DP-9", amount="10.00", effective_date="2026-06-01", actor=ACTOR
    )
    assert receipt.alerts == ()
