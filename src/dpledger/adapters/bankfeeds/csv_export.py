"""UK bank CSV exports: built-in column mappings, and :class:`CsvMapping` for any other bank.

A CSV export has no standard: each bank names its columns differently, signs amounts differently
and writes dates its own way. dpledger never guesses. The header row must match a known export
exactly (:data:`BUILTIN_CSV_MAPPINGS`), or the caller describes the columns with a
:class:`CsvMapping`. Dates are read only with the mapping's formats, day first for every built-in
mapping (``dd/mm/yyyy``); a month-first reading is never tried.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
from dpledger.domain.money import Money

Column = str | int
"""A column named by its header text (matched ignoring case and surrounding spaces) or by its
0-based position (for files without a header row, or an unnamed column)."""

#: How many rows before the header are searched for it (Nationwide puts account details first).
MAX_PREAMBLE_ROWS: Final = 20


class AmountSign(StrEnum):
    """How a single signed amount column is signed."""

    CREDIT_POSITIVE = "credit_positive"
    """Money in is positive, money out negative (most bank accounts)."""
    DEBIT_POSITIVE = "debit_positive"
    """Spending is positive, payments in negative (American Express and some other cards)."""


class CsvMapping(BaseModel):
    """How to read one bank's CSV export.

    Give the amount either as one signed ``amount_column`` or as separate unsigned
    ``debit_column`` and ``credit_column``. With ``credit_flag_column`` the amount is unsigned and
    a flag (``"CR"``) marks money in. ``encoding`` is used only when the file is not valid UTF-8
    (Nationwide exports ISO-8859-1). ``header`` pins the exact column names; without it, only the
    columns the mapping names must be present.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    header: tuple[str, ...] | None = None
    has_header: bool = True
    column_count: int | None = Field(default=None, ge=1)
    skip_lines: int | None = Field(default=None, ge=0)
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str | None = None
    date_column: Column
    date_formats: tuple[str, ...] = Field(default=("%d/%m/%Y",), min_length=1)
    pending_dates: tuple[str, ...] = ()
    amount_column: Column | None = None
    amount_sign: AmountSign = AmountSign.CREDIT_POSITIVE
    debit_column: Column | None = None
    credit_column: Column | None = None
    credit_flag_column: Column | None = None
    credit_flags: tuple[str, ...] = ("CR",)
    description_columns: tuple[Column, ...] = ()
    counterparty_column: Column | None = None
    type_column: Column | None = None
    balance_column: Column | None = None
    id_column: Column | None = None
    reference_column: Column | None = None
    sort_code_column: Column | None = None
    account_column: Column | None = None
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    currency_column: Column | None = None
    thousands_separators: bool = True
    ignore_rows_starting_with: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_amount_scheme(self) -> Self:
        split = (self.debit_column is not None, self.credit_column is not None)
        if self.amount_column is None and split != (True, True):
            raise ValueError("give amount_column, or both debit_column and credit_column")
        if self.amount_column is not None and any(split):
            raise ValueError("give amount_column or debit_column/credit_column, not both")
        if self.credit_flag_column is not None and self.amount_column is None:
            raise ValueError("credit_flag_column needs amount_column")
        return self

    @model_validator(mode="after")
    def _positions_without_header(self) -> Self:
        if not self.has_header:
            if any(isinstance(column, str) for column in self.columns()):
                raise ValueError("without a header row, name columns by position (0, 1, ...)")
            if self.column_count is None:
                raise ValueError("without a header row, say how many columns (column_count)")
        return self

    def columns(self) -> list[Column]:
        """Every column this mapping reads."""
        single = (
            self.date_column,
            self.amount_column,
            self.debit_column,
            self.credit_column,
            self.credit_flag_column,
            self.counterparty_column,
            self.type_column,
            self.balance_column,
            self.id_column,
            self.reference_column,
            self.sort_code_column,
            self.account_column,
            self.currency_column,
        )
        return [c for c in single if c is not None] + list(self.description_columns)


def _header_key(name: str) -> str:
    return name.strip().strip("'").strip().casefold()


def _trimmed(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Header names as compared: normalised, without trailing unnamed columns."""
    keys = [_header_key(name) for name in names]
    while keys and not keys[-1]:
        keys.pop()
    return tuple(keys)


BUILTIN_CSV_MAPPINGS: Final[dict[str, CsvMapping]] = {
    "lloyds": CsvMapping(
        name="Lloyds",
        header=(
            "Transaction Date",
            "Transaction Type",
            "Sort Code",
            "Account Number",
            "Transaction Description",
            "Debit Amount",
            "Credit Amount",
            "Balance",
        ),
        date_column="Transaction Date",
        debit_column="Debit Amount",
        credit_column="Credit Amount",
        description_columns=("Transaction Description",),
        type_column="Transaction Type",
        balance_column="Balance",
        sort_code_column="Sort Code",
        account_column="Account Number",
    ),
    "natwest": CsvMapping(
        name="NatWest",
        header=(
            "Date",
            "Type",
            "Description",
            "Value",
            "Balance",
            "Account Name",
            "Account Number",
        ),
        date_column="Date",
        amount_column="Value",
        description_columns=("Description",),
        type_column="Type",
        balance_column="Balance",
        account_column="Account Number",
    ),
    "nationwide": CsvMapping(
        name="Nationwide statement",
        header=("Date", "Transaction type", "Description", "Paid out", "Paid in", "Balance"),
        encoding="iso-8859-1",
        date_column="Date",
        date_formats=("%d %b %Y",),
        debit_column="Paid out",
        credit_column="Paid in",
        description_columns=("Transaction type", "Description"),
        balance_column="Balance",
    ),
    "nationwide_midata": CsvMapping(
        name="Nationwide midata",
        header=("Date", "Type", "Merchant/Description", "Debit/Credit", "Balance"),
        encoding="iso-8859-1",
        date_column="Date",
        amount_column="Debit/Credit",
        description_columns=("Type", "Merchant/Description"),
        balance_column="Balance",
        ignore_rows_starting_with=("Arranged Overdraft Limit",),
    ),
    "starling": CsvMapping(
        name="Starling",
        header=(
            "Date",
            "Counter Party",
            "Reference",
            "Type",
            "Amount (GBP)",
            "Balance (GBP)",
            "Spending Category",
            "Notes",
        ),
        date_column="Date",
        amount_column="Amount (GBP)",
        description_columns=("Counter Party", "Reference"),
        counterparty_column="Counter Party",
        type_column="Type",
        balance_column="Balance (GBP)",
    ),
    "monzo": CsvMapping(
        name="Monzo",
        header=(
            "Transaction ID",
            "Date",
            "Time",
            "Type",
            "Name",
            "Emoji",
            "Category",
            "Amount",
            "Currency",
            "Local amount",
            "Local currency",
            "Notes and #tags",
            "Address",
            "Receipt",
            "Description",
            "Category split",
            "Money Out",
            "Money In",
        ),
        date_column="Date",
        amount_column="Amount",
        currency_column="Currency",
        description_columns=("Description",),
        counterparty_column="Name",
        type_column="Type",
        id_column="Transaction ID",
    ),
    "barclays": CsvMapping(
        name="Barclays",
        header=("Number", "Date", "Account", "Amount", "Subcategory", "Memo"),
        date_column="Date",
        amount_column="Amount",
        description_columns=("Memo",),
        type_column="Subcategory",
        account_column="Account",
    ),
    "amex": CsvMapping(
        name="American Express",
        header=(
            "Date",
            "Description",
            "Amount",
            "Extended Details",
            "Appears On Your Statement As",
            "Address",
            "Town/City",
            "Postcode",
            "Country",
            "Reference",
            "Category",
        ),
        date_column="Date",
        amount_column="Amount",
        amount_sign=AmountSign.DEBIT_POSITIVE,
        description_columns=("Description",),
        reference_column="Reference",
    ),
    "john_lewis_card": CsvMapping(
        name="John Lewis Partnership card",
        header=("Date Processed", "Description", "Amount", ""),
        date_column="Date Processed",
        date_formats=("%d-%b-%Y",),
        pending_dates=("Pending",),
        amount_column="Amount",
        credit_flag_column=3,
        description_columns=("Description",),
    ),
    "hsbc": CsvMapping(
        name="HSBC (no header row)",
        has_header=False,
        column_count=3,
        skip_lines=0,
        date_column=0,
        description_columns=(1,),
        amount_column=2,
    ),
}
"""The exports dpledger recognises by their header row. ``"hsbc"`` has no header row, so it is
never chosen automatically: pass ``csv_mapping=BUILTIN_CSV_MAPPINGS["hsbc"]``."""


# --- reading rows -------------------------------------------------------------------------------

Row = tuple[int, list[str]]
"""A record and the line it starts on."""


def _read_rows(text: str, delimiter: str, filename: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        refuse(filename, f"the CSV is malformed: {exc}", location=f"line {start}")
    return rows


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _clean(cell: str) -> str:
    """A cell without surrounding spaces or the apostrophe Excel-minded banks put in front."""
    text = cell.strip()
    if text.startswith("'"):
        text = text[1:]
        if text.endswith("'"):
            text = text[:-1]
    return text.strip()


# --- choosing the mapping -----------------------------------------------------------------------


def _detect(rows: list[Row]) -> tuple[CsvMapping, int] | None:
    """The built-in mapping whose header is one of the first rows, and that row's index."""
    for index, (_, cells) in enumerate(rows[:MAX_PREAMBLE_ROWS]):
        if _is_blank(cells):
            continue
        found = _trimmed(cells)
        for mapping in BUILTIN_CSV_MAPPINGS.values():
            if mapping.header is not None and _trimmed(mapping.header) == found:
                return mapping, index
    return None


def _find_header(rows: list[Row], mapping: CsvMapping, filename: str) -> int | None:
    """Index of ``mapping``'s header row in ``rows`` (``None`` when it has no header row)."""
    if mapping.skip_lines is not None:
        index = mapping.skip_lines
        if not mapping.has_header:
            return None
        if index >= len(rows):
            refuse(filename, f"the file has fewer than {index + 1} lines; no header row")
        return index
    if not mapping.has_header:
        return None
    wanted = {_header_key(c) for c in mapping.columns() if isinstance(c, str)}
    for index, (_, cells) in enumerate(rows[:MAX_PREAMBLE_ROWS]):
        keys = set(_trimmed(cells))
        if mapping.header is not None and _trimmed(cells) == _trimmed(mapping.header):
            return index
        if mapping.header is None and wanted <= keys:
            return index
    raise _header_error(
        rows, filename, f"no row has the columns the {mapping.name} mapping expects"
    )


def _header_error(rows: list[Row], filename: str, why: str) -> BankFileError:
    first = next(((line, cells) for line, cells in rows if not _is_blank(cells)), None)
    if first is None:
        return BankFileError("the file has no rows", file=filename)
    line, cells = first
    found = ", ".join(repr(c.strip()) for c in cells)
    known = ", ".join(m.name for m in BUILTIN_CSV_MAPPINGS.values() if m.header is not None)
    return BankFileError(
        f"{why}; the first row has {len(cells)} columns: {found}. Known exports: {known}",
        file=filename,
        location=f"line {line}",
        fix=(
            "pass csv_mapping=CsvMapping(...) naming the date, amount and description columns "
            "(see docs/bankfeeds.md); for an HSBC export without a header row pass "
            "csv_mapping=BUILTIN_CSV_MAPPINGS['hsbc']"
        ),
    )


def _decode_and_choose(
    data: bytes, filename: str, mapping: CsvMapping | None
) -> tuple[list[Row], CsvMapping, int | None]:
    """Decode the bytes and settle the mapping and the header row's index."""
    try:
        text = decode(data, filename)
    except BankFileError as not_utf8:
        return _fallback_encoding(data, filename, mapping, not_utf8)
    if mapping is not None:
        rows = _read_rows(text, mapping.delimiter, filename)
        return rows, mapping, _find_header(rows, mapping, filename)
    rows = _read_rows(text, ",", filename)
    detected = _detect(rows)
    if detected is None:
        raise _header_error(rows, filename, "the header row matches no known bank export")
    return rows, detected[0], detected[1]


def _fallback_encoding(
    data: bytes, filename: str, mapping: CsvMapping | None, not_utf8: BankFileError
) -> tuple[list[Row], CsvMapping, int | None]:
    """The file is not UTF-8: use an encoding a mapping declares, or refuse."""
    if mapping is not None:
        if mapping.encoding is None:
            raise not_utf8
        text = decode(data, filename, mapping.encoding)
        rows = _read_rows(text, mapping.delimiter, filename)
        return rows, mapping, _find_header(rows, mapping, filename)
    encodings = {m.encoding for m in BUILTIN_CSV_MAPPINGS.values() if m.encoding}
    for encoding in sorted(encodings):
        text = decode(data, filename, encoding)
        rows = _read_rows(text, ",", filename)
        detected = _detect(rows)
        if detected is not None and detected[0].encoding == encoding:
            return rows, detected[0], detected[1]
    raise BankFileError(
        f"{not_utf8.reason}, and its header matches no known export written in another encoding",
        file=filename,
        location=not_utf8.location,
        fix=(
            "export the file as UTF-8, or pass csv_mapping=CsvMapping(..., encoding='iso-8859-1') "
            "describing its columns (see docs/bankfeeds.md)"
        ),
    ) from not_utf8


# --- reading a row ------------------------------------------------------------------------------

_AMOUNT: Final = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<symbol>£)?\s*(?P<sign2>[+-])?\s*"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d{1,15})(?:\.(?P<frac>\d{1,15}))?$"
)
_UK_ACCOUNT_CELL: Final = re.compile(r"^(?P<sort>\d{2}-?\d{2}-?\d{2})[\s-]+(?P<number>\d{6,10})$")


class _Columns:
    """A mapping's columns resolved to positions for one file."""

    def __init__(self, mapping: CsvMapping, header: list[str] | None) -> None:
        self.mapping = mapping
        self.names: dict[int, str] = {}
        self.width = len(header) if header is not None else mapping.column_count or 0
        # Trailing unnamed columns (a header ending in a comma) may be missing from data rows.
        self.min_width = len(_trimmed(header)) if header is not None else self.width
        self._index: dict[str, int] = {}
        if header is not None:
            for position, name in enumerate(header):
                self._index.setdefault(_header_key(name), position)
                self.names[position] = name.strip()

    def position(self, column: Column) -> int:
        """The 0-based position of ``column``."""
        if isinstance(column, int):
            if column >= self.width:
                raise FieldError(f"column {column} is beyond the {self.width} columns of the file")
            return column
        position = self._index.get(_header_key(column))
        if position is None:
            raise FieldError(f"the header has no column {column!r}")
        return position

    def label(self, column: Column) -> str:
        """How to name ``column`` in an error."""
        position = self.position(column)
        return repr(self.names.get(position, f"#{position}"))


class _Row:
    """One data row being read, with its line for errors."""

    def __init__(self, columns: _Columns, line: int, cells: list[str], filename: str) -> None:
        self.columns = columns
        self.line = line
        self.cells = cells
        self.filename = filename

    def text(self, column: Column | None) -> str:
        """The cleaned text of ``column`` ("" when the mapping has no such column)."""
        if column is None:
            return ""
        position = self.columns.position(column)
        return _clean(self.cells[position]) if position < len(self.cells) else ""

    def fail(self, column: Column | None, reason: str) -> BankFileError:
        """The error for a bad value in ``column`` of this row."""
        where = f"line {self.line}"
        if column is not None:
            where += f", column {self.columns.label(column)}"
        return BankFileError(reason, file=self.filename, location=where)


def _decimal(text: str, mapping: CsvMapping, what: str) -> Decimal:
    match = _AMOUNT.match(text)
    if match is None or (match["sign"] and match["sign2"]):
        raise FieldError(f"{what} {text!r} is not an amount")
    if "," in match["int"] and not mapping.thousands_separators:
        raise FieldError(f"{what} {text!r} has a thousands separator the mapping does not allow")
    if match["symbol"] and mapping.currency != "GBP":
        raise FieldError(f"{what} {text!r} is in pounds but the account is in {mapping.currency}")
    sign = "-" if "-" in (match["sign"] or "", match["sign2"] or "") else ""
    return Decimal(f"{sign}{match['int'].replace(',', '')}.{match['frac'] or '0'}")


def _money(row: _Row, column: Column, what: str) -> Money:
    text = row.text(column)
    try:
        return exact_money(_decimal(text, row.columns.mapping, what), row.columns.mapping.currency)
    except FieldError as exc:
        raise row.fail(column, str(exc)) from exc


def _date(row: _Row) -> tuple[date | None, EntryStatus]:
    mapping = row.columns.mapping
    text = row.text(mapping.date_column)
    if text.casefold() in {p.casefold() for p in mapping.pending_dates}:
        return None, EntryStatus.PENDING
    for date_format in mapping.date_formats:
        try:
            return datetime.strptime(text, date_format).date(), EntryStatus.BOOKED
        except ValueError:
            continue
    formats = " or ".join(repr(f) for f in mapping.date_formats)
    raise row.fail(mapping.date_column, f"{text!r} is not a date in the format {formats}")


def _amount(row: _Row) -> tuple[Money, Direction] | None:
    """The unsigned amount and direction, or ``None`` for a zero-amount row."""
    mapping = row.columns.mapping
    if mapping.amount_column is not None:
        return _signed_amount(row, mapping.amount_column)
    assert mapping.debit_column is not None  # validated by CsvMapping
    assert mapping.credit_column is not None
    debit = _split_amount(row, mapping.debit_column)
    credit = _split_amount(row, mapping.credit_column)
    if debit is not None and credit is not None:
        raise row.fail(None, "both the debit and the credit column have an amount")
    if debit is None and credit is None:
        if row.text(mapping.debit_column) or row.text(mapping.credit_column):
            return None  # written as zero
        raise row.fail(None, "neither the debit nor the credit column has an amount")
    if debit is not None:
        return debit, Direction.DEBIT
    assert credit is not None
    return credit, Direction.CREDIT


def _split_amount(row: _Row, column: Column) -> Money | None:
    if not row.text(column):
        return None
    money = _money(row, column, "amount")
    if money.is_negative():
        raise row.fail(column, "a negative amount in a debit or credit column is ambiguous")
    return None if money.is_zero() else money


def _signed_amount(row: _Row, column: Column) -> tuple[Money, Direction] | None:
    mapping = row.columns.mapping
    if not row.text(column):
        raise row.fail(column, "the amount is empty")
    money = _money(row, column, "amount")
    if money.is_zero():
        return None
    if mapping.credit_flag_column is not None:
        return _flagged(row, money)
    credit_positive = mapping.amount_sign is AmountSign.CREDIT_POSITIVE
    is_credit = money.is_positive() == credit_positive
    return abs(money), Direction.CREDIT if is_credit else Direction.DEBIT


def _flagged(row: _Row, money: Money) -> tuple[Money, Direction]:
    mapping = row.columns.mapping
    flag_column = mapping.credit_flag_column
    if money.is_negative():
        raise row.fail(
            mapping.amount_column, "a negative amount next to a credit flag is ambiguous"
        )
    flag = row.text(flag_column)
    if not flag:
        return money, Direction.DEBIT
    if flag.casefold() in {f.casefold() for f in mapping.credit_flags}:
        return money, Direction.CREDIT
    raise row.fail(
        flag_column, f"{flag!r} is not a credit flag ({', '.join(mapping.credit_flags)})"
    )


def _account(row: _Row) -> str | None:
    mapping = row.columns.mapping
    number = row.text(mapping.account_column)
    if mapping.sort_code_column is not None:
        return uk_account(row.text(mapping.sort_code_column), number) or None
    match = _UK_ACCOUNT_CELL.match(number)
    if match:
        return uk_account(match["sort"], match["number"])
    return number or None


def _check_currency(row: _Row) -> None:
    mapping = row.columns.mapping
    if mapping.currency_column is None:
        return
    currency = row.text(mapping.currency_column).upper()
    if currency != mapping.currency:
        raise row.fail(
            mapping.currency_column, f"currency {currency!r} differs from {mapping.currency}"
        )


def _transaction(row: _Row) -> BankTransaction | None:
    """The row as a transaction, or ``None`` when it moves no money."""
    mapping = row.columns.mapping
    booking_date, status = _date(row)
    amount = _amount(row)
    _check_currency(row)
    balance = None
    if mapping.balance_column is not None and row.text(mapping.balance_column):
        balance = _money(row, mapping.balance_column, "balance")
    if amount is None:
        return None
    money, direction = amount
    description = " ".join(row.text(c) for c in mapping.description_columns)
    return build_transaction(
        row.filename,
        f"line {row.line}",
        booking_date=booking_date,
        amount=money,
        direction=direction,
        status=status,
        description=description,
        counterparty=row.text(mapping.counterparty_column),
        transaction_type=row.text(mapping.type_column),
        bank_transaction_id=row.text(mapping.id_column),
        bank_reference=row.text(mapping.reference_column),
        running_balance=balance,
    )


# --- the file -----------------------------------------------------------------------------------


def parse_csv(
    data: bytes, *, filename: str, mapping: CsvMapping | None = None
) -> list[BankStatement]:
    """Read a bank's CSV export: one statement per account found in it.

    Without ``mapping`` the header row must match one of :data:`BUILTIN_CSV_MAPPINGS`. Raises
    :class:`~dpledger.domain.errors.BankFileError` naming the line (and column) of the first
    problem; nothing is returned from a file with any problem.
    """
    check_size(data, filename)
    rows, chosen, header_index = _decode_and_choose(data, filename, mapping)
    header = rows[header_index][1] if header_index is not None else None
    columns = _Columns(chosen, header)
    try:
        for column in chosen.columns():
            columns.position(column)
    except FieldError as exc:
        refuse(filename, str(exc), location=f"line {rows[header_index or 0][0]}")
    first_data = (header_index + 1) if header_index is not None else (chosen.skip_lines or 0)
    return _statements(rows[first_data:], columns, filename)


def _statements(rows: list[Row], columns: _Columns, filename: str) -> list[BankStatement]:
    groups: dict[str | None, tuple[list[BankTransaction], list[SkippedEntry]]] = {}
    for line, cells in rows:
        if _is_blank(cells) or _is_footer(cells, columns.mapping):
            continue
        _check_width(line, cells, columns, filename)
        row = _Row(columns, line, cells, filename)
        try:
            account = _account(row)
            transaction = _transaction(row)
        except FieldError as exc:
            raise BankFileError(str(exc), file=filename, location=f"line {line}") from exc
        transactions, skipped = groups.setdefault(account, ([], []))
        if transaction is None:
            skipped.append(SkippedEntry(location=f"line {line}", reason="the amount is zero"))
        else:
            transactions.append(transaction)
    if not groups:
        groups[None] = ([], [])
    return [
        _statement(account, transactions, skipped, columns.mapping, filename)
        for account, (transactions, skipped) in groups.items()
    ]


def _is_footer(cells: list[str], mapping: CsvMapping) -> bool:
    first = _clean(cells[0]) if cells else ""
    return any(first.startswith(prefix) for prefix in mapping.ignore_rows_starting_with)


def _check_width(line: int, cells: list[str], columns: _Columns, filename: str) -> None:
    if columns.min_width <= len(cells) <= columns.width:
        return
    expected = (
        f"{columns.width}"
        if columns.min_width == columns.width
        else f"{columns.min_width} to {columns.width}"
    )
    refuse(
        filename,
        f"the row has {len(cells)} fields but the header has {expected}",
        location=f"line {line}",
        fix="check for an unquoted comma or a missing field in that row",
    )


def _statement(
    account: str | None,
    transactions: list[BankTransaction],
    skipped: list[SkippedEntry],
    mapping: CsvMapping,
    filename: str,
) -> BankStatement:
    balances = balances_from_running(transactions)
    return build_statement(
        filename,
        format=BankFormat.CSV,
        account_id=normalise_text(account) or None,
        currency=mapping.currency,
        opening_balance=balances[0] if balances else None,
        closing_balance=balances[1] if balances else None,
        transactions=tuple(transactions),
        skipped=tuple(skipped),
    )
