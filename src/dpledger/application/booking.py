"""Booking a bank line on its bank account, the one way every import and allocation does it,
and the check that the line moved exactly the money its event says."""

from __future__ import annotations

from dpledger.application.bankstatements import fit_text
from dpledger.application.session import Receipt
from dpledger.domain.bank import BankAccount, StatementLineBooked, money_moved
from dpledger.domain.bounds import MAX_REFERENCE, MAX_TEXT
from dpledger.domain.reconciliation import BankLine, Match, MatchKind

_STANDS_FOR_ANOTHER = (MatchKind.CONFIRMS, MatchKind.REVERSAL, MatchKind.TRANSFER)
"""Matches whose line stands for an event recorded before it (its ``target_version``)."""

UNALLOCATED = "unallocated"
"""The match of a pooled line held for a person to allocate (:attr:`LineOutcome.match`)."""


def book_line(
    bank: BankAccount,
    line: BankLine,
    *,
    actor: str,
    reason: str,
    account_id: str | None = None,
    recorded: tuple[Receipt, Match] | None = None,
) -> None:
    """Book ``line`` on ``bank`` (``StatementLineBooked``): naming ``account_id`` and the event
    of ``recorded`` (the receipt and match of what the line recorded on it), or, without them,
    held as unallocated for a person to allocate."""
    receipt, match = recorded if recorded is not None else (None, None)
    target = match.version if match is not None and match.kind in _STANDS_FOR_ANOTHER else None
    bank.record(
        StatementLineBooked,
        effective_date=line.booking_date,
        actor=actor,
        reason=fit_text(reason, MAX_TEXT),
        line_key=line.key,
        booking_date=line.booking_date,
        amount=line.signed,
        credit=line.credit,
        is_reversal=line.is_reversal,
        description=describe_line(line),
        bank_reference=fit_text(line.bank_reference or line.end_to_end_id, MAX_REFERENCE),
        account_id=account_id,
        event_version=None if receipt is None else receipt.version,
        target_version=None if receipt is None else target or receipt.version,
        event_type=None
        if receipt is None or match is None
        else match.matched_type or receipt.event_type,
        match=UNALLOCATED if match is None else match.kind.value,
        reverses_line=None if match is None else match.line_key,
    )


def check_moved(receipt: Receipt, line: BankLine, bank: str) -> None:
    """The event a bank line recorded moved exactly the line's money in or out of the bank (or
    confirmed that the bank did): checked for every line, so a bank account's lines always add
    up to what its managed accounts' events say. A failure is a bug: nothing is saved."""
    moved = money_moved(receipt.event, bank)
    if moved != line.signed:
        raise AssertionError(
            f"bank line {line.key} moved {line.signed} but {receipt.event_type} (event "
            f"{receipt.version} of {receipt.account_id}) moved {moved}"
        )


def describe_line(line: BankLine) -> str:
    """The line's description as recorded: the bank's text made fit, else its direction."""
    return fit_text(line.label, MAX_TEXT) or ("bank credit" if line.credit else "bank debit")
