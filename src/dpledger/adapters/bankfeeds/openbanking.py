"""UK Open Banking account transactions (OBReadTransaction6), v3.1 and v4 JSON responses.

Only a transactions response (``GET /accounts/{AccountId}/transactions`` or the bulk
``GET /transactions``) is a statement. A balances, accounts or statements response is refused
with a message saying what it is and which response is needed. The JSON must be strict (RFC 8259):
a raw tab inside a string, a trailing comma, a duplicated key or ``NaN`` is refused with its line
and column, or its JSON pointer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final, NoReturn

from dpledger.adapters.bankfeeds.model import (
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
    FieldError,
    SkippedEntry,
    balances_from_running,
    exact_money,
    parse_iso_date,
)
from dpledger.adapters.bankfeeds.reading import (
    build_statement,
    build_transaction,
    check_size,
    decode,
    refuse,
)
from dpledger.domain.errors import BankFileError
from dpledger.domain.money import Money

_AMOUNT: Final = re.compile(r"^\d{1,13}(?:\.\d{1,5})?$")
_CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
_STATUS: Final = {
    "Booked": EntryStatus.BOOKED,
    "BOOK": EntryStatus.BOOKED,
    "Pending": EntryStatus.PENDING,
    "PDNG": EntryStatus.PENDING,
    "FUTR": EntryStatus.PENDING,
    "INFO": EntryStatus.INFO,
}
_REJECTED: Final = frozenset({"Rejected", "RJCT"})
_DIRECTION: Final = {
    "Credit": Direction.CREDIT,
    "CRDT": Direction.CREDIT,
    "Debit": Direction.DEBIT,
    "DBIT": Direction.DEBIT,
}
_OTHER_RESPONSES: Final = {
    "Balance": "an account balances response (OBReadBalance1, GET /accounts/{AccountId}/balances)",
    "Account": "an accounts response (OBReadAccount6, GET /accounts)",
    "Statement": "a statements response (OBReadStatement2, GET /accounts/{AccountId}/statements)",
    "Beneficiary": "a beneficiaries response",
    "DirectDebit": "a direct debits response",
    "StandingOrder": "a standing orders response",
    "ScheduledPayment": "a scheduled payments response",
    "Party": "a party response",
    "Product": "a products response",
    "Offer": "an offers response",
}


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _load(text: str, filename: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=Decimal,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        reason = exc.msg
        if reason.startswith("Invalid control character"):
            reason = "a raw control character (such as a tab) inside a string"
        refuse(
            filename,
            f"the JSON is malformed: {reason}",
            location=f"line {exc.lineno}, column {exc.colno}",
            fix="the response must be strict JSON (no trailing commas, no raw tabs in strings)",
        )
    except RecursionError:
        refuse(filename, "the JSON is nested too deeply")
    except ValueError as exc:
        refuse(filename, f"the JSON is malformed: {exc}")


class _Reader:
    """Typed access to a JSON value, refusing with the JSON pointer of what is wrong."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, pointer: str, reason: str) -> BankFileError:
        """The error for the value at ``pointer``."""
        return BankFileError(reason, file=self.filename, location=f"field {pointer}")

    def object(self, value: object, pointer: str) -> dict[str, Any]:
        """``value`` when it is a JSON object."""
        if not isinstance(value, dict):
            raise self.fail(pointer, "must be an object")
        return value

    def string(self, parent: dict[str, Any], key: str, pointer: str, *, required: bool) -> str:
        """``parent[key]`` as a string ("" when absent and not required)."""
        value = parent.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{pointer}/{key}", "must be a non-empty string")
        return value.strip()

    def amount(self, parent: dict[str, Any], pointer: str) -> Money:
        """An ``{"Amount": "10.00", "Currency": "GBP"}`` object as unsigned :class:`Money`."""
        holder = self.object(parent.get("Amount"), f"{pointer}/Amount")
        text = self.string(holder, "Amount", f"{pointer}/Amount", required=True)
        currency = self.string(holder, "Currency", f"{pointer}/Amount", required=True)
        if not _AMOUNT.match(text):
            raise self.fail(f"{pointer}/Amount/Amount", f"{text!r} is not an unsigned amount")
        if not _CURRENCY.match(currency):
            raise self.fail(f"{pointer}/Amount/Currency", f"{currency!r} is not a currency code")
        try:
            return exact_money(Decimal(text), currency)
        except FieldError as exc:
            raise self.fail(f"{pointer}/Amount/Amount", str(exc)) from exc

    def direction(self, parent: dict[str, Any], pointer: str) -> Direction:
        """The ``CreditDebitIndicator`` (``Credit``/``Debit``, or v4 ``CRDT``/``DBIT``)."""
        text = self.string(parent, "CreditDebitIndicator", pointer, required=True)
        direction = _DIRECTION.get(text)
        if direction is None:
            raise self.fail(f"{pointer}/CreditDebitIndicator", f"{text!r} is not Credit or Debit")
        return direction

    def date(
        self, parent: dict[str, Any], key: str, pointer: str, *, required: bool
    ) -> date | None:
        """An ISO 8601 date-time field's calendar date, as the bank wrote it."""
        text = self.string(parent, key, pointer, required=required)
        if not text:
            return None
        try:
            return parse_iso_date(text, what=key)
        except FieldError as exc:
            raise self.fail(f"{pointer}/{key}", str(exc)) from exc


# --- the file -----------------------------------------------------------------------------------


@dataclass
class _Account:
    """One account's lines in the response, in order."""

    transactions: list[BankTransaction] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)


def parse_open_banking(data: bytes, *, filename: str) -> list[BankStatement]:
    """Read an OBReadTransaction6 response: one statement per ``AccountId`` in it.

    Rejected transactions (``Rejected``/``RJCT``) moved no money and are listed as skipped. An
    empty ``Transaction`` array (a period without activity) gives an empty list.
    """
    check_size(data, filename)
    document = _load(decode(data, filename), filename)
    reader = _Reader(filename)
    if not isinstance(document, dict) or not isinstance(document.get("Data"), dict):
        refuse(filename, 'this is not an Open Banking response: no "Data" object')
    body: dict[str, Any] = document["Data"]
    if "Transaction" not in body:
        _refuse_other_response(body, filename)
    items = body["Transaction"]
    if not isinstance(items, list):
        raise reader.fail("/Data/Transaction", "must be an array")
    accounts: dict[str, _Account] = {}
    for index, item in enumerate(items):
        pointer = f"/Data/Transaction/{index}"
        entry = reader.object(item, pointer)
        account = accounts.setdefault(
            reader.string(entry, "AccountId", pointer, required=True), _Account()
        )
        line = _transaction(reader, entry, pointer)
        if isinstance(line, SkippedEntry):
            account.skipped.append(line)
            currency = _text_at(entry, "Amount", "Currency")
            if currency and _CURRENCY.match(currency):
                account.currencies.append(currency)
        else:
            account.transactions.append(line)
            account.currencies.append(line.currency)
    return [_statement(key, account, filename) for key, account in accounts.items()]


def _refuse_other_response(body: dict[str, Any], filename: str) -> NoReturn:
    for key, what in _OTHER_RESPONSES.items():
        if key in body:
            refuse(
                filename,
                f"this is {what}, not a list of transactions",
                location=f"field /Data/{key}",
                fix=(
                    "import the transactions response (OBReadTransaction6, "
                    "GET /accounts/{AccountId}/transactions)"
                ),
            )
    refuse(filename, 'the response has no "Data"."Transaction" array', location="field /Data")


def _transaction(
    reader: _Reader, entry: dict[str, Any], pointer: str
) -> BankTransaction | SkippedEntry:
    status_text = reader.string(entry, "Status", pointer, required=True)
    if status_text in _REJECTED:
        return SkippedEntry(location=f"field {pointer}", reason="the bank rejected it")
    status = _STATUS.get(status_text)
    if status is None:
        raise reader.fail(f"{pointer}/Status", f"unknown status {status_text!r}")
    money = reader.amount(entry, pointer)
    direction = reader.direction(entry, pointer)
    if money.is_zero():
        return SkippedEntry(location=f"field {pointer}", reason="the amount is zero")
    return build_transaction(
        reader.filename,
        f"field {pointer}",
        booking_date=reader.date(entry, "BookingDateTime", pointer, required=True),
        value_date=reader.date(entry, "ValueDateTime", pointer, required=False),
        amount=money,
        direction=direction,
        status=status,
        description=reader.string(entry, "TransactionInformation", pointer, required=False),
        counterparty=_counterparty(entry, direction),
        transaction_type=_bank_code(entry),
        bank_transaction_id=reader.string(entry, "TransactionId", pointer, required=False),
        end_to_end_id=reader.string(entry, "TransactionReference", pointer, required=False),
        running_balance=_running_balance(reader, entry, pointer, money.currency),
    )


def _text_at(entry: dict[str, Any], *path: str) -> str | None:
    value: Any = entry
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return (value.strip() or None) if isinstance(value, str) else None


def _counterparty(entry: dict[str, Any], direction: Direction) -> str | None:
    account = "DebtorAccount" if direction is Direction.CREDIT else "CreditorAccount"
    return _text_at(entry, account, "Name") or _text_at(entry, "MerchantDetails", "MerchantName")


def _bank_code(entry: dict[str, Any]) -> str | None:
    code = _text_at(entry, "BankTransactionCode", "Code")
    sub = _text_at(entry, "BankTransactionCode", "SubCode")
    if code:
        return f"{code}/{sub}" if sub else code
    return _text_at(entry, "ProprietaryBankTransactionCode", "Code")


def _running_balance(
    reader: _Reader, entry: dict[str, Any], pointer: str, currency: str
) -> Money | None:
    if entry.get("Balance") is None:
        return None
    where = f"{pointer}/Balance"
    balance = reader.object(entry["Balance"], where)
    money = reader.amount(balance, where)
    if money.currency != currency:
        raise reader.fail(f"{where}/Amount/Currency", f"differs from the amount's {currency}")
    return -money if reader.direction(balance, where) is Direction.DEBIT else money


def _statement(account_id: str, account: _Account, filename: str) -> BankStatement:
    if not account.currencies:
        refuse(filename, f"no transaction of account {account_id!r} says its currency")
    balances = balances_from_running(account.transactions)
    return build_statement(
        filename,
        format=BankFormat.OPEN_BANKING,
        account_id=account_id,
        currency=account.currencies[0],
        opening_balance=balances[0] if balances else None,
        closing_balance=balances[1] if balances else None,
        transactions=tuple(account.transactions),
        skipped=tuple(account.skipped),
    )
