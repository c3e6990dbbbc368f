"""Surplus and recoupment: what the council may take back, and paying it back."""

from __future__ import annotations

from datetime import date

from concern_harness import FUNDED, OPENED_ON, cmd, given, opening

from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.errors import InsufficientFunds, Overpayment, SurplusExceeded
from dpledger.domain.funds import PayCarePlanSpend, ReceiveContribution, ReceiveCouncilPayment
from dpledger.domain.lifecycle import AgreeBudget
from dpledger.domain.money import Money
from dpledger.domain.surplus import (
    DemandRecoupment,
    RecoupmentDemanded,
    RecoupmentRepaid,
    RepayRecoupment,
)

A = LedgerAccount
DAY = date(2026, 4, 13)


def test_the_surplus_is_the_balance_less_liabilities_and_contingency() -> None:
    account = given(*FUNDED).account
    assert account is not None
    # £1,100.00 in the bank, nothing owed, 8 weeks of the £100.00 budget kept.
    assert account.contingency(DAY) == Money("800.00")
    assert account.surplus(DAY) == account.recoverable_surplus(DAY) == Money("300.00")
    assert account.surplus(date(2026, 4, 5)) == Money("1100.00")  # no budget yet: no contingency


def test_a_recoupment_is_at_most_the_surplus() -> None:
    scenario = given(*FUNDED)
    error = scenario.when(cmd(DemandRecoupment, amount="300.01")).refused(
        SurplusExceeded, r"recoupment of £300.01 exceeds the surplus of £300.00\. Fix:"
    )
    assert error.fix == "recoup at most the surplus: balance - unpaid liabilities - contingency"
    event = scenario.when(cmd(DemandRecoupment, amount="300.00")).event(
        RecoupmentDemanded, amount=Money("300.00"), surplus=Money("300.00")
    )
    assert event.postings == Postings.transfer(
        A.RETURNED_TO_COUNCIL, A.COUNCIL_PAYABLE, Money("300.00")
    )
    account = scenario.account
    assert account is not None
    assert account.owed(A.COUNCIL_PAYABLE) == Money("300.00")
    assert account.surplus(DAY) == Money(0)  # what is owed is no longer surplus


def test_repaying_a_recoupment_never_more_than_demanded_nor_overdrawn() -> None:
    scenario = given(*FUNDED, cmd(DemandRecoupment, amount="300.00"))
    scenario.when(cmd(RepayRecoupment, amount="300.01")).refused(
        Overpayment, "£300.01 is more than the £300.00 owed on recoupment owed to the council"
    )
    event = scenario.when(cmd(RepayRecoupment, amount="300.00", bank_reference="KCC R1")).event(
        RecoupmentRepaid, amount=Money("300.00"), bank_reference="KCC R1"
    )
    assert event.postings == Postings.transfer(A.COUNCIL_PAYABLE, A.BANK, Money("300.00"))
    assert scenario.account is not None
    assert scenario.account.bank_balance == Money("800.00")

    spent = given(
        *FUNDED,
        cmd(DemandRecoupment, amount="300.00"),
        cmd(
            PayCarePlanSpend,
            category="insurance",
            amount="900.00",
            description="EL",
            effective_date="2026-04-20",
        ),
    )
    spent.when(cmd(RepayRecoupment, amount="300.00")).refused(InsufficientFunds)


def test_where_the_contribution_is_spent_first_only_unspent_council_money_is_recoverable() -> None:
    scenario = given(
        opening(policy={"contribution_spent_first": True}),
        cmd(
            AgreeBudget,
            weekly_gross="100.00",
            weekly_contribution="20.00",
            effective_date=OPENED_ON,
        ),
        cmd(ReceiveCouncilPayment, amount="200.00", effective_date=OPENED_ON),
        cmd(ReceiveContribution, amount="1000.00", effective_date=OPENED_ON),
    )
    account = scenario.account
    assert account is not None
    assert account.surplus(DAY) == Money("400.00")
    assert account.recoverable_surplus(DAY) == Money("200.00")
    error = scenario.when(cmd(DemandRecoupment, amount="200.01")).refused(
        SurplusExceeded,
        "exceeds the surplus of £200.00 the council can recover "
        r"\(the contribution is spent first\)",
    )
    assert error.fix.endswith("and no more council money than is unspent")
    scenario.when(cmd(DemandRecoupment, amount="200.00")).then(RecoupmentDemanded)
