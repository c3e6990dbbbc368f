"""What a bank account aggregate keeps, and what its snapshots cost.

A :class:`~dpledger.domain.bank.BankAccount` keeps the booked lines of the recent window (for
reversals and pending lines to be matched against), the pending set and nothing else that grows:
every line's key lives in the key index beside the events (with the digest of what it said), so
the state and its snapshot do not grow with the account's age. These tests build bank accounts
directly from their events, with no store, except where the store's encoding is measured.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from dpledger.adapters.store import open_application
from dpledger.domain.account import ManagedAccount
from dpledger.domain.bank import (
    PENDING_SETTLES_WITHIN_DAYS,
    BankAccount,
    BankAccountSnapshot,
    PendingBankLinesNoted,
    PendingBankLinesSeen,
    StatementLineBooked,
    legacy_pending,
    line_digest,
    line_index_key,
    open_bank_account,
)
from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.money import Money
from dpledger.domain.reconciliation import (
    REVERSAL_WINDOW_DAYS,
    BankLine,
    MatchKind,
    match_line,
)
from dpledger.domain.records import PendingBankLine
from dpledger.domain.snapshots import SnapshotRefused
from dpledger.domain.suspense import UnexpectedOutgoingRecorded
from dpledger.domain.window import COMPACT_EVERY, RECENT_DAYS

KEY = "30-99-50 12345678"
START = date(2010, 1, 4)
EVERY = 3  # days between the lines of the feeds below


def opened() -> BankAccount:
    return open_bank_account(KEY, "309950/12345678", START, "test")


def book(
    bank: BankAccount,
    n: int,
    day: date,
    pence: int,
    *,
    account_id: str = "DP-9",
    reference: str | None = None,
    reverses: str | None = None,
) -> StatementLineBooked:
    """Record bank line ``ref:L<n>`` of ``pence`` (signed), as the import does."""
    event = bank.record(
        StatementLineBooked,
        effective_date=day,
        actor="test",
        reason="test line",
        line_key=f"ref:L{n}",
        booking_date=day,
        amount=Money(pence),
        credit=pence > 0,
        is_reversal=reverses is not None,
        description=f"LINE {n}",
        bank_reference=reference,
        account_id=account_id,
        event_version=100 + n,
        target_version=100 + n,
        event_type="UnexpectedOutgoingRecorded" if pence < 0 else "UnexpectedIncomeReceived",
        match="unexpected_outgoing" if pence < 0 else "unexpected_income",
        reverses_line=reverses,
    )
    assert isinstance(event, StatementLineBooked)
    return event


def feed(years: int) -> BankAccount:
    """A bank account with a debit every ``EVERY`` days for ``years`` years."""
    bank = opened()
    for n in range(years * 365 // EVERY):
        book(bank, n, START + timedelta(days=EVERY * n), -(1000 + n), reference=f"BACS-{n}")
    return bank


def snapshot_size(bank: BankAccount) -> int:
    """The snapshot's size in bytes, as the store writes it."""
    app = open_application("memory:")
    try:
        stored = app.mapper.to_stored_event(BankAccount.Snapshot.take(bank))
    finally:
        app.close()
    return len(stored.state)


def replayed(bank: BankAccount) -> BankAccount:
    """The bank account rebuilt from its events alone."""
    rebuilt: Any = None
    for event in bank.pending_events:
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, BankAccount)
    return rebuilt


# ----------------------------------------------------------------------------- bounded state
def test_a_ten_year_feed_keeps_no_more_than_the_window() -> None:
    one, two, ten = feed(1), feed(2), feed(10)

    window = RECENT_DAYS // EVERY + 1
    assert len(one.recent_lines()) == 365 // EVERY  # all of them: a year is inside the window
    assert len(two.recent_lines()) == len(ten.recent_lines()) == window
    # the book forgets older lines every COMPACT_EVERY versions, so it holds at most that many
    # more than the window in between
    assert len(ten.book.lines) <= window + COMPACT_EVERY
    one_bytes, ten_bytes = snapshot_size(one), snapshot_size(ten)
    # Ten years' snapshot is no bigger than one year's, but for the lines the book may hold
    # beyond a year's: the window is 35 days longer than a year, and up to COMPACT_EVERY lines
    # wait for the next compaction (10% for the longer numbers of later lines). Kept whole,
    # the ten years would be ten times the size.
    per_line = one_bytes / len(one.book.lines)
    assert ten_bytes <= per_line * (window + COMPACT_EVERY) * 1.1
    assert ten_bytes < one_bytes * 2


def test_a_line_booked_before_the_window_is_not_kept_but_its_key_is_taken() -> None:
    bank = opened()
    first = book(bank, 1, START + timedelta(days=10), -1001)
    later = START + timedelta(days=10 + REVERSAL_WINDOW_DAYS)
    book(bank, 2, later, -1002)
    assert [r.key for r in bank.recent_lines()] == ["ref:L1", "ref:L2"]  # exactly the window

    book(bank, 3, later + timedelta(days=1), -1003)
    assert [r.key for r in bank.recent_lines()] == ["ref:L2", "ref:L3"]
    # a line booked before the window, imported late, is recorded but not kept either
    old = book(bank, 4, START + timedelta(days=5), -1004)
    assert bank.line("ref:L4") is None
    assert [r.key for r in bank.recent_lines()] == ["ref:L2", "ref:L3"]
    # every line's key is taken in the key index, with the digest of what it said
    digest = line_digest(first.booking_date, False, Money(1001), False)
    assert first.claims() == {line_index_key("ref:L1"): digest}
    taken = bank.pending_key(line_index_key("ref:L4"))
    assert taken is not False
    assert taken is not None
    assert taken.version == old.originator_version


# ----------------------------------------------------------------------------- snapshots
def test_a_snapshot_holds_the_state_replay_gives_at_every_compaction() -> None:
    bank = feed(2)
    assert bank.version > 4 * COMPACT_EVERY
    snapshot = BankAccount.Snapshot.take(bank)
    restored = snapshot.mutate(None)
    again = replayed(bank)
    assert restored.dump() == again.dump() == bank.dump()
    assert restored.book == bank.book


def test_an_altered_snapshot_is_refused() -> None:
    bank = feed(1)
    taken = BankAccount.Snapshot.take(bank)
    state = dict(taken.state)
    assert KEY in state["state"]
    state["state"] = state["state"].replace(KEY, "11-11-11 11111111")  # another bank account
    altered = BankAccountSnapshot(
        originator_id=taken.originator_id,
        originator_version=taken.originator_version,
        timestamp=taken.timestamp,
        topic=taken.topic,
        state=state,
    )
    with pytest.raises(SnapshotRefused, match="does not match its digest"):
        altered.mutate(None)


def test_a_snapshot_naming_another_kind_of_aggregate_is_refused() -> None:
    taken = BankAccount.Snapshot.take(feed(1))
    relabelled = BankAccountSnapshot(
        originator_id=taken.originator_id,
        originator_version=taken.originator_version,
        timestamp=taken.timestamp,
        topic=get_topic(ManagedAccount),  # not covered by the state digest
        state=dict(taken.state),
    )
    with pytest.raises(SnapshotRefused, match="not what it snapshots"):
        relabelled.mutate(None)


# ----------------------------------------------------------------------------- matching
def test_a_reversal_finds_its_original_only_within_the_window(funded: Any) -> None:
    account = funded.ledger.load(funded.account_id)
    bank = opened()
    book(bank, 1, START + timedelta(days=10), -1001, account_id=account.account_id)
    back = BankLine(
        key="ref:R1",
        booking_date=START + timedelta(days=12),
        amount=Money(1001),
        credit=True,
        is_reversal=True,
    )
    decision = match_line(account, bank, back)
    assert decision.kind is MatchKind.REVERSAL
    assert (decision.version, decision.line_key) == (101, "ref:L1")

    # a line of another managed account held in the same bank account is never reversed for it
    other = opened()
    book(other, 1, START + timedelta(days=10), -1001, account_id="DP-OTHER")
    assert match_line(account, other, back).kind is MatchKind.UNEXPECTED_INCOME

    book(bank, 2, START + timedelta(days=11 + REVERSAL_WINDOW_DAYS), -5)
    decision = match_line(account, bank, back)
    assert decision.kind is MatchKind.UNEXPECTED_INCOME
    assert f"more than {REVERSAL_WINDOW_DAYS} days before the latest" in decision.reason


# ----------------------------------------------------------------------------- pending lines
def pending(key: str, day: date | None, pence: int) -> PendingBankLine:
    return PendingBankLine(key=key, booking_date=day, amount=Money(pence), description="CARD")


def note(bank: BankAccount, as_of: date, *lines: PendingBankLine) -> None:
    bank.record(
        PendingBankLinesNoted,
        effective_date=as_of,
        actor="test",
        as_of=as_of,
        lines=list(lines),
        source="test",
    )


def test_a_booked_line_settles_one_pending_line_of_its_amount_within_days() -> None:
    bank = opened()
    day = START + timedelta(days=20)
    note(bank, day, pending("p1", day, -600), pending("p2", day, -600), pending("p3", day, -700))
    assert set(bank.pending) == {"p1", "p2", "p3"}

    book(bank, 1, day + timedelta(days=PENDING_SETTLES_WITHIN_DAYS), -600)
    assert set(bank.pending) == {"p2", "p3"}  # one line settles one pending line
    book(bank, 2, day + timedelta(days=PENDING_SETTLES_WITHIN_DAYS + 1), -700)
    assert set(bank.pending) == {"p2", "p3"}  # too late to be p3's booking
    # a later statement's pending lines that a booked line of the window settles are left out
    left = bank.unsettled([pending("q1", day, -600), pending("q2", day, -800)])
    assert [line.key for line in left] == ["q2"]


def test_the_pending_lines_0_1_left_on_an_account_are_read_as_0_1_held_them() -> None:
    day = START + timedelta(days=30)

    def event(cls: type[Any], version: int, when: date, key: str | None, **fields: Any) -> Any:
        return cls(
            originator_id=uuid4(),
            originator_version=version,
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            effective_date=when,
            actor="officer-legacy",
            reason=None,
            command_key=key,
            command_digest=None,
            previous_digest="0" * 64,
            digest="0" * 64,
            **fields,
        )

    def paid_out(version: int, when: date, key: str, pence: int) -> Any:
        postings = Postings.transfer(
            LedgerAccount.UNEXPLAINED_OUTGOING, LedgerAccount.BANK, Money(pence)
        )
        return event(
            UnexpectedOutgoingRecorded,
            version,
            when,
            key,
            postings=postings,
            item_id=f"U{version}",
            amount=Money(pence),
            description="SHOP",
        )

    seen = event(
        PendingBankLinesSeen,
        1,
        day,
        None,
        postings=Postings(),
        as_of=day,
        lines=[pending("a", day, -999), pending("b", day, -500), pending("c", day, -700)],
        source="march.xml",
    )
    assert legacy_pending([paid_out(1, day, "bank:x", 500)], 5) is None  # never noted any
    events = [
        seen,
        paid_out(2, day + timedelta(days=2), "bank:a", 999),  # booked under the pending key
        paid_out(3, day + timedelta(days=9), "bank:y", 500),  # 9 days on
        paid_out(4, day + timedelta(days=1), None, 700),  # by hand: settles nothing
    ]
    assert legacy_pending(events, 5) == (day, {"b": events[0].lines[1], "c": events[0].lines[2]})
    assert legacy_pending(events, 10) == (day, {"c": events[0].lines[2]})
