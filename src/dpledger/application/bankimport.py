"""Importing bank statements: idempotent, all or nothing per file.

The application-layer half of the bank feeds (the parsers are in
:mod:`dpledger.adapters.bankfeeds`, the matching rules in :mod:`dpledger.domain.reconciliation`,
the bank account in :mod:`dpledger.domain.bank`). Use it through
:meth:`dpledger.Ledger.import_bank_file` or :meth:`dpledger.Ledger.import_statement`.

How a file is imported:

- the statement names its bank account (sort code and number, or IBAN, in any spelling: see
  :func:`~dpledger.domain.bankids.bank_key`); a statement of another bank account than the one
  the managed account's money is held in is refused, naming both, and records nothing; the
  first identified statement that brings something new names the account's bank account
  (``BankAccountNamed``, before the lines' events);
- the managed account and its bank account are loaded once; each booked line is matched
  (:func:`~dpledger.domain.reconciliation.match_line`) and runs **the command a hand entry of the
  same payment would run** (``ReceiveCouncilPayment``, ``PayInvoice``, ``Correct``...) through
  :meth:`Session.run <dpledger.application.session.Session.run>`, under the idempotency key
  ``bank:<dedup key>``, with the match's reason; the bank account records the line beside it
  (``StatementLineBooked``, naming the managed account and its event); both are saved in one
  transaction, so a file is imported whole or not at all;
- a line is recorded once: its key is in the bank account's key index (with a digest of its
  date, direction, amount and reversal flag), so importing the same file again, or an
  overlapping statement, records nothing, on either aggregate; a line 0.1 recorded is found by
  the managed account's ``bank:<dedup key>`` idempotency key instead; the same key with another
  amount or date is refused (:class:`~dpledger.errors.IdempotencyConflict`) naming the line;
- lines are applied in (booking date, reversal last, key) order, never in file order, so the
  outcome does not depend on how the bank sorted the file;
- each statement balance is recorded on the bank account (``BankBalanceStated``); differences
  from the ledger are derived on the read side (``Ledger.reconciliation_breaks``);
- pending lines post nothing: the bank account remembers the latest pending set; info lines are
  listed and ignored.

The boundary is drawn for a bank account holding the money of several managed accounts later:
the bank account's lines and keys are the bank account's, and each line names the managed account
whose money it moved.

This module imports no parser at run time (only for type checking), so the core does not need the
``bankfeeds`` extra: a caller holding statements already has it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.application.bankreport import (
    ALREADY_IMPORTED,
    INFO,
    PENDING,
    RECORDED,
    SKIPPED,
    BalanceOutcome,
    ImportReport,
    LineOutcome,
)
from dpledger.application.bankstatements import (
    EARLIEST_DATE,
    FUTURE_DAYS,
    booked_dates,
    choose,
    classify,
    covers_from,
    end_of_day,
    fit_text,
    statement_label,
    statements_as_of,
)
from dpledger.application.booking import (
    _STANDS_FOR_ANOTHER,
    book_line,
    check_moved,
)
from dpledger.application.booking import describe_line as _describe
from dpledger.application.session import Receipt, Session, StoreFacts
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bank import (
    BankAccount,
    BankBalanceStated,
    PendingBankLinesNoted,
    balance_index_key,
    bank_account_uuid,
    legacy_pending,
    line_digest,
    line_index_key,
    money_moved,
    open_bank_account,
)
from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import MAX_REFERENCE, MAX_TEXT, check_text
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
    awaiting_movements,
    confirm_movement,
)
from dpledger.domain.invoices import PayInvoice
from dpledger.domain.keys import AWAITING_PREFIX
from dpledger.domain.lifecycle import NameBankAccount
from dpledger.domain.payroll import PayHmrc, PayNetWages, PayPension
from dpledger.domain.reconciliation import BankLine, Match, MatchKind, match_line, unexpected
from dpledger.domain.records import BankMovement, PendingBankLine
from dpledger.domain.suspense import ReceiveUnexpectedIncome, RecordUnexplainedOutgoing
from dpledger.domain.transfers import MoneyTransferred, transfer_leg

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BankStatement, BankTransaction

__all__ = [
    "ALREADY_IMPORTED",
    "EARLIEST_DATE",
    "FUTURE_DAYS",
    "INFO",
    "PENDING",
    "RECORDED",
    "SKIPPED",
    "UNIDENTIFIED",
    "BalanceOutcome",
    "ImportReport",
    "LineEvidence",
    "LineOutcome",
    "command_for",
    "import_statements",
]


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
    the parser names it, ``"12-34-56 12345678"``, or any spelling of the same account); a file
    with several accounts is refused without it. Raises :class:`BankFileError` naming the line
    when a line cannot be recorded, or naming both bank accounts when the statement is of
    another bank account than the one the account's money is held in, and
    :class:`IdempotencyConflict` when a line's key was imported with other details; nothing is
    recorded then. The caller saves the session and fills in the breaks.
    """
    actor = check_text(actor, "actor")
    chosen = choose(statements, source, bank_account)
    account = session.existing(account_id)
    before = account.version
    importer = _Importer.start(session, account, actor, source, chosen)
    bank_before = importer.bank.version if importer.bank_stored else 0
    outcomes: list[LineOutcome] = []
    booked: list[tuple[BankLine, BankTransaction]] = []
    pending: list[PendingBankLine] = []
    for statement in chosen:
        for transaction in statement.transactions:
            outcome = classify(account, transaction, booked, pending)
            if outcome is not None:
                outcomes.append(outcome)
    booked.sort(key=lambda pair: (pair[0].booking_date, pair[0].is_reversal, pair[0].key))
    importer.prefetch([k for line, _ in booked for k in (line.key, *line.earlier_keys)])
    for line, transaction in booked:
        outcomes.append(importer.apply(line, transaction))
    balances = [
        importer.state_balance(statement, position)
        for statement in chosen
        for position in ("opening", "closing")
        if getattr(statement, f"{position}_balance") is not None
    ]
    aliases = {
        t.dedup_key: tuple(t.earlier_keys)
        for statement in chosen
        for t in statement.transactions
        if str(t.status) == "pending"
    }
    pending_changed = importer.note_pending(chosen, pending, aliases)
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
        bank_version_before=bank_before,
        bank_version_after=importer.bank.version if importer.saving_bank else bank_before,
    )


class LineEvidence(Command):
    """The when, who and why of an event a bank line records that no person's command stands
    for (a line confirming an entry already recorded): not a command of its own."""

    method: ClassVar[str] = "import_statement"


@dataclass(frozen=True, slots=True)
class _Earlier:
    """An earlier import of a line: the managed account's event that recorded its money (or
    confirmed it), whether the line said the same then (date, direction, amount, reversal
    flag), and that managed account."""

    version: int
    same: bool
    account_id: str | None


@dataclass
class _Importer:
    """One import: the managed account, its bank account, and the lines seen so far.

    Nothing is recorded on either aggregate until the import has something to record: then
    (:meth:`_ready`) the managed account names the bank account, if the statement is the first
    to identify it, and a new bank account joins the unit of work. A statement that brings
    nothing new therefore records nothing at all, on either aggregate.
    """

    session: Session
    account: ManagedAccount
    actor: str
    source: str
    bank: BankAccount
    bank_stored: bool
    name_on: date | None = None
    """The date to name the bank account on the managed account (``None``: named already)."""
    saving_bank: bool = False
    seen: dict[str, str] = field(default_factory=dict)
    awaiting: dict[int, BankMovement] = field(default_factory=dict)
    """Money recorded by hand that no bank line has confirmed yet, by version."""
    booked: tuple[Receipt, Match] | None = None
    """The receipt and match of the line :meth:`record_line` recorded last."""

    @classmethod
    def start(
        cls,
        session: Session,
        account: ManagedAccount,
        actor: str,
        source: str,
        statements: Sequence[BankStatement],
    ) -> _Importer:
        """The import of ``statements``: refused if the managed account's money is held in
        another bank account than the one they are of."""
        named = account.terms.bank_account
        stated = next((s.account_id for s in statements if s.account_id), None)
        key = None if stated is None else _bank_key(stated, source)
        if key is not None and named is not None and key != named:
            raise BankFileError(
                f"this statement is of bank account {key}, but the money of {account.account_id} "
                f"is held in bank account {named}; nothing was imported",
                file=source,
                account_id=account.account_id,
                fix=f"import the statement of {named}, or name the other bank account first "
                "(Ledger.name_bank_account) if the money moved",
            )
        day = max(account.opened_on, min(booked_dates(statements), default=account.opened_on))
        key = key or named or _unidentified(account.account_id)
        bank = session.bank(key)
        stored = bank is not None
        if bank is not None and bank.book.pooled:
            raise BankFileError(
                f"bank account {key} is a pooled client account ({bank.book.name}): its lines "
                "are allocated to its members; nothing was imported",
                file=source,
                account_id=account.account_id,
                fix="import it as a pool: Ledger.import_pooled_file, or dpledger import FILE "
                "without --account",
            )
        if bank is None:
            bank = open_bank_account(key, stated or key, day, actor)
        name_on = day if key != named and not key.startswith(UNIDENTIFIED) else None
        return cls(session, account, actor, source, bank, stored, name_on)

    # ------------------------------------------------------------ facts
    @property
    def bank_facts(self) -> StoreFacts:
        """The bank account's key index (its unsaved lines first)."""
        return self.session.facts_for(bank_account_uuid(self.bank.key), self.bank)

    @property
    def account_facts(self) -> StoreFacts:
        """The managed account's key index (its unsaved events first)."""
        return self.session.facts_for(account_uuid(self.account.account_id), self.account)

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read every line's key, of the bank account and of lines recorded on the managed
        account (by 0.1, or by this version on another bank account), in two queries."""
        self.bank_facts.prefetch([line_index_key(k) for k in keys])
        self.account_facts.prefetch([command_index_key(BANK_KEY_PREFIX + k) for k in keys])
        self.awaiting = awaiting_movements(self.account_facts.prefixed(AWAITING_PREFIX))

    def previous(self, line: BankLine, digest: str) -> _Earlier | None:
        """The earlier import of ``line``, if any.

        First under its key, then under each key an earlier dpledger gave it
        (:attr:`~dpledger.domain.reconciliation.BankLine.earlier_keys`). Under its own key, a
        line with other details is the same line changed (the caller refuses it); under an
        earlier key only the same details make it the same line (an old ``ref:`` key of a
        reused payer's reference may name another line).
        """
        found = self._previous(line, line.key, digest)
        if found is not None:
            return found
        for key in line.earlier_keys:
            found = self._previous(line, key, digest)
            if found is not None and found.same:
                return found
        return None

    def _previous(self, line: BankLine, key: str, digest: str) -> _Earlier | None:
        """The earlier import of ``line`` under ``key``: the bank account's key index, else the
        managed account's idempotency key ``bank:<key>`` (0.1 recorded lines there with the
        line's digest; this version keys the money event so too, but with its command's digest:
        then the event itself says whether it is the same line, by its date and money)."""
        found = self.bank_facts.key(line_index_key(key))
        if found is not None:
            same = found.digest == digest
            record = self.bank.line(key)
            if record is not None:
                return _Earlier(record.version, same, record.account_id)
            # booked before the recent window: its own event names the money's event
            booked = self.bank_facts.event(found.version)
            return _Earlier(booked.event_version or 0, same, booked.account_id)
        keyed = self.account_facts.key(command_index_key(BANK_KEY_PREFIX + key))
        if keyed is None:
            return None
        if keyed.digest == digest:
            return _Earlier(keyed.version, True, self.account.account_id)
        event = self.account_facts.event(keyed.version)
        moved = money_moved(event, self.bank.key)
        same = event.effective_date == line.booking_date and moved == line.signed
        return _Earlier(keyed.version, same, self.account.account_id)

    # ------------------------------------------------------------ recording
    def _ready(self) -> None:
        """Before the first thing this import records: the managed account names the bank
        account (the first statement to identify it), and a new bank account is opened."""
        if self.saving_bank:
            return
        if self.name_on is not None:
            command = NameBankAccount.build(
                account_id=self.account.account_id,
                bank_account=self.bank.key,
                effective_date=self.name_on,
                actor=self.actor,
                reason=fit_text(f"named by the statement {self.source}", MAX_TEXT),
            )
            try:
                self.session.run(command)
            except DpledgerError as refused:
                raise BankFileError(
                    f"the bank account {self.bank.key} cannot be named on "
                    f"{self.account.account_id}: {refused.message}; nothing was imported",
                    file=self.source,
                    account_id=self.account.account_id,
                    fix=refused.fix,
                ) from refused
        self.session.banks[self.bank.key] = self.bank
        self.saving_bank = True

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
        earlier = self.previous(line, digest)
        if earlier is not None:
            if not earlier.same:
                raise IdempotencyConflict(
                    f"{self.source}, {line.location}: bank line {line.key} was imported before "
                    "with a different date, amount or direction; nothing from this file was "
                    "imported",
                    account_id=self.account.account_id,
                    fix="a booked line never changes: check the file is this account's, or "
                    "correct the earlier entry and import again",
                )
            owner = earlier.account_id
            of = f"{owner} " if owner is not None and owner != self.account.account_id else ""
            return self._outcome(
                line,
                transaction,
                ALREADY_IMPORTED,
                f"recorded before ({of}event {earlier.version})",
                earlier.version,
            )
        self._ready()
        return self.record_line(line, transaction)

    def record_line(
        self,
        line: BankLine,
        transaction: BankTransaction | None,
        *,
        allocated: str | None = None,
        match: Match | None = None,
        book: bool = True,
    ) -> LineOutcome:
        """Record a line not recorded before: match it on the managed account, run the command
        that match stands for, and book the line on the bank account beside it.

        ``allocated`` is why a pooled line is this account's (then the booked line's reason
        says both); ``match`` a decision already taken. ``book=False`` leaves booking the line
        to the caller (a pool books it naming the member, see
        :mod:`~dpledger.application.pooledimport`), which then also gets refusals of money the
        account cannot cover as they are. Other refusals raise :class:`BankFileError` naming the
        line, or the refusal itself when ``transaction`` is ``None`` (a person allocating a
        held line: no file to name).
        """
        if match is None:
            match = self.match(line)
        try:
            receipt, match = self._record(line, match)
        except DpledgerError as refused:
            if transaction is None or (not book and isinstance(refused, InsufficientFunds)):
                raise
            raise BankFileError(
                f"the line cannot be recorded: {refused.message}; nothing from this file was "
                "imported",
                file=self.source,
                location=line.location,
                account_id=self.account.account_id,
                fix=refused.fix,
            ) from refused
        target = match.version if match.kind in _STANDS_FOR_ANOTHER else None
        if target is not None:
            self.awaiting.pop(target, None)  # confirmed or reversed: no other line stands for it
        check_moved(receipt, line, self.bank.key)
        reason = match.reason if allocated is None else f"{allocated}; {match.reason}"
        self.booked = receipt, match
        if book:
            book_line(
                self.bank,
                line,
                actor=self.actor,
                reason=reason,
                account_id=self.account.account_id,
                recorded=(receipt, match),
            )
        return self._outcome(
            line,
            transaction,
            RECORDED,
            reason,
            receipt.version,
            match=match.kind.value,
            event_type=receipt.event_type,
            item_id=receipt.item_id,
        )

    def match(self, line: BankLine) -> Match:
        """What ``line`` is on this account: one side of a transfer between the account's own
        bank accounts (:func:`~dpledger.domain.transfers.transfer_leg`), else what the matching
        rules say (:func:`~dpledger.domain.reconciliation.match_line`)."""
        leg = transfer_leg(self.account, self.bank, line.booking_date, line.signed)
        if leg is None:
            return match_line(self.account, self.bank, line, self.awaiting)
        side = "out of" if line.signed.pence < 0 else "into"
        return Match(
            MatchKind.TRANSFER,
            f"the money {side} bank account {self.bank.key} of the transfer of {leg.amount} from "
            f"{leg.from_bank_account} to {leg.to_bank_account} recorded on {leg.effective_date} "
            f"(event {leg.version})",
            version=leg.version,
            matched_type=MoneyTransferred.__name__,
        )

    def _record(self, line: BankLine, match: Match) -> tuple[Receipt, Match]:
        """Record what ``match`` says the line is; a reversal that cannot be made is held, and
        a transfer's line records nothing on the account (the money stayed the person's)."""
        if match.kind is MatchKind.TRANSFER:
            assert match.version is not None
            event = self.account_facts.event(match.version)
            return Receipt(self.account.account_id, match.version, event), match
        if match.kind is MatchKind.REVERSAL:
            assert match.version is not None
            try:
                command = Correct.build(version=match.version, **self._meta(line, match))
                return self.session.run(command, from_bank=True), match
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
            evidence = LineEvidence.build(**self._meta(line, match))
            event = confirm_movement(
                self.account,
                Context(evidence, self.account_facts, from_bank=True),
                line_key=line.key,
                version=match.version,
                amount=line.signed,
                description=_describe(line),
            )
            return Receipt(self.account.account_id, event.originator_version, event), match
        return self.session.run(self._command(line, match), from_bank=True), match

    def _meta(self, line: BankLine, match: Match) -> dict[str, Any]:
        """The fields every command carries, for a command a bank line sends."""
        return {
            "account_id": self.account.account_id,
            "effective_date": line.booking_date,
            "actor": self.actor,
            "reason": fit_text(match.reason, MAX_TEXT),
            "idempotency_key": f"{BANK_KEY_PREFIX}{line.key}",
        }

    def _command(self, line: BankLine, match: Match) -> Command:
        """The command a person entering this payment by hand would send."""
        return command_for(line, match, self._meta(line, match))

    def _outcome(
        self,
        line: BankLine,
        transaction: BankTransaction | None,
        status: str,
        reason: str,
        version: int | None = None,
        **recorded: Any,
    ) -> LineOutcome:
        """What became of ``line``; ``recorded`` gives a recorded line's match, event type and
        held item."""
        return LineOutcome(
            key=line.key,
            location=line.location,
            booking_date=line.booking_date,
            amount=line.signed,
            description=line.description if transaction is None else transaction.description,
            status=status,
            reason=reason,
            version=version,
            **recorded,
        )

    def state_balance(self, statement: BankStatement, position: str) -> BalanceOutcome:
        """Record one statement balance on the bank account (or say it was recorded before,
        on the bank account or, by 0.1, on the managed account)."""
        assertion = getattr(statement, f"{position}_balance")
        assert assertion is not None
        day = end_of_day(statement, position, assertion)

        def outcome(status: str, reason: str) -> BalanceOutcome:
            return BalanceOutcome(
                position, assertion.kind, assertion.date, day, assertion.balance, status, reason
            )

        if day < self.account.opened_on:
            return outcome(
                SKIPPED,
                f"the end of {day} is before the account was opened on {self.account.opened_on}",
            )
        key = balance_index_key(day, assertion.balance)
        if (
            self.bank_facts.key(key) is not None
            or self.account_facts.key(command_index_key(key)) is not None
        ):
            return outcome(ALREADY_IMPORTED, "")
        self._ready()
        label = f"{self.source}{statement_label(statement)} {position} {assertion.kind}"
        self.bank.record(
            BankBalanceStated,
            effective_date=day,
            actor=self.actor,
            balance=assertion.balance,
            stated_date=assertion.date,
            kind=fit_text(assertion.kind, MAX_REFERENCE) or "balance",
            position=position,
            source=fit_text(label, MAX_TEXT) or "statement",
        )
        return outcome(RECORDED, "")

    def note_pending(
        self,
        statements: Sequence[BankStatement],
        pending: list[PendingBankLine],
        aliases: Mapping[str, tuple[str, ...]] | None = None,
    ) -> bool:
        """Remember the bank's pending lines as of the statements' date; whether that changed.

        Statements as of an earlier date than the set remembered change nothing; as of the same
        date, their pending lines join the set. As of a later date, statements that list pending
        lines replace the set (a bank lists all that is pending); statements that list none
        drop only the remembered lines dated within the days they cover (the bank would have
        listed them, or booked them), since a statement of booked lines alone says nothing of
        the days before it. Lines a booked line already settles are left out. Until the bank
        account has a pending set of its own, the one 0.1 left on the managed account is the
        set compared with (and carried over to the bank account when it is opened).
        """
        as_of = statements_as_of(statements)
        if as_of is None or as_of < self.account.opened_on:
            return False
        book = self.bank.book
        base_as_of, base = book.pending_as_of, dict(book.pending)
        legacy = None if self.bank_stored else self._legacy_pending()
        if legacy is not None and base_as_of is None:
            base_as_of, base = legacy
        changed = False
        # A pending line remembered under the key an earlier dpledger gave it is the same line.
        pending = [
            replace(line, key=next(k for k in (aliases or {}).get(line.key, ()) if k in base))
            if any(k in base for k in (aliases or {}).get(line.key, ()))
            else line
            for line in pending
        ]
        if base_as_of is None or as_of >= base_as_of:
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
            if as_of == base_as_of:
                merged = {**base, **fresh}
            elif pending:
                merged = fresh
            else:
                covered = covers_from(statements, as_of)
                merged = {
                    key: line
                    for key, line in base.items()
                    if line.booking_date is not None and line.booking_date < covered
                }
            if set(merged) != set(base):
                self._note(as_of, merged, f"pending lines of {self.source}")
                changed = True
        if not changed and legacy is not None and self.saving_bank:
            self._note(
                legacy[0],
                legacy[1],
                f"pending lines 0.1 noted on {self.account.account_id}, carried over",
            )
        return changed

    def _note(self, as_of: date | None, lines: dict[str, PendingBankLine], reason: str) -> None:
        self._ready()
        self.bank.record(
            PendingBankLinesNoted,
            effective_date=as_of or self.bank.book.opened_on,
            actor=self.actor,
            reason=fit_text(reason, MAX_TEXT),
            as_of=as_of,
            lines=sorted(lines.values(), key=lambda p: p.key),
            source=fit_text(self.source, MAX_TEXT) or "statement",
        )

    def _legacy_pending(self) -> tuple[date | None, dict[str, PendingBankLine]] | None:
        """The pending lines 0.1 left on the managed account (read from its history once, while
        the bank account is not stored yet), settled by the lines recorded since."""
        stored = self.session.app.events.get(account_uuid(self.account.account_id))
        return legacy_pending(
            itertools.chain(stored, self.account.pending_events),
            self.account.terms.opening_policy.missing_payment_margin_days,
        )


def command_for(line: BankLine, match: Match, meta: Mapping[str, Any]) -> Command:
    """The command a person entering the payment of bank line ``line`` by hand would send, as
    ``match`` reads it (not for a confirmation or a reversal: those run on the entry they
    match), with ``meta`` (account, date, actor, reason, idempotency key)."""
    reference = fit_text(line.bank_reference or line.end_to_end_id, MAX_REFERENCE)
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
    if kind is MatchKind.REMITTANCE:
        # imported here: the lead owns the module header (hoist it there)
        from dpledger.domain.remittances import PayRemittance

        return PayRemittance.build(
            agency_id=match.agency_id, payments=match.payments, bank_reference=reference, **meta
        )
    if kind is MatchKind.NET_WAGES:
        return PayNetWages.build(pa_id=match.pa_id, amount=amount, bank_reference=reference, **meta)
    if kind is MatchKind.HMRC:
        return PayHmrc.build(amount=amount, bank_reference=reference, **meta)
    if kind is MatchKind.PENSION:
        return PayPension.build(amount=amount, bank_reference=reference, **meta)
    if kind is MatchKind.UNEXPECTED_INCOME:
        return ReceiveUnexpectedIncome.build(amount=amount, description=_describe(line), **meta)
    if kind is MatchKind.UNEXPECTED_OUTGOING:
        return RecordUnexplainedOutgoing.build(amount=amount, description=_describe(line), **meta)
    raise ValueError(f"a {kind.value} match runs no command of its own")


UNIDENTIFIED = "UNIDENTIFIED:"
"""The key prefix of the bank account that holds the lines of statements naming no account, for
a managed account that has named none (``UNIDENTIFIED:DP-1``)."""


def _unidentified(account_id: str) -> str:
    return f"{UNIDENTIFIED}{account_id}"


def _bank_key(identifier: str, source: str) -> str:
    """The bank account a statement names, or :class:`BankFileError`."""
    try:
        return bank_key(identifier)
    except ValidationError as bad:
        raise BankFileError(
            f"the statement's account {identifier!r} names no bank account: {bad.message}",
            file=source,
            fix="check the file is a bank statement of the account",
        ) from bad
