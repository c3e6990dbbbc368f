"""A store written before events had class versions, opened by today's code: the same answers,
and the event that evolved since (``UnexpectedIncomeRefunded`` v2) reads, replays and verifies.

``tests/fixtures/legacy/store_v0_2_dev.sqlite`` was written by main at 6e0850a
(``generate_v0_2_dev.py``): the demo year, ``DP-1`` with every kind of event there was, ``DP-2``
with a refund under an idempotency key. ``expected_v0_2_dev.json`` holds what that version
answered. Each test opens a copy. The 0.1 store (``test_legacy_store.py``) holds refunds too;
the last test checks they are upcast there and still verify.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dpledger import Ledger
from dpledger.domain.chain import AS_WRITTEN, event_digest
from dpledger.domain.suspense import UnexpectedIncomeRefunded
from dpledger.readside import Seal

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
STORE = LEGACY / "store_v0_2_dev.sqlite"
EXPECTED: dict[str, Any] = json.loads((LEGACY / "expected_v0_2_dev.json").read_text())
ACCOUNTS: dict[str, Any] = EXPECTED["accounts"]
SEAL_KEY = EXPECTED["seal_key"]
WHO = {"actor": "officer-today"}
REFUNDED = "dpledger.domain.events:UnexpectedIncomeRefunded"


def copy_of(store: Path, folder: Path) -> Path:
    target = folder / store.name
    shutil.copyfile(store, target)
    return target


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with Ledger.sqlite(copy_of(STORE, tmp_path_factory.mktemp("v02")), seal_key=SEAL_KEY) as ledger:
        yield ledger


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.sqlite(copy_of(STORE, tmp_path), seal_key=SEAL_KEY) as ledger:
        yield ledger


def every_seal() -> list[Seal]:
    given = [a["seal"] for a in ACCOUNTS.values()] + EXPECTED["bank_account_seals"]
    return [Seal.from_dict(s) for s in given]


def stored_states(path: Path) -> dict[tuple[str, int], bytes]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT originator_id, originator_version, state FROM stored_events")
        return {(str(i), int(v)): bytes(s) for i, v, s in rows}


# ----------------------------------------------------------------------------- its answers
def test_every_account_and_every_kind_of_event_is_there(legacy: Ledger) -> None:
    assert sorted(legacy.account_ids()) == sorted(ACCOUNTS)
    kinds = {type(e).__name__ for name in ACCOUNTS for e in legacy.events(name)}
    banks = [s["account_id"] for s in EXPECTED["bank_account_seals"]]
    for name in banks:
        uuid = _bank_uuid(name)
        kinds |= {type(e).__name__ for e in legacy.application.events.get(uuid)}
    assert sorted(kinds) == EXPECTED["event_types"]
    assert "UnexpectedIncomeRefunded" in kinds


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_the_history_and_the_figures_are_the_writers(legacy: Ledger, name: str) -> None:
    expected = ACCOUNTS[name]
    state = legacy.account(name)
    events = legacy.events(name)
    assert state.version == expected["version"] == len(events)
    assert state.status.value == expected["status"]
    assert [type(e).__name__ for e in events] == expected["event_types"]
    assert [e.digest for e in events] == expected["digests"]
    assert [event_digest(e) for e in events] == expected["digests"]
    middle, last = date.fromisoformat(expected["middle"]), date.fromisoformat(expected["last"])
    assert {a.value: m.pence for a, m in state.balances.items()} == expected["balances"]
    assert {a.value: m.pence for a, m in legacy.balances_as_of(name, middle).items()} == expected[
        "balances_middle"
    ]
    assert legacy.bank_balance(name).pence == expected["bank_balance"]
    assert legacy.surplus(name, last).pence == expected["surplus_last"]
    assert {k: i.status.value for k, i in state.suspense_items.items()} == expected["suspense"]
    assert legacy.seal(name).as_dict() == expected["seal"]


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_replay_folds_the_events_to_the_writers_balances(legacy: Ledger, name: str) -> None:
    expected = ACCOUNTS[name]
    for day, balances in (("last", "balances"), ("middle", "balances_middle")):
        replay = legacy.replay(name, expected[day])
        assert replay.projection_agrees
        assert {a.value: m.pence for a, m in replay.balances.items()} == expected[balances]


def test_the_pools_and_the_bank_accounts_are_the_writers(legacy: Ledger) -> None:
    for key, expected in EXPECTED["pools"].items():
        position = legacy.pool_position(key)
        assert position.adds_up
        assert position.balance.pence == expected["balance"]
        assert {k: m.pence for k, m in position.shares.items()} == expected["shares"]
        assert position.unallocated.pence == expected["unallocated"]
        assert position.held_lines == expected["held_lines"]
    banks = [s for s in legacy.seals() if s.account_id.startswith("bank account ")]
    assert [s.as_dict() for s in banks] == EXPECTED["bank_account_seals"]


def test_the_store_verifies_with_the_writers_seals(legacy: Ledger) -> None:
    report = legacy.verify(seals=every_seal())
    assert report.ok, report.broken
    expected = EXPECTED["verify"]
    assert expected["ok"] is True
    assert report.accounts_checked == expected["accounts_checked"]
    assert report.events_checked == expected["events_checked"]
    assert report.snapshots_checked == expected["snapshots_checked"]
    assert report.snapshots_not_checked == expected["snapshots_not_checked"]


# ----------------------------------------------------------------------------- the evolution
def test_its_refunds_were_stored_at_version_1_and_read_at_version_2(legacy: Ledger) -> None:
    with sqlite3.connect(f"file:{STORE}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT state FROM stored_events WHERE topic = ?", (REFUNDED,))
        stored = [json.loads(state) for (state,) in rows]
    assert len(stored) == 3
    assert not any("class_version" in s or "bank_reference" in s for s in stored)
    refunds = [
        e for name in ACCOUNTS for e in legacy.events(name) if type(e) is UnexpectedIncomeRefunded
    ]
    assert sorted(e.digest for e in refunds) == sorted(s["digest"] for s in stored)
    for refund in refunds:
        assert refund.bank_reference is None
        assert refund.__dict__[AS_WRITTEN]["digest"] == refund.digest


def test_the_refund_retried_with_its_key_is_replayed(writable: Ledger) -> None:
    """The command gained a field; sent again as before, it is the same command."""
    refund = EXPECTED["refund"]
    retry = writable.refund_unexpected_income("DP-2", **refund["command"])
    assert retry.replayed is True
    assert (retry.version, retry.event.digest) == (refund["version"], refund["digest"])
    assert writable.account("DP-2").version == ACCOUNTS["DP-2"]["version"]


def test_new_refunds_carry_a_reference_beside_the_old_ones_and_nothing_old_is_rewritten(
    writable: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / STORE.name
    before = stored_states(path)
    item = writable.receive_unexpected_income(
        "DP-1001", amount="12.00", description="not ours", effective_date="2026-04-01", **WHO
    ).event.item_id
    refund = writable.refund_unexpected_income(
        "DP-1001", item_id=item, bank_reference="RTN-12", effective_date="2026-04-02", **WHO
    )
    assert refund.event.bank_reference == "RTN-12"
    after = stored_states(path)
    assert {k: after[k] for k in before} == before
    (new,) = [json.loads(s) for k, s in after.items() if k not in before and b"RTN-12" in s]
    assert (new["class_version"], new["bank_reference"]) == (2, "RTN-12")
    expected = ACCOUNTS["DP-1001"]
    assert writable.bank_balance("DP-1001").pence == expected["bank_balance"]
    report = writable.verify(seals=every_seal())
    assert report.ok, report.broken
    assert report.events_checked == EXPECTED["verify"]["events_checked"] + 2
    last = writable.account("DP-1001").version
    assert writable.replay("DP-1001", "2026-04-02").projection_agrees
    entry = writable.audit_trail("DP-1001")[-1]
    assert (entry.version, entry.details["bank_reference"]) == (last, "RTN-12")
    assert "(ref RTN-12)" in UnexpectedIncomeRefunded.describe(entry.details)


def test_an_old_refund_edited_in_the_store_is_still_caught(tmp_path: Path) -> None:
    path = copy_of(STORE, tmp_path)
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT originator_id, originator_version, state FROM stored_events WHERE topic = ?",
            (REFUNDED,),
        )
        ((uuid, version, state),) = [row for row in rows if b"refund-dp2-1" in row[2]]
        for edit in (
            state.replace(b"[4000,", b"[400,"),  # the amount
            state.replace(b'"item_id"', b'"bank_reference":null,"item_id"'),  # today's shape
        ):
            db.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                "originator_version = ?",
                (edit, uuid, version),
            )
            db.commit()
            with Ledger.sqlite(path, seal_key=SEAL_KEY) as ledger:
                (broken,) = ledger.verify().broken
            assert (broken.account_id, broken.version) == ("DP-2", version)


def test_an_account_with_old_refunds_exports_and_imports_as_stored(
    legacy: Ledger, tmp_path: Path
) -> None:
    history = tmp_path / "dp1.jsonl"
    legacy.export_history(history, ["DP-1001"])
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    (refund,) = [x for x in lines if x.get("event_type") == "UnexpectedIncomeRefunded"]
    assert "bank_reference" not in refund["state"]  # as stored: version 1
    with Ledger.sqlite(tmp_path / "other.sqlite") as other:
        other.import_history(history)
        assert [e.digest for e in other.events("DP-1001")] == ACCOUNTS["DP-1001"]["digests"]
        assert other.verify().ok
    ours = stored_states(STORE)
    theirs = stored_states(tmp_path / "other.sqlite")
    assert all(ours[k] == v for k, v in theirs.items() if k in ours)


def test_the_0_1_stores_refunds_are_upcast_and_verify(tmp_path: Path) -> None:
    v01 = LEGACY / "store_v0_1.sqlite"
    expected = json.loads((LEGACY / "expected_v0_1.json").read_text())
    with Ledger.sqlite(copy_of(v01, tmp_path), seal_key=expected["seal_key"]) as ledger:
        refunds = [
            e
            for name in ledger.account_ids()
            for e in ledger.events(name)
            if type(e) is UnexpectedIncomeRefunded
        ]
        assert refunds
        assert all(e.bank_reference is None and AS_WRITTEN in e.__dict__ for e in refunds)
        seals = [Seal.from_dict(a["seal"]) for a in expected["accounts"].values()]
        assert ledger.verify(seals=seals).ok


def _bank_uuid(name: str) -> Any:
    from dpledger.domain.bank import bank_account_uuid

    return bank_account_uuid(name.removeprefix("bank account "))
