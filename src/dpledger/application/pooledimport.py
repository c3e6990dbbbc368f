"""Pooled client accounts at work: declaring one, importing its statements, allocating held lines.

The application-layer half of :mod:`dpledger.domain.pooled`. Use it through
:meth:`dpledger.Ledger.open_pooled_account`, :meth:`~dpledger.Ledger.import_pooled_file`,
:meth:`~dpledger.Ledger.import_pooled_statement` and :meth:`~dpledger.Ledger.allocate`.

An import of a pooled account's statement reads the file once, then for each booked line, in
(booking date, reversal last, key) order:

- a line recorded before (its key, or a key an earlier dpledger gave it, is in the pool's key
  index) is reported as already imported, and changes nothing;
- the line is allocated (:func:`~dpledger.domain.pooled.allocate_line`); an allocated line runs
  on its member's managed account exactly as an import into that account alone would
  (:meth:`_Importer.record_line <dpledger.application.bankimport._Importer.record_line>`: the
  same matching rules, the same command a hand entry runs), and the pool books the line beside
  it, naming the member and both reasons;
- a line paying out more than its member's money (their share of the pool, or their account's
  available funds) is held instead, naming the member and the shortfall: client money never pays
  for another client;
- a held line is booked on the pool naming no member, with its reason.

Everything (every member's events and the pool's) is saved in one transaction: the file is
imported whole or not at all, and importing it again records nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from dpledger.application.bankimport import _bank_key, _Importer
from dpledger.application.bankreport import (
    ALREADY_IMPORTED,
    RECORDED,
    SKIPPED,
    BalanceOutcome,
    ImportReport,
    LineOutcome,
)
from dpledger.application.bankstatements import (
    bank_line,
    choose,
    end_of_day,
    fit_text,
    plain_outcome,
    statement_label,
)
from dpledger.application.booking import UNALLOCATED, book_line
from dpledger.application.session import Receipt, Session
from dpledger.domain.bank import (
    BankAccount,
    BankBalanceStated,
    StatementLineBooked,
    balance_index_key,
    bank_account_uuid,
    line_digest,
    line_index_key,
    open_bank_account,
)
from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import MAX_REFERENCE, MAX_TEXT, check_key, check_text
from dpledger.domain.errors import (
    AccountNotFound,
    BankFileError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    ValidationError,
)
from dpledger.domain.events import command_index_key
from dpledger.domain.funds import BANK_KEY_PREFIX, awaiting_movements
from dpledger.domain.keys import AWAITING_PREFIX
from dpledger.domain.money import Money
from dpledger.domain.pooled import (
    Allocation,
    LineAllocated,
    MemberNames,
    allocate_line,
    allocation_by_table_or_text,
    check_pool,
    check_rules,
    configure_pooling,
    part_key,
)
from dpledger.domain.reconciliation import BankLine, Match, MatchKind
from dpledger.domain.records import AccountStatus, AllocationRule, UnallocatedLine

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BankStatement, BankTransaction


# ---------------------------------------------------------------------------- declaring
def open_pooled(
    session: Session,
    bank_account: str,
    *,
    name: str,
    opened_on: date,
    actor: str,
    rules: Sequence[Mapping[str, Any] | AllocationRule] = (),
) -> BankAccount:
    """Declare ``bank_account`` a pooled client account called ``name`` with the allocation
    table ``rules`` (or change them). Rules naming an account that does not exist are refused."""
    actor = check_text(actor, "actor")
    key = bank_key(bank_account)
    checked = check_rules(rules)
    for index, rule in enumerate(checked):
        if session.account(rule.account_id) is None:
            raise ValidationError(
                f"no account {rule.account_id} is known",
                field=f"rules[{index}].account_id",
                fix="open the account first, or correct the id",
            )
    bank = session.bank(key)
    if bank is None:
        bank = open_bank_account(key, bank_account, opened_on, actor)
    configure_pooling(bank, name, checked, max(opened_on, bank.book.opened_on), actor)
    session.banks[key] = bank
    return bank


def pooled_bank(session: Session, key: str, where: str) -> BankAccount:
    """The pooled bank account ``key``, or a clear error saying how to declare it."""
    bank = session.bank(key)
    if bank is None or not bank.book.pooled:
        known = "is not known to the ledger" if bank is None else "is not a pooled client account"
        raise BankFileError(
            f"bank account {key} {known}; nothing was imported",
            file=where,
            fix="declare it with Ledger.open_pooled_account (dpledger pooled open), or import "
            "the statement into the one managed account whose money it holds",
        )
    return bank


# ---------------------------------------------------------------------------- importing
@dataclass
class _Pool:
    """One import or allocation on a pooled account: the pool, its members' importers."""

    session: Session
    bank: BankAccount
    actor: str
    source: str
    importers: dict[str, _Importer]
    names: MemberNames

    @classmethod
    def start(cls, session: Session, bank: BankAccount, actor: str, source: str) -> _Pool:
        """The pool with its members' names indexed (members are loaded when a line needs
        them)."""
        session.banks[bank.key] = bank
        return cls(session, bank, actor, source, {}, MemberNames(bank.book.members))

    def member(self, account_id: str) -> _Importer:
        """The importer of member ``account_id`` (loaded once, with its money awaiting a bank
        line)."""
        importer = self.importers.get(account_id)
        if importer is None:
            account = self.session.existing(account_id)
            importer = _Importer(
                self.session, account, self.actor, self.source, self.bank, True, None, True
            )
            importer.awaiting = awaiting_movements(importer.account_facts.prefixed(AWAITING_PREFIX))
            self.importers[account_id] = importer
        return importer

    def expected(self, line: BankLine) -> dict[str, str]:
        """The open members whose expected payments ``line`` matches, with why."""
        fits: dict[str, str] = {}
        for account_id in sorted(self.bank.book.members):
            account = self.session.account(account_id)
            if account is None or account.status is AccountStatus.CLOSED:
                continue
            importer = self.member(account_id)
            match = importer.match(line)
            if match.kind not in (MatchKind.UNEXPECTED_INCOME, MatchKind.UNEXPECTED_OUTGOING):
                fits[account_id] = match.reason
        return fits

    def shortfall(self, importer: _Importer, line: BankLine) -> Money | None:
        """How much more ``line`` pays out than its member's share of the pool holds (``None``:
        it is covered, or is money in)."""
        if line.credit:
            return None
        share = self.bank.book.shares.get(importer.account.account_id, 0)
        short = line.amount.pence - share
        return Money(short) if short > 0 else None

    def hold(self, line: BankLine, transaction: BankTransaction, reason: str) -> LineOutcome:
        """Book ``line`` on the pool naming no member, for a person to allocate."""
        book_line(self.bank, line, actor=self.actor, reason=reason)
        return LineOutcome(
            key=line.key,
            location=line.location,
            booking_date=line.booking_date,
            amount=line.signed,
            description=transaction.description,
            status=RECORDED,
            reason=reason,
            match=UNALLOCATED,
            event_type=StatementLineBooked.__name__,
            version=self.bank.version,
        )

    def first_reading(self, line: BankLine) -> Allocation | None:
        """The allocation the table or the bank's text gives ``line`` (``None``: neither)."""
        return allocation_by_table_or_text(self.bank.book, line, self.names)

    def prefetch(self, lines: Sequence[BankLine]) -> dict[str, Allocation | None]:
        """Read what the lines' members will look up, member by member (one query each, not
        one per line), and return each line's first reading by its key."""
        readings = {line.key: self.first_reading(line) for line in lines}
        keys: dict[str, list[str]] = {}
        for line in lines:
            reading = readings[line.key]
            if reading is not None and reading.account_id is not None:
                keys.setdefault(reading.account_id, []).append(line.key)
        for account_id, line_keys in sorted(keys.items()):
            if self.session.account(account_id) is None:
                continue
            facts = self.member(account_id).account_facts
            facts.prefetch([command_index_key(BANK_KEY_PREFIX + k) for k in line_keys])
        return readings

    def apply(
        self, line: BankLine, transaction: BankTransaction, first: Allocation | None = None
    ) -> LineOutcome:
        """Allocate and record one new line (or hold it); ``first`` is its first reading, if
        already taken (:meth:`prefetch`)."""
        allocation = first or allocate_line(
            self.bank.book, line, self.names, lambda: self.expected(line)
        )
        if allocation.account_id is None:
            return self.hold(line, transaction, allocation.reason)
        account = self.session.account(allocation.account_id)
        if account is None or account.status is AccountStatus.CLOSED:
            why = "is closed" if account is not None else "is not a known account"
            return self.hold(
                line,
                transaction,
                f"held as unallocated: {allocation.reason}, but {allocation.account_id} {why}",
            )
        importer = self.member(allocation.account_id)
        short = self.shortfall(importer, line)
        if short is not None:
            return self.hold(line, transaction, _not_covered(allocation.account_id, short, "pool"))
        match = importer.match(line)
        try:
            importer.record_line(line, transaction, match=match, book=False)
        except InsufficientFunds as refused:
            return self.hold(
                line,
                transaction,
                _not_covered(allocation.account_id, refused.shortfall, "account", refused.balance),
            )
        # An allocation by expected payment already says what the line is: say it once.
        allocated = f"expected by {account.account_id}" if allocation.how == "expected" else None
        return self._booked(importer, line, transaction, allocated or allocation.reason)

    def _booked(
        self, importer: _Importer, line: BankLine, transaction: BankTransaction, allocated: str
    ) -> LineOutcome:
        """Book the line the member just recorded on the pool, naming the member's event."""
        assert importer.booked is not None
        receipt, match = importer.booked
        reason = f"{allocated}; {match.reason}"
        book_line(
            self.bank,
            line,
            actor=self.actor,
            reason=reason,
            account_id=importer.account.account_id,
            recorded=importer.booked,
        )
        return LineOutcome(
            key=line.key,
            location=line.location,
            booking_date=line.booking_date,
            amount=line.signed,
            description=transaction.description,
            status=RECORDED,
            reason=f"{importer.account.account_id}: {reason}",
            match=match.kind.value,
            event_type=receipt.event_type,
            version=receipt.version,
            item_id=receipt.item_id,
        )


def _not_covered(account_id: str, short: Money, where: str, available: Money | None = None) -> str:
    if where == "pool":
        return (
            f"held as unallocated: {account_id}'s money in the pool is {short} short of this "
            "payment, and client money never pays for another client"
        )
    return (
        f"held as unallocated: {account_id} cannot cover it ({available} available, {short} "
        "short), and client money never pays for another client"
    )


def import_pooled(
    session: Session,
    statements: Sequence[BankStatement],
    *,
    actor: str,
    source: str,
    bank_account: str | None = None,
) -> ImportReport:
    """Import ``statements`` (one file's) of a pooled client account: all or nothing.

    ``bank_account`` picks one account of a file holding several. Raises :class:`BankFileError`
    for a statement naming no account, or an account not declared pooled, and
    :class:`IdempotencyConflict` when a line's key was imported with other details; nothing is
    recorded then. The caller saves the session.
    """
    actor = check_text(actor, "actor")
    chosen = choose(statements, source, bank_account)
    stated = next((s.account_id for s in chosen if s.account_id), None)
    if stated is None:
        raise BankFileError(
            "the statement names no bank account, so it cannot be told which pool it is of; "
            "nothing was imported",
            file=source,
            fix="import the bank's statement with its account details, or name the bank "
            "account (--bank-account)",
        )
    bank = pooled_bank(session, _bank_key(stated, source), source)
    pool = _Pool.start(session, bank, actor, source)
    before = bank.version
    opened = bank.book.opened_on
    outcomes: list[LineOutcome] = []
    booked: list[tuple[BankLine, BankTransaction]] = []
    for statement in chosen:
        for transaction in statement.transactions:
            outcome = _sort_line(transaction, opened, booked)
            if outcome is not None:
                outcomes.append(outcome)
    booked.sort(key=lambda pair: (pair[0].booking_date, pair[0].is_reversal, pair[0].key))
    facts = session.facts_for(bank_account_uuid(bank.key), bank)
    facts.prefetch(
        [line_index_key(k) for line, _ in booked for k in (line.key, *line.earlier_keys)]
    )
    seen: dict[str, str] = {}
    fresh: list[tuple[BankLine, BankTransaction]] = []
    for line, transaction in booked:
        digest = line_digest(line.booking_date, line.credit, line.amount, line.is_reversal)
        earlier = seen.get(line.key)
        if earlier is None:
            seen[line.key] = digest
            record = next(
                (
                    found
                    for k in (line.key, *line.earlier_keys)
                    if (found := facts.key(line_index_key(k))) is not None
                ),
                None,
            )
            if record is None:
                fresh.append((line, transaction))
                continue
            earlier = record.digest or digest
        if earlier != digest:
            raise IdempotencyConflict(
                f"{source}, {line.location}: bank line {line.key} was imported before with a "
                "different date, amount or direction; nothing from this file was imported",
                fix="a booked line never changes: check the file is this bank account's",
            )
        outcomes.append(
            LineOutcome(
                key=line.key,
                location=line.location,
                booking_date=line.booking_date,
                amount=line.signed,
                description=transaction.description,
                status=ALREADY_IMPORTED,
                reason="recorded before",
            )
        )
    readings = pool.prefetch([line for line, _ in fresh])
    outcomes += [pool.apply(line, t, readings[line.key]) for line, t in fresh]
    balances = [
        _state_balance(pool, statement, position)
        for statement in chosen
        for position in ("opening", "closing")
        if getattr(statement, f"{position}_balance") is not None
    ]
    check_pool(bank.book)
    return ImportReport(
        account_id=bank.book.name or bank.key,
        source=source,
        statements=len(chosen),
        lines=tuple(outcomes),
        balances=tuple(balances),
        breaks=(),
        pending_changed=False,
        version_before=before,
        version_after=bank.version,
        bank_account=bank.key,
        bank_version_before=before,
        bank_version_after=bank.version,
    )


def _sort_line(
    transaction: BankTransaction, opened: date, booked: list[tuple[BankLine, BankTransaction]]
) -> LineOutcome | None:
    """Booked lines from the pool's opening are applied later; the rest are listed now."""
    status = str(transaction.status)
    day = transaction.booking_date
    if status == "booked" and day is not None and day >= opened:
        booked.append((bank_line(transaction), transaction))
        return None
    if status == "booked":
        return plain_outcome(
            transaction,
            SKIPPED,
            f"dated before the pooled account was opened on {opened}: the ledger holds "
            "nothing then",
        )
    return plain_outcome(transaction, status, "not booked: posts nothing")


def _state_balance(pool: _Pool, statement: BankStatement, position: str) -> BalanceOutcome:
    """Record one statement balance on the pool (or say it was recorded before)."""
    assertion = getattr(statement, f"{position}_balance")
    day = end_of_day(statement, position, assertion)

    def outcome(status: str, reason: str) -> BalanceOutcome:
        return BalanceOutcome(
            position, assertion.kind, assertion.date, day, assertion.balance, status, reason
        )

    bank = pool.bank
    if day < bank.book.opened_on:
        return outcome(SKIPPED, f"the end of {day} is before the pool opened")
    facts = pool.session.facts_for(bank_account_uuid(bank.key), bank)
    if facts.key(balance_index_key(day, assertion.balance)) is not None:
        return outcome(ALREADY_IMPORTED, "")
    label = f"{pool.source}{statement_label(statement)} {position} {assertion.kind}"
    bank.record(
        BankBalanceStated,
        effective_date=day,
        actor=pool.actor,
        balance=assertion.balance,
        stated_date=assertion.date,
        kind=fit_text(assertion.kind, MAX_REFERENCE) or "balance",
        position=position,
        source=fit_text(label, MAX_TEXT) or "statement",
    )
    return outcome(RECORDED, "")


# ---------------------------------------------------------------------------- allocating
@dataclass(frozen=True, slots=True)
class AllocationReceipt:
    """What an allocation recorded: the member's receipt and the pool's event version."""

    bank_account: str
    line_key: str
    part_key: str
    account_id: str
    amount: Money
    receipt: Receipt
    bank_version: int
    remaining: Money
    """What is still held of the line."""
    replayed: bool = False


def allocate(
    session: Session,
    bank_account: str,
    line_key: str,
    account_id: str,
    *,
    actor: str,
    reason: str,
    amount: Money | None = None,
    effective_date: date | None = None,
    idempotency_key: str | None = None,
) -> AllocationReceipt:
    """Allocate ``amount`` (default: all that is held) of the held pooled line ``line_key`` to
    member ``account_id``; it is recorded on the member exactly as an import would have.

    Refused, naming the fix, for an unknown pool, line or account, a closed account or one not in
    the pool, an amount above what is held, or a payment out the member cannot cover (the
    refusal names the member and the shortfall). Retrying with the same ``idempotency_key``
    returns the first result and records nothing.
    """
    actor = check_text(actor, "actor")
    reason = check_text(reason, "reason")
    key = bank_key(bank_account)
    bank = session.bank(key)
    if bank is None or not bank.book.pooled:
        raise ValidationError(
            f"bank account {key} is not a pooled client account",
            field="bank_account",
            fix="name a pool declared with Ledger.open_pooled_account",
        )
    facts = session.facts_for(bank_account_uuid(key), bank)
    digest = None
    if idempotency_key is not None:
        idempotency_key = check_key(idempotency_key)
        digest = f"{line_key}|{account_id}|{None if amount is None else amount.pence}"
        prior = facts.key(command_index_key(idempotency_key))
        if prior is not None:
            if prior.digest != digest:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} was already used for another allocation",
                    fix="use a new key for a new allocation; repeat a key only to retry",
                )
            return _replayed(session, bank, facts.event(prior.version))
    held = bank.book.unallocated.get(line_key)
    if held is None:
        waiting = ", ".join(sorted(bank.book.unallocated)[:10]) or "none"
        raise ValidationError(
            f"no held line {line_key!r} in pool {key} (held lines: {waiting})",
            field="line_key",
            fix="list the held lines (dpledger unallocated) and give one of their keys",
        )
    account = session.account(account_id)
    if account is None:
        raise AccountNotFound(
            "no such account", account_id=account_id, fix="open the account, or correct the id"
        )
    if account.status is AccountStatus.CLOSED:
        raise InvalidTransition(
            f"{account_id} is closed: nothing can be allocated to it",
            account_id=account_id,
            fix="allocate the line to an open member, or refund it",
        )
    if account_id not in bank.book.members:
        raise InvalidTransition(
            f"{account_id} holds no money in pool {key}",
            account_id=account_id,
            fix=f"add the bank account to {account_id} first (Ledger.add_bank_account)",
        )
    part = held.remaining if amount is None else amount
    _check_part(held, part)
    day = effective_date or held.booking_date
    pool = _Pool.start(session, bank, actor, "allocation")
    importer = pool.member(account_id)
    line = BankLine(
        key=part_key(line_key, held.allocations + 1),
        booking_date=day,
        amount=abs(part),
        credit=part.pence > 0,
        description=held.description,
        bank_reference=held.bank_reference,
        is_reversal=held.is_reversal,
    )
    if not line.credit:
        short = pool.shortfall(importer, line)
        if short is not None:
            raise InsufficientFunds(
                f"{account_id}'s money in pool {key} is {short} short of {line.amount}: client "
                "money never pays for another client",
                shortfall=short,
                balance=Money(bank.book.shares.get(account_id, 0)),
                account_id=account_id,
                fix="allocate it to the member whose money paid it, or wait for their money",
            )
    match = _person_match(importer.match(line), reason)
    importer.record_line(
        line, None, allocated=f"allocated by {actor}: {reason}", match=match, book=False
    )
    assert importer.booked is not None
    receipt, match = importer.booked
    bank.record(
        LineAllocated,
        effective_date=day,
        actor=actor,
        reason=fit_text(f"{reason}; {match.reason}", MAX_TEXT),
        command_key=idempotency_key,
        command_digest=digest,
        line_key=line_key,
        part_key=line.key,
        account_id=account_id,
        amount=part,
        event_version=receipt.version,
        event_type=receipt.event_type,
        match=match.kind.value,
    )
    check_pool(bank.book)
    left = bank.book.unallocated.get(line_key)
    return AllocationReceipt(
        key,
        line_key,
        line.key,
        account_id,
        part,
        receipt,
        bank.version,
        left.remaining if left is not None else Money(0),
    )


def _person_match(match: Match, reason: str) -> Match:
    """A person's allocation keeps the rules' reading of the line, with the person's reason."""
    return Match(
        match.kind,
        f"{match.reason} (allocated: {reason})",
        version=match.version,
        matched_type=match.matched_type,
        agency_id=match.agency_id,
        invoice_number=match.invoice_number,
        pa_id=match.pa_id,
        period_start=match.period_start,
        period_end=match.period_end,
        line_key=match.line_key,
    )


def _check_part(held: UnallocatedLine, part: Money) -> None:
    """An allocation is of the line's direction, above zero, and at most what is held."""
    if part.pence == 0 or (part.pence > 0) != (held.remaining.pence > 0):
        raise ValidationError(
            f"{part} is not a part of the held {held.remaining} (same sign, above zero)",
            field="amount",
            fix=f"give an amount from {Money(1 if held.remaining.pence > 0 else -1)} to "
            f"{held.remaining}, or none for all of it",
        )
    if abs(part.pence) > abs(held.remaining.pence):
        raise ValidationError(
            f"{abs(part)} is more than the {abs(held.remaining)} of line {held.key} still held",
            field="amount",
            fix=f"allocate at most {abs(held.remaining)}",
        )


def _replayed(session: Session, bank: BankAccount, event: Any) -> AllocationReceipt:
    """The first result of an allocation retried with the same key."""
    account = session.existing(event.account_id)
    facts = session.facts_for(account.id, account)
    member_event = facts.event(event.event_version)
    left = bank.book.unallocated.get(event.line_key)
    return AllocationReceipt(
        bank.key,
        event.line_key,
        event.part_key,
        event.account_id,
        event.amount,
        Receipt(event.account_id, event.event_version, member_event, replayed=True),
        event.originator_version,
        left.remaining if left is not None else Money(0),
        replayed=True,
    )
