"""Accounts kept in memory after a save: always brought up to date, never reused half-changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpledger import Ledger, Money
from dpledger.domain.account import account_uuid
from dpledger.errors import InsufficientFunds

ACCOUNT = "DP-CACHE"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _open(ledger: Ledger) -> None:
    ledger.open_account(ACCOUNT, person_ref="P-1", council="C", provider="P", **DAY)
    ledger.receive_council_payment(ACCOUNT, amount="100.00", **DAY)


def test_a_saved_account_is_kept_and_the_next_command_reads_only_what_is_new(
    tmp_path: Path,
) -> None:
    with Ledger.sqlite(tmp_path / "s.sqlite") as ledger:
        _open(ledger)
        repository = ledger.application.checked_repository
        assert account_uuid(ACCOUNT) in repository._kept
        kept = repository._kept[account_uuid(ACCOUNT)]
        ledger.receive_contribution(ACCOUNT, amount="5.00", **DAY)
        # the same object, one event further on: nothing was loaded from the snapshot or replayed
        assert repository._kept[account_uuid(ACCOUNT)] is kept
        assert kept.version == 3


def test_events_another_writer_saved_are_applied_to_the_kept_account(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Ledger.sqlite(path) as first, Ledger.sqlite(path) as second:
        _open(first)
        second.receive_contribution(ACCOUNT, amount="5.00", **DAY)  # second keeps it at v3
        first.receive_contribution(ACCOUNT, amount="7.00", **DAY)  # first brings its copy on
        second.pay_care_plan_spend(
            ACCOUNT, category="insurance", amount="112.00", description="cover", **DAY
        )  # all £112.00: only right if second saw first's £7.00
        assert second.bank_balance(ACCOUNT) == Money(0)
        assert first.bank_balance(ACCOUNT) == Money(0)


def test_a_refused_command_leaves_no_half_changed_account_behind(tmp_path: Path) -> None:
    with Ledger.sqlite(tmp_path / "s.sqlite") as ledger:
        _open(ledger)
        repository = ledger.application.checked_repository
        with pytest.raises(InsufficientFunds):
            ledger.pay_care_plan_spend(
                ACCOUNT, category="insurance", amount="500.00", description="cover", **DAY
            )
        assert account_uuid(ACCOUNT) not in repository._kept  # dropped, not handed back
        receipt = ledger.receive_contribution(ACCOUNT, amount="5.00", **DAY)
        assert receipt.version == 3
        assert ledger.load(ACCOUNT).version == 3
        assert ledger.bank_balance(ACCOUNT) == Money("105.00")


def test_no_account_is_kept_when_the_cache_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPLEDGER_ACCOUNT_CACHE", "0")
    with Ledger.sqlite(tmp_path / "s.sqlite") as ledger:
        _open(ledger)
        ledger.receive_contribution(ACCOUNT, amount="5.00", **DAY)
        assert ledger.application.checked_repository._kept == {}
        assert ledger.bank_balance(ACCOUNT) == Money("105.00")


def test_a_bad_cache_size_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dpledger.errors import StoreError

    monkeypatch.setenv("DPLEDGER_ACCOUNT_CACHE", "lots")
    with pytest.raises(StoreError, match="DPLEDGER_ACCOUNT_CACHE"):
        Ledger.sqlite(tmp_path / "s.sqlite")
