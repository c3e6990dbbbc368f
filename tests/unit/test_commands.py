"""Commands as data: ``Ledger.execute`` is the typed methods' path; ``execute_many`` runs a batch,
one transaction per account, all or nothing per account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dpledger import Ledger, Money
from dpledger.commands import (
    Command,
    OpenAccount,
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
    RegisterAgency,
    Suspend,
)
from dpledger.domain import registry
from dpledger.domain.corrections import own_fields
from dpledger.errors import AccountNotFound, DpledgerError, InsufficientFunds, ValidationError

ACTOR = "officer-1"
OPENED = "2026-04-06"
DAY = "2026-04-13"

LAST_ITEM = "<the item id of the last unexpected money>"
CONTRIBUTION = "<the version of the contribution>"

# Every command once, in an order the rules accept: (method, fields besides account and actor).
SCENARIO: list[tuple[str, dict[str, Any]]] = [
    (
        "open_account",
        {
            "person_ref": "P-77",
            "council": "Kent County Council",
            "provider": "SOLO",
            "policy": {"contingency_weeks": 4},
            "bank_account": "30-99-50 12345678",
            "effective_date": OPENED,
        },
    ),
    (
        "agree_budget",
        {"weekly_gross": "100.00", "weekly_contribution": "20.00", "effective_date": OPENED},
    ),
    ("name_bank_account", {"bank_account": "GB29 NWBK 6016 1331 9268 19"}),
    ("add_bank_account", {"bank_account": "30-99-50 12345678"}),
    ("agree_care_plan", {"agency_hours_per_week": "10", "pa_hours_per_week": "20"}),
    (
        "receive_council_payment",
        {
            "amount": "1000.00",
            "period_start": DAY,
            "period_end": "2026-05-10",
            "bank_reference": "KCC 1",
            "idempotency_key": "council-1",
        },
    ),
    (
        "transfer_between_bank_accounts",
        {
            "from_bank_account": "GB29 NWBK 6016 1331 9268 19",
            "to_bank_account": "30-99-50 12345678",
            "amount": "1.00",
        },
    ),
    ("receive_contribution", {"amount": 10000, "bank_reference": "P77"}),
    ("receive_one_off_payment", {"amount": Money("300.00"), "purpose": "hoist"}),
    ("register_agency", {"agency_id": "AG-1", "name": "Oak Care", "hourly_rate": "20.00"}),
    ("agree_agency_rate", {"agency_id": "AG-1", "hourly_rate": "21.00"}),
    (
        "receive_invoice",
        {
            "agency_id": "AG-1",
            "invoice_number": "INV-1",
            "period_start": OPENED,
            "period_end": "2026-04-12",
            "hours": "10",
            "rate": "22.00",
            "total": "220.00",
        },
    ),
    (
        "receive_credit_note",
        {
            "agency_id": "AG-1",
            "invoice_number": "INV-1",
            "credit_note_number": "CN-1",
            "amount": "20.00",
        },
    ),
    ("approve_invoice", {"agency_id": "AG-1", "invoice_number": "INV-1"}),
    ("pay_invoice", {"agency_id": "AG-1", "invoice_number": "INV-1", "amount": "100.00"}),
    ("pay_remittance", {"agency_id": "AG-1", "payments": {"INV-1": "100.00"}}),
    (
        "receive_invoice",
        {
            "agency_id": "AG-1",
            "invoice_number": "INV-2",
            "period_start": DAY,
            "period_end": "2026-04-19",
            "hours": "1",
            "rate": "21.00",
            "total": "21.00",
        },
    ),
    ("dispute_invoice", {"agency_id": "AG-1", "invoice_number": "INV-2", "reason": "no visit"}),
    ("register_personal_assistant", {"pa_id": "PA-1", "hourly_rate": "12.71"}),
    ("update_personal_assistant", {"pa_id": "PA-1", "date_of_birth": "1990-05-01"}),
    (
        "record_wage_run",
        {
            "pa_id": "PA-1",
            "period_start": OPENED,
            "period_end": "2026-04-12",
            "hours": "20",
            "gross": "254.20",
            "paye": "0",
            "employee_ni": "0",
            "employer_ni": "10.00",
            "employee_pension": "0",
            "employer_pension": "0",
            "net": "254.20",
        },
    ),
    ("pay_net_wages", {"pa_id": "PA-1", "amount": "254.20"}),
    ("claim_employment_allowance", {"amount": "4.00"}),
    ("pay_hmrc", {"amount": "6.00"}),
    ("pay_care_plan_spend", {"category": "insurance", "amount": "96.50", "description": "EL"}),
    ("receive_unexpected_income", {"amount": "5.00", "description": "REFUND"}),
    ("classify_unexpected_income", {"item_id": LAST_ITEM, "classified_as": "council"}),
    ("receive_unexpected_income", {"amount": "6.00", "description": "INTEREST"}),
    ("keep_unexpected_income", {"item_id": LAST_ITEM, "reason": "bank interest"}),
    ("receive_unexpected_income", {"amount": "7.00", "description": "WRONG PAYER"}),
    ("refund_unexpected_income", {"item_id": LAST_ITEM}),
    ("record_unexplained_outgoing", {"amount": "1.00", "description": "FEE"}),
    ("classify_unexpected_outgoing", {"item_id": LAST_ITEM, "category": "support_fees"}),
    ("record_unexplained_outgoing", {"amount": "2.00", "description": "CARD"}),
    ("recover_unexpected_outgoing", {"item_id": LAST_ITEM}),
    ("record_unexplained_outgoing", {"amount": "3.00", "description": "CHARGE"}),
    ("accept_unexpected_outgoing", {"item_id": LAST_ITEM, "reason": "bank's fee"}),
    (
        "change_policy",
        {"contingency_weeks": 3, "match_tolerance_pence": 5, "reason": "annual review"},
    ),
    ("record_review", {"next_review_by": "2026-12-01", "reason": "annual"}),
    ("correct", {"version": CONTRIBUTION, "reason": "keyed twice"}),
    ("demand_recoupment", {"amount": "10.00"}),
    ("repay_recoupment", {"amount": "10.00", "bank_reference": "KCC R1"}),
    ("suspend", {"reason": "in hospital"}),
    ("resume", {"backfill_ordered": True}),
    ("pay_pension", {"amount": "0.01"}),
    ("close_account", {"effective_date": "2026-05-10"}),
]


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {"actor": ACTOR, "effective_date": DAY, **fields}


def _resolved(fields: dict[str, Any], receipts: list[Any]) -> dict[str, Any]:
    """The scenario's fields with its placeholders filled in from the receipts so far."""
    values = dict(fields)
    for name, value in fields.items():
        if value == LAST_ITEM:
            values[name] = next(r.item_id for r in reversed(receipts) if r.item_id)
        elif value == CONTRIBUTION:
            values[name] = next(
                r.version for r in receipts if r.event_type == "ContributionReceived"
            )
    return _fields(values)


def _same(event: Any) -> tuple[Any, ...]:
    """What an event says, but for when it was recorded (and so its chained digest)."""
    return (
        type(event).__name__,
        event.originator_version,
        event.effective_date,
        event.actor,
        event.reason,
        event.command_key,
        event.command_digest,
        event.postings,
        own_fields(event),
    )


@pytest.fixture
def two_ledgers() -> Iterator[tuple[Ledger, Ledger]]:
    with Ledger.in_memory() as typed, Ledger.in_memory() as as_data:
        yield typed, as_data


def test_the_scenario_runs_every_command() -> None:
    assert {method for method, _ in SCENARIO} == set(registry.COMMANDS)


def test_executing_a_command_equals_calling_its_typed_method(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    typed, as_data = two_ledgers
    receipts: list[Any] = []
    for method, fields in SCENARIO:
        values = _resolved(fields, receipts)
        if method == "pay_pension":  # nothing is owed to the pension: both refuse alike
            with pytest.raises(DpledgerError) as by_method:
                getattr(typed, method)("DP-1", **values)
            command = registry.COMMANDS[method].build(account_id="DP-1", **values)
            with pytest.raises(type(by_method.value)) as by_data:
                as_data.execute(command)
            assert str(by_data.value) == str(by_method.value)
            continue
        receipt = getattr(typed, method)("DP-1", **values)
        receipts.append(receipt)
        command = registry.COMMANDS[method].build(account_id="DP-1", **values)
        assert command.method == method
        executed = as_data.execute(command)
        assert _same(executed.event) == _same(receipt.event), method
        assert (executed.version, executed.replayed, executed.alerts) == (
            receipt.version,
            receipt.replayed,
            receipt.alerts,
        )
    assert [_same(e) for e in as_data.events("DP-1")] == [_same(e) for e in typed.events("DP-1")]


def test_a_command_is_data_frozen_and_digested_alike() -> None:
    fields = _fields({"amount": "12.34", "bank_reference": "KCC"})
    one = ReceiveCouncilPayment.build(account_id="DP-1", **fields)
    two = ReceiveCouncilPayment(account_id="DP-1", **{**fields, "amount": 1234})
    assert one == two
    assert one.digest() == two.digest()
    assert one.amount == Money("12.34")
    with pytest.raises(Exception, match="frozen"):
        one.amount = Money(1)  # type: ignore[misc]
    other = ReceiveCouncilPayment.build(account_id="DP-1", **{**fields, "amount": "12.35"})
    assert other.digest() != one.digest()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "ten pounds"}, "amount", "is not an amount of money"),
        ({"amount": None}, "amount", "is required"),
        ({"effective_date": "13/04/2026"}, "effective_date", "is not a date"),
        ({"account_id": "DP 1"}, "account_id", "is not a valid id"),
        ({"actor": ""}, "actor", "must not be blank"),
        ({"period_start": DAY, "colour": "red"}, "colour", "is not a field of this command"),
        (
            {"amount": "-1", "bank_reference": "\x00"},
            "amount",
            "must be more than zero, got -£1.00 (and 1 more problem)",
        ),
    ],
)
def test_a_bad_field_raises_a_validation_error_naming_it(
    fields: dict[str, Any], field: str, message: str
) -> None:
    values = {"account_id": "DP-1", "amount": "1.00", **_fields({}), **fields}
    if values["amount"] is None:
        del values["amount"]
    with pytest.raises(ValidationError) as caught:
        ReceiveCouncilPayment.build(**values)
    assert caught.value.field == field
    assert message in caught.value.message
    if values.get("account_id") == "DP-1":
        assert caught.value.account_id == "DP-1"


def test_a_required_reason_is_asked_for() -> None:
    with pytest.raises(ValidationError) as caught:
        Suspend.build(account_id="DP-1", reason=None, **_fields({}))
    assert (caught.value.field, caught.value.fix) == (
        "reason",
        "say why, briefly; auditors read it",
    )


def test_executing_something_that_is_not_a_command_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.execute({"method": "open_account"})  # type: ignore[arg-type]
    assert caught.value.field == "command"


def test_executing_on_an_account_that_does_not_exist_is_refused(ledger: Ledger) -> None:
    with pytest.raises(AccountNotFound) as caught:
        ledger.execute(ReceiveContribution.build(account_id="DP-9", amount="1", **_fields({})))
    assert caught.value.account_id == "DP-9"


# ---------------------------------------------------------------------------- batches
def opening(account_id: str) -> Command:
    return OpenAccount.build(
        account_id=account_id,
        person_ref=f"P-{account_id}",
        council="Kent County Council",
        provider="SOLO",
        idempotency_key=f"{account_id}:open",
        **_fields({"effective_date": OPENED}),
    )


def payment(account_id: str, amount: str, key: str) -> Command:
    return ReceiveCouncilPayment.build(
        account_id=account_id, amount=amount, idempotency_key=f"{account_id}:{key}", **_fields({})
    )


def spending(account_id: str, amount: str, key: str) -> Command:
    return PayCarePlanSpend.build(
        account_id=account_id,
        category="insurance",
        amount=amount,
        description="EL",
        idempotency_key=f"{account_id}:{key}",
        **_fields({}),
    )


@pytest.fixture
def transactions(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[set[Any]]:
    """The aggregates each stored transaction wrote, in order."""
    recorder = ledger.application.recorder
    written: list[set[Any]] = []
    insert = recorder.insert_events

    def counting(stored_events: Any, **kwargs: Any) -> Any:
        written.append({event.originator_id for event in stored_events})
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", counting)
    return written


def test_a_batch_is_one_transaction_per_account_with_receipts_in_command_order(
    ledger: Ledger, transactions: list[set[Any]]
) -> None:
    batch = [
        opening("DP-A"),
        opening("DP-B"),
        payment("DP-A", "100.00", "p1"),
        payment("DP-B", "200.00", "p1"),
        spending("DP-A", "30.00", "s1"),
        RegisterAgency.build(account_id="DP-B", agency_id="AG-1", name="Oak", **_fields({})),
    ]
    progress: list[tuple[int, int]] = []
    report = ledger.execute_many(batch, progress=lambda done, total: progress.append((done, total)))
    assert report.ok
    assert report.failed == {}
    assert report.events_recorded == 6
    assert [(r.account_id, r.event_type) for r in report.receipts if r is not None] == [
        ("DP-A", "AccountOpened"),
        ("DP-B", "AccountOpened"),
        ("DP-A", "CouncilPaymentReceived"),
        ("DP-B", "CouncilPaymentReceived"),
        ("DP-A", "CarePlanSpendPaid"),
        ("DP-B", "AgencyRegistered"),
    ]
    assert [r.version for r in report.receipts if r is not None] == [1, 1, 2, 2, 3, 3]
    assert len(transactions) == 2  # one per account
    assert all(len(aggregates) == 1 for aggregates in transactions)
    assert progress == [(1, 2), (2, 2)]
    assert ledger.bank_balance("DP-A") == Money("70.00")
    assert ledger.bank_balance("DP-B") == Money("200.00")


def test_a_failing_command_leaves_its_account_unchanged_and_the_others_recorded(
    ledger: Ledger, transactions: list[set[Any]]
) -> None:
    ledger.execute_many([opening("DP-A"), payment("DP-A", "100.00", "p1")])
    before = [e.digest for e in ledger.events("DP-A")]
    transactions.clear()
    report = ledger.execute_many(
        [
            payment("DP-A", "50.00", "p2"),
            opening("DP-B"),
            spending("DP-A", "150.01", "s1"),  # more than the bank holds
            payment("DP-B", "10.00", "p1"),
            payment("DP-A", "1.00", "p3"),
        ]
    )
    assert not report.ok
    assert set(report.failed) == {"DP-A"}
    error = report.failed["DP-A"]
    assert isinstance(error, InsufficientFunds)
    assert error.account_id == "DP-A"
    assert error.shortfall == Money("0.01")
    assert [r is None for r in report.receipts] == [True, False, True, False, True]
    assert report.events_recorded == 2
    assert [e.digest for e in ledger.events("DP-A")] == before  # not even the first payment
    assert ledger.bank_balance("DP-A") == Money("100.00")
    assert ledger.bank_balance("DP-B") == Money("10.00")
    assert len(transactions) == 1


def test_a_batch_sent_again_records_nothing_new(ledger: Ledger) -> None:
    batch = [
        opening("DP-A"),
        payment("DP-A", "100.00", "p1"),
        spending("DP-A", "30.00", "s1"),
        opening("DP-B"),
        payment("DP-B", "5.00", "p1"),
    ]
    first = ledger.execute_many(batch)
    notifications = ledger.application.recorder.max_notification_id()
    again = ledger.execute_many(batch)
    assert again.ok
    assert again.events_recorded == 0
    assert ledger.application.recorder.max_notification_id() == notifications
    assert all(r is not None and r.replayed for r in again.receipts)
    assert [r.version for r in again.receipts if r] == [r.version for r in first.receipts if r]
    assert ledger.bank_balance("DP-A") == Money("70.00")


def test_a_batch_refuses_an_item_that_is_not_a_command(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.execute_many([opening("DP-A"), "pay £5"])  # type: ignore[list-item]
    assert caught.value.field == "commands"
    assert "item 1 is not a command" in caught.value.message
    assert ledger.account_ids() == []
