"""The one normalised shape every bank file is read into.

A parser turns a file into a list of :class:`BankStatement`, each holding :class:`BankTransaction`
lines. Both are frozen pydantic models: this is the boundary where untrusted bank data becomes
dpledger data, so every value is checked once, here.

Amounts are exact :class:`~dpledger.domain.money.Money`, always **unsigned and above zero**; the
sign lives in :attr:`BankTransaction.direction`. Balances are signed (a debit balance, i.e. an
overdraft, is negative).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from dpledger.domain.bankids import bank_key
from dpledger.domain.errors import MoneyError, ValidationError
from dpledger.domain.money import Money

#: No bank line is anywhere near this (ten trillion); the bound keeps absurd exponents such as
#: ``1E+999999`` from turning into gigantic integers.
MAX_AMOUNT: Final = Decimal(10) ** 13

_SPACES = re.compile(r"\s+")


class FieldError(ValueError):
    """A value read from a bank file is unacceptable (bad date, bad amount, unknown code).

    Parsers catch it and re-raise :class:`~dpledger.domain.errors.BankFileError` with the file and
    the line or element, which only they know.
    """


class BankFormat(StrEnum):
    """The file formats dpledger reads."""

    CSV = "csv"
    OFX = "ofx"
    MT940 = "mt940"
    CAMT053 = "camt053"
    OPEN_BANKING = "openbanking"


class Direction(StrEnum):
    """Which way the money moved, seen from the account holder: in (credit) or out (debit)."""

    CREDIT = "credit"
    DEBIT = "debit"


class EntryStatus(StrEnum):
    """Whether the bank has booked the line.

    ``PENDING`` lines may still change or vanish and are replaceable; ``INFO`` lines are for
    information only and were never booked (camt.053 ``INFO``).
    """

    BOOKED = "booked"
    PENDING = "pending"
    INFO = "info"


class BalanceAssertion(BaseModel):
    """A balance the bank states for a date: later compared with the ledger's bank balance.

    ``kind`` says where it came from (``"OPBD"``, ``"CLBD"``, ``":60F:"``, ``"LEDGERBAL"``,
    ``"running balance"``), because banks differ on whether the date is the start or the end of
    that day.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    date: date
    balance: Money
    kind: str = Field(min_length=1)


class SkippedEntry(BaseModel):
    """A line that was read but is not a transaction (for example a zero-amount line).

    Skipping is never silent: the statement lists each skipped line and why.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    location: str
    reason: str


def normalise_text(text: str | None) -> str:
    """``text`` in Unicode NFC with runs of whitespace collapsed to one space, stripped."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _none_if_blank(value: object) -> object:
    if isinstance(value, str):
        text = normalise_text(value)
        return text or None
    return value


class BankTransaction(BaseModel):
    """One line of a bank statement, normalised.

    ``amount`` is unsigned and above zero; :attr:`direction` gives the sign and
    :attr:`signed_pence` the signed value. ``booking_date`` is required for a booked line; a
    pending card line may have none yet. ``ordinal`` is set by :class:`BankStatement`: it counts
    earlier lines of the same statement with the same :attr:`base_key`, in file order, so two
    genuine identical payments on one day get different :attr:`dedup_key` values
    (``legacy_ordinal`` does the same for :attr:`legacy_base_key`).

    ``bank_transaction_id`` is an id the bank says is unique and immutable (Open Banking
    ``TransactionId``, a CSV id column); ``bank_reference`` is the bank's reference for the line,
    which is the line's key only when ``reference_is_unique`` says the bank assigns it to this
    line alone (camt.053 ``AcctSvcrRef``, OFX ``FITID``). A reference that is not (an MT940 bank
    reference, which some banks number per statement; a CSV reference column, often the payer's
    reference repeated on every payment) is kept but never keys the line.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    booking_date: date | None
    value_date: date | None = None
    amount: Money
    direction: Direction
    status: EntryStatus = EntryStatus.BOOKED
    description: str = ""
    counterparty: str | None = None
    transaction_type: str | None = None
    bank_transaction_id: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    running_balance: Money | None = None
    is_reversal: bool = False
    source_location: str = Field(min_length=1)
    reference_is_unique: bool = False
    ordinal: int = Field(default=0, ge=0)
    legacy_ordinal: int = Field(default=0, ge=0)

    @field_validator("description", mode="before")
    @classmethod
    def _tidy_description(cls, value: object) -> object:
        return normalise_text(value) if isinstance(value, str) else value

    @field_validator(
        "counterparty",
        "transaction_type",
        "bank_transaction_id",
        "bank_reference",
        "end_to_end_id",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return _none_if_blank(value)

    @field_validator("amount")
    @classmethod
    def _amount_above_zero(cls, value: Money) -> Money:
        if not value.is_positive():
            raise ValueError(f"amount must be above zero (the sign is in direction), got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BankTransaction:
        if self.status is EntryStatus.BOOKED and self.booking_date is None:
            raise ValueError("a booked line needs a booking date")
        if (
            self.running_balance is not None
            and self.running_balance.currency != self.amount.currency
        ):
            raise ValueError(
                f"running balance is in {self.running_balance.currency} "
                f"but the amount is in {self.amount.currency}"
            )
        return self

    @property
    def currency(self) -> str:
        """The ISO 4217 code of :attr:`amount`."""
        return self.amount.currency

    @property
    def signed_pence(self) -> int:
        """The amount in minor units, positive for a credit and negative for a debit."""
        return self.amount.pence if self.direction is Direction.CREDIT else -self.amount.pence

    @property
    def signed_amount(self) -> Money:
        """The amount as signed :class:`Money` (negative for a debit)."""
        return Money(self.signed_pence, self.currency)

    @property
    def legacy_fingerprint(self) -> str:
        """Legacy: the digest earlier versions keyed lines without an id or reference by.

        A digest of booking date, direction, amount, currency, description (case-folded) and
        running balance. It is no longer a key, because banks tidy descriptions and a late line
        shifts the running balances between downloads; it is kept only to compute
        :attr:`earlier_keys`, so that lines recorded under it are found again.
        """
        balance = "-" if self.running_balance is None else str(self.running_balance.pence)
        parts = (
            self.booking_date.isoformat() if self.booking_date else "-",
            self.direction.value,
            str(self.amount.pence),
            self.currency,
            self.description.casefold(),
            balance,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def day_key(self) -> str:
        """The line as its booking date, direction, amount and currency, the facts a bank never
        changes between downloads: ``day:2026-04-06:debit:20000:GBP``.

        ``:reversal`` is added for a bank reversal and ``:pending`` or ``:info`` for a line the
        bank has not booked, so such a line is never numbered among the booked ones (a pending
        line that vanishes must not shift the booked lines' ordinals).
        """
        parts = [
            "day",
            self.booking_date.isoformat() if self.booking_date else "undated",
            self.direction.value,
            str(self.amount.pence),
            self.currency,
        ]
        if self.is_reversal:
            parts.append("reversal")
        if self.status is not EntryStatus.BOOKED:
            parts.append(self.status.value)
        return ":".join(parts)

    @property
    def base_key(self) -> str:
        """The de-duplication key before the ordinal.

        ``id:<bank transaction id>``; else ``ref:<bank reference>`` when the bank says the
        reference identifies the line (:attr:`reference_is_unique`); else :attr:`day_key`.
        """
        if self.bank_transaction_id:
            return f"id:{self.bank_transaction_id}"
        if self.bank_reference and self.reference_is_unique:
            return f"ref:{self.bank_reference}"
        return self.day_key

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dedup_key(self) -> str:
        """The key that identifies this line across repeated imports of overlapping files.

        ``id:<bank transaction id>``, else ``ref:<bank reference>`` for a reference the bank says
        is unique, else ``day:<date>:<direction>:<pence>:<currency>#<ordinal>``. An ``id:``/``ref:``
        key gets ``#<ordinal>`` only when the same id or reference appears more than once in one
        statement (which a bank should never do, but then no line is lost). See "The
        de-duplication key" in ``docs/bankfeeds.md``.
        """
        base = self.base_key
        if base.startswith("day:") or self.ordinal:
            return f"{base}#{self.ordinal}"
        return base

    @property
    def legacy_base_key(self) -> str:
        """Legacy: the key before the ordinal as versions before the ``day:`` key gave it:
        ``id:``, else ``ref:<any bank reference>``, else ``fp:<legacy fingerprint>``."""
        if self.bank_transaction_id:
            return f"id:{self.bank_transaction_id}"
        if self.bank_reference:
            return f"ref:{self.bank_reference}"
        return f"fp:{self.legacy_fingerprint}"

    @property
    def earlier_keys(self) -> tuple[str, ...]:
        """The keys earlier versions gave this same line, where they differ from
        :attr:`dedup_key`: ``fp:<legacy fingerprint>#<n>`` or ``ref:<bank reference>``.

        A store may hold the line under one of these. An importer that does not find
        :attr:`dedup_key` looks each one up; a line found under an earlier key is the same line
        only if it has the same booking date, direction, amount and reversal flag (a reused
        payer's reference gave two payments the same ``ref:`` key), and otherwise is another
        line, not a conflict.
        """
        base = self.legacy_base_key
        numbered = base.startswith("fp:") or self.legacy_ordinal
        legacy = f"{base}#{self.legacy_ordinal}" if numbered else base
        return () if legacy == self.dedup_key else (legacy,)


class BankStatement(BaseModel):
    """One account's lines from one file, with the balances the bank states.

    A file holding several accounts or statements (OFX with several ``STMTRS``, camt.053 with
    several ``Stmt``, MT940 with several messages, a bulk Open Banking response) gives several
    statements. Each transaction's ``ordinal`` is (re)assigned here, in file order.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    source_file: str
    format: BankFormat
    account_id: str | None = None
    statement_id: str | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    opening_balance: BalanceAssertion | None = None
    closing_balance: BalanceAssertion | None = None
    period_start: date | None = None
    period_end: date | None = None
    transactions: tuple[BankTransaction, ...] = ()
    skipped: tuple[SkippedEntry, ...] = ()

    @field_validator("statement_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return _none_if_blank(value)

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_key(cls, value: object) -> object:
        value = _none_if_blank(value)
        return account_key(value) if isinstance(value, str) else value

    @field_validator("transactions")
    @classmethod
    def _number_duplicates(cls, value: tuple[BankTransaction, ...]) -> tuple[BankTransaction, ...]:
        # The ordinal is a property of the line's position in its statement, so the statement
        # assigns it: a parser cannot get it wrong.
        seen: Counter[str] = Counter()
        seen_before: Counter[str] = Counter()
        numbered = []
        for transaction in value:
            key, legacy = transaction.base_key, transaction.legacy_base_key
            ordinal, legacy_ordinal = seen[key], seen_before[legacy]
            if ordinal != transaction.ordinal or legacy_ordinal != transaction.legacy_ordinal:
                # Copied only when a number changes: most lines keep 0 and are shared as they are.
                update = {"ordinal": ordinal, "legacy_ordinal": legacy_ordinal}
                transaction = transaction.model_copy(update=update)
            numbered.append(transaction)
            seen[key] += 1
            seen_before[legacy] += 1
        return tuple(numbered)

    @model_validator(mode="after")
    def _one_currency(self) -> BankStatement:
        for transaction in self.transactions:
            if transaction.currency != self.currency:
                raise ValueError(
                    f"{transaction.source_location}: amount in {transaction.currency} "
                    f"but the statement is in {self.currency}"
                )
        for assertion in (self.opening_balance, self.closing_balance):
            if assertion is not None and assertion.balance.currency != self.currency:
                raise ValueError(
                    f"{assertion.kind} balance in {assertion.balance.currency} "
                    f"but the statement is in {self.currency}"
                )
        return self

    def booked_total(self) -> Money:
        """The signed sum of the booked lines (pending and info lines do not move the balance)."""
        pence = sum(t.signed_pence for t in self.transactions if t.status is EntryStatus.BOOKED)
        return Money(pence, self.currency)

    def unexplained_difference(self) -> Money | None:
        """Closing balance minus (opening balance plus booked lines), or ``None`` without both.

        Zero when the statement adds up. Parsers do not refuse a statement that does not add up
        (many banks' test files do not); the ledger reports it as a reconciliation break.
        """
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.closing_balance.balance - self.opening_balance.balance - self.booked_total()


def exact_money(value: Decimal, currency: str) -> Money:
    """``value`` (major units) as :class:`Money`, refusing what would need rounding.

    Trailing zeros are exact (``18.150`` is 18.15) and accepted; a third non-zero decimal place
    (``12.345``) is refused rather than rounded. Raises :class:`FieldError`.
    """
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise FieldError(f"{value} is not a plausible amount")
    try:
        return Money(value, currency)
    except MoneyError as exc:
        raise FieldError(exc.message) from exc


_PLAIN_DECIMAL = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d{1,15})(?:[.,](?P<frac>\d{0,15}))?$")


def decimal_from_text(text: str, *, what: str = "amount") -> Decimal:
    """A plain decimal written in a bank file (``"12.34"``, ``"-5"``, ``"9,"``) as ``Decimal``.

    Accepts an optional sign, up to 15 integer digits and one ``.`` or ``,`` decimal separator.
    Anything else (exponents, thousands separators, currency symbols) raises :class:`FieldError`.
    """
    match = _PLAIN_DECIMAL.match(text.strip())
    if match is None:
        raise FieldError(f"{what} {text.strip()!r} is not a number")
    digits = f"{match['sign']}{match['int']}.{match['frac'] or '0'}"
    try:
        return Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise FieldError(f"{what} {text!r} is not a number") from exc


def parse_iso_date(text: str, *, what: str = "date") -> date:
    """The calendar date of an ISO 8601 date or date-time, as written (no time-zone shift).

    ``2023-10-09``, ``2023-10-09T02:00:04.000Z`` and ``2025-07-24T06:10:29.000000000`` all give
    9/24 October. The bank's own date is kept: converting to UTC could move a line to another day.
    """
    stripped = text.strip()
    match = _ISO_DATE.match(stripped)
    if match is None:
        raise FieldError(f"{what} {stripped!r} is not an ISO 8601 date")
    try:
        return date.fromisoformat(match["date"])
    except ValueError as exc:
        raise FieldError(f"{what} {stripped!r} is not a valid date: {exc}") from exc


_ISO_DATE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def balances_from_running(
    transactions: tuple[BankTransaction, ...] | list[BankTransaction],
) -> tuple[BalanceAssertion, BalanceAssertion] | None:
    """Opening and closing balances implied by the bank's running balances, if they chain.

    For formats without statement balances (CSV exports, Open Banking) the running balance after
    each booked line is the bank's own statement. When every booked line has one and they chain
    (each balance is the previous one plus the line, whether the file is oldest-first or
    newest-first), the balance before the earliest line and after the latest line are returned,
    dated with those lines' booking dates. Otherwise ``None``: nothing is guessed.
    """
    booked = [t for t in transactions if t.status is EntryStatus.BOOKED]
    if not booked or any(t.running_balance is None for t in booked):
        return None
    balances = [t.running_balance.pence for t in booked if t.running_balance is not None]
    moves = [t.signed_pence for t in booked]
    pairs = range(1, len(booked))
    oldest_first = all(balances[i] == balances[i - 1] + moves[i] for i in pairs)
    newest_first = len(booked) > 1 and all(
        balances[i - 1] == balances[i] + moves[i - 1] for i in pairs
    )
    if oldest_first and newest_first:
        # Both orders chain (e.g. +10 then -10): only the dates can tell which end is which.
        first_date, last_date = booked[0].booking_date, booked[-1].booking_date
        assert first_date is not None  # booked lines have dates
        assert last_date is not None
        oldest_first, newest_first = first_date < last_date, first_date > last_date
    if oldest_first == newest_first:
        return None
    if oldest_first:
        first, last = booked[0], booked[-1]
        opening, closing = balances[0] - moves[0], balances[-1]
    else:
        first, last = booked[-1], booked[0]
        opening, closing = balances[-1] - moves[-1], balances[0]
    currency = first.currency
    assert first.booking_date is not None  # booked lines have dates
    assert last.booking_date is not None
    return (
        BalanceAssertion(
            date=first.booking_date, balance=Money(opening, currency), kind="running balance"
        ),
        BalanceAssertion(
            date=last.booking_date, balance=Money(closing, currency), kind="running balance"
        ),
    )


_UK_KEY = re.compile(r"^\d{2}-\d{2}-\d{2} \d{8,10}$")
_IBAN_KEY = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def account_key(identifier: str) -> str:
    """A statement's account identifier, written as :func:`~dpledger.domain.bankids.bank_key`
    writes it when it is a UK account or an IBAN (``"GB33BUKB20201555555555"`` is
    ``"20-20-15 55555555"``, MT940's ``"NL20INGB0001234567EUR"`` is ``"NL20INGB0001234567"``).

    Anything else (an Open Banking account id, a bank's own account number, an IBAN whose check
    digits are wrong) is kept as written: the import refuses what names no account, saying so.
    """
    text = normalise_text(identifier)
    try:
        key = bank_key(text)
    except ValidationError:
        return text
    return key if _UK_KEY.match(key) or _IBAN_KEY.match(key) else text


def uk_account(sort_code: str, account_number: str) -> str:
    """A UK sort code and account number as ``"12-34-56 12345678"``.

    Accepts the sort code with or without dashes or spaces; anything that is not six digits is
    kept as written, joined by a space.
    """
    digits = re.sub(r"[\s-]", "", sort_code)
    number = account_number.strip()
    if re.fullmatch(r"\d{6}", digits):
        return f"{digits[:2]}-{digits[2:4]}-{digits[4:]} {number}".strip()
    return f"{sort_code.strip()} {number}".strip()
