"""pytest fixtures for a throwaway ledger, registered as a ``pytest11`` plugin.

With ``pip install 'dpledger[testing]'`` every test can ask for:

- ``dpledger_ledger``: an empty :class:`~dpledger.Ledger` in memory, closed after the test;
- ``dpledger_sqlite_ledger``: an empty ledger on a SQLite file in the test's ``tmp_path``;
- ``dpledger_sqlite_path``: that file's path (a second ``Ledger.sqlite`` on it sees what the
  first saved);
- ``dpledger_any_ledger``: each test run twice, on memory and on SQLite.

The names start with ``dpledger_`` so they never hide a project's own ``ledger`` fixture. Inside a
hypothesis ``@given`` test, make a ledger per example instead (``with Ledger.in_memory() as
ledger:``): a fixture is created once per test, not per example.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dpledger.ledger import Ledger


@pytest.fixture
def dpledger_ledger() -> Iterator[Ledger]:
    """An empty ledger in memory, closed after the test."""
    with Ledger.in_memory() as ledger:
        yield ledger


@pytest.fixture
def dpledger_sqlite_path(tmp_path: Path) -> Path:
    """Where ``dpledger_sqlite_ledger`` keeps its file (a second ``Ledger.sqlite`` on it sees
    everything the first saved)."""
    return tmp_path / "dpledger.sqlite"


@pytest.fixture
def dpledger_sqlite_ledger(dpledger_sqlite_path: Path) -> Iterator[Ledger]:
    """An empty ledger on a new SQLite file, closed after the test."""
    with Ledger.sqlite(dpledger_sqlite_path) as ledger:
        yield ledger


@pytest.fixture(params=["memory", "sqlite"])
def dpledger_any_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """An empty ledger, once in memory and once on a SQLite file."""
    store = (
        Ledger.in_memory() if request.param == "memory" else Ledger.sqlite(tmp_path / "l.sqlite")
    )
    with store as ledger:
        yield ledger
