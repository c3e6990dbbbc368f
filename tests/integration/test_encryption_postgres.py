"""Encryption at rest and erasure on PostgreSQL: the tables, read with SQL (``bytea`` columns
searched as bytes), hold no personal value in clear; erasure keeps figures and ``verify``."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from psycopg import sql

from dpledger import Ledger
from dpledger.adapters.datakeys import DATA_KEY_ENV, DATA_KEY_FILE_ENV, DATA_OLD_KEYS_ENV
from dpledger.domain.personal import ERASED, DataKeyError

sys.path.insert(0, str(Path(__file__).parent))
import encryption_scenario as scenario

pytestmark = pytest.mark.postgres

KEY = "k1:" + "a" * 40
ENCRYPTED_TABLES = (
    "dpledger_events",
    "dpledger_snapshots",
    "dpv_audit",
    "dpv_stated",
    "dpledger_keys",
)
"""The tables that hold no personal value in clear (see test_encryption.py for the others)."""


def _found(url: str, tables: tuple[str, ...] | None, words: tuple[str, ...]) -> dict[str, int]:
    """How many rows of the schema's ``tables`` (default: all) hold each word in clear."""
    schema = parse_qs(urlparse(url).query)["schema"][0]
    found: dict[str, int] = {}
    with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres") as db:
        columns = db.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for table, column, kind in columns:
            if tables is not None and table not in tables:
                continue
            name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            if kind == "bytea":
                test = sql.SQL("position(%s::bytea in {}) > 0").format(sql.Identifier(column))
            else:
                test = sql.SQL("{}::text LIKE %s").format(sql.Identifier(column))
            query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(name, test)
            for word in words:
                value = word.encode() if kind == "bytea" else f"%{word}%"
                hits = db.execute(query, (value,)).fetchone()
                if hits and hits[0]:
                    found[f"{table}.{column}:{word}"] = int(hits[0])
    return found


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (DATA_KEY_ENV, DATA_OLD_KEYS_ENV, DATA_KEY_FILE_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_search_finds_personal_values_in_a_store_without_a_key(
    no_key: None, postgres_url: str, tmp_path: Path
) -> None:
    # The control: the same search on a store written in clear finds them, bytea included.
    with Ledger.postgres(postgres_url) as ledger:
        scenario.record(ledger, tmp_path)
        ledger.catch_up()
    found = _found(postgres_url, ENCRYPTED_TABLES, scenario.PERSONAL_WORDS)
    assert "dpledger_events.state:Pemberton" in found
    assert "dpv_audit.actor:Hortensia" in found


def test_an_encrypted_store_holds_none_and_erases(
    no_key: None, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, KEY)
    words = (*scenario.PERSONAL_WORDS, scenario.KEEP_WORD)
    with Ledger.postgres(postgres_url) as ledger:
        scenario.record(ledger, tmp_path, reviews=50)
        ledger.catch_up()
        assert ledger.verify().ok
        assert _found(postgres_url, ENCRYPTED_TABLES, words) == {}
        balances = ledger.balances(scenario.ACCOUNT)
        assert ledger.erase_person(scenario.ACCOUNT, actor="dpo", reason="retention ended")
        assert ledger.balances(scenario.ACCOUNT) == balances
        assert ledger.account(scenario.ACCOUNT).person_ref == ERASED
        assert ledger.account(scenario.OTHER).person_ref == scenario.KEEP_WORD
        report = ledger.verify()
        assert report.ok, report.broken
    assert _found(postgres_url, None, scenario.PERSONAL_WORDS) == {}  # every table, once erased
    monkeypatch.delenv(DATA_KEY_ENV)
    with pytest.raises(DataKeyError, match="is encrypted"):
        Ledger.postgres(postgres_url)
