"""Bank accounts: each real bank account is its own aggregate.

A :class:`BankAccount` (one per sort code and account number, or IBAN: see
:func:`~dpledger.domain.bankids.bank_key`) holds what its statements said: the booked lines (each
once, by its de-duplication key, kept in the key index for ever and in the state for the recent
window), the lines the bank showed as pending, the balances it stated, and how each booked line
was matched to a managed account's money. A managed account names the bank account its money is
held in (``BankAccountNamed``).

Money itself is never posted here: a booked line that is a person's payment runs the very command
a hand-entered payment runs, on the managed account, and the bank account records the line
beside it, in the same transaction (see ``dpledger.application.bankimport``). The boundary is
drawn so that one bank account can later hold the money of many managed accounts: each line
record names the managed account it moved money for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from dpledger.domain import codec
from dpledger.domain.chain import GENESIS, chained
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.events import AccountEvent, BankAccountEvent, NotCorrectable, money_in
from dpledger.domain.funds import BANK_KEY_PREFIX, BankLineConfirmed
from dpledger.domain.keys import HoldsKeys
from dpledger.domain.money import Money
from dpledger.domain.personal import SEALS, attach
from dpledger.domain.records import (
    AllocationRule,
    BankLineRecord,
    PendingBankLine,
    UnallocatedLine,
)
from dpledger.domain.snapshots import CheckedSnapshot, SnapshotRefused, restored_aggregate
from dpledger.domain.window import COMPACT_EVERY, window_start

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

_BANK_NAMESPACE = UUID("0b1c9f4e-8d2a-5e7b-a3c6-5f9d2e1b7a40")


PENDING_SETTLES_WITHIN_DAYS = 10
"""A booked line settles a pending line of the same signed amount booked on the pending line's
date or up to this many days after it (banks book card payments within days)."""


@lru_cache(maxsize=65536)
def bank_account_uuid(key: str) -> UUID:
    """The stored aggregate id of the bank account with key ``key`` (stable, derived)."""
    return uuid5(_BANK_NAMESPACE, key)


def line_index_key(line_key: str) -> str:
    """A booked line's key in its bank account's key index."""
    return f"line:{line_key}"


def balance_index_key(day: date, balance: Money) -> str:
    """A stated balance's key in its bank account's key index: the day and the amount, so the
    same fact from two statements (one's closing, the next one's opening) is recorded once.
    (0.1 used the same text as the idempotency key of the balances it recorded on accounts.)"""
    return f"balance:{day.isoformat()}:{balance.pence}"


def line_digest(day: date, credit: bool, amount: Money, is_reversal: bool) -> str:
    """The digest stored with a bank line's key: its date, direction, amount and reversal flag.

    The description, running balance and the matching decision are left out on purpose: banks
    tidy descriptions between downloads, and a re-import after new invoices were approved must
    still be a no-op, not a conflict. (The same digest 0.1 stored with a line's command key.)
    """
    text = json.dumps(
        [
            "bank_line",
            day.isoformat(),
            "credit" if credit else "debit",
            amount.pence,
            amount.currency,
            is_reversal,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def money_moved(event: Any, bank: str | None = None) -> Money:
    """The money a managed account's event moved in (positive) or out of the bank (of ``bank``,
    for a transfer between the account's own bank accounts), or confirmed that the bank moved (a
    bank line confirming money recorded by hand)."""
    if isinstance(event, BankLineConfirmed):
        return event.amount
    moved_in = getattr(event, "moved_in", None)
    if moved_in is not None and bank is not None:
        moved: Money = moved_in(bank)
        return moved
    return Money(event.postings.effect_on(LedgerAccount.BANK))


# ---------------------------------------------------------------------------- state
@dataclass(slots=True)
class BankBook:
    """What a bank account's statements said, as far as future imports need it."""

    key: str
    identifier: str
    """The account as first written (``30-99-50 12345678``, an IBAN)."""
    opened_on: date
    lines: dict[str, BankLineRecord] = field(default_factory=dict)
    """Booked lines of the recent window, by de-duplication key."""
    lines_through: date | None = None
    """The latest booking date of a line."""
    pending: dict[str, PendingBankLine] = field(default_factory=dict)
    pending_as_of: date | None = None
    holders: list[str] = field(default_factory=list)
    """The managed accounts whose money its lines moved."""
    balance: int = 0
    """The sum of every booked line, in pence (signed): the bank balance the lines account for."""
    shares: dict[str, int] = field(default_factory=dict)
    """Each managed account's part of :attr:`balance`: the lines allocated to it, in pence."""
    unallocated: dict[str, UnallocatedLine] = field(default_factory=dict)
    """Lines of a pooled account held until someone allocates them, by key (never compacted:
    each is open until allocated in full)."""
    unallocated_total: int = 0
    """The pence of :attr:`unallocated` (signed: money paid out nobody has been named for is
    negative)."""
    pooled: bool = False
    """A pooled client account: it holds the money of several managed accounts."""
    name: str = ""
    members: dict[str, str] = field(default_factory=dict)
    """A pooled account's members: managed account id to the person's reference."""
    rules: list[AllocationRule] = field(default_factory=list)
    """How a pooled account's lines are allocated to its members (the provider's table)."""

    def allocated(self) -> int:
        """The pence of the lines allocated to managed accounts."""
        return sum(self.shares.values())

    def move(self, account_id: str | None, pence: int) -> None:
        """Book ``pence`` of a line to ``account_id`` (``None``: unallocated)."""
        if account_id is None:
            self.unallocated_total += pence
        else:
            self.shares[account_id] = self.shares.get(account_id, 0) + pence

    def compact(self) -> None:
        """Forget lines booked before the recent window up to the latest line."""
        if self.lines_through is None:
            return
        cutoff = window_start(self.lines_through)
        self.lines = {k: r for k, r in self.lines.items() if r.booking_date >= cutoff}


class BankAccountSnapshot(CheckedSnapshot):
    """A bank account's state at a version, checked before it is trusted."""


class BankAccount(HoldsKeys, Aggregate):
    """A real bank account: its statement lines, pending lines and stated balances."""

    Snapshot = BankAccountSnapshot

    if TYPE_CHECKING:  # eventsourcing would turn class annotations into __init__ arguments
        book: BankBook
        head: str

    def record(
        self,
        event_class: type[BankAccountEvent],
        *,
        effective_date: date,
        actor: str,
        reason: str | None = None,
        command_key: str | None = None,
        command_digest: str | None = None,
        **fields: Any,
    ) -> BankAccountEvent:
        """Record one event of ``event_class`` on the bank account, chained to the one before
        (``command_key``: the idempotency key of the person's request it answers, if any)."""
        fields.update(
            effective_date=effective_date,
            actor=actor,
            reason=reason,
            command_key=command_key,
            command_digest=command_digest,
        )
        made = chained(event_class, fields, self.id, self.version + 1, self.head)
        seals = made.pop(SEALS, None)
        self.trigger_event(event_class, **made)
        event = self.pending_events[-1]
        attach(event, seals)
        assert isinstance(event, BankAccountEvent)
        self.claim(event)
        return event

    def when(self, event: BankAccountEvent) -> None:
        """Change the state as ``event`` says (new events and replay alike)."""
        self.head = event.digest
        event.evolve(self)
        if event.originator_version % COMPACT_EVERY == 0:
            self.book.compact()

    def dump(self) -> dict[str, Any]:
        """The state as plain data (what a snapshot holds)."""
        return {
            "book": codec.encode(self.book),
            "head": self.head,
            "created_on": self.created_on.isoformat(),
            "modified_on": self.modified_on.isoformat(),
        }

    @classmethod
    def restore(cls, uuid: UUID, version: int, state: Mapping[str, Any]) -> BankAccount:
        """The bank account :meth:`dump` described, at ``version``."""
        account = restored_aggregate(cls, uuid, version, state)
        try:
            account.book = codec.decode(BankBook, state["book"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotRefused(f"the snapshot's state cannot be read: {exc}") from exc
        return account

    # ------------------------------------------------------------ queries
    @property
    def key(self) -> str:
        """The bank account's key (:func:`~dpledger.domain.bankids.bank_key`)."""
        return self.book.key

    def line(self, key: str) -> BankLineRecord | None:
        """The booked line with de-duplication key ``key``, if it is in the recent window."""
        record = self.book.lines.get(key)
        return record if record is not None and self._recent(record) else None

    @property
    def pending(self) -> Mapping[str, PendingBankLine]:
        """The bank's pending lines no booked line has settled yet, by key."""
        return MappingProxyType(self.book.pending)

    def recent_lines(self) -> list[BankLineRecord]:
        """The booked lines of the recent window (:data:`~dpledger.domain.window.RECENT_DAYS`
        up to the latest booked line), by key.

        The book drops older lines only every :data:`~dpledger.domain.window.COMPACT_EVERY`
        versions (so that its state is the same however it is loaded); the window itself is
        exact, so matching never depends on when the book was last compacted.
        """
        return sorted((r for r in self.book.lines.values() if self._recent(r)), key=lambda r: r.key)

    def _recent(self, record: BankLineRecord) -> bool:
        through = self.book.lines_through
        return through is None or record.booking_date >= window_start(through)

    def unsettled(self, lines: Sequence[PendingBankLine]) -> list[PendingBankLine]:
        """The pending lines no booked line of the window settles (each booked line settles one:
        the same signed amount, booked on the pending date or a few days after)."""
        used: set[str] = set()
        left: list[PendingBankLine] = []
        booked = self.recent_lines()
        for line in sorted(lines, key=_pending_order):
            if self.line(line.key) is not None:
                continue
            settled_by = next(
                (
                    record.key
                    for record in booked
                    if record.key not in used and _settles(line, record.booking_date, record.amount)
                ),
                None,
            )
            if settled_by is None:
                left.append(line)
            else:
                used.add(settled_by)
        return left


def _pending_order(line: PendingBankLine) -> tuple[date, str]:
    return (line.booking_date or date.min, line.key)


def _settles(pending: PendingBankLine, booked_on: date, amount: Money) -> bool:
    if pending.amount != amount:
        return False
    if pending.booking_date is None:
        return True
    return 0 <= (booked_on - pending.booking_date).days <= PENDING_SETTLES_WITHIN_DAYS


# ---------------------------------------------------------------------------- events
class BankAccountOpened(BankAccountEvent, Aggregate.Created):
    """A bank account became known to the ledger (named by an account, or first imported)."""

    key: str
    identifier: str

    def evolve(self, bank: BankAccount) -> None:
        """An empty book."""
        bank.book = BankBook(self.key, self.identifier, self.effective_date)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``bank account 30-99-50 12345678 opened``."""
        return f"bank account {details.get('key')} opened"


class StatementLineBooked(BankAccountEvent):
    """A booked statement line, recorded once, and what it was matched to.

    ``amount`` is signed (negative money out). ``account_id`` and ``event_version`` name the
    managed account's event that recorded or confirmed the money (``target_version`` is the money
    event it stands for: the same event, the one it confirmed, or the one it reversed); ``match``
    is the kind of match and ``reason`` says why.
    """

    line_key: str
    booking_date: date
    amount: Money
    credit: bool
    is_reversal: bool
    description: str
    bank_reference: str | None
    account_id: str | None
    event_version: int | None
    target_version: int | None
    event_type: str | None
    match: str
    reverses_line: str | None

    def evolve(self, bank: BankAccount) -> None:
        """The line is in the book (and settles a pending line, and marks a reversed one).

        A line booked before the recent window of the latest line (an old file imported late) is
        not kept in the book: its key is in the key index, which is what de-duplication reads.
        """
        book = bank.book
        book.balance += self.amount.pence
        book.move(self.account_id, self.amount.pence)
        if self.account_id is None:
            book.unallocated[self.line_key] = UnallocatedLine(
                key=self.line_key,
                booking_date=self.booking_date,
                amount=self.amount,
                remaining=self.amount,
                description=self.description,
                bank_reference=self.bank_reference,
                is_reversal=self.is_reversal,
                reason=self.reason or "",
            )
        if book.lines_through is None or self.booking_date >= window_start(book.lines_through):
            book.lines[self.line_key] = BankLineRecord(
                key=self.line_key,
                version=self.event_version or 0,
                target_version=self.target_version or 0,
                booking_date=self.booking_date,
                amount=self.amount,
                event_type=self.event_type or self.match,
                bank_reference=self.bank_reference,
                account_id=self.account_id,
            )
        if self.reverses_line is not None and self.reverses_line in book.lines:
            reversed_line = book.lines[self.reverses_line]
            book.lines[self.reverses_line] = BankLineRecord(
                **{
                    **{f: getattr(reversed_line, f) for f in reversed_line.__dataclass_fields__},
                    "reversed_by": self.event_version,
                }
            )
        if book.lines_through is None or self.booking_date > book.lines_through:
            book.lines_through = self.booking_date
        if self.account_id is not None and self.account_id not in book.holders:
            book.holders.append(self.account_id)
        if self.line_key in book.pending:
            del book.pending[self.line_key]
        else:
            for pending in sorted(book.pending.values(), key=_pending_order):
                if _settles(pending, self.booking_date, self.amount):
                    del book.pending[pending.key]
                    break

    def claims(self) -> dict[str, str | None]:
        """The line's key, with the digest of what it said."""
        digest = line_digest(self.booking_date, self.credit, abs(self.amount), self.is_reversal)
        return {line_index_key(self.line_key): digest}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``line X of 2026-04-06 £320.00: council_payment for DP-1 event 3``."""
        target = (
            f" for {details.get('account_id')} event {details.get('event_version')}"
            if details.get("account_id")
            else ""
        )
        return (
            f"line {details.get('line_key')} of {details.get('booking_date')} "
            f"{money_in(details)}: {details.get('match')}{target}"
        )


class BankBalanceStated(BankAccountEvent):
    """A statement stated the balance at the end of ``effective_date`` (signed: an overdraft is
    negative). ``stated_date`` and ``kind`` are as the bank wrote them, ``position`` is
    ``"opening"`` or ``"closing"``, ``source`` the file and statement. A difference from the
    ledger is derived, never posted (``Ledger.reconciliation_breaks``)."""

    balance: Money
    stated_date: date
    kind: str
    position: str
    source: str

    def evolve(self, bank: BankAccount) -> None:
        """Nothing changes: a stated balance is checked against the ledger, never absorbed."""

    def claims(self) -> dict[str, str | None]:
        """The balance for that day, so the same statement imported again states nothing new."""
        return {balance_index_key(self.effective_date, self.balance): None}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``bank stated £123.45 on 2026-04-30``."""
        return f"bank stated {money_in(details, 'balance')} on {details.get('stated_date')}"


class PendingBankLinesNoted(BankAccountEvent):
    """The bank's pending (not yet booked) lines as of ``as_of``; they post nothing and are
    replaced by later imports and by the booked lines that settle them."""

    as_of: date | None
    lines: list[Any]
    """:class:`~dpledger.domain.records.PendingBankLine` records."""
    source: str

    def evolve(self, bank: BankAccount) -> None:
        """The pending set as of the date."""
        bank.book.pending = {line.key: line for line in self.lines}
        bank.book.pending_as_of = self.as_of

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``pending bank lines noted``."""
        return "pending bank lines noted"


def open_bank_account(key: str, identifier: str, day: date, actor: str) -> BankAccount:
    """A new bank account aggregate with key ``key`` (``identifier`` as first written)."""
    uuid = bank_account_uuid(key)
    fields = {
        "key": key,
        "identifier": identifier,
        "effective_date": day,
        "actor": actor,
        "reason": None,
        "command_key": None,
        "command_digest": None,
    }
    topic = {"originator_topic": get_topic(BankAccount)}
    made = chained(BankAccountOpened, fields, uuid, 1, GENESIS, topic)
    seals = made.pop(SEALS, None)
    bank = BankAccount._create(BankAccountOpened, id=uuid, **made)
    attach(bank.pending_events[-1], seals)
    return bank


# ---------------------------------------------------------------------------- legacy
class BankBalanceAsserted(AccountEvent):
    """(0.1) A statement balance recorded on the managed account itself, before bank accounts
    were aggregates of their own. Still read: ``Ledger.reconciliation_breaks`` compares it."""

    balance: Money
    stated_date: date
    kind: str
    position: str
    source: str

    correction: ClassVar[Any] = NotCorrectable("a stated balance is what the bank said")

    def evolve(self, account: ManagedAccount) -> None:
        """Nothing in the account's state: the read side compares it with the ledger."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``bank stated £123.45 on 2026-04-30``."""
        return f"bank stated {money_in(details, 'balance')} on {details.get('stated_date')}"


class PendingBankLinesSeen(AccountEvent):
    """(0.1) The bank's pending lines, recorded on the managed account itself. Read for the
    record only: pending lines now live on the bank account."""

    as_of: date | None
    lines: list[Any]
    source: str

    correction: ClassVar[Any] = NotCorrectable("pending lines are replaced by later imports")

    def evolve(self, account: ManagedAccount) -> None:
        """Nothing: the bank account keeps pending lines now."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``pending bank lines noted``."""
        return "pending bank lines noted"


def legacy_pending(
    events: Iterable[Any], settle_days: int
) -> tuple[date | None, dict[str, PendingBankLine]] | None:
    """The pending lines 0.1 left on a managed account, as 0.1 itself would have held them.

    0.1 kept the bank's pending set on the account: each ``PendingBankLinesSeen`` replaced it,
    and each event recorded from a booked bank line (idempotency key ``bank:<line key>``)
    settled the pending line of its key, else the oldest one of the same signed amount dated up
    to ``settle_days`` (the account's ``missing_payment_margin_days``) before it. ``events`` are
    the account's events in order; returns ``(as_of, lines by key)``, or ``None`` when 0.1
    never noted pending lines for it. An import compares a statement's pending lines with this
    until the account's bank account has its own (see ``dpledger.application.bankimport``).
    """
    as_of: date | None = None
    pending: dict[str, PendingBankLine] | None = None
    for event in events:
        if isinstance(event, PendingBankLinesSeen):
            pending = {line.key: line for line in event.lines}
            as_of = event.as_of
            continue
        key = getattr(event, "command_key", None)
        if not pending or not isinstance(key, str) or not key.startswith(BANK_KEY_PREFIX):
            continue
        line_key = key[len(BANK_KEY_PREFIX) :]
        if line_key in pending:
            del pending[line_key]
            continue
        if isinstance(event, BankLineConfirmed):
            amount = event.amount
        else:
            amount = Money(event.postings.effect_on(LedgerAccount.BANK))
        for line in sorted(pending.values(), key=_pending_order):
            if line.amount == amount and (
                line.booking_date is None
                or 0 <= (event.effective_date - line.booking_date).days <= settle_days
            ):
                del pending[line.key]
                break
    return None if pending is None else (as_of, pending)
