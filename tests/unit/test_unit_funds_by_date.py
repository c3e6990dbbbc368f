"""The never-overdrawn rule holds on every effective date, not only for today's balance."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, Money
from dpledger.errors import InsufficientFunds, InvalidTransition, ValidationError
from dpledger.testing import check_account_invariants

OPENED = date(2026, 4, 1)


def _ledger_with_income(*arrivals: tuple[date, str]) -> Ledger:
    ledger = Ledger.in_memory()
    ledger.open_account(
        "DP-1", person_ref="P-1", council="C", provider="P", effective_date=OPENED, actor="t"
    )
    for day, amount in arrivals:
        ledger.receive_council_payment("DP-1", amount=amount, effective_date=day, actor="t")
    return ledger


def _spend(ledger: Ledger, day: date, amount: str) -> None:
    ledger.pay_care_plan_spend(
        "DP-1",
        category="other_care_plan",
        amount=amount,
        description="equipment",
        effective_date=day,
        actor="t",
    )


def test_a_back_dated_payment_cannot_spend_money_that_arrived_later() -> None:
    ledger = _ledger_with_income((date(2026, 5, 1), "1000.00"))
    with pytest.raises(InsufficientFunds) as refused:
        _spend(ledger, date(2026, 4, 20), "250.00")
    assert refused.value.shortfall == Money("250.00")
    assert refused.value.balance == Money(0)
    assert "2026-04-20" in str(refused.value)
    assert ledger.account("DP-1").version == 2
    _spend(ledger, date(2026, 5, 1), "250.00")  # on the day it arrived, it can be spent
    assert ledger.bank_balance("DP-1") == Money("750.00")


def test_a_back_dated_payment_cannot_spend_what_later_payments_already_spent() -> None:
    ledger = _ledger_with_income((date(2026, 4, 2), "1000.00"), (date(2026, 6, 1), "1000.00"))
    _spend(ledger, date(2026, 5, 1), "900.00")
    # Today's balance is £1,100, but between 1 May and 1 June only £100 was ever there.
    assert ledger.available_from("DP-1", date(2026, 4, 15)) == Money("100.00")
    with pytest.raises(InsufficientFunds) as refused:
        _spend(ledger, date(2026, 4, 15), "150.00")
    assert refused.value.shortfall == Money("50.00")
    _spend(ledger, date(2026, 4, 15), "100.00")
    assert ledger.available_from("DP-1", date(2026, 4, 15)) == Money(0)
    assert ledger.available_from("DP-1", date(2026, 6, 1)) == Money("1000.00")


def test_reversing_money_in_that_later_payments_relied_on_is_refused() -> None:
    ledger = _ledger_with_income((date(2026, 4, 2), "500.00"), (date(2026, 4, 10), "500.00"))
    _spend(ledger, date(2026, 4, 11), "800.00")
    with pytest.raises(InsufficientFunds):
        ledger.correct("DP-1", version=2, reason="bounced", effective_date=OPENED, actor="t")


def test_closing_before_the_last_bank_entry_is_refused() -> None:
    ledger = _ledger_with_income((date(2026, 4, 2), "500.00"), (date(2026, 4, 10), "500.00"))
    with pytest.raises(InvalidTransition, match="2026-04-10"):
        ledger.close_account("DP-1", effective_date=date(2026, 4, 5), actor="t")


@given(
    arrivals=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 100_000)), min_size=1, max_size=6
    ),
    spends=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 100_000)), min_size=1, max_size=12
    ),
)
def test_end_of_day_balances_never_go_below_zero(
    arrivals: list[tuple[int, int]], spends: list[tuple[int, int]]
) -> None:
    ledger = _ledger_with_income(
        *((OPENED + timedelta(days=d), str(Money(p).amount)) for d, p in arrivals)
    )
    for offset, pence in spends:
        day = OPENED + timedelta(days=offset)
        expected_ok = ledger.available_from("DP-1", day) >= Money(pence)
        try:
            _spend(ledger, day, str(Money(pence).amount))
        except InsufficientFunds:
            assert not expected_ok
        else:
            assert expected_ok
    check_account_invariants(ledger.load("DP-1"), ledger.events("DP-1"))


def test_bad_input_names_the_account_it_was_for() -> None:
    ledger = _ledger_with_income()
    with pytest.raises(ValidationError) as refused:
        ledger.receive_contribution("DP-1", amount=1.5, effective_date=OPENED, actor="t")  # type: ignore[arg-type]
    assert refused.value.account_id == "DP-1"
    assert refused.value.field == "amount"
    assert str(refused.value).startswith("[DP-1] amount:")


def test_unexpected_income_receipt_names_its_suspense_item() -> None:
    ledger = _ledger_with_income()
    receipt = ledger.receive_unexpected_income(
        "DP-1", amount="25.00", description="unknown", effective_date=OPENED, actor="t"
    )
    assert receipt.item_id == f"S{receipt.version}"
    assert ledger.account("DP-1").suspense_items[receipt.item_id].amount == Money("25.00")


def test_the_library_is_silent_unless_the_host_enables_logging(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import structlog

    monkeypatch.setattr(structlog, "is_configured", lambda: False)
    ledger = _ledger_with_income((OPENED, "10.00"))
    assert capsys.readouterr().out == ""
    with caplog.at_level(logging.INFO, logger="dpledger"):
        ledger.receive_contribution("DP-1", amount="5.00", effective_date=OPENED, actor="t")
    assert any("command.recorded" in r.getMessage() for r in caplog.records)
    line = next(r.getMessage() for r in caplog.records if "command.recorded" in r.getMessage())
    assert "account_id='DP-1'" in line
    assert "amount_pence=500" in line
