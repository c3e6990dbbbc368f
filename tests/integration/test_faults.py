"""Faults: a store that becomes read-only or full, a PostgreSQL connection dropped mid-commit,
and a process killed at random points during batches and imports.

Each failed save is a :class:`StoreError` that records nothing (no event, no key-index row, no
half of a transaction); each killed run, run again, leaves the ledger identical to a clean run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dpledger import Ledger
from dpledger.errors import StoreError

sys.path.insert(0, str(Path(__file__).parent))
CRASH_WORKER = Path(__file__).with_name("crash_worker.py")
DAY = {"effective_date": "2026-04-06", "actor": "fault-test"}


def _opened(url: str) -> Ledger:
    ledger = Ledger(url)
    ledger.open_account("DP-F", person_ref="P-F", council="Kent", provider="SOLO", **DAY)
    ledger.receive_council_payment("DP-F", amount="500.00", idempotency_key="pay-1", **DAY)
    return ledger


def _spend(ledger: Ledger, key: str = "spend-1") -> Any:
    return ledger.pay_care_plan_spend(
        "DP-F", category="insurance", amount="85.00", description="EL", idempotency_key=key, **DAY
    )


def _fingerprint(ledger: Ledger) -> dict[str, Any]:
    """What a ledger holds, without the wall-clock timestamps and the digests over them: each
    account's events (type, effective date, key, postings) and balances."""
    held: dict[str, Any] = {}
    for account in ledger.account_ids():
        events = [
            (type(e).__name__, e.effective_date, e.command_key, tuple(e.postings))
            for e in ledger.events(account)
        ]
        held[account] = (events, ledger.balances(account))
    return held


# ----------------------------------------------------------------------------- SQLite
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of its own (needs root, as CI runs here)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (not root?): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_store_error_and_records_nothing(small_disk: Path) -> None:
    url = f"sqlite:///{small_disk / 'full.sqlite'}"
    ledger = _opened(url)
    before = _fingerprint(ledger)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last byte
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    written: list[int] = []

    def spend_until_it_fails() -> None:
        for n in range(200):  # the WAL may take a few events before it needs a new page
            _spend(ledger, f"spend-{n}")
            written.append(n)

    with pytest.raises(StoreError) as refused:
        spend_until_it_fails()
    assert "nothing was recorded" in str(refused.value)
    assert "full" in str(refused.value)
    assert len(ledger.events("DP-F")) == 2 + len(written)
    ledger.close()
    filler.unlink()
    with Ledger(url) as again:  # every save before the failing one whole, nothing of it
        after = _fingerprint(again)
        assert len(after["DP-F"][0]) == 2 + len(written)
        assert after["DP-F"][0][:2] == before["DP-F"][0]
        assert again.bank_balance("DP-F").pence == 50_000 - 8_500 * len(written)
        assert again.verify().ok
        _spend(again, "after")  # the room is back: it writes again


def _read_only(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make the store read-only under the open ledger: the file's permissions, and (root
    ignores them) SQLite's query_only on every connection, which fails writes the same way."""
    path.chmod(0o444)
    pool: Any = ledger.application.factory.datastore.pool  # type: ignore[attr-defined]
    for conn in list(pool._pool):
        conn._sqlite_conn.execute("PRAGMA query_only = ON")
    create = pool._create_connection

    def read_only_connection() -> Any:
        conn = create()
        conn._sqlite_conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(pool, "_create_connection", read_only_connection)


def test_a_read_only_store_is_a_store_error_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ro.sqlite"
    ledger = _opened(f"sqlite:///{path}")
    before = _fingerprint(ledger)
    _read_only(ledger, monkeypatch, path)
    with pytest.raises(StoreError) as refused:
        _spend(ledger)
    assert "nothing was recorded" in str(refused.value)
    assert "readonly" in str(refused.value).replace("-", "").replace(" ", "")
    assert _fingerprint(ledger) == before
    ledger.close()
    path.chmod(0o644)
    monkeypatch.undo()
    with Ledger(f"sqlite:///{path}") as again:
        assert _fingerprint(again) == before
        assert again.verify().ok
        assert _spend(again).replayed is False  # the key was never taken


# ----------------------------------------------------------------------------- PostgreSQL
def _terminating(ledger: Ledger, times: int) -> list[int]:
    """Make the next ``times`` saves lose their connection half-way: after the key-index rows
    are written in the transaction and before the events are, another connection terminates
    the saving backend (``pg_terminate_backend``)."""
    import psycopg

    recorder: Any = ledger.application.recorder
    write = recorder._write
    killed: list[int] = []

    def write_then_die(curs: Any, changes: Any) -> None:
        write(curs, changes)
        if len(killed) < times:
            pid = curs.connection.info.backend_pid
            with psycopg.connect(
                host="127.0.0.1", port=5432, dbname="test", user="postgres", autocommit=True
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)
            curs.execute("SELECT 1")  # the connection is gone

    recorder._write = write_then_die
    return killed


def _index_rows(url: str) -> int:
    import psycopg

    schema = url.split("schema=")[1]
    with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres") as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".dpledger_keys').fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
def test_a_connection_dropped_mid_commit_is_a_store_error_and_writes_nothing(
    postgres_url: str,
) -> None:
    ledger = _opened(postgres_url)
    before, rows = _fingerprint(ledger), _index_rows(postgres_url)
    killed = _terminating(ledger, times=100)  # every attempt eventsourcing makes
    with pytest.raises(StoreError) as refused:
        _spend(ledger)
    assert len(killed) >= 2  # the store retried on a new connection, which was dropped too
    assert "nothing was recorded" in str(refused.value)
    assert _fingerprint(ledger) == before
    assert _index_rows(postgres_url) == rows  # not even the key-index half of the transaction
    ledger.close()
    with Ledger(postgres_url) as again:
        assert again.verify().ok
        assert _spend(again).replayed is False


@pytest.mark.postgres
def test_a_connection_dropped_once_is_retried_and_written_once(postgres_url: str) -> None:
    ledger = _opened(postgres_url)
    rows = _index_rows(postgres_url)
    killed = _terminating(ledger, times=1)
    receipt = _spend(ledger)
    assert len(killed) == 1
    assert receipt.version == 3
    assert [type(e).__name__ for e in ledger.events("DP-F")][-1] == "CarePlanSpendPaid"
    assert len(ledger.events("DP-F")) == 3
    assert _spend(ledger).replayed is True
    rows_after = _index_rows(postgres_url)
    _spend(ledger, "spend-2")  # the same command, its connection left alone
    assert rows_after - rows == _index_rows(postgres_url) - rows_after  # its rows once
    ledger.close()


# ----------------------------------------------------------------------------- killed processes
def _run_worker(url: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CRASH_WORKER), url, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(url: str, folder: Path) -> None:
    process = _run_worker(url, folder)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert out.strip() == "done"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Store URLs for the clean run and the killed runs, on SQLite files or PostgreSQL schemas."""
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / name}.sqlite"
        return
    base = request.getfixturevalue("postgres_server")
    from test_postgres_load import drop_schema

    run = uuid.uuid4().hex[:8]
    made: list[str] = []

    def url(name: str) -> str:
        made.append(f"dpledger_crash_{run}_{name}")
        return f"{base}?schema={made[-1]}"

    yield url
    for schema in made:
        drop_schema(schema)


def test_a_process_killed_at_random_points_then_run_again_leaves_the_clean_ledger(
    crash_urls: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_url = crash_urls("clean")
    (tmp_path / "clean").mkdir()
    started = time.monotonic()
    _finish(clean_url, tmp_path / "clean")
    clean_seconds = time.monotonic() - started
    with Ledger(clean_url) as clean:
        expected = _fingerprint(clean)
    assert len(expected) == 6

    rng = random.Random(int(os.environ.get("DPLEDGER_CRASH_SEED", "5")))
    kills = runs = 0
    divergences = []
    for round_ in range(4):
        url = crash_urls(f"killed{round_}")
        folder = tmp_path / f"killed{round_}"
        folder.mkdir()
        killed_here = 0
        for attempt in range(6):  # up to three kills in a row, each at a random point, then finish
            if attempt >= 3 and killed_here:
                break
            process = _run_worker(url, folder)
            # A point within the time a whole run took (a re-run has less left to do, and a
            # loaded machine runs at its own pace: later attempts kill early to be sure of one).
            share = rng.uniform(0.1, 0.9) if attempt < 3 else 0.05
            time.sleep(share * clean_seconds)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
                killed_here += 1
            process.communicate(timeout=120)
            runs += 1
        _finish(url, folder)
        with Ledger(url) as after:
            if _fingerprint(after) != expected:
                divergences.append(url)
            report = after.verify()
            assert report.ok, report
    assert divergences == []
    assert kills >= 4
    with capsys.disabled():
        print(f"\ncrash test: {runs} runs, {kills} killed with SIGKILL, 0 divergences")
