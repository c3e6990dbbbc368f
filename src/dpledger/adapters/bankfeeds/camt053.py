"""ISO 20022 camt.053 bank-to-customer statements (any ``camt.053.001.NN`` version), with lxml.

The XML is parsed with a parser that resolves no entities, loads no DTD and touches no network,
and a document with a ``DOCTYPE`` is refused: bank files are untrusted input. Elements are found by
local name within the document's own namespace, so 001.02 (``<Sts>BOOK</Sts>``) and 001.08+
(``<Sts><Cd>BOOK</Cd></Sts>``) read the same way.

One :class:`~dpledger.adapters.bankfeeds.model.BankTransaction` per ``<Ntry>``: the entry is
what moved the account's balance, even when it is a batch of several ``<TxDtls>``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Final

from lxml import etree

from dpledger.adapters.bankfeeds.model import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
    FieldError,
    SkippedEntry,
    exact_money,
    normalise_text,
    parse_iso_date,
)
from dpledger.adapters.bankfeeds.reading import (
    build_statement,
    build_transaction,
    check_size,
    refuse,
)
from dpledger.domain.errors import BankFileError
from dpledger.domain.money import Money

_NAMESPACE: Final = re.compile(
    r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(?P<version>\d{2})$"
)
_OTHER_CAMT: Final = re.compile(r"camt\.(?P<message>\d{3})\.")
_DECIMAL: Final = re.compile(r"^\d{1,18}(?:\.\d{1,17})?$")
_STATUS: Final = {
    "BOOK": EntryStatus.BOOKED,
    "PDNG": EntryStatus.PENDING,
    "FUTR": EntryStatus.PENDING,
    "INFO": EntryStatus.INFO,
}
_DIRECTION: Final = {"CRDT": Direction.CREDIT, "DBIT": Direction.DEBIT}
_OPENING: Final = ("OPBD", "PRCD")
_CLOSING: Final = ("CLBD",)
_INDEXED: Final = frozenset({"Stmt", "Ntry", "Bal", "NtryDtls", "TxDtls"})
_NOT_PROVIDED: Final = frozenset({"NOTPROVIDED", "NONREF"})

Element = etree._Element


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


class _Document:
    """A parsed camt.053 document: its namespace, and how to find and report elements."""

    def __init__(self, root: Element, namespace: str, filename: str) -> None:
        self.root = root
        self.namespace = namespace
        self.filename = filename

    def child(self, element: Element, *path: str) -> Element | None:
        """The first element at ``path`` below ``element`` (local names), or ``None``."""
        found: Element | None = element
        for name in path:
            if found is None:
                return None
            found = found.find(f"{{{self.namespace}}}{name}")
        return found

    def children(self, element: Element, name: str) -> list[Element]:
        """Every direct child of ``element`` called ``name``."""
        return list(element.iterchildren(f"{{{self.namespace}}}{name}"))

    def text(self, element: Element | None, *path: str) -> str | None:
        """The stripped text at ``path`` below ``element``, ``None`` when absent or empty."""
        if element is None:
            return None
        found = self.child(element, *path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def where(self, element: Element) -> str:
        """``element /Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt (line 60)``."""
        parts: list[str] = []
        node: Element | None = element
        while node is not None:
            name = etree.QName(node).localname
            parent = node.getparent()
            if parent is not None and name in _INDEXED:
                siblings = list(parent.iterchildren(node.tag))
                name = f"{name}[{siblings.index(node) + 1}]"
            parts.append(name)
            node = parent
        return f"element /{'/'.join(reversed(parts))} (line {element.sourceline})"

    def fail(self, element: Element, reason: str) -> BankFileError:
        """The error for a problem at ``element``."""
        return BankFileError(reason, file=self.filename, location=self.where(element))

    def required(self, element: Element, *path: str) -> Element:
        """The element at ``path``, or an error naming what is missing."""
        found = self.child(element, *path)
        if found is None:
            raise self.fail(element, f"<{'/'.join(path)}> is missing")
        return found


# --- the document -------------------------------------------------------------------------------


def _parse(data: bytes, filename: str) -> _Document:
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        refuse(
            filename,
            f"the XML is malformed: {exc.msg}",
            location=f"line {line}, column {column}",
            fix="the file may be truncated or not saved as the encoding its XML declaration says",
        )
    except (ValueError, etree.LxmlError) as exc:
        refuse(filename, f"the XML cannot be read: {exc}")
    if getattr(root.getroottree().docinfo, "doctype", ""):
        refuse(filename, "the XML has a DOCTYPE, which no bank statement needs; refused for safety")
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or not _NAMESPACE.match(namespace):
        other = _OTHER_CAMT.search(namespace)
        what = f"a camt.{other['message']} message" if other else f"namespace {namespace!r}"
        refuse(
            filename,
            f"this is not a camt.053 statement: the root is <{etree.QName(root).localname}> "
            f"in {what}",
            location="element /",
            fix="export the end-of-day statement (camt.053.001.02 to .13)",
        )
    return _Document(root, namespace, filename)


def parse_camt053(data: bytes, *, filename: str) -> list[BankStatement]:
    """Read a camt.053 file: one statement per ``<Stmt>``.

    Refuses malformed or truncated XML (with line and column), a document that is not camt.053,
    one with no ``<Stmt>``, and any entry or balance with a bad amount, currency, indicator,
    status or date (naming the element).
    """
    check_size(data, filename)
    document = _parse(data, filename)
    statements = document.child(document.root, "BkToCstmrStmt")
    if statements is None:
        raise document.fail(document.root, "<BkToCstmrStmt> is missing")
    found = document.children(statements, "Stmt")
    if not found:
        raise document.fail(statements, "the message holds no statement (<Stmt>)")
    # Locations are built from the loop's index: looking each element up among its siblings
    # would be quadratic in a hostile file with very many entries.
    return [
        _statement(document, statement, f"/Document/BkToCstmrStmt/Stmt[{index}]")
        for index, statement in enumerate(found, start=1)
    ]


# --- a statement --------------------------------------------------------------------------------


def _statement(document: _Document, statement: Element, path: str) -> BankStatement:
    currency = _currency(document, statement)
    opening, closing = _balances(document, statement, currency)
    transactions: list[BankTransaction] = []
    skipped: list[SkippedEntry] = []
    for index, entry in enumerate(document.children(statement, "Ntry"), start=1):
        location = f"element {path}/Ntry[{index}] (line {entry.sourceline})"
        transaction = _entry(document, entry, currency, location)
        if transaction is None:
            skipped.append(SkippedEntry(location=location, reason="the amount is zero"))
        else:
            transactions.append(transaction)
    account = document.text(statement, "Acct", "Id", "IBAN") or document.text(
        statement, "Acct", "Id", "Othr", "Id"
    )
    return build_statement(
        document.filename,
        f"element {path} (line {statement.sourceline})",
        format=BankFormat.CAMT053,
        account_id=account,
        statement_id=document.text(statement, "Id"),
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        period_start=_optional_date(document, statement, "FrToDt", "FrDtTm"),
        period_end=_optional_date(document, statement, "FrToDt", "ToDtTm"),
        transactions=tuple(transactions),
        skipped=tuple(skipped),
    )


def _currency(document: _Document, statement: Element) -> str:
    """The account currency: ``Acct/Ccy``, else the first booked balance's or entry's."""
    declared = document.text(statement, "Acct", "Ccy")
    if declared is not None:
        if not re.fullmatch(r"[A-Z]{3}", declared):
            raise document.fail(document.required(statement, "Acct", "Ccy"), "bad currency code")
        return declared
    candidates = [
        document.child(balance, "Amt")
        for balance in document.children(statement, "Bal")
        if _balance_code(document, balance) in _OPENING + _CLOSING
    ] + [document.child(entry, "Amt") for entry in document.children(statement, "Ntry")]
    for amount in candidates:
        if amount is not None and amount.get("Ccy"):
            return str(amount.get("Ccy"))
    raise document.fail(statement, "the statement has no currency (no Acct/Ccy, balance or entry)")


def _money(document: _Document, amount: Element, currency: str) -> Money:
    """The unsigned amount of an ``<Amt Ccy="...">`` element, in ``currency`` only."""
    text = (amount.text or "").strip()
    found = amount.get("Ccy")
    if found is None:
        raise document.fail(amount, "the amount has no currency (Ccy attribute)")
    if found != currency:
        raise document.fail(amount, f"amount in {found!r} but the account is in {currency}")
    if not _DECIMAL.match(text):
        raise document.fail(amount, f"{text!r} is not an amount")
    try:
        return exact_money(Decimal(text), currency)
    except FieldError as exc:
        raise document.fail(amount, str(exc)) from exc


def _direction(document: _Document, element: Element) -> Direction:
    indicator = document.required(element, "CdtDbtInd")
    direction = _DIRECTION.get((indicator.text or "").strip())
    if direction is None:
        raise document.fail(indicator, f"{indicator.text!r} is not CRDT or DBIT")
    return direction


def _date(document: _Document, element: Element) -> date:
    """The date in ``element`` (a ``<Dt>`` or ``<DtTm>`` child), as written."""
    holder = document.child(element, "Dt")
    holder = holder if holder is not None else document.child(element, "DtTm")
    if holder is None or not (holder.text or "").strip():
        raise document.fail(element, "the date (<Dt> or <DtTm>) is missing")
    try:
        return parse_iso_date(holder.text or "")
    except FieldError as exc:
        raise document.fail(holder, str(exc)) from exc


def _optional_date(document: _Document, element: Element, *path: str) -> date | None:
    found = document.child(element, *path)
    if found is None:
        return None
    try:
        return parse_iso_date(found.text or "")
    except FieldError as exc:
        raise document.fail(found, str(exc)) from exc


def _balance_code(document: _Document, balance: Element) -> str | None:
    return document.text(balance, "Tp", "CdOrPrtry", "Cd") or document.text(
        balance, "Tp", "CdOrPrtry", "Prtry"
    )


def _balances(
    document: _Document, statement: Element, currency: str
) -> tuple[BalanceAssertion | None, BalanceAssertion | None]:
    """The opening (``OPBD``, else ``PRCD``) and closing (``CLBD``) booked balances."""
    found: dict[str, BalanceAssertion] = {}
    for balance in document.children(statement, "Bal"):
        code = _balance_code(document, balance)
        if code not in _OPENING + _CLOSING:
            continue  # available, forward and interim balances are not statement balances
        if code in found:
            raise document.fail(balance, f"a second {code} balance")
        money = _money(document, document.required(balance, "Amt"), currency)
        signed = -money if _direction(document, balance) is Direction.DEBIT else money
        when = _date(document, document.required(balance, "Dt"))
        found[code] = BalanceAssertion(date=when, balance=signed, kind=code)
    opening = found.get("OPBD") or found.get("PRCD")
    return opening, found.get("CLBD")


# --- an entry -----------------------------------------------------------------------------------


def _status(document: _Document, entry: Element) -> EntryStatus:
    holder = document.required(entry, "Sts")
    code = document.text(holder, "Cd") or document.text(holder, "Prtry") or (holder.text or "")
    status = _STATUS.get(code.strip())
    if status is None:
        raise document.fail(holder, f"unknown entry status {code.strip()!r}")
    return status


def _reversal(document: _Document, entry: Element) -> bool:
    text = document.text(entry, "RvslInd")
    if text is None:
        return False
    if text not in {"true", "false", "1", "0"}:
        raise document.fail(document.required(entry, "RvslInd"), f"{text!r} is not a boolean")
    return text in {"true", "1"}


def _entry(
    document: _Document, entry: Element, currency: str, location: str
) -> BankTransaction | None:
    money = _money(document, document.required(entry, "Amt"), currency)
    direction = _direction(document, entry)
    status = _status(document, entry)
    is_reversal = _reversal(document, entry)
    booked = document.child(entry, "BookgDt")
    valued = document.child(entry, "ValDt")
    if money.is_zero():
        return None
    details = [
        item
        for group in document.children(entry, "NtryDtls")
        for item in document.children(group, "TxDtls")
    ]
    single = details[0] if len(details) == 1 else None
    return build_transaction(
        document.filename,
        location,
        booking_date=_date(document, booked) if booked is not None else None,
        value_date=_date(document, valued) if valued is not None else None,
        amount=money,
        direction=direction,
        status=status,
        description=_description(document, entry, details),
        counterparty=_counterparty(document, single, direction),
        transaction_type=_bank_code(document, entry),
        bank_reference=document.text(entry, "AcctSvcrRef")
        or document.text(single, "Refs", "AcctSvcrRef"),
        # The account servicer assigns AcctSvcrRef to this entry alone: it is the line's key.
        reference_is_unique=True,
        end_to_end_id=_end_to_end(document, single),
        is_reversal=is_reversal,
    )


def _description(document: _Document, entry: Element, details: list[Element]) -> str:
    entry_info = document.text(entry, "AddtlNtryInf") or ""
    if len(details) != 1:
        batch = f"batch of {len(details)} transactions" if details else ""
        return normalise_text(f"{entry_info} {batch}")
    item = details[0]
    remittance = document.child(item, "RmtInf")
    unstructured = (
        " ".join((u.text or "") for u in document.children(remittance, "Ustrd"))
        if remittance is not None
        else ""
    )
    structured = document.text(remittance, "Strd", "CdtrRefInf", "Ref") or ""
    return normalise_text(
        " ".join(
            filter(None, (unstructured, structured, document.text(item, "AddtlTxInf"), entry_info))
        )
    )


def _counterparty(document: _Document, item: Element | None, direction: Direction) -> str | None:
    if item is None:
        return None
    party = "Dbtr" if direction is Direction.CREDIT else "Cdtr"
    return document.text(item, "RltdPties", party, "Nm") or document.text(
        item, "RltdPties", party, "Pty", "Nm"
    )


def _end_to_end(document: _Document, item: Element | None) -> str | None:
    reference = document.text(item, "Refs", "EndToEndId")
    return None if reference is None or reference.upper() in _NOT_PROVIDED else reference


def _bank_code(document: _Document, entry: Element) -> str | None:
    domain = document.child(entry, "BkTxCd", "Domn")
    if domain is not None:
        parts = (
            document.text(domain, "Cd"),
            document.text(domain, "Fmly", "Cd"),
            document.text(domain, "Fmly", "SubFmlyCd"),
        )
        return "/".join(p for p in parts if p)
    return document.text(entry, "BkTxCd", "Prtry", "Cd")
