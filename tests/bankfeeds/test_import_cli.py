"""``dpledger import``: the real command, run as a subprocess on a SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_import_ledger import ACCOUNT, APRIL, lloyds_csv, open_account

from dpledger import Ledger, Money

DPLEDGER = Path(sys.executable).with_name("dpledger")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DPLEDGER), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_prints_a_report_and_a_repeat_records_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with Ledger(store) as ledger:
        open_account(ledger)
    statement = tmp_path / "april.csv"
    statement.write_bytes(lloyds_csv(APRIL))

    first = run("import", ACCOUNT, statement, "--store", store, "--actor", "clerk-9")
    again = run("import", ACCOUNT, statement, "--store", store, "--json")

    assert first.returncode == 0, first.stderr
    assert "april.csv -> DP-1: 2 new, 3 held (version 2 -> 8)" in first.stdout
    assert "council_payment" in first.stdout
    assert again.returncode == 0, again.stderr
    (report,) = json.loads(again.stdout)["files"]
    assert report["nothing_new"] is True
    assert report["already_imported"] == 5
    with Ledger(store) as ledger:
        assert ledger.bank_balance(ACCOUNT) == Money("252.34")
        assert ledger.events(ACCOUNT)[-1].actor == "clerk-9"


def test_a_refused_file_exits_1_naming_the_line_and_others_still_import(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with Ledger(store) as ledger:
        open_account(ledger)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(lloyds_csv(APRIL).replace(b"320.00", b"32O.00"))
    good = tmp_path / "good.csv"
    good.write_bytes(lloyds_csv(APRIL[1:2]))

    result = run("import", ACCOUNT, bad, good, "--store", store)

    assert result.returncode == 1
    assert "dpledger: [DP-1] bad.csv, line 2, column 'Credit Amount'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "good.csv -> DP-1: 1 new" in result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("import", ACCOUNT).returncode == 2
    assert run("import", ACCOUNT, "x.csv", "--format", "pdf").returncode == 2


def test_a_custom_layout_is_imported_with_a_rules_file(tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    store = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with Ledger(store) as ledger:
        open_account(ledger, opened="2024-04-01")
    rules, export = fixtures / "example_bs.rules.toml", fixtures / "example_bs.csv"
    done = run("import", ACCOUNT, export, "--rules", rules, "--store", store, "--json")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)["files"]
    assert report["bank_account"] == "30-99-50 12345678"
    assert report["recorded"] >= 2
    both = run("import", ACCOUNT, export, "--rules", rules, "--mapping", "hsbc", "--store", store)
    assert both.returncode == 2
    assert "--mapping or --rules" in both.stderr
    bad = tmp_path / "bad.rules.toml"
    bad.write_text('[columns]\ndata = "Posted"\n')
    refused = run("import", ACCOUNT, export, "--rules", bad, "--store", store)
    assert refused.returncode == 1
    assert "bad.rules.toml" in refused.stderr
    assert "date" in refused.stderr
