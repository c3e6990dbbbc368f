"""Funds: money in, care-plan spend, and the bank never below zero on any day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from concern_harness import FUNDED, OPENED, cmd, given

from dpledger.domain.account import ManagedAccount
from dpledger.domain.chart import LedgerAccount, Posting, Postings, SpendCategory
from dpledger.domain.commands import Command, Context
from dpledger.domain.errors import InsufficientFunds, InvalidTransition, ValidationError
from dpledger.domain.funds import (
    BankLineConfirmed,
    CarePlanSpendPaid,
    ContributionReceived,
    CouncilPaymentReceived,
    OneOffPaymentReceived,
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveOneOffPayment,
    awaiting_movements,
    confirm_movement,
    movements_near,
)
from dpledger.domain.keys import AWAITING_PREFIX, AccountFacts
from dpledger.domain.money import Money
from dpledger.domain.window import COMPACT_EVERY, RECENT_DAYS

A = LedgerAccount


def spend(amount: str, day: str = "2026-04-13", **fields: object) -> Command:
    """Care-plan spend on insurance of ``amount`` on ``day``."""
    values: dict[str, object] = {"category": "insurance", "description": "employer's liability"}
    values.update(fields)
    return cmd(PayCarePlanSpend, amount=amount, effective_date=day, **values)


# ---------------------------------------------------------------------------- money in
def test_a_council_payment_is_money_in_for_its_period() -> None:
    scenario = given(*OPENED)
    event = scenario.when(
        cmd(
            ReceiveCouncilPayment,
            amount="1666.00",
            period_start="2026-04-06",
            period_end="2026-05-03",
            bank_reference="KCC DP 4411",
        )
    ).event(
        CouncilPaymentReceived,
        amount=Money("1666.00"),
        period_start=date(2026, 4, 6),
        period_end=date(2026, 5, 3),
        bank_reference="KCC DP 4411",
    )
    assert event.postings == Postings.transfer(A.BANK, A.COUNCIL_INCOME, Money("1666.00"))
    account = scenario.account
    assert account is not None
    assert account.bank_balance == account.council_received == Money("1666.00")
    assert account.first_payment_on == date(2026, 4, 13)
    assert [p.amount for p in account.council_payments] == [Money("1666.00")]


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    error = (
        given(*OPENED)
        .when(
            cmd(
                ReceiveCouncilPayment,
                amount="10.00",
                period_start="2026-05-03",
                period_end="2026-04-06",
            )
        )
        .refused(ValidationError, "period 2026-05-03..2026-04-06 ends before it starts")
    )
    assert isinstance(error, ValidationError)
    assert error.field == "period_end"


def test_contributions_and_one_off_payments() -> None:
    scenario = given(*OPENED)
    scenario.when(cmd(ReceiveContribution, amount="38.50", bank_reference="P77")).event(
        ContributionReceived, amount=Money("38.50"), bank_reference="P77"
    )
    scenario.when(cmd(ReceiveOneOffPayment, amount="500.00", purpose="hoist")).event(
        OneOffPaymentReceived, amount=Money("500.00"), purpose="hoist"
    )
    account = scenario.account
    assert account is not None
    assert account.contributions_received == Money("38.50")
    assert account.council_received == Money("500.00")  # a one-off is council money too
    assert account.council_payments == ()  # but it settles no regular payment
    assert account.bank_balance == Money("538.50")


# ---------------------------------------------------------------------------- money out
def test_care_plan_spend_posts_to_its_category() -> None:
    scenario = given(*FUNDED)
    for category in SpendCategory:
        event = scenario.when(spend("1.00", category=category.value)).event(
            CarePlanSpendPaid, category=category, amount=Money("1.00")
        )
        assert event.postings == Postings.transfer(category.ledger_account, A.BANK, Money("1.00"))
    account = scenario.account
    assert account is not None
    assert account.bank_balance == Money("1100.00") - Money(100 * len(SpendCategory))


def test_an_unknown_category_is_refused_when_the_command_is_built() -> None:
    with pytest.raises(ValidationError) as caught:
        spend("1.00", category="holidays")
    assert caught.value.field == "category"
    assert "not a spend category" in caught.value.message


def test_the_bank_is_never_overdrawn() -> None:
    scenario = given(*FUNDED)
    error = scenario.when(spend("1100.01")).refused(InsufficientFunds)
    assert isinstance(error, InsufficientFunds)
    assert (error.shortfall, error.balance) == (Money("0.01"), Money("1100.00"))
    assert error.fix == "wait for the next council payment or contribution, or pay less"
    scenario.when(spend("1100.00")).then(CarePlanSpendPaid)
    assert scenario.account is not None
    assert scenario.account.bank_balance == Money(0)


def test_a_back_dated_payment_cannot_spend_money_that_had_not_arrived() -> None:
    # The account was funded on 6 April; money arriving on the 20th cannot pay for the 13th.
    scenario = given(
        *OPENED, cmd(ReceiveCouncilPayment, amount="1000.00", effective_date="2026-04-20")
    )
    error = scenario.when(spend("1.00", "2026-04-13")).refused(
        InsufficientFunds, "the bank cannot cover £1.00 on 2026-04-13: £0.00 is available"
    )
    assert isinstance(error, InsufficientFunds)
    assert error.shortfall == Money("1.00")
    scenario.when(spend("1.00", "2026-04-20")).then(CarePlanSpendPaid)


def test_a_back_dated_payment_cannot_spend_money_later_payments_already_spent() -> None:
    # £1,100 on 6 April, £800 spent on the 20th: £300 is all a payment on the 14th may take,
    # though the bank held £1,100 that day.
    scenario = given(*FUNDED, spend("800.00", "2026-04-20"))
    account = scenario.account
    assert account is not None
    assert account.bank_balance_on(date(2026, 4, 14)) == Money("1100.00")
    assert account.available_from(date(2026, 4, 14)) == Money("300.00")
    error = scenario.when(spend("300.01", "2026-04-14")).refused(InsufficientFunds)
    assert isinstance(error, InsufficientFunds)
    assert (error.shortfall, error.balance) == (Money("0.01"), Money("300.00"))
    scenario.when(spend("300.00", "2026-04-14")).then(CarePlanSpendPaid)
    assert account.available_from(date(2026, 4, 6)) == Money(0)


def test_money_the_bank_already_paid_out_is_recorded_even_below_zero() -> None:
    # A statement line is what the bank did: the rule that stops a person paying does not stop
    # the record of what happened.
    scenario = given(*FUNDED)
    event = scenario.when(spend("1500.00"), from_bank=True).event(CarePlanSpendPaid)
    assert event.postings.effect_on(A.BANK) == -150000
    assert scenario.account is not None
    assert scenario.account.bank_balance == Money("-400.00")
    # And, overdrawn, the next payment by hand is refused.
    scenario.when(spend("0.01")).refused(InsufficientFunds)


# ---------------------------------------------------------------------------- the window
def _two_years_of_payments() -> tuple[list[Command], date]:
    """49 fortnightly council payments after the opening: the 50th event compacts the account."""
    first = date(2026, 4, 6)
    days = [first + timedelta(days=14 * n) for n in range(COMPACT_EVERY - 1)]
    payments = [cmd(ReceiveCouncilPayment, amount="10.00", effective_date=d) for d in days]
    return payments, days[-1]


def test_payments_dated_before_the_kept_window_are_refused() -> None:
    payments, last = _two_years_of_payments()
    scenario = given(*OPENED, *payments)
    account = scenario.account
    assert account is not None
    assert account.version == COMPACT_EVERY
    kept_from = last - timedelta(days=RECENT_DAYS)
    assert account.funds.kept_from == kept_from
    before = (kept_from - timedelta(days=1)).isoformat()
    error = scenario.when(spend("1.00", before)).refused(
        ValidationError, "is before .*the first day of the bank's day-by-day history"
    )
    assert isinstance(error, ValidationError)
    assert error.field == "effective_date"
    assert error.fix.startswith(f"date money going out on or after {kept_from}")
    # On the window's first day the money there is on that day can be spent; ...
    on_the_day = account.available_from(kept_from)
    assert on_the_day.is_positive()
    scenario.when(spend(str(on_the_day.amount), kept_from.isoformat())).then(CarePlanSpendPaid)
    # ... and money coming in before the window is still recorded (the bank is the truth).
    scenario.when(cmd(ReceiveCouncilPayment, amount="5.00", effective_date=before)).then(
        CouncilPaymentReceived
    )
    assert account.bank_balance == Money(10 * (COMPACT_EVERY - 1) * 100 + 500) - on_the_day


# ---------------------------------------------------------------------------- bank lines
def _evidence(account: ManagedAccount, amount: int) -> Context:
    command = Command(
        account_id="DP-1",
        effective_date="2026-04-14",
        actor="importer",
        reason=f"same amount {amount}",
        idempotency_key="bank:L1",
    )
    return Context(command, AccountFacts(account), from_bank=True)


def _awaiting(account: ManagedAccount) -> list[tuple[int, str]]:
    found = awaiting_movements(AccountFacts(account).prefixed(AWAITING_PREFIX))
    near = movements_near(found, Money("-45.00"), date(2026, 4, 14), 3)
    return [(m.version, m.event_type) for m in near]


def test_a_bank_line_confirms_a_movement_recorded_by_hand() -> None:
    scenario = given(*FUNDED, spend("45.00"))
    account = scenario.account
    assert account is not None
    # money recorded by hand awaits its bank line in the key index, not in the state
    assert _awaiting(account) == [(5, "CarePlanSpendPaid")]
    event = confirm_movement(
        account,
        _evidence(account, -4500),
        line_key="L1",
        version=5,
        amount=Money(-4500),
        description="X",
    )
    assert isinstance(event, BankLineConfirmed)
    assert (event.matched_version, event.matched_type, event.postings) == (
        5,
        "CarePlanSpendPaid",
        Postings(),
    )
    assert _awaiting(account) == []
    with pytest.raises(InvalidTransition, match=r"event 5 is not a recorded movement"):
        confirm_movement(
            account,
            _evidence(account, -4500),
            line_key="L2",
            version=5,
            amount=Money(-4500),
            description="X",
        )


def test_a_bank_line_of_another_amount_confirms_nothing() -> None:
    scenario = given(*FUNDED, spend("45.00"))
    account = scenario.account
    assert account is not None
    version = account.version
    with pytest.raises(InvalidTransition, match=r"not a recorded movement of -£45\.01"):
        confirm_movement(
            account,
            _evidence(account, -4501),
            line_key="L1",
            version=5,
            amount=Money(-4501),
            description="X",
        )
    assert account.version == version


def test_postings_always_balance() -> None:
    with pytest.raises(ValidationError, match="postings do not balance: they sum to 1 pence"):
        Postings.of([Posting.debit(A.BANK, Money(1))])
