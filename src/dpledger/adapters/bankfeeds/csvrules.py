"""CSV layouts from a rules file: a :class:`~.csvmapping.CsvMapping` written in TOML.

A council meets a bank export dpledger has no built-in mapping for; rather than Python, it writes
a small rules file (in the spirit of hledger's CSV rules, but TOML) and imports with it::

    mapping = load_csv_rules("ebs.rules.toml")
    statements = parse_file("export.csv", csv_mapping=mapping)

The format is described in ``docs/bankfeeds.md`` ("Custom CSV layouts (rules files)"). Every
mistake in a rules file raises :class:`~dpledger.domain.errors.BankFileError` naming the rules
file, the line and key (``[columns] date``), why, and the fix; nothing is guessed.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, NoReturn

import pydantic

from dpledger.adapters.bankfeeds.csvmapping import COLUMN_KEYS, AmountSign, Column, CsvMapping
from dpledger.domain.errors import BankFileError

TOP_KEYS: Final = (
    "name",
    "encoding",
    "separator",
    "skip",
    "header",
    "column-count",
    "exact-header",
    "account",
    "currency",
    "ignore-rows-starting-with",
    "ignore-rows-matching",
)
"""The keys a rules file may have outside its tables."""

TABLE_KEYS: Final = {
    "columns": tuple(COLUMN_KEYS.values()),
    "dates": ("formats", "pending"),
    "amounts": ("sign", "decimal-mark", "thousands-separators", "credit-flags", "debit-flags"),
}
"""The tables of a rules file and the keys each may have."""

_FIELDS: Final = {key: field for field, key in COLUMN_KEYS.items()}
_SIGNS: Final = {
    "credit-positive": AmountSign.CREDIT_POSITIVE,
    "debit-positive": AmountSign.DEBIT_POSITIVE,
}
#: A date whose day, month and year all differ: a format must write and read it back unchanged.
_PROBE: Final = date(2024, 11, 23)
_TOML_WHERE: Final = re.compile(r"^(?P<why>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_TABLE_LINE: Final = re.compile(r"^\[\s*(?P<name>[A-Za-z0-9_.-]+)\s*\]")
_KEY_LINE: Final = re.compile(r"""^(?P<key>[A-Za-z0-9_.-]+|"[^"]*"|'[^']*')\s*=""")


def load_csv_rules(path: str | os.PathLike[str]) -> CsvMapping:
    """The :class:`CsvMapping` a TOML rules file describes.

    Pass it on as ``parse_file(..., csv_mapping=...)`` (or ``parse_bytes``). Raises
    :class:`~dpledger.domain.errors.BankFileError` naming the rules file, the line and key, why,
    and the fix, for a file that cannot be read or describes no usable layout.
    """
    filename = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BankFileError(
            f"cannot read the rules file: {exc.strerror or exc}",
            file=filename,
            fix="check the path of the rules file",
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BankFileError(
            "a rules file must be UTF-8 text (TOML is always UTF-8)",
            file=filename,
            location=f"line {line}",
            fix="save the rules file as UTF-8",
        ) from exc
    return csv_rules_from_text(text, filename)


def csv_rules_from_text(text: str, filename: str) -> CsvMapping:
    """:func:`load_csv_rules` for rules already in memory; ``filename`` names them in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_WHERE.match(str(exc))
        raise BankFileError(
            f"the rules file is not valid TOML: {found['why'] if found else exc}",
            file=filename,
            location=f"line {found['line']}, column {found['column']}" if found else None,
            fix=(
                'write one key = value per line, text in quotes (date = "Posted"), lists in '
                "brackets; see docs/bankfeeds.md"
            ),
        ) from exc
    return _Rules(text, filename).mapping(document)


class _Rules:
    """One rules file being read: knows where each key is, to name it in errors."""

    def __init__(self, text: str, filename: str) -> None:
        self.lines = text.splitlines()
        self.filename = filename

    # --- errors ---------------------------------------------------------------------------------

    def fail(self, table: str | None, key: str | None, why: str, fix: str) -> NoReturn:
        """Raise the error for ``key`` of ``table`` (``None``: the top level, or the table)."""
        label = f"[{table}] {key}" if table and key else f"[{table}]" if table else key
        line = self._line_of(table, key)
        where = [f"line {line}"] if line is not None else []
        where += [label] if label else []
        raise BankFileError(why, file=self.filename, location=", ".join(where) or None, fix=fix)

    def _line_of(self, table: str | None, key: str | None) -> int | None:
        current: str | None = None
        table_line = None
        for number, raw in enumerate(self.lines, 1):
            line = raw.strip()
            header = _TABLE_LINE.match(line)
            if header:
                current = header["name"]
                if current == table:
                    table_line = number
                continue
            found = _KEY_LINE.match(line)
            if found is None or key is None:
                continue
            name = found["key"].strip("\"'")
            if (current == table and name == key) or (
                current is None and table and name == f"{table}.{key}"
            ):
                return number
        return table_line

    # --- values ---------------------------------------------------------------------------------

    def check_keys(self, table: str | None, values: dict[str, Any], known: tuple[str, ...]) -> None:
        """Refuse a key that is not one of ``known``, suggesting the nearest."""
        for key in values:
            if key in known:
                continue
            what = f"[{table}]" if table else "the top level of a rules file"
            near = difflib.get_close_matches(key.replace("_", "-"), known, n=1, cutoff=0.5)
            hint = f"did you mean {near[0]!r}? " if near else ""
            if table is None and isinstance(values[key], dict):
                tables = ", ".join(f"[{name}]" for name in TABLE_KEYS)
                self.fail(key, None, f"unknown table [{key}]", f"{hint}the tables are {tables}")
            self.fail(
                table,
                key,
                f"unknown key {key!r} in {what}",
                f"{hint}the keys of {what} are: {', '.join(known)}",
            )

    def text(self, table: str | None, key: str, value: object) -> str:
        """``value`` as non-empty text."""
        if not isinstance(value, str) or not value.strip():
            self.fail(table, key, f"{key} must be text, got {value!r}", f'write {key} = "..."')
        return value

    def texts(self, table: str | None, key: str, value: object) -> tuple[str, ...]:
        """``value`` as a list of texts (one text is a list of one)."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            self.fail(
                table,
                key,
                f"{key} must be a list of texts, got {value!r}",
                f'write {key} = ["...", "..."]',
            )
        return tuple(items)

    def whole(self, table: str | None, key: str, value: object, least: int) -> int:
        """``value`` as a whole number of at least ``least``."""
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            self.fail(
                table,
                key,
                f"{key} must be a whole number of at least {least}, got {value!r}",
                f"write {key} = {least}, or more, without quotes",
            )
        return value

    def flag(self, table: str | None, key: str, value: object) -> bool:
        """``value`` as true or false."""
        if not isinstance(value, bool):
            self.fail(
                table, key, f"{key} must be true or false, got {value!r}", "write true or false"
            )
        return value

    def column(self, key: str, value: object, header: bool) -> Column:
        """A ``[columns]`` value: a header name, or a 1-based position (made 0-based)."""
        if isinstance(value, str) and value.strip():
            if not header:
                self.fail(
                    "columns",
                    key,
                    f"{key} names the header column {value!r}, but header = false: the file has "
                    "no header row",
                    "give the column's position instead (1 = the first column)",
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(
                "columns",
                key,
                f"{key} must be a header name or a position (1 = the first column), got {value!r}",
                f'write {key} = "Name in the header row", or {key} = 2',
            )
        return value - 1

    # --- the mapping ----------------------------------------------------------------------------

    def mapping(self, document: dict[str, Any]) -> CsvMapping:
        """The mapping ``document`` (the parsed TOML) describes."""
        top = {k: v for k, v in document.items() if k not in TABLE_KEYS}
        self.check_keys(None, top, TOP_KEYS + tuple(TABLE_KEYS))
        tables: dict[str, dict[str, Any]] = {}
        for table, known in TABLE_KEYS.items():
            value = document.get(table, {})
            if not isinstance(value, dict):
                self.fail(None, table, f"{table} must be a table", f"write it as [{table}]")
            self.check_keys(table, value, known)
            tables[table] = value
        fields = self._layout(top)
        fields.update(self._columns(tables["columns"], fields))
        fields.update(self._dates(tables["dates"]))
        fields.update(self._amounts(tables["amounts"], tables["columns"]))
        if "account" in top:
            if {"account", "sort-code"} & tables["columns"].keys():
                self.fail(
                    None,
                    "account",
                    "account gives one account for every line, but [columns] also names an "
                    "account column",
                    "keep either account or [columns] account / sort-code",
                )
            fields["account_id"] = self.text(None, "account", top["account"]).strip()
        try:
            return CsvMapping(rules_file=self.filename, **fields)
        except pydantic.ValidationError as exc:  # pragma: no cover - the checks above come first
            error = exc.errors(include_url=False)[0]
            raise BankFileError(
                f"the rules describe no usable layout: {error['msg']}",
                file=self.filename,
                fix="see the rules file format in docs/bankfeeds.md",
            ) from exc

    def _layout(self, top: dict[str, Any]) -> dict[str, Any]:
        """The file-level settings: name, encoding, separator, header, skip, ignored rows."""
        fields: dict[str, Any] = {"name": Path(self.filename).stem or "rules file"}
        if "name" in top:
            fields["name"] = self.text(None, "name", top["name"]).strip()
        if "encoding" in top:
            encoding = self.text(None, "encoding", top["encoding"])
            try:
                codecs.lookup(encoding)
            except LookupError:
                self.fail(
                    None,
                    "encoding",
                    f"unknown text encoding {encoding!r}",
                    "use a Python codec name such as 'utf-8', 'iso-8859-1' or 'cp1252'",
                )
            fields["encoding"] = encoding
        if "separator" in top:
            separator = top["separator"]
            if not isinstance(separator, str) or len(separator) != 1 or separator in '"\r\n':
                self.fail(
                    None,
                    "separator",
                    f"separator must be one character other than a quote or a line break, got "
                    f"{separator!r}",
                    'write separator = ";" (or "\\t" for a tab)',
                )
            fields["delimiter"] = separator
        header = self.flag(None, "header", top.get("header", True))
        fields["has_header"] = header
        if "skip" in top:
            fields["skip_lines"] = self.whole(None, "skip", top["skip"], 0)
        if "column-count" in top:
            fields["column_count"] = self.whole(None, "column-count", top["column-count"], 1)
        elif not header:
            self.fail(
                None,
                "header",
                "header = false needs column-count: without a header row the file's width is "
                "not known",
                "add column-count = <the number of columns in each row>",
            )
        if "exact-header" in top:
            if not header:
                self.fail(
                    None, "exact-header", "exact-header with header = false", "remove one of them"
                )
            fields["header"] = self.texts(None, "exact-header", top["exact-header"])
        if "currency" in top:
            currency = self.text(None, "currency", top["currency"])
            if not re.fullmatch(r"[A-Z]{3}", currency):
                self.fail(
                    None,
                    "currency",
                    f"currency must be a three-letter ISO 4217 code, got {currency!r}",
                    'write currency = "GBP"',
                )
            fields["currency"] = currency
        key = "ignore-rows-starting-with"
        if key in top:
            fields["ignore_rows_starting_with"] = self.texts(None, key, top[key])
        key = "ignore-rows-matching"
        if key in top:
            patterns = self.texts(None, key, top[key])
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    self.fail(
                        None,
                        key,
                        f"{pattern!r} is not a regular expression: {exc}",
                        "correct the pattern (Python re syntax); write it as a 'literal string' "
                        "so backslashes are kept, and escape . ( ) [ ] * + ? to match them as "
                        "they are",
                    )
            fields["ignore_rows_matching"] = patterns
        return fields

    def _columns(self, columns: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        """The ``[columns]`` table as mapping fields."""
        header = layout["has_header"]
        fields: dict[str, Any] = {}
        for key, value in columns.items():
            if key == "description":
                items = value if isinstance(value, list) else [value]
                fields[_FIELDS[key]] = tuple(self.column(key, item, header) for item in items)
            else:
                fields[_FIELDS[key]] = self.column(key, value, header)
        width = layout.get("column_count")
        for key, value in columns.items():
            for position in value if isinstance(value, list) else [value]:
                if not header and width is not None and position > width:
                    self.fail(
                        "columns",
                        key,
                        f"{key} = {position} is beyond column-count = {width}",
                        "columns are counted from 1; correct the position or column-count",
                    )
        if "date" not in columns:
            self.fail(
                "columns",
                None,
                "the rules name no date column",
                'add date = "<its name in the header row>" (or its position) under [columns]',
            )
        self._one_amount_scheme(columns)
        if "sort-code" in columns and "account" not in columns:
            self.fail(
                "columns",
                "sort-code",
                "sort-code needs an account column beside it",
                "add account = <the account number column> under [columns]",
            )
        return fields

    def _one_amount_scheme(self, columns: dict[str, Any]) -> None:
        split = [key for key in ("amount-in", "amount-out") if key in columns]
        if "amount" in columns and split:
            self.fail(
                "columns",
                split[0],
                f"{split[0]} with amount: give one signed amount column, or amount-in and "
                "amount-out, not both",
                f"remove {split[0]}, or amount",
            )
        if "amount" not in columns and len(split) != 2:
            missing = "amount-out" if split == ["amount-in"] else "amount-in"
            self.fail(
                "columns",
                split[0] if split else None,
                "the rules name no amount column"
                if not split
                else f"{split[0]} needs {missing} beside it",
                "give amount (one signed column), or both amount-in and amount-out (money in "
                "and money out, unsigned)",
            )
        if "direction" in columns and "amount" not in columns:
            self.fail(
                "columns",
                "direction",
                "direction needs amount: it says which way an unsigned amount goes",
                "add amount = <the amount column>, or remove direction",
            )

    def _dates(self, dates: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "formats" in dates:
            formats = self.texts("dates", "formats", dates["formats"])
            for date_format in formats:
                self._check_date_format(date_format)
            fields["date_formats"] = formats
        if "pending" in dates:
            fields["pending_dates"] = self.texts("dates", "pending", dates["pending"])
        return fields

    def _check_date_format(self, date_format: str) -> None:
        try:
            written = _PROBE.strftime(date_format)
            read = datetime.strptime(written, date_format).date()
        except ValueError as exc:
            self.fail(
                "dates",
                "formats",
                f"{date_format!r} is not a date format: {exc}",
                "use strptime codes, e.g. '%d/%m/%Y' for 23/11/2024 or '%d %b %Y' for 23 Nov 2024",
            )
        if read != _PROBE:
            self.fail(
                "dates",
                "formats",
                f"{date_format!r} does not read a whole date: 23 November 2024 written "
                f"{written!r} reads back as {read:%d %B %Y}",
                "give the day (%d), the month (%m, %b or %B) and the year (%Y or %y)",
            )

    def _amounts(self, amounts: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "sign" in amounts:
            sign = amounts["sign"]
            if sign not in _SIGNS:
                self.fail(
                    "amounts",
                    "sign",
                    f"sign must be 'credit-positive' or 'debit-positive', got {sign!r}",
                    "credit-positive: money in is positive (most accounts); debit-positive: "
                    "spending is positive (some cards)",
                )
            if "amount" not in columns or "direction" in columns:
                self.fail(
                    "amounts",
                    "sign",
                    "sign applies only to one signed [columns] amount without direction",
                    "remove sign: amount-in/amount-out and a direction column are unsigned",
                )
            fields["amount_sign"] = _SIGNS[sign]
        if "decimal-mark" in amounts:
            mark = amounts["decimal-mark"]
            if mark not in (".", ","):
                self.fail(
                    "amounts",
                    "decimal-mark",
                    f"decimal-mark must be '.' or ',', got {mark!r}",
                    'write decimal-mark = "," for amounts written 1.234,56',
                )
            fields["decimal_mark"] = mark
        if "thousands-separators" in amounts:
            key = "thousands-separators"
            fields["thousands_separators"] = self.flag("amounts", key, amounts[key])
        for key in ("credit-flags", "debit-flags"):
            if key not in amounts:
                continue
            if "direction" not in columns:
                self.fail(
                    "amounts",
                    key,
                    f"{key} needs [columns] direction, the column holding the flags",
                    "add direction = <the flag column> under [columns], or remove the flags",
                )
            fields[key.replace("-", "_")] = self.texts("amounts", key, amounts[key])
        credit = {f.casefold() for f in fields.get("credit_flags", ("CR",))}
        both = sorted(credit & {f.casefold() for f in fields.get("debit_flags", ())})
        if both:
            self.fail(
                "amounts",
                "debit-flags",
                f"{', '.join(both)} is both a credit flag and a debit flag",
                "list each flag once, under credit-flags or debit-flags",
            )
        return fields
