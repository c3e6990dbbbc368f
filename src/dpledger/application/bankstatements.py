"""Reading parsed bank statements for an import: which to import, what each line is, and which
days their balances and pending lines speak for.

Pure functions of the parsers' :class:`~dpledger.adapters.bankfeeds.model.BankStatement` (imported
for type checking only, so the core does not need the ``bankfeeds`` extra): nothing here reads or
records anything. :mod:`dpledger.application.bankimport` uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from dpledger.application.bankreport import INFO, PENDING, SKIPPED, LineOutcome
from dpledger.domain.account import ManagedAccount
from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import MAX_TEXT, clean_text
from dpledger.domain.errors import BankFileError, ValidationError
from dpledger.domain.money import GBP
from dpledger.domain.reconciliation import BankLine
from dpledger.domain.records import PendingBankLine

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BalanceAssertion, BankStatement, BankTransaction

EARLIEST_DATE = date(1900, 1, 1)
FUTURE_DAYS = 366
"""Lines and balances dated more than this many days ahead of today are refused."""


def fit_text(value: str | None, limit: int) -> str | None:
    """Bank text made fit to record (see :func:`~dpledger.domain.bounds.clean_text`)."""
    if value is None:
        return None
    return clean_text(value, limit) or None


def booked_dates(statements: Sequence[BankStatement]) -> list[date]:
    """The booking dates of the statements' lines (those that have one)."""
    return [
        t.booking_date for s in statements for t in s.transactions if t.booking_date is not None
    ]


def choose(
    statements: Sequence[BankStatement], source: str, bank_account: str | None
) -> list[BankStatement]:
    """The statements to import: those of ``bank_account`` when given (in any spelling of the
    account), which must all be of one bank account, in GBP, with plausible dates."""
    chosen = list(statements)
    if bank_account is not None:
        wanted = _same_account(bank_account)
        chosen = [s for s in chosen if s.account_id and _same_account(s.account_id) == wanted]
        if not chosen:
            found = sorted({str(s.account_id) for s in statements})
            raise BankFileError(
                f"no statement for bank account {bank_account!r} (found: {', '.join(found)})",
                file=source,
                fix="pass one of the bank accounts found, as the parser writes it",
            )
    accounts: dict[str, str] = {}
    for statement in chosen:
        if statement.account_id:
            accounts.setdefault(_same_account(statement.account_id), statement.account_id)
    if len(accounts) > 1:
        raise BankFileError(
            f"the file holds statements of {len(accounts)} bank accounts "
            f"({', '.join(sorted(accounts.values()))})",
            file=source,
            fix="pass bank_account= (CLI: --bank-account) to import one of them",
        )
    for statement in chosen:
        check_dates(statement, source)
        if statement.currency != GBP:
            raise BankFileError(
                f"the statement{statement_label(statement)} is in {statement.currency}",
                file=source,
                fix="a managed account keeps GBP only; import the account's GBP statement",
            )
    return chosen


def _same_account(identifier: str) -> str:
    """What two spellings of one bank account have in common: its key, or (text that names no
    account, refused later) the text itself."""
    try:
        return bank_key(identifier)
    except ValidationError:
        return identifier


def check_dates(statement: BankStatement, source: str) -> None:
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


def statement_label(statement: BankStatement) -> str:
    """`` <statement id>`` for messages and sources, or nothing when the bank gave none."""
    return f" {statement.statement_id}" if statement.statement_id else ""


def classify(
    account: ManagedAccount,
    transaction: BankTransaction,
    booked: list[tuple[BankLine, BankTransaction]],
    pending: list[PendingBankLine],
) -> LineOutcome | None:
    """Sort a line: booked lines are applied later (in date order); the rest are listed now."""
    status = str(transaction.status)
    day = transaction.booking_date
    if status == "booked" and day is not None and day >= account.opened_on:
        booked.append((bank_line(transaction), transaction))
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
        return plain_outcome(transaction, PENDING, reason)
    if status == "info":
        return plain_outcome(transaction, INFO, "information only: the bank never booked it")
    return plain_outcome(
        transaction,
        SKIPPED,
        f"dated before the account was opened on {account.opened_on}: the ledger holds nothing "
        "then (the opening balance assertion shows any difference)",
    )


def plain_outcome(transaction: BankTransaction, status: str, reason: str) -> LineOutcome:
    return LineOutcome(
        key=transaction.dedup_key,
        location=transaction.source_location,
        booking_date=transaction.booking_date,
        amount=transaction.signed_amount,
        description=transaction.description,
        status=status,
        reason=reason,
    )


def bank_line(transaction: BankTransaction) -> BankLine:
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
        earlier_keys=tuple(transaction.earlier_keys),
    )


def statements_as_of(statements: Sequence[BankStatement]) -> date | None:
    """The latest date the statements speak for: period end, balance, booking or value dates."""
    days: list[date] = []
    for statement in statements:
        days.extend(d for d in (statement.period_end,) if d is not None)
        if statement.closing_balance is not None:
            days.append(statement.closing_balance.date)
        for line in statement.transactions:
            days.extend(d for d in (line.booking_date, line.value_date) if d is not None)
    return max(days) if days else None


def covers_from(statements: Sequence[BankStatement], as_of: date) -> date:
    """The first day the statements speak for: their earliest period start, balance, booking
    or value date (``as_of`` when they hold none)."""
    days: list[date] = [as_of]
    for statement in statements:
        days.extend(d for d in (statement.period_start,) if d is not None)
        if statement.opening_balance is not None:
            days.append(statement.opening_balance.date)
        for line in statement.transactions:
            days.extend(d for d in (line.booking_date, line.value_date) if d is not None)
    return min(days)


def end_of_day(statement: BankStatement, position: str, assertion: BalanceAssertion) -> date:
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
