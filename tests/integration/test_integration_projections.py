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
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from dpledger import Ledger, Money
from dpledger.projections.warnings import evaluate

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
    assert {(w.rule, w.subject) for w in ledger.warnings(ACCOUNT)} == set(
        evaluate(ledger.load(ACCOUNT))
    )
    assert ledger.portfolio("Kent County Council", on="2026-04-06").money_held == Money("1180.77")
    assert ledger.verify(ACCOUNT, seals=[ledger.seal(ACCOUNT)]).ok


def test_two_ledgers_share_the_projections(
    durable_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(durable_url)
    second = open_ledger(durable_url)
    scenario(first)
    assert first.catch_up() == 19 * 3
    assert second.catch_up() == 0  # the first already projected everything
    second.receive_contribution(ACCOUNT, amount="10.00", **DAY)
    assert first.bank_balance(ACCOUNT) == Money("1190.77")
    assert first.balance(ACCOUNT, as_of="2026-04-06") == Money("1190.77")
    assert [e.version for e in first.audit_trail(ACCOUNT)] == list(range(1, 21))
    assert first.catch_up() == 1  # the oversight model had not been asked for yet
    assert second.catch_up() == 0


@pytest.mark.postgres
def test_gaps_in_notification_ids_are_passed_over(
    postgres_url: str, open_ledger: Callable[[str], Ledger], scenario: Callable[..., None]
) -> None:
    first = open_ledger(postgres_url)
    second = open_ledger(postgres_url)
    scenario(first)
    stale = second.load(ACCOUNT)
    first.receive_contribution(ACCOUNT, amount="1.00", **DAY)
    stale.receive_contribution(amount=Money(200), bank_reference=None, meta=_meta())
    with pytest.raises(IntegrityError):  # the losing insert rolls back, using up an id
        second.application.save(stale)
    first.receive_contribution(ACCOUNT, amount="2.00", **DAY)
    ids = [n.id for n in first.application.recorder.select_notifications(start=1, limit=100)]
    assert ids != list(range(ids[0], ids[0] + len(ids))), "expected a gap in the ids"
    assert first.balance(ACCOUNT, as_of="2026-04-06") == Money("1183.77")
    assert len(first.audit_trail(ACCOUNT)) == 21


def _meta() -> Any:
    from datetime import date

    from dpledger.domain.account import CommandMeta

    return CommandMeta(date(2026, 4, 6), "officer-1", None, None, None)


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
