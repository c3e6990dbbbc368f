"""Encryption at rest and erasure (crypto-shredding) on SQLite and in memory.

With ``DPLEDGER_DATA_KEY`` set, the raw SQLite file holds no personal value of the scenario in
clear in the events, snapshots, audit trail or stated balances; a missing or wrong key is a
``DataKeyError`` naming the fix, never a report of tampering; erasing a person leaves every
figure, the audit sheet's arithmetic and ``verify`` as they were, with their personal values
read as ``[erased]``.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from dpledger import Ledger
from dpledger.adapters.datakeys import (
    DATA_KEY_ENV,
    DATA_KEY_FILE_ENV,
    DATA_OLD_KEYS_ENV,
    KEYS_TABLE,
)
from dpledger.domain.errors import RuleViolation
from dpledger.domain.personal import ERASED, DataKeyError

sys.path.insert(0, str(Path(__file__).parent))
import encryption_scenario as scenario

KEY = "k1:" + "a" * 40
OTHER_SECRET = "k1:" + "b" * 40
NEW_KEY = "k2:" + "c" * 40
ENCRYPTED_TABLES = (
    "stored_events",
    "stored_snapshots",
    "dpv_audit",
    "dpv_stated",
    "dpledger_keys",
)
"""The tables that hold no personal value in clear (see the report for the others)."""
LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"


def _found(path: Path, tables: tuple[str, ...], words: tuple[str, ...]) -> dict[str, int]:
    """How many rows of ``tables`` hold each word in clear, in any column (raw SQL)."""
    found: dict[str, int] = {}
    with sqlite3.connect(path) as db:
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for word in words:
                for column in columns:
                    sql = f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE ?"
                    hits = db.execute(sql, (f"%{word}%",)).fetchone()[0]
                    if hits:
                        found[f"{table}.{column}:{word}"] = hits
    return found


def _state_bytes(path: Path, table: str) -> list[bytes]:
    with sqlite3.connect(path) as db:
        return [bytes(r[0]) for r in db.execute(f"SELECT state FROM {table}")]


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, KEY)
    monkeypatch.delenv(DATA_OLD_KEYS_ENV, raising=False)
    monkeypatch.delenv(DATA_KEY_FILE_ENV, raising=False)


@pytest.fixture
def recorded(keyed: None, tmp_path: Path) -> Path:
    """An encrypted SQLite store holding the scenario, with every read model caught up."""
    path = tmp_path / "encrypted.sqlite"
    with Ledger.sqlite(path) as ledger:
        scenario.record(ledger, tmp_path, reviews=50)  # a snapshot of each account
        ledger.catch_up()
        assert ledger.verify().ok
    return path


def test_the_store_holds_no_personal_value_in_clear(recorded: Path) -> None:
    assert _found(recorded, ENCRYPTED_TABLES, (*scenario.PERSONAL_WORDS, scenario.KEEP_WORD)) == {}
    events = _state_bytes(recorded, "stored_events")
    snapshots = _state_bytes(recorded, "stored_snapshots")
    assert snapshots, "the scenario takes a snapshot"
    # Whole states are encrypted too: no amount, date or account id in clear in them.
    assert all(state.startswith(b"DPE1") for state in events + snapshots)
    assert b"DP-ENC" not in b"".join(events)


def test_the_whole_file_holds_no_personal_value_in_clear(recorded: Path) -> None:
    raw = recorded.read_bytes()
    words = (*scenario.PERSONAL_WORDS, scenario.KEEP_WORD)
    assert {w: raw.count(w.encode()) for w in words if w.encode() in raw} == {}


def test_with_the_key_everything_reads_as_recorded(recorded: Path) -> None:
    with Ledger.sqlite(recorded) as ledger:
        assert ledger.account(scenario.ACCOUNT).person_ref == "P-ZEPHYRINE-77"
        trail = ledger.audit_trail(scenario.ACCOUNT)
        assert trail[0].actor == "officer Hortensia"
        assert trail[0].details["person_ref"] == "P-ZEPHYRINE-77"
        assert any(e.reason == "Ottoline keyed it twice" for e in trail)
        assert any("Pemberton" in str(e.details) for e in trail)
        # A warning quoting a bank line's text is kept sealed and reads as raised.
        raised = ledger.warnings(scenario.ACCOUNT, active_only=False)
        assert any("Aloysius" in w.explanation for w in raised)
        report = ledger.verify()
        assert report.ok, report.broken
        assert report.snapshots_checked >= 1


def test_without_the_key_opening_says_so(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_KEY_ENV)
    with pytest.raises(DataKeyError) as raised:
        Ledger.sqlite(recorded)
    text = str(raised.value)
    assert "is encrypted" in text
    assert DATA_KEY_ENV in text
    assert "'k1'" in text
    assert "tamper" not in text.lower()


def test_a_wrong_secret_says_so(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, OTHER_SECRET)
    with pytest.raises(DataKeyError, match="not the one this store's keys were wrapped with"):
        Ledger.sqlite(recorded)


def test_another_key_names_the_one_needed(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, NEW_KEY)
    with pytest.raises(DataKeyError, match=r"wrapped under the data key 'k1'.*configured are k2"):
        Ledger.sqlite(recorded)


def test_a_short_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, "short")
    with pytest.raises(DataKeyError, match="shorter than 16 bytes"):
        Ledger.sqlite(tmp_path / "s.sqlite")


def test_rotation_rewraps_every_key(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, NEW_KEY)
    monkeypatch.setenv(DATA_OLD_KEYS_ENV, KEY)
    with Ledger.sqlite(recorded) as ledger:
        keys = ledger.application.data_keys
        assert keys is not None
        assert keys.rewrap() >= 3  # the store key and each aggregate's
        assert keys.rewrap() == 0
    monkeypatch.delenv(DATA_OLD_KEYS_ENV)
    with Ledger.sqlite(recorded) as ledger:
        assert ledger.account(scenario.ACCOUNT).person_ref == "P-ZEPHYRINE-77"
        assert ledger.verify().ok
    with sqlite3.connect(recorded) as db:
        assert {r[0] for r in db.execute(f"SELECT master_id FROM {KEYS_TABLE}")} == {"k2"}


def test_a_key_file_works_like_the_variable(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(f"# the data key\n{KEY}\n")
    monkeypatch.delenv(DATA_KEY_ENV)
    monkeypatch.setenv(DATA_KEY_FILE_ENV, str(key_file))
    with Ledger.sqlite(recorded) as ledger:
        assert ledger.verify().ok


def test_an_altered_ciphertext_is_tampering_not_a_key_error(recorded: Path) -> None:
    with sqlite3.connect(recorded) as db:
        rowid, state = db.execute(
            "SELECT rowid, state FROM stored_events ORDER BY rowid LIMIT 1 OFFSET 3"
        ).fetchone()
        changed = bytes(state[:-1]) + bytes([state[-1] ^ 1])
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (changed, rowid))
    with Ledger.sqlite(recorded) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert any("does not decrypt" in b.reason for b in report.broken)


def _snapshots(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM stored_snapshots").fetchone()[0])


def test_erasure_keeps_the_figures_and_the_chain(recorded: Path) -> None:
    assert _snapshots(recorded) == 2
    with Ledger.sqlite(recorded) as ledger:
        balances = ledger.balances(scenario.ACCOUNT)
        sheet = ledger.statement(scenario.ACCOUNT, "2026-04-01", "2026-05-31")
        events = len(ledger.audit_trail(scenario.ACCOUNT))
        assert ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="retention ended")
        assert not ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="again")
        assert ledger.balances(scenario.ACCOUNT) == balances
        after = ledger.statement(scenario.ACCOUNT, "2026-04-01", "2026-05-31")
        assert (after.opening, after.closing) == (sheet.opening, sheet.closing)
        assert ledger.account(scenario.ACCOUNT).person_ref == ERASED
        trail = ledger.audit_trail(scenario.ACCOUNT)
        assert len(trail) == events
        assert {e.actor for e in trail} == {ERASED}
        assert trail[0].details["person_ref"] == ERASED
        assert ledger.account(scenario.OTHER).person_ref == scenario.KEEP_WORD
        explanations = [w.explanation for w in ledger.warnings(active_only=False)]
        assert ERASED in explanations
        assert not any("Aloysius" in text for text in explanations)
        report = ledger.verify()
        assert report.ok, report.broken
    assert _snapshots(recorded) == 1  # the erased person's snapshot went with their key
    with Ledger.sqlite(recorded) as ledger:  # and so it stays, reopened
        assert ledger.verify().ok
        assert ledger.replay(scenario.ACCOUNT, "2026-05-31").projection_agrees
        assert ledger.account(scenario.ACCOUNT).person_ref == ERASED
    raw = recorded.read_bytes()
    for word in ("P-ZEPHYRINE", "Quillfeather", "Pemberton", "Aloysius", "Ottoline"):
        assert word.encode() not in raw, word
    with sqlite3.connect(recorded) as db:
        row = db.execute(
            f"SELECT wrapped, erased_reason FROM {KEYS_TABLE} WHERE erased_at IS NOT NULL"
        ).fetchone()
    assert row == (None, "retention ended (by dpo)")


def test_only_a_closed_account_is_erased(keyed: None, tmp_path: Path) -> None:
    with Ledger.sqlite(tmp_path / "s.sqlite") as ledger:
        scenario.record(ledger, tmp_path, close=False)
        with pytest.raises(RuleViolation, match="close the account first"):
            ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="too soon")
        assert ledger.account(scenario.ACCOUNT).person_ref == "P-ZEPHYRINE-77"


def test_an_unencrypted_store_cannot_erase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_KEY_ENV, raising=False)
    monkeypatch.delenv(DATA_KEY_FILE_ENV, raising=False)
    with Ledger.sqlite(tmp_path / "s.sqlite") as ledger:
        scenario.record(ledger, tmp_path)
        with pytest.raises(DataKeyError, match="not encrypted"):
            ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="retention ended")
        assert ledger.verify().ok


def test_memory_store_erases_too(keyed: None, tmp_path: Path) -> None:
    with Ledger.in_memory() as ledger:
        scenario.record(ledger, tmp_path)
        before = ledger.balances(scenario.ACCOUNT)
        assert ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="retention ended")
        assert ledger.balances(scenario.ACCOUNT) == before
        assert ledger.account(scenario.ACCOUNT).person_ref == ERASED
        assert ledger.verify().ok


def test_a_store_written_in_clear_can_be_encrypted_from_then_on(
    keyed: None, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.sqlite"
    shutil.copyfile(LEGACY / "store_v0_1.sqlite", path)
    with Ledger.sqlite(path) as ledger:
        assert ledger.verify().ok
        account = ledger.account_ids()[0]
        ledger.record_review(account, effective_date="2026-01-05", actor="Hortensia")
        assert ledger.verify().ok
        assert ledger.audit_trail(account)[-1].actor == "Hortensia"
    assert b"Hortensia" not in path.read_bytes()


def test_a_history_exported_from_an_encrypted_store_holds_no_personal_value(
    recorded: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    with Ledger.sqlite(recorded) as ledger:
        ledger.export_history(history)
    text = history.read_text()
    assert "QC-100" in text  # an invoice number: the file is not encrypted whole
    assert [w for w in scenario.PERSONAL_WORDS if w in text] == []
    with Ledger.sqlite(tmp_path / "copy.sqlite") as copy:
        copy.import_history(history)
        assert copy.verify().ok  # the digests cover the sealed values' commitments


def test_the_command_line_names_a_missing_key(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dpledger.cli import main

    store = ["--store", str(recorded)]
    assert main(["verify", *store]) == 0
    monkeypatch.delenv(DATA_KEY_ENV)
    assert main(["verify", *store]) == 1  # a key problem (exit 1), not tampering (exit 3)
    assert f"set {DATA_KEY_ENV}" in capsys.readouterr().err
