"""Tampering with a keyed store: every kind of direct edit is exposed by ``verify`` given the chain
key, without seals and with them.

Each kind is what someone who can write the database (but does not hold the chain key) can do to
the rows: edit bytes, delete, reorder, copy, cut the tail, delete an account, rewrite an amount
and recompute the whole chain after it, append a forged event with a valid chain, put back an
older authentic keyed head, and so on. A store written without a key misses some of them
(truncation, deletion, recomputed chains, forged appends); with the key, none.

What no key beside the store can expose, the whole store put back to an earlier consistent copy
of itself, is shown last: only a seal kept outside catches it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from dpledger import Ledger
from dpledger.adapters.store import open_application
from dpledger.domain.account import account_uuid
from dpledger.domain.chain import GENESIS, event_digest
from dpledger.domain.keyring import ChainKeyError, Keyring, key_id_of
from dpledger.domain.money import Money

_HERE = importlib.util.spec_from_file_location(
    "_keyed_scenario", Path(__file__).with_name("conftest.py")
)
assert _HERE is not None
assert _HERE.loader is not None
_scenario = importlib.util.module_from_spec(_HERE)
_HERE.loader.exec_module(_scenario)
run_scenario: Callable[[Ledger, str], None] = _scenario.run_scenario

KEY_A = "A:" + "secret-of-key-a-" * 2
KEY_B = "B:" + "secret-of-key-b-" * 2
ONE, TWO = "DP-KEY-1", "DP-KEY-2"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (its write-ahead log included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _ledger(path: Path, key: str | Keyring | None = KEY_A) -> Ledger:
    return Ledger(f"sqlite:///{path}", chain_key=key)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A keyed store of two accounts, and the keyed heads as they were one command earlier."""
    path = tmp_path_factory.mktemp("keyed") / "pristine.sqlite"
    with _ledger(path) as ledger:
        run_scenario(ledger, ONE)
        run_scenario(ledger, TWO)
        with closing(sqlite3.connect(path)) as db:
            older = db.execute("SELECT * FROM dpledger_heads").fetchall()
        ledger.receive_contribution(ONE, amount="10.00", **DAY)
        assert ledger.verify().ok
    return path, older


@pytest.fixture
def store(pristine: tuple[Path, list[Any]], tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store.sqlite"
    _copy(pristine[0], path)
    return path


# ------------------------------------------------------------------------------ edits
def _rows(db: sqlite3.Connection, account: str = ONE) -> list[Any]:
    """One account's stored rows in version order: rowid, id, version, topic, state."""
    return db.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
        " WHERE originator_id = ? ORDER BY originator_version",
        (account_uuid(account).hex,),
    ).fetchall()


def _rechain(path: Path, db: sqlite3.Connection, at: int, change: Callable[[Any], Any]) -> None:
    """Change the event at index ``at`` of ONE and recompute every digest and link after it, as
    a forger who knows the chain's rules would."""
    app = open_application(f"sqlite:///{path}")
    try:
        rows = _rows(db)
        events = [
            app.mapper.to_domain_event(r) for r in app.recorder.select_events(account_uuid(ONE))
        ]
        previous = events[at - 1].digest if at else GENESIS
        for index in range(at, len(events)):
            event = change(events[index]) if index == at else events[index]
            event = dataclasses.replace(event, previous_digest=previous)
            event = dataclasses.replace(event, digest=event_digest(event))
            previous = event.digest
            state = app.mapper.to_stored_event(event).state
            db.execute(
                "UPDATE stored_events SET state = ? WHERE rowid = ?", (state, rows[index][0])
            )
    finally:
        app.close()


def _append_forged(path: Path, db: sqlite3.Connection) -> None:
    """A validly chained copy of ONE's contribution, appended as its next version."""
    app = open_application(f"sqlite:///{path}")
    try:
        events = [
            app.mapper.to_domain_event(r) for r in app.recorder.select_events(account_uuid(ONE))
        ]
        model = next(e for e in reversed(events) if type(e).__name__ == "ContributionReceived")
        last = events[-1]
        forged = dataclasses.replace(
            model,
            originator_version=last.originator_version + 1,
            previous_digest=last.digest,
            amount=Money("999.00"),
            command_key=None,
        )
        forged = dataclasses.replace(forged, digest=event_digest(forged))
        stored = app.mapper.to_stored_event(forged)
    finally:
        app.close()
    db.execute(
        "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
        " VALUES (?, ?, ?, ?)",
        (account_uuid(ONE).hex, forged.originator_version, stored.topic, stored.state),
    )


def _edit_byte(path: Path, db: sqlite3.Connection) -> None:
    rowid, *_, state = _rows(db)[5]
    data = bytearray(state)
    data[len(data) // 2] ^= 0x01
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(data), rowid))


def _edit_amount(path: Path, db: sqlite3.Connection) -> None:
    rowid, *_, state = _rows(db)[2]
    edited = bytes(state).replace(b"200000", b"200001", 1)
    assert edited != bytes(state)
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (edited, rowid))


def _rewrite_amount(path: Path, db: sqlite3.Connection) -> None:
    _rechain(path, db, 2, lambda e: dataclasses.replace(e, amount=Money("2000.01")))


def _rewrite_actor(path: Path, db: sqlite3.Connection) -> None:
    _rechain(path, db, 7, lambda e: dataclasses.replace(e, actor="someone-else"))


def _rewrite_last(path: Path, db: sqlite3.Connection) -> None:
    last = len(_rows(db)) - 1
    _rechain(path, db, last, lambda e: dataclasses.replace(e, amount=Money("1.00")))


def _delete(index: int) -> Callable[[Path, sqlite3.Connection], None]:
    def delete(path: Path, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM stored_events WHERE rowid = ?", (_rows(db)[index][0],))

    return delete


def _truncate(count: int) -> Callable[[Path, sqlite3.Connection], None]:
    def truncate(path: Path, db: sqlite3.Connection) -> None:
        for row in _rows(db)[-count:]:
            db.execute("DELETE FROM stored_events WHERE rowid = ?", (row[0],))

    return truncate


def _delete_account(path: Path, db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE originator_id = ?", (account_uuid(TWO).hex,))
    db.execute("DELETE FROM stored_snapshots WHERE originator_id = ?", (account_uuid(TWO).hex,))


def _delete_account_and_head(path: Path, db: sqlite3.Connection) -> None:
    _delete_account(path, db)
    db.execute("DELETE FROM dpledger_heads WHERE originator_id = ?", (str(account_uuid(TWO)),))


def _delete_everything(path: Path, db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events")


def _append_copy(path: Path, db: sqlite3.Connection) -> None:
    rows = _rows(db)
    db.execute(
        "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
        " VALUES (?, ?, ?, ?)",
        (rows[-1][1], rows[-1][2] + 1, rows[-1][3], rows[-1][4]),
    )


def _append_forged_with_head(path: Path, db: sqlite3.Connection) -> None:
    """The forged event, and its keyed head moved on with an HMAC made up without the key."""
    _append_forged(path, db)
    rows = _rows(db)
    db.execute(
        "UPDATE dpledger_heads SET version = ?, mac = ? WHERE originator_id = ?",
        (rows[-1][2], "0" * 64, str(account_uuid(ONE))),
    )


def _insert_copy(path: Path, db: sqlite3.Connection) -> None:
    rows = _rows(db)
    version = rows[4][2]
    db.execute(
        "UPDATE stored_events SET originator_version = originator_version + 1000"
        " WHERE originator_id = ? AND originator_version > ?",
        (rows[0][1], version),
    )
    db.execute(
        "UPDATE stored_events SET originator_version = originator_version - 999"
        " WHERE originator_id = ? AND originator_version > 1000",
        (rows[0][1],),
    )
    db.execute(
        "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
        " VALUES (?, ?, ?, ?)",
        (rows[0][1], version + 1, rows[4][3], rows[4][4]),
    )


def _swap_versions(path: Path, db: sqlite3.Connection) -> None:
    rows = _rows(db)
    a, b = rows[3], rows[4]
    db.execute("UPDATE stored_events SET originator_version = -1 WHERE rowid = ?", (a[0],))
    db.execute("UPDATE stored_events SET originator_version = ? WHERE rowid = ?", (a[2], b[0]))
    db.execute("UPDATE stored_events SET originator_version = ? WHERE rowid = ?", (b[2], a[0]))


def _swap_contents(path: Path, db: sqlite3.Connection) -> None:
    rows = _rows(db)
    a, b = rows[3], rows[4]
    db.execute("UPDATE stored_events SET topic=?, state=? WHERE rowid=?", (b[3], b[4], a[0]))
    db.execute("UPDATE stored_events SET topic=?, state=? WHERE rowid=?", (a[3], a[4], b[0]))


def _change_topic(path: Path, db: sqlite3.Connection) -> None:
    rowid, _, _, topic, _ = _rows(db)[3]
    other = topic.replace("ContributionReceived", "CouncilPaymentReceived")
    assert other != topic
    db.execute("UPDATE stored_events SET topic = ? WHERE rowid = ?", (other, rowid))


def _move_to_other_account(path: Path, db: sqlite3.Connection) -> None:
    """ONE's last event moved onto the end of TWO."""
    last = _rows(db)[-1]
    top = _rows(db, TWO)[-1][2]
    db.execute(
        "UPDATE stored_events SET originator_id = ?, originator_version = ? WHERE rowid = ?",
        (account_uuid(TWO).hex, top + 1, last[0]),
    )


def _gap(path: Path, db: sqlite3.Connection) -> None:
    last = _rows(db)[-1]
    db.execute(
        "UPDATE stored_events SET originator_version = ? WHERE rowid = ?", (last[2] + 5, last[0])
    )


def _edit_manifest(path: Path, db: sqlite3.Connection) -> None:
    (text,) = db.execute("SELECT value FROM dpledger_meta WHERE name = 'chain_manifest'").fetchone()
    parts = text.split(" ")
    parts[0] = str(int(parts[0]) + 1)
    db.execute(
        "UPDATE dpledger_meta SET value = ? WHERE name = 'chain_manifest'", (" ".join(parts),)
    )


KINDS: dict[str, Callable[[Path, sqlite3.Connection], None]] = {
    "edit a byte": _edit_byte,
    "edit an amount": _edit_amount,
    "rewrite an amount, chain recomputed": _rewrite_amount,
    "rewrite an actor, chain recomputed": _rewrite_actor,
    "rewrite the last event, digest recomputed": _rewrite_last,
    "delete the first event": _delete(0),
    "delete an event in the middle": _delete(6),
    "cut 1 event off the tail": _truncate(1),
    "cut 10 events off the tail": _truncate(10),
    "delete a whole account": _delete_account,
    "delete a whole account and its keyed head": _delete_account_and_head,
    "delete every event": _delete_everything,
    "append a copy of the last event": _append_copy,
    "append a forged event with a valid chain": _append_forged,
    "append a forged event and move its head on": _append_forged_with_head,
    "insert a copy in the middle": _insert_copy,
    "swap two versions": _swap_versions,
    "swap two events' contents": _swap_contents,
    "change an event's type": _change_topic,
    "move the last event to another account": _move_to_other_account,
    "renumber the last event (a gap)": _gap,
}
"""The 21 kinds of direct edit."""


def _older_head_back(older: list[Any]) -> Callable[[Path, sqlite3.Connection], None]:
    """Cut ONE's last event and put back its keyed head from before it: both authentic."""

    def roll_back(path: Path, db: sqlite3.Connection) -> None:
        _truncate(1)(path, db)
        row = next(r for r in older if r[0] == str(account_uuid(ONE)))
        db.execute("INSERT OR REPLACE INTO dpledger_heads VALUES (?, ?, ?, ?, ?)", row)

    return roll_back


def _tamper(path: Path, edit: Callable[[Path, sqlite3.Connection], None]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        edit(path, db)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_edit_is_detected_with_the_key_and_no_seal(store: Path, kind: str) -> None:
    with _ledger(store) as ledger:
        seals = ledger.seals()
    _tamper(store, KINDS[kind])
    with _ledger(store) as ledger:
        report = ledger.verify()
        assert not report.ok, kind
        assert not ledger.verify().ok
        assert not ledger.verify(seals=seals).ok, kind


def test_an_older_authentic_head_put_back_is_detected_by_the_manifest(
    store: Path, pristine: tuple[Path, list[Any]]
) -> None:
    _tamper(store, _older_head_back(pristine[1]))
    with _ledger(store) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert [link.account_id for link in report.broken] == ["the whole store"]
    assert "put back to an older one" in report.broken[0].reason


def test_an_edited_manifest_is_detected(store: Path) -> None:
    _tamper(store, _edit_manifest)
    with _ledger(store) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert "not authentic" in report.broken[0].reason


@pytest.mark.parametrize(
    ("kind", "account", "says"),
    [
        ("cut 1 event off the tail", ONE, "events removed from its end"),
        ("delete a whole account", TWO, "the account was deleted"),
        ("append a forged event with a valid chain", ONE, "forged"),
        ("rewrite an amount, chain recomputed", ONE, "rewritten"),
    ],
)
def test_the_report_names_the_account_and_what_happened(
    store: Path, kind: str, account: str, says: str
) -> None:
    _tamper(store, KINDS[kind])
    with _ledger(store) as ledger:
        report = ledger.verify()
        one = ledger.verify(account)
    # A deleted account has no event left to name it: the whole store names it by its id.
    names = (account, f"?{account_uuid(account)}")
    assert any(link.account_id in names and says in link.reason for link in report.broken)
    assert any(link.account_id == account and says in link.reason for link in one.broken)


def test_a_tampered_chain_refuses_the_next_keyed_write(store: Path) -> None:
    _tamper(store, KINDS["append a forged event with a valid chain"])
    with _ledger(store) as ledger:
        with pytest.raises(ChainKeyError, match="does not end at its keyed head"):
            ledger.receive_contribution(ONE, amount="1.00", **DAY)
        ledger.receive_contribution(TWO, amount="1.00", **DAY)  # an intact account: written


# ------------------------------------------------------------------------------ keys
def test_verify_without_the_key_says_the_store_is_keyed(store: Path) -> None:
    with _ledger(store, key=None) as ledger:
        with pytest.raises(ChainKeyError, match="this store is keyed: give DPLEDGER_CHAIN_KEY"):
            ledger.verify()
        with pytest.raises(ChainKeyError, match="this store is keyed"):
            ledger.receive_contribution(ONE, amount="1.00", **DAY)
        assert ledger.balance(ONE, as_of="2026-12-31") == ledger.balance(ONE, as_of="2026-12-31")


def test_a_wrong_key_is_a_key_error_not_tampering(store: Path) -> None:
    with _ledger(store, key=KEY_B) as ledger, pytest.raises(ChainKeyError, match="A expected"):
        ledger.verify()
    impostor = "A:" + "not-the-secret-of-a" * 2
    with (
        _ledger(store, key=impostor) as ledger,
        pytest.raises(ChainKeyError, match="key id A expected, but the secret"),
    ):
        ledger.verify()


def test_a_bare_key_is_named_by_its_fingerprint(tmp_path: Path) -> None:
    secret = "a-bare-secret-long-enough-1234"
    with _ledger(tmp_path / "bare.sqlite", key=secret) as ledger:
        assert ledger.chain_key_id == key_id_of(secret.encode())
        run_scenario(ledger, ONE)
        assert ledger.verify().ok
    with pytest.raises(ChainKeyError, match="shorter than 16 bytes"):
        _ledger(tmp_path / "short.sqlite", key="short")


def test_the_key_comes_from_the_environment_or_a_key_file(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPLEDGER_CHAIN_KEY", KEY_A)
    with Ledger(f"sqlite:///{store}") as ledger:
        assert ledger.verify().ok
    monkeypatch.delenv("DPLEDGER_CHAIN_KEY")
    keys = tmp_path / "chain.keys"
    keys.write_text(f"# current first\n{KEY_B}\n\n{KEY_A}\n", encoding="utf-8")
    monkeypatch.setenv("DPLEDGER_CHAIN_KEY_FILE", str(keys))
    with Ledger(f"sqlite:///{store}") as ledger:
        assert ledger.chain_key_id == "B"
        assert ledger.verify().ok


def test_rotating_keys_old_rows_verify_with_the_old_key_id(store: Path) -> None:
    rotated = Keyring.of(KEY_B, KEY_A)
    with _ledger(store, key=rotated) as ledger:
        ledger.receive_contribution(ONE, amount="5.00", **DAY)  # ONE's head now under B
        assert ledger.verify().ok
    with closing(sqlite3.connect(store)) as db:
        by_key = dict(db.execute("SELECT key_id, count(*) FROM dpledger_heads GROUP BY key_id"))
    assert by_key == {"A": 1, "B": 1}
    with (
        _ledger(store, key=KEY_B) as ledger,  # A dropped too soon
        pytest.raises(ChainKeyError, match=r"key id\(s\) A \(1 head\(s\)\)"),
    ):
        ledger.verify()
    with _ledger(store, key=rotated) as ledger:
        done = ledger.key_store()  # every row again under B
        assert (done.rekeyed, done.key_id, done.aggregates) == (True, "B", 2)
    with _ledger(store, key=KEY_B) as ledger:  # now A can go
        assert ledger.verify().ok


def test_a_store_written_without_a_key_is_keyed_once(tmp_path: Path) -> None:
    path = tmp_path / "legacy.sqlite"
    with _ledger(path, key=None) as ledger:
        run_scenario(ledger, ONE)
        assert ledger.verify().ok  # no key, not keyed: the chain only, as before
    with _ledger(path) as ledger:
        assert not ledger.verify().ok  # a key given, but the store was never keyed
        with pytest.raises(ChainKeyError, match="not keyed yet"):
            ledger.receive_contribution(ONE, amount="1.00", **DAY)
        done = ledger.key_store()
        assert (done.aggregates, done.events, done.rekeyed) == (1, 19, False)
        ledger.receive_contribution(ONE, amount="1.00", **DAY)
        assert ledger.verify().ok
    _tamper(path, _truncate(1))
    with _ledger(path) as ledger:
        assert not ledger.verify().ok


def test_a_tampered_store_is_not_keyed(tmp_path: Path) -> None:
    path = tmp_path / "legacy.sqlite"
    with _ledger(path, key=None) as ledger:
        run_scenario(ledger, ONE)
    _tamper(path, _edit_byte)
    with _ledger(path) as ledger, pytest.raises(ChainKeyError, match="does not verify"):
        ledger.key_store()


# ------------------------------------------------------------------------------ the limit
def test_the_whole_store_put_back_is_caught_only_by_a_seal_kept_outside(
    pristine: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    path = tmp_path / "store.sqlite"
    _copy(pristine[0], path)
    earlier = tmp_path / "earlier.sqlite"
    _copy(path, earlier)  # a consistent copy, keyed rows and all
    with _ledger(path) as ledger:
        ledger.receive_contribution(ONE, amount="7.00", **DAY)
        seals = ledger.seals()
    _copy(earlier, path)
    with _ledger(path) as ledger:
        assert ledger.verify().ok  # consistent with itself: no key beside it can tell
        assert not ledger.verify(seals=seals).ok


# ------------------------------------------------------------------------------ PostgreSQL
def _pg_forge(url: str) -> tuple[int, str, bytes]:
    """ONE's next version, forged with a valid chain: (version, topic, state)."""
    app = open_application(url)
    try:
        events = [
            app.mapper.to_domain_event(r) for r in app.recorder.select_events(account_uuid(ONE))
        ]
        last = events[-1]
        forged = dataclasses.replace(
            events[3],
            originator_version=last.originator_version + 1,
            previous_digest=last.digest,
            command_key=None,
        )
        forged = dataclasses.replace(forged, digest=event_digest(forged))
        stored = app.mapper.to_stored_event(forged)
    finally:
        app.close()
    return forged.originator_version, stored.topic, stored.state


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["append forged", "truncate", "delete account"])
def test_postgres_the_key_exposes_forged_appends_truncation_and_deletion(
    postgres_url: str, kind: str
) -> None:
    import psycopg
    from psycopg import sql

    with Ledger(postgres_url, chain_key=KEY_A) as ledger:
        run_scenario(ledger, ONE)
        run_scenario(ledger, TWO)
        assert ledger.verify().ok
    schema = postgres_url.rsplit("schema=", 1)[1]
    events = sql.SQL("{}.dpledger_events").format(sql.Identifier(schema))
    forged = _pg_forge(postgres_url) if kind == "append forged" else None
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as db:
        if forged is not None:
            db.execute(
                sql.SQL(
                    "INSERT INTO {} (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)"
                ).format(events),
                (account_uuid(ONE), *forged),
            )
        elif kind == "truncate":
            db.execute(
                sql.SQL(
                    "DELETE FROM {0} WHERE originator_id = %s AND originator_version ="
                    " (SELECT max(originator_version) FROM {0} WHERE originator_id = %s)"
                ).format(events),
                (account_uuid(ONE), account_uuid(ONE)),
            )
        else:
            db.execute(
                sql.SQL("DELETE FROM {} WHERE originator_id = %s").format(events),
                (account_uuid(TWO),),
            )
    with Ledger(postgres_url) as ledger, pytest.raises(ChainKeyError, match="keyed"):
        ledger.verify()
    with Ledger(postgres_url, chain_key=KEY_A) as ledger:
        report = ledger.verify()
    assert not report.ok, kind
    with Ledger(postgres_url, chain_key=KEY_A) as ledger:
        if kind == "delete account":  # an intact account is still written, and verifies
            ledger.receive_contribution(ONE, amount="1.00", **DAY)
            assert [b.account_id for b in ledger.verify(ONE).broken] == []


def test_a_memory_store_is_keyed_from_its_first_event() -> None:
    with Ledger.in_memory() as plain:
        assert plain.chain_key_id is None
    with Ledger("memory:", chain_key=KEY_A) as ledger:
        run_scenario(ledger, ONE)
        assert ledger.verify().ok
        recorder: Any = ledger._app.recorder
        heads = recorder.tamper_heads()
        (only,) = heads
        heads[only] = dataclasses.replace(heads[only], version=heads[only].version - 1)
        assert not ledger.verify().ok
