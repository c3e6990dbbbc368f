"""Suspense: unexpected income and unexplained outgoings, held until someone resolves them."""

from __future__ import annotations

import pytest
from concern_harness import FUNDED, Given, cmd, given

from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.errors import (
    InsufficientFunds,
    InvalidTransition,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.money import Money
from dpledger.domain.records import OutgoingStatus, SuspenseStatus
from dpledger.domain.suspense import (
    AcceptUnexpectedOutgoing,
    ClassifyUnexpectedIncome,
    ClassifyUnexpectedOutgoing,
    KeepUnexpectedIncome,
    ReceiveUnexpectedIncome,
    RecordUnexplainedOutgoing,
    RecoverUnexpectedOutgoing,
    RefundUnexpectedIncome,
    UnexpectedIncomeClassified,
    UnexpectedIncomeKept,
    UnexpectedIncomeReceived,
    UnexpectedIncomeRefunded,
    UnexpectedOutgoingAccepted,
    UnexpectedOutgoingClassified,
    UnexpectedOutgoingRecorded,
    UnexpectedOutgoingRecovered,
)

A = LedgerAccount


def income(amount: str = "75.00") -> object:
    return cmd(ReceiveUnexpectedIncome, amount=amount, description="UNKNOWN TRANSFER")


def outgoing(amount: str = "7.50") -> object:
    return cmd(RecordUnexplainedOutgoing, amount=amount, description="CARD 1234 CHARGE")


def held(scenario: Given) -> tuple[list[str], Money, Money]:
    """The held items, and the suspense and unexplained-outgoing balances."""
    account = scenario.account
    assert account is not None
    return (
        account.suspense.held_ids(),
        account.balance(A.SUSPENSE),
        account.balance(A.UNEXPLAINED_OUTGOING),
    )


# ---------------------------------------------------------------------------- income
def test_unexpected_income_is_held_under_its_version() -> None:
    scenario = given(*FUNDED)
    event = scenario.when(income()).event(
        UnexpectedIncomeReceived, item_id="S5", amount=Money("75.00")
    )
    assert event.postings == Postings.transfer(A.BANK, A.SUSPENSE, Money("75.00"))
    assert held(scenario) == (["S5"], Money("-75.00"), Money(0))


@pytest.mark.parametrize(
    ("classified_as", "income_account"),
    [("council", A.COUNCIL_INCOME), ("contribution", A.CONTRIBUTION_INCOME)],
)
def test_classifying_income(classified_as: str, income_account: LedgerAccount) -> None:
    scenario = given(*FUNDED, income())
    event = scenario.when(
        cmd(ClassifyUnexpectedIncome, item_id="S5", classified_as=classified_as)
    ).event(UnexpectedIncomeClassified, amount=Money("75.00"), classified_as=classified_as)
    assert event.postings == Postings.transfer(A.SUSPENSE, income_account, Money("75.00"))
    assert held(scenario) == ([], Money(0), Money(0))
    account = scenario.account
    assert account is not None
    item = account.suspense_items["S5"]
    assert (item.status, item.resolution) == (SuspenseStatus.CLASSIFIED, classified_as)


def test_income_is_classified_as_council_money_or_a_contribution_only() -> None:
    error = (
        given(*FUNDED, income())
        .when(cmd(ClassifyUnexpectedIncome, item_id="S5", classified_as="gift"))
        .refused(ValidationError, "'gift' is not a class of income")
    )
    assert isinstance(error, ValidationError)
    assert (error.field, error.fix) == ("classified_as", "use one of council, contribution")


def test_refunding_and_keeping_income() -> None:
    scenario = given(*FUNDED, income("10.00"), income("20.00"))
    refund = scenario.when(cmd(RefundUnexpectedIncome, item_id="S5")).event(
        UnexpectedIncomeRefunded, amount=Money("10.00")
    )
    assert refund.postings == Postings.transfer(A.SUSPENSE, A.BANK, Money("10.00"))
    with pytest.raises(ValidationError) as caught:
        cmd(KeepUnexpectedIncome, item_id="S6")
    assert caught.value.field == "reason"
    kept = scenario.when(cmd(KeepUnexpectedIncome, item_id="S6", reason="bank interest")).event(
        UnexpectedIncomeKept, amount=Money("20.00")
    )
    assert kept.postings == Postings.transfer(A.SUSPENSE, A.OTHER_INCOME, Money("20.00"))
    account = scenario.account
    assert account is not None
    assert account.suspense_items["S6"].resolution == "bank interest"
    assert held(scenario) == ([], Money(0), Money(0))


def test_an_item_is_resolved_once() -> None:
    scenario = given(*FUNDED, income(), cmd(RefundUnexpectedIncome, item_id="S5"))
    error = scenario.when(
        cmd(ClassifyUnexpectedIncome, item_id="S5", classified_as="council")
    ).refused(InvalidTransition, "suspense item S5 was already refunded")
    assert error.fix == "correct that resolution first if it was wrong"
    scenario.when(cmd(RefundUnexpectedIncome, item_id="S9")).refused(
        UnknownParty, "no suspense item 'S9' is held or recent"
    )


def test_a_refund_never_overdraws_the_bank() -> None:
    scenario = given(*FUNDED, income())
    scenario.after(
        cmd(RecordUnexplainedOutgoing, amount="1175.00", description="DIRECT DEBIT"),
    )
    scenario.when(cmd(RefundUnexpectedIncome, item_id="S5")).refused(InsufficientFunds)


# ---------------------------------------------------------------------------- outgoings
def test_an_unexplained_outgoing_is_held_under_its_version() -> None:
    scenario = given(*FUNDED)
    event = scenario.when(outgoing()).event(
        UnexpectedOutgoingRecorded, item_id="U5", amount=Money("7.50")
    )
    assert event.postings == Postings.transfer(A.UNEXPLAINED_OUTGOING, A.BANK, Money("7.50"))
    assert held(scenario) == (["U5"], Money(0), Money("7.50"))


def test_an_unexplained_outgoing_by_hand_never_overdraws_but_from_the_bank_it_is_recorded() -> None:
    scenario = given(*FUNDED)
    scenario.when(outgoing("1100.01")).refused(InsufficientFunds)
    scenario.when(outgoing("1100.01"), from_bank=True).then(UnexpectedOutgoingRecorded)
    assert scenario.account is not None
    assert scenario.account.bank_balance == Money("-0.01")


def test_classifying_an_outgoing_as_care_plan_spend() -> None:
    scenario = given(*FUNDED, outgoing())
    event = scenario.when(
        cmd(ClassifyUnexpectedOutgoing, item_id="U5", category="insurance")
    ).event(UnexpectedOutgoingClassified, amount=Money("7.50"))
    assert event.postings == Postings.transfer(A.INSURANCE, A.UNEXPLAINED_OUTGOING, Money("7.50"))
    account = scenario.account
    assert account is not None
    item = account.unexplained_outgoings["U5"]
    assert (item.status, item.resolution) == (OutgoingStatus.CLASSIFIED, "insurance")
    assert held(scenario) == ([], Money(0), Money(0))


def test_recovering_an_outgoing_into_the_bank() -> None:
    scenario = given(*FUNDED, outgoing())
    event = scenario.when(cmd(RecoverUnexpectedOutgoing, item_id="U5")).event(
        UnexpectedOutgoingRecovered, income_item_id=None
    )
    assert event.postings == Postings.transfer(A.BANK, A.UNEXPLAINED_OUTGOING, Money("7.50"))
    assert scenario.account is not None
    assert scenario.account.bank_balance == Money("1100.00")


def test_recovering_an_outgoing_by_the_income_that_repaid_it() -> None:
    scenario = given(*FUNDED, outgoing(), income("7.49"), income("7.50"))
    error = scenario.when(
        cmd(RecoverUnexpectedOutgoing, item_id="U5", income_item_id="S6")
    ).refused(ValidationError, "suspense item S6 is £7.49, not £7.50")
    assert isinstance(error, ValidationError)
    assert error.field == "income_item_id"
    event = scenario.when(cmd(RecoverUnexpectedOutgoing, item_id="U5", income_item_id="S7")).event(
        UnexpectedOutgoingRecovered, income_item_id="S7"
    )
    assert event.postings == Postings.transfer(A.SUSPENSE, A.UNEXPLAINED_OUTGOING, Money("7.50"))
    account = scenario.account
    assert account is not None
    assert account.suspense_items["S7"].status is SuspenseStatus.CLASSIFIED
    assert account.suspense_items["S7"].resolution == "recovers U5"
    assert held(scenario) == (["S6"], Money("-7.49"), Money(0))


def test_accepting_an_outgoing_needs_a_reason() -> None:
    scenario = given(*FUNDED, outgoing())
    with pytest.raises(ValidationError) as caught:
        cmd(AcceptUnexpectedOutgoing, item_id="U5")
    assert caught.value.field == "reason"
    event = scenario.when(cmd(AcceptUnexpectedOutgoing, item_id="U5", reason="bank's fee")).event(
        UnexpectedOutgoingAccepted, amount=Money("7.50")
    )
    assert event.postings == Postings.transfer(
        A.UNRECOVERED_OUTGOINGS, A.UNEXPLAINED_OUTGOING, Money("7.50")
    )
    scenario.when(cmd(AcceptUnexpectedOutgoing, item_id="U5", reason="again")).refused(
        InvalidTransition, "unexplained outgoing U5 was already accepted"
    )
    scenario.when(cmd(RecoverUnexpectedOutgoing, item_id="U9")).refused(
        UnknownParty, "no unexplained outgoing 'U9' is held or recent"
    )
