"""Bank-feed parsers: statement files in, normalised and validated statements out.

>>> from dpledger.adapters.bankfeeds import parse_file
>>> statements = parse_file("statement.csv")  # doctest: +SKIP
>>> for statement in statements:  # doctest: +SKIP
...     for line in statement.transactions:
...         print(line.booking_date, line.direction, line.amount, line.dedup_key)

:func:`parse_file` (or :func:`parse_bytes`) tells the format from the content, with the file name's
extension as a hint, and returns one :class:`BankStatement` per account or statement in the file.
A file is read completely or refused: anything wrong raises
:class:`~dpledger.errors.BankFileError` naming the file, the line or element, and the reason.
Formats: bank CSV exports (:mod:`.csv_export`; a layout of any other bank from a TOML rules file
with :func:`load_csv_rules`), OFX (:mod:`.ofx`), MT940/MT942 (:mod:`.mt940`),
camt.053 (:mod:`.camt053`) and UK Open Banking transactions (:mod:`.openbanking`). See
``docs/bankfeeds.md``.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Final

from dpledger.adapters.bankfeeds.camt053 import parse_camt053
from dpledger.adapters.bankfeeds.csv_export import (
    BUILTIN_CSV_MAPPINGS,
    AmountSign,
    CsvMapping,
    parse_csv,
)
from dpledger.adapters.bankfeeds.csvrules import csv_rules_from_text, load_csv_rules
from dpledger.adapters.bankfeeds.model import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
    SkippedEntry,
)
from dpledger.adapters.bankfeeds.mt940 import parse_mt940
from dpledger.adapters.bankfeeds.ofx import parse_ofx
from dpledger.adapters.bankfeeds.openbanking import parse_open_banking
from dpledger.adapters.bankfeeds.reading import MAX_FILE_BYTES, refuse
from dpledger.domain.errors import BankFileError

__all__ = [
    "BUILTIN_CSV_MAPPINGS",
    "MAX_FILE_BYTES",
    "AmountSign",
    "BalanceAssertion",
    "BankFileError",
    "BankFormat",
    "BankStatement",
    "BankTransaction",
    "CsvMapping",
    "Direction",
    "EntryStatus",
    "SkippedEntry",
    "csv_rules_from_text",
    "detect_format",
    "load_csv_rules",
    "parse_bytes",
    "parse_camt053",
    "parse_csv",
    "parse_file",
    "parse_mt940",
    "parse_ofx",
    "parse_open_banking",
]

_EXTENSIONS: Final = {
    ".csv": BankFormat.CSV,
    ".ofx": BankFormat.OFX,
    ".qfx": BankFormat.OFX,
    ".xml": BankFormat.CAMT053,
    ".json": BankFormat.OPEN_BANKING,
    ".sta": BankFormat.MT940,
    ".mt940": BankFormat.MT940,
    ".940": BankFormat.MT940,
    ".mt942": BankFormat.MT940,
}
_SNIFF_BYTES: Final = 4096


def _head(data: bytes) -> bytes:
    """The start of the file as UTF-8-ish bytes, whatever its byte-order mark."""
    head = data[:_SNIFF_BYTES]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore").encode()
    return head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n\x01")


def detect_format(data: bytes, filename: str = "") -> BankFormat | None:
    """The format of ``data`` judged by its content, else by ``filename``'s extension.

    ``None`` when neither tells (the caller then treats it as CSV, the one format with no
    signature).
    """
    head = _head(data)
    if head.startswith(b"{1:") or re.search(rb"(?m)^:20:", head):
        return BankFormat.MT940
    if re.search(rb"OFXHEADER|<\?OFX|<OFX>", head, re.IGNORECASE):
        return BankFormat.OFX
    if head.startswith(b"<"):
        return BankFormat.CAMT053
    if head.startswith((b"{", b"[")):
        return BankFormat.OPEN_BANKING
    return _EXTENSIONS.get(Path(filename).suffix.lower())


def parse_bytes(
    data: bytes,
    *,
    filename: str,
    format: BankFormat | str | None = None,
    csv_mapping: CsvMapping | None = None,
) -> list[BankStatement]:
    """Parse a bank file's bytes into statements (see :func:`parse_file`)."""
    if format is None:
        format = BankFormat.CSV if csv_mapping is not None else detect_format(data, filename)
    try:
        chosen = BankFormat(format) if format is not None else BankFormat.CSV
    except ValueError:
        known = ", ".join(f.value for f in BankFormat)
        refuse(filename, f"unknown format {format!r}", fix=f"use one of {known}")
    if csv_mapping is not None and chosen is not BankFormat.CSV:
        refuse(filename, f"a CSV mapping was given but the file is {chosen.value}")
    if chosen is BankFormat.CSV:
        return parse_csv(data, filename=filename, mapping=csv_mapping)
    if chosen is BankFormat.OFX:
        return parse_ofx(data, filename=filename)
    if chosen is BankFormat.MT940:
        return parse_mt940(data, filename=filename)
    if chosen is BankFormat.CAMT053:
        return parse_camt053(data, filename=filename)
    return parse_open_banking(data, filename=filename)


def parse_file(
    path: str | os.PathLike[str],
    format: BankFormat | str | None = None,
    *,
    csv_mapping: CsvMapping | None = None,
) -> list[BankStatement]:
    """Read the bank file at ``path``: one :class:`BankStatement` per account or statement in it.

    ``format`` (a :class:`BankFormat` or its value, e.g. ``"camt053"``) skips detection. A
    ``csv_mapping`` reads a CSV export from a bank without a built-in mapping. Raises
    :class:`~dpledger.errors.BankFileError`, and nothing else, for any unreadable, unrecognised or
    malformed file; nothing is returned from such a file.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            refuse(file.name, f"the file is {size} bytes, more than the {MAX_FILE_BYTES} accepted")
        data = file.read_bytes()
    except OSError as exc:
        raise BankFileError(f"cannot read the file: {exc.strerror or exc}", file=file.name) from exc
    return parse_bytes(data, filename=file.name, format=format, csv_mapping=csv_mapping)
