"""Rules broken on purpose are caught: by the stateful machine and by the invariants.

Each test breaks one rule of the ledger with ``monkeypatch`` (a copy of the rule that forgets
part of it), runs the machine without shrinking, and expects it to fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from dpledger import Ledger
from dpledger.commands import PayCarePlanSpend, ReceiveCouncilPayment
from dpledger.domain import surplus as surplus_rules
from dpledger.domain.funds import Funds
from dpledger.domain.money import Money
from dpledger.testing import InvariantViolation, check_ledger_invariants
from dpledger.testing.stateful import LedgerMachine

HUNT = settings(
    max_examples=150,
    stateful_step_count=30,
    phases=[Phase.generate],  # found is enough: no shrinking
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def caught(machine: type[LedgerMachine]) -> str:
    """The message of the failure the machine found (fails if it found none)."""
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(machine, settings=HUNT)
    return str(failure.value) + str(failure.value.__cause__ or "")


def test_the_machine_passes_on_the_real_rules() -> None:
    run_state_machine_as_test(LedgerMachine, settings=settings(HUNT, max_examples=10))


def test_a_surplus_that_forgets_the_contingency_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(surplus_rules, "contingency_in_force", lambda terms, day: Money(0))
    message = caught(LedgerMachine)
    assert "DemandRecoupment" in message


def test_an_overdraft_check_removed_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Funds, "check_funds", lambda self, postings, day, account_id: None)
    caught(LedgerMachine)


def test_the_invariants_catch_an_overdraft_the_ledger_let_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Funds, "check_funds", lambda self, postings, day, account_id: None)
    with Ledger.in_memory() as ledger:
        ledger.open_account(
            "DP-1",
            person_ref="P-1",
            council="Testshire",
            provider="Provider",
            effective_date="2026-04-06",
            actor="seeded-bug",
        )
        when: dict[str, Any] = {"account_id": "DP-1", "actor": "seeded-bug"}
        ledger.execute(
            ReceiveCouncilPayment(amount=Money(1_000), effective_date="2026-04-07", **when)
        )
        ledger.execute(
            PayCarePlanSpend(
                category="insurance",
                amount=Money(1_001),
                description="insurance",
                effective_date="2026-04-08",
                **when,
            )
        )
        with pytest.raises(InvariantViolation, match="took the bank to -1 pence"):
            check_ledger_invariants(ledger)


class CountingMachine(LedgerMachine):
    """A user's subclass: one more rule and one more invariant."""

    calls: dict[str, int] = {}  # noqa: RUF012 - shared on purpose: counts across examples

    @rule()
    def council_pays_a_fixed_amount(self) -> None:
        self.calls["rule"] = self.calls.get("rule", 0) + 1
        self.execute(self.command(ReceiveCouncilPayment, amount=Money(45_500)))

    @invariant()
    def bank_is_never_negative(self) -> None:
        self.calls["invariant"] = self.calls.get("invariant", 0) + 1
        if self.model is not None:
            assert self.ledger.bank_balance(self.account_id).pence >= 0


def test_a_subclass_adds_its_own_rules_and_invariants() -> None:
    CountingMachine.calls.clear()
    run_state_machine_as_test(CountingMachine, settings=settings(HUNT, max_examples=10))
    assert CountingMachine.calls.get("rule", 0) > 0
    assert CountingMachine.calls.get("invariant", 0) > 0


def test_a_subclass_invariant_that_a_bug_breaks_is_caught() -> None:
    class EightWeeks(LedgerMachine):
        @invariant()
        def never_more_than_eight_weeks(self) -> None:
            # Wrong on purpose: nothing stops a council paying in more than eight weeks.
            if self.model is not None:
                limit = 8 * self.state.weekly_gross(self.day)
                assert self.state.bank <= limit, "more than eight weeks held"

    assert "eight weeks" in caught(EightWeeks)
