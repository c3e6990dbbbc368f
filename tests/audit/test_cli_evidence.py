"""Output that keeps its evidence: every command answers ``--json`` in one shape, figures come
only from a chain that verifies, nothing is cut short or wrapped, and period shortcuts work.

The commands run in this process through ``main(argv)`` (one subprocess checks a real pipe) on a
store recorded once per module (:mod:`cli_evidence_store`); commands that write get a copy.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_evidence_store import LONG_REFERENCE, POOL, record_evidence_store

from dpledger import Ledger, LedgerAccount
from dpledger.cli import app, main
from dpledger.cli.common import CLI_FORMAT, EXIT_CHAIN_BROKEN

ACCOUNT = "DP-AUDIT"
KEY = "k1:" + "evidence-chain-key-" * 2
DATA_KEY = "d1:" + "evidence-data-key-" * 3
ERASABLE = "DP-ERASE"


@pytest.fixture(autouse=True)
def _no_dpledger_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DPLEDGER_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evidence")
    path = folder / "evidence.sqlite"
    record_evidence_store(path, folder)
    return path


@pytest.fixture
def store(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded store that a test may change."""
    target = tmp_path / "copy.sqlite"
    shutil.copy(recorded, target)
    return target


def answer(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0
) -> tuple[dict[str, Any], str]:
    """Run ``dpledger ARGV``; its stdout as JSON and its stderr."""
    capsys.readouterr()
    assert main(argv) == code, capsys.readouterr().err
    printed = capsys.readouterr()
    return json.loads(printed.out), printed.err


def printed(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> str:
    """Run ``dpledger ARGV``; what it printed on stdout."""
    capsys.readouterr()
    result = main(argv)
    both = capsys.readouterr()
    assert result == code, both.err
    return both.out


# ----------------------------------------------------------------------------- --json everywhere
def _held_line(store: Path) -> str:
    with Ledger.sqlite(store) as ledger:
        return ledger.unallocated(POOL)[0].key


def _history(store: Path) -> str:
    history = store.parent / "audit.jsonl"
    with Ledger.sqlite(store) as ledger:
        ledger.export_history(history, [ACCOUNT])
    return str(history)


ARGV: dict[str, Callable[[Path], list[str]]] = {
    "replay": lambda s: ["replay", ACCOUNT, "--as-of", "2026-05-31"],
    "balance": lambda s: ["balance", ACCOUNT, "--monthly", "--quarter", "2026q2"],
    "statement": lambda s: ["statement", ACCOUNT, "--month", "2026-05"],
    "warnings": lambda s: ["warnings", "--all"],
    "portfolio": lambda s: ["portfolio", "Kent County Council", "--on", "2026-05-31"],
    "verify": lambda s: ["verify"],
    "seal": lambda s: ["seal", ACCOUNT],
    "key-store": lambda s: ["key-store"],
    "demo": lambda s: ["demo", "--store", str(s.parent / "demo.sqlite")],
    "import": lambda s: ["import", _history(s), "--store", str(s.parent / "new.sqlite")],
    "export": lambda s: ["export", ACCOUNT, "--format", "csv", "-o", str(s.parent / "a.csv")],
    "report": lambda s: ["report", ACCOUNT, "--fy", "2026-27", "-o", str(s.parent / "a.html")],
    "pool open": lambda s: [
        *("pool", "open", "40-11-22 55556666", "--name", "Second pool"),
        *("--opened-on", "2026-04-06", "--actor", "finance-1"),
    ],
    "pool show": lambda s: ["pool", "show", POOL],
    "pool held": lambda s: ["pool", "held", POOL],
    "allocate": lambda s: [
        *("allocate", POOL, _held_line(s), "DP-1", "--amount", "100.00"),
        *("--reason", "remittance advice", "--actor", "finance-1"),
    ],
    "held": lambda s: ["held", ACCOUNT, "--on", "2026-05-31"],
    "erase": lambda s: ["erase", _erasable(s), "--actor", "dpo-2", "--reason", "retention ended"],
    "resolve": lambda s: [
        *("resolve", ACCOUNT, "U17", "--accept", "--actor", "officer-7"),
        *("--reason", "bank charge", "--on", "2026-05-31"),
    ],
}
"""Every command, with arguments that succeed on the evidence store (``--json`` is added)."""


def _erasable(store: Path) -> str:
    """An encrypted store beside ``store`` with a closed account, made the current store (the
    data key is set by the test): erasure needs both."""
    path = store.parent / "erasable.sqlite"
    with Ledger.sqlite(path) as ledger:
        who = {"actor": "officer-7", "effective_date": "2026-04-06"}
        ledger.open_account(
            ERASABLE, person_ref="P-ERASE-1", council="Kent County Council", provider="SOLO", **who
        )
        ledger.close_account(ERASABLE, reason="moved away", **who)
    os.environ["DPLEDGER_STORE"] = str(path)  # the test's monkeypatch restores it
    return ERASABLE


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    # typer vendors its own click: its groups are told apart by having commands.
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_every_command_takes_json_and_is_tested_for_its_shape() -> None:
    commands = _commands(typer.main.get_command(app))
    # A new command must answer --json and be added to ARGV, so its shape is tested.
    assert set(commands) == set(ARGV), "add the new command to ARGV"
    lacking = [n for n, c in commands.items() if not any("--json" in p.opts for p in c.params)]
    assert lacking == []


def _no_floats(value: Any, where: str = "") -> None:
    assert not isinstance(value, float), f"{where} is a float: amounts are integer pence"
    if isinstance(value, dict):
        for key, item in value.items():
            _no_floats(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_floats(item, f"{where}[{index}]")


@pytest.mark.parametrize("command", sorted(ARGV))
def test_every_command_answers_json_in_one_shape(
    command: str,
    store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DPLEDGER_STORE", str(store))
    if command == "key-store":
        monkeypatch.setenv("DPLEDGER_CHAIN_KEY", KEY)
    if command == "erase":
        monkeypatch.setenv("DPLEDGER_DATA_KEY", DATA_KEY)
    capsys.readouterr()
    assert main([*ARGV[command](store), "--json"]) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    data = json.loads(text)  # one JSON object, nothing else on stdout
    assert isinstance(data, dict)
    assert data["format"] == CLI_FORMAT
    assert data["command"] == command
    assert len(data) > 2
    _no_floats(data)
    assert "\\u00a3" not in text  # £ is written as itself


def test_json_amounts_are_the_ledgers_pence(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--store", str(recorded), "--json"]
    data, _ = answer(capsys, ["statement", ACCOUNT, "--month", "2026-05", *where])
    with Ledger.sqlite(recorded) as ledger:
        sheet = ledger.statement(ACCOUNT, "2026-05-01", "2026-05-31")
    assert data["statement"]["closing_pence"] == sheet.closing.pence
    data, _ = answer(capsys, ["replay", ACCOUNT, "--as-of", "2026-05-31", *where])
    assert data["accounts"][0]["bank_pence"] == sheet.closing.pence


# ----------------------------------------------------------------------------- period shortcuts
@pytest.mark.parametrize(
    ("shortcut", "start", "end"),
    [
        (["--fy", "2025-26"], "2025-04-01", "2026-03-31"),
        (["--fy", "2026-27"], "2026-04-01", "2027-03-31"),
        (["--month", "2026-05"], "2026-05-01", "2026-05-31"),
        (["--month", "2024-02"], "2024-02-01", "2024-02-29"),
        (["--quarter", "2025q3"], "2025-07-01", "2025-09-30"),
        (["--quarter", "2026Q2"], "2026-04-01", "2026-06-30"),
    ],
)
def test_period_shortcuts_name_their_days(
    shortcut: list[str], start: str, end: str, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = answer(capsys, ["statement", ACCOUNT, *shortcut, "--store", str(recorded), "--json"])
    assert (data["statement"]["start"], data["statement"]["end"]) == (start, end)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--fy", "2025-27"], "--fy"),
        (["--fy", "2025"], "--fy"),
        (["--month", "2025-13"], "--month"),
        (["--month", "2025-00"], "--month"),
        (["--quarter", "2025q5"], "--quarter"),
        (["--quarter", "2025-3"], "--quarter"),
        (["--fy", "2025-26", "--from", "2025-04-01"], "--fy"),
        (["--month", "2025-05", "--to", "2025-05-31"], "--month"),
        (["--fy", "2025-26", "--month", "2025-05"], "--month"),
    ],
)
@pytest.mark.parametrize("command", ["statement", "report", "export"])
def test_bad_period_shortcuts_are_usage_errors_naming_the_option(
    arguments: list[str],
    named: str,
    command: str,
    recorded: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = ["--format", "csv"] if command == "export" else []
    capsys.readouterr()
    assert main([command, ACCOUNT, *arguments, *extra, "--store", str(recorded)]) == 2
    said = capsys.readouterr()
    assert named in said.err
    assert "Traceback" not in said.err
    assert said.out == ""


def test_a_shortcut_error_says_the_fix(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--store", str(recorded)]
    assert main(["statement", ACCOUNT, "--fy", "2025-27", *where]) == 2
    assert "2025-26" in capsys.readouterr().err  # the years it spans, as they should be written
    assert main(["statement", ACCOUNT, "--quarter", "2025q5", *where]) == 2
    assert "1 to 4" in capsys.readouterr().err
    assert main(["statement", ACCOUNT, "--month", "2025-13", *where]) == 2
    assert "01 to 12" in capsys.readouterr().err


# ----------------------------------------------------------------------------- balance --monthly
def test_balance_monthly_has_a_column_per_month(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--store", str(recorded)]
    data, _ = answer(
        capsys,
        [
            *("balance", ACCOUNT, "--monthly", "--from", "2026-04-10", "--to", "2026-05-20"),
            *("--all", *where, "--json"),
        ],
    )
    assert [m["month"] for m in data["months"]] == ["2026-04", "2026-05"]
    assert [m["as_of"] for m in data["months"]] == ["2026-04-30", "2026-05-20"]
    with Ledger.sqlite(recorded) as ledger:
        for month in data["months"]:
            expected = ledger.balances_as_of(ACCOUNT, month["as_of"])
            assert month["balances_pence"] == {a.value: m.pence for a, m in expected.items()}
    table = printed(capsys, ["balance", ACCOUNT, "--monthly", "--quarter", "2026q2", *where])
    header = next(line for line in table.splitlines() if "ledger account" in line)
    assert [c for c in header.split() if c.startswith("20")] == ["2026-04", "2026-05", "2026-06"]
    bank = next(line for line in table.splitlines() if LedgerAccount.BANK.value in line)
    with Ledger.sqlite(recorded) as ledger:
        assert str(ledger.balance(ACCOUNT, as_of="2026-05-31")) in bank


def test_balance_takes_a_period_only_with_monthly(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--store", str(recorded)]
    assert main(["balance", ACCOUNT, "--fy", "2026-27", *where]) == 2
    assert "--monthly" in capsys.readouterr().err
    assert main(["balance", ACCOUNT, "--monthly", "--as-of", "2026-05-31", *where]) == 2
    assert "--as-of" in capsys.readouterr().err


# ----------------------------------------------------------------------------- a broken chain
def _tamper(path: Path) -> None:
    """Rewrite one stored amount in place, consistently (the postings still balance and the
    event still reads), as someone with write access to the database could."""
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%CouncilPaymentReceived'"
            " LIMIT 1"
        ).fetchone()
        state = bytes(row[1]).replace(b"32000", b"92000")
        assert state != bytes(row[1])
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, row[0]))


FIGURES = {
    "statement": ["statement", ACCOUNT, "--month", "2026-04"],
    "report": ["report", ACCOUNT, "--month", "2026-04"],
    "export": ["export", ACCOUNT, "--format", "xlsx", "--month", "2026-04"],
    "replay": ["replay", ACCOUNT, "--as-of", "2026-05-31"],
    "replay of the store": ["replay", "--as-of", "2026-05-31"],
    "replay --rebuild": ["replay", "--rebuild", "--as-of", "2026-05-31"],
}


@pytest.mark.parametrize("what", sorted(FIGURES))
def test_no_figures_from_a_broken_chain(
    what: str, store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(store.parent)
    _tamper(store)
    capsys.readouterr()
    assert main([*FIGURES[what], "--store", str(store)]) == EXIT_CHAIN_BROKEN
    said = capsys.readouterr()
    assert said.out == ""  # not one figure
    assert "refused" in said.err
    assert f"{ACCOUNT} at version 3:" in said.err  # where: the account, the version, the reason
    assert "digest" in said.err
    assert "restore the store from a backup" in said.err
    assert "dpledger verify" in said.err
    assert list(store.parent.glob("*.html")) == list(store.parent.glob("*.xlsx")) == []


def test_rebuild_refused_leaves_the_projections_as_they_were(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger.sqlite(store) as ledger:
        before = ledger.balance(ACCOUNT, as_of="2026-05-31")
    _tamper(store)
    assert main(["replay", "--rebuild", "--as-of", "2026-05-31", "--store", str(store)]) == 5
    with sqlite3.connect(store) as db:
        # Read the read model's own rows: a Ledger would bring it up to date first.
        (bank,) = db.execute(
            "SELECT COALESCE(SUM(pence), 0) FROM dpv_lines WHERE account_id = ? AND"
            " ledger_account = ? AND effective_date <= ?",
            (ACCOUNT, LedgerAccount.BANK.value, "2026-05-31"),
        ).fetchone()
    assert bank == before.pence


def test_the_refusal_in_json_names_each_break(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper(store)
    data, _ = answer(
        capsys,
        ["statement", ACCOUNT, "--month", "2026-04", "--store", str(store), "--json"],
        EXIT_CHAIN_BROKEN,
    )
    assert data["format"] == CLI_FORMAT
    assert data["refused"] == "chain_broken"
    assert data["broken"][0]["account_id"] == ACCOUNT
    assert data["broken"][0]["version"] == 3
    assert "dpledger verify" in data["fix"]


def test_a_keyed_store_needs_its_key_and_refuses_when_broken(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPLEDGER_CHAIN_KEY", KEY)
    where = ["--store", str(store)]
    assert main(["key-store", *where]) == 0
    sheet = ["statement", ACCOUNT, "--month", "2026-04", *where]
    assert main(sheet) == 0
    monkeypatch.delenv("DPLEDGER_CHAIN_KEY")
    capsys.readouterr()
    assert main(sheet) == 1  # a key problem, not tampering
    assert "DPLEDGER_CHAIN_KEY" in capsys.readouterr().err
    monkeypatch.setenv("DPLEDGER_CHAIN_KEY", KEY)
    _tamper(store)
    assert main(sheet) == EXIT_CHAIN_BROKEN
    assert f"{ACCOUNT} at version 3:" in capsys.readouterr().err


# ----------------------------------------------------------------------------- nothing cut short
def test_a_long_bank_reference_survives_every_rendering(
    recorded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    folder = recorded.parent / "renderings"
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    where = ["--month", "2026-05", "--store", str(recorded)]
    text = printed(capsys, ["statement", ACCOUNT, *where])
    assert "…" not in text
    (line,) = [row for row in text.splitlines() if LONG_REFERENCE in row]
    assert line.endswith(f"(ref {LONG_REFERENCE})")
    assert main(["report", ACCOUNT, *where, "-o", "sheet.html"]) == 0
    assert LONG_REFERENCE in (folder / "sheet.html").read_text(encoding="utf-8")
    assert main(["export", ACCOUNT, "--format", "xlsx", *where, "-o", "sheet.xlsx"]) == 0
    book = openpyxl.load_workbook(folder / "sheet.xlsx")
    cells = [str(c) for row in book["Events"].iter_rows(values_only=True) for c in row]
    assert any(cell.endswith(f"(ref {LONG_REFERENCE})") for cell in cells)
    assert main(["export", ACCOUNT, "--format", "events-csv", *where, "-o", "events.csv"]) == 0
    assert LONG_REFERENCE in (folder / "events.csv").read_text(encoding="utf-8")


def test_output_to_a_pipe_is_never_wrapped(recorded: Path) -> None:
    with Ledger.sqlite(recorded) as ledger:
        explanations = [w.explanation for w in ledger.warnings(active_only=False)]
    assert max(len(e) for e in explanations) > 120
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPLEDGER_")}
    env["COLUMNS"] = "60"  # a narrow terminal's setting must not wrap a pipe either
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dpledger")), "warnings", "--all"],
        capture_output=True,
        text=True,
        env={**env, "DPLEDGER_STORE": str(recorded)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for explanation in explanations:
        assert any(explanation in line for line in lines), f"wrapped: {explanation}"


# ----------------------------------------------------------------------------- when recorded
def test_each_event_shows_when_it_was_recorded(
    recorded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    monkeypatch.chdir(recorded.parent)
    with Ledger.sqlite(recorded) as ledger:
        sheet = ledger.statement(ACCOUNT, "2026-05-01", "2026-05-31")
    where = ["--month", "2026-05", "--store", str(recorded)]
    text = printed(capsys, ["statement", ACCOUNT, *where])
    assert main(["report", ACCOUNT, *where, "-o", "when.html"]) == 0
    page = (recorded.parent / "when.html").read_text(encoding="utf-8")
    assert main(["export", ACCOUNT, "--format", "xlsx", *where, "-o", "when.xlsx"]) == 0
    rows = list(openpyxl.load_workbook(recorded.parent / "when.xlsx")["Events"].values)
    column = rows[0].index("Recorded at (UTC)")
    for line in sheet.lines:
        utc = line.recorded_at.astimezone(UTC)
        assert f"{utc:%Y-%m-%dT%H:%M:%SZ}" in text
        assert f"{utc:%Y-%m-%d %H:%M:%S}" in page
        naive = utc.replace(tzinfo=None)
        assert any(abs((row[column] - naive).total_seconds()) < 1 for row in rows[1:])


# ----------------------------------------------------------------------------- warnings --on
HAS_ON = "on" in inspect.signature(Ledger.warnings).parameters


@pytest.mark.skipif(not HAS_ON, reason="Ledger.warnings(on=...) comes with the as-at read side")
def test_warnings_on_a_date_are_those_in_force_then(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--store", str(recorded), "--json"]
    data, _ = answer(capsys, ["warnings", ACCOUNT, "--on", "2026-04-28", *where])
    assert data["on"] == "2026-04-28"
    with Ledger.sqlite(recorded) as ledger:
        expected = ledger.warnings(ACCOUNT, active_only=True, on=date(2026, 4, 28))
    assert [(w["rule"], w["subject"]) for w in data["warnings"]] == [
        (w.rule, w.subject) for w in expected
    ]
    # On 2026-04-28 the DWP income (S9, 2026-04-27) was still held, unclassified.
    assert ("unexpected_income", "S9") in {(w["rule"], w["subject"]) for w in data["warnings"]}


def test_warnings_on_a_bad_date_is_a_usage_error(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["warnings", "--on", "2026-02-30", "--store", str(recorded)]) == 2
    assert "--on" in capsys.readouterr().err


# ----------------------------------------------------------------------------- budget
def test_the_portfolio_says_what_its_spend_covers(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["Kent County Council", "--on", "2026-05-31", "--store", str(recorded)]
    data, _ = answer(capsys, ["portfolio", *where, "--json"])
    budget = data["budgets"][ACCOUNT]
    row = next(a for a in data["portfolio"]["accounts"] if a["account_id"] == ACCOUNT)
    assert budget["start"] == "2026-04-06"
    assert budget["end"] == row["as_of"]
    assert budget["spent_pence"] == sum(row["spend"].values())
    assert budget["contributions_due_pence"] == row["contributions_due"]
    assert budget["contributions_received_pence"] == row["contributions_received"]
    assert row["as_of"] in data["spend_covers"]
    text = printed(capsys, ["portfolio", *where])
    assert "Budget against spend incurred from each account's opening" in text
    assert "Spend by category, incurred from each account's opening" in text


def test_erase_deletes_the_persons_key_once_and_a_retry_changes_nothing(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPLEDGER_DATA_KEY", DATA_KEY)
    monkeypatch.setenv("DPLEDGER_STORE", str(store))
    account = _erasable(store)
    argv = ["erase", account, "--actor", "dpo-2", "--reason", "retention ended"]
    assert "personal fields read [erased]" in printed(capsys, argv)
    assert "erased before; nothing changed" in printed(capsys, argv)
    with Ledger.sqlite(os.environ["DPLEDGER_STORE"]) as ledger:
        assert ledger.verify().ok
        assert ledger.account(account).person_ref == "[erased]"


def test_erase_refuses_an_open_account_naming_the_fix(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["erase", ACCOUNT, "--actor", "dpo-2", "--reason", "r", "--store", str(store)]
    assert main(argv) == 1
    assert "Fix: close the account first" in capsys.readouterr().err
