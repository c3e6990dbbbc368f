"""Properties of the projections and the audit chain, over random histories on SQLite.

- a projection built incrementally, rebuilt from scratch, resumed after being stopped at a random
  point, or recovered after a crash in the middle of a batch holds exactly the same rows;
- those rows agree with a fresh replay of the events (balances, running bank, warnings, portfolio)
  and with the reconciliation breaks of the bank statements imported (stated balances that agree
  with the ledger or not, on a named bank account or an unidentified one, with entries back-dated
  before and after them);
- opening + in - out = closing for every period, and closing is the balance on the last day;
- any single tampering of a stored event row is detected by ``verify`` with the seals taken before.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.bankfeeds import BalanceAssertion, BankFormat, BankStatement
from dpledger.domain.bank import bank_account_uuid
from dpledger.domain.bankids import bank_key
from dpledger.errors import DpledgerError
from dpledger.projections.oversight import portfolio_row
from dpledger.projections.warnings import break_conditions, evaluate
from dpledger.readside import bank_account_name

START = date(2026, 4, 6)
ACCOUNTS = ("DP-A", "DP-B")
# Each example builds SQLite stores and several Ledgers: a quarter of the profile's examples keeps
# the ci run short while nightly still runs hundreds.
HEAVY = max(10, settings().max_examples // 4)

TABLES = {
    "ledger_lines": ("dpv_lines",),
    "stated_balances": ("dpv_stated", "dpv_bank_named", "dpv_pooled"),
    "audit_trail": ("dpv_audit",),
    "oversight": ("dpv_warnings", "dpv_portfolio"),
}
BANK_ACCOUNTS = {"DP-A": "30-99-50 11111111", "DP-B": "30-99-50 22222222"}

operation = st.tuples(
    st.sampled_from(
        [
            "council",
            "contribution",
            "spend",
            "unexpected",
            "refund",
            "invoice",
            "pay_invoice",
            "correct",
            "review",
            "statement",
        ]
    ),
    st.sampled_from(ACCOUNTS),
    st.integers(min_value=1, max_value=90_000),  # pence
    st.integers(min_value=0, max_value=120),  # days after START (back-dating happens)
)
histories = st.lists(operation, min_size=1, max_size=25)


def _open(ledger: Ledger) -> None:
    for account in ACCOUNTS:
        ledger.open_account(
            account,
            person_ref="P-1",
            council="Testshire",
            provider="Provider",
            effective_date=START,
            actor="clerk",
            policy={"contribution_spent_first": account == "DP-B"},
        )
        ledger.agree_budget(
            account,
            weekly_gross="150.00",
            weekly_contribution="25.00",
            effective_date=START,
            actor="clerk",
        )
        ledger.register_agency(
            account, agency_id="AG", name="Agency", effective_date=START, actor="clerk"
        )


def _run(ledger: Ledger, history: list[tuple[str, str, int, int]], *, each: bool) -> None:
    """Apply the history; commands the rules refuse are skipped (refusals record nothing)."""
    for index, (kind, account, pence, days) in enumerate(history):
        when = START + timedelta(days=days)
        common: dict[str, Any] = {"effective_date": when, "actor": "clerk"}
        amount = Money(pence)
        try:
            if kind == "council":
                ledger.receive_council_payment(account, amount=amount, **common)
            elif kind == "contribution":
                ledger.receive_contribution(account, amount=amount, **common)
            elif kind == "spend":
                ledger.pay_care_plan_spend(
                    account, category="insurance", amount=amount, description="x", **common
                )
            elif kind == "unexpected":
                ledger.receive_unexpected_income(account, amount=amount, description="?", **common)
            elif kind == "refund":
                held = [
                    i
                    for i, item in ledger.account(account).suspense_items.items()
                    if item.status.value == "held"
                ]
                if held:
                    ledger.refund_unexpected_income(account, item_id=held[0], **common)
            elif kind == "invoice":
                number = f"INV-{index}"
                ledger.receive_invoice(
                    account,
                    agency_id="AG",
                    invoice_number=number,
                    period_start=when - timedelta(days=6),
                    period_end=when,
                    hours="1",
                    rate=amount,
                    total=amount,
                    **common,
                )
                ledger.approve_invoice(account, agency_id="AG", invoice_number=number, **common)
            elif kind == "pay_invoice":
                owed = [
                    i for i in ledger.account(account).invoices.values() if i.outstanding.pence > 0
                ]
                if owed:
                    ledger.pay_invoice(
                        account,
                        agency_id=owed[0].agency_id,
                        invoice_number=owed[0].invoice_number,
                        amount=owed[0].outstanding,
                        **common,
                    )
            elif kind == "correct":
                payments = [
                    e
                    for e in ledger.events(account)
                    if type(e).__name__ in ("CouncilPaymentReceived", "CarePlanSpendPaid")
                    and ledger.load(account).corrected_by(e.originator_version) is None
                ]
                if payments:
                    ledger.correct(
                        account,
                        version=payments[-1].originator_version,
                        reason="wrong",
                        **common,
                    )
            elif kind == "review":
                ledger.record_review(account, **common)
            elif kind == "statement":
                _state_balance(ledger, account, pence, when)
        except DpledgerError:
            pass
        if each:
            ledger.catch_up()


def _state_balance(ledger: Ledger, account: str, pence: int, when: date) -> None:
    """A statement with a closing balance only: the ledger's balance that day (even ``pence``) or
    off by ``pence`` (odd), of the account's own bank account (``pence`` a multiple of 3, which
    names it) or of an unidentified one."""
    ledger_says = ledger.balance(account, as_of=when)
    stated = ledger_says if pence % 2 == 0 else ledger_says + Money(pence)
    statement = BankStatement(
        source_file=f"{account}-{when}.csv",
        format=BankFormat.CSV,
        account_id=BANK_ACCOUNTS[account] if pence % 3 == 0 else None,
        currency="GBP",
        closing_balance=BalanceAssertion(date=when, balance=stated, kind="CLBD"),
    )
    ledger.import_statement(account, statement, actor="clerk")


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        found = {}
        for tables in TABLES.values():
            for table in tables:
                found[table] = sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
        found["positions"] = sorted(
            conn.execute("SELECT projection, notification_id FROM dpv_tracking").fetchall()
        )
        return found


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    def make() -> Path:
        return tmp_path_factory.mktemp("store") / "ledger.sqlite"

    return make


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=HEAVY
)
@given(
    history=histories, stop_at=st.integers(min_value=0, max_value=200), crash_at=st.integers(1, 200)
)
def test_incremental_rebuilt_resumed_and_crashed_projections_agree(
    store: Any, history: list[Any], stop_at: int, crash_at: int
) -> None:
    path = store()
    with Ledger.sqlite(path) as ledger:
        _open(ledger)
        _run(ledger, history, each=True)
        ledger.catch_up()
        incremental = dump(path)

        ledger.rebuild_projections()
        assert dump(path) == incremental

        # Stopped at a random point, then resumed by another process (a new Ledger).
        ledger.projections.reset()
        ledger.projections.catch_up(limit=stop_at)
    with Ledger.sqlite(path) as resumed:
        resumed.catch_up()
        assert dump(path) == incremental

        # A crash in the middle of a batch rolls back the batch's rows and its position.
        resumed.projections.reset()
        before = dump(path)
        oversight = resumed.projections.model("oversight")
        original = oversight.apply
        calls = {"n": 0}

        def failing(cur: Any, event: Any, notification_id: int) -> None:
            calls["n"] += 1
            if calls["n"] == crash_at:
                raise RuntimeError("power cut")
            original(cur, event, notification_id)

        oversight.apply = failing  # type: ignore[method-assign]
        try:
            resumed.projections.catch_up(["oversight"])
        except RuntimeError:
            assert dump(path)["dpv_warnings"] == before["dpv_warnings"]
            assert dump(path)["dpv_portfolio"] == before["dpv_portfolio"]
        oversight.apply = original  # type: ignore[method-assign]
        resumed.catch_up()
        assert dump(path) == incremental

        _agrees_with_replay(resumed)


def _agrees_with_replay(ledger: Ledger) -> None:
    for account_id in ACCOUNTS:
        account = ledger.load(account_id)
        far = date(2100, 1, 1)
        assert ledger.balances_as_of(account_id, far) == ledger.balances(account_id)
        trail = ledger.audit_trail(account_id)
        assert [e.version for e in trail] == list(range(1, account.version + 1))
        assert trail[-1].bank_after == account.bank_balance
        holding = evaluate(account) | break_conditions(ledger.reconciliation_breaks(account_id))
        in_force = {(w.rule, w.subject): w for w in ledger.warnings(account_id)}
        assert set(in_force) == set(holding)
        for key, condition in holding.items():
            assert in_force[key].figures == condition.figures
            assert in_force[key].explanation == condition.explanation
        rules = sorted({w.rule for w in ledger.warnings(account_id)})
        expected = portfolio_row(account, rules)
        (row,) = [a for a in ledger.portfolio("Testshire").accounts if a.account_id == account_id]
        assert row.bank.pence == expected["bank"]
        assert row.surplus.pence == expected["surplus"]
        assert row.recoverable_surplus.pence == expected["recoverable_surplus"]
        assert row.next_review_due == account.next_review_due
        assert list(row.warnings) == rules


@settings(deadline=None)
@given(
    history=histories,
    start=st.integers(min_value=-10, max_value=130),
    length=st.integers(min_value=0, max_value=130),
)
def test_opening_plus_in_minus_out_is_closing(history: list[Any], start: int, length: int) -> None:
    with Ledger.in_memory() as ledger:
        _open(ledger)
        _run(ledger, history, each=False)
        for account_id in ACCOUNTS:
            first = START + timedelta(days=start)
            last = first + timedelta(days=length)
            period = ledger.period(account_id, first, last)
            assert period.opening + period.total_in - period.total_out == period.closing
            assert period.closing == ledger.balance(account_id, as_of=last)
            assert period.opening == ledger.balance(account_id, as_of=first - timedelta(days=1))
            total = ledger.period(account_id, START - timedelta(days=1), date(2100, 1, 1))
            assert total.closing == ledger.bank_balance(account_id)


def test_recorded_time_filter_replays_what_was_known(tmp_path: Path) -> None:
    with Ledger.sqlite(tmp_path / "l.sqlite") as ledger:
        _open(ledger)
        _run(ledger, [("council", "DP-A", 50_000, 0), ("spend", "DP-A", 10_000, 3)], each=False)
        seen = ledger.audit_trail("DP-A")[-1].recorded_at
        _run(ledger, [("spend", "DP-A", 5_000, 1)], each=False)  # back-dated, recorded later
        day = START + timedelta(days=3)
        assert ledger.balance("DP-A", as_of=day, known_at=seen) == Money("400.00")
        assert ledger.balance("DP-A", as_of=day) == Money("350.00")
        assert ledger.balance("DP-A", LedgerAccount.INSURANCE, as_of=day, known_at=seen) == Money(
            "100.00"
        )


# ---------------------------------------------------------------------- tamper evidence
TAMPERINGS = ("edit", "delete", "swap_versions", "swap_content", "append_copy", "insert_copy")


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=HEAVY
)
@given(
    history=histories,
    how=st.sampled_from(TAMPERINGS),
    pick=st.integers(min_value=0, max_value=10_000),
    byte=st.integers(min_value=0, max_value=10_000),
    value=st.integers(min_value=1, max_value=255),
)
def test_any_single_tampering_of_a_stored_row_is_detected(
    store: Any, history: list[Any], how: str, pick: int, byte: int, value: int
) -> None:
    path = store()
    with Ledger.sqlite(path) as ledger:
        _open(ledger)
        _run(ledger, history, each=False)
        seals = ledger.seals()  # every account and bank account: a removed tail shows too
        assert ledger.verify(seals=seals).ok
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
            " ORDER BY rowid"
        ).fetchall()
        rowid, originator, version, topic, state = rows[pick % len(rows)]
        same = [r for r in rows if r[1] == originator]
        other = same[(same.index(rows[pick % len(rows)]) + 1) % len(same)]
        if how == "edit":
            data = bytearray(state)
            at = byte % len(data)
            data[at] = (data[at] + value) % 256 or 1
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(data), rowid))
        elif how == "delete":
            conn.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))
        elif how == "swap_versions":
            conn.execute(
                "UPDATE stored_events SET originator_version = -1 WHERE rowid = ?", (rowid,)
            )
            conn.execute(
                "UPDATE stored_events SET originator_version = ? WHERE rowid = ?",
                (version, other[0]),
            )
            conn.execute(
                "UPDATE stored_events SET originator_version = ? WHERE rowid = ?",
                (other[2], rowid),
            )
        elif how == "swap_content":
            conn.execute(
                "UPDATE stored_events SET topic = ?, state = ? WHERE rowid = ?",
                (other[3], other[4], rowid),
            )
            conn.execute(
                "UPDATE stored_events SET topic = ?, state = ? WHERE rowid = ?",
                (topic, state, other[0]),
            )
        elif how == "append_copy":
            last = max(r[2] for r in same)
            conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " VALUES (?, ?, ?, ?)",
                (originator, last + 1, topic, state),
            )
        else:  # insert a copy in the middle, moving the later events up by one
            conn.execute(
                "UPDATE stored_events SET originator_version = originator_version + 100000"
                " WHERE originator_id = ? AND originator_version > ?",
                (originator, version),
            )
            conn.execute(
                "UPDATE stored_events SET originator_version = originator_version - 99999"
                " WHERE originator_id = ? AND originator_version > 100000",
                (originator,),
            )
            conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " VALUES (?, ?, ?, ?)",
                (originator, version + 1, topic, state),
            )
    unchanged = how in ("swap_versions", "swap_content") and other[0] == rowid
    with Ledger.sqlite(path) as ledger:
        report = ledger.verify(seals=seals)
        if unchanged:  # a one-event account: swapping a row with itself changes nothing
            assert report.ok
            return
        assert not report.ok, how
        assert report.first_broken is not None
        assert report.first_broken.account_id in _aggregate_names()


def _aggregate_names() -> set[str]:
    """How verification may name an aggregate of these histories: a managed account, or a bank
    account by its key, or (its first event unreadable, no seal to name it) by its stored id."""
    keys = [
        *(bank_key(k) for k in BANK_ACCOUNTS.values()),
        *(f"UNIDENTIFIED:{a}" for a in ACCOUNTS),
    ]
    return {
        *ACCOUNTS,
        *(bank_account_name(k) for k in keys),
        *(f"?{bank_account_uuid(k)}" for k in keys),
    }


def test_verify_names_the_first_broken_link(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger.sqlite(path) as ledger:
        _open(ledger)
        _run(ledger, [("council", "DP-A", 50_000, 0), ("spend", "DP-A", 10_000, 3)], each=False)
    with sqlite3.connect(path) as conn:
        (state,) = conn.execute(
            "SELECT state FROM stored_events WHERE originator_version = 4"
            " AND topic LIKE '%CouncilPaymentReceived'"
        ).fetchone()
        data = json.loads(state)
        data["amount"] = [5_000_000, "GBP"]  # a bigger council payment
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE topic LIKE '%CouncilPaymentReceived'",
            (json.dumps(data, separators=(",", ":")).encode(),),
        )
    with Ledger.sqlite(path) as ledger:
        report = ledger.verify()
        assert report.first_broken is not None
        assert (report.first_broken.account_id, report.first_broken.version) == ("DP-A", 4)
        assert "does not match its recorded digest" in report.first_broken.reason
        assert ledger.verify("DP-B").ok


def test_a_rewritten_history_is_exposed_by_an_authentic_seal(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger.sqlite(path, seal_key=b"held-by-the-auditor") as ledger:
        _open(ledger)
        seal = ledger.seal("DP-A")
        assert seal.mac is not None
        forged = type(seal)(seal.account_id, seal.version, "0" * 64, seal.mac)
        report = ledger.verify("DP-A", seals=[forged])
        assert not report.ok
        assert "not authentic" in report.broken[0].reason
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM stored_events WHERE originator_version = 3")
    with Ledger.sqlite(path, seal_key=b"held-by-the-auditor") as ledger:
        report = ledger.verify("DP-A", seals=[seal])
        assert not report.ok
        assert report.broken[0].version == 3
