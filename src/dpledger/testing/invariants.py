"""The invariants every managed account keeps, checked from its events.

Called by dpledger's own stateful tests after every step; call it from yours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dpledger.domain.account import ManagedAccount
from dpledger.domain.chart import LIABILITIES, LedgerAccount
from dpledger.domain.events import AccountEvent


class InvariantViolation(AssertionError):
    """An invariant does not hold; the message names it and the event where it broke."""


def check_account_invariants(account: ManagedAccount, events: Sequence[AccountEvent]) -> None:
    """Check ``account`` against its own ``events`` (oldest first).

    - every event's postings sum to zero;
    - the versions run 1, 2, 3, ... with no gap;
    - replaying the postings, the bank never goes below zero and no liability or suspense
      account is ever overpaid (in debit);
    - in effective-date order too, the bank's end-of-day balance is never below zero (a
      back-dated payment cannot spend money that arrived later);
    - the account's balances equal the sums of all postings;
    - the bank balance equals money in minus money out.
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
        if running.get(LedgerAccount.BANK, 0) < 0:
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
