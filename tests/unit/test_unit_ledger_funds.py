"""Ledger: care-plan spend, never overdrawn, unexpected income, surplus and recoupment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money, SpendCategory
from dpledger.domain.records import SuspenseStatus
from dpledger.errors import (
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    RuleViolation,
    SurplusExceeded,
    UnknownParty,
    ValidationError,
)

A = LedgerAccount


# ---------------------------------------------------------------------------- care-plan spend
@pytest.mark.parametrize(
    ("category", "account"),
    [
        ("insurance", A.INSURANCE),
        (SpendCategory.SUPPORT_FEES, A.SUPPORT_FEES),
        ("other_care_plan", A.OTHER_CARE_PLAN),
    ],
)
def test_care_plan_spend_posts_to_its_category(
    funded: Any, category: Any, account: LedgerAccount
) -> None:
    receipt = funded.do(
        "pay_care_plan_spend", category=category, amount="45.00", description=" payroll fee "
    )
    assert receipt.event.category is SpendCategory(account.value.split(":")[1])
    assert receipt.event.description == "payroll fee"
    assert receipt.postings.lines[0].account is account
    assert receipt.postings.effect_on(account) == 4500
    assert receipt.postings.effect_on(A.BANK) == -4500
    balances = funded.state().balances
    assert balances[account] == Money("45.00")
    assert balances[A.BANK] == Money("1055.00")
    others = [a for a in (A.INSURANCE, A.SUPPORT_FEES, A.OTHER_CARE_PLAN) if a is not account]
    assert all(balances[a] == Money(0) for a in others)


# ---------------------------------------------------------------------------- never overdrawn
def _owe_a_lot(funded: Any) -> None:
    """Make £5,000 owed on every kind of liability while the bank holds £1,100."""
    funded.agency("AG-1")
    funded.invoice("INV-1", hours="250", rate="20.00", total="5000.00")
    funded.pa("PA-1")
    funded.wage_run(
        gross="15000.00",
        paye="5000.00",
        employee_ni="0",
        employer_ni="0",
        employee_pension="0",
        employer_pension="5000.00",
        net="10000.00",
    )


PAYMENTS: dict[str, Callable[[Any, str], Any]] = {
    "invoice": lambda f, amount: f.do(
        "pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount=amount
    ),
    "net_wages": lambda f, amount: f.do("pay_net_wages", pa_id="PA-1", amount=amount),
    "hmrc": lambda f, amount: f.do("pay_hmrc", amount=amount),
    "pension": lambda f, amount: f.do("pay_pension", amount=amount),
    "care_plan": lambda f, amount: f.do(
        "pay_care_plan_spend", category="insurance", amount=amount, description="policy"
    ),
}


@pytest.mark.parametrize("payment", sorted(PAYMENTS))
@pytest.mark.parametrize(
    ("amount", "shortfall"), [("1100.01", "0.01"), ("1500.00", "400.00"), ("5000.00", "3900.00")]
)
def test_no_payment_can_overdraw_the_bank(
    funded: Any, payment: str, amount: str, shortfall: str
) -> None:
    _owe_a_lot(funded)
    before = funded.state()
    with pytest.raises(InsufficientFunds) as caught:
        PAYMENTS[payment](funded, amount)
    error = caught.value
    assert isinstance(error, RuleViolation)
    assert error.shortfall == Money(shortfall)
    assert error.balance == Money("1100.00")
    assert error.account_id == "DP-1"
    assert error.fix
    assert f"short by {Money(shortfall)}" in str(error)
    after = funded.state()
    assert after.version == before.version
    assert after.balances == before.balances
    assert after == before
    # exactly the balance is fine, and leaves nothing
    PAYMENTS[payment](funded, "1100.00")
    assert funded.bank() == Money(0)
    with pytest.raises(InsufficientFunds) as caught:
        PAYMENTS[payment](funded, "0.01")
    assert caught.value.shortfall == Money("0.01")
    assert caught.value.balance == Money(0)


def test_refunding_unexpected_income_already_spent_is_refused(funded: Any) -> None:
    item = funded.unexpected("75.00")
    funded.do(
        "pay_care_plan_spend", category="other_care_plan", amount="1150.00", description="hoist"
    )
    with pytest.raises(InsufficientFunds) as caught:
        funded.do("refund_unexpected_income", item_id=item)
    assert caught.value.shortfall == Money("50.00")
    assert funded.state().suspense_items[item].status is SuspenseStatus.HELD


@given(
    money_in=st.lists(st.integers(1, 100_000), min_size=0, max_size=4),
    spends=st.lists(st.integers(1, 150_000), min_size=1, max_size=6),
)
def test_bank_never_goes_below_zero(money_in: list[int], spends: list[int]) -> None:
    with Ledger.in_memory() as ledger:
        day = {"effective_date": "2026-04-06", "actor": "a"}
        ledger.open_account("DP-B", person_ref="P", council="C", provider="S", **day)
        bank = 0
        for amount in money_in:
            ledger.receive_council_payment("DP-B", amount=amount, **day)
            bank += amount
        version = len(money_in) + 1
        for amount in spends:
            spend = {"category": "support_fees", "amount": amount, "description": "fee"}
            if amount > bank:
                with pytest.raises(InsufficientFunds) as caught:
                    ledger.pay_care_plan_spend("DP-B", **spend, **day)
                assert caught.value.shortfall == Money(amount - bank)
                assert caught.value.balance == Money(bank)
            else:
                ledger.pay_care_plan_spend("DP-B", **spend, **day)
                bank -= amount
                version += 1
            state = ledger.account("DP-B")
            assert state.bank_balance == Money(bank)
            assert state.version == version
            assert not state.bank_balance.is_negative()


# ---------------------------------------------------------------------------- unexpected income
def test_unexpected_income_is_held_in_suspense(funded: Any) -> None:
    receipt = funded.do("receive_unexpected_income", amount="75.00", description=" DWP credit ")
    assert receipt.version == 5
    assert receipt.event.item_id == "S5"
    assert receipt.postings.effect_on(A.BANK) == 7500
    assert receipt.postings.effect_on(A.SUSPENSE) == -7500
    item = funded.state().suspense_items["S5"]
    assert (item.amount, item.description, item.status, item.resolution) == (
        Money("75.00"),
        "DWP credit",
        SuspenseStatus.HELD,
        None,
    )
    assert funded.state().balances[A.SUSPENSE] == Money("-75.00")
    assert funded.bank() == Money("1175.00")


@pytest.mark.parametrize(
    ("classified_as", "income"),
    [("council", A.COUNCIL_INCOME), ("contribution", A.CONTRIBUTION_INCOME)],
)
def test_classifying_moves_suspense_to_income(
    funded: Any, classified_as: str, income: LedgerAccount
) -> None:
    item = funded.unexpected("75.00")
    before = funded.state().balances[income]
    receipt = funded.do("classify_unexpected_income", item_id=item, classified_as=classified_as)
    assert receipt.postings.effect_on(A.SUSPENSE) == 7500
    assert receipt.postings.effect_on(income) == -7500
    state = funded.state()
    assert state.balances[A.SUSPENSE] == Money(0)
    assert state.balances[income] == before - Money("75.00")
    assert state.suspense_items[item].status is SuspenseStatus.CLASSIFIED
    assert state.suspense_items[item].resolution == classified_as
    assert state.bank_balance == Money("1175.00")


def test_classifying_as_something_else_is_refused(funded: Any) -> None:
    item = funded.unexpected()
    with pytest.raises(ValidationError) as caught:
        funded.do("classify_unexpected_income", item_id=item, classified_as="gift")
    assert caught.value.field == "classified_as"
    assert "council, contribution" in caught.value.fix


def test_refunding_pays_it_back(funded: Any) -> None:
    item = funded.unexpected("75.00")
    receipt = funded.do("refund_unexpected_income", item_id=item, reason="sender asked")
    assert receipt.postings.effect_on(A.BANK) == -7500
    state = funded.state()
    assert state.bank_balance == Money("1100.00")
    assert state.balances[A.SUSPENSE] == Money(0)
    assert state.suspense_items[item].status is SuspenseStatus.REFUNDED
    assert state.suspense_items[item].resolution == "sender asked"


def test_keeping_needs_a_reason(funded: Any) -> None:
    item = funded.unexpected("75.00")
    for reason in (None, "", "   "):
        with pytest.raises(ValidationError) as caught:
            funded.do("keep_unexpected_income", item_id=item, reason=reason)
        assert caught.value.field == "reason"
    receipt = funded.do("keep_unexpected_income", item_id=item, reason="council said keep it")
    assert receipt.postings.effect_on(A.OTHER_INCOME) == -7500
    state = funded.state()
    assert state.balances[A.OTHER_INCOME] == Money("-75.00")
    assert state.suspense_items[item].status is SuspenseStatus.KEPT
    assert state.suspense_items[item].resolution == "council said keep it"


@pytest.mark.parametrize("first", ["classify", "refund", "keep"])
@pytest.mark.parametrize("second", ["classify", "refund", "keep"])
def test_resolving_twice_is_refused(funded: Any, first: str, second: str) -> None:
    item = funded.unexpected("75.00")
    resolve = {
        "classify": lambda: funded.do(
            "classify_unexpected_income", item_id=item, classified_as="council"
        ),
        "refund": lambda: funded.do("refund_unexpected_income", item_id=item),
        "keep": lambda: funded.do("keep_unexpected_income", item_id=item, reason="ok"),
    }
    resolve[first]()
    version, balances = funded.version, funded.state().balances
    with pytest.raises(InvalidTransition, match=f"suspense item {item} was already"):
        resolve[second]()
    assert funded.version == version
    assert funded.state().balances == balances


def test_unknown_suspense_item(funded: Any) -> None:
    with pytest.raises(UnknownParty, match="no suspense item 'S99'"):
        funded.do("refund_unexpected_income", item_id="S99")


# ---------------------------------------------------------------------------- recoupment
def test_surplus_is_balance_less_liabilities_less_contingency(funded: Any) -> None:
    ledger = funded.ledger
    assert ledger.surplus("DP-1", "2026-04-13") == Money("300.00")  # 1100 - 0 - 8 x 100
    funded.agency()
    funded.invoice("INV-1", total="200.00")
    assert ledger.surplus("DP-1", "2026-04-13") == Money("100.00")
    funded.do(
        "agree_budget", weekly_gross="150.00", weekly_contribution="0", effective_date="2026-05-04"
    )
    assert ledger.surplus("DP-1", "2026-05-03") == Money("100.00")
    assert ledger.surplus("DP-1", "2026-05-04") == Money(0)  # 1100 - 200 - 1200


def test_contingency_follows_the_policy(make_funded: Any) -> None:
    account = make_funded("DP-4", contingency_weeks=4)
    assert account.ledger.surplus("DP-4", "2026-04-13") == Money("700.00")  # 1100 - 4 x 100
    with pytest.raises(SurplusExceeded):
        account.do("demand_recoupment", amount="700.01")
    account.do("demand_recoupment", amount="700.00")


def test_recoupment_up_to_the_surplus(funded: Any) -> None:
    with pytest.raises(SurplusExceeded) as caught:
        funded.do("demand_recoupment", amount="300.01")
    assert "recoupment of £300.01 exceeds the surplus of £300.00" in str(caught.value)
    assert caught.value.account_id == "DP-1"
    assert "contingency" in caught.value.fix
    assert funded.version == 4
    receipt = funded.do("demand_recoupment", amount="300.00")
    assert receipt.event.surplus == Money("300.00")
    assert receipt.postings.effect_on(A.RETURNED_TO_COUNCIL) == 30000
    assert receipt.postings.effect_on(A.COUNCIL_PAYABLE) == -30000
    state = funded.state()
    assert state.owed(A.COUNCIL_PAYABLE) == Money("300.00")
    assert state.bank_balance == Money("1100.00")
    # the demand itself is a liability: nothing more to recoup
    assert funded.ledger.surplus("DP-1", "2026-04-13") == Money(0)
    with pytest.raises(SurplusExceeded):
        funded.do("demand_recoupment", amount="0.01")


def test_repay_no_more_than_demanded(funded: Any) -> None:
    funded.do("demand_recoupment", amount="200.00")
    with pytest.raises(Overpayment, match=re.escape("£200.01 is more than the £200.00 owed")):
        funded.do("repay_recoupment", amount="200.01")
    funded.do("repay_recoupment", amount="150.00", bank_reference="BACS-R")
    assert funded.owed(A.COUNCIL_PAYABLE) == Money("50.00")
    funded.do("repay_recoupment", amount="50.00")
    state = funded.state()
    assert state.owed(A.COUNCIL_PAYABLE) == Money(0)
    assert state.bank_balance == Money("900.00")
    assert state.balances[A.RETURNED_TO_COUNCIL] == Money("200.00")
    with pytest.raises(Overpayment):
        funded.do("repay_recoupment", amount="0.01")
    # balance still covers contingency: 900 >= 800
    assert funded.ledger.surplus("DP-1", "2026-04-13") == Money("100.00")


def test_recoupment_with_no_budget_has_no_contingency(ledger: Ledger) -> None:
    day = {"effective_date": "2026-04-06", "actor": "a"}
    ledger.open_account("DP-N", person_ref="P", council="C", provider="S", **day)
    ledger.receive_council_payment("DP-N", amount="50.00", **day)
    ledger.demand_recoupment("DP-N", amount="50.00", **day)
    with pytest.raises(SurplusExceeded):
        ledger.demand_recoupment("DP-N", amount="0.01", **day)


@given(bank=st.integers(0, 500_000), asked=st.integers(1, 500_000), weeks=st.integers(0, 8))
def test_recoupment_never_takes_the_balance_below_contingency(
    bank: int, asked: int, weeks: int
) -> None:
    with Ledger.in_memory() as ledger:
        day = {"effective_date": "2026-04-06", "actor": "a"}
        ledger.open_account(
            "DP-R",
            person_ref="P",
            council="C",
            provider="S",
            policy={"contingency_weeks": weeks},
            **day,
        )
        ledger.agree_budget("DP-R", weekly_gross="100.00", weekly_contribution="0", **day)
        if bank:
            ledger.receive_council_payment("DP-R", amount=bank, **day)
        contingency = weeks * 10_000
        available = max(0, bank - contingency)
        assert ledger.surplus("DP-R", "2026-04-06") == Money(available)
        if asked > available:
            with pytest.raises(SurplusExceeded):
                ledger.demand_recoupment("DP-R", amount=asked, **day)
        else:
            ledger.demand_recoupment("DP-R", amount=asked, **day)
            ledger.repay_recoupment("DP-R", amount=asked, **day)
            assert ledger.bank_balance("DP-R").pence >= contingency
            assert ledger.bank_balance("DP-R") == Money(bank - asked)
