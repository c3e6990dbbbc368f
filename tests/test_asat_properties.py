"""Property: every as-at query equals a fold of the events up to that date, recorded by that time.

For random account histories (:func:`dpledger.testing.account_histories`, policy changes
included), a random date and a random recorded time, the ledger's as-at queries (read from the
projections) must equal:

- for balances, the sum of the postings of the events effective by the date and recorded by the
  time, folded here from the stored events;
- for the surplus, recoverable surplus and contingency, the clerk's model
  (:class:`dpledger.testing.model.AccountModel`) given the same commands;
- for missing payments, paid in advance and the warnings that hold by the date, the domain's
  rules on the aggregate folded from the same events with its own ``when`` (and its latest date
  set to the day asked).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.domain.account import ManagedAccount
from dpledger.domain.schedule import missing_payments
from dpledger.projections.warnings import TIME_RULES, evaluate_on
from dpledger.testing.model import AccountModel
from dpledger.testing.sequences import account_histories


def _fold(events: list[Any]) -> ManagedAccount:
    account: Any = None
    for event in events:
        account = event.mutate(account)
    assert isinstance(account, ManagedAccount)
    return account


@given(data=st.data())
def test_every_as_at_query_is_a_fold_of_the_events(data: st.DataObject) -> None:
    commands = data.draw(account_histories(max_steps=10, policy_changes=True), label="history")
    days = [c.effective_date for c in commands]
    assert days == sorted(days)  # the strategy builds histories in date order
    with Ledger.in_memory() as ledger:
        for command in commands:
            ledger.execute(command)
        events = ledger.events("DP-1")
        assert len(events) == len(commands)  # one event per command
        known = data.draw(st.integers(0, len(events) - 1), label="known after event")
        day = data.draw(
            st.sampled_from(days)  # a day with entries: those after it must not count
            | st.integers(0, (days[-1] - days[0]).days + 60).map(
                lambda n: days[0] + timedelta(days=n)
            ),
            label="on",
        )
        moment = events[known].timestamp
        folded = [e for e in events[: known + 1] if e.effective_date <= day]

        # Balances: the postings of the events folded here.
        expected = dict.fromkeys(LedgerAccount, 0)
        for event in folded:
            for line in event.postings:
                expected[line.account] += line.amount.pence
        got = ledger.balances("DP-1", day, known_at=moment)
        assert {a: m.pence for a, m in got.items()} == expected
        assert (
            ledger.bank_balance("DP-1", day, known_at=moment).pence == expected[LedgerAccount.BANK]
        )

        # Surplus, recoverable surplus, contingency: the clerk's model of the same commands.
        model = AccountModel.opened(commands[0])  # type: ignore[arg-type]
        for command in commands[1 : len(folded)]:
            model.apply(command)
        assert ledger.surplus("DP-1", day, known_at=moment) == Money(model.surplus(day))
        assert ledger.recoverable_surplus("DP-1", day, known_at=moment) == Money(
            model.recoverable(day)
        )
        assert ledger.contingency("DP-1", day, known_at=moment) == Money(model.contingency(day))

        # Missing payments, paid in advance, the warnings that hold by the date: the domain's
        # rules on the aggregate folded from the same events, as at the day asked.
        account = _fold(folded)
        account.latest_date = day
        assert ledger.missing_payments("DP-1", day, known_at=moment) == missing_payments(
            account, day
        )
        end = day - timedelta(days=10)
        assert ledger.paid_in_advance(
            "DP-1", end, on=day, known_at=moment
        ) == account.paid_in_advance(end)
        (row,) = ledger.portfolio(account.council, on=day, known_at=moment).accounts
        assert (row.status, row.first_payment_on, row.last_review_on, row.next_review_due) == (
            account.status.value,
            account.first_payment_on,
            account.last_review_on,
            account.next_review_due,
        )
        assert row.contributions_due == account.terms.contributions_due(day)
        holding = evaluate_on(account, day)
        warned = ledger.warnings("DP-1", on=day, known_at=moment)
        from_rules = {(w.rule, w.subject): w.figures for w in warned if w.rule in TIME_RULES}
        assert from_rules == {key: c.figures for key, c in holding.items()}
