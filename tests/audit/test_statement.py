"""The audit sheet: golden output, the arithmetic it promises, and what it includes.

Golden files live in ``tests/audit/golden``; after an intended change, regenerate them with
``DPLEDGER_UPDATE_GOLDEN=1 make pytest`` and review the diff like code.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from audit_scenario import ACCOUNT, ACTOR, CLOCK_START, GENERATED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpledger import Ledger, Money
from dpledger.errors import AccountNotFound, ValidationError
from dpledger.reporting.text import render_statement

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DPLEDGER_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with DPLEDGER_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended, regenerate with "
        "DPLEDGER_UPDATE_GOLDEN=1 and review the diff"
    )


def test_the_audit_sheet_matches_its_golden_text(audited: Ledger) -> None:
    sheet = audited.statement(ACCOUNT, "2026-04-01", "2026-05-31", generated_at=GENERATED)
    _golden("DP-AUDIT-2026-04-01-to-2026-05-31.txt", render_statement(sheet))


def test_the_audit_sheet_matches_its_golden_json(audited: Ledger) -> None:
    sheet = audited.statement(ACCOUNT, "2026-04-01", "2026-05-31", generated_at=GENERATED)
    text = json.dumps(sheet.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _golden("DP-AUDIT-2026-04-01-to-2026-05-31.json", text)


def test_a_sheet_as_known_before_a_correction_shows_what_was_believed(audited: Ledger) -> None:
    # Events are recorded one minute apart from CLOCK_START: version 10 (the £69.00 insurance
    # payment) at +9 min, its correction (version 11) at +10 min.
    before = audited.statement(
        ACCOUNT,
        "2026-04-01",
        "2026-04-30",
        known_at=CLOCK_START + timedelta(minutes=9, seconds=30),
        generated_at=GENERATED,
    )
    after = audited.statement(ACCOUNT, "2026-04-01", "2026-04-30", generated_at=GENERATED)
    assert before.money_out["insurance"] == Money("69.00")
    assert after.money_out["insurance"] == Money("60.00")
    assert before.head_version == 10
    assert [line.version for line in before.lines][-1] == 10
    assert before.reconciles
    assert after.reconciles
    assert before.closing - after.closing == Money("-69.00") + Money("60.00")


def test_the_sheet_names_each_unexpected_item_and_its_resolution(audited: Ledger) -> None:
    sheet = audited.statement(ACCOUNT, "2026-04-01", "2026-05-31")
    found = {(i.direction, i.description): (i.status, i.resolution) for i in sheet.unexpected_items}
    assert found == {
        ("in", 'DWP "adjustment"'): ("classified", "as contribution"),
        ("out", "BANK CHARGE"): ("accepted", "bank charge, not recoverable"),
        ("out", "UNKNOWN DD 4471"): ("held", ""),
    }
    assert sheet.held_in_suspense == {
        "unidentified_income": Money(0),
        "unexplained_outgoing": Money("19.99"),
    }
    # A later period still lists the item held, not those settled before it started.
    june = audited.statement(ACCOUNT, "2026-06-01", "2026-06-30")
    assert [i.description for i in june.unexpected_items] == ["UNKNOWN DD 4471"]
    # An earlier period shows the income as held: it was classified after that period ended.
    april = audited.statement(ACCOUNT, "2026-04-01", "2026-04-30")
    assert [(i.description, i.status) for i in april.unexpected_items] == [
        ('DWP "adjustment"', "held")
    ]


def test_breaks_and_warnings_are_those_of_the_period(audited: Ledger) -> None:
    may = audited.statement(ACCOUNT, "2026-05-01", "2026-05-31")
    april = audited.statement(ACCOUNT, "2026-04-01", "2026-04-30")
    assert [b.effective_date for b in may.reconciliation_breaks] == [
        date(2026, 5, 7),
        date(2026, 5, 11),
    ]
    assert april.reconciliation_breaks == ()
    assert {w.rule for w in april.warnings} == {"unexpected_income", "low_balance"}
    assert all(date(2026, 5, 1) <= w.raised_on <= date(2026, 5, 31) for w in may.warnings)


def test_the_position_at_the_end_uses_the_balances_at_the_end(audited: Ledger) -> None:
    # On 2026-04-21 the invoice was approved and not yet paid.
    sheet = audited.statement(ACCOUNT, "2026-04-01", "2026-04-21")
    assert sheet.unpaid_liabilities["agency"] == Money("200.00")
    assert sheet.total_unpaid == Money("200.00")
    assert sheet.contingency == Money("800.00")  # 8 weeks of £100.00
    # £400.00 in the bank - £200.00 owed - £800.00 contingency: no surplus.
    assert sheet.closing == Money("400.00")
    assert sheet.surplus == Money(0)


def test_bad_periods_and_unknown_accounts_are_refused(audited: Ledger) -> None:
    with pytest.raises(ValidationError, match="ends"):
        audited.statement(ACCOUNT, "2026-05-01", "2026-04-01")
    with pytest.raises(AccountNotFound):
        audited.statement("DP-NOPE", "2026-04-01", "2026-05-01")
    with pytest.raises(AccountNotFound, match="not yet opened"):
        audited.statement(
            ACCOUNT, "2026-04-01", "2026-05-01", known_at=CLOCK_START - timedelta(days=1)
        )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.dates(date(2026, 3, 1), date(2026, 6, 30)),
    days=st.integers(0, 120),
    minutes=st.none() | st.integers(0, 25),
)
def test_every_sheet_adds_up(audited: Ledger, first: date, days: int, minutes: int | None) -> None:
    known_at = None if minutes is None else CLOCK_START + timedelta(minutes=minutes, seconds=1)
    try:
        sheet = audited.statement(ACCOUNT, first, first + timedelta(days=days), known_at=known_at)
    except AccountNotFound:
        assert known_at is not None
        assert known_at < CLOCK_START
        return
    assert sheet.opening + sheet.total_in - sheet.total_out == sheet.closing
    assert sheet.reconciles
    running = sheet.opening
    for line in sheet.lines:
        running += line.bank_change
        assert line.bank_after == running
    assert running == sheet.closing
    assert sheet.closing == audited.balance(ACCOUNT, as_of=sheet.end, known_at=known_at)
    assert all(line.recorded_at <= (known_at or GENERATED) for line in sheet.lines)
    assert sheet.surplus.pence >= 0


def test_the_demo_sheets_add_up_for_every_account_and_month() -> None:
    from dpledger.demo import DEMO_ACCOUNT_IDS, build_demo

    with Ledger.in_memory() as ledger:
        build_demo(ledger)
        for account_id in DEMO_ACCOUNT_IDS:
            month = date(2025, 4, 1)
            while month < date(2026, 5, 1):
                end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(1)
                sheet = ledger.statement(account_id, month, end)
                assert sheet.reconciles, (account_id, month)
                assert sheet.closing == ledger.balance(account_id, as_of=end)
                month = end + timedelta(days=1)


def test_an_actor_and_reason_reach_the_event_list(audited: Ledger) -> None:
    sheet = audited.statement(ACCOUNT, "2026-04-01", "2026-05-31")
    correction = next(line for line in sheet.lines if line.event_type == "EntryCorrected")
    assert correction.actor == ACTOR
    assert correction.reason == "keyed £69.00 instead of £60.00; re-entered"
    assert correction.description == "corrects event 10 (CarePlanSpendPaid)"
