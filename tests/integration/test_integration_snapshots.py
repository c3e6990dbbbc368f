"""Snapshots every 100 events: they exist, and loading from them equals replaying every event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import project_aggregate

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.store import SNAPSHOT_INTERVAL
from dpledger.domain.account import account_uuid
from dpledger.domain.records import AccountStatus, InvoiceStatus

A = LedgerAccount
ACCOUNT = "DP-INT-1"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _fill_to(ledger: Ledger, version: int) -> None:
    """Council payments of 1p, 2p, ... each with its own key, until the account is at version."""
    current = ledger.account(ACCOUNT).version
    for n in range(current + 1, version + 1):
        ledger.receive_council_payment(ACCOUNT, amount=n, idempotency_key=f"fill-{n}", **DAY)


def _snapshot_versions(ledger: Ledger) -> list[int]:
    snapshots = ledger.application.snapshots
    assert snapshots is not None
    return [s.originator_version for s in snapshots.get(account_uuid(ACCOUNT))]


def _replayed(ledger: Ledger, lte: int | None = None) -> Any:
    store = ledger.application.repository.event_store
    return project_aggregate(None, store.get(account_uuid(ACCOUNT), lte=lte))


def test_snapshot_is_taken_at_100_and_loads_identically(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    assert SNAPSHOT_INTERVAL == 100
    ledger = open_ledger(store_url)
    scenario(ledger)  # 19 varied events: invoices, wage run, suspense, corrections, keys
    _fill_to(ledger, 99)
    assert _snapshot_versions(ledger) == []
    _fill_to(ledger, 100)
    assert _snapshot_versions(ledger) == [100]

    # the snapshot holds exactly the state that replaying the first 100 events gives
    snapshots = ledger.application.snapshots
    assert snapshots is not None
    snapshot = next(iter(snapshots.get(account_uuid(ACCOUNT))))
    from_snapshot = project_aggregate(None, [snapshot])
    assert from_snapshot.__dict__ == _replayed(ledger, lte=100).__dict__

    # commands after the snapshot build on it, including a correction of a pre-snapshot event
    ledger.pay_invoice(
        ACCOUNT, agency_id="AG-1", invoice_number="INV-7", amount="437.50", **DAY
    )  # v101
    ledger.correct(ACCOUNT, version=13, reason="paid the wrong PA", **DAY)  # v102: net wages
    replay = ledger.receive_council_payment(
        ACCOUNT, amount=50, idempotency_key="fill-50", **DAY
    )  # a key recorded before the snapshot is still remembered
    assert replay.replayed is True
    assert replay.version == 50
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
    assert _snapshot_versions(ledger) == [100]


def test_reopened_store_loads_from_the_snapshot_identically(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(durable_url)
    scenario(first)
    _fill_to(first, 103)
    state = first.account(ACCOUNT)
    first.close()

    again = open_ledger(durable_url)
    assert _snapshot_versions(again) == [100]
    assert again.account(ACCOUNT) == state
    assert again.load(ACCOUNT).__dict__ == _replayed(again).__dict__
    assert again.account(ACCOUNT).version == 103
