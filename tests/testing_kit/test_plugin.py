"""The pytest plugin's fixtures: a throwaway ledger in memory and on SQLite."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from dpledger import Ledger


def test_the_plugin_is_registered_for_pytest(pytestconfig: pytest.Config) -> None:
    plugins = {e.value for e in entry_points(group="pytest11")}
    assert "dpledger.testing.plugin" in plugins
    assert pytestconfig.pluginmanager.has_plugin("dpledger")


def _open(ledger: Ledger) -> None:
    ledger.open_account(
        "DP-1",
        person_ref="P-1",
        council="Testshire",
        provider="Provider",
        effective_date="2026-04-06",
        actor="fixture-test",
    )
    ledger.receive_council_payment(
        "DP-1", amount="100.00", effective_date="2026-04-06", actor="fixture-test"
    )


def test_the_memory_ledger_starts_empty(dpledger_ledger: Ledger) -> None:
    assert dpledger_ledger.account_ids() == []
    _open(dpledger_ledger)
    assert dpledger_ledger.bank_balance("DP-1").pence == 10_000


def test_the_sqlite_ledger_keeps_its_file(
    dpledger_sqlite_ledger: Ledger, dpledger_sqlite_path: Path
) -> None:
    assert dpledger_sqlite_ledger.account_ids() == []
    _open(dpledger_sqlite_ledger)
    with Ledger.sqlite(dpledger_sqlite_path) as again:
        assert again.bank_balance("DP-1").pence == 10_000


def test_any_ledger_runs_on_each_store(dpledger_any_ledger: Ledger) -> None:
    _open(dpledger_any_ledger)
    assert dpledger_any_ledger.account_ids() == ["DP-1"]
