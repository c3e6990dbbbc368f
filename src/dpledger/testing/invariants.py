"""The invariants every managed account keeps, checked from its events.

:func:`check_account_invariants` checks one account against its own events;
:func:`check_ledger_invariants` checks accounts as a ``Ledger`` holds them (and that replaying
their events gives what the store loads); :func:`check_pool_invariants` checks a pooled client
account adds up. :class:`~dpledger.testing.stateful.LedgerMachine` calls them after every step;
call them from your tests too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from dpledger.domain.account import ManagedAccount
from dpledger.domain.chart import LIABILITIES, LedgerAccount
from dpledger.domain.events import AccountEvent

if TYPE_CHECKING:
    from dpledger.ledger import Ledger


class InvariantViolation(AssertionError):
    """An invariant does not hold; the message names it and the event where it broke."""


def check_account_invariants(
    account: ManagedAccount, events: Sequence[AccountEvent], *, recording_order: bool = True
) -> None:
    """Check ``account`` against its own ``events`` (oldest first).

    - every event's postings sum to zero;
    - the versions run 1, 2, 3, ... with no gap;
    - replaying the postings, the bank never goes below zero (unless ``recording_order`` is
      false) and no liability or suspense account is ever overpaid (in debit);
    - in effective-date order too, the bank's end-of-day balance is never below zero (a
      back-dated payment cannot spend money that arrived later);
    - the account's balances equal the sums of all postings;
    - the bank balance equals money in minus money out.

    Pass ``recording_order=False`` for an account fed by bank statements: an import applies a
    day's lines in (date, reversal, key) order, not the bank's, so within a day the running
    balance may dip below zero though no end of day does.
    """
    running: dict[LedgerAccount, int] = {}
    money_in = money_out = 0
    for expected_version, event in enumerate(events, start=1):
        if event.originator_version != expected_version:
            raise InvariantViolation(
                f"event versions jump: expected {expected_version}, got {event.originator_version}"
            )
        total = sum(line.amount.pence for line in event.postings)
        if total != 0:
            raise InvariantViolation(
                f"event {expected_version} ({type(event).__name__}) postings sum to {total}"
            )
        for line in event.postings:
            running[line.account] = running.get(line.account, 0) + line.amount.pence
            if line.account is LedgerAccount.BANK:
                if line.amount.pence > 0:
                    money_in += line.amount.pence
                else:
                    money_out -= line.amount.pence
        if recording_order and running.get(LedgerAccount.BANK, 0) < 0:
            raise InvariantViolation(
                f"event {expected_version} ({type(event).__name__}) took the bank to "
                f"{running[LedgerAccount.BANK]} pence"
            )
        for owed in (*LIABILITIES, LedgerAccount.SUSPENSE):
            if running.get(owed, 0) > 0:
                raise InvariantViolation(
                    f"event {expected_version} ({type(event).__name__}) overpaid {owed.value}"
                )
    for ledger_account in LedgerAccount:
        actual = account.balance(ledger_account).pence
        if actual != running.get(ledger_account, 0):
            raise InvariantViolation(
                f"{ledger_account.value} is {actual} pence but its postings sum to "
                f"{running.get(ledger_account, 0)}"
            )
    if account.bank_balance.pence != money_in - money_out:
        raise InvariantViolation(
            f"bank {account.bank_balance.pence} != money in {money_in} - money out {money_out}"
        )
    by_day: dict[date, int] = {}
    for event in events:
        change = event.postings.effect_on(LedgerAccount.BANK)
        by_day[event.effective_date] = by_day.get(event.effective_date, 0) + change
    end_of_day = 0
    for day in sorted(by_day):
        end_of_day += by_day[day]
        if end_of_day < 0:
            raise InvariantViolation(f"the bank ended {day} at {end_of_day} pence")
    if account.version != len(events):
        raise InvariantViolation(f"account at version {account.version} but {len(events)} events")


def check_ledger_invariants(
    ledger: Ledger, account_ids: Iterable[str] | None = None, *, recording_order: bool = True
) -> None:
    """Check each of ``account_ids`` (default: every account in the store) as ``ledger`` holds
    it: :func:`check_account_invariants` on its events (``recording_order`` as there), and a
    replay of those events alone gives the account the store loads (which may come from a
    snapshot or the cache)."""
    for account_id in ledger.account_ids() if account_ids is None else account_ids:
        account = ledger.load(account_id)
        events = ledger.events(account_id)
        check_account_invariants(account, events, recording_order=recording_order)
        rebuilt: ManagedAccount | None = None
        for event in events:
            rebuilt = event.mutate(rebuilt)
        if rebuilt != account:
            raise InvariantViolation(
                f"{account_id}: replaying its {len(events)} events does not give the account "
                "the store loads"
            )


def check_pool_invariants(ledger: Ledger, bank_account: str, on: date | None = None) -> None:
    """Check the pooled client account ``bank_account`` on ``on`` (default: everything): its
    balance is its members' shares plus the money not yet allocated, and the balances the bank
    stated agree with it."""
    position = ledger.pool_position(bank_account, on=on)
    shares = sum(share.pence for share in position.shares.values())
    if not position.adds_up:
        raise InvariantViolation(
            f"pool {position.bank_account}: balance {position.balance} is not the members' "
            f"shares ({shares} pence) plus {position.unallocated} unallocated"
        )
    if position.breaks:
        raise InvariantViolation(f"pool {position.bank_account}: {position.reconciliation()}")
