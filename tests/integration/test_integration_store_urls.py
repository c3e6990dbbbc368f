"""Store URLs: the accepted forms, and StoreError (with a fix) for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpledger import Ledger, Money
from dpledger.adapters.store import redact, store_environment
from dpledger.errors import DpledgerError, StoreError, ValidationError

DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _use(ledger: Ledger) -> None:
    ledger.open_account("DP-U", person_ref="P", council="C", provider="S", **DAY)
    ledger.receive_council_payment("DP-U", amount="1.23", **DAY)
    assert ledger.bank_balance("DP-U") == Money("1.23")


@pytest.mark.parametrize(
    ("url", "message", "fix"),
    [
        ("mysql://user@host/db", "unknown store URL 'mysql://user@host/db'", "memory:"),
        ("http://example.org/store", "unknown store URL", "postgresql://"),
        ("sqlite://", "no file in 'sqlite://'", "sqlite:///relative.sqlite"),
        ("postgresql://postgres@127.0.0.1:5432", "no database name", "end the URL with /dbname"),
        ("postgres://postgres@127.0.0.1:5432/", "no database name", "end the URL with /dbname"),
        (
            "sqlite:////no-such-folder-dpledger/x/store.sqlite",
            "the folder /no-such-folder-dpledger/x for the SQLite store does not exist",
            "create it first",
        ),
    ],
)
def test_bad_store_urls_raise_store_error_with_a_fix(url: str, message: str, fix: str) -> None:
    with pytest.raises(StoreError) as caught:
        Ledger(url)
    assert isinstance(caught.value, DpledgerError)
    assert message in str(caught.value)
    assert fix in caught.value.fix


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("this is not a SQLite database, just some words " * 10)
    with pytest.raises(StoreError, match="file is not a database") as caught:
        Ledger.sqlite(path)
    assert "check the URL" in caught.value.fix


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError) as caught:
        Ledger("postgresql://postgres@127.0.0.1:1/test?schema=nowhere&connect_timeout=1")
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in str(caught.value)
    assert "server is running" in caught.value.fix


def test_store_errors_never_show_the_password() -> None:
    url = "postgresql://postgres:s3cret-pw@127.0.0.1:1/test?connect_timeout=1"
    with pytest.raises(StoreError) as caught:
        Ledger(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "postgres:***@127.0.0.1:1" in str(caught.value)
    assert redact(url) == "postgresql://postgres:***@127.0.0.1:1/test?connect_timeout=1"
    assert redact("memory:") == "memory:"


def test_postgres_factory_refuses_other_urls() -> None:
    with pytest.raises(ValidationError) as caught:
        Ledger.postgres("sqlite:///x.sqlite")
    assert caught.value.field == "url"


def test_postgres_url_parts() -> None:
    env = store_environment(
        "postgresql://dp%40user:p%2Fw@db.example:6543/ledger?schema=kent&connect_timeout=2"
    )
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "dp@user",
        "POSTGRES_PASSWORD": "p/w",
        "POSTGRES_CONNECT_TIMEOUT": "2",
        "POSTGRES_SCHEMA": "kent",
        # pooling and timeouts (docs/operations.md), at dpledger's defaults
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
        "DPLEDGER_STATEMENT_TIMEOUT": "30",
        "POSTGRES_PRE_PING": "yes",
        "POSTGRES_CONN_MAX_AGE": "3600",
    }
    defaults = store_environment("postgresql://host-only/db")
    assert defaults["POSTGRES_PORT"] == "5432"
    assert defaults["POSTGRES_USER"] == "postgres"
    assert defaults["POSTGRES_CONNECT_TIMEOUT"] == "5"
    assert "POSTGRES_SCHEMA" not in defaults


@pytest.mark.parametrize("url", ["memory:", "memory://"])
def test_memory_urls(url: str) -> None:
    with Ledger(url) as ledger:
        _use(ledger)
    with Ledger(url) as fresh:  # nothing survives
        assert fresh.account_ids() == []


def test_sqlite_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Ledger("sqlite:///relative.sqlite") as ledger:  # three slashes: relative to the cwd
        _use(ledger)
    assert (tmp_path / "relative.sqlite").is_file()
    absolute = tmp_path / "absolute.sqlite"
    with Ledger(f"sqlite:///{absolute}") as ledger:  # four slashes: an absolute path
        _use(ledger)
    assert absolute.is_file()
    with Ledger.sqlite(tmp_path / "factory.sqlite") as ledger:
        _use(ledger)
    with Ledger(str(tmp_path / "bare.sqlite")) as ledger:  # a bare path
        _use(ledger)
    assert (tmp_path / "bare.sqlite").is_file()
    with Ledger(str(tmp_path / "bare.sqlite")) as ledger:
        assert ledger.bank_balance("DP-U") == Money("1.23")


def test_default_store_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPLEDGER_STORE", "memory:")
    with Ledger() as ledger:
        assert ledger.store_url == "memory:"
        _use(ledger)


def test_default_store_is_a_sqlite_file_in_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DPLEDGER_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    with Ledger() as ledger:
        assert ledger.store_url == "dpledger.sqlite"
        _use(ledger)
    assert (tmp_path / "dpledger.sqlite").is_file()
