"""``dpledger pool``, ``dpledger allocate`` and ``dpledger import FILE`` of a pooled account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dpledger import Ledger, Money
from dpledger.cli import main
from dpledger.errors import ValidationError

POOL = "30-99-50 12345678"
OPENED = "2026-04-06"
CSV = (
    "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
    "Debit Amount,Credit Amount,Balance\n"
    "06/04/2026,FPI,'30-99-50,12345678,KCC PAYMENT KCC-1001,,400.00,400.00\n"
    "07/04/2026,FPI,'30-99-50,12345678,J SMITH,,25.00,425.00\n"
    "08/04/2026,FPI,'30-99-50,12345678,BACS KENT CC,,300.00,725.00\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "pool.sqlite"
    with Ledger.sqlite(path) as ledger:
        for account_id, ref in (("DP-1", "KCC-1001"), ("DP-2", "KCC-2002")):
            ledger.open_account(
                account_id,
                person_ref=ref,
                council="Kent County Council",
                provider="Virtual Wallet",
                effective_date=OPENED,
                actor="setup",
            )
    return path


def test_a_provider_runs_a_pool_from_the_command_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "pool-rules.toml"
    rules.write_text('[[rule]]\naccount_id = "DP-2"\npattern = "J SMITH"\nfield = "payer"\n')
    args = ["--store", str(store)]
    opened = ["pool", "open", POOL, "--name", "Clients", "--opened-on", OPENED]
    assert main([*opened, "--actor", "finance-1", *args]) == 0
    with Ledger.sqlite(store) as ledger:
        for account_id in ("DP-1", "DP-2"):
            ledger.name_bank_account(
                account_id, bank_account=POOL, effective_date=OPENED, actor="setup"
            )
    assert main([*opened, "--rules", str(rules), "--actor", "finance-1", *args]) == 0
    statement = tmp_path / "pool.csv"
    statement.write_text(CSV)
    capsys.readouterr()
    assert main(["import", str(statement), "--actor", "finance-1", *args]) == 0
    printed = capsys.readouterr().out
    # No budgets: the members' lines are theirs, but held in their suspense (nothing expected).
    assert "2 held, 1 unallocated" in printed
    assert main(["import", str(statement), "--actor", "finance-1", *args]) == 0
    assert "every line was imported before" in capsys.readouterr().out
    assert main(["pool", "held", POOL, "--json", *args]) == 0
    (held,) = json.loads(capsys.readouterr().out)["lines"]
    assert held["remaining"] == 30_000
    allocate = ["allocate", POOL, held["line_key"], "DP-1", "--amount", "100.00"]
    who = ["--reason", "remittance advice", "--actor", "finance-1", "--idempotency-key", "a-1"]
    assert main([*allocate, *who, *args]) == 0
    assert "£200.00 still held" in capsys.readouterr().out
    assert main([*allocate, *who, *args]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert main(["pool", "show", POOL, "--json", *args]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["shares"] == {"DP-1": 50_000, "DP-2": 2_500}
    assert shown["unallocated"] == 20_000
    assert shown["adds_up"] is True
    assert shown["reconciliation"].startswith("the bank and the ledger agree")
    with Ledger.sqlite(store) as ledger:
        assert ledger.bank_balance("DP-1") == Money("500.00")
        assert ledger.verify().ok


def test_a_rules_file_with_a_bad_pattern_names_the_file_rule_and_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "bad.toml"
    rules.write_text(
        '# the provider\'s table\n[[rule]]\naccount_id = "DP-1"\npattern = "SMITH"\n\n'
        '[[rule]]\naccount_id = "DP-2"\npattern = "(JONES"\n'
    )
    opened = ["pool", "open", POOL, "--name", "Clients", "--opened-on", OPENED, "--actor", "f"]
    code = main([*opened, "--rules", str(rules), "--store", str(store)])
    assert code == 1
    error = capsys.readouterr().err
    assert "bad.toml, rule 2 (line 6)" in error
    assert "rules[1].pattern" in error
    assert "Fix:" in error
    with Ledger.sqlite(store) as ledger, pytest.raises(ValidationError, match="not a pooled"):
        ledger.pool_position(POOL)
