"""A pooled client account as its events say it stood on any date: the pool's balance, each
member's share, the money still unallocated, and the balances the bank stated beside the
ledger's.

Folded from the bank account's stored events alone (never from the write side's state), so it
is also the independent check ``verify`` runs on every pooled account: the pool's balance must
equal the members' shares plus the unallocated money, and every line booked for a member must
have moved exactly that money on the member's own account (:func:`pool_breaks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dpledger.domain.bank import (
    BankAccountOpened,
    BankBalanceStated,
    StatementLineBooked,
    money_moved,
)
from dpledger.domain.chain import BrokenLink
from dpledger.domain.money import Money
from dpledger.domain.pooled import LineAllocated, PoolingConfigured, PoolMemberJoined


@dataclass(frozen=True, slots=True)
class PoolStated:
    """A balance the bank stated for the end of ``day``, beside the ledger's pool balance then."""

    day: date
    stated: Money
    ledger: Money
    source: str

    @property
    def agrees(self) -> bool:
        """Whether the bank and the ledger agree."""
        return self.stated == self.ledger


@dataclass
class PoolPosition:
    """A pooled account on ``on`` (``None``: everything recorded)."""

    bank_account: str
    name: str
    on: date | None
    pooled: bool = False
    balance: Money = field(default_factory=lambda: Money(0))
    """The sum of its booked lines to that date."""
    shares: dict[str, Money] = field(default_factory=dict)
    """Each member's money in the pool."""
    unallocated: Money = field(default_factory=lambda: Money(0))
    """Money in the pool (or paid out of it) that no member has been named for yet."""
    held_lines: int = 0
    members: dict[str, str] = field(default_factory=dict)
    stated: list[PoolStated] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        """The pool's balance is the members' shares plus the unallocated money."""
        return self.balance.pence == sum(m.pence for m in self.shares.values()) + (
            self.unallocated.pence
        )

    @property
    def breaks(self) -> list[PoolStated]:
        """The stated balances the ledger does not agree with."""
        return [s for s in self.stated if not s.agrees]

    def reconciliation(self) -> str:
        """One line on the bank's stated balances: agreed, broken, or never stated."""
        if not self.stated:
            return "no bank balance was ever stated for this pool: nothing to reconcile against"
        if self.breaks:
            first = self.breaks[0]
            return (
                f"{len(self.breaks)} of {len(self.stated)} stated balances differ from the "
                f"ledger (first: {first.day}, bank {first.stated}, ledger {first.ledger})"
            )
        if len(self.stated) == 1:
            return "the bank and the ledger agree on the 1 stated balance"
        return f"the bank and the ledger agree on all {len(self.stated)} stated balances"


def fold_pool(bank_account: str, events: Iterable[Any], on: date | None = None) -> PoolPosition:
    """The pool as its ``events`` (in order) left it at the end of ``on``."""
    position = PoolPosition(bank_account, "", on)
    shares: dict[str, int] = {}
    held: dict[str, int] = {}
    balance = 0
    by_day: dict[date, int] = {}
    stated: list[tuple[date, Money, str]] = []
    for event in events:
        day = event.effective_date
        if isinstance(event, PoolingConfigured):
            position.pooled = True
            position.name = event.name
        elif isinstance(event, PoolMemberJoined):
            position.members[event.account_id] = event.person_ref
        if on is not None and day > on:
            continue
        if isinstance(event, StatementLineBooked):
            balance += event.amount.pence
            by_day[day] = by_day.get(day, 0) + event.amount.pence
            if event.account_id is None:
                held[event.line_key] = event.amount.pence
            else:
                shares[event.account_id] = shares.get(event.account_id, 0) + event.amount.pence
        elif isinstance(event, LineAllocated):
            held[event.line_key] = held.get(event.line_key, 0) - event.amount.pence
            shares[event.account_id] = shares.get(event.account_id, 0) + event.amount.pence
        elif isinstance(event, BankBalanceStated):
            stated.append((day, event.balance, event.source))
    running = 0
    through: dict[date, int] = {}
    for day in sorted(by_day):
        running += by_day[day]
        through[day] = running
    days = sorted(through)
    for day, balance_stated, source in sorted(stated, key=lambda s: s[0]):
        before = [d for d in days if d <= day]
        ledger = through[before[-1]] if before else 0
        position.stated.append(PoolStated(day, balance_stated, Money(ledger), source))
    position.balance = Money(balance)
    position.shares = {k: Money(v) for k, v in sorted(shares.items())}
    position.unallocated = Money(sum(held.values()))
    position.held_lines = sum(1 for v in held.values() if v)
    return position


def pool_breaks(
    name: str,
    stored: list[tuple[int, Any]],
    load: Callable[[str], list[tuple[int, Any]]],
) -> list[BrokenLink]:
    """Where a pooled account's events do not add up (for ``verify``).

    ``load(account_id)`` reads a member's stored events. Each line booked for a member, and each
    allocation, must name an event that moved exactly its money (:func:`money_moved`); the pool
    must add up.
    """
    events = [e for _, e in stored if not isinstance(e, Exception)]
    if not any(isinstance(e, PoolingConfigured) for e in events):
        return []
    opened = next((e for e in events if isinstance(e, BankAccountOpened)), None)
    bank_key = opened.key if opened is not None else name
    members: dict[str, dict[int, Any]] = {}

    def moved(account_id: str, version: int) -> Money | None:
        if account_id not in members:
            members[account_id] = dict(load(account_id))
        event = members[account_id].get(version)
        if event is None or isinstance(event, Exception):
            return None
        return money_moved(event, bank_key)

    found: list[BrokenLink] = []
    for event in events:
        if not isinstance(event, StatementLineBooked | LineAllocated):
            continue
        member, version, amount = event.account_id, event.event_version, event.amount
        if member is None or version is None:
            continue
        actual = moved(member, version)
        if actual != amount:
            found.append(
                BrokenLink(
                    name,
                    event.originator_version,
                    f"the pool booked {amount} for {member} event {version}, which moved "
                    f"{'nothing' if actual is None else actual}",
                )
            )
    position = fold_pool(bank_key, events)
    if not position.adds_up:
        found.append(
            BrokenLink(
                name,
                stored[-1][0] if stored else 0,
                f"the pool's balance {position.balance} is not its members' shares plus "
                f"{position.unallocated} unallocated",
            )
        )
    return found
