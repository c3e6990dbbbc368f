"""Fixtures of the audit tests: the scenario of :mod:`audit_scenario` on a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_scenario import clock, record_scenario

from dpledger import Ledger
from dpledger.domain import events as ev


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events recorded one minute apart from CLOCK_START, so digests repeat run after run: the
    account's events and its bank account's on one clock, as they are recorded in one order."""
    tick = classmethod(clock())
    monkeypatch.setattr(ev.AccountEvent, "create_timestamp", tick)
    monkeypatch.setattr(ev.BankAccountEvent, "create_timestamp", tick)


@pytest.fixture
def audited(frozen_clock: None, tmp_path: Path) -> Iterator[Ledger]:
    """A ledger holding the scenario, recorded on the frozen clock."""
    with Ledger.in_memory() as ledger:
        record_scenario(ledger, tmp_path)
        yield ledger
