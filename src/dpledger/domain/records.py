"""The state a managed account keeps about its parties and documents.

Plain frozen records: the aggregate replaces them when an event changes them, so a record read from
an account never changes under the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from dpledger.domain.money import Money


@dataclass(frozen=True, slots=True)
class BudgetAgreement:
    """The personal budget from ``effective_date`` until the next agreement."""

    effective_date: date
    weekly_gross: Money
    weekly_contribution: Money

    @property
    def weekly_council_share(self) -> Money:
        """What the council funds each week: gross minus contribution, never below zero."""
        share = self.weekly_gross - self.weekly_contribution
        return share if share.pence > 0 else Money(0)


@dataclass(frozen=True, slots=True)
class CouncilPayment:
    """A regular council payment as recorded, with the period it pays for when stated."""

    version: int
    effective_date: date
    amount: Money
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True, slots=True)
class Agency:
    """A care provider registered to invoice this account, with the hourly rate it was
    registered with (rates agreed later are :class:`AgreedRate`)."""

    agency_id: str
    name: str
    hourly_rate: Money | None


@dataclass(frozen=True, slots=True)
class AgreedRate:
    """An agency's agreed hourly rate, in force from ``effective_from``."""

    effective_from: date
    hourly_rate: Money


class InvoiceStatus(Enum):
    """Where an agency invoice is in its life."""

    RECEIVED = "received"
    APPROVED = "approved"
    DISPUTED = "disputed"
    PAID = "paid"
    VOIDED = "voided"
    """Entered in error and corrected away; its number may be used again."""


@dataclass(frozen=True, slots=True)
class Invoice:
    """An agency invoice and how much of it has been paid."""

    agency_id: str
    invoice_number: str
    period_start: date
    period_end: date
    hours: Decimal
    rate: Money
    total: Money
    status: InvoiceStatus
    paid: Money
    received_version: int = 0
    """The account version of the event that recorded this invoice."""
    approved_version: int | None = None
    """The version of the approval in force, if approved."""
    credited: Money = field(default_factory=lambda: Money(0))
    """What the agency's credit notes took off it."""
    settled_on: date | None = None
    """The day it was paid in full (or credited away, or voided)."""

    @property
    def key(self) -> str:
        """The invoice's identity on the account: agency and number."""
        return invoice_key(self.agency_id, self.invoice_number)

    @property
    def net_total(self) -> Money:
        """The total less credit notes: what the agency is owed for it in the end."""
        return self.total - self.credited

    @property
    def outstanding(self) -> Money:
        """What is still owed on it, once approved."""
        if self.status in (InvoiceStatus.APPROVED, InvoiceStatus.PAID):
            return self.total - self.paid - self.credited
        return Money(0)


def invoice_key(agency_id: str, invoice_number: str) -> str:
    """Agency and invoice number, as one key (numbers are compared ignoring case and spaces)."""
    return f"{agency_id}/{''.join(invoice_number.split()).upper()}"


@dataclass(frozen=True, slots=True)
class PersonalAssistant:
    """A personal assistant the person employs, with the net wages owed to them."""

    pa_id: str
    hourly_rate: Money
    net_owed: Money


@dataclass(frozen=True, slots=True)
class WageRun:
    """One payslip's figures for one PA and period."""

    pa_id: str
    period_start: date
    period_end: date
    hours: Decimal
    gross: Money
    paye: Money
    employee_ni: Money
    employer_ni: Money
    employee_pension: Money
    employer_pension: Money
    net: Money

    @property
    def key(self) -> str:
        """PA and pay period, as one key."""
        return wage_run_key(self.pa_id, self.period_start, self.period_end)


def wage_run_key(pa_id: str, start: date, end: date) -> str:
    """PA and pay period, as one key."""
    return f"{pa_id}/{start.isoformat()}/{end.isoformat()}"


class SuspenseStatus(Enum):
    """What became of unexpected income."""

    HELD = "held"
    CLASSIFIED = "classified"
    REFUNDED = "refunded"
    KEPT = "kept"
    REVERSED = "reversed"
    """Corrected away: it was entered in error."""


@dataclass(frozen=True, slots=True)
class SuspenseItem:
    """Unexpected income held in suspense until resolved."""

    item_id: str
    received_on: date
    amount: Money
    description: str
    status: SuspenseStatus
    resolution: str | None
    resolved_on: date | None = None
    """The day it was classified, refunded, kept or reversed."""


class AccountStatus(Enum):
    """Open, suspended (council payments stopped) or closed (no more money movements)."""

    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


# ----------------------------------------------------------------- bank lines
@dataclass(frozen=True, slots=True)
class BankLineRecord:
    """A booked bank line the account has recorded, by its de-duplication key.

    ``version`` is the event that recorded the line; ``target_version`` the money event it stands
    for (the same event, or the one it confirmed); ``amount`` is signed (negative money out);
    ``reversed_by`` the version of the correction that reversed it, if any; ``bank_reference``
    the reference that money event was recorded with (it ranks candidates for a bank reversal).
    """

    key: str
    version: int
    target_version: int
    booking_date: date
    amount: Money
    event_type: str
    reversed_by: int | None = None
    bank_reference: str | None = None
    account_id: str | None = None
    """The managed account whose money the line moved (``None``: none yet)."""


@dataclass(frozen=True, slots=True)
class BankMovement:
    """A recorded event that moved money in or out of the bank (``amount`` signed).

    ``line_key`` is the bank line that recorded or confirmed it; ``None`` while no bank line has
    (:attr:`~dpledger.domain.account.ManagedAccount.bank_movements` keeps only those).
    """

    version: int
    event_type: str
    effective_date: date
    amount: Money
    bank_reference: str | None
    line_key: str | None


@dataclass(frozen=True, slots=True)
class ContributionReceipt:
    """A contribution the person paid in, as recorded (by hand or from a bank line)."""

    version: int
    effective_date: date
    amount: Money
    bank_reference: str | None


@dataclass(frozen=True, slots=True)
class PendingBankLine:
    """A line the bank shows as pending: it posts nothing until booked (``amount`` signed)."""

    key: str
    booking_date: date | None
    amount: Money
    description: str


class OutgoingStatus(Enum):
    """What became of an unexplained outgoing; ``HELD`` means unresolved."""

    HELD = "held"
    CLASSIFIED = "classified"
    RECOVERED = "recovered"
    ACCEPTED = "accepted"
    REVERSED = "reversed"
    """Corrected away: the bank reversed it, or it was recorded in error."""


@dataclass(frozen=True, slots=True)
class UnexplainedOutgoing:
    """Money out of the bank that matched nothing expected (``amount`` positive)."""

    item_id: str
    amount: Money
    effective_date: date
    description: str
    status: OutgoingStatus
    resolution: str | None
    resolved_on: date | None = None
    """The day it was classified, recovered, accepted or reversed."""


@dataclass(frozen=True, slots=True)
class BankBalanceRecord:
    """A balance a statement stated for the end of ``effective_date`` (signed)."""

    effective_date: date
    balance: Money
    stated_date: date
    kind: str
    position: str
    source: str
    version: int


@dataclass(frozen=True, slots=True)
class ReconciliationBreak:
    """A statement balance that differs from the ledger's bank balance on that date.

    ``difference`` is asserted minus ledger: positive when the bank holds more than the ledger.
    """

    effective_date: date
    asserted: Money
    ledger: Money
    difference: Money
    source: str
    version: int
    bank_account: str | None = None
    """The bank account whose event stated the balance (``version`` is in its history); ``None``
    when 0.1 recorded it on the managed account itself (``version`` is the account's)."""


@dataclass(frozen=True, slots=True)
class UnallocatedLine:
    """A booked line of a pooled client account that no member has been named for yet.

    ``amount`` is the line's (signed: negative money out); ``remaining`` what is still to be
    allocated (allocations may split a line between people); ``reason`` why it was held.
    """

    key: str
    booking_date: date
    amount: Money
    remaining: Money
    description: str
    bank_reference: str | None
    is_reversal: bool
    reason: str
    allocations: int = 0
    """How many allocations have taken part of it (numbers each part's key)."""


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """One row of a pooled account's allocation table: a line whose ``field`` matches
    ``pattern`` (a regular expression, case ignored) belongs to ``account_id``.

    ``field`` is ``"text"`` (everything the bank says about the line), ``"payer"`` (the
    counterparty: who paid or was paid) or ``"reference"`` (the bank reference).
    """

    account_id: str
    pattern: str
    field: str = "text"


@dataclass(frozen=True, slots=True)
class BankTransfer:
    """Money a managed account moved between two of its bank accounts (event ``version``)."""

    version: int
    effective_date: date
    from_bank_account: str
    to_bank_account: str
    amount: Money
