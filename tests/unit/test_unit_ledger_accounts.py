"""Ledger: opening, budgets, money in, validation at the boundary, idempotency, error details."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from dpledger import AccountPolicy, Ledger, LedgerAccount, Money, PaymentBasis
from dpledger.domain.records import AccountStatus, BudgetAgreement
from dpledger.errors import (
    AccountAlreadyExists,
    AccountNotFound,
    DpledgerError,
    IdempotencyConflict,
    RuleViolation,
    UnknownParty,
    ValidationError,
)

A = LedgerAccount
OPEN_ARGS: dict[str, Any] = {
    "person_ref": "P-77",
    "council": "Kent County Council",
    "provider": "SOLO",
    "effective_date": "2026-04-06",
    "actor": "officer-1",
}


# ---------------------------------------------------------------------------- opening
def test_open_account_records_account_opened(ledger: Ledger) -> None:
    receipt = ledger.open_account("DP-9", **OPEN_ARGS)
    assert (receipt.account_id, receipt.version, receipt.replayed) == ("DP-9", 1, False)
    assert receipt.event_type == "AccountOpened"
    assert not receipt.postings
    assert receipt.recorded_at.tzinfo is not None
    state = ledger.account("DP-9")
    assert state.status is AccountStatus.OPEN
    assert state.opened_on == date(2026, 4, 6)
    assert (state.person_ref, state.council, state.provider) == (
        "P-77",
        "Kent County Council",
        "SOLO",
    )
    assert state.policy == AccountPolicy()
    assert state.version == 1
    assert state.bank_balance == Money(0)
    assert set(state.balances) == set(LedgerAccount)
    assert all(balance == Money(0) for balance in state.balances.values())
    assert ledger.account_ids() == ["DP-9"]


def test_opening_twice_with_the_same_details_replays(ledger: Ledger) -> None:
    first = ledger.open_account("DP-9", **OPEN_ARGS)
    again = ledger.open_account("DP-9", **OPEN_ARGS)
    assert again.replayed is True
    assert again.version == 1
    assert again.event == first.event
    assert ledger.account("DP-9").version == 1
    assert len(ledger.events("DP-9")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"council": "Medway Council"},
        {"person_ref": "P-78"},
        {"provider": "Penderels Trust"},
        {"effective_date": "2026-04-07"},
        {"policy": {"payment_basis": "gross"}},
    ],
)
def test_opening_again_with_other_details_is_refused(
    ledger: Ledger, change: dict[str, Any]
) -> None:
    ledger.open_account("DP-9", **OPEN_ARGS)
    with pytest.raises(AccountAlreadyExists) as caught:
        ledger.open_account("DP-9", **{**OPEN_ARGS, **change})
    assert caught.value.account_id == "DP-9"
    assert caught.value.fix
    assert ledger.account("DP-9").version == 1


def test_policy_may_be_given_as_a_mapping(ledger: Ledger) -> None:
    ledger.open_account(
        "DP-9", **OPEN_ARGS, policy={"payment_basis": "gross", "contingency_weeks": 4}
    )
    policy = ledger.account("DP-9").policy
    assert policy == AccountPolicy(payment_basis=PaymentBasis.GROSS, contingency_weeks=4)


def test_a_bad_policy_names_the_field(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account("DP-9", **OPEN_ARGS, policy={"payment_basis": "weekly"})
    assert caught.value.field == "policy.payment_basis"
    with pytest.raises(AccountNotFound):
        ledger.account("DP-9")


def test_a_policy_out_of_range_names_the_field(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account("DP-9", **OPEN_ARGS, policy={"contingency_weeks": 30})
    assert caught.value.field == "policy.contingency_weeks"


def test_a_bool_is_not_a_number_of_weeks_in_a_policy_mapping(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account("DP-9", **OPEN_ARGS, policy={"contingency_weeks": True})
    assert caught.value.field == "policy.contingency_weeks"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"person_ref": "has space"}, "person_ref"),
        ({"person_ref": ""}, "person_ref"),
        ({"council": "  "}, "council"),
        ({"provider": ""}, "provider"),
        ({"actor": " "}, "actor"),
        ({"effective_date": "2026-02-30"}, "effective_date"),
        ({"effective_date": datetime(2026, 4, 6, 9, 0)}, "effective_date"),
        ({"effective_date": 20260406}, "effective_date"),
        ({"policy": {"frequency": "fortnightly"}}, "policy.frequency"),
    ],
)
def test_opening_validates_each_field(ledger: Ledger, change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account("DP-9", **{**OPEN_ARGS, **change})
    assert caught.value.field is not None
    assert caught.value.field.startswith(field)
    assert ledger.account_ids() == []


@pytest.mark.parametrize("account_id", ["", "-DP", "DP 1", "x" * 65, "DP/1", None, 7])
def test_account_ids_are_checked(ledger: Ledger, account_id: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account(account_id, **OPEN_ARGS)
    assert caught.value.field == "account_id"
    with pytest.raises(ValidationError):
        ledger.account(account_id)


def test_unknown_account_is_not_found(ledger: Ledger) -> None:
    for query in (
        lambda: ledger.account("DP-404"),
        lambda: ledger.bank_balance("DP-404"),
        lambda: ledger.events("DP-404"),
        lambda: ledger.receive_contribution(
            "DP-404", amount="1.00", effective_date="2026-04-06", actor="a"
        ),
    ):
        with pytest.raises(AccountNotFound) as caught:
            query()
        assert isinstance(caught.value, RuleViolation)
        assert caught.value.account_id == "DP-404"
        assert caught.value.fix == "open the account first"
        assert str(caught.value) == "[DP-404] no such account. Fix: open the account first"


# ---------------------------------------------------------------------------- budget
def test_budget_is_agreed_and_revised(funded: Any) -> None:
    receipt = funded.do(
        "agree_budget", weekly_gross="150.00", weekly_contribution="0", effective_date="2026-05-04"
    )
    assert receipt.event_type == "BudgetAgreed"
    assert not receipt.postings
    assert funded.state().budgets == (
        BudgetAgreement(date(2026, 4, 6), Money("100.00"), Money("20.00")),
        BudgetAgreement(date(2026, 5, 4), Money("150.00"), Money(0)),
    )
    # a second agreement on the same day replaces the first
    funded.do(
        "agree_budget", weekly_gross="160.00", weekly_contribution="10", effective_date="2026-05-04"
    )
    assert funded.state().budgets[-1] == BudgetAgreement(
        date(2026, 5, 4), Money("160.00"), Money("10.00")
    )
    assert len(funded.state().budgets) == 2


def test_contribution_above_gross_is_refused(funded: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("agree_budget", weekly_gross="100.00", weekly_contribution="100.01")
    assert caught.value.field == "weekly_contribution"
    assert caught.value.account_id == "DP-1"
    assert "cannot exceed" in caught.value.fix
    assert funded.version == 4
    # equal is allowed: the person funds it all
    funded.do("agree_budget", weekly_gross="100.00", weekly_contribution="100.00")


@pytest.mark.parametrize(
    ("gross", "contribution", "field"),
    [
        ("0", "0", "weekly_gross"),
        ("-1.00", "0", "weekly_gross"),
        ("10", "-1", "weekly_contribution"),
    ],
)
def test_budget_amounts_are_checked(funded: Any, gross: str, contribution: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("agree_budget", weekly_gross=gross, weekly_contribution=contribution)
    assert caught.value.field == field


# ---------------------------------------------------------------------------- money in
def test_money_in_posts_to_bank_and_income(funded: Any) -> None:
    council = funded.do(
        "receive_council_payment",
        amount="400.00",
        period_start="2026-05-04",
        period_end="2026-05-31",
        bank_reference="BACS 123",
    )
    assert council.version == 5
    assert council.event.period_start == date(2026, 5, 4)
    assert council.event.bank_reference == "BACS 123"
    assert council.postings.effect_on(A.BANK) == 40000
    assert council.postings.effect_on(A.COUNCIL_INCOME) == -40000
    one_off = funded.do("receive_one_off_payment", amount=Decimal("250"), purpose=" hoist ")
    assert one_off.event.purpose == "hoist"
    assert one_off.postings.effect_on(A.COUNCIL_INCOME) == -25000
    contribution = funded.do("receive_contribution", amount=Money(2000))
    assert contribution.postings.effect_on(A.CONTRIBUTION_INCOME) == -2000
    balances = funded.state().balances
    assert balances[A.BANK] == Money("1770.00")
    assert balances[A.COUNCIL_INCOME] == Money("-1650.00")
    assert balances[A.CONTRIBUTION_INCOME] == Money("-120.00")
    assert funded.version == 7


def test_int_amounts_are_pence(funded: Any) -> None:
    funded.do("receive_contribution", amount=1)
    assert funded.bank() == Money("1100.01")


@pytest.mark.parametrize(
    ("command", "kwargs", "field"),
    [
        ("receive_council_payment", {"amount": 10.5}, "amount"),
        ("receive_council_payment", {"amount": "10.505"}, "amount"),
        ("receive_council_payment", {"amount": Decimal("10.505")}, "amount"),
        ("receive_council_payment", {"amount": True}, "amount"),
        ("receive_council_payment", {"amount": None}, "amount"),
        ("receive_council_payment", {"amount": "0"}, "amount"),
        ("receive_council_payment", {"amount": "-5.00"}, "amount"),
        ("receive_council_payment", {"amount": Money(500, "EUR")}, "amount"),
        (
            "receive_council_payment",
            {"amount": "5", "period_start": "2026-05-31", "period_end": "2026-05-04"},
            "period_end",
        ),
        ("receive_council_payment", {"amount": "5", "period_start": "31/05/2026"}, "period_start"),
        ("receive_contribution", {"amount": 0.2}, "amount"),
        ("receive_one_off_payment", {"amount": "5", "purpose": " "}, "purpose"),
        ("receive_one_off_payment", {"amount": 5.0, "purpose": "hoist"}, "amount"),
        ("receive_contribution", {"amount": "5", "effective_date": "2026-04-05"}, "effective_date"),
        ("receive_contribution", {"amount": "5", "effective_date": "tomorrow"}, "effective_date"),
        ("receive_contribution", {"amount": "5", "idempotency_key": " "}, "idempotency_key"),
        ("receive_contribution", {"amount": "5", "idempotency_key": "k" * 201}, "idempotency_key"),
        ("receive_contribution", {"amount": "5", "actor": ""}, "actor"),
        ("agree_budget", {"weekly_gross": 100.0, "weekly_contribution": "0"}, "weekly_gross"),
        (
            "agree_budget",
            {"weekly_gross": "100", "weekly_contribution": 1.5},
            "weekly_contribution",
        ),
        ("register_personal_assistant", {"pa_id": "PA-1", "hourly_rate": 12.71}, "hourly_rate"),
        ("register_agency", {"agency_id": "AG 1", "name": "x"}, "agency_id"),
        ("register_agency", {"agency_id": "AG-1", "name": ""}, "name"),
        ("register_agency", {"agency_id": "AG-1", "name": "x", "hourly_rate": 20.5}, "hourly_rate"),
        (
            "pay_care_plan_spend",
            {"category": "food", "amount": "5", "description": "x"},
            "category",
        ),
        (
            "pay_care_plan_spend",
            {"category": "insurance", "amount": "5", "description": ""},
            "description",
        ),
        ("demand_recoupment", {"amount": 1.0}, "amount"),
        ("correct", {"version": 0, "reason": "r"}, "version"),
        ("correct", {"version": True, "reason": "r"}, "version"),
        ("suspend", {"reason": "  "}, "reason"),
    ],
)
def test_validation_errors_name_the_field_and_record_nothing(
    funded: Any, command: str, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do(command, **kwargs)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"[DP-1] {field}: ") or str(caught.value).startswith(
        f"{field}: "
    )
    assert funded.version == 4
    assert funded.bank() == Money("1100.00")


def test_a_float_amount_is_refused_at_the_ledger_saying_what_to_pass(funded: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("receive_council_payment", amount=0.1)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == "amount"
    assert "0.1" in error.message
    assert "'12.34'" in error.fix


def test_a_third_decimal_place_at_the_ledger_keeps_the_reason(funded: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("receive_council_payment", amount="10.505")
    assert caught.value.field == "amount"
    assert caught.value.message == (
        "amount: '10.505' is not an amount of money with at most two decimal places"
    )
    assert "no third decimal place" in caught.value.fix


def test_boundary_validation_errors_carry_the_account_id(funded: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("receive_council_payment", amount=0.1)
    assert caught.value.account_id == "DP-1"


def test_effective_date_before_opening_is_refused(funded: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        funded.do("receive_council_payment", amount="5.00", effective_date="2026-04-05")
    assert caught.value.field == "effective_date"
    assert caught.value.account_id == "DP-1"
    assert "before the account was opened (2026-04-06)" in str(caught.value)
    assert funded.version == 4


def test_effective_date_may_be_a_date(funded: Any) -> None:
    receipt = funded.do("receive_contribution", amount="1", effective_date=date(2026, 4, 6))
    assert receipt.event.effective_date == date(2026, 4, 6)
    assert receipt.event.actor == "officer-1"


# ---------------------------------------------------------------------------- idempotency
def test_same_key_and_payload_replays_and_records_nothing(funded: Any) -> None:
    first = funded.do("receive_council_payment", amount="400.00", idempotency_key="bacs-77")
    again = funded.do("receive_council_payment", amount="400.00", idempotency_key="bacs-77")
    assert first.replayed is False
    assert again.replayed is True
    assert again.version == first.version == 5
    assert again.event == first.event
    assert again.event.command_key == "bacs-77"
    assert funded.version == 5
    assert funded.bank() == Money("1500.00")
    assert len(funded.ledger.events("DP-1")) == 5


def test_money_like_amounts_are_the_same_payload(funded: Any) -> None:
    first = funded.do("receive_contribution", amount="4.00", idempotency_key="k1")
    for same in (Money(400), 400, Decimal("4"), "4", "£4.00"):
        again = funded.do("receive_contribution", amount=same, idempotency_key="k1")
        assert again.replayed is True
        assert again.version == first.version
    assert funded.bank() == Money("1104.00")


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "400.01"},
        {"effective_date": "2026-04-14"},
        {"actor": "officer-2"},
        {"bank_reference": "other"},
    ],
)
def test_same_key_with_another_payload_is_a_conflict(funded: Any, change: dict[str, Any]) -> None:
    funded.do("receive_council_payment", amount="400.00", idempotency_key="bacs-77")
    with pytest.raises(IdempotencyConflict) as caught:
        funded.do(
            "receive_council_payment", **{"amount": "400.00", **change}, idempotency_key="bacs-77"
        )
    assert caught.value.account_id == "DP-1"
    assert "bacs-77" in str(caught.value)
    assert caught.value.fix
    assert funded.version == 5


def test_same_key_for_another_command_is_a_conflict(funded: Any) -> None:
    funded.do("receive_council_payment", amount="400.00", idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        funded.do("receive_contribution", amount="400.00", idempotency_key="k-1")
    assert funded.version == 5


def test_opening_key_is_remembered(ledger: Ledger) -> None:
    ledger.open_account("DP-9", **OPEN_ARGS, idempotency_key="open-9")
    assert ledger.open_account("DP-9", **OPEN_ARGS, idempotency_key="open-9").replayed
    with pytest.raises(IdempotencyConflict):
        ledger.agree_budget(
            "DP-9",
            weekly_gross="1",
            weekly_contribution="0",
            effective_date="2026-04-06",
            actor="officer-1",
            idempotency_key="open-9",
        )


def test_keys_are_per_account(funded: Any, make_funded: Any) -> None:
    other = make_funded("DP-2")
    a = funded.do("receive_contribution", amount="1", idempotency_key="same")
    b = other.do("receive_contribution", amount="1", idempotency_key="same")
    assert not a.replayed
    assert not b.replayed


def test_a_refused_command_does_not_use_up_its_key(funded: Any) -> None:
    with pytest.raises(ValidationError):
        funded.do(
            "receive_contribution", amount="5", effective_date="2026-04-01", idempotency_key="k"
        )
    receipt = funded.do("receive_contribution", amount="5", idempotency_key="k")
    assert receipt.replayed is False
    assert receipt.version == 5


def test_without_a_key_a_repeat_is_recorded_again(funded: Any) -> None:
    funded.do("receive_contribution", amount="5")
    funded.do("receive_contribution", amount="5")
    assert funded.version == 6
    assert funded.bank() == Money("1110.00")


# ---------------------------------------------------------------------------- events
def test_events_are_oldest_first_with_metadata(funded: Any) -> None:
    events = funded.ledger.events("DP-1")
    assert [type(e).__name__ for e in events] == [
        "AccountOpened",
        "BudgetAgreed",
        "CouncilPaymentReceived",
        "ContributionReceived",
    ]
    assert [e.originator_version for e in events] == [1, 2, 3, 4]
    assert all(e.actor == "officer-1" for e in events)
    assert all(e.effective_date == date(2026, 4, 6) for e in events)
    assert all(e.command_digest and len(e.command_digest) == 64 for e in events)


def test_queries(funded: Any) -> None:
    ledger = funded.ledger
    assert ledger.balances("DP-1")[A.BANK] == Money("1100.00")
    assert ledger.surplus("DP-1", "2026-04-13") == Money("300.00")
    # As at a day before the account opened there is no surplus to speak of: a clear error
    # (it used to answer with today's balance).
    with pytest.raises(ValidationError, match="not open on 2026-04-05: it opened on 2026-04-06"):
        ledger.surplus("DP-1", "2026-04-05")
    account = ledger.load("DP-1")
    assert account.contingency(date(2026, 4, 13)) == Money("800.00")
    assert account.unpaid_liabilities == Money(0)
    state = funded.state()
    assert state.unpaid_liabilities == Money(0)


def test_every_error_is_a_dpledger_error() -> None:
    for error in (AccountNotFound, UnknownParty, ValidationError, IdempotencyConflict):
        assert issubclass(error, DpledgerError)
