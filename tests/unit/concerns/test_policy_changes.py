"""Policies over time: ``change_policy`` changes a policy from a date, and every rule about a day
uses the policy in force on that day; council presets; bad input records nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from concern_harness import FUNDED, OPENED_ON, cmd, given, opening
from hypothesis import HealthCheck, assume, settings
from hypothesis import given as for_all
from hypothesis import strategies as st

from dpledger import Ledger, Money
from dpledger.domain import codec
from dpledger.domain.account import ManagedAccount
from dpledger.domain.errors import (
    AccountClosed,
    InvalidTransition,
    SurplusExceeded,
    ValidationError,
)
from dpledger.domain.funds import PayCarePlanSpend, ReceiveContribution, ReceiveCouncilPayment
from dpledger.domain.lifecycle import AgreeBudget, CloseAccount, RecordReview, Terms
from dpledger.domain.policy import POLICY_FIELDS, AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.policychanges import ChangePolicy, PolicyChanged
from dpledger.domain.schedule import missing_payments, payment_schedule
from dpledger.domain.surplus import DemandRecoupment, RecoupmentDemanded
from dpledger.policies import PRESETS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "model.md"


def _account(*commands: Any) -> ManagedAccount:
    account = given(*commands).account
    assert account is not None
    return account


def _council_dues(account: ManagedAccount, until: str) -> list[tuple[date, Money]]:
    return [
        (due.due_date, due.amount)
        for due in payment_schedule(account, date.fromisoformat(until))
        if due.kind == "council"
    ]


# ---------------------------------------------------------------------------- recording
def test_a_change_records_the_whole_policy_and_the_fields_it_changed() -> None:
    scenario = given(*FUNDED)
    event = scenario.when(
        cmd(ChangePolicy, contingency_weeks=4, frequency="monthly", effective_date="2026-06-01")
    ).event(PolicyChanged, changed=["frequency", "contingency_weeks"])
    assert isinstance(event, PolicyChanged)
    assert event.policy == AccountPolicy(frequency=PaymentFrequency.MONTHLY, contingency_weeks=4)
    assert PolicyChanged.describe(
        {"policy": {"contingency_weeks": 4}, "changed": ["contingency_weeks"]}
    ) == ("policy changed: contingency_weeks 4")
    account = scenario.account
    assert account is not None
    assert account.policy_on(date(2026, 5, 31)) == AccountPolicy()
    assert account.policy_on(date(2026, 6, 1)) == event.policy
    assert account.policy == event.policy  # the latest
    assert account.policy_periods == ((None, AccountPolicy()), (date(2026, 6, 1), event.policy))


def test_a_field_given_with_the_value_in_force_is_left_out_of_the_change() -> None:
    scenario = given(*FUNDED)
    scenario.when(
        cmd(ChangePolicy, contingency_weeks=8, review_every_months=6, effective_date="2026-06-01")
    ).event(PolicyChanged, changed=["review_every_months"])


def test_a_change_sets_only_its_fields_so_one_dated_between_others_keeps_theirs() -> None:
    account = _account(
        *FUNDED,
        cmd(ChangePolicy, frequency="monthly", effective_date="2026-09-01"),
        cmd(ChangePolicy, contingency_weeks=4, effective_date="2026-06-01"),  # back-dated
        cmd(ChangePolicy, contingency_weeks=6, effective_date="2026-06-01"),  # same day: later wins
    )
    assert account.policy_on(date(2026, 5, 31)).contingency_weeks == 8
    assert account.policy_on(date(2026, 6, 1)).contingency_weeks == 6
    september = account.policy_on(date(2026, 9, 1))
    assert (september.contingency_weeks, september.frequency) == (6, PaymentFrequency.MONTHLY)
    assert account.policy_on(date(2026, 8, 31)).frequency is PaymentFrequency.FOUR_WEEKLY


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("payment_basis", PaymentBasis.GROSS),
        ("frequency", PaymentFrequency.MONTHLY),
        ("contingency_weeks", 4),
        ("first_review_within_months", 3),
        ("review_every_months", 6),
        ("contribution_spent_first", True),
        ("end_date", date(2027, 3, 31)),
        ("low_balance_weeks", 3),
        ("contribution_shortfall_weeks", 2),
        ("missing_payment_margin_days", 10),
        ("match_tolerance_pence", 50),
    ],
)
def test_every_field_changes_from_its_date_only(name: str, value: Any) -> None:
    assert set(POLICY_FIELDS) <= set(ChangePolicy.model_fields)
    account = _account(*FUNDED, cmd(ChangePolicy, effective_date="2026-07-01", **{name: value}))
    assert getattr(account.policy_on(date(2026, 6, 30)), name) == getattr(AccountPolicy(), name)
    assert getattr(account.policy_on(date(2026, 7, 1)), name) == value
    assert getattr(account.policy_on(date(2030, 1, 1)), name) == value


def test_every_policy_field_can_be_changed() -> None:
    assert set(POLICY_FIELDS) == set(ChangePolicy.model_fields) - {
        "account_id",
        "effective_date",
        "actor",
        "reason",
        "idempotency_key",
        "clear_end_date",
    }


# ---------------------------------------------------------------------------- the rules
def test_the_contingency_and_surplus_follow_the_weeks_in_force_on_the_day() -> None:
    scenario = given(*FUNDED, cmd(ChangePolicy, contingency_weeks=4, effective_date="2026-05-01"))
    account = scenario.account
    assert account is not None
    before, after = date(2026, 4, 30), date(2026, 5, 1)
    assert (account.contingency(before), account.surplus(before)) == (
        Money("800.00"),
        Money("300.00"),
    )
    assert (account.contingency(after), account.surplus(after)) == (
        Money("400.00"),
        Money("700.00"),
    )
    scenario.when(cmd(DemandRecoupment, amount="500.00", effective_date="2026-04-30")).refused(
        SurplusExceeded, "exceeds the surplus of £300.00"
    )
    scenario.when(cmd(DemandRecoupment, amount="500.00", effective_date="2026-05-01")).event(
        RecoupmentDemanded, amount=Money("500.00"), surplus=Money("700.00")
    )


def test_contribution_spent_first_caps_the_recoverable_surplus_from_its_date() -> None:
    account = _account(
        opening(policy={"contingency_weeks": 0}),
        *FUNDED[1:],
        cmd(ChangePolicy, contribution_spent_first=True, effective_date="2026-05-01"),
    )
    # £1,000.00 from the council, £100.00 contribution, nothing spent, nothing kept back.
    assert account.recoverable_surplus(date(2026, 4, 30)) == Money("1100.00")
    assert account.recoverable_surplus(date(2026, 5, 1)) == Money("1000.00")


def test_the_schedule_follows_the_frequency_in_force_on_each_due_date() -> None:
    account = _account(*FUNDED, cmd(ChangePolicy, frequency="monthly", effective_date="2026-05-20"))
    # 4-weekly (£80.00 a week council share) to the due date of 2026-05-04, whose period runs its
    # course; monthly from the first due date on or after the change, by the days in the month.
    assert _council_dues(account, "2026-08-01") == [
        (date(2026, 4, 6), Money("320.00")),
        (date(2026, 5, 4), Money("320.00")),
        (date(2026, 6, 1), Money("342.86")),  # 30 days
        (date(2026, 7, 1), Money("354.29")),  # 31 days
        (date(2026, 8, 1), Money("354.29")),
    ]
    unchanged = _account(*FUNDED)
    assert _council_dues(unchanged, "2026-05-31") == _council_dues(account, "2026-05-31")


def test_a_schedule_asked_from_a_later_date_is_the_same_part_of_the_whole() -> None:
    account = _account(
        *FUNDED,
        cmd(ChangePolicy, frequency="monthly", effective_date="2026-05-20"),
        cmd(ChangePolicy, frequency="four_weekly", effective_date="2027-01-10"),
    )
    whole = payment_schedule(account, date(2027, 6, 30))
    for since in (date(2026, 9, 15), date(2027, 1, 5), date(2027, 3, 1)):
        part = payment_schedule(account, date(2027, 6, 30), since)
        assert [d for d in part if d.due_date >= since] == [d for d in whole if d.due_date >= since]


def test_an_end_date_brought_forward_stops_expected_payments_after_it() -> None:
    account = _account(
        *FUNDED, cmd(ChangePolicy, end_date="2026-07-15", effective_date="2026-06-10")
    )
    assert [day for day, _ in _council_dues(account, "2026-09-30")] == [
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 6, 1),
        date(2026, 6, 29),
    ]
    missing = {m.due_date for m in missing_payments(account, date(2026, 9, 30))}
    assert max(missing) == date(2026, 6, 29)
    unchanged = {m.due_date for m in missing_payments(_account(*FUNDED), date(2026, 9, 30))}
    assert missing < unchanged
    assert max(unchanged) == date(2026, 9, 21)


def test_a_change_to_the_gross_basis_changes_dues_and_contributions_from_its_date() -> None:
    account = _account(
        *FUNDED, cmd(ChangePolicy, payment_basis="gross", effective_date="2026-06-01")
    )
    dues = payment_schedule(account, date(2026, 6, 28))
    assert [(d.kind, d.due_date, d.amount) for d in dues] == [
        ("council", date(2026, 4, 6), Money("320.00")),
        ("contribution", date(2026, 4, 6), Money("80.00")),
        ("council", date(2026, 5, 4), Money("320.00")),
        ("contribution", date(2026, 5, 4), Money("80.00")),
        ("council", date(2026, 6, 1), Money("400.00")),  # the gross budget, no contribution
    ]
    # Contributions due into the account: 56 days on the net basis at £20.00 a week.
    assert account.terms.contributions_due(date(2026, 6, 28)) == Money("160.00")
    assert _account(*FUNDED).terms.contributions_due(date(2026, 6, 28)) == Money("240.00")


@pytest.mark.parametrize(
    ("effective", "due"),
    [
        ("2026-05-01", date(2026, 7, 6)),  # 3 months of the first payment (2026-04-06)
        ("2026-08-01", date(2026, 8, 1)),  # already overdue by the new interval: due that day
        ("2026-11-01", date(2026, 10, 6)),  # after the old due date: it stays
    ],
)
def test_the_first_review_follows_the_interval_in_force(effective: str, due: date) -> None:
    account = _account(
        *FUNDED, cmd(ChangePolicy, first_review_within_months=3, effective_date=effective)
    )
    assert account.next_review_due == due
    assert _account(*FUNDED).next_review_due == date(2026, 10, 6)


def test_the_next_review_follows_the_interval_in_force_after_the_last_review() -> None:
    reviewed = (*FUNDED, cmd(RecordReview, effective_date="2026-06-01"))
    assert _account(*reviewed).next_review_due == date(2027, 6, 1)
    sooner = _account(
        *reviewed, cmd(ChangePolicy, review_every_months=6, effective_date="2026-09-01")
    )
    assert sooner.next_review_due == date(2026, 12, 1)
    late = _account(
        *reviewed, cmd(ChangePolicy, review_every_months=6, effective_date="2027-01-15")
    )
    assert late.next_review_due == date(2027, 1, 15)


def test_the_missing_payment_margin_in_force_on_the_due_date_applies() -> None:
    account = _account(
        *FUNDED, cmd(ChangePolicy, missing_payment_margin_days=20, effective_date="2026-05-04")
    )
    # Due 2026-05-04, nothing came: missing after 5 days by the old margin, 20 by the new one.
    assert not [m for m in missing_payments(account, date(2026, 5, 20)) if m.kind == "council"]
    late = [m for m in missing_payments(account, date(2026, 5, 25)) if m.kind == "council"]
    assert [m.due_date for m in late] == [date(2026, 5, 4)]
    assert "within 20 days" in late[0].reason


def test_closing_returns_the_end_dates_advance_by_the_policy_in_force() -> None:
    account = _account(
        *FUNDED,
        cmd(ChangePolicy, end_date="2026-04-19", effective_date="2026-04-10"),
        cmd(CloseAccount, effective_date="2026-04-19"),
    )
    closed = account.pending_events[-1]
    # £1,000.00 paid for the 28 days from 2026-04-06: the 14 after the end date come back.
    assert closed.paid_in_advance == Money("500.00")  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- property
_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "payment_basis": st.sampled_from(PaymentBasis),
    "frequency": st.sampled_from(PaymentFrequency),
    "contingency_weeks": st.integers(0, 26),
    "first_review_within_months": st.integers(1, 6),
    "review_every_months": st.integers(1, 12),
    "contribution_spent_first": st.booleans(),
    "low_balance_weeks": st.integers(0, 26),
    "contribution_shortfall_weeks": st.integers(0, 26),
    "missing_payment_margin_days": st.integers(0, 60),
    "match_tolerance_pence": st.integers(0, 10_000),
}


def _figures(account: ManagedAccount, day: date) -> tuple[Any, ...]:
    return (
        account.policy_on(day),
        account.contingency(day),
        account.surplus(day),
        account.recoverable_surplus(day),
        payment_schedule(account, day),
        missing_payments(account, day),
        account.terms.contributions_due(day),
        account.paid_in_advance(day),
    )


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@for_all(
    as_of=st.integers(0, 500),
    later=st.integers(1, 400),
    changes=st.dictionaries(
        st.sampled_from(sorted(_FIELD_VALUES)), st.none(), min_size=1, max_size=3
    ),
    values=st.data(),
    end_after=st.one_of(st.none(), st.integers(0, 300)),
)
def test_a_change_effective_after_a_date_changes_no_figure_as_at_that_date(
    as_of: int, later: int, changes: dict[str, Any], values: st.DataObject, end_after: int | None
) -> None:
    opened = date.fromisoformat(OPENED_ON)
    day = opened + timedelta(days=as_of)
    effective = day + timedelta(days=later)
    fields = {name: values.draw(_FIELD_VALUES[name], label=name) for name in changes}
    if end_after is not None:
        fields["end_date"] = effective + timedelta(days=end_after)
    history = (
        *FUNDED,
        cmd(
            AgreeBudget, weekly_gross="150.00", weekly_contribution="0", effective_date="2026-07-01"
        ),
        cmd(ReceiveCouncilPayment, amount="600.00", effective_date="2026-07-01"),
        cmd(ReceiveContribution, amount="40.00", effective_date="2026-05-01"),
        cmd(
            PayCarePlanSpend,
            category="insurance",
            amount="90.00",
            description="EL",
            effective_date="2026-05-02",
        ),
        cmd(RecordReview, effective_date="2026-08-01"),
    )
    before = _figures(_account(*history), day)
    scenario = given(*history)
    outcome = scenario.when(cmd(ChangePolicy, effective_date=effective.isoformat(), **fields))
    assume(outcome.error is None)  # a change of nothing in force is refused, tested below
    assert scenario.account is not None
    assert _figures(scenario.account, day) == before


# ---------------------------------------------------------------------------- bad input
def test_a_change_before_the_account_opened_is_refused() -> None:
    error = (
        given(*FUNDED)
        .when(cmd(ChangePolicy, contingency_weeks=4, effective_date="2026-04-05"))
        .refused(ValidationError, "before the account was opened")
    )
    assert isinstance(error, ValidationError)
    assert error.field == "effective_date"
    assert error.fix == "date it on or after 2026-04-06"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"contingency_weeks": 27}, "contingency_weeks", "must be a whole number from 0 to 26"),
        ({"review_every_months": 13}, "review_every_months", "from 1 to 12, got 13"),
        ({"contingency_weeks": True}, "contingency_weeks", "True is not a number"),
        ({"frequency": "weekly"}, "frequency", "frequency"),
        ({"end_date": "31/03/2027"}, "end_date", "end_date"),
        ({"match_tolerance_pence": 10_001}, "match_tolerance_pence", "from 0 to 10000"),
    ],
)
def test_a_change_making_the_policy_invalid_names_the_field(
    fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        cmd(ChangePolicy, **fields)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_bad_combinations_are_refused_with_the_fix() -> None:
    scenario = given(*FUNDED)
    checks = [
        (cmd(ChangePolicy), ValidationError, "names no policy field to change"),
        (
            cmd(ChangePolicy, end_date="2026-12-31", clear_end_date=True),
            ValidationError,
            "sets an end date and clears it",
        ),
        (
            cmd(ChangePolicy, end_date="2026-05-01", effective_date="2026-06-01"),
            ValidationError,
            r"end_date: 2026-05-01 is before the change takes effect \(2026-06-01\).*on or before",
        ),
        (
            cmd(ChangePolicy, contingency_weeks=8, frequency="four_weekly"),
            InvalidTransition,
            "already has frequency four_weekly, contingency_weeks 8",
        ),
        (cmd(ChangePolicy, clear_end_date=True), InvalidTransition, "already has end_date removed"),
    ]
    for command, error, match in checks:
        scenario.when(command).refused(error, match)


def test_a_closed_account_takes_no_policy_change() -> None:
    scenario = given(*FUNDED, cmd(CloseAccount, effective_date="2026-04-19"))
    scenario.when(cmd(ChangePolicy, contingency_weeks=4, effective_date="2026-04-20")).refused(
        AccountClosed, "accepts no new entries"
    )


def test_an_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        AccountPolicy.preset("sunderland")
    assert "'sunderland'" in str(caught.value)
    for name in PRESETS:
        assert name in caught.value.fix


# ---------------------------------------------------------------------------- presets
def test_each_preset_is_a_valid_policy_with_its_sources_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, preset in PRESETS.items():
        assert preset.name == name
        assert AccountPolicy.preset(name) == preset.policy
        assert preset.sources
        assert all(s.startswith("https://") for s in preset.sources)
        assert f"`{name}`" in docs, f"docs/model.md does not list the preset {name}"
        for source in preset.sources:
            assert source in docs, f"docs/model.md does not cite {source}"
    assert AccountPolicy.preset("gloucestershire").contribution_spent_first
    assert AccountPolicy.preset("hartlepool").first_review_within_months == 3
    assert AccountPolicy.preset("hampshire_to_november_2023").frequency is PaymentFrequency.MONTHLY


def test_an_account_opens_with_a_preset_and_moves_to_another(ledger: Ledger) -> None:
    ledger.open_account(
        "DP-H",
        person_ref="P-1",
        council="Hampshire County Council",
        provider="SOLO",
        effective_date="2023-04-01",
        actor="officer-1",
        policy="hampshire_to_november_2023",
    )
    receipt = ledger.change_policy(
        "DP-H",
        frequency=AccountPolicy.preset("hampshire").frequency,
        effective_date="2023-12-08",
        actor="officer-1",
        reason="Hampshire pays 4-weekly from December 2023",
    )
    assert receipt.event_type == "PolicyChanged"
    account = ledger.load("DP-H")
    assert account.policy_on(date(2023, 12, 7)).frequency is PaymentFrequency.MONTHLY
    assert account.policy_on(date(2023, 12, 8)).frequency is PaymentFrequency.FOUR_WEEKLY
    assert ledger.account("DP-H").policy.frequency is PaymentFrequency.FOUR_WEEKLY


# ---------------------------------------------------------------------------- persistence
def test_policy_changes_survive_a_snapshot_and_an_older_layout_is_refused() -> None:
    account = _account(
        *FUNDED,
        cmd(
            ChangePolicy,
            end_date="2027-03-31",
            match_tolerance_pence=5,
            effective_date="2026-06-01",
        ),
        cmd(ChangePolicy, clear_end_date=True, effective_date="2026-09-01"),
    )
    data = codec.encode(account.terms)
    assert codec.decode(Terms, data) == account.terms
    with pytest.raises(ValueError, match="Terms has"):
        codec.decode(Terms, data[:-1])  # a snapshot from before policy changes: replayed instead


def test_policy_changes_survive_the_store_and_its_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with Ledger.sqlite(path) as ledger:
        ledger.open_account(
            "DP-1",
            person_ref="P-1",
            council="Kent County Council",
            provider="SOLO",
            effective_date=OPENED_ON,
            actor="officer-1",
        )
        ledger.change_policy(
            "DP-1",
            contingency_weeks=4,
            end_date="2027-03-31",
            effective_date="2026-05-01",
            actor="a",
        )
        for week in range(55):  # past the snapshot interval (50)
            ledger.receive_contribution(
                "DP-1",
                amount="1.00",
                effective_date=date(2026, 4, 6) + timedelta(weeks=week),
                actor="a",
            )
        ledger.change_policy("DP-1", frequency="monthly", effective_date="2027-01-01", actor="a")
    with Ledger.sqlite(path) as ledger:
        account = ledger.load("DP-1")
        assert account.policy_on(date(2026, 4, 30)) == AccountPolicy()
        assert account.policy_on(date(2026, 5, 1)) == AccountPolicy(
            contingency_weeks=4, end_date=date(2027, 3, 31)
        )
        assert account.policy == replace(
            account.policy_on(date(2026, 5, 1)), frequency=PaymentFrequency.MONTHLY
        )
        events = [e for e in ledger.events("DP-1") if isinstance(e, PolicyChanged)]
        assert [e.changed for e in events] == [["contingency_weeks", "end_date"], ["frequency"]]
