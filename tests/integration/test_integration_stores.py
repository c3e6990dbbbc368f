"""The same account history on every store: exact state, exact reload, exact types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import project_aggregate

from dpledger import (
    AccountPolicy,
    Ledger,
    LedgerAccount,
    Money,
    PaymentBasis,
    PaymentFrequency,
    SpendCategory,
)
from dpledger.domain.account import account_uuid
from dpledger.domain.corrections import EntryCorrected
from dpledger.domain.funds import CarePlanSpendPaid, CouncilPaymentReceived
from dpledger.domain.invoices import InvoiceReceived
from dpledger.domain.lifecycle import AccountOpened, AccountResumed
from dpledger.domain.payroll import WageRunRecorded
from dpledger.domain.records import AccountStatus, InvoiceStatus, SuspenseStatus

A = LedgerAccount
ACCOUNT = "DP-INT-1"

EXPECTED_BALANCES = {
    A.BANK: Money("1180.77"),
    A.COUNCIL_INCOME: Money("-2000.00"),
    A.OTHER_INCOME: Money("-12.34"),
    A.AGENCY_PAYABLE: Money("-437.50"),
    A.PENSION_PAYABLE: Money("-12.71"),
    A.AGENCY_CARE: Money("937.50"),
    A.PA_GROSS_WAGES: Money("254.20"),
    A.EMPLOYER_PENSION: Money("5.08"),
    A.INSURANCE: Money("85.00"),
}


def replayed_without_snapshots(ledger: Ledger, account_id: str = ACCOUNT) -> Any:
    """The aggregate folded from every stored event, ignoring any snapshot."""
    events = ledger.application.repository.event_store.get(account_uuid(account_id))
    return project_aggregate(None, events)


def test_scenario_gives_exact_state_on_every_store(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    ledger = open_ledger(store_url)
    scenario(ledger)
    state = ledger.account(ACCOUNT)
    assert state.version == 19
    assert {a: b for a, b in state.balances.items() if not b.is_zero()} == EXPECTED_BALANCES
    assert state.bank_balance == Money("1180.77")
    assert state.unpaid_liabilities == Money("450.21")
    assert state.status is AccountStatus.OPEN
    assert state.policy == AccountPolicy(
        payment_basis=PaymentBasis.NET,
        frequency=PaymentFrequency.MONTHLY,
        contingency_weeks=6,
        end_date=date(2027, 3, 31),
    )
    assert state.invoices["AG-1/INV-7"].status is InvoiceStatus.APPROVED
    assert state.invoices["AG-1/INV-7"].paid == Money("500.00")
    assert state.invoices["AG-1/INV-8"].status is InvoiceStatus.VOIDED
    assert state.suspense_items["S15"].status is SuspenseStatus.KEPT
    assert state.personal_assistants["PA-1"].net_owed == Money(0)
    assert ledger.surplus(ACCOUNT, "2026-04-06") == Money(0)  # 1180.77 - 450.21 - 1500
    assert ledger.account_ids() == [ACCOUNT]
    events = ledger.events(ACCOUNT)
    assert [e.originator_version for e in events] == list(range(1, 20))
    assert all(sum(p.amount.pence for p in e.postings) == 0 for e in events)
    # the aggregate the Ledger loads is the one its events fold into
    assert ledger.load(ACCOUNT).__dict__ == replayed_without_snapshots(ledger).__dict__
    # and every store agrees with the in-memory one
    with Ledger.in_memory() as reference:
        scenario(reference)
        assert reference.account(ACCOUNT) == state


def test_a_reopened_store_gives_identical_state(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(durable_url)
    scenario(first)
    state = first.account(ACCOUNT)
    aggregate = first.load(ACCOUNT)
    events = first.events(ACCOUNT)
    first.close()

    again = open_ledger(durable_url)
    assert again.account(ACCOUNT) == state
    assert again.load(ACCOUNT).__dict__ == aggregate.__dict__
    assert again.events(ACCOUNT) == events
    assert again.account_ids() == [ACCOUNT]
    # an idempotent retry through the new Ledger replays the original receipt
    retry = again.receive_council_payment(
        ACCOUNT,
        amount="2000.00",
        period_start="2026-04-06",
        period_end="2026-05-03",
        bank_reference="BACS-1",
        idempotency_key="pay-1",
        effective_date="2026-04-06",
        actor="officer-1",
    )
    assert retry.replayed is True
    assert retry.version == 3
    assert retry.event == events[2]
    assert again.account(ACCOUNT).version == 19
    # and a new command continues the same history
    receipt = again.receive_contribution(
        ACCOUNT, amount="30.00", effective_date="2026-04-13", actor="officer-2"
    )
    assert receipt.version == 20
    assert again.bank_balance(ACCOUNT) == Money("1210.77")


def test_values_round_trip_exactly_through_the_store(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    scenario(open_ledger(durable_url))
    events = open_ledger(durable_url).events(ACCOUNT)
    by_type = {type(e).__name__: e for e in events}

    opened = by_type["AccountOpened"]
    assert isinstance(opened, AccountOpened)
    assert opened.policy.payment_basis is PaymentBasis.NET
    assert opened.policy.frequency is PaymentFrequency.MONTHLY
    assert type(opened.policy.end_date) is date
    assert opened.policy.end_date == date(2027, 3, 31)
    assert type(opened.effective_date) is date
    assert type(opened.timestamp) is datetime
    assert opened.timestamp.tzinfo is not None

    council = by_type["CouncilPaymentReceived"]
    assert isinstance(council, CouncilPaymentReceived)
    assert type(council.amount) is Money
    assert type(council.amount.pence) is int
    assert (council.amount.pence, council.amount.currency) == (200000, "GBP")
    assert (council.period_start, council.period_end) == (date(2026, 4, 6), date(2026, 5, 3))
    assert type(council.period_start) is date
    assert council.command_key == "pay-1"
    assert council.postings.lines[0].account is A.BANK
    assert council.postings.lines[1].account is A.COUNCIL_INCOME

    invoice = events[5]
    assert isinstance(invoice, InvoiceReceived)
    assert type(invoice.hours) is Decimal
    assert str(invoice.hours) == "37.50"  # the exponent survives too
    assert invoice.rate == Money("25.00")

    wage_run = by_type["WageRunRecorded"]
    assert isinstance(wage_run, WageRunRecorded)
    assert str(wage_run.hours) == "20.00"
    assert wage_run.employee_pension == Money(763)
    assert wage_run.paye == Money(0)

    spend = by_type["CarePlanSpendPaid"]
    assert isinstance(spend, CarePlanSpendPaid)
    assert spend.category is SpendCategory.INSURANCE
    assert spend.postings.lines[0].account is A.INSURANCE

    voided = events[9]
    assert isinstance(voided, EntryCorrected)
    assert voided.corrected_type == "InvoiceReceived"
    assert voided.corrected_fields == {
        "agency_id": "AG-1",
        "invoice_number": "INV-8",
        "period_start": date(2026, 4, 6),
        "period_end": date(2026, 4, 12),
        "hours": Decimal("2.25"),
        "rate": Money("25.00"),
        "total": Money("56.25"),
    }
    assert type(voided.corrected_fields["period_start"]) is date
    assert type(voided.corrected_fields["total"]) is Money

    resumed = by_type["AccountResumed"]
    assert isinstance(resumed, AccountResumed)
    assert resumed.backfill_ordered is True

    state = open_ledger(durable_url).account(ACCOUNT)
    assert state.status is AccountStatus.OPEN
    assert state.invoices["AG-1/INV-8"].status is InvoiceStatus.VOIDED
    assert type(state.invoices["AG-1/INV-7"].hours) is Decimal
    assert state.budgets[0].weekly_contribution == Money("30.00")


def test_accounts_are_kept_apart(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    ledger = open_ledger(store_url)
    scenario(ledger, "DP-A")
    ledger.open_account(
        "DP-B",
        person_ref="P-2",
        council="Medway",
        provider="SOLO",
        effective_date="2026-05-01",
        actor="x",
    )
    ledger.receive_council_payment("DP-B", amount="1.00", effective_date="2026-05-01", actor="x")
    assert ledger.account_ids() == ["DP-A", "DP-B"]
    assert ledger.bank_balance("DP-A") == Money("1180.77")
    assert ledger.bank_balance("DP-B") == Money("1.00")
    # an idempotency key of one account means nothing on another
    receipt = ledger.receive_council_payment(
        "DP-B",
        amount="9.00",
        effective_date="2026-05-01",
        actor="x",
        idempotency_key="pay-1",
    )
    assert receipt.replayed is False
    assert receipt.version == 3


@pytest.mark.postgres
def test_postgres_schema_is_created_and_used(
    postgres_url: str, open_ledger: Callable[[str], Ledger]
) -> None:
    import psycopg

    schema = postgres_url.split("schema=", 1)[1]
    ledger = open_ledger(postgres_url)
    ledger.open_account(
        "DP-PG", person_ref="P", council="C", provider="S", effective_date="2026-04-06", actor="a"
    )
    with psycopg.connect(
        "host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3
    ) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        }
    assert tables, f"no tables in schema {schema}"
    assert any("event" in name for name in tables)
