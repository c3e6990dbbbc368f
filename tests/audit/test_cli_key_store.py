"""``dpledger key-store``: keying a store's chain from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dpledger import Ledger
from dpledger.cli import main


def test_a_store_is_keyed_then_verify_needs_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.sqlite"
    with Ledger.sqlite(store) as ledger:
        ledger.open_account(
            "DP-1",
            person_ref="P-1",
            council="C",
            provider="P",
            effective_date="2026-04-06",
            actor="a",
        )
    monkeypatch.delenv("DPLEDGER_CHAIN_KEY", raising=False)
    assert main(["key-store", "--store", str(store)]) == 1
    assert "no chain key" in capsys.readouterr().err
    monkeypatch.setenv("DPLEDGER_CHAIN_KEY", "k1:" + "s" * 32)
    assert main(["key-store", "--store", str(store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["key_id"] == "k1"
    assert report["rekeyed"] is False
    assert main(["verify", "--store", str(store)]) == 0
    monkeypatch.delenv("DPLEDGER_CHAIN_KEY")
    capsys.readouterr()
    assert main(["verify", "--store", str(store)]) == 1
    assert "DPLEDGER_CHAIN_KEY" in capsys.readouterr().err
