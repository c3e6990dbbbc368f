"""Importing bank statements into a managed account: idempotent, all or nothing per file.

The application-layer half of the bank feeds (the parsers are in
:mod:`dpledger.adapters.bankfeeds`, the matching rules in :mod:`dpledger.domain.reconciliation`).
Use it through :meth:`dpledger.Ledger.import_bank_file` or :meth:`dpledger.Ledger.import_statement`.

How a file is imported:

- the account is loaded once, every line's command is applied to it, and it is saved once: the
  store writes one aggregate's new events in one transaction, so a file is imported whole or not
  at all;
- each booked line is recorded under the idempotency key ``bank:<dedup key>`` with a digest of
  its date, direction, amount and reversal flag, so importing the same file again, or an
  overlapping statement, records nothing; the same key with another amount or date is refused
  (:class:`~dpledger.errors.IdempotencyConflict`) naming the line;
- lines are applied in (booking date, reversal last, key) order, never in file order, so the
  outcome does not depend on how the bank sorted the file;
- pending lines post nothing: the account remembers the latest pending set; info lines are
  listed and ignored;
- each statement balance is recorded as an assertion; differences from the ledger are reported
  as reconciliation breaks.

This module imports no parser at run time (only for type checking), so the core does not need the
``bankfeeds`` extra: a caller holding statements already has it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dpledger.domain import events as ev
from dpledger.domain.account import CommandMeta, ManagedAccount
from dpledger.domain.errors import (
    BankFileError,
    DpledgerError,
    IdempotencyConflict,
    ValidationError,
)
from dpledger.domain.money import GBP, Money
from dpledger.domain.reconciliation import (
    BANK_KEY_PREFIX,
    BankLine,
    MatchKind,
    match_line,
    unexpected,
)
from dpledger.domain.records import PendingBankLine, ReconciliationBreak

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BalanceAssertion, BankStatement, BankTransaction
    from dpledger.ledger import Ledger

EARLIEST_DATE = date(1900, 1, 1)
FUTURE_DAYS = 366
"""Lines and balances dated more than this many days ahead of today are refused."""

RECORDED = "recorded"
ALREADY_IMPORTED = "already imported"
PENDING = "pending"
INFO = "info"
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What happened to one line of the file.

    ``status`` is ``"recorded"``, ``"already imported"``, ``"pending"`` (remembered, posts
    nothing), ``"info"`` (never booked) or ``"skipped"`` (dated before the account opened);
    ``amount`` is signed (negative money out); ``match`` the
    :class:`~dpledger.domain.reconciliation.MatchKind` value when recorded; ``item_id`` the
    suspense or unexplained-outgoing item it created.
    """

    key: str
    location: str
    booking_date: date | None
    amount: Money
    description: str
    status: str
    reason: str
    match: str | None = None
    event_type: str | None = None
    version: int | None = None
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceOutcome:
    """What happened to one statement balance: ``"recorded"``, ``"already imported"`` or
    ``"skipped"``; ``effective_date`` is the day whose closing balance it states."""

    position: str
    kind: str
    stated_date: date
    effective_date: date
    balance: Money
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The result of importing one file (or a list of statements) into one account."""

    account_id: str
    source: str
    statements: int
    lines: tuple[LineOutcome, ...]
    balances: tuple[BalanceOutcome, ...]
    breaks: tuple[ReconciliationBreak, ...]
    pending_changed: bool
    version_before: int
    version_after: int

    @property
    def recorded(self) -> tuple[LineOutcome, ...]:
        """The lines recorded by this import."""
        return tuple(line for line in self.lines if line.status == RECORDED)

    @property
    def already_imported(self) -> tuple[LineOutcome, ...]:
        """The lines an earlier import had recorded already."""
        return tuple(line for line in self.lines if line.status == ALREADY_IMPORTED)

    @property
    def nothing_new(self) -> bool:
        """True when the import recorded nothing (a repeat of an earlier import)."""
        return self.version_after == self.version_before

    def items(self, match: MatchKind) -> tuple[LineOutcome, ...]:
        """The recorded lines that matched as ``match`` (e.g. unexpected income)."""
        return tuple(line for line in self.recorded if line.match == match.value)

    def render(self) -> str:
        """A readable report, one line per bank line, then balances and breaks."""
        head = (
            f"{self.source} -> {self.account_id}: {len(self.recorded)} recorded, "
            f"{len(self.already_imported)} already imported, "
            f"{sum(1 for x in self.lines if x.status == PENDING)} pending, "
            f"{sum(1 for x in self.lines if x.status in (INFO, SKIPPED))} not imported "
            f"(version {self.version_before} -> {self.version_after})"
        )
        out = [head]
        if self.nothing_new:
            out.append("Nothing new: this file was already imported; the ledger is unchanged.")
        for line in self.lines:
            when = line.booking_date.isoformat() if line.booking_date else "no date   "
            what = line.match or line.status
            item = f" [{line.item_id}]" if line.item_id else ""
            out.append(
                f"  {when} {line.amount!s:>12} {what}{item}: {line.reason} ({line.location})"
            )
        for balance in self.balances:
            out.append(
                f"  {balance.position} balance {balance.balance} at the end of "
                f"{balance.effective_date} ({balance.kind}): {balance.status}"
                + (f", {balance.reason}" if balance.reason else "")
            )
        for found in self.breaks:
            out.append(
                f"  BREAK {found.effective_date}: statement {found.asserted}, "
                f"ledger {found.ledger}, difference {found.difference}"
            )
        held = len(self.items(MatchKind.UNEXPECTED_INCOME)) + len(
            self.items(MatchKind.UNEXPECTED_OUTGOING)
        )
        if held:
            out.append(
                f"{held} line(s) matched nothing and are held for someone to resolve "
                "(classify, refund/recover, keep/accept)."
            )
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (amounts in pence, dates in ISO form)."""

        def plain(value: Any) -> Any:
            if isinstance(value, Money):
                return value.pence
            if isinstance(value, date):
                return value.isoformat()
            return value

        def record(obj: Any) -> dict[str, Any]:
            return {name: plain(getattr(obj, name)) for name in obj.__dataclass_fields__}

        return {
            "account_id": self.account_id,
            "source": self.source,
            "statements": self.statements,
            "recorded": len(self.recorded),
            "already_imported": len(self.already_imported),
            "nothing_new": self.nothing_new,
            "pending_changed": self.pending_changed,
            "version_before": self.version_before,
            "version_after": self.version_after,
            "lines": [record(line) for line in self.lines],
            "balances": [record(balance) for balance in self.balances],
            "breaks": [record(item) for item in self.breaks],
        }


def import_statements(
    ledger: Ledger,
    account_id: str,
    statements: Sequence[BankStatement],
    *,
    actor: str,
    source: str,
    bank_account: str | None = None,
) -> ImportReport:
    """Import ``statements`` (one file's) into ``account_id``: all of them or nothing.

    ``bank_account`` picks the statements of one bank account in a file holding several (as
    the parser names it: ``"12-34-56 12345678"``, an IBAN); a file with several accounts is
    refused without it. Raises :class:`BankFileError` naming the line when a line cannot be
    recorded, :class:`IdempotencyConflict` when a line's key was imported with other details,
    and the usual :class:`~dpledger.errors.DpledgerError` types otherwise; nothing is recorded
    then.
    """
    if not isinstance(actor, str) or not actor.strip():
        raise ValidationError("must say who imported", field="actor", fix="pass a user id")
    chosen = _choose(statements, source, bank_account)
    account = ledger._load(account_id)
    before = account.version
    outcomes: list[LineOutcome] = []
    booked: list[tuple[BankLine, BankTransaction]] = []
    pending: list[PendingBankLine] = []
    for statement in chosen:
        for transaction in statement.transactions:
            outcome = _classify(account, transaction, booked, pending)
            if outcome is not None:
                outcomes.append(outcome)
    booked.sort(key=lambda pair: (pair[0].booking_date, pair[0].is_reversal, pair[0].key))
    for line, transaction in booked:
        outcomes.append(_apply_line(ledger, account, line, transaction, actor, source, before))
    pending_changed = _note_pending(account, chosen, pending, actor, source)
    balances = [
        _assert_balance(account, statement, position, actor, source)
        for statement in chosen
        for position in ("opening", "closing")
        if getattr(statement, f"{position}_balance") is not None
    ]
    if account.version != before:
        ledger._save(account, "import_bank_file")
    asserted = {(b.effective_date, b.balance) for b in balances if b.status != SKIPPED}
    breaks = tuple(
        item
        for item in account.reconciliation_breaks()
        if (item.effective_date, item.asserted) in asserted
    )
    return ImportReport(
        account_id=account_id,
        source=source,
        statements=len(chosen),
        lines=tuple(outcomes),
        balances=tuple(balances),
        breaks=breaks,
        pending_changed=pending_changed,
        version_before=before,
        version_after=account.version,
    )


def _choose(
    statements: Sequence[BankStatement], source: str, bank_account: str | None
) -> list[BankStatement]:
    chosen = list(statements)
    if bank_account is not None:
        chosen = [s for s in chosen if s.account_id == bank_account]
        if not chosen:
            found = sorted({str(s.account_id) for s in statements})
            raise BankFileError(
                f"no statement for bank account {bank_account!r} (found: {', '.join(found)})",
                file=source,
                fix="pass one of the bank accounts found, as the parser writes it",
            )
    accounts = sorted({s.account_id for s in chosen if s.account_id is not None})
    if len(accounts) > 1:
        raise BankFileError(
            f"the file holds statements of {len(accounts)} bank accounts ({', '.join(accounts)})",
            file=source,
            fix="pass bank_account= (CLI: --bank-account) to import one of them",
        )
    for statement in chosen:
        _check_dates(statement, source)
        if statement.currency != GBP:
            raise BankFileError(
                f"the statement{_statement_label(statement)} is in {statement.currency}",
                file=source,
                fix="a managed account keeps GBP only; import the account's GBP statement",
            )
    return chosen


def _check_dates(statement: BankStatement, source: str) -> None:
    """Refuse dates no managed account can have: they are a damaged file, not bank facts."""
    earliest, latest = EARLIEST_DATE, date.today() + timedelta(days=FUTURE_DAYS)
    found: list[tuple[date | None, str]] = [
        (getattr(statement, f"{p}_balance").date, f"the {p} balance")
        for p in ("opening", "closing")
        if getattr(statement, f"{p}_balance") is not None
    ]
    for line in statement.transactions:
        found.append((line.booking_date, line.source_location))
        found.append((line.value_date, line.source_location))
    for day, where in found:
        if day is not None and not earliest <= day <= latest:
            raise BankFileError(
                f"the date {day} is not plausible for a bank statement",
                file=source,
                location=where,
                fix=f"check the file: dates must be from {earliest} to {latest}",
            )


def _statement_label(statement: BankStatement) -> str:
    return f" {statement.statement_id}" if statement.statement_id else ""


def _classify(
    account: ManagedAccount,
    transaction: BankTransaction,
    booked: list[tuple[BankLine, BankTransaction]],
    pending: list[PendingBankLine],
) -> LineOutcome | None:
    """Sort a line: booked lines are applied later (in date order); the rest are listed now."""
    status = str(transaction.status)
    day = transaction.booking_date
    if status == "booked" and day is not None and day >= account.opened_on:
        booked.append((_bank_line(transaction), transaction))
        return None
    if status == "pending":
        pending.append(
            PendingBankLine(
                key=transaction.dedup_key,
                booking_date=day or transaction.value_date,
                amount=transaction.signed_amount,
                description=transaction.description,
            )
        )
        reason = "pending at the bank: remembered, posts nothing until booked"
        return _outcome(transaction, PENDING, reason)
    if status == "info":
        return _outcome(transaction, INFO, "information only: the bank never booked it")
    return _outcome(
        transaction,
        SKIPPED,
        f"dated before the account was opened on {account.opened_on}: the ledger holds nothing "
        "then (the opening balance assertion shows any difference)",
    )


def _outcome(transaction: BankTransaction, status: str, reason: str) -> LineOutcome:
    return LineOutcome(
        key=transaction.dedup_key,
        location=transaction.source_location,
        booking_date=transaction.booking_date,
        amount=transaction.signed_amount,
        description=transaction.description,
        status=status,
        reason=reason,
    )


def _bank_line(transaction: BankTransaction) -> BankLine:
    assert transaction.booking_date is not None  # booked lines have one (the model checks)
    return BankLine(
        key=transaction.dedup_key,
        booking_date=transaction.booking_date,
        amount=transaction.amount,
        credit=str(transaction.direction) == "credit",
        description=transaction.description,
        counterparty=transaction.counterparty,
        bank_reference=transaction.bank_transaction_id or transaction.bank_reference,
        end_to_end_id=transaction.end_to_end_id,
        is_reversal=transaction.is_reversal,
        location=transaction.source_location,
    )


def line_digest(line: BankLine) -> str:
    """The digest stored with a bank line's key: its date, direction, amount and reversal flag.

    The description, running balance and the matching decision are left out on purpose: banks
    tidy descriptions between downloads, and a re-import after new invoices were approved must
    still be a no-op, not a conflict.
    """
    text = json.dumps(
        [
            "bank_line",
            line.booking_date.isoformat(),
            "credit" if line.credit else "debit",
            line.amount.pence,
            line.amount.currency,
            line.is_reversal,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _apply_line(
    ledger: Ledger,
    account: ManagedAccount,
    line: BankLine,
    transaction: BankTransaction,
    actor: str,
    source: str,
    before: int,
) -> LineOutcome:
    key, digest = f"{BANK_KEY_PREFIX}{line.key}", line_digest(line)
    try:
        previous = account.previous_result(key, digest)
    except IdempotencyConflict as conflict:
        if account.previous_version(key) > before:
            raise BankFileError(
                f"the file repeats bank line {line.key} with a different date, amount or direction",
                file=source,
                location=line.location,
                account_id=account.account_id,
                fix="check the file: a bank reference identifies one line",
            ) from conflict
        raise IdempotencyConflict(
            f"{source}, {line.location}: bank line {line.key} was imported before with a "
            "different date, amount or direction; nothing from this file was imported",
            account_id=account.account_id,
            fix="a booked line never changes: check the file is this account's, or correct the "
            "earlier entry and import again",
        ) from conflict
    if previous is not None:
        return LineOutcome(
            key=line.key,
            location=line.location,
            booking_date=line.booking_date,
            amount=line.signed,
            description=line.description,
            status=ALREADY_IMPORTED,
            reason=f"recorded before (event {previous})",
            version=previous,
        )
    decision = match_line(account, line)
    target = None
    if decision.kind is MatchKind.REVERSAL:
        assert decision.version is not None
        target = _find_event(ledger, account, decision.version)
        refused = account.can_reverse(target)
        if refused is not None:
            note = (
                f"a bank reversal of event {decision.version}, which cannot be reversed "
                f"({refused}); "
            )
            decision, target = unexpected(line, note), None
    meta = CommandMeta(
        effective_date=line.booking_date,
        actor=actor,
        reason=decision.reason,
        key=key,
        digest=digest,
    )
    try:
        account.record_bank_line(line=line, decision=decision, meta=meta, target=target)
    except DpledgerError as refused_line:
        raise BankFileError(
            f"the line cannot be recorded: {refused_line.message}; nothing from this file was "
            "imported",
            file=source,
            location=line.location,
            account_id=account.account_id,
            fix=refused_line.fix,
        ) from refused_line
    event = account._pending_events[-1]
    assert isinstance(event, ev.AccountEvent)
    item_id = getattr(event, "item_id", None)
    return LineOutcome(
        key=line.key,
        location=line.location,
        booking_date=line.booking_date,
        amount=line.signed,
        description=transaction.description,
        status=RECORDED,
        reason=decision.reason,
        match=decision.kind.value,
        event_type=type(event).__name__,
        version=event.originator_version,
        item_id=item_id if isinstance(item_id, str) else None,
    )


def _find_event(ledger: Ledger, account: ManagedAccount, version: int) -> ev.AccountEvent:
    """An event of the account, saved or recorded earlier in this same import."""
    for event in account._pending_events:
        if isinstance(event, ev.AccountEvent) and event.originator_version == version:
            return event
    return ledger._event(account.account_id, version)


def _as_of(statements: Sequence[BankStatement]) -> date | None:
    """The latest date the statements speak for: period end, balance, booking or value dates."""
    days: list[date] = []
    for statement in statements:
        days.extend(d for d in (statement.period_end,) if d is not None)
        if statement.closing_balance is not None:
            days.append(statement.closing_balance.date)
        for line in statement.transactions:
            days.extend(d for d in (line.booking_date, line.value_date) if d is not None)
    return max(days) if days else None


def _note_pending(
    account: ManagedAccount,
    statements: Sequence[BankStatement],
    pending: list[PendingBankLine],
    actor: str,
    source: str,
) -> bool:
    as_of = _as_of(statements)
    if as_of is None or as_of < account.opened_on:
        return False
    meta = CommandMeta(effective_date=as_of, actor=actor, reason="pending lines of " + source)
    return account.note_pending_bank_lines(lines=pending, as_of=as_of, source=source, meta=meta)


def _end_of_day(statement: BankStatement, position: str, assertion: BalanceAssertion) -> date:
    """The day whose closing balance an assertion states.

    A closing balance is the end of its date. An opening balance dated on or after the first day
    the statement covers is the balance before that day's lines, so the end of the day before;
    one dated earlier (banks differ) is the end of its own date.
    """
    if position == "closing":
        return assertion.date
    first = [t.booking_date for t in statement.transactions if t.booking_date is not None]
    starts = [d for d in (statement.period_start, min(first, default=None)) if d is not None]
    if starts and assertion.date < min(starts):
        return assertion.date
    return assertion.date - timedelta(days=1)


def _assert_balance(
    account: ManagedAccount, statement: BankStatement, position: str, actor: str, source: str
) -> BalanceOutcome:
    assertion = getattr(statement, f"{position}_balance")
    assert assertion is not None
    day = _end_of_day(statement, position, assertion)

    def outcome(status: str, reason: str) -> BalanceOutcome:
        return BalanceOutcome(
            position, assertion.kind, assertion.date, day, assertion.balance, status, reason
        )

    if day < account.opened_on:
        return outcome(
            SKIPPED,
            f"the end of {day} is before the account was opened on {account.opened_on}",
        )
    key = f"balance:{day.isoformat()}:{assertion.balance.pence}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    if account.previous_result(key, digest) is not None:
        return outcome(ALREADY_IMPORTED, "")
    meta = CommandMeta(effective_date=day, actor=actor, key=key, digest=digest)
    label = f"{source}{_statement_label(statement)} {position} {assertion.kind}"
    account.assert_bank_balance(
        balance=assertion.balance,
        stated_date=assertion.date,
        kind=assertion.kind,
        position=position,
        source=label,
        meta=meta,
    )
    return outcome(RECORDED, "")
