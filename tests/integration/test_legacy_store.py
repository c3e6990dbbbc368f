"""A store written by dpledger 0.1, opened by today's code: the same answers, and it keeps working.

``tests/fixtures/legacy/store_v0_1.sqlite`` was written by 0.1 (``generate_v0_1.py``, kept for the
record) and ``expected_v0_1.json`` holds what 0.1 answered about it. Each test opens a copy (the
fixture itself is never written) and checks today's answers against 0.1's: versions, event types
and digests, balances now and at the middle date, surplus and contingency, the documents, the
breaks, missing payments, warnings, seals, verification, replay and the audit sheet's text.

One difference is deliberate: an account keeps only a recent window of settled documents (see
``dpledger.domain.window``: settled more than 400 days before its latest effective date, as of
its last compaction at a multiple of 50 versions, they leave the state). 0.1 kept every document,
so ``account().invoices`` of ``DP-LONG`` (210 events over two years) no longer lists the nine
invoices paid before 2025-01-02; every event, balance and statement line is still there, and the
key index still refuses their numbers.

Then it keeps working: a retry with a key 0.1 recorded is replayed, numbers 0.1 used are refused,
new commands are recorded with snapshots of today's kind, 0.1's snapshots are never used (nor
called tampering), and the key index is built from the history exactly once.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dpledger import Ledger, Money
from dpledger.adapters import keyindex
from dpledger.adapters.store import DpledgerApplication
from dpledger.domain.account import AccountSnapshot, account_uuid
from dpledger.domain.keys import index_changes
from dpledger.domain.window import COMPACT_EVERY, RECENT_DAYS
from dpledger.errors import (
    AccountClosed,
    DuplicateInvoice,
    DuplicateWageRun,
    IdempotencyConflict,
    InvalidTransition,
)
from dpledger.readside import Seal
from dpledger.reporting.statement import Statement
from dpledger.reporting.text import WIDTH, render_statement

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
STORE = LEGACY / "store_v0_1.sqlite"
EXPECTED: dict[str, Any] = json.loads((LEGACY / "expected_v0_1.json").read_text())
ACCOUNTS: dict[str, Any] = EXPECTED["accounts"]
SEAL_KEY = EXPECTED["seal_key"]
GENERATED_AT = datetime(2026, 8, 1, tzinfo=UTC)  # what the generator passed to statement()
WHO = {"actor": "officer-today"}
# The 0.1 snapshots in the fixture: DP-LONG at 100 and 200, DP-1003 at 100.
LEGACY_SNAPSHOTS = 3


def copy_of_the_store(folder: Path) -> Path:
    target = folder / "store_v0_1.sqlite"
    shutil.copyfile(STORE, target)
    return target


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A copy of the 0.1 store, opened once by today's code, for the tests that only read."""
    with Ledger.sqlite(
        copy_of_the_store(tmp_path_factory.mktemp("legacy")), seal_key=SEAL_KEY
    ) as ledger:
        yield ledger


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[Ledger]:
    """A copy of the 0.1 store of its own, for a test that records."""
    with Ledger.sqlite(copy_of_the_store(tmp_path), seal_key=SEAL_KEY) as ledger:
        yield ledger


def window_cutoff(events: list[Any]) -> date:
    """The first day of the recent window the account kept at its last compaction: 400 days
    before the latest effective date among its events up to the last multiple of 50."""
    compacted = len(events) // COMPACT_EVERY * COMPACT_EVERY
    if compacted == 0:
        return date.min
    return max(e.effective_date for e in events[:compacted]) - timedelta(days=RECENT_DAYS)


def settled_on(events: list[Any], key: str) -> date:
    """When an invoice (``AGENCY/NUMBER``) was settled: its last payment's effective date."""
    agency, number = key.split("/", 1)
    return max(
        e.effective_date
        for e in events
        if type(e).__name__ == "InvoicePaid" and (e.agency_id, e.invoice_number) == (agency, number)
    )


# ----------------------------------------------------------------------------- 0.1's answers
def test_every_account_is_there_in_the_order_0_1_opened_them(legacy: Ledger) -> None:
    demo = ["DP-1001", "DP-1002", "DP-1003", "DP-1004", "DP-1005"]
    assert legacy.account_ids() == [*demo, "DP-AUDIT", "DP-LONG", "DP-CLOSED"]
    assert sorted(legacy.account_ids()) == sorted(ACCOUNTS)


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_the_history_and_the_figures_are_0_1s(legacy: Ledger, name: str) -> None:
    expected = ACCOUNTS[name]
    state = legacy.account(name)
    events = legacy.events(name)
    assert state.version == expected["version"] == len(events)
    assert state.status.value == expected["status"]
    assert [type(e).__name__ for e in events] == expected["event_types"]
    assert [e.digest for e in events] == expected["digests"]

    middle, last = date.fromisoformat(expected["middle"]), date.fromisoformat(expected["last"])
    assert {a.value: m.pence for a, m in state.balances.items()} == expected["balances"]
    assert {a.value: m.pence for a, m in legacy.balances_as_of(name, middle).items()} == expected[
        "balances_middle"
    ]
    assert legacy.surplus(name, last).pence == expected["surplus_last"]
    assert legacy.contingency(name, last).pence == expected["contingency_last"]
    assert legacy.available_from(name, middle).pence == expected["available_middle"]

    assert {k: p.net_owed.pence for k, p in state.personal_assistants.items()} == expected["pas"]
    assert {k: i.status.value for k, i in state.suspense_items.items()} == expected["suspense"]
    assert {k: o.status.value for k, o in legacy.unexplained_outgoings(name).items()} == expected[
        "unexplained"
    ]
    assert [
        [b.effective_date.isoformat(), b.asserted.pence, b.ledger.pence]
        for b in legacy.reconciliation_breaks(name)
    ] == expected["breaks"]
    assert [
        [m.kind, m.due_date.isoformat(), m.amount.pence]
        for m in legacy.missing_payments(name, last)
    ] == expected["missing"]
    assert sorted([w.rule, w.subject] for w in legacy.warnings(name)) == expected["warnings"]


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_invoices_are_0_1s_within_the_recent_window(legacy: Ledger, name: str) -> None:
    """0.1 listed every invoice ever; today's account lists those open or settled within its
    window, with 0.1's figures, and drops exactly those settled before the window."""
    expected: dict[str, list[int | str]] = ACCOUNTS[name]["invoices"]
    events = legacy.events(name)
    today = {
        k: [i.status.value, i.paid.pence, i.total.pence]
        for k, i in legacy.account(name).invoices.items()
    }
    assert today == {k: v for k, v in expected.items() if k in today}
    cutoff = window_cutoff(events)
    dropped = {
        k
        for k, (status, _, _) in expected.items()
        if status == "paid" and settled_on(events, k) < cutoff
    }
    assert set(expected) - set(today) == dropped
    if name == "DP-LONG":  # the one account old enough to have dropped any
        assert cutoff == date(2025, 1, 2)
        assert sorted(dropped) == [f"AG-1/OC-0{n}" for n in range(9)]
    else:
        assert not dropped


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_the_seal_and_the_audit_sheet_are_0_1s(legacy: Ledger, name: str) -> None:
    expected = ACCOUNTS[name]
    assert legacy.seal(name).as_dict() == expected["seal"]
    last = date.fromisoformat(expected["last"])
    sheet = legacy.statement(name, legacy.account(name).opened_on, last, generated_at=GENERATED_AT)
    # The balances 0.1's sheet lists among its events are the ones today's sheet counts.
    events = expected["statement"].split("\nEVENTS (", 1)[1]
    assert sheet.stated_balances == len(re.findall(r"  bank stated £[\d,.]+ on ", events))
    today = render_statement(sheet)
    assert _in_0_1s_layout(today, sheet) == _with_reconciliation_sentence(
        expected["statement"], sheet
    )
    assert all(line.description in today for line in sheet.lines)  # no longer cut short


def _in_0_1s_layout(text: str, sheet: Statement) -> str:
    """Today's sheet laid out as 0.1's: without the budget section (new), and the events in 0.1's
    columns (no recorded time; descriptions cut at 50 characters, as 0.1 cut them)."""
    text = re.sub(r"BUDGET AND CONTRIBUTIONS.*?\n\n", "", text, count=1, flags=re.DOTALL)
    # A label too long for its row now keeps its own line, its amount beneath: 0.1 cut it.
    text = re.sub(r"^( +)(\S.*)\n( +)(\S+)$", _cut_as_0_1, text, flags=re.MULTILINE)
    before, rest = text.split("\nEVENTS (", 1)
    chain = rest[rest.index("\n\nChain head: ") :]
    rows = [f"EVENTS ({len(sheet.lines)}, by effective date)"]
    rows.append(f"  {'date':<10} {'ver':>4}  {'description':<50} {'bank':>10} {'balance':>11}")
    for line in sheet.lines:
        change = "" if line.bank_change.is_zero() else str(line.bank_change)
        cut = line.description if len(line.description) <= 50 else line.description[:49] + "…"
        version = "bank" if line.bank_account is not None else line.version
        rows.append(
            f"  {line.effective_date} {version:>4}  {cut:<50} {change:>10} {line.bank_after!s:>11}"
        )
    return before + "\n" + "\n".join(rows) + chain


def _cut_as_0_1(found: re.Match[str]) -> str:
    indent, label, pad, value = found.groups()
    room = WIDTH - len(indent) - len(value) - 1
    if len(pad) + len(value) != WIDTH or len(label) <= room:
        return found.group(0)  # not a label moved onto its own line
    return f"{indent}{label[: room - 1]}… {value}"


def _with_reconciliation_sentence(text: str, sheet: Statement) -> str:
    """0.1's sheet with today's one deliberate change: under RECONCILIATION BREAKS a sentence
    says how many stated balances were checked (0.1 said only "(none)" when there were no
    breaks, even when the bank had stated nothing)."""
    header = f"RECONCILIATION BREAKS ({len(sheet.reconciliation_breaks)})\n"
    before, after = text.split(header, 1)
    after = after.removeprefix("  (none)\n")
    return f"{before}{header}  {sheet.reconciliation}\n{after}"


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_replay_folds_the_events_to_0_1s_balances(legacy: Ledger, name: str) -> None:
    expected = ACCOUNTS[name]
    middle, last = date.fromisoformat(expected["middle"]), date.fromisoformat(expected["last"])
    for day, balances in ((last, "balances"), (middle, "balances_middle")):
        replay = legacy.replay(name, day)
        assert replay.projection_agrees
        assert {a.value: m.pence for a, m in replay.balances.items()} == expected[balances]
    assert legacy.replay(name, last).status == expected["status"]


def test_the_store_verifies_with_0_1s_seals_and_its_snapshots_are_not_called_tampering(
    legacy: Ledger,
) -> None:
    seals = [Seal.from_dict(a["seal"]) for a in ACCOUNTS.values()]
    report = legacy.verify(seals=seals)
    assert report.ok, report.broken
    assert EXPECTED["verify_ok"] is True
    assert report.accounts_checked == len(ACCOUNTS)
    assert report.events_checked == sum(a["version"] for a in ACCOUNTS.values())
    assert (report.snapshots_checked, report.snapshots_not_checked) == (0, LEGACY_SNAPSHOTS)
    # a seal 0.1 gave is still anchored by the key: one that was forged is not authentic
    forged = Seal.from_dict({**ACCOUNTS["DP-LONG"]["seal"], "digest": "0" * 64})
    (broken,) = legacy.verify("DP-LONG", seals=[forged]).broken
    assert "not authentic" in broken.reason


# ----------------------------------------------------------------------------- it keeps working
def test_a_retry_with_a_key_0_1_recorded_is_replayed(writable: Ledger) -> None:
    # cycle 4 of DP-LONG was entered by hand with key council-04 (cycle 5 came from a bank
    # statement, under the key bank:ref:LCC-05)
    start = date(2024, 4, 1) + timedelta(days=28 * 4)
    command = {
        "amount": "1080.00",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=27)).isoformat(),
        "effective_date": start.isoformat(),
        "bank_reference": "LCC-04",
        "idempotency_key": "council-04",
    }
    retry = writable.receive_council_payment("DP-LONG", **command, actor="officer-legacy")
    assert retry.replayed is True
    assert retry.version == 34
    assert retry.event.digest == ACCOUNTS["DP-LONG"]["digests"][33]
    with pytest.raises(IdempotencyConflict):
        writable.receive_council_payment(
            "DP-LONG", **{**command, "amount": "1081.00"}, actor="officer-legacy"
        )
    assert writable.account("DP-LONG").version == 210


def test_numbers_and_periods_0_1_recorded_are_still_refused(writable: Ledger) -> None:
    invoice = {
        "agency_id": "AG-1",
        "period_start": "2025-02-01",
        "period_end": "2025-02-07",
        "hours": "2",
        "rate": "25.00",
        "total": "50.00",
        "effective_date": "2026-02-07",
        **WHO,
    }
    # OC-03 was paid in 2024: out of the account's window, known to the key index only
    assert "AG-1/OC-03" not in writable.account("DP-LONG").invoices
    for number in ("OC-03", "OC-23", "OC-DUP"):
        with pytest.raises(DuplicateInvoice):
            writable.receive_invoice("DP-LONG", invoice_number=number, **invoice)
    with pytest.raises(DuplicateWageRun):
        writable.record_wage_run(
            "DP-LONG",
            pa_id="PA-1",
            period_start="2024-04-01",
            period_end="2024-04-28",
            hours="32",
            gross="400.00",
            paye="0.00",
            employee_ni="0.00",
            employer_ni="0.00",
            employee_pension="12.00",
            employer_pension="20.00",
            net="388.00",
            effective_date="2026-02-07",
            **WHO,
        )
    corrected = next(
        e.corrected_version
        for e in writable.events("DP-LONG")
        if type(e).__name__ == "EntryCorrected"
    )
    with pytest.raises(InvalidTransition, match="already corrected"):
        writable.correct(
            "DP-LONG", version=corrected, reason="again", effective_date="2026-02-07", **WHO
        )
    with pytest.raises(AccountClosed):
        writable.receive_contribution(
            "DP-CLOSED", amount="1.00", effective_date="2026-02-07", **WHO
        )
    assert writable.account("DP-LONG").version == 210


def test_new_commands_are_recorded_with_snapshots_of_todays_kind(writable: Ledger) -> None:
    snapshots = writable.application.snapshots
    assert snapshots is not None
    long, old = account_uuid("DP-LONG"), account_uuid("DP-1003")
    assert [s.originator_version for s in snapshots.get(long)] == [100, 200]
    assert not any(isinstance(s, AccountSnapshot) for s in snapshots.get(long))

    receipt = writable.receive_contribution(
        "DP-LONG", amount="120.00", effective_date="2026-02-07", **WHO
    )
    assert receipt.version == 211
    writable.agree_budget(
        "DP-1003",
        weekly_gross="570.00",
        weekly_contribution="0",
        effective_date="2026-04-02",
        **WHO,
    )
    # 0.1's snapshot was not used, so the save wrote one of today's kind, whatever the version
    (taken,) = [s for s in snapshots.get(long) if isinstance(s, AccountSnapshot)]
    assert taken.originator_version == 211
    assert taken.head == receipt.event.digest
    assert [s.originator_version for s in snapshots.get(old)] == [100, 101]

    expected = ACCOUNTS["DP-LONG"]
    assert writable.bank_balance("DP-LONG") == Money(expected["balances"]["assets:bank"] + 12000)
    seals = [Seal.from_dict(a["seal"]) for a in ACCOUNTS.values()]
    report = writable.verify(seals=seals)
    assert report.ok, report.broken
    assert (report.snapshots_checked, report.snapshots_not_checked) == (2, LEGACY_SNAPSHOTS)
    assert writable.replay("DP-LONG", "2026-02-07").projection_agrees


def test_the_key_index_is_built_from_the_history_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_of_the_store(tmp_path)
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        (events,) = db.execute("SELECT count(*) FROM stored_events").fetchone()
    assert keyindex.KEYS_TABLE not in tables  # 0.1 had no key index

    built: list[int] = []
    build = DpledgerApplication.build_key_index

    def counted(app: DpledgerApplication) -> int:
        built.append(build(app))
        return built[-1]

    monkeypatch.setattr(DpledgerApplication, "build_key_index", counted)
    with Ledger.sqlite(path) as first:
        for name in ACCOUNTS:
            changes = index_changes(first.events(name))
            found = keyindex.lookup(first.application.recorder, account_uuid(name), list(changes))
            assert found == {k: v for k, v in changes.items() if v is not None}, name
            if name == "DP-LONG":  # a command key, and an invoice number voided then reused
                assert found["cmd:council-04"].version == 34
                received = [
                    e.originator_version
                    for e in first.events(name)
                    if getattr(e, "invoice_number", None) == "OC-DUP"
                    and type(e).__name__ == "InvoiceReceived"
                ]
                assert len(received) == 2
                assert found["invoice:AG-1/OC-DUP"].version == received[1]
    with Ledger.sqlite(path):
        pass
    assert built == [events, 0]
    with sqlite3.connect(path) as db:
        assert db.execute(
            f"SELECT value FROM {keyindex.META_TABLE} WHERE name = 'key_index'"
        ).fetchone() == (keyindex.INDEX_VERSION,)


def test_the_fixture_itself_is_never_written(legacy: Ledger) -> None:
    """The tests open copies: the store 0.1 wrote stays as 0.1 wrote it."""
    with sqlite3.connect(f"file:{STORE}?mode=ro", uri=True) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert keyindex.KEYS_TABLE not in tables


def test_a_statement_0_1_imported_imports_again_as_nothing_new(
    writable: Ledger, tmp_path: Path
) -> None:
    """DP-LONG's March 2025 statement, as 0.1 imported it (lines recorded on the account with
    0.1's line digests): every line is recognised, the balance too, and nothing is recorded."""
    generator = load_generator()
    entry = generator.Entry
    march = [
        entry(-50000, "2025-03-03", "OC-11", "OAK CARE OC-11"),
        entry(-1250, "2025-03-12", "FEE-1", "BANK CHARGE"),
        entry(-4000, "2025-03-13", "DD-9", "UNKNOWN DD"),
        entry(-2200, "2025-03-14", "DD-10", "SHOP"),
        entry(4000, "2025-03-20", "DD-9R", "UNKNOWN DD RETURNED", reversal=True),
        entry(-999, "2025-03-25", None, "CARD PENDING", status="PDNG"),
    ]
    path = tmp_path / "march.xml"
    path.write_bytes(generator.camt(march, closing=(123456, "2025-03-21"), stmt="MAR-25"))
    stored = writable.application.recorder.max_notification_id()
    report = writable.import_bank_file("DP-LONG", path, **WHO)
    booked = [line for line in report.lines if line.status != "pending"]
    assert [line.version for line in booked] == [196, 197, 198, 199, 200]
    assert {line.status for line in booked} == {"already imported"}
    assert [b.status for b in report.balances] == ["already imported"]
    assert writable.account("DP-LONG").version == 210
    assert writable.application.recorder.max_notification_id() == stored  # nor a bank account
    assert [
        [b.effective_date.isoformat(), b.asserted.pence, b.ledger.pence]
        for b in writable.reconciliation_breaks("DP-LONG")
    ] == ACCOUNTS["DP-LONG"]["breaks"]


def load_generator() -> ModuleType:
    """The generator script 0.1 ran (for the statement files it built)."""
    spec = importlib.util.spec_from_file_location("generate_v0_1", LEGACY / "generate_v0_1.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_v0_1", module)
    spec.loader.exec_module(module)
    return module
