"""The chart of accounts, balanced postings and the account policy."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import AccountPolicy, LedgerAccount, Money, PaymentBasis, PaymentFrequency
from dpledger import SpendCategory as Cat
from dpledger.domain.chart import EXPENSES, LIABILITIES, NO_POSTINGS, Posting, Postings
from dpledger.errors import ValidationError

A = LedgerAccount

ACCOUNTS = st.sampled_from(list(LedgerAccount))
NONZERO_PENCE = st.integers(min_value=-(10**12), max_value=10**12).filter(bool)


@st.composite
def balanced_postings(draw: st.DrawFn) -> Postings:
    """Any number of lines on any accounts, closed by one line that balances them."""
    lines = draw(st.lists(st.tuples(ACCOUNTS, NONZERO_PENCE), min_size=1, max_size=8))
    total = sum(pence for _, pence in lines)
    closing = draw(ACCOUNTS)
    postings = [Posting(account, Money(pence)) for account, pence in lines]
    postings.append(Posting(closing, Money(-total)))
    return Postings(tuple(postings))


# ---------------------------------------------------------------------------- chart
def test_account_kinds() -> None:
    assert A.BANK.kind == "assets"
    assert A.COUNCIL_INCOME.kind == "income"
    assert A.RETURNED_TO_COUNCIL.kind == "income"
    assert A.SUSPENSE.kind == "suspense"
    assert A.HMRC_PAYABLE.kind == "liabilities"
    assert A.EMPLOYER_NI.kind == "expenses"
    assert LIABILITIES == (
        A.AGENCY_PAYABLE,
        A.PA_NET_WAGES_PAYABLE,
        A.HMRC_PAYABLE,
        A.PENSION_PAYABLE,
        A.COUNCIL_PAYABLE,
    )
    assert set(EXPENSES) == {
        A.AGENCY_CARE,
        A.PA_GROSS_WAGES,
        A.EMPLOYER_NI,
        A.EMPLOYER_PENSION,
        A.INSURANCE,
        A.SUPPORT_FEES,
        A.OTHER_CARE_PLAN,
        A.UNRECOVERED_OUTGOINGS,
    }
    assert A("assets:bank") is A.BANK


@pytest.mark.parametrize(
    ("category", "account"),
    [
        (Cat.INSURANCE, A.INSURANCE),
        (Cat.SUPPORT_FEES, A.SUPPORT_FEES),
        (Cat.OTHER_CARE_PLAN, A.OTHER_CARE_PLAN),
    ],
)
def test_each_spend_category_posts_to_one_expense_account(category: Cat, account: A) -> None:
    assert category.ledger_account is account
    assert account in EXPENSES


# ---------------------------------------------------------------------------- postings
def test_debit_is_positive_and_credit_negative() -> None:
    assert Posting.debit(A.BANK, Money(500)).amount == Money(500)
    assert Posting.credit(A.BANK, Money(500)).amount == Money(-500)


def test_transfer_balances_and_moves_the_amount() -> None:
    postings = Postings.transfer(A.BANK, A.COUNCIL_INCOME, Money("1000.00"))
    assert postings.lines == (
        Posting(A.BANK, Money(100000)),
        Posting(A.COUNCIL_INCOME, Money(-100000)),
    )
    assert postings.effect_on(A.BANK) == 100000
    assert postings.effect_on(A.COUNCIL_INCOME) == -100000
    assert postings.effect_on(A.SUSPENSE) == 0
    assert len(postings) == 2
    assert bool(postings)
    assert list(postings) == list(postings.lines)


@pytest.mark.parametrize(
    "lines",
    [
        (Posting(A.BANK, Money(100)),),
        (Posting(A.BANK, Money(100)), Posting(A.COUNCIL_INCOME, Money(-99))),
        (Posting(A.BANK, Money(100)), Posting(A.BANK, Money(100))),
    ],
)
def test_unbalanced_postings_are_refused(lines: tuple[Posting, ...]) -> None:
    total = sum(line.amount.pence for line in lines)
    with pytest.raises(ValidationError) as caught:
        Postings(lines)
    assert caught.value.field == "postings"
    assert f"sum to {total} pence" in str(caught.value)
    assert caught.value.fix == "every debit needs an equal credit"


def test_postings_must_be_in_gbp() -> None:
    with pytest.raises(ValidationError, match="is in EUR") as caught:
        Postings((Posting(A.BANK, Money(1, "EUR")), Posting(A.COUNCIL_INCOME, Money(-1, "EUR"))))
    assert caught.value.field == "postings"


def test_of_drops_zero_lines() -> None:
    postings = Postings.of(
        [
            Posting.debit(A.PA_GROSS_WAGES, Money(500)),
            Posting.debit(A.EMPLOYER_PENSION, Money(0)),
            Posting.credit(A.PA_NET_WAGES_PAYABLE, Money(500)),
        ]
    )
    assert [p.account for p in postings] == [A.PA_GROSS_WAGES, A.PA_NET_WAGES_PAYABLE]
    assert Postings.of([Posting.debit(A.BANK, Money(0))]) == NO_POSTINGS


def test_no_postings_is_empty_and_balanced() -> None:
    assert not NO_POSTINGS
    assert len(NO_POSTINGS) == 0
    assert NO_POSTINGS.reversed() == NO_POSTINGS


def test_reversed_negates_every_line() -> None:
    postings = Postings.transfer(A.AGENCY_PAYABLE, A.BANK, Money("12.34"))
    assert postings.reversed().lines == (
        Posting(A.AGENCY_PAYABLE, Money(-1234)),
        Posting(A.BANK, Money(1234)),
    )


def test_postings_are_immutable() -> None:
    postings = Postings.transfer(A.BANK, A.COUNCIL_INCOME, Money(1))
    with pytest.raises(AttributeError):
        postings.lines = ()  # type: ignore[misc]


@given(balanced_postings())
def test_any_balanced_set_stays_balanced(postings: Postings) -> None:
    assert sum(line.amount.pence for line in postings) == 0
    assert sum(postings.effect_on(account) for account in LedgerAccount) == 0
    assert Postings.of(postings.lines).lines == tuple(p for p in postings if p.amount.pence)


@given(balanced_postings())
def test_reversed_and_original_cancel_per_account(postings: Postings) -> None:
    reversed_ = postings.reversed()
    assert len(reversed_) == len(postings)
    for account in LedgerAccount:
        assert postings.effect_on(account) + reversed_.effect_on(account) == 0
    assert reversed_.reversed() == postings


@given(balanced_postings(), ACCOUNTS, NONZERO_PENCE)
def test_adding_one_more_line_unbalances(postings: Postings, account: A, pence: int) -> None:
    with pytest.raises(ValidationError, match=f"sum to {pence} pence"):
        Postings((*postings.lines, Posting(account, Money(pence))))


@given(st.lists(st.tuples(ACCOUNTS, ACCOUNTS, st.integers(1, 10**9)), max_size=10))
def test_transfers_always_balance(transfers: list[tuple[A, A, int]]) -> None:
    total: dict[A, int] = {}
    for debit, credit, pence in transfers:
        postings = Postings.transfer(debit, credit, Money(pence))
        assert sum(p.amount.pence for p in postings) == 0
        for account in LedgerAccount:
            total[account] = total.get(account, 0) + postings.effect_on(account)
    assert sum(total.values()) == 0


# ---------------------------------------------------------------------------- policy
def test_policy_defaults() -> None:
    policy = AccountPolicy()
    assert policy.payment_basis is PaymentBasis.NET
    assert policy.frequency is PaymentFrequency.FOUR_WEEKLY
    assert policy.contingency_weeks == 8
    assert policy.first_review_within_months == 6
    assert policy.review_every_months == 12
    assert policy.contribution_spent_first is False
    assert policy.end_date is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contingency_weeks", -1),
        ("contingency_weeks", 27),
        ("contingency_weeks", True),
        ("contingency_weeks", 4.0),
        ("contingency_weeks", "4"),
        ("first_review_within_months", 0),
        ("first_review_within_months", 7),
        ("review_every_months", 13),
        ("review_every_months", 0),
    ],
)
def test_policy_numbers_are_range_checked(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match="must be a whole number") as caught:
        AccountPolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == f"policy.{field}"


def test_review_limits_cite_the_regulations() -> None:
    with pytest.raises(ValidationError) as caught:
        AccountPolicy(review_every_months=13)
    assert "12 months" in caught.value.fix


@pytest.mark.parametrize(
    ("field", "value"),
    [("payment_basis", "net"), ("frequency", "monthly")],
)
def test_policy_enums_must_be_enum_members(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AccountPolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == f"policy.{field}"


@given(st.integers(0, 26), st.integers(1, 10**7))
def test_contingency_is_weeks_times_weekly_gross(weeks: int, weekly: int) -> None:
    policy = AccountPolicy(contingency_weeks=weeks, end_date=date(2027, 3, 31))
    assert policy.contingency(Money(weekly)) == Money(weekly * weeks)
