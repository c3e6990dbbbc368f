"""Two writers on one store: the second save conflicts, records nothing, and is safe to retry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dpledger import Ledger, Money
from dpledger.domain.account import ManagedAccount
from dpledger.errors import ConflictError, DpledgerError

ACCOUNT = "DP-RACE"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _open(ledger: Ledger) -> None:
    ledger.open_account(ACCOUNT, person_ref="P-1", council="Kent", provider="SOLO", **DAY)
    ledger.receive_council_payment(ACCOUNT, amount="1000.00", **DAY)


def _stale_loads(monkeypatch: pytest.MonkeyPatch, ledger: Ledger, stale: ManagedAccount) -> None:
    """Make ``ledger`` work on ``stale``: what it loaded before the other writer saved."""
    monkeypatch.setattr(ledger, "_load", lambda account_id: stale)


@pytest.fixture
def writers(durable_url: str, open_ledger: Callable[[str], Ledger]) -> tuple[Ledger, Ledger]:
    first, second = open_ledger(durable_url), open_ledger(durable_url)
    _open(first)
    assert second.account(ACCOUNT).version == 2
    return first, second


def test_the_second_writer_gets_a_conflict_and_records_nothing(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers
    stale = second.load(ACCOUNT)  # both writers have loaded version 2
    first.receive_contribution(ACCOUNT, amount="20.00", idempotency_key="a-1", **DAY)  # v3

    with monkeypatch.context() as patch:
        _stale_loads(patch, second, stale)
        with pytest.raises(ConflictError) as caught:
            second.pay_care_plan_spend(
                ACCOUNT,
                category="insurance",
                amount="100.00",
                description="EL cover",
                idempotency_key="b-1",
                **DAY,
            )
    error = caught.value
    assert isinstance(error, DpledgerError)
    assert error.account_id == ACCOUNT
    assert "nothing was recorded" in str(error)
    assert "retry" in error.fix

    for ledger in (first, second):
        state = ledger.account(ACCOUNT)
        assert state.version == 3
        assert state.bank_balance == Money("1020.00")
        assert [type(e).__name__ for e in ledger.events(ACCOUNT)][-1] == "ContributionReceived"

    # the retry with the same key runs against the fresh state and is recorded once
    retry = second.pay_care_plan_spend(
        ACCOUNT,
        category="insurance",
        amount="100.00",
        description="EL cover",
        idempotency_key="b-1",
        **DAY,
    )
    assert retry.replayed is False
    assert retry.version == 4
    again = first.pay_care_plan_spend(
        ACCOUNT,
        category="insurance",
        amount="100.00",
        description="EL cover",
        idempotency_key="b-1",
        **DAY,
    )
    assert again.replayed is True
    assert again.version == 4
    assert first.bank_balance(ACCOUNT) == Money("920.00")
    assert second.account(ACCOUNT).version == 4


def test_the_same_command_sent_to_both_writers_is_recorded_once(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers
    stale = second.load(ACCOUNT)
    command = {"amount": "250.00", "bank_reference": "BACS-9", "idempotency_key": "bacs-9"}
    winner = first.receive_council_payment(ACCOUNT, **command, **DAY)
    assert winner.version == 3

    with monkeypatch.context() as patch:
        _stale_loads(patch, second, stale)
        with pytest.raises(ConflictError):
            second.receive_council_payment(ACCOUNT, **command, **DAY)

    retry = second.receive_council_payment(ACCOUNT, **command, **DAY)
    assert retry.replayed is True
    assert retry.version == 3
    assert retry.event == winner.event
    assert second.bank_balance(ACCOUNT) == Money("1250.00")
    assert len(second.events(ACCOUNT)) == 3


def test_a_store_that_cannot_write_raises_store_error_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.persistence import OperationalError

    from dpledger.errors import StoreError

    ledger = Ledger.sqlite(tmp_path / "locked.sqlite")
    ledger.open_account(
        "DP-9", person_ref="P-9", council="C", provider="P", effective_date="2026-04-01", actor="t"
    )

    def locked(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ledger.application, "save", locked)
    with pytest.raises(StoreError) as refused:
        ledger.receive_contribution("DP-9", amount="5.00", effective_date="2026-04-02", actor="t")
    assert refused.value.account_id == "DP-9"
    assert "retry" in refused.value.fix
    monkeypatch.undo()
    assert ledger.account("DP-9").version == 1
    ledger.close()
