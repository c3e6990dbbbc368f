"""Two writers on one store: the second save conflicts, records nothing, and is safe to retry."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from dpledger import Ledger, Money, Receipt
from dpledger.domain.account import account_uuid
from dpledger.errors import ConflictError, DpledgerError

ACCOUNT = "DP-RACE"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _open(ledger: Ledger) -> None:
    ledger.open_account(ACCOUNT, person_ref="P-1", council="Kent", provider="SOLO", **DAY)
    ledger.receive_council_payment(ACCOUNT, amount="1000.00", **DAY)


def _another_writer_saves_first(
    monkeypatch: pytest.MonkeyPatch, ledger: Ledger, other: Callable[[], object]
) -> None:
    """Make ``other`` (the other writer's command) save after ``ledger`` has loaded the account,
    looked up its keys and decided, and just before ``ledger`` saves: the race of two writers.

    Loading goes through ``application.session.Session`` (the account and its key index are read
    once per command), so the interleaving is put between the decision and the save rather than
    into the loading: both writers decide on version 2 with the key still free.
    """
    save = ledger.application.save
    raced: list[object] = []

    def racing_save(*args: object, **kwargs: object) -> object:
        if not raced:
            raced.append(other())
        return save(*args, **kwargs)

    monkeypatch.setattr(ledger.application, "save", racing_save)


@pytest.fixture
def writers(
    durable_url: str, open_ledger: Callable[[str], Ledger], monkeypatch: pytest.MonkeyPatch
) -> tuple[Ledger, Ledger]:
    # The conflict itself, as a caller sees it once the library's retries run out: none here
    # (tests/integration/test_retries.py has the same races absorbed by the retries).
    monkeypatch.setenv("DPLEDGER_RETRIES", "0")
    first, second = open_ledger(durable_url), open_ledger(durable_url)
    _open(first)
    assert second.account(ACCOUNT).version == 2
    return first, second


def test_the_second_writer_gets_a_conflict_and_records_nothing(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers

    def contribution() -> object:  # v3, saved while the second writer is deciding on v2
        return first.receive_contribution(ACCOUNT, amount="20.00", idempotency_key="a-1", **DAY)

    with monkeypatch.context() as patch:
        _another_writer_saves_first(patch, second, contribution)
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
    command = {"amount": "250.00", "bank_reference": "BACS-9", "idempotency_key": "bacs-9"}
    won: list[Receipt] = []

    def same_command() -> object:  # the first writer records it while the second decides
        won.append(first.receive_council_payment(ACCOUNT, **command, **DAY))
        return won[-1]

    with monkeypatch.context() as patch:
        _another_writer_saves_first(patch, second, same_command)
        with pytest.raises(ConflictError):
            second.receive_council_payment(ACCOUNT, **command, **DAY)
    (winner,) = won
    assert winner.version == 3
    assert winner.replayed is False

    retry = second.receive_council_payment(ACCOUNT, **command, **DAY)
    assert retry.replayed is True
    assert retry.version == 3
    assert retry.event == winner.event
    assert second.bank_balance(ACCOUNT) == Money("1250.00")
    assert len(second.events(ACCOUNT)) == 3


def test_a_writer_holding_a_stale_account_conflicts_but_replays_a_key_already_recorded(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale load itself: the second writer's store hands it the account as it was at
    version 2. Its own new command conflicts; a command whose key the first writer recorded is
    replayed, since keys are read from the store's key index, never from the loaded state."""
    first, second = writers
    stale = second.load(ACCOUNT)
    command = {"amount": "250.00", "bank_reference": "BACS-9", "idempotency_key": "bacs-9"}
    winner = first.receive_council_payment(ACCOUNT, **command, **DAY)
    assert winner.version == 3

    repository = second.application.checked_repository
    take = repository.take

    def stale_take(aggregate_id: object) -> object:
        # What a unit of work is handed: the account as it was at version 2, not brought up to
        # date (as if loaded just before the first writer saved).
        if aggregate_id == account_uuid(ACCOUNT):
            return copy.deepcopy(stale)  # a command changes the copy it is given
        return take(aggregate_id)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(repository, "take", stale_take)
        retry = second.receive_council_payment(ACCOUNT, **command, **DAY)
        assert (retry.replayed, retry.version, retry.event) == (True, 3, winner.event)
        with pytest.raises(ConflictError):
            second.receive_contribution(ACCOUNT, amount="5.00", idempotency_key="c-1", **DAY)
    assert [e.originator_version for e in second.events(ACCOUNT)] == [1, 2, 3]
    assert second.bank_balance(ACCOUNT) == Money("1250.00")


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
