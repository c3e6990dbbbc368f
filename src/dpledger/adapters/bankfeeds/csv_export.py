"""UK bank CSV exports: built-in column mappings, and :class:`CsvMapping` for any other bank.

A CSV export has no standard: each bank names its columns differently, signs amounts differently
and writes dates its own way. dpledger never guesses. The header row must match a known export
exactly (:data:`BUILTIN_CSV_MAPPINGS`), or the caller describes the columns with a
:class:`CsvMapping` (in Python, or in a TOML rules file read by
:func:`~dpledger.adapters.bankfeeds.csvrules.load_csv_rules`). Dates are read only with the
mapping's formats, day first for every built-in mapping (``dd/mm/yyyy``); a month-first reading
is never tried.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from dpledger.adapters.bankfeeds.csvmapping import (
    BUILTIN_CSV_MAPPINGS,
    COLUMN_KEYS,
    AmountSign,
    Column,
    CsvMapping,
    header_key,
    trimmed_header,
)
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
    FAST_TRANSACTIONS,
    TRANSACTION_DEFAULTS,
    build_statement,
    build_transaction,
    check_size,
    decode,
    refuse,
    trusted_transaction,
)
from dpledger.domain.errors import BankFileError
from dpledger.domain.money import Money

__all__ = [
    "BUILTIN_CSV_MAPPINGS",
    "COLUMN_KEYS",
    "MAX_PREAMBLE_ROWS",
    "AmountSign",
    "Column",
    "CsvMapping",
    "parse_csv",
]

#: How many rows before the header are searched for it (Nationwide puts account details first).
MAX_PREAMBLE_ROWS: Final = 20

# --- reading rows -------------------------------------------------------------------------------

Row = tuple[int, list[str]]
"""A record and the line it starts on."""


class _Rows:
    """The file's records, read as they are needed: the first few to find the header, then one
    at a time (a statement's rows are never all held at once).

    A malformed record is reported when the reading reaches it, so the first problem in the
    file is the one reported, even when looking for the header read past it.
    """

    def __init__(self, text: str, delimiter: str, filename: str) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        self._filename = filename
        self._head: list[Row] = []
        self._start = 1
        self._malformed: csv.Error | None = None

    def _next(self) -> Row | None:
        if self._malformed is not None:
            return None
        try:
            cells = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            self._malformed = exc
            return None
        row = (self._start, cells)
        self._start = self._reader.line_num + 1
        return row

    def _refuse_malformed(self) -> None:
        if self._malformed is not None:
            refuse(
                self._filename,
                f"the CSV is malformed: {self._malformed}",
                location=f"line {self._start}",
            )

    def first(self, count: int) -> list[Row]:
        """The first ``count`` records (fewer when the file is shorter, or malformed there)."""
        while len(self._head) < count and (row := self._next()) is not None:
            self._head.append(row)
        return self._head[:count]

    def everything(self) -> list[Row]:
        """Every record (to describe the file in an error)."""
        while (row := self._next()) is not None:
            self._head.append(row)
        self._refuse_malformed()
        return self._head

    def after(self, index: int) -> Iterator[Row]:
        """The records from the ``index``-th (0-based) on."""
        yield from self._head[index:]
        while (row := self._next()) is not None:
            yield row
        self._refuse_malformed()


def _is_blank(cells: list[str]) -> bool:
    # The first cell (a date) decides almost every row without joining the others.
    return not (cells and (cells[0].strip() or "".join(cells).strip()))


def _clean(cell: str) -> str:
    """A cell without surrounding spaces or the apostrophe Excel-minded banks put in front."""
    text = cell.strip()
    if text.startswith("'"):
        text = text[1:]
        if text.endswith("'"):
            text = text[:-1]
        return text.strip()
    return text


# --- choosing the mapping -----------------------------------------------------------------------


def _detect(rows: _Rows) -> tuple[CsvMapping, int] | None:
    """The built-in mapping whose header is one of the first rows, and that row's index."""
    headers = [(m, trimmed_header(m.header)) for m in BUILTIN_CSV_MAPPINGS.values() if m.header]
    for index, (_, cells) in enumerate(rows.first(MAX_PREAMBLE_ROWS)):
        if _is_blank(cells):
            continue
        found = trimmed_header(cells)
        for mapping, header in headers:
            if header == found:
                return mapping, index
    return None


def _find_header(rows: _Rows, mapping: CsvMapping, filename: str) -> int | None:
    """Index of ``mapping``'s header row in ``rows`` (``None`` when it has no header row)."""
    if mapping.skip_lines is not None:
        index = mapping.skip_lines
        if not mapping.has_header:
            return None
        if index >= len(rows.first(index + 1)):
            refuse(filename, f"the file has fewer than {index + 1} lines; no header row")
        return index
    if not mapping.has_header:
        return None
    named = [c for c in mapping.columns() if isinstance(c, str)]
    wanted = {header_key(c) for c in named}
    for index, (_, cells) in enumerate(rows.first(MAX_PREAMBLE_ROWS)):
        keys = set(trimmed_header(cells))
        if mapping.header is not None and trimmed_header(cells) == trimmed_header(mapping.header):
            return index
        if mapping.header is None and wanted <= keys:
            return index
    why = f"no row has the columns the {mapping.name} mapping expects"
    first = next((cells for _, cells in rows.everything() if not _is_blank(cells)), None)
    if mapping.header is None and first is not None:
        keys = set(trimmed_header(first))
        missing = [c for c in named if header_key(c) not in keys]
        why += "; the first row lacks " + ", ".join(
            f"{c!r} ({mapping.column_source(c)})" for c in missing
        )
    raise _header_error(rows, filename, why, fix=_column_fix(mapping))


def _column_fix(mapping: CsvMapping) -> str:
    where = f"in {mapping.rules_file}" if mapping.rules_file else "in the CsvMapping"
    return (
        f"correct the column names {where} to the names in the file's header row (matched "
        "ignoring case), or name the column by its position"
    )


def _header_error(rows: _Rows, filename: str, why: str, fix: str = "") -> BankFileError:
    records = rows.everything()
    first = next(((line, cells) for line, cells in records if not _is_blank(cells)), None)
    if first is None:
        return BankFileError("the file has no rows", file=filename)
    line, cells = first
    found = ", ".join(repr(c.strip()) for c in cells)
    known = ", ".join(m.name for m in BUILTIN_CSV_MAPPINGS.values() if m.header is not None)
    return BankFileError(
        f"{why}; the first row has {len(cells)} columns: {found}. Known exports: {known}",
        file=filename,
        location=f"line {line}",
        fix=fix
        or (
            "pass csv_mapping=CsvMapping(...) naming the date, amount and description columns "
            "(see docs/bankfeeds.md); for an HSBC export without a header row pass "
            "csv_mapping=BUILTIN_CSV_MAPPINGS['hsbc']"
        ),
    )


def _decode_and_choose(
    data: bytes, filename: str, mapping: CsvMapping | None
) -> tuple[_Rows, CsvMapping, int | None]:
    """Decode the bytes and settle the mapping and the header row's index."""
    try:
        text = decode(data, filename)
    except BankFileError as not_utf8:
        return _fallback_encoding(data, filename, mapping, not_utf8)
    if mapping is not None:
        rows = _Rows(text, mapping.delimiter, filename)
        return rows, mapping, _find_header(rows, mapping, filename)
    rows = _Rows(text, ",", filename)
    detected = _detect(rows)
    if detected is None:
        raise _header_error(rows, filename, "the header row matches no known bank export")
    return rows, detected[0], detected[1]


def _fallback_encoding(
    data: bytes, filename: str, mapping: CsvMapping | None, not_utf8: BankFileError
) -> tuple[_Rows, CsvMapping, int | None]:
    """The file is not UTF-8: use an encoding a mapping declares, or refuse."""
    if mapping is not None:
        if mapping.encoding is None:
            raise not_utf8
        text = decode(data, filename, mapping.encoding)
        rows = _Rows(text, mapping.delimiter, filename)
        return rows, mapping, _find_header(rows, mapping, filename)
    encodings = {m.encoding for m in BUILTIN_CSV_MAPPINGS.values() if m.encoding}
    for encoding in sorted(encodings):
        text = decode(data, filename, encoding)
        rows = _Rows(text, ",", filename)
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


def _amount_pattern(mark: str) -> re.Pattern[str]:
    group, mark = re.escape("," if mark == "." else "."), re.escape(mark)
    return re.compile(
        r"^(?P<sign>[+-])?\s*(?P<symbol>£)?\s*(?P<sign2>[+-])?\s*"
        rf"(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d{{1,15}})(?:{mark}(?P<frac>\d{{1,15}}))?$"
    )


_AMOUNT: Final = {".": _amount_pattern("."), ",": _amount_pattern(",")}
#: The common case, read straight into pence: at most 13 digits before the mark (under
#: MAX_AMOUNT) and exactly two after it. Anything else takes the general path.
_PLAIN_AMOUNT: Final = {
    mark: re.compile(rf"(-?)([0-9]{{1,13}}){re.escape(mark)}([0-9]{{2}})") for mark in ".,"
}
#: The fields a CSV line sets (pydantic's ``model_fields_set`` of a validated line).
_GIVEN: Final = frozenset(
    {
        "booking_date",
        "amount",
        "direction",
        "status",
        "description",
        "counterparty",
        "transaction_type",
        "bank_transaction_id",
        "bank_reference",
        "running_balance",
        "source_location",
    }
)
_CREDIT: Final = Direction.CREDIT
_DEBIT: Final = Direction.DEBIT
_UK_ACCOUNT_CELL: Final = re.compile(r"^(?P<sort>\d{2}-?\d{2}-?\d{2})[\s-]+(?P<number>\d{6,10})$")


class _Columns:
    """A mapping's columns resolved to positions for one file."""

    def __init__(self, mapping: CsvMapping, header: list[str] | None) -> None:
        self.mapping = mapping
        self.names: dict[int, str] = {}
        self.width = len(header) if header is not None else mapping.column_count or 0
        # Trailing unnamed columns (a header ending in a comma) may be missing from data rows.
        self.min_width = len(trimmed_header(header)) if header is not None else self.width
        self._index: dict[str, int] = {}
        if header is not None:
            for position, name in enumerate(header):
                self._index.setdefault(header_key(name), position)
                self.names[position] = name.strip()

    def position(self, column: Column) -> int:
        """The 0-based position of ``column``."""
        if isinstance(column, int):
            if column >= self.width:
                raise FieldError(f"column {column} is beyond the {self.width} columns of the file")
            return column
        position = self._index.get(header_key(column))
        if position is None:
            raise FieldError(f"the header has no column {column!r}")
        return position

    def optional(self, column: Column | None) -> int | None:
        """The position of ``column``, ``None`` when the mapping has no such column."""
        return None if column is None else self.position(column)

    def label(self, column: Column) -> str:
        """How to name ``column`` in an error."""
        position = self.position(column)
        return repr(self.names.get(position, f"#{position}"))


def _decimal(text: str, mapping: CsvMapping, what: str) -> Decimal:
    match = _AMOUNT[mapping.decimal_mark].match(text)
    if match is None or (match["sign"] and match["sign2"]):
        raise FieldError(f"{what} {text!r} is not an amount")
    group = "," if mapping.decimal_mark == "." else "."
    if group in match["int"] and not mapping.thousands_separators:
        raise FieldError(f"{what} {text!r} has a thousands separator the mapping does not allow")
    if match["symbol"] and mapping.currency != "GBP":
        raise FieldError(f"{what} {text!r} is in pounds but the account is in {mapping.currency}")
    sign = "-" if "-" in (match["sign"] or "", match["sign2"] or "") else ""
    return Decimal(f"{sign}{match['int'].replace(group, '')}.{match['frac'] or '0'}")


class _Reader:
    """A mapping compiled for one file: each column's position found once, not per cell.

    Dates and accounts repeat from line to line, so each distinct cell is read once per file; the
    caches are exact (each holds a pure function of the cell's text).
    """

    def __init__(self, columns: _Columns, filename: str) -> None:
        mapping = self.mapping = columns.mapping
        self.columns = columns
        self.filename = filename
        self.width = columns.width
        self.date_at = columns.position(mapping.date_column)
        self.amount_at = columns.optional(mapping.amount_column)
        self.debit_at = columns.optional(mapping.debit_column)
        self.credit_at = columns.optional(mapping.credit_column)
        self.flag_at = columns.optional(mapping.credit_flag_column)
        self.balance_at = columns.optional(mapping.balance_column)
        self.currency_at = columns.optional(mapping.currency_column)
        self.account_at = columns.optional(mapping.account_column)
        self.sort_code_at = columns.optional(mapping.sort_code_column)
        self.description_at = [columns.position(c) for c in mapping.description_columns]
        self.pending = {p.casefold() for p in mapping.pending_dates}
        self.credit_flags = {f.casefold() for f in mapping.credit_flags}
        self.debit_flags = {f.casefold() for f in mapping.debit_flags}
        self.ignored = [re.compile(p) for p in mapping.ignore_rows_matching]
        self.plain = _PLAIN_AMOUNT[mapping.decimal_mark]
        self.dates: dict[str, tuple[date | None, EntryStatus]] = {}
        self.accounts: dict[tuple[str, str], str | None] = {}
        self.tidied: dict[str, str] = {}
        self.texts_at = (
            columns.optional(mapping.counterparty_column),
            columns.optional(mapping.type_column),
            columns.optional(mapping.id_column),
            columns.optional(mapping.reference_column),
        )
        self.account_read = self.account_at is not None or self.sort_code_at is not None
        self.currency = mapping.currency
        self.credit_positive = mapping.amount_sign is AmountSign.CREDIT_POSITIVE
        # A signed amount without a flag column: the common case read inline by read().
        self.signed_at = self.amount_at if self.flag_at is None else None

    def is_ignored(self, cells: list[str]) -> bool:
        """Whether the mapping says to pass over this row (a footer, a summary line)."""
        first = _clean(cells[0]) if cells else ""
        if any(first.startswith(prefix) for prefix in self.mapping.ignore_rows_starting_with):
            return True
        record = self.mapping.delimiter.join(cells)
        return any(pattern.search(record) for pattern in self.ignored)

    def read(self, line: int, cells: list[str]) -> tuple[str | None, BankTransaction | None]:
        """The row's account, and its transaction (``None`` when it moves no money)."""
        # The hot loop of an import: written for speed, each shortcut exact (see _money).
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        account = self._account(cells) if self.account_read else self.mapping.account_id
        text = _clean(cells[self.date_at])
        known = self.dates.get(text)
        if known is None:
            known = self.dates[text] = self._date(line, text)
        amount: tuple[Money, Direction] | None
        if self.signed_at is not None:
            plain = self.plain.fullmatch(_clean(cells[self.signed_at]))
            if plain is None:
                amount = self._amount(line, cells)
            elif pence := int(plain[2]) * 100 + int(plain[3]):
                credit = (not plain[1]) == self.credit_positive
                amount = Money(pence, self.currency), _CREDIT if credit else _DEBIT
            else:
                amount = None
        else:
            amount = self._amount(line, cells)
        if self.currency_at is not None:
            self._check_currency(line, cells[self.currency_at])
        balance = None
        if self.balance_at is not None:
            text = _clean(cells[self.balance_at])
            if text:
                balance = self._money(line, self.mapping.balance_column, text, "balance")
        if amount is None:
            return account, None
        return account, self._transaction(line, known, amount, balance, cells)

    def _transaction(
        self,
        line: int,
        known: tuple[date | None, EntryStatus],
        amount: tuple[Money, Direction],
        balance: Money | None,
        cells: list[str],
    ) -> BankTransaction:
        location = f"line {line}"
        (booking_date, status), (money, direction) = known, amount
        description = " ".join([_clean(cells[at]) for at in self.description_at])
        texts = [None if at is None else _clean(cells[at]) for at in self.texts_at]
        # The checks of the model's validators that do not hold by construction (the amount is
        # a Money in the mapping's currency, like the balance; a booked line's date came from
        # strptime). Anything else is pydantic's to judge, with its own message.
        dateless = booking_date is None and status is EntryStatus.BOOKED
        if not FAST_TRANSACTIONS or not money.is_positive() or dateless:
            return build_transaction(
                self.filename,
                location,
                booking_date=booking_date,
                amount=money,
                direction=direction,
                status=status,
                description=description,
                counterparty=texts[0] or "",
                transaction_type=texts[1] or "",
                bank_transaction_id=texts[2] or "",
                bank_reference=texts[3] or "",
                running_balance=balance,
            )
        tidied = self.tidied
        tidy = [None if t is None else (tidied.get(t) or self._tidy(t)) or None for t in texts]
        values = {
            **TRANSACTION_DEFAULTS,
            "booking_date": booking_date,
            "amount": money,
            "direction": direction,
            "status": status,
            "description": tidied.get(description) or self._tidy(description),
            "counterparty": tidy[0],
            "transaction_type": tidy[1],
            "bank_transaction_id": tidy[2],
            "bank_reference": tidy[3],
            "running_balance": balance,
            "source_location": location,
        }
        return trusted_transaction(values, _GIVEN)

    def _tidy(self, text: str) -> str:
        """``normalise_text(text)``, kept: texts repeat from line to line."""
        tidied = self.tidied[text] = normalise_text(text)
        return tidied

    @staticmethod
    def _text(cells: list[str], at: int | None) -> str:
        return "" if at is None else _clean(cells[at])

    def fail(self, line: int, column: Column | None, reason: str) -> BankFileError:
        """The error for a bad value in ``column`` of the row at ``line``."""
        where = f"line {line}"
        if column is not None:
            where += f", column {self.columns.label(column)}"
        return BankFileError(reason, file=self.filename, location=where)

    def _date(self, line: int, text: str) -> tuple[date | None, EntryStatus]:
        mapping = self.mapping
        if text.casefold() in self.pending:
            return None, EntryStatus.PENDING
        for date_format in mapping.date_formats:
            try:
                return datetime.strptime(text, date_format).date(), EntryStatus.BOOKED
            except ValueError:
                continue
        formats = " or ".join(repr(f) for f in mapping.date_formats)
        raise self.fail(
            line, mapping.date_column, f"{text!r} is not a date in the format {formats}"
        )

    def _money(self, line: int, column: Column | None, text: str, what: str) -> Money:
        plain = self.plain.fullmatch(text)
        if plain is not None:
            pence = int(plain[2]) * 100 + int(plain[3])
            return Money(-pence if plain[1] else pence, self.mapping.currency)
        try:
            return exact_money(_decimal(text, self.mapping, what), self.mapping.currency)
        except FieldError as exc:
            raise self.fail(line, column, str(exc)) from exc

    def _amount(self, line: int, cells: list[str]) -> tuple[Money, Direction] | None:
        """The unsigned amount and direction, or ``None`` for a zero-amount row."""
        mapping = self.mapping
        if self.amount_at is not None:
            return self._signed_amount(line, cells)
        assert self.debit_at is not None  # validated by CsvMapping
        assert self.credit_at is not None
        debit_text, credit_text = _clean(cells[self.debit_at]), _clean(cells[self.credit_at])
        debit = self._split_amount(line, mapping.debit_column, debit_text)
        credit = self._split_amount(line, mapping.credit_column, credit_text)
        if debit is not None and credit is not None:
            raise self.fail(line, None, "both the debit and the credit column have an amount")
        if debit is None and credit is None:
            if debit_text or credit_text:
                return None  # written as zero
            raise self.fail(line, None, "neither the debit nor the credit column has an amount")
        if debit is not None:
            return debit, Direction.DEBIT
        assert credit is not None
        return credit, Direction.CREDIT

    def _split_amount(self, line: int, column: Column | None, text: str) -> Money | None:
        if not text:
            return None
        money = self._money(line, column, text, "amount")
        if money.is_negative():
            raise self.fail(
                line, column, "a negative amount in a debit or credit column is ambiguous"
            )
        return None if money.is_zero() else money

    def _signed_amount(self, line: int, cells: list[str]) -> tuple[Money, Direction] | None:
        mapping = self.mapping
        assert self.amount_at is not None
        text = _clean(cells[self.amount_at])
        if not text:
            raise self.fail(line, mapping.amount_column, "the amount is empty")
        money = self._money(line, mapping.amount_column, text, "amount")
        if money.is_zero():
            return None
        if self.flag_at is not None:
            return self._flagged(line, money, _clean(cells[self.flag_at]))
        credit_positive = mapping.amount_sign is AmountSign.CREDIT_POSITIVE
        is_credit = money.is_positive() == credit_positive
        return abs(money), Direction.CREDIT if is_credit else Direction.DEBIT

    def _flagged(self, line: int, money: Money, flag: str) -> tuple[Money, Direction]:
        mapping = self.mapping
        if money.is_negative():
            raise self.fail(
                line, mapping.amount_column, "a negative amount next to a credit flag is ambiguous"
            )
        folded = flag.casefold()
        if not flag or folded in self.debit_flags:
            return money, Direction.DEBIT
        if folded in self.credit_flags:
            return money, Direction.CREDIT
        reason = f"{flag!r} is not a credit flag ({', '.join(mapping.credit_flags)})"
        if mapping.debit_flags:
            reason += f" nor a debit flag ({', '.join(mapping.debit_flags)})"
        raise self.fail(line, mapping.credit_flag_column, reason)

    def _account(self, cells: list[str]) -> str | None:
        if self.account_at is None and self.sort_code_at is None:
            return self.mapping.account_id
        number = self._text(cells, self.account_at)
        sort_code = self._text(cells, self.sort_code_at)
        known = self.accounts.get((sort_code, number), "")
        if known == "":
            known = self.accounts[sort_code, number] = self._new_account(sort_code, number)
        return known

    def _new_account(self, sort_code: str, number: str) -> str | None:
        if self.sort_code_at is not None:
            return uk_account(sort_code, number) or None
        match = _UK_ACCOUNT_CELL.match(number)
        if match:
            return uk_account(match["sort"], match["number"])
        return number or None

    def _check_currency(self, line: int, cell: str) -> None:
        mapping = self.mapping
        currency = _clean(cell).upper()
        if currency != mapping.currency:
            raise self.fail(
                line,
                mapping.currency_column,
                f"currency {currency!r} differs from {mapping.currency}",
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
    head = rows.first((header_index or 0) + 1)
    header = head[header_index][1] if header_index is not None else None
    columns = _Columns(chosen, header)
    for column in chosen.columns():
        try:
            columns.position(column)
        except FieldError as exc:
            _refuse_column(columns, column, exc, f"line {head[header_index or 0][0]}", filename)
    first_data = (header_index + 1) if header_index is not None else (chosen.skip_lines or 0)
    return _statements(rows.after(first_data), _Reader(columns, filename), filename)


def _refuse_column(
    columns: _Columns, column: Column, exc: FieldError, location: str, filename: str
) -> None:
    mapping = columns.mapping
    if mapping.rules_file is None:
        refuse(filename, str(exc), location=location)
    source = mapping.column_source(column)
    if isinstance(column, int):
        reason = f"{source} is column {column + 1}, beyond the {columns.width} columns of the file"
        fix = f"correct {source}: columns are counted from 1"
    else:
        names = ", ".join(repr(name) for name in columns.names.values())
        reason = f"{exc} (named by {source}); the header row has {names}"
        fix = _column_fix(mapping)
        if mapping.skip_lines is not None:
            fix += "; skip counts the lines before the header row, not the header itself"
    refuse(filename, reason, location=location, fix=fix)


def _statements(rows: Iterator[Row], reader: _Reader, filename: str) -> list[BankStatement]:
    groups: dict[str | None, tuple[list[BankTransaction], list[SkippedEntry]]] = {}
    mapping, columns = reader.mapping, reader.columns
    ignoring = bool(mapping.ignore_rows_starting_with or mapping.ignore_rows_matching)
    for line, cells in rows:
        if _is_blank(cells) or (ignoring and reader.is_ignored(cells)):
            continue
        if not columns.min_width <= len(cells) <= columns.width:
            _refuse_width(line, cells, columns, filename)
        try:
            account, transaction = reader.read(line, cells)
        except FieldError as exc:
            raise BankFileError(str(exc), file=filename, location=f"line {line}") from exc
        group = groups.get(account)
        if group is None:
            group = groups[account] = ([], [])
        if transaction is None:
            group[1].append(SkippedEntry(location=f"line {line}", reason="the amount is zero"))
        else:
            group[0].append(transaction)
    if not groups:
        groups[None] = ([], [])
    return [
        _statement(account, transactions, skipped, mapping, filename)
        for account, (transactions, skipped) in groups.items()
    ]


def _refuse_width(line: int, cells: list[str], columns: _Columns, filename: str) -> None:
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
