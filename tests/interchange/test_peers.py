"""A small council's year, exported, agrees with beancount, ledger and hledger to the penny.

The council comes from the benchmark's seeded generator (``benchmarks/council.py``, the ``tiny``
preset: four accounts, a year of council payments, contributions, agency invoices, PA payroll,
HMRC, pension and unexpected income), recorded through ``Ledger.execute_many``. beancount is a
test dependency: its loader must accept the export (every month-end balance assertion holds) and
its realization must give dpledger's closing balance for every account. ``ledger`` and
``hledger`` (Debian packages) read the ledger-cli journal export; each is skipped, saying so, when
its binary is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dpledger import Ledger
from dpledger.adapters.interchange.journal import to_journal

REASON = "beancount is a test-only dependency (GPL-2.0): pip install -e '.[dev]'"
loader = pytest.importorskip("beancount.loader", reason=REASON)
bc_data = pytest.importorskip("beancount.core.data", reason=REASON)
realization = pytest.importorskip("beancount.core.realization", reason=REASON)

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str) -> ModuleType:
    # The benchmarks are scripts beside each other, not a package: loaded from their files
    # under names of their own (and ``council`` first, which ``peers`` does not import).
    spec = importlib.util.spec_from_file_location(
        f"dpledger_bench_{name}", BENCHMARKS / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


council = _module("council")
peers = _module("peers")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("council")
    ledger = Ledger.sqlite(folder / "council.sqlite")
    try:
        council.record(ledger, council.preset("tiny"))
        yield peers.export(ledger, folder)
    finally:
        ledger.close()


def test_the_council_year_is_a_real_one(exported: Any) -> None:
    # Four accounts of a year each: hundreds of events, money on every side of the chart.
    assert exported.events > 4 * 150
    moved = {name.split(":")[-1] for name, pence in exported.balances.items() if pence}
    assert {"Bank", "Council", "Contribution", "AgencyCare"} <= moved


def test_beancount_agrees_to_the_penny(exported: Any) -> None:
    entries, errors, _options = loader.load_file(str(exported.beancount))
    assert [e.message for e in errors] == []  # every month-end assertion held
    transactions = [e for e in entries if isinstance(e, bc_data.Transaction)]
    tree = realization.realize(transactions)
    found = {
        real.account: int(real.balance.get_currency_units("GBP").number * 100)
        for real in realization.iter_children(tree)
        if real.txn_postings
    }
    assert peers.disagreements(exported.balances, found) == []


@pytest.mark.parametrize("tool", ["ledger", "hledger"])
def test_ledger_and_hledger_agree_to_the_penny(exported: Any, tool: str) -> None:
    if peers.tool(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")
    read = peers.ledger_balances if tool == "ledger" else peers.hledger_balances
    found, _seconds = read(exported.journal)
    assert any(found.values())
    assert peers.disagreements(exported.balances, found) == []


def test_a_wrong_balance_is_caught() -> None:
    # The comparison itself: a penny off, or an account a peer has and dpledger has not.
    assert peers.disagreements({"Assets:A:Bank": 100}, {"Assets:A:Bank": 101}) != []
    assert peers.disagreements({}, {"Assets:A:Bank": 1}) != []
    assert peers.disagreements({"Assets:A:Bank": 0}, {}) == []


def test_the_journal_writes_pence_exactly() -> None:
    ledger = Ledger.in_memory()
    for command in council.stories(council.preset("tiny"))["DP-00001"][:12]:
        ledger.execute(command)
    text = to_journal([("DP-00001", ledger.events("DP-00001"))])
    amounts = [line.rsplit("  ", 1)[1] for line in text.splitlines() if line.startswith("    ")]
    assert amounts
    assert all(a.endswith(" GBP") for a in amounts)
    total = sum(Decimal(a.split()[0]) for a in amounts)
    assert total == 0  # every transaction balances, so all of them do
    with pytest.raises(ValueError, match="more than once"):
        to_journal([("A", []), ("A", [])])
