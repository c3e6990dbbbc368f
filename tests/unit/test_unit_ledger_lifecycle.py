"""Ledger: suspension, resumption and closing (the final reckoning)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dpledger import LedgerAccount, Money
from dpledger.domain.chart import Posting
from dpledger.domain.records import AccountStatus
from dpledger.errors import AccountClosed, InvalidTransition, ValidationError

A = LedgerAccount


# ---------------------------------------------------------------------------- suspension
def test_suspend_and_resume(funded: Any) -> None:
    receipt = funded.do("suspend", reason="in hospital", effective_date="2026-04-20")
    assert receipt.event_type == "AccountSuspended"
    assert receipt.event.reason == "in hospital"
    assert not receipt.postings
    state = funded.state()
    assert state.status is AccountStatus.SUSPENDED
    assert state.suspended_since == date(2026, 4, 20)
    receipt = funded.do("resume", effective_date="2026-06-15", backfill_ordered=True)
    assert receipt.event_type == "AccountResumed"
    assert receipt.event.backfill_ordered is True
    state = funded.state()
    assert state.status is AccountStatus.OPEN
    assert state.suspended_since is None
    assert funded.version == 6


def test_suspend_needs_a_reason(funded: Any) -> None:
    for reason in ("", "  "):
        with pytest.raises(ValidationError) as caught:
            funded.do("suspend", reason=reason)
        assert caught.value.field == "reason"
    assert funded.state().status is AccountStatus.OPEN


def test_suspending_twice_is_refused(funded: Any) -> None:
    funded.do("suspend", reason="paperwork late")
    with pytest.raises(InvalidTransition, match="already suspended") as caught:
        funded.do("suspend", reason="again")
    assert caught.value.fix == "resume it first"
    assert funded.version == 5


def test_resuming_an_open_account_is_refused(funded: Any) -> None:
    with pytest.raises(InvalidTransition, match="not suspended") as caught:
        funded.do("resume")
    assert caught.value.account_id == "DP-1"
    assert funded.version == 4


def test_resume_defaults_to_no_backfill(funded: Any) -> None:
    funded.do("suspend", reason="r")
    assert funded.do("resume").event.backfill_ordered is False


# ---------------------------------------------------------------------------- closing refused
@pytest.mark.parametrize(
    ("owe", "code", "amount"),
    [
        (lambda f: (f.agency(), f.invoice("INV-1")), "liabilities:agency", "£200.00"),
        (lambda f: (f.pa(), f.wage_run()), "liabilities:pa_net_wages", "£415.00"),
        (
            lambda f: (f.pa(), f.wage_run(), f.do("pay_net_wages", pa_id="PA-1", amount="415")),
            "liabilities:hmrc",
            "£90.00",
        ),
        (
            lambda f: (
                f.pa(),
                f.wage_run(),
                f.do("pay_net_wages", pa_id="PA-1", amount="415"),
                f.do("pay_hmrc", amount="90"),
            ),
            "liabilities:pension",
            "£40.00",
        ),
        (lambda f: f.do("demand_recoupment", amount="10.00"), "liabilities:council", "£10.00"),
    ],
)
def test_closing_with_unpaid_liabilities_is_refused(
    funded: Any, owe: Any, code: str, amount: str
) -> None:
    owe(funded)
    before = funded.state()
    with pytest.raises(InvalidTransition) as caught:
        funded.do("close_account")
    assert f"cannot close with unpaid liabilities: {code} {amount}" in str(caught.value)
    assert caught.value.fix == "pay, dispute or correct them first"
    assert funded.state() == before


def test_closing_with_suspense_held_is_refused(funded: Any) -> None:
    item = funded.unexpected()
    with pytest.raises(InvalidTransition, match=f"held in suspense: {item}") as caught:
        funded.do("close_account")
    assert caught.value.fix == "classify, refund or keep each item first"
    funded.do("refund_unexpected_income", item_id=item)
    funded.do("close_account")
    assert funded.state().status is AccountStatus.CLOSED


# ---------------------------------------------------------------------------- final reckoning
def test_close_returns_overpaid_contribution_to_the_person(funded: Any) -> None:
    # £20 a week due from 2026-04-06; closing on 2026-04-19 (14 days) means £40 due, £100 paid.
    receipt = funded.do("close_account", effective_date="2026-04-19", reason="moved away")
    event = receipt.event
    assert receipt.event_type == "AccountClosed"
    assert event.contributions_due == Money("40.00")
    assert event.contributions_received == Money("100.00")
    assert event.returned_to_person == Money("60.00")
    assert event.returned_to_council == Money("1040.00")
    assert receipt.postings.lines == (
        Posting(A.RETURNED_TO_COUNCIL, Money("1040.00")),
        Posting(A.CONTRIBUTION_INCOME, Money("60.00")),
        Posting(A.BANK, Money("-1100.00")),
    )
    state = funded.state()
    assert state.status is AccountStatus.CLOSED
    assert state.closed_on == date(2026, 4, 19)
    assert state.bank_balance == Money(0)
    assert state.balances[A.CONTRIBUTION_INCOME] == Money("-40.00")  # exactly what was due
    assert state.balances[A.RETURNED_TO_COUNCIL] == Money("1040.00")


def test_close_with_contribution_underpaid_returns_all_to_the_council(funded: Any) -> None:
    # 8 weeks to 2026-05-31: £160 due, £100 paid.
    event = funded.do("close_account", effective_date="2026-05-31").event
    assert event.contributions_due == Money("160.00")
    assert event.returned_to_person == Money(0)
    assert event.returned_to_council == Money("1100.00")
    assert funded.bank() == Money(0)


def test_close_pro_rata_day_count(funded: Any) -> None:
    # 10 days: 2000p x 10 / 7 = 2857.14p -> £28.57 due; £71.43 back to the person.
    event = funded.do("close_account", effective_date="2026-04-15").event
    assert event.contributions_due == Money("28.57")
    assert event.returned_to_person == Money("71.43")
    assert event.returned_to_council == Money("1028.57")


def test_close_on_gross_basis_returns_everything_to_the_council(make_funded: Any) -> None:
    account = make_funded("DP-G", payment_basis="gross")
    event = account.do("close_account", effective_date="2026-04-19").event
    assert event.contributions_due == Money("40.00")
    assert event.contributions_received == Money("100.00")
    assert event.returned_to_person == Money(0)
    assert event.returned_to_council == Money("1100.00")


def test_return_to_the_person_is_capped_at_the_bank_balance(funded: Any) -> None:
    funded.do(
        "pay_care_plan_spend", category="other_care_plan", amount="1070.00", description="chair"
    )
    event = funded.do("close_account", effective_date="2026-04-19").event
    assert event.returned_to_person == Money("30.00")
    assert event.returned_to_council == Money(0)
    assert funded.bank() == Money(0)


def test_contribution_classified_from_suspense_counts_as_received(funded: Any) -> None:
    item = funded.unexpected("50.00")
    funded.do("classify_unexpected_income", item_id=item, classified_as="contribution")
    event = funded.do("close_account", effective_date="2026-04-19").event
    assert event.contributions_received == Money("150.00")
    assert event.returned_to_person == Money("110.00")
    assert event.returned_to_council == Money("1040.00")


def test_closing_an_empty_account_posts_nothing(ledger: Any) -> None:
    day = {"effective_date": "2026-04-06", "actor": "a"}
    ledger.open_account("DP-E", person_ref="P", council="C", provider="S", **day)
    receipt = ledger.close_account("DP-E", **day)
    assert not receipt.postings
    assert receipt.event.returned_to_council == Money(0)
    assert ledger.account("DP-E").status is AccountStatus.CLOSED


# ---------------------------------------------------------------------------- after closing
AFTER_CLOSE: dict[str, dict[str, Any]] = {
    "agree_budget": {"weekly_gross": "1", "weekly_contribution": "0"},
    "receive_council_payment": {"amount": "1"},
    "receive_contribution": {"amount": "1"},
    "receive_one_off_payment": {"amount": "1", "purpose": "p"},
    "register_agency": {"agency_id": "AG-2", "name": "n"},
    "receive_invoice": {
        "agency_id": "AG-1",
        "invoice_number": "INV-2",
        "period_start": "2026-04-06",
        "period_end": "2026-04-12",
        "hours": "1",
        "rate": "20.00",
        "total": "20.00",
    },
    "approve_invoice": {"agency_id": "AG-1", "invoice_number": "INV-1"},
    "dispute_invoice": {"agency_id": "AG-1", "invoice_number": "INV-1", "reason": "r"},
    "pay_invoice": {"agency_id": "AG-1", "invoice_number": "INV-1", "amount": "1"},
    "register_personal_assistant": {"pa_id": "PA-2", "hourly_rate": "12.71"},
    "record_wage_run": {
        "pa_id": "PA-1",
        "period_start": "2026-05-04",
        "period_end": "2026-05-10",
        "hours": "1",
        "gross": "20",
        "paye": "0",
        "employee_ni": "0",
        "employer_ni": "0",
        "employee_pension": "0",
        "employer_pension": "0",
        "net": "20",
    },
    "pay_net_wages": {"pa_id": "PA-1", "amount": "1"},
    "pay_hmrc": {"amount": "1"},
    "pay_pension": {"amount": "1"},
    "pay_care_plan_spend": {"category": "insurance", "amount": "1", "description": "d"},
    "receive_unexpected_income": {"amount": "1", "description": "d"},
    "classify_unexpected_income": {"item_id": "S5", "classified_as": "council"},
    "refund_unexpected_income": {"item_id": "S5"},
    "keep_unexpected_income": {"item_id": "S5", "reason": "r"},
    "demand_recoupment": {"amount": "1"},
    "repay_recoupment": {"amount": "1"},
    "suspend": {"reason": "r"},
    "resume": {},
    "close_account": {},
    "correct": {"version": 3, "reason": "r"},
}


@pytest.mark.parametrize("command", sorted(AFTER_CLOSE))
def test_a_closed_account_refuses_every_command(funded: Any, command: str) -> None:
    funded.agency()
    funded.invoice("INV-1", approve=False)
    funded.pa()
    funded.do("close_account", effective_date="2026-04-19")
    version = funded.version
    with pytest.raises(AccountClosed) as caught:
        funded.do(command, **AFTER_CLOSE[command], effective_date="2026-04-20")
    assert caught.value.account_id == "DP-1"
    assert "closed on 2026-04-19" in str(caught.value)
    assert caught.value.fix == "open a new account for a new Direct Payment"
    assert funded.version == version


def test_a_closed_account_still_replays_earlier_commands(funded: Any) -> None:
    first = funded.do("receive_contribution", amount="1.00", idempotency_key="c-1")
    funded.do("close_account", effective_date="2026-04-19")
    again = funded.do("receive_contribution", amount="1.00", idempotency_key="c-1")
    assert again.replayed is True
    assert again.version == first.version
    reopened = funded.ledger.open_account(
        "DP-1",
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        actor="officer-1",
    )
    assert reopened.replayed is True
    assert funded.state().status is AccountStatus.CLOSED
