"""Importing bank statements: idempotent, all or nothing per file.

The application-layer half of the bank feeds (the parsers are in
:mod:`dpledger.adapters.bankfeeds`, the matching rules in :mod:`dpledger.domain.reconciliation`,
the bank account in :mod:`dpledger.domain.bank`). Use it through
:meth:`dpledger.Ledger.import_bank_file` or :meth:`dpledger.Ledger.import_statement`.

How a file is imported:

- the statement names its bank account (sort code and number, or IBAN); a statement of another
  bank account than the one the managed account's money is held in is refused, naming both;
  the first identified statement names the account's bank account;
- the managed account and its bank account are loaded once; each booked line is matched
  (:func:`~dpledger.domain.reconciliation.match_line`) and runs **the command a hand entry of the
  same payment would run** (``ReceiveCouncilPayment``, ``PayInvoice``, ``Correct``...) under the
  idempotency key ``bank:<dedup key>``, with the match's reason; the bank account records the
  line beside it; both are saved in one transaction, so a file is imported whole or not at all;
- a line is recorded once: its key is in the bank account's key index (with a digest of its
  date, direction, amount and reversal flag), so importing the same file again, or an
  overlapping statement, records nothing; the same key with another amount or date is refused
  (:class:`~dpledger.errors.IdempotencyConflict`) naming the line;
- lines are applied in (booking date, reversal last, key) order, never in file order, so the
  outcome does not depend on how the bank sorted the file;
- pending lines post nothing: the bank account remembers the latest pending set; info lines are
  listed and ignored;
- each statement balance is recorded on the bank account; differences from the ledger are
  reported as reconciliation breaks.

This module imports no parser at run time (only for type checking), so the core does not need the
``bankfeeds`` extra: a caller holding statements already has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.application.session import Receipt, Session
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bank import (
    BankBalanceStated,
    PendingBankLinesNoted,
    StatementLineBooked,
    bank_account_uuid,
    line_digest,
    line_index_key,
    open_bank_account,
)
from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import MAX_REFERENCE, MAX_TEXT, check_text, clean_text
from dpledger.domain.commands import Command, Context
from dpledger.domain.corrections import Correct
from dpledger.domain.errors import (
    BankFileError,
    DpledgerError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.events import command_index_key
from dpledger.domain.funds import (
    BANK_KEY_PREFIX,
    ReceiveContribution,
    ReceiveCouncilPayment,
    confirm_movement,
)
from dpledger.domain.invoices import PayInvoice
from dpledger.domain.keys import KeyRecord
from dpledger.domain.lifecycle import NameBankAccount
from dpledger.domain.money import GBP, Money
from dpledger.domain.payroll import PayHmrc, PayNetWages, PayPension
from dpledger.domain.reconciliation import BankLine, Match, MatchKind, match_line, unexpected
from dpledger.domain.records import PendingBankLine, ReconciliationBreak
from dpledger.domain.suspense import ReceiveUnexpectedIncome, RecordUnexplainedOutgoing

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BalanceAssertion, BankStatement, BankTransaction

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
    bank_account: str | None = None
    """The bank account the statements are of (its key)."""

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
            "bank_account": self.bank_account,
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
    session: Session,
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
    recorded or the statement is of another bank account than the account's, and
    :class:`IdempotencyConflict` when a line's key was imported with other details; nothing is
    recorded then. The caller saves the session and fills in the breaks.
    """
    actor = check_text(actor, "actor")
    chosen = _choose(statements, source, bank_account)
    account = session.existing(account_id)
    before = account.version
    importer = _Importer(session, account, actor, source)
    importer.use_bank_of(chosen)
    outcomes: list[LineOutcome] = []
    booked: list[tuple[BankLine, BankTransaction]] = []
    pending: list[PendingBankLine] = []
    for statement in chosen:
        for transaction in statement.transactions:
            outcome = _classify(account, transaction, booked, pending)
            if outcome is not None:
                outcomes.append(outcome)
    booked.sort(key=lambda pair: (pair[0].booking_date, pair[0].is_reversal, pair[0].key))
    importer.prefetch([line.key for line, _ in booked])
    for line, transaction in booked:
        outcomes.append(importer.apply(line, transaction))
    pending_changed = importer.note_pending(chosen, pending)
    balances = [
        importer.state_balance(statement, position)
        for statement in chosen
        for position in ("opening", "closing")
        if getattr(statement, f"{position}_balance") is not None
    ]
    return ImportReport(
        account_id=account_id,
        source=source,
        statements=len(chosen),
        lines=tuple(outcomes),
        balances=tuple(balances),
        breaks=(),
        pending_changed=pending_changed,
        version_before=before,
        version_after=account.version,
        bank_account=importer.bank.key,
    )


class LineEvidence(Command):
    """The when, who and why of an event a bank line records that no person's command stands
    for (a line confirming an entry already recorded): not a command of its own."""

    method: ClassVar[str] = "import_statement"


@dataclass
class _Importer:
    """One import: the managed account, its bank account, and the lines seen so far."""

    session: Session
    account: ManagedAccount
    actor: str
    source: str
    bank: Any = None
    seen: dict[str, str] = field(default_factory=dict)

    def use_bank_of(self, statements: Sequence[BankStatement]) -> None:
        """The bank account the statements are of: refused if the managed account's money is
        held in another; named on the managed account when it had none; opened if new."""
        account = self.account
        named = account.terms.bank_account
        stated = [s.account_id for s in statements if s.account_id]
        key = None
        if stated:
            try:
                key = bank_key(stated[0])
            except ValidationError as bad:
                raise BankFileError(
                    f"the statement's account {stated[0]!r} names no bank account: {bad.message}",
                    file=self.source,
                    fix="check the file is a bank statement of the account",
                ) from bad
        if (
            key is not None
            and named is not None
            and not named.startswith("UNIDENTIFIED")
            and key != named
        ):
            raise BankFileError(
                f"this statement is of bank account {key}, but the money of {account.account_id} "
                f"is held in bank account {named}; nothing was imported",
                file=self.source,
                account_id=account.account_id,
                fix=f"import {named}'s statement, or name the other bank account first "
                "(Ledger.name_bank_account) if the money moved",
            )
        day = max(account.opened_on, min(_dates(statements), default=account.opened_on))
        if key is not None and key != named:
            self.session.run(
                NameBankAccount.build(
                    account_id=account.account_id,
                    bank_account=key,
                    effective_date=day,
                    actor=self.actor,
                    reason=f"named by the statement {self.source}",
                )
            )
        key = key or named or f"UNIDENTIFIED:{account.account_id}"
        bank = self.session.bank(key)
        if bank is None:
            bank = open_bank_account(key, stated[0] if stated else key, day, self.actor)
            self.session.banks[key] = bank
        self.bank = bank

    @property
    def bank_facts(self) -> Any:
        return self.session.facts_for(bank_account_uuid(self.bank.key), self.bank)

    @property
    def account_facts(self) -> Any:
        return self.session.facts_for(account_uuid(self.account.account_id), self.account)

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read every line's key, of the bank account and of 0.1's lines on the account."""
        self.bank_facts.prefetch([line_index_key(k) for k in keys])
        self.account_facts.prefetch([command_index_key(BANK_KEY_PREFIX + k) for k in keys])

    def previous(self, line: BankLine) -> KeyRecord | None:
        """The record of an earlier import of ``line``: on its bank account, or (lines 0.1
        recorded) on the managed account."""
        found = self.bank_facts.key(line_index_key(line.key))
        if found is None:
            found = self.account_facts.key(command_index_key(BANK_KEY_PREFIX + line.key))
        return found  # type: ignore[no-any-return]

    def apply(self, line: BankLine, transaction: BankTransaction) -> LineOutcome:
        """Record one booked line (or say it was recorded before)."""
        digest = line_digest(line.booking_date, line.credit, line.amount, line.is_reversal)
        if line.key in self.seen:
            if self.seen[line.key] != digest:
                raise BankFileError(
                    f"the file repeats bank line {line.key} with a different date, amount or "
                    "direction",
                    file=self.source,
                    location=line.location,
                    account_id=self.account.account_id,
                    fix="check the file: a bank reference identifies one line",
                )
            return self._outcome(line, transaction, ALREADY_IMPORTED, "repeated in this file")
        self.seen[line.key] = digest
        previous = self.previous(line)
        if previous is not None:
            if previous.digest != digest:
                raise IdempotencyConflict(
                    f"{self.source}, {line.location}: bank line {line.key} was imported before "
                    "with a different date, amount or direction; nothing from this file was "
                    "imported",
                    account_id=self.account.account_id,
                    fix="a booked line never changes: check the file is this account's, or "
                    "correct the earlier entry and import again",
                )
            recorded = self.bank.book.lines.get(line.key)
            version = recorded.version if recorded is not None else previous.version
            return self._outcome(
                line, transaction, ALREADY_IMPORTED, f"recorded before (event {version})", version
            )
        match = match_line(self.account, self.bank, line)
        try:
            receipt, match = self._record(line, match)
        except DpledgerError as refused:
            raise BankFileError(
                f"the line cannot be recorded: {refused.message}; nothing from this file was "
                "imported",
                file=self.source,
                location=line.location,
                account_id=self.account.account_id,
                fix=refused.fix,
            ) from refused
        target = match.version if match.kind in (MatchKind.CONFIRMS, MatchKind.REVERSAL) else None
        self.bank.record(
            StatementLineBooked,
            effective_date=line.booking_date,
            actor=self.actor,
            reason=match.reason,
            line_key=line.key,
            booking_date=line.booking_date,
            amount=line.signed,
            credit=line.credit,
            is_reversal=line.is_reversal,
            description=_text(line.label, MAX_TEXT) or line.label[:1],
            bank_reference=_text(line.bank_reference or line.end_to_end_id, MAX_REFERENCE),
            account_id=self.account.account_id,
            event_version=receipt.version,
            target_version=target or receipt.version,
            event_type=match.matched_type or receipt.event_type,
            match=match.kind.value,
            reverses_line=match.line_key,
        )
        outcome = self._outcome(line, transaction, RECORDED, match.reason, receipt.version)
        return LineOutcome(
            **{
                **{f: getattr(outcome, f) for f in outcome.__dataclass_fields__},
                "match": match.kind.value,
                "event_type": receipt.event_type,
                "item_id": receipt.item_id,
            }
        )

    def _record(self, line: BankLine, match: Match) -> tuple[Receipt, Match]:
        if match.kind is MatchKind.REVERSAL:
            try:
                return self._run(
                    line, match, Correct.build(version=match.version, **self._meta(line, match))
                ), match
            except (
                InvalidTransition,
                UnknownParty,
                ValidationError,
                Overpayment,
                InsufficientFunds,
            ) as refused:
                note = (
                    f"a bank reversal of event {match.version}, which cannot be reversed "
                    f"({refused.message}); "
                )
                match = unexpected(line, note)
        if match.kind is MatchKind.CONFIRMS:
            assert match.version is not None
            command = LineEvidence.build(**self._meta(line, match))
            event = confirm_movement(
                self.account,
                Context(command, self.account_facts, from_bank=True),
                line_key=line.key,
                version=match.version,
                amount=line.signed,
                description=_text(line.label, MAX_TEXT) or "bank line",
            )
            return Receipt(self.account.account_id, event.originator_version, event), match
        return self._run(line, match, self._command(line, match)), match

    def _run(self, line: BankLine, match: Match, command: Command) -> Receipt:
        return self.session.run(command, from_bank=True)

    def _meta(self, line: BankLine, match: Match) -> dict[str, Any]:
        return {
            "account_id": self.account.account_id,
            "effective_date": line.booking_date,
            "actor": self.actor,
            "reason": _text(match.reason, MAX_TEXT),
            "idempotency_key": f"{BANK_KEY_PREFIX}{line.key}",
        }

    def _command(self, line: BankLine, match: Match) -> Command:
        """The command a person entering this payment by hand would send."""
        meta = self._meta(line, match)
        reference = _text(line.bank_reference or line.end_to_end_id, MAX_REFERENCE)
        amount = line.amount
        kind = match.kind
        if kind is MatchKind.COUNCIL_PAYMENT:
            return ReceiveCouncilPayment.build(
                amount=amount,
                period_start=match.period_start,
                period_end=match.period_end,
                bank_reference=reference,
                **meta,
            )
        if kind is MatchKind.CONTRIBUTION:
            return ReceiveContribution.build(amount=amount, bank_reference=reference, **meta)
        if kind is MatchKind.INVOICE_PAYMENT:
            return PayInvoice.build(
                agency_id=match.agency_id,
                invoice_number=match.invoice_number,
                amount=amount,
                bank_reference=reference,
                **meta,
            )
        if kind is MatchKind.NET_WAGES:
            return PayNetWages.build(
                pa_id=match.pa_id, amount=amount, bank_reference=reference, **meta
            )
        if kind is MatchKind.HMRC:
            return PayHmrc.build(amount=amount, bank_reference=reference, **meta)
        if kind is MatchKind.PENSION:
            return PayPension.build(amount=amount, bank_reference=reference, **meta)
        description = _text(line.label, MAX_TEXT) or (
            "bank credit" if line.credit else "bank debit"
        )
        if kind is MatchKind.UNEXPECTED_INCOME:
            return ReceiveUnexpectedIncome.build(amount=amount, description=description, **meta)
        return RecordUnexplainedOutgoing.build(amount=amount, description=description, **meta)

    def _outcome(
        self,
        line: BankLine,
        transaction: BankTransaction,
        status: str,
        reason: str,
        version: int | None = None,
    ) -> LineOutcome:
        return LineOutcome(
            key=line.key,
            location=line.location,
            booking_date=line.booking_date,
            amount=line.signed,
            description=transaction.description,
            status=status,
            reason=reason,
            version=version,
        )

    def note_pending(
        self, statements: Sequence[BankStatement], pending: list[PendingBankLine]
    ) -> bool:
        """Remember the bank's pending lines as of the statements' date; whether that changed.

        A statement as of a later date replaces the set, one as of the same date adds to it, an
        older one changes nothing; lines a booked line already settles are left out.
        """
        as_of = _as_of(statements)
        if as_of is None or as_of < self.account.opened_on:
            return False
        book = self.bank.book
        current = book.pending_as_of
        if current is not None and as_of < current:
            return False
        booked_already = {
            line.key
            for line in pending
            if self.bank_facts.key(line_index_key(line.key)) is not None
            or self.account_facts.key(command_index_key(BANK_KEY_PREFIX + line.key)) is not None
        }
        fresh = {
            line.key: line
            for line in self.bank.unsettled([p for p in pending if p.key not in booked_already])
        }
        merged = {**book.pending, **fresh} if as_of == current else fresh
        if set(merged) == set(book.pending):
            return False
        self.bank.record(
            PendingBankLinesNoted,
            effective_date=as_of,
            actor=self.actor,
            reason=f"pending lines of {self.source}",
            as_of=as_of,
            lines=sorted(merged.values(), key=lambda p: p.key),
            source=self.source,
        )
        return True

    def state_balance(self, statement: BankStatement, position: str) -> BalanceOutcome:
        """Record one statement balance on the bank account (or say it was recorded before)."""
        assertion = getattr(statement, f"{position}_balance")
        assert assertion is not None
        day = _end_of_day(statement, position, assertion)

        def outcome(status: str, reason: str) -> BalanceOutcome:
            return BalanceOutcome(
                position, assertion.kind, assertion.date, day, assertion.balance, status, reason
            )

        if day < self.account.opened_on:
            return outcome(
                SKIPPED,
                f"the end of {day} is before the account was opened on {self.account.opened_on}",
            )
        key = f"balance:{day.isoformat()}:{assertion.balance.pence}"
        if (
            self.bank_facts.key(key) is not None
            or self.account_facts.key(command_index_key(key)) is not None
        ):
            return outcome(ALREADY_IMPORTED, "")
        label = f"{self.source}{_statement_label(statement)} {position} {assertion.kind}"
        self.bank.record(
            BankBalanceStated,
            effective_date=day,
            actor=self.actor,
            balance=assertion.balance,
            stated_date=assertion.date,
            kind=_text(assertion.kind, MAX_REFERENCE) or "balance",
            position=position,
            source=_text(label, MAX_TEXT) or "statement",
        )
        return outcome(RECORDED, "")


def _text(value: str | None, limit: int) -> str | None:
    """Bank text made fit to record (see :func:`~dpledger.domain.bounds.clean_text`)."""
    if value is None:
        return None
    return clean_text(value, limit) or None


def _dates(statements: Sequence[BankStatement]) -> list[date]:
    return [
        t.booking_date for s in statements for t in s.transactions if t.booking_date is not None
    ]


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
                description=clean_text(transaction.description, MAX_TEXT),
            )
        )
        reason = "pending at the bank: remembered, posts nothing until booked"
        return _plain_outcome(transaction, PENDING, reason)
    if status == "info":
        return _plain_outcome(transaction, INFO, "information only: the bank never booked it")
    return _plain_outcome(
        transaction,
        SKIPPED,
        f"dated before the account was opened on {account.opened_on}: the ledger holds nothing "
        "then (the opening balance assertion shows any difference)",
    )


def _plain_outcome(transaction: BankTransaction, status: str, reason: str) -> LineOutcome:
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
