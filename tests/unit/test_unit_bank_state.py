"""What the account keeps for bank reconciliation, and what its snapshots cost.

The account keeps only what matching still needs: money no bank line has confirmed yet, every
contribution (missing payments look at all of them), the bank lines booked within the reversal
window, and each line's idempotency key. Everything else is in the events, so a snapshot does not
grow with the number of lines matched.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from dpledger.adapters.store import open_application
from dpledger.bankimport import line_digest
from dpledger.domain.account import CommandMeta, ManagedAccount
from dpledger.domain.chart import SpendCategory
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy
from dpledger.domain.reconciliation import (
    REVERSAL_WINDOW_DAYS,
    BankLine,
    MatchKind,
    match_line,
)
from dpledger.domain.records import BankLineRecord, BankMovement

START = date(2005, 1, 3)
EVERY = 3  # days between the payments of the accounts below


def meta(day: date, line: BankLine | None = None, reason: str | None = None) -> CommandMeta:
    if line is None:
        return CommandMeta(effective_date=day, actor="test", reason=reason)
    return CommandMeta(
        effective_date=day,
        actor="test",
        reason=reason,
        key=f"bank:{line.key}",
        digest=line_digest(line),
    )


def opened() -> ManagedAccount:
    account = ManagedAccount.open(
        account_id="DP-9",
        person_ref="P-9",
        council="Kent County Council",
        provider="SOLO",
        policy=AccountPolicy(),
        meta=meta(START),
    )
    account.receive_council_payment(
        amount=Money(10**9),
        period_start=None,
        period_end=None,
        bank_reference=None,
        meta=meta(START),
    )
    return account


def record(account: ManagedAccount, line: BankLine) -> MatchKind:
    decision = match_line(account, line)
    account.record_bank_line(
        line=line, decision=decision, meta=meta(line.booking_date, line, decision.reason)
    )
    return decision.kind


def debit(n: int, day: date, **kwargs: Any) -> BankLine:
    return BankLine(
        key=f"ref:L{n}", booking_date=day, amount=Money(1000 + n), credit=False, **kwargs
    )


def matched(lines: int) -> ManagedAccount:
    """``lines`` care-plan payments recorded by hand, each confirmed by its bank line a day
    later, one every ``EVERY`` days."""
    account = opened()
    for n in range(lines):
        day = START + timedelta(days=EVERY * n + 1)
        account.pay_care_plan_spend(
            category=SpendCategory.OTHER_CARE_PLAN,
            amount=Money(1000 + n),
            description="care",
            bank_reference=f"BACS-{n}",
            meta=meta(day),
        )
        assert record(account, debit(n, day + timedelta(days=1))) is MatchKind.CONFIRMS
    return account


def snapshot_sizes(account: ManagedAccount) -> tuple[int, dict[str, int]]:
    """The encoded snapshot's size in bytes, and the size of each attribute in it."""
    app = open_application("memory:")
    try:
        stored = app.mapper.to_stored_event(ManagedAccount.Snapshot.take(account))
    finally:
        app.close()
    state = json.loads(stored.state)["state"]
    return len(stored.state), {name: len(json.dumps(value)) for name, value in state.items()}


def test_a_snapshot_does_not_grow_with_the_number_of_confirmed_movements() -> None:
    small, large = matched(200), matched(2000)
    assert list(small.bank_movements) == list(large.bank_movements) == ["2"]  # the rest confirmed

    small_bytes, small_parts = snapshot_sizes(small)
    large_bytes, large_parts = snapshot_sizes(large)

    # Only the idempotency keys (kept for ever, so re-importing any old file records nothing)
    # and the bank's total per day grow; before, every line added about 700 bytes.
    def rest(parts: dict[str, int]) -> int:
        return sum(size for name, size in parts.items() if name not in ("_commands", "_bank_days"))

    assert rest(large_parts) < rest(small_parts) * 1.1
    assert (large_bytes - small_bytes) / 1800 < 150
    window = REVERSAL_WINDOW_DAYS // EVERY + 1
    assert len(small.bank_lines) == len(large.bank_lines) == window


def test_lines_outside_the_window_are_not_kept_but_their_keys_are() -> None:
    account = opened()
    first = debit(1, START + timedelta(days=10))
    record(account, first)
    later = START + timedelta(days=10 + REVERSAL_WINDOW_DAYS)
    record(account, debit(2, later))
    assert set(account.bank_lines) == {"ref:L1", "ref:L2"}  # exactly the window apart

    record(account, debit(3, later + timedelta(days=1)))
    assert set(account.bank_lines) == {"ref:L2", "ref:L3"}
    assert account.previous_result("bank:ref:L1", line_digest(first)) == 3
    # a line booked before the window, imported late, is recorded but not kept either
    record(account, debit(4, START + timedelta(days=5)))
    assert set(account.bank_lines) == {"ref:L2", "ref:L3"}


def test_a_reversal_finds_its_original_only_within_the_window() -> None:
    account = opened()
    record(account, debit(1, START + timedelta(days=10), bank_reference="DD-1"))
    back = BankLine(
        key="ref:R1",
        booking_date=START + timedelta(days=12),
        amount=Money(1001),
        credit=True,
        is_reversal=True,
    )
    decision = match_line(account, back)
    assert decision.kind is MatchKind.REVERSAL
    assert decision.version == 3

    record(account, debit(2, START + timedelta(days=11 + REVERSAL_WINDOW_DAYS)))
    decision = match_line(account, back)
    assert decision.kind is MatchKind.UNEXPECTED_INCOME
    assert f"more than {REVERSAL_WINDOW_DAYS} days before the latest" in decision.reason


def test_contributions_are_kept_for_missing_payments_whether_confirmed_or_not() -> None:
    account = opened()
    day = START + timedelta(days=7)
    account.receive_contribution(amount=Money(8000), bank_reference="SO-77", meta=meta(day))
    line = BankLine(
        key="ref:C1", booking_date=day, amount=Money(8000), credit=True, bank_reference="X"
    )
    assert record(account, line) is MatchKind.CONFIRMS
    assert list(account.bank_movements) == ["2"]  # only the funding, recorded by hand
    (kept,) = account.contributions
    assert (kept.version, kept.effective_date, kept.amount, kept.bank_reference) == (
        3,
        day,
        Money(8000),
        "SO-77",
    )


def _v1_state(account: ManagedAccount) -> dict[str, Any]:
    """The account's state in the layout of class version 1: every movement and line a record."""
    state = dict(vars(account))
    for name in ("_id", "_version", "_pending_events", "_unconfirmed", "_contributions"):
        state.pop(name)
    state.pop("_bank_lines_through")
    lines = {key: BankLineRecord(**_fields(r)) for key, r in account.bank_lines.items()}
    movements = dict(account.bank_movements)
    for r in lines.values():  # version 1 also kept the movements bank lines stood for
        movements[str(r.target_version)] = BankMovement(
            r.target_version, r.event_type, r.booking_date, r.amount, r.bank_reference, r.key
        )
    state["_bank_lines"] = {
        k: BankLineRecord(**{**_fields(r), "bank_reference": None}) for k, r in lines.items()
    }
    state["_bank_movements"] = movements
    return state


def _fields(record: BankLineRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in BankLineRecord.__dataclass_fields__}


def test_a_snapshot_of_class_version_1_is_upcast_when_loaded() -> None:
    account = opened()
    day = START + timedelta(days=1)
    for amount, reference in ((500, None), (1001, "BACS-1")):
        account.pay_care_plan_spend(
            category=SpendCategory.OTHER_CARE_PLAN,
            amount=Money(amount),
            description="care",
            bank_reference=reference,
            meta=meta(day),
        )
    account.receive_contribution(amount=Money(8000), bank_reference="SO-77", meta=meta(day))
    assert record(account, debit(1, day)) is MatchKind.CONFIRMS  # the 1001 paid by hand
    assert record(account, debit(2, day)) is MatchKind.UNEXPECTED_OUTGOING
    assert account.bank_lines["ref:L1"].bank_reference == "BACS-1"
    taken = ManagedAccount.Snapshot.take(account)
    old = type(taken)(
        originator_id=taken.originator_id,
        originator_version=taken.originator_version,
        timestamp=taken.timestamp,
        topic=taken.topic,
        state=_v1_state(account),
    )
    app = open_application("memory:")
    try:
        stored = app.mapper.to_stored_event(old)
        loaded = app.mapper.to_domain_event(stored).mutate(None)
    finally:
        app.close()

    assert isinstance(loaded, ManagedAccount)
    assert vars(loaded) == {**vars(account), "_pending_events": []}
