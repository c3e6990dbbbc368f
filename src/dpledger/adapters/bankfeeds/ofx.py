"""OFX 1.x (SGML) and 2.x (XML) bank and credit card statements, read with ``ofxparse`` (MIT).

``ofxparse`` does the tag soup; this module decides the text encoding from the OFX header itself,
keeps each line's date as the bank wrote it (``ofxparse`` would shift it to UTC, moving a
BST-stamped line to the previous day), reads amounts exactly, and turns every failure into a
:class:`~dpledger.domain.errors.BankFileError` with the line of the offending ``<STMTTRN>``.
"""

from __future__ import annotations

import io
import re
import warnings
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from ofxparse import OfxParser
from ofxparse.ofxparse import AccountType

from dpledger.adapters.bankfeeds.model import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
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

_HEADER_LINE: Final = re.compile(r"^\s*(?P<key>[A-Z]+)\s*:\s*(?P<value>.*?)\s*$")
_XML_ENCODING: Final = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["'](?P<enc>[\w.:-]+)["']""")
_OFX_DATE: Final = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
    r"(?:(?P<H>\d{2})(?P<M>\d{2})(?:(?P<S>\d{2})(?:\.\d{1,6})?)?)?"
    r"(?:\s*\[[+-]?\d{1,2}(?:\.\d+)?(?::[^\]]*)?\])?$"
)
_SGML_CHARSETS: Final = {
    "1252": "cp1252",
    "NONE": "cp1252",
    "ISO-8859-1": "latin-1",
    "8859-1": "latin-1",
}


class _LocatedError(Exception):
    """An ofxparse failure tagged with where in the file it happened."""

    def __init__(self, reason: str, location: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location


class _Parser(OfxParser):  # type: ignore[misc]  # ofxparse is untyped
    """``OfxParser`` with local dates, exact amounts and located errors.

    ``line_offset`` is the number of header lines removed before the body reached ofxparse, so
    line numbers refer to the original file. Not thread-safe (ofxparse keeps its options on the
    class), hence one subclass per call (see :func:`_run_ofxparse`).
    """

    line_offset = 0

    @classmethod
    def parseOfxDateTime(cls, text: str) -> datetime | None:  # noqa: N802 - ofxparse's name
        """The date and time as the bank wrote them; the time-zone bracket is ignored."""
        if text.strip().startswith("00000000"):
            return None
        match = _OFX_DATE.match(text.strip())
        if match is None:
            raise ValueError(f"{text.strip()!r} is not an OFX date (YYYYMMDD[HHMMSS[.XXX]][TZ])")
        hour, minute, second = (int(match[k] or 0) for k in ("H", "M", "S"))
        # Naive on purpose: the bank's local time, whose date is the booking date.
        return datetime(int(match["y"]), int(match["m"]), int(match["d"]), hour, minute, second)

    @classmethod
    def parseTransaction(cls, txn_ofx: Any) -> Any:  # noqa: N802 - ofxparse's name
        """ofxparse's transaction plus its exact amount and its location."""
        location = cls._where(txn_ofx, "STMTTRN")
        try:
            transaction = super().parseTransaction(txn_ofx)
            transaction.dp_amount = _exact_trnamt(txn_ofx)
        except Exception as exc:  # ofxparse raises its own type, and others on odd input
            raise _LocatedError(str(exc).strip(), location) from exc
        transaction.dp_location = location
        return transaction

    @classmethod
    def parseStatement(cls, stmt_ofx: Any) -> Any:  # noqa: N802 - ofxparse's name
        """ofxparse's statement plus its exact ledger balance and its location."""
        location = cls._where(stmt_ofx, "STMTRS")
        try:
            statement = super().parseStatement(stmt_ofx)
            statement.dp_ledger = _exact_balance(stmt_ofx)
        except _LocatedError:
            raise
        except Exception as exc:  # ofxparse raises all sorts here
            raise _LocatedError(str(exc).strip(), location) from exc
        statement.dp_location = location
        return statement

    @classmethod
    def _where(cls, tag: Any, name: str) -> str:
        line = getattr(tag, "sourceline", None)
        if isinstance(line, int):
            return f"line {line + cls.line_offset} (<{name}>)"
        return f"<{name}>"


def _tag_text(parent: Any, name: str) -> str | None:
    tag = parent.find(name)
    if tag is None or not getattr(tag, "contents", None):
        return None
    return str(tag.contents[0]).strip()


def _exact_trnamt(txn_ofx: Any) -> Decimal:
    text = _tag_text(txn_ofx, "trnamt")
    if text is None:
        raise FieldError("the transaction has no amount (TRNAMT)")
    if text.lower() in {"null", "-null"}:  # some banks' way of writing a rate-change note
        return Decimal(0)
    return decimal_from_text(text, what="TRNAMT")


def _exact_balance(stmt_ofx: Any) -> tuple[Decimal, datetime | None] | None:
    ledger = stmt_ofx.find("ledgerbal")
    if ledger is None:
        return None
    text = _tag_text(ledger, "balamt")
    if not text:
        raise FieldError("the ledger balance (LEDGERBAL/BALAMT) is empty")
    as_of = _tag_text(ledger, "dtasof")
    as_of_time = _Parser.parseOfxDateTime(as_of) if as_of else None
    return decimal_from_text(text, what="BALAMT"), as_of_time


# --- encoding -----------------------------------------------------------------------------------


def _encoding(data: bytes, filename: str) -> str:
    """The text encoding the OFX header declares (UTF-8 when it declares none)."""
    body = data.removeprefix(b"\xef\xbb\xbf")
    xml = _XML_ENCODING.match(body)
    if xml is not None:
        return xml["enc"].decode("ascii")
    start = body.find(b"<")
    head = body[: start if start >= 0 else len(body)]
    headers: dict[str, str] = {}
    for number, raw in enumerate(head.splitlines(), start=1):
        line = raw.decode("ascii", "replace")
        if not line.strip():
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            refuse(filename, "malformed OFX header line", location=f"line {number}")
        headers[match["key"]] = match["value"].upper()
    kind = headers.get("ENCODING", "USASCII")
    if kind in {"UTF-8", "UNICODE"}:
        return "utf-8"
    if kind != "USASCII":
        refuse(filename, f"unsupported OFX header ENCODING:{kind}", location="header")
    charset = headers.get("CHARSET", "1252")
    if charset not in _SGML_CHARSETS:
        refuse(filename, f"unsupported OFX header CHARSET:{charset}", location="header")
    return _SGML_CHARSETS[charset]


# --- the file -----------------------------------------------------------------------------------


def parse_ofx(data: bytes, *, filename: str) -> list[BankStatement]:
    """Read an OFX file: one statement per ``<STMTRS>`` or ``<CCSTMTRS>`` in it.

    Refuses a file the bank sent instead of a statement (a ``STATUS`` with an error code), an
    investment statement, and any malformed date, amount or balance, with the line of the
    ``<STMTTRN>`` concerned.
    """
    check_size(data, filename)
    if not re.search(rb"<OFX>", data, re.IGNORECASE):
        refuse(filename, "this is not an OFX file: no <OFX> element")
    text = decode(data, filename, _encoding(data, filename))
    start = text.find("<")
    ofx = _run_ofxparse(text, start, filename)
    _check_status(ofx, filename)
    accounts = list(getattr(ofx, "accounts", []))
    if not accounts:
        refuse(filename, "the file holds no bank or credit card statement (<STMTRS>/<CCSTMTRS>)")
    return [_statement(account, filename) for account in accounts]


def _run_ofxparse(text: str, start: int, filename: str) -> Any:
    # ofxparse reads the header itself and would decode the body again; giving it only the body,
    # as ASCII with character references, keeps our decoding and survives any character.
    class _CallParser(_Parser):
        line_offset = text.count("\n", 0, start)

    body = _close_open_tags(text[start:], filename).encode("ascii", "xmlcharrefreplace")
    try:
        with warnings.catch_warnings():
            # BeautifulSoup warns that OFX 2 is XML read by an HTML parser; ofxparse chose that.
            warnings.simplefilter("ignore")
            return _CallParser.parse(io.BytesIO(body), fail_fast=True)
    except _LocatedError as exc:
        refuse(filename, f"the OFX is malformed: {exc.reason}", location=exc.location)
    except BankFileError:
        raise
    except Exception as exc:  # ofxparse and BeautifulSoup raise anything on bad input
        refuse(filename, f"the OFX is malformed: {exc}".strip())


_TOKEN: Final = re.compile(r"(?i)(</?[a-z0-9_.]+>)")
_CLOSING_TAG: Final = re.compile(r"(?i)</([a-z0-9_.]+)>")
_OPEN_TAG: Final = re.compile(r"(?i)<([a-z0-9_.]+)>")
_MAX_TAG_NAMES: Final = 500


def _close_open_tags(body: str, filename: str) -> str:
    """SGML body with every unclosed element closed, exactly as ofxparse would close it.

    ofxparse does this itself by looking each tag up in a list of every closing tag in the file,
    which is quadratic: a 2 MB statement took over 20 seconds. Here it is done with a set, and a
    comment listing each distinct closing tag once is put first, so ofxparse's own lookups stop
    within the first few hundred entries. OFX has a few hundred element names; a file with more
    is not OFX, and is refused before it can make the lookups slow.
    """
    closed = {name.upper() for name in _CLOSING_TAG.findall(body)}
    if len(closed) > _MAX_TAG_NAMES:
        refuse(filename, f"more than {_MAX_TAG_NAMES} different element names: not an OFX file")
    out: list[str] = []
    last_open: str | None = None
    for token in _TOKEN.split(body):
        is_tag = token.startswith("<") and not token.startswith("<!")
        if is_tag and last_open is not None:
            out.append(f"</{last_open}>")
            last_open = None
        if is_tag and not token.startswith(("</", "<?")):
            name = _OPEN_TAG.match(token)
            if name is not None and name[1].upper() not in closed:
                last_open = name[1]
        out.append(token)
    index = "".join(f"</{name}>" for name in sorted(closed))
    return f"<!-- {index} -->" + "".join(out)


def _check_status(ofx: Any, filename: str) -> None:
    signon = getattr(ofx, "signon", None)
    if signon is not None and not signon.success:
        refuse(
            filename,
            f"the bank refused the sign-on (STATUS {signon.code} {signon.severity}: "
            f"{signon.message or 'no message'}); the file holds no statement",
            fix="download the statement again from the bank",
        )
    status = getattr(ofx, "status", None)
    if isinstance(status, dict) and status.get("code") not in (0, None):
        refuse(
            filename,
            f"the bank sent an error instead of a statement (STATUS {status.get('code')} "
            f"{status.get('severity')}: {status.get('message') or 'no message'})",
            fix="download the statement again from the bank",
        )


def _statement(account: Any, filename: str) -> BankStatement:
    statement = account.statement
    if account.type == AccountType.Investment:
        refuse(filename, "investment statements (<INVSTMTRS>) are not bank statements")
    if statement is None:
        refuse(filename, "the file lists an account but holds no statement for it")
    location = getattr(statement, "dp_location", None)
    currency = str(getattr(statement, "currency", "") or account.curdef or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        refuse(filename, "the statement has no currency (CURDEF)", location=location)
    transactions: list[BankTransaction] = []
    skipped: list[SkippedEntry] = []
    for item in statement.transactions:
        transaction = _transaction(item, currency, filename)
        if transaction is None:
            skipped.append(SkippedEntry(location=item.dp_location, reason="the amount is zero"))
        else:
            transactions.append(transaction)
    return build_statement(
        filename,
        location,
        format=BankFormat.OFX,
        account_id=_account_id(account),
        currency=currency,
        closing_balance=_closing(statement, currency, filename, location),
        period_start=_date(statement.start_date),
        period_end=_date(statement.end_date),
        transactions=tuple(transactions),
        skipped=tuple(skipped),
    )


def _account_id(account: Any) -> str | None:
    number = normalise_text(account.account_id)
    bank = normalise_text(account.routing_number)
    if bank:
        return uk_account(bank, number)
    return number or None


def _date(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def _closing(
    statement: Any, currency: str, filename: str, location: str | None
) -> BalanceAssertion | None:
    ledger = getattr(statement, "dp_ledger", None)
    if ledger is None:
        return None
    amount, as_of = ledger
    if as_of is None:
        refuse(filename, "the ledger balance (LEDGERBAL) has no date (DTASOF)", location=location)
    try:
        balance = exact_money(amount, currency)
    except FieldError as exc:
        refuse(filename, f"ledger balance: {exc}", location=location)
    return BalanceAssertion(date=as_of.date(), balance=balance, kind="LEDGERBAL")


def _transaction(item: Any, currency: str, filename: str) -> BankTransaction | None:
    amount: Decimal = item.dp_amount
    location: str = item.dp_location
    if amount == 0:
        return None
    try:
        money = exact_money(abs(amount), currency)
    except FieldError as exc:
        refuse(filename, f"TRNAMT: {exc}", location=location)
    if not isinstance(item.date, datetime):
        refuse(filename, "the transaction has no date (DTPOSTED)", location=location)
    payee = normalise_text(item.payee)
    memo = normalise_text(item.memo)
    description = memo if memo.startswith(payee) else f"{payee} {memo}"
    return build_transaction(
        filename,
        location,
        booking_date=item.date.date(),
        amount=money,
        direction=Direction.CREDIT if amount > 0 else Direction.DEBIT,
        description=description,
        counterparty=payee,
        transaction_type=str(item.type or "").upper(),
        bank_reference=item.id,
        # OFX requires a FITID unique within the account and never changed: the line's key.
        reference_is_unique=True,
    )
