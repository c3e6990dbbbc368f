"""Snapshots are never trusted over the history.

A snapshot carries the chain head at its version and a digest of its state. One whose state was
altered is refused on load (the account is rebuilt from its events, so its figures are the
events'), and ``verify`` reports it. A forger who also recomputes the digest passes the load-time
check, so ``verify`` rebuilds the state from the events and compares: it reports that snapshot
too, and ``dpledger verify`` exits 3. Bank accounts' snapshots and event chains are checked alike.
These tests edit the SQLite rows directly, as someone with write access to the database could.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import structlog
from eventsourcing.application import project_aggregate

from dpledger import Ledger, Money
from dpledger.domain.account import account_uuid
from dpledger.domain.bank import bank_account_uuid
from dpledger.domain.funds import Funds
from dpledger.errors import InsufficientFunds

ACCOUNT = "DP-SNAP"
BANK = "30-99-50 12345678"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}
REAL_BANK = Money("500.00") + Money(sum(range(3, 53)))  # the council payment and contributions
FORGED = 1_000_000  # pence the forger adds to the bank
DPLEDGER = Path(sys.executable).with_name("dpledger")


# ----------------------------------------------------------------------------- helpers
@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store with one account at version 52: a snapshot at 50, two events after it."""
    path = tmp_path / "snap.sqlite"
    with Ledger.sqlite(path) as ledger:
        ledger.open_account(ACCOUNT, person_ref="P-1", council="Kent", provider="SOLO", **DAY)
        ledger.receive_council_payment(ACCOUNT, amount="500.00", **DAY)
        for n in range(3, 53):
            ledger.receive_contribution(ACCOUNT, amount=n, **DAY)
        assert snapshot_versions(ledger, account_uuid(ACCOUNT)) == [50]
        assert ledger.verify().snapshots_checked == 1
    return path


def snapshot_versions(ledger: Ledger, uuid: UUID) -> list[int]:
    snapshots = ledger.application.snapshots
    assert snapshots is not None
    return [s.originator_version for s in snapshots.get(uuid)]


def edit_snapshot(
    path: Path,
    uuid: UUID,
    change: Callable[[Any], None],
    *,
    recompute_digest: bool,
    outer: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Change the state held in ``uuid``'s latest snapshot row (a JSON text inside the row's
    JSON) with ``change``; keep its digest, or recompute it as a careful forger would. Returns
    the snapshot's version."""
    with sqlite3.connect(path) as db:
        version, raw = db.execute(
            "SELECT originator_version, state FROM stored_snapshots WHERE originator_id = ?"
            " ORDER BY originator_version DESC LIMIT 1",
            (uuid.hex,),
        ).fetchone()
        row = json.loads(raw)
        held = row["state"]
        state = json.loads(held["state"])
        change(state)
        held["state"] = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
        if recompute_digest:
            held["state_digest"] = hashlib.sha256(held["state"].encode()).hexdigest()
        if outer is not None:
            outer(held)
        db.execute(
            "UPDATE stored_snapshots SET state = ?"
            " WHERE originator_id = ? AND originator_version = ?",
            (json.dumps(row, separators=(",", ":")).encode(), uuid.hex, version),
        )
    return int(version)


def raise_the_bank(state: Any) -> None:
    """Add :data:`FORGED` pence to the account's bank, balanced against council income, in the
    balances and in the day-by-day bank movements the funds check reads."""
    names = [f.name for f in dataclasses.fields(Funds)]
    funds = state["parts"][1]
    balances, days = funds[names.index("balances")], funds[names.index("bank_days")]
    balances["assets:bank"] += FORGED
    balances["income:council"] -= FORGED
    days[DAY["effective_date"]] += FORGED


def cli_verify(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DPLEDGER_")}
    return subprocess.run(
        [str(DPLEDGER), "verify", *args, "--store", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


def refusals(logs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [
        (entry["aggregate_id"], entry["version"])
        for entry in logs
        if entry["event"] == "snapshot.refused" and entry["log_level"] == "warning"
    ]


# ----------------------------------------------------------------------------- managed accounts
def test_an_altered_snapshot_is_refused_on_load_and_reported_by_verify(
    store: Path, logs: list[dict[str, Any]]
) -> None:
    version = edit_snapshot(store, account_uuid(ACCOUNT), raise_the_bank, recompute_digest=False)
    assert version == 50
    with Ledger.sqlite(store) as ledger:
        # the figures come from the events: the forged £10,000 is not there to spend
        assert ledger.load(ACCOUNT).bank_balance == REAL_BANK  # loads the aggregate
        with pytest.raises(InsufficientFunds):
            ledger.pay_care_plan_spend(
                ACCOUNT, category="insurance", amount="600.00", description="EL cover", **DAY
            )
        assert refusals(logs)[0] == (str(account_uuid(ACCOUNT)), 50)
        assert (
            ledger.load(ACCOUNT).__dict__
            == project_aggregate(
                None, ledger.application.events.get(account_uuid(ACCOUNT))
            ).__dict__
        )

        report = ledger.verify()
        assert not report.ok
        ((name, at, reason),) = [(b.account_id, b.version, b.reason) for b in report.broken]
        assert (name, at) == (ACCOUNT, 50)
        assert "does not match its digest" in reason
        assert report.events_checked == 52
        assert not ledger.verify(ACCOUNT).ok

        # the next save replaces the snapshot in use; the altered one stays, as evidence
        ledger.receive_contribution(ACCOUNT, amount="1.00", **DAY)
        assert snapshot_versions(ledger, account_uuid(ACCOUNT)) == [50, 53]
        assert [b.version for b in ledger.verify().broken] == [50]
    done = cli_verify(store)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"{ACCOUNT} at version 50" in done.stdout


def test_a_snapshot_altered_with_its_digest_recomputed_is_reported_by_verify(
    store: Path,
) -> None:
    edit_snapshot(store, account_uuid(ACCOUNT), raise_the_bank, recompute_digest=True)
    with Ledger.sqlite(store) as ledger:
        report = ledger.verify(ACCOUNT)
        assert [(b.account_id, b.version) for b in report.broken] == [(ACCOUNT, 50)]
        assert "not the state its events rebuild" in report.broken[0].reason
        assert report.snapshots_checked == 1
        # the auditor's replay folds the events themselves, never a snapshot
        assert ledger.replay(ACCOUNT, "2026-04-06").bank == REAL_BANK
    done = cli_verify(store, "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is False


def test_a_snapshot_carrying_another_chain_head_is_refused_and_reported(
    store: Path, logs: list[dict[str, Any]]
) -> None:
    with Ledger.sqlite(store) as ledger:
        earlier = ledger.events(ACCOUNT)[48].digest  # the digest of event 49, not 50

    def other_head(held: dict[str, Any]) -> None:
        held["head"] = earlier

    edit_snapshot(
        store, account_uuid(ACCOUNT), lambda state: None, recompute_digest=False, outer=other_head
    )
    with Ledger.sqlite(store) as ledger:
        assert ledger.load(ACCOUNT).bank_balance == REAL_BANK  # loads the aggregate
        assert refusals(logs) == [(str(account_uuid(ACCOUNT)), 50)]
        (broken,) = ledger.verify().broken
        assert broken.version == 50
        assert "stored event's digest at its version" in broken.reason


def test_a_snapshot_that_cannot_even_be_decoded_is_refused_not_a_crash(
    store: Path, logs: list[dict[str, Any]]
) -> None:
    with sqlite3.connect(store) as db:
        db.execute("UPDATE stored_snapshots SET state = ?", (b"{not json",))
    with Ledger.sqlite(store) as ledger:
        assert ledger.load(ACCOUNT).bank_balance == REAL_BANK  # loads the aggregate
        assert refusals(logs) == [(str(account_uuid(ACCOUNT)), 50)]
        (broken,) = ledger.verify().broken
        assert (broken.version, "cannot be read" in broken.reason) == (50, True)


def test_a_snapshot_naming_another_kind_of_aggregate_is_refused_and_reported(
    store: Path, logs: list[dict[str, Any]]
) -> None:
    with sqlite3.connect(store) as db:
        (raw,) = db.execute("SELECT state FROM stored_snapshots").fetchone()
        row = json.loads(raw)
        row["topic"] = "dpledger.domain.bank:BankAccount"  # outside the digest
        db.execute("UPDATE stored_snapshots SET state = ?", (json.dumps(row).encode(),))
    with Ledger.sqlite(store) as ledger:
        assert ledger.load(ACCOUNT).bank_balance == REAL_BANK  # loads the aggregate
        assert refusals(logs) == [(str(account_uuid(ACCOUNT)), 50)]
        (broken,) = ledger.verify().broken
        assert "its events are of dpledger.domain.account:ManagedAccount" in broken.reason


def test_a_snapshot_beyond_the_stored_events_exposes_a_truncated_history(
    store: Path, logs: list[dict[str, Any]]
) -> None:
    """Events cut from the end leave an intact chain (only a seal would notice), but the
    snapshot at 50 still names a version the store no longer holds."""
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM stored_events WHERE originator_version > 48")
    with Ledger.sqlite(store) as ledger:
        assert ledger.account(ACCOUNT).version == 48
        assert refusals(logs) == [(str(account_uuid(ACCOUNT)), 50)]
        (broken,) = ledger.verify().broken
        assert broken.version == 50
        assert "beyond the stored events, which end at version 48" in broken.reason


# ----------------------------------------------------------------------------- bank accounts
@pytest.fixture
def bank_store(tmp_path: Path) -> Path:
    """An account whose 60-line statement takes its bank account past a snapshot."""
    from dpledger.adapters.bankfeeds import BankFormat, BankStatement, BankTransaction, Direction

    path = tmp_path / "bank.sqlite"
    lines = tuple(
        BankTransaction(
            booking_date=date(2026, 4, 7),
            amount=Money(100 + n),
            direction=Direction.CREDIT,
            description=f"TRANSFER {n}",
            bank_reference=f"R{n}",
            reference_is_unique=True,  # the bank's own reference: the line's key
            source_location=f"line {n + 2}",
        )
        for n in range(60)
    )
    statement = BankStatement(
        source_file="april.csv", format=BankFormat.CSV, currency="GBP", transactions=lines
    )
    with Ledger.sqlite(path) as ledger:
        ledger.open_account(
            ACCOUNT, person_ref="P-1", council="Kent", provider="SOLO", bank_account=BANK, **DAY
        )
        ledger.import_statement(ACCOUNT, statement, actor="importer")
        key = ledger.account(ACCOUNT).bank_account
        assert key == BANK
        assert snapshot_versions(ledger, bank_account_uuid(BANK)) == [61]
        report = ledger.verify()
        assert report.ok, report.broken
        assert (report.accounts_checked, report.snapshots_checked) == (2, 2)
    return path


def raise_a_line(state: Any) -> None:
    """Raise the amount of one booked line in the bank account's book."""
    (lines,) = [part for part in state["book"] if isinstance(part, dict) and "ref:R0" in part]
    record = lines["ref:R0"]
    (at,) = [i for i, value in enumerate(record) if value == 100]  # R0's 100 pence
    record[at] = 100 + FORGED


@pytest.mark.parametrize("recompute_digest", [False, True])
def test_an_altered_bank_account_snapshot_is_reported_by_verify(
    bank_store: Path, logs: list[dict[str, Any]], recompute_digest: bool
) -> None:
    uuid = bank_account_uuid(BANK)
    edit_snapshot(bank_store, uuid, raise_a_line, recompute_digest=recompute_digest)
    with Ledger.sqlite(bank_store) as ledger:
        loaded = ledger.application.repository.get(uuid)
        if not recompute_digest:  # refused on load: the book is the events'
            assert refusals(logs) == [(str(uuid), 61)]
            replayed = project_aggregate(None, ledger.application.events.get(uuid))
            assert loaded.dump() == replayed.dump()
        expected = "does not match its digest" if not recompute_digest else "events rebuild"
        for report in (ledger.verify(), ledger.verify(ACCOUNT)):
            ((name, at, reason),) = [(b.account_id, b.version, b.reason) for b in report.broken]
            assert (name, at) == (f"bank account {BANK}", 61)
            assert expected in reason
    done = cli_verify(bank_store)
    assert done.returncode == 3
    assert f"bank account {BANK} at version 61" in done.stdout


def test_a_bank_accounts_own_event_chain_is_verified(bank_store: Path) -> None:
    uuid = bank_account_uuid(BANK)
    with sqlite3.connect(bank_store) as db:
        (raw,) = db.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 7",
            (uuid.hex,),
        ).fetchone()
        assert b'"line_key":"' in raw
        edited = raw.replace(b'"line_key":"ref:R', b'"line_key":"ref:X', 1)
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 7",
            (edited, uuid.hex),
        )
    with Ledger.sqlite(bank_store) as ledger:
        for report in (ledger.verify(), ledger.verify(ACCOUNT)):
            # one link: the managed account's chain holds, and the bank account's snapshot
            # (at 61, after the broken link) is not rebuilt from events that cannot vouch for it
            (broken,) = report.broken
            assert (broken.account_id, broken.version) == (f"bank account {BANK}", 7)
            assert "does not match its recorded digest" in broken.reason


def test_verify_names_each_aggregate_once_and_seals_hold_with_bank_accounts(
    bank_store: Path,
) -> None:
    """A bank account's lines carry the managed account's id: verify must not take the bank
    account for the managed account (a seal of the account was once checked against the bank
    account's chain and reported as events removed)."""
    with Ledger.sqlite(bank_store, seal_key="auditor") as ledger:
        seal = ledger.seal(ACCOUNT)
        report = ledger.verify(seals=[seal])
        assert report.ok, report.broken
        assert report.accounts_checked == 2
        assert [r.account_id for r in ledger.replay_store("2026-04-30")] == [ACCOUNT]


def test_a_bank_accounts_removed_last_events_are_exposed_by_its_seal(bank_store: Path) -> None:
    """A chain alone cannot show its last events removed; a seal can, for a bank account (the
    balances its statements stated) as for a managed account."""
    with Ledger.sqlite(bank_store, seal_key="auditor") as ledger:
        seals = ledger.seals()
        assert [s.account_id for s in seals] == [ACCOUNT, f"bank account {BANK}"]
        assert ledger.seals(ACCOUNT) == seals
        assert all(s.mac is not None for s in seals)
        assert ledger.seal(f"bank account {BANK}").version == 61
    with sqlite3.connect(bank_store) as db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 61",
            (bank_account_uuid(BANK).hex,),
        )
        db.execute("DELETE FROM stored_snapshots")
    with Ledger.sqlite(bank_store, seal_key="auditor") as ledger:
        assert ledger.verify().ok  # the chain itself still holds
        (broken,) = ledger.verify(seals=seals).broken
        assert (broken.account_id, broken.version) == (f"bank account {BANK}", 61)
        assert "events were removed" in broken.reason


def test_a_sealed_bank_account_removed_whole_is_exposed(bank_store: Path) -> None:
    with Ledger.sqlite(bank_store, seal_key="auditor") as ledger:
        seals = ledger.seals(ACCOUNT)
    with sqlite3.connect(bank_store) as db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ?", (bank_account_uuid(BANK).hex,)
        )
    with Ledger.sqlite(bank_store, seal_key="auditor") as ledger:
        for report in (ledger.verify(seals=seals), ledger.verify(ACCOUNT, seals=seals)):
            names = [(b.account_id, b.version) for b in report.broken]
            assert (f"bank account {BANK}", 61) in names
