"""The library's retries: the races of test_integration_concurrency.py, absorbed.

A command whose save meets another writer's is run again on the fresh account (every rule
checked again), or replayed if the other writer recorded the same key; the caller sees
``ConflictError`` only when the attempts run out.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from dpledger import Ledger, Money
from dpledger.commands import ReceiveCouncilPayment
from dpledger.domain.account import account_uuid
from dpledger.errors import ConflictError, InsufficientFunds, ValidationError

ACCOUNT = "DP-RETRY"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def _race(monkeypatch: pytest.MonkeyPatch, ledger: Ledger, other: Callable[[], object]) -> None:
    """``other`` saves just before ``ledger``'s first save (after it decided on the old state)."""
    save = ledger.application.save
    raced: list[object] = []

    def racing_save(*args: object, **kwargs: object) -> object:
        if not raced:
            raced.append(other())
        return save(*args, **kwargs)

    monkeypatch.setattr(ledger.application, "save", racing_save)


@pytest.fixture
def writers(durable_url: str, open_ledger: Callable[[str], Ledger]) -> tuple[Ledger, Ledger]:
    first, second = open_ledger(durable_url), open_ledger(durable_url)
    first.open_account(ACCOUNT, person_ref="P-1", council="Kent", provider="SOLO", **DAY)
    first.receive_council_payment(ACCOUNT, amount="1000.00", **DAY)
    assert second.account(ACCOUNT).version == 2
    return first, second


def test_a_lost_race_is_run_again_on_the_fresh_account(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers
    _race(
        monkeypatch,
        second,
        lambda: first.receive_contribution(ACCOUNT, amount="20.00", idempotency_key="a", **DAY),
    )
    receipt = second.pay_care_plan_spend(
        ACCOUNT, category="insurance", amount="100.00", description="EL", idempotency_key="b", **DAY
    )
    assert (receipt.replayed, receipt.version) == (False, 4)
    assert second.retrying.conflicts_absorbed == 1
    assert second.retrying.conflicts_raised == 0
    assert first.bank_balance(ACCOUNT) == Money("920.00")
    assert [e.command_key for e in first.events(ACCOUNT)][2:] == ["a", "b"]


def test_a_retry_checks_every_rule_again(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decided on £1,000 in the bank, the payment of £900 is refused on the retry: the other
    writer paid £200 out first."""
    first, second = writers
    _race(
        monkeypatch,
        second,
        lambda: first.pay_care_plan_spend(
            ACCOUNT, category="insurance", amount="200.00", description="EL", **DAY
        ),
    )
    with pytest.raises(InsufficientFunds):
        second.pay_care_plan_spend(
            ACCOUNT, category="insurance", amount="900.00", description="EL", **DAY
        )
    assert second.retrying.conflicts_absorbed == 1
    assert first.bank_balance(ACCOUNT) == Money("800.00")


def test_the_same_command_recorded_by_the_other_writer_is_replayed(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers
    command = {"amount": "250.00", "bank_reference": "BACS-9", "idempotency_key": "bacs-9"}
    won: list[object] = []
    _race(
        monkeypatch,
        second,
        lambda: won.append(first.receive_council_payment(ACCOUNT, **command, **DAY)),
    )
    receipt = second.receive_council_payment(ACCOUNT, **command, **DAY)
    assert (receipt.replayed, receipt.version) == (True, 3)
    assert len(won) == 1
    assert len(second.events(ACCOUNT)) == 3


def test_a_batch_that_lost_a_race_is_run_again_whole(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = writers
    _race(
        monkeypatch,
        second,
        lambda: first.receive_contribution(ACCOUNT, amount="5.00", idempotency_key="c", **DAY),
    )
    batch = [
        ReceiveCouncilPayment.build(
            account_id=ACCOUNT, amount="10.00", idempotency_key=f"k{n}", **DAY
        )
        for n in range(3)
    ]
    report = second.execute_many(batch)
    assert report.ok
    assert [r.version for r in report.receipts if r is not None] == [4, 5, 6]
    assert second.retrying.conflicts_absorbed == 1
    assert first.bank_balance(ACCOUNT) == Money("1035.00")


def test_when_the_attempts_run_out_the_caller_gets_the_conflict(
    writers: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer whose every load is stale: it tries 1 + retries times, then passes the
    conflict on; nothing is recorded and nothing half-changed stays in its memory."""
    first, second = writers
    stale = second.load(ACCOUNT)
    first.receive_contribution(ACCOUNT, amount="20.00", **DAY)
    repository = second.application.checked_repository
    take = repository.take
    taken: list[object] = []

    def stale_take(aggregate_id: object) -> object:
        if aggregate_id == account_uuid(ACCOUNT):
            taken.append(aggregate_id)
            return copy.deepcopy(stale)
        return take(aggregate_id)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "take", stale_take)
    monkeypatch.setattr("dpledger.application.retry.LONGEST_DELAY", 0.0)
    second.retrying.retries = 3
    with pytest.raises(ConflictError) as caught:
        second.receive_contribution(ACCOUNT, amount="5.00", **DAY)
    assert caught.value.account_id == ACCOUNT
    assert len(taken) == 4
    assert (second.retrying.conflicts_absorbed, second.retrying.conflicts_raised) == (3, 1)
    assert account_uuid(ACCOUNT) not in repository._kept
    monkeypatch.undo()
    assert [e.originator_version for e in second.events(ACCOUNT)] == [1, 2, 3]
    assert second.receive_contribution(ACCOUNT, amount="5.00", **DAY).version == 4


def test_retries_are_configured_by_argument_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Ledger("memory:", retries=0) as ledger:
        assert ledger.retrying.retries == 0
    monkeypatch.setenv("DPLEDGER_RETRIES", "9")
    with Ledger("memory:") as ledger:
        assert ledger.retrying.retries == 9
    monkeypatch.setenv("DPLEDGER_RETRIES", "many")
    with pytest.raises(ValidationError, match="DPLEDGER_RETRIES='many'"):
        Ledger("memory:")
    monkeypatch.delenv("DPLEDGER_RETRIES")
    with Ledger("memory:") as ledger:
        assert ledger.retrying.retries == 5
    for bad in (-1, 101):
        with pytest.raises(ValidationError, match="retries"):
            Ledger("memory:", retries=bad)
