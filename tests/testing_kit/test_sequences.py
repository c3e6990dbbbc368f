"""The command-sequence strategies give only what a fresh ledger accepts, and shrink readably."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from hypothesis import HealthCheck, find, given, settings

from dpledger import Ledger, LedgerAccount
from dpledger.commands import (
    ChangePolicy,
    CloseAccount,
    Command,
    OpenAccount,
    PayInvoice,
    RecordWageRun,
)
from dpledger.domain.policy import AccountPolicy, PaymentBasis
from dpledger.testing import check_ledger_invariants
from dpledger.testing import strategies as dps
from dpledger.testing.model import model_of
from dpledger.testing.sequences import START

QUICK = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_all(ledger: Ledger, commands: list[Command]) -> None:
    for number, command in enumerate(commands, start=1):
        receipt = ledger.execute(command)  # a refusal raises, naming the command
        assert not receipt.replayed, f"command {number} was taken for a retry"


@QUICK
@given(dps.command_sequences())
def test_every_sequence_runs_on_a_fresh_ledger_and_agrees_with_the_model(
    commands: list[Command],
) -> None:
    agrees_with_the_model(commands)


@QUICK
@given(dps.command_sequences(policy_changes=True))
def test_sequences_with_policy_changes_agree_with_the_model(commands: list[Command]) -> None:
    agrees_with_the_model(commands)


@QUICK
@given(dps.command_sequences())
def test_without_policy_changes_the_policy_stays_the_opening_one(commands: list[Command]) -> None:
    assert not any(isinstance(command, ChangePolicy) for command in commands)


def agrees_with_the_model(commands: list[Command]) -> None:
    with Ledger.in_memory() as ledger:
        run_all(ledger, commands)
        model = model_of(commands)
        account = ledger.load("DP-1")
        assert account.version == len(commands) == model.version
        assert account.bank_balance.pence == model.bank
        assert account.unpaid_liabilities.pence == model.total_owed()
        assert -account.balance(LedgerAccount.SUSPENSE).pence == sum(model.suspense.values())
        day = commands[-1].effective_date
        assert ledger.recoverable_surplus("DP-1", day).pence == model.recoverable(day)
        check_ledger_invariants(ledger)


@QUICK
@given(dps.account_histories())
def test_every_history_closes_the_account_with_nothing_left(commands: list[Command]) -> None:
    assert isinstance(commands[0], OpenAccount)
    assert isinstance(commands[-1], CloseAccount)
    days = [command.effective_date for command in commands]
    assert days == sorted(days)
    with Ledger.in_memory() as ledger:
        run_all(ledger, commands)
        state = ledger.account("DP-1")
        assert state.status.value == "closed"
        assert ledger.bank_balance("DP-1").pence == 0
        check_ledger_invariants(ledger)
        again = ledger.execute_many(commands)  # a history sent again records nothing new
        assert not again.failed
        assert ledger.load("DP-1").version == len(commands)


@QUICK
@given(dps.command_sequences(AccountPolicy(payment_basis=PaymentBasis.GROSS, contingency_weeks=4)))
def test_a_given_policy_is_the_one_opened(commands: list[Command]) -> None:
    opening = commands[0]
    assert isinstance(opening, OpenAccount)
    assert opening.policy.contingency_weeks == 4
    assert opening.policy.payment_basis is PaymentBasis.GROSS


@QUICK
@given(dps.command_sequences(account_id="DP-77", start=date(2026, 6, 1), idempotency_keys=False))
def test_the_account_start_and_keys_are_as_asked(commands: list[Command]) -> None:
    assert {command.account_id for command in commands} == {"DP-77"}
    assert commands[0].effective_date == date(2026, 6, 1)
    assert all(command.idempotency_key is None for command in commands)


def test_a_shrunk_sequence_is_short_same_day_and_in_whole_pounds() -> None:
    # The smallest sequence that pays an invoice is 8 commands (open, budget, agency, PA, an
    # invoice, money in, its approval, the payment), all on the first day; the shrinker may stop
    # a step or two short of it.
    found = find(
        dps.command_sequences(AccountPolicy()),
        lambda commands: any(isinstance(command, PayInvoice) for command in commands),
        settings=settings(max_examples=1_000, database=None),
    )
    assert len(found) <= 11, found
    assert {command.effective_date for command in found} == {START}
    paid = next(command for command in found if isinstance(command, PayInvoice))
    assert paid.amount.pence % 100 == 0 or paid.amount.pence < 100


@QUICK
@given(dps.command_sequences(max_steps=40))
def test_wage_runs_follow_each_other_week_by_week_and_are_paid_in_arrears(
    commands: list[Command],
) -> None:
    runs = [command for command in commands if isinstance(command, RecordWageRun)]
    for earlier, later in pairwise(runs):
        assert (later.period_start - earlier.period_end).days == 1
    for run in runs:
        assert (run.period_end - run.period_start).days == 6
        assert run.period_end <= run.effective_date
        assert run.net == run.gross
