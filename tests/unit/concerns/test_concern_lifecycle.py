"""Lifecycle: opening, the bank account, the budget, reviews, suspension and closing."""

from __future__ import annotations

from datetime import date

import pytest
from concern_harness import FUNDED, OPENED, OPENED_ON, Given, cmd, given, opening

from dpledger.domain.chart import LedgerAccount
from dpledger.domain.errors import (
    AccountAlreadyExists,
    AccountClosed,
    InvalidTransition,
    ValidationError,
)
from dpledger.domain.funds import PayCarePlanSpend, ReceiveCouncilPayment
from dpledger.domain.invoices import ApproveInvoice, ReceiveInvoice, RegisterAgency
from dpledger.domain.lifecycle import (
    AccountClosed as AccountClosedEvent,
)
from dpledger.domain.lifecycle import (
    AccountOpened,
    AccountResumed,
    AccountSuspended,
    AgreeBudget,
    BankAccountNamed,
    BudgetAgreed,
    CloseAccount,
    NameBankAccount,
    RecordReview,
    Resume,
    ReviewRecorded,
    Suspend,
)
from dpledger.domain.money import Money
from dpledger.domain.policy import PaymentBasis
from dpledger.domain.records import AccountStatus
from dpledger.domain.suspense import ReceiveUnexpectedIncome


# ---------------------------------------------------------------------------- opening
def test_opening_records_the_terms() -> None:
    opened = (
        Given()
        .when(opening(reason="new Direct Payment"))
        .event(AccountOpened, account_id="DP-1", person_ref="P-77", council="Kent County Council")
    )
    assert opened.originator_version == 1
    assert opened.effective_date == date(2026, 4, 6)
    assert not opened.postings
    account = given(*OPENED).account
    assert account is not None
    assert (account.status, account.opened_on, account.bank_account) == (
        AccountStatus.OPEN,
        date(2026, 4, 6),
        None,
    )


def test_opening_with_a_bank_account_names_it_in_one_spelling() -> None:
    outcome = Given().when(opening(bank_account="309950 12345678"))
    _, named = outcome.then(AccountOpened, BankAccountNamed)
    assert named.bank_account == "30-99-50 12345678"
    assert outcome.account is not None
    assert outcome.account.bank_account == "30-99-50 12345678"


def test_opening_again_with_the_same_details_records_nothing() -> None:
    given(*OPENED).when(opening()).then()


def test_opening_again_with_other_details_is_refused() -> None:
    error = (
        given(*OPENED)
        .when(opening(council="Surrey County Council"))
        .refused(AccountAlreadyExists, "already open with other details")
    )
    assert error.fix == "choose another account id, or repeat the original details exactly"


def test_nothing_is_dated_before_the_account_was_opened() -> None:
    error = (
        given(*OPENED)
        .when(cmd(ReceiveCouncilPayment, amount="10.00", effective_date="2026-04-05"))
        .refused(ValidationError, "before the account was opened")
    )
    assert isinstance(error, ValidationError)
    assert error.field == "effective_date"
    assert error.fix == "date it on or after 2026-04-06"


# ---------------------------------------------------------------------------- bank account
def test_naming_the_bank_account() -> None:
    scenario = given(*OPENED)
    scenario.when(cmd(NameBankAccount, bank_account="30-99-50 12345678")).event(
        BankAccountNamed, bank_account="30-99-50 12345678"
    )
    # The same account in another spelling is the same account: nothing to do.
    scenario.when(cmd(NameBankAccount, bank_account="309950  12345678")).refused(
        InvalidTransition, "already held in bank account 30-99-50 12345678"
    )
    scenario.when(cmd(NameBankAccount, bank_account="GB29 NWBK 6016 1331 9268 19")).event(
        BankAccountNamed, bank_account="60-16-13 31926819"
    )


def test_a_bank_account_that_is_no_bank_account_is_refused() -> None:
    scenario = given(*OPENED)
    wrong = scenario.when(cmd(NameBankAccount, bank_account="GB00 NWBK 6016 1331 9268 19"))
    error = wrong.refused(ValidationError, "not a valid IBAN")
    assert isinstance(error, ValidationError)
    assert (error.field, error.fix) == ("bank_account", "copy the IBAN from the statement again")
    nonsense = scenario.when(cmd(NameBankAccount, bank_account="my account!"))
    error = nonsense.refused(ValidationError, "does not name a bank account")
    assert isinstance(error, ValidationError)
    assert error.field == "bank_account"


# ---------------------------------------------------------------------------- budget
def test_agreeing_and_revising_the_budget() -> None:
    scenario = given(*OPENED)
    scenario.when(
        cmd(
            AgreeBudget,
            weekly_gross="100.00",
            weekly_contribution="20.00",
            effective_date=OPENED_ON,
        )
    ).event(BudgetAgreed, weekly_gross=Money("100.00"), weekly_contribution=Money("20.00"))
    scenario.after(cmd(AgreeBudget, weekly_gross="120.00", weekly_contribution="0"))
    # A second agreement on the same day replaces the first.
    scenario.after(
        cmd(
            AgreeBudget,
            weekly_gross="110.00",
            weekly_contribution="10.00",
            effective_date=OPENED_ON,
        )
    )
    account = scenario.account
    assert account is not None
    assert [(b.effective_date, b.weekly_gross) for b in account.budgets] == [
        (date(2026, 4, 6), Money("110.00")),
        (date(2026, 4, 13), Money("120.00")),
    ]
    on_the_ninth = account.budget_on(date(2026, 4, 9))
    assert on_the_ninth is not None
    assert on_the_ninth.weekly_contribution == Money("10.00")
    assert account.budget_on(date(2026, 4, 13)) == account.budgets[1]


def test_a_contribution_above_the_budget_is_refused() -> None:
    error = (
        given(*OPENED)
        .when(cmd(AgreeBudget, weekly_gross="100.00", weekly_contribution="100.01"))
        .refused(ValidationError, "the contribution £100.01 exceeds the gross budget £100.00")
    )
    assert isinstance(error, ValidationError)
    assert error.field == "weekly_contribution"


# ---------------------------------------------------------------------------- reviews
def test_reviews_set_when_the_next_is_due() -> None:
    scenario = given(*FUNDED)
    account = scenario.account
    assert account is not None
    assert account.next_review_due == date(2026, 10, 6)  # 6 months after the first payment
    scenario.when(cmd(RecordReview, next_review_by="2027-01-01")).event(
        ReviewRecorded, next_review_by=date(2027, 1, 1)
    )
    assert account.last_review_on == date(2026, 4, 13)
    assert account.next_review_due == date(2027, 1, 1)  # sooner than 12 months on
    # A review recorded late, dated before the last one, changes nothing.
    scenario.after(cmd(RecordReview, effective_date="2026-04-10"))
    assert account.last_review_on == date(2026, 4, 13)
    assert account.next_review_due == date(2027, 1, 1)


def test_the_next_review_must_be_after_this_one() -> None:
    error = (
        given(*OPENED)
        .when(cmd(RecordReview, next_review_by="2026-04-13"))
        .refused(ValidationError, "must be after the review date 2026-04-13")
    )
    assert isinstance(error, ValidationError)
    assert error.field == "next_review_by"


# ---------------------------------------------------------------------------- suspension
def test_suspending_and_resuming() -> None:
    scenario = given(*FUNDED)
    scenario.when(cmd(Suspend, reason="in hospital")).event(AccountSuspended, reason="in hospital")
    scenario.when(cmd(Suspend, reason="again")).refused(
        InvalidTransition, r"already suspended \(since 2026-04-13\)"
    )
    scenario.when(cmd(Resume, effective_date="2026-05-01", backfill_ordered=True)).event(
        AccountResumed, backfill_ordered=True
    )
    account = scenario.account
    assert account is not None
    assert account.status is AccountStatus.OPEN
    assert account.suspensions == ((date(2026, 4, 13), date(2026, 5, 1)),)
    assert account.suspended_on(date(2026, 4, 30))
    assert not account.suspended_on(date(2026, 5, 1))


def test_suspending_needs_a_reason_and_resuming_needs_a_suspension() -> None:
    with pytest.raises(ValidationError) as caught:
        cmd(Suspend)
    assert caught.value.field == "reason"
    given(*FUNDED).when(cmd(Resume)).refused(InvalidTransition, "the account is not suspended")


# ---------------------------------------------------------------------------- closing
def test_closing_returns_the_balance_and_closes_the_account() -> None:
    scenario = given(*FUNDED)
    closed = scenario.when(cmd(CloseAccount, effective_date="2026-04-12")).event(
        AccountClosedEvent,
        # One week of £20.00 contributions was due; the net basis returns the other £80.00.
        contributions_due=Money("20.00"),
        contributions_received=Money("100.00"),
        returned_to_person=Money("80.00"),
        returned_to_council=Money("1020.00"),
    )
    assert closed.postings.effect_on(LedgerAccount.BANK) == -110000
    account = scenario.account
    assert account is not None
    assert (account.status, account.closed_on) == (AccountStatus.CLOSED, date(2026, 4, 12))
    assert account.bank_balance == Money(0)
    error = scenario.when(cmd(ReceiveCouncilPayment, amount="1.00")).refused(
        AccountClosed, "closed on 2026-04-12 and accepts no new entries"
    )
    assert error.fix == "open a new account for a new Direct Payment"


def test_on_the_gross_basis_everything_goes_back_to_the_council() -> None:
    scenario = given(opening(policy={"payment_basis": "gross"}), *FUNDED[1:])
    account = scenario.account
    assert account is not None
    assert account.policy.payment_basis is PaymentBasis.GROSS
    scenario.when(cmd(CloseAccount, effective_date="2026-04-12")).event(
        AccountClosedEvent, returned_to_person=Money(0), returned_to_council=Money("1100.00")
    )


def test_closing_with_anything_owed_or_held_is_refused() -> None:
    owing = given(
        *FUNDED,
        cmd(RegisterAgency, agency_id="AG-1", name="Oak Care"),
        cmd(
            ReceiveInvoice,
            agency_id="AG-1",
            invoice_number="INV-1",
            period_start="2026-04-06",
            period_end="2026-04-12",
            hours="10",
            rate="20.00",
            total="200.00",
        ),
        cmd(ApproveInvoice, agency_id="AG-1", invoice_number="INV-1"),
    )
    owing.when(cmd(CloseAccount)).refused(
        InvalidTransition, "cannot close with unpaid liabilities: liabilities:agency £200.00"
    )
    holding = given(*FUNDED, cmd(ReceiveUnexpectedIncome, amount="5.00", description="REFUND"))
    holding.when(cmd(CloseAccount)).refused(
        InvalidTransition, "cannot close with unexpected money held in suspense: S5"
    )


def test_closing_before_the_last_bank_entry_is_refused() -> None:
    scenario = given(
        *FUNDED,
        cmd(
            PayCarePlanSpend,
            category="insurance",
            amount="96.50",
            description="employer's liability",
            effective_date="2026-04-20",
        ),
    )
    scenario.when(cmd(CloseAccount, effective_date="2026-04-19")).refused(
        InvalidTransition, "bank entries are dated after the closing date 2026-04-19: 2026-04-20"
    )
