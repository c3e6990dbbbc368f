"""How a bank's CSV export is laid out: :class:`CsvMapping`, and the built-in mappings.

:mod:`.csv_export` reads a file with a mapping; :mod:`.csvrules` reads a mapping from a TOML rules
file. A mapping only describes: it reads nothing itself.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Column = str | int
"""A column named by its header text (matched ignoring case and surrounding spaces) or by its
0-based position (for files without a header row, or an unnamed column)."""


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
    a flag (``"CR"``) marks money in; an empty flag, or one of ``debit_flags``, marks money out.
    ``encoding`` is used only when the file is not valid UTF-8 (Nationwide exports ISO-8859-1).
    ``header`` pins the exact column names; without it, only the columns the mapping names must be
    present. ``decimal_mark`` ``","`` reads ``1.234,56``. ``account_id`` names the account of
    every line when the file has no account columns. Rows whose first cell starts with one of
    ``ignore_rows_starting_with``, or whose cells joined by the delimiter match one of the regular
    expressions ``ignore_rows_matching``, are not read. ``rules_file`` is the rules file the
    mapping was read from (:mod:`.csvrules`), named in errors about its columns.
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
    debit_flags: tuple[str, ...] = ()
    description_columns: tuple[Column, ...] = ()
    counterparty_column: Column | None = None
    type_column: Column | None = None
    balance_column: Column | None = None
    id_column: Column | None = None
    reference_column: Column | None = None
    sort_code_column: Column | None = None
    account_column: Column | None = None
    account_id: str | None = Field(default=None, min_length=1)
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    currency_column: Column | None = None
    decimal_mark: Literal[".", ","] = "."
    thousands_separators: bool = True
    ignore_rows_starting_with: tuple[str, ...] = ()
    ignore_rows_matching: tuple[str, ...] = ()
    rules_file: str | None = None

    @model_validator(mode="after")
    def _one_amount_scheme(self) -> Self:
        split = (self.debit_column is not None, self.credit_column is not None)
        if self.amount_column is None and split != (True, True):
            raise ValueError("give amount_column, or both debit_column and credit_column")
        if self.amount_column is not None and any(split):
            raise ValueError("give amount_column or debit_column/credit_column, not both")
        if self.credit_flag_column is not None and self.amount_column is None:
            raise ValueError("credit_flag_column needs amount_column")
        if self.debit_flags and self.credit_flag_column is None:
            raise ValueError("debit_flags needs credit_flag_column")
        credit = {flag.casefold() for flag in self.credit_flags}
        if credit & {flag.casefold() for flag in self.debit_flags}:
            raise ValueError("a flag cannot be both in credit_flags and in debit_flags")
        return self

    @model_validator(mode="after")
    def _one_account_source(self) -> Self:
        if self.account_id is not None and (
            self.account_column is not None or self.sort_code_column is not None
        ):
            raise ValueError("give account_id or account_column/sort_code_column, not both")
        return self

    @field_validator("ignore_rows_matching")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return patterns

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
        return [c for field in COLUMN_KEYS for c in self._named_by(field)]

    def _named_by(self, field: str) -> tuple[Column, ...]:
        value = getattr(self, field)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)

    def column_source(self, column: Column) -> str:
        """What names ``column``: its field (``date_column``), or for a mapping read from a rules
        file, its key there (``[columns] date in bank.rules.toml``)."""
        field = next((f for f in COLUMN_KEYS if column in self._named_by(f)), "a column field")
        if self.rules_file is None:
            return field
        return f"[columns] {COLUMN_KEYS.get(field, field)} in {self.rules_file}"


COLUMN_KEYS: Final = {
    "date_column": "date",
    "amount_column": "amount",
    "debit_column": "amount-out",
    "credit_column": "amount-in",
    "credit_flag_column": "direction",
    "counterparty_column": "counterparty",
    "type_column": "type",
    "balance_column": "balance",
    "id_column": "id",
    "reference_column": "reference",
    "sort_code_column": "sort-code",
    "account_column": "account",
    "currency_column": "currency",
    "description_columns": "description",
}
"""Each column field of :class:`CsvMapping` and its key in a rules file's ``[columns]`` table."""


def header_key(name: str) -> str:
    """A header name as compared: no surrounding spaces or apostrophes, case-folded."""
    return name.strip().strip("'").strip().casefold()


def trimmed_header(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Header names as compared: normalised, without trailing unnamed columns."""
    keys = [header_key(name) for name in names]
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
