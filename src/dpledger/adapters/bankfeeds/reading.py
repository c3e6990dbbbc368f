"""What every parser does the same way: turn bytes into text, refuse with a location, build models.

A parser never lets anything but :class:`~dpledger.domain.errors.BankFileError` escape, and never
returns part of a file. The helpers here keep those promises in one place.
"""

from __future__ import annotations

import codecs
from typing import Any, Final, NoReturn

import pydantic

from dpledger.adapters.bankfeeds.model import BankStatement, BankTransaction
from dpledger.domain.errors import BankFileError

#: Larger than any statement a Direct Payment account produces; refusing bigger files keeps a
#: hostile upload from exhausting memory.
MAX_FILE_BYTES: Final = 50 * 1024 * 1024

_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def refuse(filename: str, reason: str, *, location: str | None = None, fix: str = "") -> NoReturn:
    """Raise :class:`BankFileError` for ``filename``."""
    raise BankFileError(reason, file=filename, location=location, fix=fix)


def check_size(data: bytes, filename: str) -> None:
    """Refuse a file that is empty or larger than :data:`MAX_FILE_BYTES`."""
    if not data.strip():
        refuse(filename, "the file is empty", fix="export the statement again")
    if len(data) > MAX_FILE_BYTES:
        refuse(
            filename,
            f"the file is {len(data)} bytes, more than the {MAX_FILE_BYTES} bytes accepted",
            fix="export a shorter period",
        )


def decode(data: bytes, filename: str, encoding: str = "utf-8") -> str:
    """``data`` as text: a byte-order mark wins, otherwise ``encoding`` (UTF-8 by default).

    A byte that is not valid in the encoding is refused with its line and column, never replaced:
    a wrongly decoded name or reference would silently break matching later.
    """
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return _decode_or_refuse(data[len(bom) :], bom_encoding, filename)
    return _decode_or_refuse(data, encoding, filename)


def _decode_or_refuse(data: bytes, encoding: str, filename: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        refuse(filename, f"unknown text encoding {encoding!r}")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        refuse(
            filename,
            f"the file is not valid {encoding} text (byte 0x{byte} cannot be decoded)",
            location=f"line {line}, column {column}",
            fix=f"export the file as {encoding}, or say which encoding it uses",
        )


def build_transaction(filename: str, location: str, **fields: Any) -> BankTransaction:
    """A validated :class:`BankTransaction`, or :class:`BankFileError` at ``location``."""
    try:
        return BankTransaction(source_location=location, **fields)
    except pydantic.ValidationError as exc:
        refuse(filename, _first_error(exc), location=location)


#: The validators of :class:`BankTransaction`, as (name, fields, mode), whose checks a parser
#: using :func:`trusted_transaction` repeats. When the model's differ (someone added or changed
#: one), :data:`FAST_TRANSACTIONS` is false and parsers validate every line with pydantic:
#: slower, never wrong. tests/bankfeeds/test_csv_rules.py checks that both paths agree.
_REPEATED_VALIDATORS: Final = frozenset(
    {
        ("_tidy_description", ("description",), "before"),
        (
            "_blank_is_none",
            (
                "counterparty",
                "transaction_type",
                "bank_transaction_id",
                "bank_reference",
                "end_to_end_id",
            ),
            "before",
        ),
        ("_amount_above_zero", ("amount",), "after"),
        ("_consistent", (), "after"),
    }
)
#: The field constraints a parser's values could break (the defaults satisfy the others).
_CONSTRAINED: Final = {"source_location": "[MinLen(min_length=1)]"}


def _model_is_as_repeated() -> bool:
    decorators = BankTransaction.__pydantic_decorators__
    found = {(n, tuple(d.info.fields), d.info.mode) for n, d in decorators.field_validators.items()}
    found |= {(n, (), d.info.mode) for n, d in decorators.model_validators.items()}
    if decorators.validators or decorators.root_validators or found != _REPEATED_VALIDATORS:
        return False
    fields = BankTransaction.model_fields
    constrained = {n: repr(f.metadata) for n, f in fields.items() if f.metadata}
    return all(constrained.get(name) == rule for name, rule in _CONSTRAINED.items())


FAST_TRANSACTIONS: Final = _model_is_as_repeated()
"""Whether a parser may build lines with :func:`trusted_transaction` (the model's checks are
the ones it repeats)."""

TRANSACTION_DEFAULTS: Final = {
    name: None if info.is_required() else info.get_default(call_default_factory=True)
    for name, info in BankTransaction.model_fields.items()
}
"""Every field of :class:`BankTransaction` in the model's order, with its default (``None`` for a
required field): ``{**TRANSACTION_DEFAULTS, ...}`` starts the values of
:func:`trusted_transaction`."""


def trusted_transaction(values: dict[str, Any], given: frozenset[str]) -> BankTransaction:
    """A :class:`BankTransaction` from values already checked, without pydantic's per-line cost.

    ``values`` holds every field (start from :data:`TRANSACTION_DEFAULTS`), each already as the
    model's validators would leave it: text through
    :func:`~dpledger.adapters.bankfeeds.model.normalise_text`, blank optional text ``None``, an
    amount above zero, a booking date for a booked line, one currency. ``given`` names the fields
    the parser set (pydantic's ``model_fields_set``). Use it only while
    :data:`FAST_TRANSACTIONS` is true, and fall back to :func:`build_transaction` for anything
    the parser has not checked itself; the object is what ``model_construct`` would build.
    """
    transaction = BankTransaction.__new__(BankTransaction)
    object.__setattr__(transaction, "__dict__", values)
    object.__setattr__(transaction, "__pydantic_fields_set__", set(given))
    object.__setattr__(transaction, "__pydantic_extra__", None)
    object.__setattr__(transaction, "__pydantic_private__", None)
    return transaction


def build_statement(filename: str, location: str | None = None, **fields: Any) -> BankStatement:
    """A validated :class:`BankStatement`, or :class:`BankFileError` naming the problem."""
    try:
        return BankStatement(source_file=filename, **fields)
    except pydantic.ValidationError as exc:
        refuse(filename, _first_error(exc), location=location)


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message
