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
