"""The ``dpledger`` command, run for real (a subprocess) against a demo store.

Each test reads the store the module's fixture recorded once with ``dpledger demo``; tests that
change a store copy it first.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from audit_scenario import record_scenario

from dpledger import Ledger, LedgerAccount
from dpledger.demo import DEMO_ACCOUNT_IDS
from dpledger.domain.bank import bank_account_uuid

DPLEDGER = Path(sys.executable).with_name("dpledger")
COUNCIL = "Northshire County Council"
COMMANDS = (
    "replay",
    "balance",
    "statement",
    "warnings",
    "portfolio",
    "verify",
    "seal",
    "import",
    "export",
    "report",
    "demo",
)


def run(*args: str, store: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``dpledger ARGS`` with ``$DPLEDGER_STORE`` set to ``store``, no terminal."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DPLEDGER_")}
    if store is not None:
        environment["DPLEDGER_STORE"] = str(store)
    environment.update(env)
    return subprocess.run(
        [str(DPLEDGER), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
        cwd=store.parent if store is not None else None,
    )


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("cli") / "demo.sqlite"
    done = run("demo", "--store", str(store))
    assert done.returncode == 0, done.stderr
    return store


@pytest.fixture
def copy(demo_store: Path, tmp_path: Path) -> Path:
    """A copy of the demo store that a test may change."""
    target = tmp_path / "copy.sqlite"
    shutil.copy(demo_store, target)
    return target


# ----------------------------------------------------------------------------- usage
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    done = run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout
    assert "Usage: dpledger" in done.stdout


def test_usage_errors_exit_2_and_name_the_problem(demo_store: Path) -> None:
    assert run().returncode == 2
    unknown = run("balance", "DP-1001", "--no-such-option", store=demo_store)
    assert unknown.returncode == 2
    assert "--no-such-option" in unknown.stderr
    bad_date = run("balance", "DP-1001", "--as-of", "2026-13-01", store=demo_store)
    assert bad_date.returncode == 2
    assert "--as-of" in bad_date.stderr
    assert "YYYY-MM-DD" in bad_date.stderr
    naive = run("statement", "DP-1001", "--known-at", "2026-01-01T10:00", store=demo_store)
    assert naive.returncode == 2
    assert "time zone" in naive.stderr


def test_a_missing_store_is_refused_with_the_fix(tmp_path: Path) -> None:
    done = run("balance", "DP-1001", "--store", str(tmp_path / "nothing.sqlite"))
    assert done.returncode == 1
    assert "no dpledger store" in done.stderr
    assert "DPLEDGER_STORE" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "nothing.sqlite").exists()  # reading never creates a store


def test_an_unknown_account_is_refused(demo_store: Path) -> None:
    done = run(
        "statement", "DP-NOPE", "--from", "2025-04-01", "--to", "2025-05-01", store=demo_store
    )
    assert done.returncode == 1
    assert "DP-NOPE" in done.stderr
    assert "no such account" in done.stderr


# ----------------------------------------------------------------------------- queries
def test_balance_agrees_with_the_library(demo_store: Path) -> None:
    done = run("balance", "DP-1002", "--as-of", "2025-12-31", "--all", "--json", store=demo_store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    with Ledger.sqlite(demo_store) as ledger:
        expected = ledger.balances_as_of("DP-1002", "2025-12-31")
    assert data["balances_pence"] == {a.value: m.pence for a, m in expected.items()}
    text = run("balance", "DP-1002", "--as-of", "2025-12-31", store=demo_store)
    assert str(expected[LedgerAccount.BANK]) in text.stdout


def test_replay_of_the_store_agrees_with_the_projections(demo_store: Path) -> None:
    done = run("replay", "--as-of", "2026-03-31", "--json", store=demo_store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [a["account_id"] for a in data["accounts"]] == list(DEMO_ACCOUNT_IDS)
    assert all(a["projection_agrees"] for a in data["accounts"])
    assert data["disagreements"] == []
    with Ledger.sqlite(demo_store) as ledger:
        for account in data["accounts"]:
            bank = ledger.balance(account["account_id"], as_of="2026-03-31")
            assert account["bank_pence"] == bank.pence
    table = run("replay", "DP-1003", "--as-of", "2026-03-31", "--rebuild", store=demo_store)
    assert table.returncode == 0, table.stderr
    assert "agrees" in table.stdout


def test_replay_as_known_before_the_account_existed_is_refused(demo_store: Path) -> None:
    done = run(
        "replay", "DP-1001", "--as-of", "2026-03-31", "--known-at", "2000-01-01", store=demo_store
    )
    assert done.returncode == 1
    assert "not yet opened" in done.stderr


def test_long_work_shows_progress_when_asked(demo_store: Path) -> None:
    done = run("replay", "--as-of", "2026-03-31", store=demo_store, DPLEDGER_PROGRESS="always")
    assert done.returncode == 0, done.stderr
    assert "Replaying accounts" in done.stderr
    quiet = run("replay", "--as-of", "2026-03-31", store=demo_store)
    assert "Replaying" not in quiet.stderr  # no terminal: no progress bar


def test_statement_prints_the_sheet_and_its_json(demo_store: Path) -> None:
    args = ("statement", "DP-1002", "--from", "2025-04-01", "--to", "2026-03-31")
    text = run(*args, store=demo_store)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("AUDIT SHEET DP-1002")
    assert "Opening + in - out = closing" in text.stdout
    answer = json.loads(run(*args, "--json", store=demo_store).stdout)
    assert (answer["format"], answer["command"]) == ("dpledger.cli/1", "statement")
    data = answer["statement"]
    assert data["format"] == "dpledger-statement"
    assert data["reconciles"] is True
    assert (
        data["opening_pence"] + data["total_in_pence"] - data["total_out_pence"]
        == data["closing_pence"]
    )
    with Ledger.sqlite(demo_store) as ledger:
        sheet = ledger.statement("DP-1002", "2025-04-01", "2026-03-31")
    assert data["closing_pence"] == sheet.closing.pence
    assert data["chain_head"]["digest"] == sheet.head_digest
    assert [e["version"] for e in data["events"]] == [line.version for line in sheet.lines]


def test_warnings_check_exits_4_when_any_is_in_force(demo_store: Path) -> None:
    done = run("warnings", "--council", COUNCIL, "--check", "--json", store=demo_store)
    assert done.returncode == 4
    found = json.loads(done.stdout)["warnings"]
    assert found
    assert {w["council"] for w in found} == {COUNCIL}
    assert run("warnings", "--store", str(demo_store)).returncode == 0  # no --check: 0


def test_portfolio_of_the_only_council(demo_store: Path) -> None:
    done = run("portfolio", "--on", "2026-04-04", "--json", store=demo_store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["portfolio"]
    assert data["council"] == COUNCIL
    assert [a["account_id"] for a in data["accounts"]] == list(DEMO_ACCOUNT_IDS)
    assert data["money_held"] == sum(a["bank"] for a in data["accounts"])
    unknown = run("portfolio", "Nowhere Council", store=demo_store)
    assert unknown.returncode == 1
    assert COUNCIL in unknown.stderr


# ----------------------------------------------------------------------------- verify
def test_verify_passes_then_exposes_a_tampered_row(copy: Path) -> None:
    ok = run("verify", "--json", store=copy)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    with sqlite3.connect(copy) as db:
        # Rewrite one stored event's amount in place, as someone with database access could.
        row = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%CouncilPaymentReceived'"
            " LIMIT 1"
        ).fetchone()
        state = bytes(row[1]).replace(b"166600", b"166601", 1)
        assert state != bytes(row[1])
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, row[0]))
    broken = run("verify", store=copy)
    assert broken.returncode == 3
    assert "BROKEN" in broken.stdout
    assert "DP-100" in broken.stdout


def test_seals_expose_a_truncated_history(copy: Path) -> None:
    key = {"DPLEDGER_SEAL_KEY": "kept-by-the-auditor"}
    seals = copy.parent / "seals.json"
    taken = run("seal", "--all", "-o", str(seals), store=copy, **key)
    assert taken.returncode == 0, taken.stderr
    # One seal an account, and one for the pooled client account the demo's statements are of.
    sealed = {s["account_id"] for s in json.loads(seals.read_text())}
    assert sealed >= set(DEMO_ACCOUNT_IDS)
    assert len(sealed) == len(DEMO_ACCOUNT_IDS) + 1
    assert run("verify", "--seals", str(seals), store=copy, **key).returncode == 0
    with sqlite3.connect(copy) as db:
        db.execute("DELETE FROM stored_events WHERE rowid = (SELECT MAX(rowid) FROM stored_events)")
    done = run("verify", "--seals", str(seals), "--json", store=copy, **key)
    assert done.returncode == 3
    assert json.loads(done.stdout)["ok"] is False
    keyless = run("verify", "--seals", str(seals), store=copy)
    assert keyless.returncode == 1
    assert "DPLEDGER_SEAL_KEY" in keyless.stderr


def test_an_account_is_sealed_with_its_bank_account(frozen_clock: None, tmp_path: Path) -> None:
    store = tmp_path / "audit.sqlite"
    with Ledger.sqlite(store) as ledger:
        record_scenario(ledger, tmp_path)
    key = {"DPLEDGER_SEAL_KEY": "kept-by-the-auditor"}
    seals = tmp_path / "seals.json"
    taken = run("seal", "DP-AUDIT", "-o", str(seals), store=store, **key)
    assert taken.returncode == 0, taken.stderr
    sealed = [s["account_id"] for s in json.loads(seals.read_text())]
    assert sealed[0] == "DP-AUDIT"
    assert len(sealed) == 2
    assert sealed[1].startswith("bank account ")
    assert run("verify", "--seals", str(seals), store=store, **key).returncode == 0
    # The bank account's last event (the balance its statement stated) removed: its chain still
    # links, so only its seal can tell.
    bank = bank_account_uuid(sealed[1].removeprefix("bank account "))
    with sqlite3.connect(store) as db:
        gone = db.execute(
            "DELETE FROM stored_events WHERE rowid = (SELECT MAX(rowid) FROM stored_events"
            " WHERE originator_id = ?)",
            (bank.hex,),
        ).rowcount
        db.execute("DELETE FROM stored_snapshots WHERE originator_id = ?", (bank.hex,))
    assert gone == 1
    assert run("verify", store=store).returncode == 0
    done = run("verify", "--seals", str(seals), "--json", store=store, **key)
    assert done.returncode == 3, done.stdout


# ----------------------------------------------------------------------------- interchange
def test_a_history_exported_and_imported_reproduces_every_balance(
    demo_store: Path, tmp_path: Path
) -> None:
    history = tmp_path / "store.jsonl"
    done = run("export", "--format", "jsonl", "-o", str(history), store=demo_store)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "auditor.sqlite"
    imported = run("import", str(history), "--json", "--store", str(target))
    assert imported.returncode == 0, imported.stderr
    (summary,) = json.loads(imported.stdout)["files"]
    assert summary["events_written"] == summary["events_in_file"] > 0
    again = run("import", str(history), "--store", str(target))
    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stdout
    with Ledger.sqlite(demo_store) as source, Ledger.sqlite(target) as copy:
        for account_id in source.account_ids():
            for day in ("2025-06-30", "2025-12-31", "2026-04-30"):
                assert source.balances_as_of(account_id, day) == copy.balances_as_of(
                    account_id, day
                )
        assert copy.verify().ok
    assert run("verify", store=target).returncode == 0


def test_a_tampered_history_is_refused_and_nothing_is_written(
    demo_store: Path, tmp_path: Path
) -> None:
    history = tmp_path / "one.jsonl"
    assert run("export", "DP-1001", "-o", str(history), store=demo_store).returncode == 0
    lines = history.read_text().splitlines()
    lines[5] = lines[5].replace('"actor":"', '"actor":"X', 1)
    history.write_text("\n".join(lines) + "\n")
    target = tmp_path / "auditor.sqlite"
    done = run("import", str(history), "--store", str(target))
    assert done.returncode == 1
    assert "line 6" in done.stderr
    with Ledger.sqlite(target) as ledger:
        assert ledger.account_ids() == []


def test_the_beancount_export_names_every_account(demo_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "ledger.beancount"
    done = run("export", "--format", "beancount", "-o", str(target), store=demo_store)
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    for account_id in (f"DP-100{i}" for i in range(1, 6)):
        assert f"open Assets:{account_id}:Bank GBP" in text
    assert " balance Assets:DP-1001:Bank " in text
    one = run("export", "DP-1003", "--format", "beancount", store=demo_store)
    assert "Assets:DP-1001:Bank" not in one.stdout
    assert "Assets:DP-1003:Bank" in one.stdout


def test_spreadsheet_formats_need_exactly_one_account(demo_store: Path) -> None:
    done = run("export", "--format", "xlsx", store=demo_store)
    assert done.returncode == 2
    assert "exactly one" in done.stderr
    mixed = run("export", "--format", "jsonl", "--from", "2025-04-01", store=demo_store)
    assert mixed.returncode == 2


# ----------------------------------------------------------------------------- reports
def test_report_writes_a_self_contained_html_file(demo_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "DP-1002.html"
    done = run(
        "report",
        "DP-1002",
        "--from",
        "2025-04-01",
        "--to",
        "2026-03-31",
        "-o",
        str(target),
        "--json",
        store=demo_store,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reconciles"] is True
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    assert "Audit sheet DP-1002" in html


def test_spreadsheet_exports_write_the_sheet_and_its_events(
    demo_store: Path, tmp_path: Path
) -> None:
    period = ("--from", "2025-04-01", "--to", "2026-03-31")
    xlsx = tmp_path / "sheet.xlsx"
    done = run("export", "DP-1002", "--format", "xlsx", *period, "-o", str(xlsx), store=demo_store)
    assert done.returncode == 0, done.stderr
    assert xlsx.read_bytes()[:2] == b"PK"  # a zip: the OOXML container
    sheet_csv = run("export", "DP-1002", "--format", "csv", *period, store=demo_store)
    assert sheet_csv.returncode == 0, sheet_csv.stderr
    assert sheet_csv.stdout.splitlines()[0].startswith("account_id,")
    events_csv = run("export", "DP-1002", "--format", "events-csv", *period, store=demo_store)
    assert events_csv.returncode == 0, events_csv.stderr
    with Ledger.sqlite(demo_store) as ledger:
        lines = ledger.statement("DP-1002", "2025-04-01", "2026-03-31").lines
    assert len(events_csv.stdout.strip().splitlines()) == len(lines) + 1
