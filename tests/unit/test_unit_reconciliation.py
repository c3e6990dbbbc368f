"""The matching rules and the payment schedule of ``dpledger.domain.reconciliation``, one by one.

Uses the funded account of ``conftest.py`` (``DP-1``: budget £100.00 gross / £20.00 contribution a
week from 2026-04-06, council payment £1,000.00 and contribution £100.00 recorded by hand that day,
default margin 5 days).
"""

from __future__ import annotations

from datetime import date

from conftest import ACTOR, OPENED, Funded, open_funded
from dpledger import Ledger, Money
from dpledger.adapters import keyindex
from dpledger.domain.account import account_uuid
from dpledger.domain.funds import awaiting_movements
from dpledger.domain.keys import AWAITING_PREFIX
from dpledger.domain.reconciliation import (
    BankLine,
    MatchKind,
    match_line,
    missing_payments,
    payment_schedule,
)


def line(pence: int, day: str = "2026-04-08", text: str = "", **kwargs: object) -> BankLine:
    return BankLine(
        key=f"ref:{pence}:{day}",
        booking_date=date.fromisoformat(day),
        amount=Money(abs(pence)),
        credit=pence > 0,
        description=text,
        **kwargs,  # type: ignore[arg-type]
    )


def decide(funded: Funded, bank_line: BankLine) -> tuple[MatchKind, str]:
    # No bank account: these rules read the managed account, and the money it recorded by hand
    # that awaits a bank line (the key index's ``move:`` records). Reversals, which read the
    # bank account's lines, are in test_unit_bank_state.py.
    ledger = funded.ledger
    awaiting = keyindex.lookup_prefix(
        ledger.application.recorder, account_uuid(funded.account_id), AWAITING_PREFIX
    )
    account = ledger.load(funded.account_id)
    decision = match_line(account, None, bank_line, awaiting_movements(awaiting))
    return decision.kind, decision.reason


def test_a_line_confirms_money_recorded_by_hand_within_the_margin(funded: Funded) -> None:
    kind, reason = decide(funded, line(100000, "2026-04-09"))
    assert kind is MatchKind.CONFIRMS
    assert "confirms CouncilPaymentReceived (event 3) recorded on 2026-04-06" in reason
    assert "3 day(s) apart (within 5)" in reason
    # outside the margin it is not the same payment
    assert decide(funded, line(100000, "2026-04-12"))[0] is MatchKind.UNEXPECTED_INCOME
    # the other direction never confirms money in
    assert decide(funded, line(-100000, "2026-04-07"))[0] is MatchKind.UNEXPECTED_OUTGOING


def test_the_closest_recorded_entry_and_its_reference_win(funded: Funded) -> None:
    funded.do("receive_contribution", amount="100.00", effective_date="2026-04-08")
    funded.do(
        "receive_contribution",
        amount="100.00",
        effective_date="2026-04-10",
        bank_reference="SO-77",
    )
    kind, reason = decide(funded, line(10000, "2026-04-08", "SO-77 J SMITH"))
    assert kind is MatchKind.CONFIRMS
    assert "(event 6)" in reason
    assert "reference 'SO-77' matches" in reason
    assert "3 recorded entries fitted" in reason
    kind, reason = decide(funded, line(10000, "2026-04-08", "J SMITH"))
    assert "(event 5)" in reason  # no reference: the nearest date


def test_a_credit_of_the_scheduled_amount_near_a_due_date_is_a_council_payment(
    funded: Funded,
) -> None:
    # 2026-04-06 is paid (the £1,000 by hand); 2026-05-04 is the next due date: 4 x £80.
    kind, reason = decide(funded, line(32000, "2026-05-06"))
    assert kind is MatchKind.COUNCIL_PAYMENT
    assert reason.startswith("council payment due 2026-05-04 (£80.00/week x 4 weeks)")
    assert decide(funded, line(32000, "2026-05-10"))[0] is MatchKind.UNEXPECTED_INCOME
    assert decide(funded, line(32001, "2026-05-04"))[0] is MatchKind.UNEXPECTED_INCOME


def test_no_council_payment_is_expected_while_suspended(funded: Funded) -> None:
    funded.do("suspend", reason="in hospital", effective_date="2026-05-01")
    assert decide(funded, line(32000, "2026-05-04"))[0] is MatchKind.UNEXPECTED_INCOME
    funded.do("resume", backfill_ordered=False, effective_date="2026-05-20")
    assert decide(funded, line(32000, "2026-06-01"))[0] is MatchKind.COUNCIL_PAYMENT


def test_whole_weeks_of_contribution_or_a_known_reference_are_contributions(
    funded: Funded,
) -> None:
    kind, reason = decide(funded, line(6000, "2026-04-20"))
    assert (kind, reason) == (
        MatchKind.CONTRIBUTION,
        "£60.00 is 3 week(s) of the £20.00 weekly contribution (budget of 2026-04-06)",
    )
    assert decide(funded, line(6001, "2026-04-20"))[0] is MatchKind.UNEXPECTED_INCOME
    funded.do("receive_contribution", amount="33.00", bank_reference="SO P77")
    kind, reason = decide(funded, line(3500, "2026-05-20", "STANDING ORDER SO P77"))
    assert kind is MatchKind.CONTRIBUTION
    assert reason == "reference 'SO P77' was used by earlier contributions"


def test_the_gross_basis_expects_no_contribution(ledger: Ledger) -> None:
    funded = open_funded(ledger, "DP-G", payment_basis="gross")
    assert decide(funded, line(6000, "2026-04-20"))[0] is MatchKind.UNEXPECTED_INCOME
    # and the council pays the gross budget
    assert decide(funded, line(40000, "2026-05-04"))[0] is MatchKind.COUNCIL_PAYMENT


def test_debits_match_liabilities_with_exact_amounts_or_named_payees(funded: Funded) -> None:
    funded.pa()
    funded.wage_run()  # net £415, HMRC £90, pension £40
    assert decide(funded, line(-41500))[0] is MatchKind.NET_WAGES
    assert decide(funded, line(-9000))[0] is MatchKind.HMRC
    kind, reason = decide(funded, line(-4000))
    assert (kind, reason) == (
        MatchKind.PENSION,
        "£40.00 is owed to the pension provider, exactly £40.00",
    )
    # part payments need the payee in the text
    assert decide(funded, line(-5000))[0] is MatchKind.UNEXPECTED_OUTGOING
    kind, reason = decide(funded, line(-5000, text="HMRC SHIPLEY"))
    assert kind is MatchKind.HMRC
    assert "the bank's text says HMRC" in reason
    assert decide(funded, line(-41600))[0] is MatchKind.UNEXPECTED_OUTGOING


def test_candidates_of_the_same_amount_are_decided_by_text_then_rule_order(
    funded: Funded,
) -> None:
    funded.agency()
    funded.invoice("INV-1", hours="4.5", rate="20.00", total="90.00")
    funded.pa()
    funded.wage_run()  # HMRC is owed £90.00 too
    kind, reason = decide(funded, line(-9000))
    assert kind is MatchKind.INVOICE_PAYMENT
    assert "2 liabilities owed £90.00, chose by rule order" in reason
    kind, reason = decide(funded, line(-9000, text="HMRC"))
    assert kind is MatchKind.HMRC
    assert "the bank's text decided" in reason


def test_a_reversal_without_a_bank_account_is_held_saying_why(funded: Funded) -> None:
    # £20.00 is a week's contribution, but money coming back is never read as a payment due
    back = line(2000, "2026-04-09", "RETURNED DD", is_reversal=True)
    assert decide(funded, line(2000, "2026-04-09"))[0] is MatchKind.CONTRIBUTION
    kind, reason = decide(funded, back)
    assert kind is MatchKind.UNEXPECTED_INCOME
    assert reason.startswith("a bank reversal whose original line is not in the ledger")


def test_mentions_matches_whole_words_only() -> None:
    bank = line(-100, text="Payment INV-7/CARE co.")
    assert bank.mentions("inv 7")
    assert bank.mentions("Care Co")
    assert not bank.mentions("INV-70")
    assert not bank.mentions("")


def test_the_schedule_pro_rates_monthly_payments_by_days(ledger: Ledger) -> None:
    ledger.open_account(
        "DP-M",
        person_ref="P-1",
        council="Hampshire",
        provider="SOLO",
        effective_date="2026-01-01",
        actor=ACTOR,
        policy={"frequency": "monthly"},
    )
    ledger.agree_budget(
        "DP-M",
        weekly_gross="150.00",
        weekly_contribution="0",
        effective_date="2026-01-01",
        actor=ACTOR,
    )
    due = payment_schedule(ledger.load("DP-M"), date(2026, 3, 1))
    # Hampshire's example: £150 a week is £664.29 for January and £600.00 for February.
    assert [(d.due_date.isoformat(), d.amount) for d in due] == [
        ("2026-01-01", Money("664.29")),
        ("2026-02-01", Money("600.00")),
        ("2026-03-01", Money("664.29")),
    ]
    assert all(d.kind == "council" for d in due)  # no contribution assessed


def test_missing_payments_after_the_due_date_plus_margin(funded: Funded) -> None:
    account = funded.ledger.load(funded.account_id)
    assert missing_payments(account, date(2026, 5, 9)) == []  # 2026-05-04 + 5 days: not yet
    missing = funded.ledger.missing_payments(funded.account_id, "2026-05-10")
    assert [(m.kind, m.due_date.isoformat(), m.amount) for m in missing] == [
        ("contribution", "2026-05-04", Money("60.00")),  # £100 paid of £160 due by then
        ("council", "2026-05-04", Money("320.00")),
    ]
    assert "no council payment within 5 days of 2026-05-04" in missing[1].reason
    funded.do("receive_council_payment", amount="320.00", effective_date="2026-05-08")
    funded.do("receive_contribution", amount="60.00", effective_date="2026-05-09")
    assert funded.ledger.missing_payments(funded.account_id, "2026-05-10") == []


def test_nothing_is_missing_while_suspended_or_after_the_end(ledger: Ledger) -> None:
    open_funded(ledger, "DP-E", end_date="2026-05-31")
    ended = ledger.missing_payments("DP-E", "2026-09-30")
    # due 2026-05-04 is inside the Direct Payment; 2026-06-01 and later are after its end
    assert [(m.kind, m.due_date.isoformat()) for m in ended] == [
        ("contribution", "2026-05-04"),
        ("council", "2026-05-04"),
    ]
    suspended = open_funded(ledger, "DP-S")
    suspended.do("suspend", reason="hospital", effective_date="2026-05-01")
    assert ledger.missing_payments("DP-S", "2026-09-30") == []
    assert OPENED == "2026-04-06"  # the conftest's opening date these due dates follow
