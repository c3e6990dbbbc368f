"""Statements 0.1 imported, imported again into its store opened by this version.

``tests/fixtures/legacy/store_v0_1.sqlite`` was written by 0.1, which kept bank lines on the
managed account: each line's money event carries the idempotency key ``bank:<dedup key>`` with
the digest of the line, balances the key ``balance:<day>:<pence>``, and the pending lines a
``PendingBankLinesSeen`` event. There is no bank account aggregate in it. Importing the same
statements again must record nothing at all (no line, no balance, no pending set, no bank
account, no ``BankAccountNamed``); a changed line must still be refused. The statements are
rebuilt by the very builders that wrote them (``generate_v0_1.py``, ``audit_scenario.py``).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from dpledger import Ledger, Money
from dpledger.application.session import Session
from dpledger.errors import IdempotencyConflict

TESTS = Path(__file__).resolve().parents[1]
LEGACY = TESTS / "fixtures" / "legacy"
LONG = "DP-LONG"
AUDIT = "DP-AUDIT"
NATWEST = "60-16-13 31926819"
"""The bank account of the generator's camt.053 statements (GB29NWBK60161331926819)."""


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


generator = _module("legacy_generate_v0_1", LEGACY / "generate_v0_1.py")
audit = _module("legacy_audit_scenario", TESTS / "audit" / "audit_scenario.py")


def long_statements(folder: Path) -> list[Path]:
    """DP-LONG's statement files, as ``record_long`` wrote and imported them, in its order."""
    entry, camt = generator.Entry, generator.camt
    paths = []
    day = date(2024, 4, 1)
    for cycle in (5, 11, 17, 23):  # every sixth cycle's money came from the bank
        start, tag = day + timedelta(days=28 * cycle), f"{cycle:02d}"
        entries = [
            entry(108000, start.isoformat(), f"LCC-{tag}", "LEGACY CC DIRECT PAYMENT"),
            entry(12000, (start + timedelta(days=1)).isoformat(), f"CON-{tag}", "P900 CONTRIB"),
        ]
        path = folder / f"in-{tag}.xml"
        path.write_bytes(camt(entries, stmt=f"IN-{tag}"))
        paths.append(path)
    march = [
        entry(-50000, "2025-03-03", "OC-11", "OAK CARE OC-11"),
        entry(-1250, "2025-03-12", "FEE-1", "BANK CHARGE"),
        entry(-4000, "2025-03-13", "DD-9", "UNKNOWN DD"),
        entry(-2200, "2025-03-14", "DD-10", "SHOP"),
        entry(4000, "2025-03-20", "DD-9R", "UNKNOWN DD RETURNED", reversal=True),
        entry(-999, "2025-03-25", None, "CARD PENDING", status="PDNG"),
    ]
    path = folder / "march.xml"
    path.write_bytes(camt(march, closing=(123456, "2025-03-21"), stmt="MAR-25"))
    paths.append(path)
    return paths


def audit_statement(folder: Path) -> Path:
    """DP-AUDIT's May statement (a Lloyds CSV with running balances), as the scenario wrote it."""
    path = folder / "may.csv"
    path.write_bytes(
        audit.lloyds_csv(
            [
                ("2026-05-08", "BANK CHARGE", -750, 49_250),
                ("2026-05-11", "UNKNOWN DD 4471", -1999, 47_251),
            ]
        )
    )
    return path


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[Ledger]:
    """The 0.1 store, copied (never opened in place), opened by this version."""
    store = tmp_path / "store_v0_1.sqlite"
    shutil.copyfile(LEGACY / "store_v0_1.sqlite", store)
    with Ledger(f"sqlite:///{store}") as ledger:
        yield ledger


def stored_events(ledger: Ledger) -> int:
    """How many events the store holds, of every aggregate."""
    return len(ledger.application.recorder.select_notifications(start=1, limit=100_000))


def test_statements_0_1_imported_record_nothing_when_imported_again(
    legacy: Ledger, tmp_path: Path
) -> None:
    files = long_statements(tmp_path)
    before = stored_events(legacy)
    long_version = legacy.account(LONG).version
    audit_version = legacy.account(AUDIT).version

    reports = [legacy.import_bank_file(LONG, path, actor="clerk-2") for path in files]
    reports += [legacy.import_bank_file(LONG, path, actor="clerk-2") for path in reversed(files)]
    reports.append(legacy.import_bank_file(AUDIT, audit_statement(tmp_path), actor="clerk-2"))

    for report in reports:
        assert report.nothing_new, report.render()
        assert not report.pending_changed
        assert all(line.status in ("already imported", "pending") for line in report.lines)
        assert all(balance.status == "already imported" for balance in report.balances)
    march = reports[4]
    assert [line.status for line in march.lines].count("already imported") == 5
    # each line names the event 0.1 recorded it with: DD-9R's reversal of DD-9 is version 200
    reversal = next(line for line in march.lines if line.key == "ref:DD-9R")
    assert reversal.reason == "recorded before (event 200)"
    assert type(legacy.events(LONG)[200 - 1]).__name__ == "EntryCorrected"
    assert stored_events(legacy) == before
    assert legacy.account(LONG).version == long_version
    assert legacy.account(AUDIT).version == audit_version
    assert legacy.account(LONG).bank_account is None  # nothing new: nothing named
    assert Session(legacy.application).bank(NATWEST) is None  # nor a bank account opened


def test_a_line_0_1_imported_is_refused_when_it_comes_back_changed(
    legacy: Ledger, tmp_path: Path
) -> None:
    changed = generator.camt(
        [generator.Entry(108001, "2024-08-19", "LCC-05", "LEGACY CC DIRECT PAYMENT")],
        stmt="IN-05",
    )
    path = tmp_path / "changed.xml"
    path.write_bytes(changed)
    before = stored_events(legacy)
    with pytest.raises(IdempotencyConflict, match="bank line ref:LCC-05 was imported before"):
        legacy.import_bank_file(LONG, path, actor="clerk-2")
    assert stored_events(legacy) == before


def test_the_first_new_statement_opens_the_bank_account_and_carries_0_1_pending_over(
    legacy: Ledger, tmp_path: Path
) -> None:
    # A later statement with one new line and the same pending line 0.1 noted, as of 2025-03-25
    new = generator.camt(
        [
            generator.Entry(-300, "2025-03-25", "FEE-2", "BANK CHARGE"),
            generator.Entry(-999, "2025-03-25", None, "CARD PENDING", status="PDNG"),
        ],
        stmt="MAR-25B",
    )
    path = tmp_path / "late-march.xml"
    path.write_bytes(new)
    version = legacy.account(LONG).version

    report = legacy.import_bank_file(LONG, path, actor="clerk-2")

    assert [line.status for line in report.lines] == ["pending", "recorded"]
    assert not report.pending_changed  # the same set 0.1 held
    kinds = [type(e).__name__ for e in legacy.events(LONG)[version:]]
    assert kinds == ["BankAccountNamed", "UnexpectedOutgoingRecorded"]
    assert legacy.account(LONG).bank_account == NATWEST
    bank = Session(legacy.application).bank(NATWEST)
    assert bank is not None
    (carried,) = bank.pending.values()
    assert (carried.amount, carried.booking_date) == (Money("-9.99"), date(2025, 3, 25))
    assert bank.book.pending_as_of == date(2025, 3, 25)
    # and 0.1's statements still record nothing, now that the bank account exists
    for again in long_statements(tmp_path):
        assert legacy.import_bank_file(LONG, again, actor="clerk-2").nothing_new
