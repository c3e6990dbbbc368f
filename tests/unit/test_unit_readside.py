"""The read side: bi-temporal balances, periods, warnings, surplus attribution, reviews, portfolio.

Uses the funded account of conftest.py: DP-1 opened 2026-04-06, £100 a week gross with a £20
contribution, £1,000 from the council and £100 contribution: bank £1,100.00.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.bankfeeds import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
)
from dpledger.domain.bank import bank_account_uuid
from dpledger.domain.invoices import rate_alerts
from dpledger.errors import AccountNotFound, SurplusExceeded, ValidationError
from dpledger.projections.warnings import evaluate

BANK = LedgerAccount.BANK
NATWEST = "30-99-50 12345678"


def active(ledger: Ledger, account_id: str = "DP-1") -> dict[str, Any]:
    return {w.rule + (f":{w.subject}" if w.subject else ""): w for w in ledger.warnings(account_id)}


# ---------------------------------------------------------------------- balances, bi-temporal
def test_balance_as_of_an_effective_date(funded: Any) -> None:
    funded.do("pay_care_plan_spend", category="insurance", amount="50.00", description="ELI")
    ledger = funded.ledger
    assert ledger.balance("DP-1", as_of="2026-04-06") == Money("1100.00")
    assert ledger.balance("DP-1", as_of="2026-04-13") == Money("1050.00")
    assert ledger.balance("DP-1", as_of="2026-04-05") == Money(0)
    assert ledger.balance("DP-1", LedgerAccount.INSURANCE, as_of="2026-04-30") == Money("50.00")
    assert ledger.balances_as_of("DP-1", "2026-04-30") == ledger.balances("DP-1")


def test_balance_as_it_was_known_before_a_late_invoice(funded: Any) -> None:
    funded.agency()
    ledger = funded.ledger
    before = datetime.now(UTC)
    time.sleep(0.002)
    # A late invoice for a period in early April, entered afterwards.
    funded.invoice("LATE-1", total="200.00")
    agency = LedgerAccount.AGENCY_PAYABLE
    assert ledger.balance("DP-1", agency, as_of="2026-04-30") == Money("-200.00")
    assert ledger.balance("DP-1", agency, as_of="2026-04-30", known_at=before) == Money(0)
    assert ledger.balances_as_of("DP-1", "2026-04-30", known_at=before)[agency] == Money(0)


def test_known_at_must_be_timezone_aware(funded: Any) -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        funded.ledger.balance("DP-1", as_of="2026-04-30", known_at=datetime(2026, 4, 1))


def test_unknown_account_is_named(ledger: Ledger) -> None:
    with pytest.raises(AccountNotFound) as caught:
        ledger.balance("DP-404", as_of="2026-04-30")
    assert caught.value.account_id == "DP-404"


def test_period_summary_adds_up_and_sorts_by_category(funded: Any) -> None:
    funded.agency()
    funded.invoice("INV-1")
    funded.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="200.00")
    funded.pa()
    funded.wage_run()
    funded.do("pay_net_wages", pa_id="PA-1", amount="415.00")
    funded.do("pay_hmrc", amount="90.00", effective_date="2026-04-20")
    period = funded.ledger.period("DP-1", "2026-04-07", "2026-04-30")
    assert period.opening == Money("1100.00")
    assert period.money_in == {}
    assert period.money_out == {
        "agency_care": Money("200.00"),
        "hmrc": Money("90.00"),
        "pa_wages": Money("415.00"),
    }
    assert period.closing == Money("395.00")
    assert period.opening + period.total_in - period.total_out == period.closing
    whole = funded.ledger.period("DP-1", "2026-04-01", "2026-04-30")
    assert whole.money_in == {"contribution": Money("100.00"), "council": Money("1000.00")}


def test_a_corrected_payment_nets_out_of_its_category(funded: Any) -> None:
    funded.agency()
    funded.invoice("INV-1")
    paid = funded.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="200.00")
    funded.do("correct", version=paid.version, reason="paid twice by mistake")
    period = funded.ledger.period("DP-1", "2026-04-07", "2026-04-30")
    assert period.money_out == {"agency_care": Money(0)}
    assert period.closing == period.opening


def test_a_period_must_not_end_before_it_starts(funded: Any) -> None:
    with pytest.raises(ValidationError, match="before it starts"):
        funded.ledger.period("DP-1", "2026-05-01", "2026-04-01")


# ---------------------------------------------------------------------- audit trail
def test_audit_trail_runs_the_bank_balance(funded: Any) -> None:
    funded.do("pay_care_plan_spend", category="insurance", amount="50.00", description="ELI")
    trail = funded.ledger.audit_trail("DP-1")
    assert [e.version for e in trail] == list(range(1, 6))
    assert [e.bank_after for e in trail][-3:] == [
        Money("1000.00"),
        Money("1100.00"),
        Money("1050.00"),
    ]
    last = trail[-1]
    assert last.event_type == "CarePlanSpendPaid"
    assert last.actor == "officer-1"
    assert last.details["description"] == "ELI"
    assert last.previous_digest == trail[-2].digest
    assert funded.ledger.audit_trail("DP-1", start="2026-04-13")[0].version == 5


# ---------------------------------------------------------------------- warnings
def test_low_balance_is_raised_once_and_cleared(funded: Any) -> None:
    ledger = funded.ledger
    assert "low_balance" not in active(ledger)
    funded.do("pay_care_plan_spend", category="other_care_plan", amount="950.00", description="x")
    raised = active(ledger)["low_balance"]
    assert raised.figures == {"bank": 15000, "threshold": 20000, "weeks": 2}
    assert "less than 2 weeks" in raised.explanation
    funded.do("pay_care_plan_spend", category="other_care_plan", amount="1.00", description="y")
    history = [w for w in ledger.warnings("DP-1", active_only=False) if w.rule == "low_balance"]
    assert len(history) == 1  # still holding: not raised again
    funded.do("receive_council_payment", amount="400.00")
    assert "low_balance" not in active(ledger)
    cleared = [w for w in ledger.warnings("DP-1", active_only=False) if w.rule == "low_balance"]
    assert cleared[0].cleared_version == funded.version
    assert cleared[0].raised_at <= cleared[0].cleared_at  # type: ignore[operator]


def test_committed_warning_when_liabilities_exceed_the_bank(funded: Any) -> None:
    funded.agency()
    funded.invoice("BIG", hours="60", rate="20.00", total="1200.00")
    warning = active(funded.ledger)["committed"]
    assert warning.figures == {"bank": 110000, "unpaid_liabilities": 120000}
    assert "£100.00 more than the account holds" in warning.explanation


def test_contribution_shortfall_after_more_than_four_weeks(funded: Any) -> None:
    # £100 received against £20 a week: due passes received + £80 after 9 weeks.
    funded.do("receive_council_payment", amount="10.00", effective_date="2026-06-07")
    assert "contribution_shortfall" not in active(funded.ledger)
    funded.do("receive_council_payment", amount="10.00", effective_date="2026-06-09")
    warning = active(funded.ledger)["contribution_shortfall"]
    assert warning.figures["received"] == 10000
    assert warning.figures["shortfall"] > 8000
    funded.do("receive_contribution", amount="100.00", effective_date="2026-06-10")
    assert "contribution_shortfall" not in active(funded.ledger)


def test_no_contribution_shortfall_on_the_gross_basis(make_funded: Any) -> None:
    account = make_funded("DP-G", payment_basis="gross")
    account.do("receive_council_payment", amount="10.00", effective_date="2026-09-01")
    assert "contribution_shortfall" not in active(account.ledger, "DP-G")


def test_unexpected_income_warns_per_item_until_resolved(funded: Any) -> None:
    first = funded.unexpected("75.00")
    second = funded.unexpected("5.00")
    warnings = active(funded.ledger)
    assert {f"unexpected_income:{first}", f"unexpected_income:{second}"} <= set(warnings)
    funded.do("refund_unexpected_income", item_id=first)
    warnings = active(funded.ledger)
    assert f"unexpected_income:{first}" not in warnings
    assert f"unexpected_income:{second}" in warnings


def test_forecast_says_when_the_money_runs_out(funded: Any) -> None:
    funded.pa()
    # Three weekly wage runs of £100 to 26 April: £300 in the 56 days before it.
    for week in range(3):
        start = date(2026, 4, 6) + timedelta(days=7 * week)
        end = start + timedelta(days=6)
        funded.wage_run(
            period_start=start.isoformat(),
            period_end=end.isoformat(),
            effective_date=end.isoformat(),
            gross="100.00",
            paye="0.00",
            employee_ni="0.00",
            employer_ni="0.00",
            employee_pension="0.00",
            employer_pension="0.00",
            net="100.00",
        )
        funded.do("pay_net_wages", pa_id="PA-1", amount="100.00", effective_date=end.isoformat())
    assert "forecast" not in active(funded.ledger)
    funded.do(
        "pay_care_plan_spend",
        category="other_care_plan",
        amount="780.00",
        description="equipment",
        effective_date="2026-04-26",
    )
    warning = active(funded.ledger)["forecast"]
    # £20 left on 26 April; the next payment is due 4 May (28 days after 6 April): 8 days at
    # £300 / 56 a day is £42.85 expected, and £20 lasts 3 days.
    assert warning.figures == {
        "bank": 2000,
        "unpaid_liabilities": 0,
        "expected_outgoings": 30000 * 8 // 56,
        "next_payment_on": "2026-05-04",
        "runs_out_on": "2026-04-29",
    }
    assert "run out on 2026-04-29" in warning.explanation
    funded.do("receive_council_payment", amount="400.00", effective_date="2026-04-26")
    assert "forecast" not in active(funded.ledger)


def test_review_overdue_and_recorded(funded: Any) -> None:
    state = funded.ledger.load("DP-1")
    assert state.next_review_due == date(2026, 10, 6)  # 6 months after the first payment
    funded.do("receive_contribution", amount="1.00", effective_date="2026-10-07")
    assert active(funded.ledger)["review_overdue"].figures["due"] == "2026-10-06"
    funded.do("record_review", effective_date="2026-10-08", next_review_by="2027-04-01")
    assert "review_overdue" not in active(funded.ledger)
    assert funded.ledger.load("DP-1").next_review_due == date(2027, 4, 1)
    with pytest.raises(ValidationError, match="after the review date"):
        funded.do("record_review", effective_date="2026-10-09", next_review_by="2026-10-01")


def test_payment_while_suspended_is_flagged(funded: Any) -> None:
    funded.do("suspend", reason="hospital stay")
    funded.do("receive_council_payment", amount="400.00", effective_date="2026-05-04")
    assert any(k.startswith("paid_while_suspended:") for k in active(funded.ledger))
    funded.do("resume", effective_date="2026-05-05")
    assert not any(k.startswith("paid_while_suspended:") for k in active(funded.ledger))


def test_evaluate_matches_the_projection(funded: Any) -> None:
    funded.unexpected("9.99")
    funded.do("pay_care_plan_spend", category="insurance", amount="990.00", description="x")
    held = evaluate(funded.ledger.load("DP-1"))
    assert set(held) == {(w.rule, w.subject) for w in funded.ledger.warnings("DP-1")}


# ---------------------------------------------------------------------- surplus and recoupment
def test_contribution_spent_first_limits_what_the_council_recovers(make_funded: Any) -> None:
    account = make_funded("DP-S", contribution_spent_first=True, contingency_weeks=0)
    # Council £1,000 and contribution £100 in; spend £300: the contribution went first, so the
    # council's unspent money is £1,000 - £200 = £800 while the surplus is £800 too.
    account.do("pay_care_plan_spend", category="insurance", amount="300.00", description="x")
    ledger = account.ledger
    assert ledger.surplus("DP-S", "2026-04-20") == Money("800.00")
    assert ledger.recoverable_surplus("DP-S", "2026-04-20") == Money("800.00")
    # More contribution in: the surplus grows by it.
    account.do("receive_contribution", amount="500.00")
    assert ledger.surplus("DP-S", "2026-04-20") == Money("1300.00")
    # The contribution now covers all £300 of spending: all £1,000 of council money is unspent.
    assert ledger.recoverable_surplus("DP-S", "2026-04-20") == Money("1000.00")
    with pytest.raises(SurplusExceeded, match="contribution is spent first"):
        account.do("demand_recoupment", amount="1000.01")
    account.do("demand_recoupment", amount="1000.00")


def test_without_the_policy_the_whole_surplus_is_recoverable(funded: Any) -> None:
    assert funded.ledger.recoverable_surplus("DP-1", "2026-04-13") == Money("300.00")
    with pytest.raises(SurplusExceeded):
        funded.do("demand_recoupment", amount="300.01")


def test_payments_in_advance_after_the_end_date_are_returnable(make_funded: Any) -> None:
    account = make_funded("DP-E", end_date="2026-04-19")
    ledger = account.ledger
    # The funded £1,000 arrived on 6 April with no stated period: taken as 6 April - 3 May.
    assert ledger.paid_in_advance("DP-E") == Money(1000 * 100 * 14 // 28)
    account.do(
        "receive_council_payment",
        amount="280.00",
        period_start="2026-04-13",
        period_end="2026-04-26",
    )
    assert ledger.paid_in_advance("DP-E") == Money("640.00")
    closed = account.do("close_account", effective_date="2026-04-20")
    assert closed.event.paid_in_advance == Money("640.00")


# ---------------------------------------------------------------------- portfolio
def test_portfolio_of_a_council(make_funded: Any) -> None:
    one = make_funded("DP-1")
    two = make_funded("DP-2")
    two.do("pay_care_plan_spend", category="support_fees", amount="1000.00", description="fees")
    one.unexpected("12.00")
    ledger = one.ledger
    portfolio = ledger.portfolio("Kent County Council", on="2026-09-30")
    assert [a.account_id for a in portfolio.accounts] == ["DP-1", "DP-2"]
    assert portfolio.by_warning["low_balance"] == ("DP-2",)
    assert portfolio.by_warning["unexpected_income"] == ("DP-1",)
    assert portfolio.money_held == Money("1212.00")
    assert portfolio.spend_by_category["support_fees"] == Money("1000.00")
    assert portfolio.surplus_candidates == (("DP-1", Money("312.00")),)
    assert [(r.account_id, r.overdue) for r in portfolio.reviews_due] == [
        ("DP-1", False),
        ("DP-2", False),
    ]
    assert portfolio.reviews_due[0].due == date(2026, 10, 6)
    assert ledger.portfolio("Kent County Council", on="2027-01-01").reviews_due[0].overdue
    assert ledger.portfolio("Nowhere", on="2026-09-30").accounts == ()
    assert ledger.councils() == ["Kent County Council"]


# ---------------------------------------------------------------------- bank statements
def _statement(
    closing: str, on: str, *, account: str | None = NATWEST, lines: tuple[Any, ...] = ()
) -> BankStatement:
    """A statement of ``account`` (``None``: one that names no account) whose closing balance
    is ``closing`` at the end of ``on``."""
    return BankStatement(
        source_file=f"statement-{on}.csv",
        format=BankFormat.CSV,
        account_id=account,
        currency="GBP",
        closing_balance=BalanceAssertion(
            date=date.fromisoformat(on), balance=Money(closing), kind="CLBD"
        ),
        transactions=lines,
    )


def _breaks(ledger: Ledger, account_id: str = "DP-1") -> dict[str, Any]:
    return {w.subject: w for w in ledger.warnings(account_id) if w.rule == "reconciliation_break"}


def test_a_stated_balance_that_differs_warns_until_a_back_dated_entry_explains_it(
    funded: Any,
) -> None:
    ledger = funded.ledger
    funded.do("name_bank_account", bank_account=NATWEST, effective_date="2026-04-06")
    # The bank says £1,105.00 at the end of 20 April; the ledger £1,100.00.
    report = ledger.import_statement("DP-1", _statement("1105.00", "2026-04-20"), actor="clerk")
    (gap,) = report.breaks
    assert (gap.bank_account, gap.difference) == (NATWEST, Money("5.00"))
    warning = _breaks(ledger)["2026-04-20"]
    assert warning.figures == {"asserted": 110500, "ledger": 110000, "difference": 500}
    assert "says £1,105.00 on 2026-04-20 but the ledger says £1,100.00" in warning.explanation
    assert warning.raised_version == funded.version  # the account did not change: its version
    assert warning.raised_on == date(2026, 4, 20)  # the statement's date, later than the account's
    kent = ledger.portfolio("Kent County Council", on="2026-04-30")
    assert kent.by_warning["reconciliation_break"] == ("DP-1",)
    known = datetime.now(UTC)
    time.sleep(0.002)
    # Money in after that day changes nothing on it.
    funded.do(
        "receive_unexpected_income", amount="5.00", description="later", effective_date="2026-04-21"
    )
    assert set(_breaks(ledger)) == {"2026-04-20"}
    # Back-dated before it, the missing £5.00 explains the difference: the warning clears.
    funded.do(
        "receive_unexpected_income",
        amount="5.00",
        description="interest",
        effective_date="2026-04-13",
    )
    assert _breaks(ledger) == {}
    (history,) = [
        w for w in ledger.warnings("DP-1", active_only=False) if w.rule == "reconciliation_break"
    ]
    assert history.cleared_version == funded.version
    assert ledger.reconciliation_breaks("DP-1") == []
    assert ledger.reconciliation_breaks("DP-1", known_at=known) == [gap]
    assert "reconciliation_break" not in ledger.portfolio("Kent County Council").by_warning
    everything = ledger.warnings("DP-1", active_only=False)
    ledger.rebuild_projections()
    assert ledger.warnings("DP-1", active_only=False) == everything


def test_statements_that_name_no_bank_account_are_the_accounts_own(funded: Any) -> None:
    ledger = funded.ledger
    ledger.import_statement(
        "DP-1", _statement("1090.00", "2026-04-13", account=None), actor="clerk"
    )
    assert ledger.load("DP-1").bank_account is None
    assert _breaks(ledger)["2026-04-13"].figures["difference"] == -1000
    # A later statement names the bank account: the earlier unidentified one still counts.
    ledger.import_statement("DP-1", _statement("1100.00", "2026-04-14"), actor="clerk")
    assert ledger.load("DP-1").bank_account == NATWEST
    assert set(_breaks(ledger)) == {"2026-04-13"}
    stated = ledger.stated_balances("DP-1")
    assert [(s.bank_account, s.agrees) for s in stated] == [
        ("UNIDENTIFIED:DP-1", False),
        (NATWEST, True),
    ]
    assert [b.effective_date for b in ledger.reconciliation_breaks("DP-1")] == [date(2026, 4, 13)]


def test_break_warnings_do_not_depend_on_the_order_read_models_catch_up(funded: Any) -> None:
    ledger = funded.ledger
    ledger.import_statement("DP-1", _statement("1000.00", "2026-04-15"), actor="clerk")
    funded.do("pay_care_plan_spend", category="insurance", amount="100.00", description="x")
    ledger.import_statement("DP-1", _statement("999.00", "2026-04-16"), actor="clerk")
    funded.do(
        "pay_care_plan_spend",
        category="insurance",
        amount="1.00",
        description="y",
        effective_date="2026-04-16",
    )
    assert _breaks(ledger) == {}
    everything = ledger.warnings("DP-1", active_only=False)
    # Each statement's break was raised (the first statement named the bank account: version 5),
    # then cleared by the payment that explained it.
    assert [
        (w.subject, w.raised_version, w.cleared_version)
        for w in everything
        if w.rule == "reconciliation_break"
    ] == [("2026-04-15", 5, 6), ("2026-04-16", 6, 7)]
    # The oversight alone, rebuilt while the ledger lines are ahead of it ...
    ledger.projections.rebuild(["oversight"])
    assert ledger.warnings("DP-1", active_only=False) == everything
    # ... or every model from nothing, the oversight asked for first.
    ledger.projections.reset()
    ledger.projections.catch_up(["oversight"])
    assert ledger.warnings("DP-1", active_only=False) == everything


def test_a_bank_accounts_events_leave_the_trail_and_the_ledger_lines_alone(funded: Any) -> None:
    ledger = funded.ledger
    line = BankTransaction(
        booking_date=date(2026, 4, 14),
        amount=Money("50.00"),
        direction=Direction.CREDIT,
        description="REFUND FROM SUPPLIER",
        source_location="line 2",
    )
    ledger.import_statement(
        "DP-1", _statement("1150.00", "2026-04-14", lines=(line,)), actor="clerk"
    )
    stored = ledger.application.repository.event_store.get(bank_account_uuid(NATWEST))
    assert {type(e).__name__ for e in stored} >= {
        "BankAccountOpened",
        "StatementLineBooked",
        "BankBalanceStated",
    }
    account = ledger.load("DP-1")
    trail = ledger.audit_trail("DP-1")
    assert [e.version for e in trail] == list(range(1, account.version + 1))
    assert trail[-1].bank_after == account.bank_balance == Money("1150.00")
    assert ledger.balances_as_of("DP-1", "2030-01-01") == account.balances
    (stated,) = ledger.stated_balances("DP-1")
    assert (stated.bank_account, stated.stated, stated.agrees) == (
        NATWEST,
        account.bank_balance,
        True,
    )
    assert _breaks(ledger) == {}
    # The audit sheet lists the stated balance after the day's movements, beside the ledger's.
    sheet = ledger.statement("DP-1", "2026-04-01", "2026-04-30")
    (bank_line,) = [s for s in sheet.lines if s.bank_account is not None]
    assert sheet.lines[-1] == bank_line
    assert (bank_line.bank_account, bank_line.bank_after) == (NATWEST, Money("1150.00"))
    assert bank_line.description == "bank stated £1,150.00 on 2026-04-14"
    assert {line.version for line in sheet.lines if line.bank_account is None} == set(
        range(1, account.version + 1)
    )


# ---------------------------------------------------------------------- alerts as warnings
def test_an_invoice_above_the_agreed_rate_warns_until_credit_notes_cover_it(funded: Any) -> None:
    ledger = funded.ledger
    funded.agency("AG-1", hourly_rate="20.00")
    funded.invoice("INV-7", hours="10", rate="22.50", total="225.00")
    warning = active(ledger)["rate_above_agreed:AG-1/INV-7"]
    (alert,) = rate_alerts(ledger.load("DP-1"))
    assert (warning.figures, warning.explanation) == (alert.figures, alert.message)
    assert warning.figures["overcharge"] == 2500
    kent = ledger.portfolio("Kent County Council", on="2026-04-30")
    assert kent.by_warning["rate_above_agreed"] == ("DP-1",)
    credit = {"agency_id": "AG-1", "invoice_number": "INV-7"}
    funded.do("receive_credit_note", credit_note_number="CN-1", amount="10.00", **credit)
    assert active(ledger)["rate_above_agreed:AG-1/INV-7"].figures["overcharge"] == 1500
    funded.do("receive_credit_note", credit_note_number="CN-2", amount="15.00", **credit)
    assert "rate_above_agreed:AG-1/INV-7" not in active(ledger)
    (history,) = [
        w for w in ledger.warnings("DP-1", active_only=False) if w.rule == "rate_above_agreed"
    ]
    assert history.cleared_version == funded.version
    assert "rate_above_agreed" not in ledger.portfolio("Kent County Council").by_warning


def test_hours_above_the_care_plan_warn_until_the_plan_covers_them(funded: Any) -> None:
    ledger = funded.ledger
    funded.do(
        "agree_care_plan",
        agency_hours_per_week="10",
        pa_hours_per_week="20",
        effective_date="2026-04-06",
    )
    funded.agency("AG-1", hourly_rate="20.00")
    funded.invoice("INV-1", hours="12", rate="20.00", total="240.00")
    warning = active(ledger)["care_plan_exceeded:agency:2026-04-06..2026-04-12"]
    assert warning.figures["excess_hours"] == "2.00"
    assert "2.00 hours more than the care plan's" in warning.explanation
    assert ledger.portfolio("Kent County Council").by_warning["care_plan_exceeded"] == ("DP-1",)
    funded.do(
        "agree_care_plan",
        agency_hours_per_week="12",
        pa_hours_per_week="20",
        effective_date="2026-04-06",
    )
    assert not [k for k in active(ledger) if k.startswith("care_plan_exceeded")]
    assert set(evaluate(ledger.load("DP-1"))) == {
        (w.rule, w.subject) for w in ledger.warnings("DP-1")
    }
