"""SWIFT MT940 statements and MT942 interim reports, with the ``mt-940`` library (BSD-3-Clause).

The file is split into messages and tags here, line by line, so that every refusal names its line
and so that the statement's structure can be checked (one ``:25:``, one opening and one closing
balance, statement lines between them). ``mt-940`` then parses each ``:61:`` statement line (value
and entry dates, debit/credit mark, amount, type, references). Its lenient habits are not
inherited: 30 February is refused, not moved to the 29th, and a second ``:25:`` is refused, not
taken as the account.

``RC`` (reversal of a credit) is money out and ``RD`` (reversal of a debit) money in, both marked
as reversals. MT942 lines are interim (the next MT940 repeats them once booked), so they are kept
as ``PENDING``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

import mt940.models
import mt940.tags

from dpledger.adapters.bankfeeds.model import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
    FieldError,
    SkippedEntry,
    decimal_from_text,
    exact_money,
    normalise_text,
    uk_account,
)
from dpledger.adapters.bankfeeds.reading import (
    build_statement,
    build_transaction,
    check_size,
    decode,
    refuse,
)
from dpledger.domain.errors import BankFileError

_TAG: Final = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS):(?P<value>.*)$")
_KNOWN_TAGS: Final = frozenset(
    {"13", "13D", "20", "21", "25", "25P", "28", "28C", "34F", "60", "60F", "60M", "61", "62"}
    | {"62F", "62M", "64", "65", "86", "90C", "90D", "NS"}
)
_ONCE: Final = ("20", "21", "25", "28", "13", "64", "90C", "90D")
_BALANCE: Final = re.compile(
    r"^(?P<mark>[CD])(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<ccy>[A-Z]{3})(?P<amount>\d{1,15},\d*)$"
)
_SUM: Final = re.compile(r"^(?P<count>\d{1,5})(?P<ccy>[A-Z]{3})(?P<amount>\d{1,15},\d*)$")
_SWIFT_AMOUNT: Final = re.compile(r"^\d{1,15},\d*$")
_NO_REFERENCE: Final = frozenset({"", "NONREF"})
_MARKS: Final = {
    "C": (Direction.CREDIT, False),
    "D": (Direction.DEBIT, False),
    "RC": (Direction.DEBIT, True),
    "RD": (Direction.CREDIT, True),
}


@dataclass
class _Field:
    """One tag and its lines (the first line holds the text after the tag)."""

    tag: str
    line: int
    lines: list[str]

    @property
    def family(self) -> str:
        """The tag without its letter for balances (``60F`` and ``60M`` are both ``60``)."""
        return self.tag[:2] if self.tag[:2] in {"60", "62", "28", "13"} else self.tag

    @property
    def value(self) -> str:
        """The tag's text, lines joined by newlines."""
        return "\n".join(self.lines).strip()

    @property
    def where(self) -> str:
        """The location of this tag for an error."""
        return f"line {self.line} (:{self.tag}:)"


@dataclass
class _Message:
    """One statement (from ``:20:`` to its end)."""

    line: int
    fields: list[_Field] = field(default_factory=list)


# --- splitting the file -------------------------------------------------------------------------


def _messages(text: str, filename: str) -> list[_Message]:
    """The file's messages, with SWIFT envelopes, SOH/ETX and preamble lines removed."""
    messages: list[_Message] = []
    current: _Message | None = None
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        line = raw.strip("\x01\x03").rstrip()
        if line == "-" or line.startswith("-}"):
            current = None  # end of a message; a new envelope may follow on the same line
            continue
        if line.startswith("{"):
            # SWIFT FIN envelope {1:..}{2:..}{3:..}{4: ; the text block follows on later lines.
            start = line.find("{4:")
            line = line[start + 3 :] if start >= 0 else ""
        match = _TAG.match(line)
        if match and match["tag"] in _KNOWN_TAGS:
            if match["tag"] == "20":
                current = _Message(number)
                messages.append(current)
            elif current is None:
                refuse(
                    filename,
                    f"tag :{match['tag']}: is outside a statement (no :20: before it)",
                    location=f"line {number}",
                )
            current.fields.append(_Field(match["tag"], number, [match["value"]]))
        elif line.strip() and current is not None and current.fields:
            current.fields[-1].lines.append(line)  # continuation of the previous tag
        # Anything else is blank or a bank's preamble before :20: (e.g. ABN AMRO's "940").
    if not messages:
        refuse(filename, "this is not an MT940 file: no statement (:20:) found")
    return messages


# --- one message --------------------------------------------------------------------------------


@dataclass
class _Line:
    """A ``:61:`` statement line as read, with the ``:86:``/``:NS:`` text that follows it."""

    item: _Field
    mark: str
    amount: Decimal
    parsed: dict[str, Any]
    details: str = ""
    non_swift: str = ""


@dataclass
class _Builder:
    """The statement being assembled from one message's tags."""

    filename: str
    message: _Message
    interim: bool
    currency: str | None = None
    account: str | None = None
    reference: str | None = None
    opening: BalanceAssertion | None = None
    closing: BalanceAssertion | None = None
    lines: list[_Line] = field(default_factory=list)
    sums: dict[str, tuple[int, Decimal]] = field(default_factory=dict)

    def fail(self, at: _Field, reason: str) -> BankFileError:
        """The error for a problem at tag ``at``."""
        return BankFileError(reason, file=self.filename, location=at.where)


def _check_structure(message: _Message, filename: str) -> bool:
    """Refuse a message with a missing or repeated tag; True for an MT942 interim report."""
    seen: dict[str, _Field] = {}
    for item in message.fields:
        family = item.family
        if family in _ONCE or family in {"60", "62"}:
            if family in seen:
                refuse(
                    filename,
                    f"tag :{item.tag}: appears a second time in the statement that starts on "
                    f"line {message.line} (first on line {seen[family].line})",
                    location=item.where,
                    fix="the file is damaged or two statements are run together",
                )
            seen[family] = item
    counts = Counter(item.family for item in message.fields)
    where = f"line {message.line} (:20:)"
    if counts["25"] == 0:
        refuse(filename, "the statement has no account identification (:25:)", location=where)
    interim = counts["60"] == 0 and counts["34F"] > 0
    if not interim and counts["60"] == 0:
        refuse(filename, "the statement has no opening balance (:60F:/:60M:)", location=where)
    if not interim and counts["62"] == 0:
        refuse(filename, "the statement has no closing balance (:62F:/:62M:)", location=where)
    return interim


def _statement(message: _Message, filename: str) -> BankStatement:
    builder = _Builder(filename, message, _check_structure(message, filename))
    previous: str | None = None
    for item in message.fields:
        _apply(builder, item, previous)
        previous = item.family if item.family not in {"86", "NS"} else previous
    return _finish(builder)


def _apply(builder: _Builder, item: _Field, previous: str | None) -> None:
    family = item.family
    if family == "20":
        builder.reference = item.value
    elif family == "28" and builder.reference:
        builder.reference = f"{builder.reference}/{item.value}"
    elif family == "25":
        builder.account = item.value
    elif family == "60":
        builder.opening = _balance(builder, item)
        builder.currency = builder.opening.balance.currency
    elif family == "34F":
        builder.currency = _floor_limit_currency(builder, item)
    elif family == "61":
        _statement_line(builder, item)
    elif family in {"86", "NS"}:
        _details(builder, item, previous)
    elif family == "62":
        builder.closing = _balance(builder, item)
    elif family in {"64", "65"}:
        _balance(builder, item)  # available balances: checked, not kept
    elif family in {"90C", "90D"}:
        builder.sums[family] = _sum(builder, item)


def _balance(builder: _Builder, item: _Field) -> BalanceAssertion:
    match = _BALANCE.match(item.value)
    if match is None:
        raise builder.fail(
            item, f"malformed balance {item.value!r} (expected e.g. C240131GBP12,34)"
        )
    try:
        when = date(2000 + int(match["yy"]), int(match["mm"]), int(match["dd"]))
        amount = decimal_from_text(match["amount"], what="balance")
        money = exact_money(-amount if match["mark"] == "D" else amount, match["ccy"])
    except (ValueError, FieldError) as exc:
        raise builder.fail(item, f"malformed balance {item.value!r}: {exc}") from exc
    if builder.currency is not None and money.currency != builder.currency:
        raise builder.fail(
            item, f"balance in {money.currency} but the statement is in {builder.currency}"
        )
    if item.family == "60" and builder.lines:
        raise builder.fail(item, "the opening balance comes after statement lines")
    return BalanceAssertion(date=when, balance=money, kind=f":{item.tag}:")


def _floor_limit_currency(builder: _Builder, item: _Field) -> str:
    currency = item.value[:3]
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise builder.fail(item, f"malformed floor limit {item.value!r}")
    return currency


def _sum(builder: _Builder, item: _Field) -> tuple[int, Decimal]:
    match = _SUM.match(item.value)
    if match is None:
        raise builder.fail(item, f"malformed number and sum of entries {item.value!r}")
    return int(match["count"]), decimal_from_text(match["amount"], what="sum")


_LIB_STATEMENT_LINE: Final = mt940.tags.TAG_BY_ID[61]
_LIB_NON_SWIFT: Final = mt940.tags.TAG_BY_ID["NS"]


def _lib_fields(tag: mt940.tags.Tag, value: str) -> dict[str, Any] | None:
    """The named groups of ``tag``'s pattern in ``value``, or ``None`` when it does not match.

    The tag's own ``parse`` would do the same but log the raw statement text at ERROR level on a
    mismatch, and bank text (names, references) must not reach the logs.
    """
    match = tag.re.match(value)
    return match.groupdict() if match else None


def _statement_line(builder: _Builder, item: _Field) -> None:
    if builder.closing is not None:
        raise builder.fail(item, "a statement line comes after the closing balance")
    if builder.opening is None and not builder.interim:
        raise builder.fail(item, "a statement line comes before the opening balance")
    context = mt940.models.Transactions()
    raw = _lib_fields(_LIB_STATEMENT_LINE, item.value)
    if raw is None:
        raise builder.fail(item, "malformed statement line")
    amount_text = str(raw.get("amount") or "")
    if not _SWIFT_AMOUNT.match(amount_text):
        raise builder.fail(item, f"malformed amount {amount_text!r} (expected e.g. 12,34)")
    mark = str(raw.get("status") or "").upper()
    if mark not in _MARKS:
        raise builder.fail(item, f"unknown debit/credit mark {mark!r}")
    try:
        parsed = _LIB_STATEMENT_LINE(context, raw)
    except (ValueError, ArithmeticError) as exc:
        raise builder.fail(item, f"invalid value or entry date: {exc}") from exc
    builder.lines.append(_Line(item, mark, decimal_from_text(amount_text), parsed))


def _details(builder: _Builder, item: _Field, previous: str | None) -> None:
    # :86: after a statement line describes it; elsewhere it is statement-level information.
    if previous != "61" or not builder.lines:
        return
    line = builder.lines[-1]
    if item.family == "NS":
        raw = _lib_fields(_LIB_NON_SWIFT, item.value)
        if raw is None:
            raise builder.fail(item, "malformed :NS: field")
        parsed = _LIB_NON_SWIFT(mt940.models.Transactions(), raw)
        text = normalise_text(str(parsed.get("non_swift_text") or ""))
        line.non_swift = " ".join(filter(None, (line.non_swift, text)))
    else:
        line.details = " ".join(filter(None, (line.details, item.value)))


# --- assembling ---------------------------------------------------------------------------------


def _finish(builder: _Builder) -> BankStatement:
    start = builder.message.fields[0]
    if builder.currency is None:
        raise builder.fail(start, "the statement has no currency")
    transactions: list[BankTransaction] = []
    skipped: list[SkippedEntry] = []
    for line in builder.lines:
        transaction = _transaction(builder, line, builder.currency)
        if transaction is None:
            skipped.append(SkippedEntry(location=line.item.where, reason="the amount is zero"))
        else:
            transactions.append(transaction)
    _check_sums(builder, transactions)
    return build_statement(
        builder.filename,
        start.where,
        format=BankFormat.MT940,
        account_id=_account(builder.account, builder.currency),
        statement_id=builder.reference,
        currency=builder.currency,
        opening_balance=builder.opening,
        closing_balance=builder.closing,
        transactions=tuple(transactions),
        skipped=tuple(skipped),
    )


_UK_MT940_ACCOUNT: Final = re.compile(r"^(\d{6})(\d{8})(?:GBP)?$")


def _account(text: str | None, currency: str) -> str | None:
    """The ``:25:`` account. UK banks write it as sort code and account number run together
    (``30995012345678``, sometimes followed by ``GBP``): in a GBP statement that is read as
    ``30-99-50 12345678``. Anything else is left to the statement model (IBANs are normalised
    there)."""
    found = _UK_MT940_ACCOUNT.match(text or "")
    if found and currency == "GBP":
        return uk_account(found[1], found[2])
    return text


def _reference(value: object) -> str | None:
    text = normalise_text(str(value or ""))
    return None if text.upper() in _NO_REFERENCE else text


def _plain(day: date) -> date:
    return date(day.year, day.month, day.day)


def _transaction(builder: _Builder, line: _Line, currency: str) -> BankTransaction | None:
    item, amount = line.item, line.amount
    if amount == 0:
        return None
    try:
        money = exact_money(amount, currency)
    except FieldError as exc:
        raise builder.fail(item, str(exc)) from exc
    parsed = line.parsed
    direction, reversal = _MARKS[line.mark]
    # mt940's dates are date subclasses; plain dates keep the model free of library types.
    value_date = _plain(parsed["date"])
    entry_date = parsed.get("entry_date")
    supplementary = normalise_text(str(parsed.get("extra_details") or ""))
    narrative = line.details or line.non_swift
    return build_transaction(
        builder.filename,
        item.where,
        booking_date=_plain(entry_date) if entry_date else value_date,
        value_date=value_date,
        amount=money,
        direction=direction,
        status=EntryStatus.PENDING if builder.interim else EntryStatus.BOOKED,
        description=" ".join(filter(None, (supplementary, narrative))),
        transaction_type=normalise_text(str(parsed.get("id") or "")),
        # Not the line's key: some banks number it per statement (ING writes 00000000000001 on
        # each statement's first line), so the line is keyed by its day, amount and direction.
        bank_reference=_reference(parsed.get("bank_reference")),
        end_to_end_id=_reference(parsed.get("customer_reference")),
        is_reversal=reversal,
    )


def _check_sums(builder: _Builder, transactions: list[BankTransaction]) -> None:
    """An MT942's :90D:/:90C: count and total must match its lines (a cut-off report fails)."""
    for family, direction in (("90D", Direction.DEBIT), ("90C", Direction.CREDIT)):
        if family not in builder.sums:
            continue
        count, total = builder.sums[family]
        mine = [t for t in transactions if t.direction is direction]
        pence = sum(t.amount.pence for t in mine)
        if count != len(mine) or total * 100 != pence:
            at = next(i for i in builder.message.fields if i.family == family)
            raise builder.fail(
                at,
                f"the report says {count} {direction.value} lines totalling {total} "
                f"but holds {len(mine)} totalling {Decimal(pence) / 100}",
            )


# --- the file -----------------------------------------------------------------------------------


def parse_mt940(data: bytes, *, filename: str, encoding: str = "utf-8") -> list[BankStatement]:
    """Read an MT940 (or MT942) file: one statement per message (``:20:`` … ``-``).

    Raw ``:20:`` files and SWIFT FIN envelopes (``{1:…}{4:`` … ``-}``) are both accepted. The text
    must be valid ``encoding`` (UTF-8 unless told otherwise: a bank's local code page, such as
    ``cp852``, has to be named, never guessed).
    """
    check_size(data, filename)
    text = decode(data, filename, encoding)
    return [_statement(message, filename) for message in _messages(text, filename)]
