"""Snapshots every 50 events: they exist, and loading from them equals replaying every event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import project_aggregate

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.store import SNAPSHOT_INTERVAL
from dpledger.domain.account import AccountSnapshot, account_uuid
from dpledger.domain.records import AccountStatus, InvoiceStatus

A = LedgerAccount
ACCOUNT = "DP-INT-1"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _fill_to(ledger: Ledger, version: int) -> None:
    """Council payments of 1p, 2p, ... each with its own key, until the account is at version."""
    current = ledger.account(ACCOUNT).version
    for n in range(current + 1, version + 1):
        ledger.receive_council_payment(ACCOUNT, amount=n, idempotency_key=f"fill-{n}", **DAY)


def _snapshots(ledger: Ledger) -> list[Any]:
    snapshots = ledger.application.snapshots
    assert snapshots is not None
    return list(snapshots.get(account_uuid(ACCOUNT)))


def _snapshot_versions(ledger: Ledger) -> list[int]:
    return [s.originator_version for s in _snapshots(ledger)]


def _replayed(ledger: Ledger, lte: int | None = None) -> Any:
    store = ledger.application.repository.event_store
    return project_aggregate(None, store.get(account_uuid(ACCOUNT), lte=lte))


def test_snapshots_are_taken_every_50_events_and_load_identically(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    assert SNAPSHOT_INTERVAL == 50
    ledger = open_ledger(store_url)
    scenario(ledger)  # 19 varied events: invoices, wage run, suspense, corrections, keys
    _fill_to(ledger, 49)
    assert _snapshot_versions(ledger) == []
    _fill_to(ledger, 50)
    assert _snapshot_versions(ledger) == [50]

    # the snapshot holds exactly the state that replaying the first 50 events gives, with the
    # chain head at its version
    (snapshot,) = _snapshots(ledger)
    assert isinstance(snapshot, AccountSnapshot)
    assert snapshot.head == ledger.events(ACCOUNT)[49].digest
    from_snapshot = project_aggregate(None, [snapshot])
    assert from_snapshot.__dict__ == _replayed(ledger, lte=50).__dict__

    _fill_to(ledger, 100)
    assert _snapshot_versions(ledger) == [50, 100]

    # commands after the snapshots build on them, including a correction of an early event
    ledger.pay_invoice(
        ACCOUNT, agency_id="AG-1", invoice_number="INV-7", amount="437.50", **DAY
    )  # v101
    ledger.correct(ACCOUNT, version=13, reason="paid the wrong PA", **DAY)  # v102: net wages
    replay = ledger.receive_council_payment(
        ACCOUNT, amount=30, idempotency_key="fill-30", **DAY
    )  # a key recorded before the first snapshot is still remembered (the key index)
    assert replay.replayed is True
    assert replay.version == 30
    _fill_to(ledger, 105)

    loaded = ledger.load(ACCOUNT)
    assert loaded.version == 105
    assert loaded.__dict__ == _replayed(ledger).__dict__
    state = ledger.account(ACCOUNT)
    filled = sum(range(20, 101)) + sum(range(103, 106))  # pence paid in by the fillers
    assert state.bank_balance == Money("1180.77") - Money("437.50") + Money("246.57") + Money(
        filled
    )
    assert state.invoices["AG-1/INV-7"].status is InvoiceStatus.PAID
    assert state.personal_assistants["PA-1"].net_owed == Money("246.57")
    assert state.owed(A.PA_NET_WAGES_PAYABLE) == Money("246.57")
    assert state.status is AccountStatus.OPEN
    assert ledger.load(ACCOUNT).corrected_by(13) == 102
    assert _snapshot_versions(ledger) == [50, 100]
    assert ledger.verify().ok


def test_a_save_that_crosses_a_multiple_of_50_snapshots_the_saved_aggregate(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    """A batch that writes versions 48 to 52 in one save takes one snapshot, at 52."""
    from dpledger.domain.funds import ReceiveCouncilPayment

    ledger = open_ledger(store_url)
    scenario(ledger)
    _fill_to(ledger, 47)
    batch = [
        ReceiveCouncilPayment.build(
            account_id=ACCOUNT, amount=n, idempotency_key=f"batch-{n}", **DAY
        )
        for n in range(48, 53)
    ]
    report = ledger.execute_many(batch)
    assert [r.version for r in report.receipts] == [48, 49, 50, 51, 52]
    assert _snapshot_versions(ledger) == [52]
    (snapshot,) = _snapshots(ledger)
    assert snapshot.head == ledger.events(ACCOUNT)[51].digest
    assert project_aggregate(None, [snapshot]).__dict__ == _replayed(ledger).__dict__


def test_reopened_store_loads_from_the_snapshot_identically(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(durable_url)
    scenario(first)
    _fill_to(first, 103)
    state = first.account(ACCOUNT)
    first.close()

    again = open_ledger(durable_url)
    assert _snapshot_versions(again) == [50, 100]
    assert again.account(ACCOUNT) == state
    assert again.load(ACCOUNT).__dict__ == _replayed(again).__dict__
    assert again.account(ACCOUNT).version == 103
