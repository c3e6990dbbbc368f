"""The projections on every store, PostgreSQL included (its real server), and their workers.

- the read side agrees across stores for the same history;
- two Ledgers on one durable store share the projections: each catches up only what is new, and
  neither applies an event twice;
- a write conflict leaves a permanent gap in PostgreSQL's notification ids, which the engine
  passes over;
- the read models also take events one at a time through eventsourcing's ``process_event``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dpledger import Ledger, Money
from dpledger.application.session import Session
from dpledger.commands import ReceiveContribution
from dpledger.errors import ConflictError
from dpledger.projections.warnings import break_conditions, evaluate
from dpledger.readside import READ_MODELS

ACCOUNT = "DP-INT-1"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def test_read_side_agrees_with_the_aggregate(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    ledger = open_ledger(store_url)
    scenario(ledger)
    assert ledger.balance(ACCOUNT, as_of="2026-04-06") == Money("1180.77")
    assert ledger.balances_as_of(ACCOUNT, "2030-01-01") == ledger.balances(ACCOUNT)
    trail = ledger.audit_trail(ACCOUNT)
    assert len(trail) == 19
    assert trail[-1].bank_after == Money("1180.77")
    period = ledger.period(ACCOUNT, "2026-04-01", "2026-04-30")
    assert period.opening + period.total_in - period.total_out == period.closing
    expected = evaluate(ledger.load(ACCOUNT)) | break_conditions(
        ledger.reconciliation_breaks(ACCOUNT)
    )
    assert {(w.rule, w.subject) for w in ledger.warnings(ACCOUNT)} == set(expected)
    assert ledger.portfolio("Kent County Council", on="2026-04-06").money_held == Money("1180.77")
    assert ledger.verify(ACCOUNT, seals=[ledger.seal(ACCOUNT)]).ok


def test_two_ledgers_share_the_projections(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(durable_url)
    second = open_ledger(durable_url)
    scenario(first)
    assert first.catch_up() == 19 * len(READ_MODELS)
    assert second.catch_up() == 0  # the first already projected everything
    second.receive_contribution(ACCOUNT, amount="10.00", **DAY)
    assert first.bank_balance(ACCOUNT) == Money("1190.77")
    assert first.balance(ACCOUNT, as_of="2026-04-06") == Money("1190.77")
    assert [e.version for e in first.audit_trail(ACCOUNT)] == list(range(1, 21))
    assert first.catch_up() == 2  # the stated balances and oversight had not been asked for yet
    assert second.catch_up() == 0


@pytest.mark.postgres
def test_gaps_in_notification_ids_are_passed_over(
    postgres_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(postgres_url)
    second = open_ledger(postgres_url)
    scenario(first)
    stale = Session(second.application)  # loads the account before the first writer's change
    stale.run(ReceiveContribution.build(account_id=ACCOUNT, amount="2.00", **DAY))
    first.receive_contribution(ACCOUNT, amount="1.00", **DAY)
    with pytest.raises(ConflictError):  # the losing insert rolls back, using up an id
        stale.save()
    first.receive_contribution(ACCOUNT, amount="2.00", **DAY)
    ids = [n.id for n in first.application.recorder.select_notifications(start=1, limit=100)]
    assert ids != list(range(ids[0], ids[0] + len(ids))), "expected a gap in the ids"
    assert first.balance(ACCOUNT, as_of="2026-04-06") == Money("1183.77")
    assert len(first.audit_trail(ACCOUNT)) == 21


def test_process_event_applies_each_event_once(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    # The entry point eventsourcing's runners call: one event and its tracking per transaction;
    # a redelivered notification is ignored.
    from eventsourcing.persistence import Tracking

    from dpledger.projections.balances import LedgerLines

    ledger = open_ledger(store_url)
    scenario(ledger)
    model = ledger.projections.model(LedgerLines.name)
    ledger.projections.reset([LedgerLines.name])
    app = ledger.application
    notifications = app.recorder.select_notifications(start=1, limit=100)
    for notification in [*notifications, *notifications[:5]]:
        model.process_event(
            app.mapper.to_domain_event(notification), Tracking(app.name, notification.id)
        )
    assert ledger.projections.position(LedgerLines.name) == notifications[-1].id
    assert model.view.max_tracking_id(app.name) == notifications[-1].id
    assert ledger.balance(ACCOUNT, as_of="2026-04-06") == Money("1180.77")


def test_process_event_brings_the_models_a_model_reads_up_first(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    # The oversight model reads the ledger lines and stated balances: driven one event at a time
    # from scratch, it brings them along, and ends where the engine's own rebuild ends.
    from eventsourcing.persistence import Tracking

    from dpledger.projections.oversight import Oversight

    ledger = open_ledger(store_url)
    scenario(ledger)
    ledger.rebuild_projections()
    expected = ledger.warnings(ACCOUNT, active_only=False)
    assert expected
    ledger.projections.reset()
    app = ledger.application
    model = ledger.projections.model(Oversight.name)
    for notification in app.recorder.select_notifications(start=1, limit=100):
        model.process_event(
            app.mapper.to_domain_event(notification), Tracking(app.name, notification.id)
        )
        for name in Oversight.depends_on:
            assert ledger.projections.position(name) >= notification.id
    assert ledger.warnings(ACCOUNT, active_only=False) == expected


def test_break_warnings_on_every_store(
    store_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    # A statement's balance £5.00 above the ledger's raises a break warning; a back-dated entry
    # that explains it clears it; a rebuild tells the same story.
    from datetime import date

    from dpledger.adapters.bankfeeds import BalanceAssertion, BankFormat, BankStatement

    ledger = open_ledger(store_url)
    scenario(ledger)
    statement = BankStatement(
        source_file="april.csv",
        format=BankFormat.CSV,
        account_id="30-99-50 12345678",
        currency="GBP",
        closing_balance=BalanceAssertion(
            date=date(2026, 4, 30), balance=Money("1185.77"), kind="CLBD"
        ),
    )
    ledger.import_statement(ACCOUNT, statement, actor="officer-1")
    (gap,) = ledger.reconciliation_breaks(ACCOUNT)
    assert (gap.bank_account, gap.difference) == ("30-99-50 12345678", Money("5.00"))
    (warning,) = [w for w in ledger.warnings(ACCOUNT) if w.rule == "reconciliation_break"]
    assert warning.subject == "2026-04-30"
    assert warning.figures == {"asserted": 118577, "ledger": 118077, "difference": 500}
    ledger.receive_unexpected_income(ACCOUNT, amount="5.00", description="interest", **DAY)
    assert ledger.reconciliation_breaks(ACCOUNT) == []
    assert not [w for w in ledger.warnings(ACCOUNT) if w.rule == "reconciliation_break"]
    history = ledger.warnings(ACCOUNT, active_only=False)
    assert ledger.rebuild_projections() > 0
    assert ledger.warnings(ACCOUNT, active_only=False) == history
