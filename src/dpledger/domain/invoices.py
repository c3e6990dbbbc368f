"""Invoices: care agencies, their agreed hourly rates, invoices and credit notes.

An invoice goes received -> approved (or disputed) -> paid. It is owed only once approved; it is
never paid twice nor beyond what is owed; an agency never sends two invoices with one number (a
known error and fraud pattern; numbers are compared ignoring case and spaces, and a voided
invoice frees its number). A credit note takes money off an invoice, never more than is left on
it. An invoice billing above the agency's agreed rate for its period is recorded, with an alert
(``rate_above_agreed``) naming the agency, the invoice, both rates and the overcharge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.domain.alerts import Alert
from dpledger.domain.bounds import Amount, Day, Hours, Identifier, Name, Reference, Text
from dpledger.domain.chart import NO_POSTINGS, LedgerAccount, Posting, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import (
    CreditExceedsInvoice,
    DuplicateInvoice,
    InvalidTransition,
    InvoiceTotalMismatch,
    UnknownParty,
)
from dpledger.domain.events import (
    AccountEvent,
    Correctable,
    NotCorrectable,
    amount_text,
    money_in,
    period_text,
    reference_text,
)
from dpledger.domain.funds import check_not_over, check_period
from dpledger.domain.lifecycle import check_writable, require_reason
from dpledger.domain.money import Money
from dpledger.domain.records import Agency, AgreedRate, Invoice, InvoiceStatus, invoice_key
from dpledger.domain.rules import invoice_total_matches

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount


NOTHING = Money(0)


def invoice_index_key(agency_id: str, invoice_number: str) -> str:
    """An invoice number's key in the key index (it holds for ever, not just while in state)."""
    return f"invoice:{invoice_key(agency_id, invoice_number)}"


def credit_note_index_key(agency_id: str, number: str) -> str:
    """A credit note number's key in the key index."""
    return f"creditnote:{invoice_key(agency_id, number)}"


# ---------------------------------------------------------------------------- state
@dataclass(slots=True)
class InvoiceBook:
    """Agencies, their agreed rates, and invoices that are open or were settled recently."""

    agencies: dict[str, Agency] = field(default_factory=dict)
    rates: dict[str, list[AgreedRate]] = field(default_factory=dict)
    """Agency id -> rates agreed after registration, by the day they took effect."""
    invoices: dict[str, Invoice] = field(default_factory=dict)
    """By :func:`~dpledger.domain.records.invoice_key`: open ones, and ones settled within the
    recent window."""

    @classmethod
    def empty(cls) -> InvoiceBook:
        """No agencies yet."""
        return cls()

    def compact(self, cutoff: date) -> None:
        """Forget invoices settled (paid, credited away or voided) before ``cutoff``."""
        self.invoices = {
            key: invoice
            for key, invoice in self.invoices.items()
            if invoice.settled_on is None or invoice.settled_on >= cutoff
        }

    def agency(self, account: ManagedAccount, agency_id: str) -> Agency:
        """A registered agency; raises :class:`UnknownParty` if there is none."""
        agency = self.agencies.get(agency_id)
        if agency is None:
            raise UnknownParty(
                f"no agency {agency_id!r} is registered",
                account_id=account.account_id,
                fix="register the agency first",
            )
        return agency

    def invoice(self, account: ManagedAccount, agency_id: str, invoice_number: str) -> Invoice:
        """An invoice in force; raises :class:`UnknownParty` if there is none."""
        invoice = self.invoices.get(invoice_key(agency_id, str(invoice_number)))
        if invoice is None or invoice.status is InvoiceStatus.VOIDED:
            raise UnknownParty(
                f"no invoice {invoice_number!r} from agency {agency_id!r} is open or recent",
                account_id=account.account_id,
                fix="record the invoice as received first (invoices settled more than 400 "
                "days ago are in the history only)",
            )
        return invoice

    def set(self, agency_id: str, number: str, **changes: Any) -> None:
        """Replace an invoice's record with ``changes`` made."""
        key = invoice_key(agency_id, number)
        self.invoices[key] = replace(self.invoices[key], **changes)

    def rate_in_force(self, agency_id: str, day: date) -> Money | None:
        """The agency's agreed hourly rate on ``day``: the latest agreed from that day or
        before, else the rate it was registered with."""
        agreed = [r for r in self.rates.get(agency_id, []) if r.effective_from <= day]
        if agreed:
            return max(agreed, key=lambda r: r.effective_from).hourly_rate
        agency = self.agencies.get(agency_id)
        return None if agency is None else agency.hourly_rate

    def agreed_rate_for(self, agency_id: str, start: date, end: date) -> Money | None:
        """The highest agreed rate in force on any day of ``start``..``end`` (a rate agreed
        part-way through a period benefits the agency)."""
        candidates = [self.rate_in_force(agency_id, start)]
        candidates += [
            r.hourly_rate for r in self.rates.get(agency_id, []) if start < r.effective_from <= end
        ]
        known = [rate for rate in candidates if rate is not None]
        return max(known) if known else None


def check_status(account: ManagedAccount, invoice: Invoice, *allowed: InvoiceStatus) -> None:
    """Refuse a command the invoice's status does not allow."""
    if invoice.status not in allowed:
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} from {invoice.agency_id} is "
            f"{invoice.status.value}; this needs it to be " + " or ".join(s.value for s in allowed),
            account_id=account.account_id,
            fix="an invoice goes received -> approved (or disputed) -> paid",
        )


# ---------------------------------------------------------------------------- agencies
class RegisterAgency(Command):
    """Register a care agency that will invoice this account, at its hourly rate if known."""

    method: ClassVar[str] = "register_agency"
    agency_id: Identifier
    name: Name
    hourly_rate: Amount | None = None


class AgencyRegistered(AccountEvent):
    """A care agency was registered to invoice this account."""

    agency_id: str
    name: str
    hourly_rate: Money | None

    correction: ClassVar[Any] = NotCorrectable("register the agency again under another id")

    def evolve(self, account: ManagedAccount) -> None:
        """The agency may invoice."""
        account.invoicing.agencies[self.agency_id] = Agency(
            self.agency_id, self.name, self.hourly_rate
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``agency AG-1 registered (Oak Care)``."""
        return f"agency {details.get('agency_id')} registered ({details.get('name')})"


@decides(RegisterAgency)
def register_agency(account: ManagedAccount, command: RegisterAgency, ctx: Context) -> None:
    """An agency id is registered once."""
    check_writable(account, ctx)
    if command.agency_id in account.invoicing.agencies:
        raise InvalidTransition(
            f"agency {command.agency_id} is already registered",
            account_id=account.account_id,
            fix="use the existing agency id; agree a new rate with agree_agency_rate",
        )
    account.record(
        ctx,
        AgencyRegistered,
        NO_POSTINGS,
        agency_id=command.agency_id,
        name=command.name,
        hourly_rate=command.hourly_rate,
    )


class AgreeAgencyRate(Command):
    """Agree an agency's hourly rate, in force from ``effective_date``."""

    method: ClassVar[str] = "agree_agency_rate"
    raises_alerts: ClassVar[bool] = True
    agency_id: Identifier
    hourly_rate: Amount


class AgencyRateAgreed(AccountEvent):
    """An agency's hourly rate was agreed, in force from ``effective_date``."""

    agency_id: str
    hourly_rate: Money

    correction: ClassVar[Any] = NotCorrectable("agree the right rate from the same date")

    def evolve(self, account: ManagedAccount) -> None:
        """The rate from the effective date (agreeing again from the same date replaces it)."""
        rates = [
            r
            for r in account.invoicing.rates.get(self.agency_id, [])
            if r.effective_from != self.effective_date
        ]
        rates.append(AgreedRate(self.effective_date, self.hourly_rate))
        account.invoicing.rates[self.agency_id] = sorted(rates, key=lambda r: r.effective_from)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``agency AG-1's rate agreed at £24.00 an hour``."""
        return (
            f"agency {details.get('agency_id')}'s rate agreed at "
            f"{money_in(details, 'hourly_rate')} an hour"
        )


@decides(AgreeAgencyRate)
def agree_agency_rate(account: ManagedAccount, command: AgreeAgencyRate, ctx: Context) -> None:
    """The agency is registered."""
    check_writable(account, ctx)
    account.invoicing.agency(account, command.agency_id)
    account.record(
        ctx,
        AgencyRateAgreed,
        NO_POSTINGS,
        agency_id=command.agency_id,
        hourly_rate=command.hourly_rate,
    )


# ---------------------------------------------------------------------------- receiving
class ReceiveInvoice(Command):
    """An agency invoice arrived: its total must be hours x rate within a penny, and the agency
    must not have sent an invoice with this number before."""

    method: ClassVar[str] = "receive_invoice"
    raises_alerts: ClassVar[bool] = True
    agency_id: Identifier
    invoice_number: Reference
    period_start: Day
    period_end: Day
    hours: Hours
    rate: Amount
    total: Amount

    def payload(self) -> dict[str, Any]:
        """The payload as 0.1 digested it (the period as one pair)."""
        return {
            "agency_id": self.agency_id,
            "invoice_number": self.invoice_number,
            "period": [self.period_start, self.period_end],
            "hours": self.hours,
            "rate": self.rate,
            "total": self.total,
        }

    def index_keys(self) -> tuple[str, ...]:
        """Its number's key."""
        return (invoice_index_key(self.agency_id, self.invoice_number),)


def _can_void(account: ManagedAccount, target: Any) -> None:
    invoice = account.invoicing.invoice(account, target.agency_id, target.invoice_number)
    if invoice.received_version != target.originator_version:
        _refuse_stale(account, invoice)
    check_status(account, invoice, InvoiceStatus.RECEIVED, InvoiceStatus.DISPUTED)
    if invoice.credited.is_positive():
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} has credit notes of {invoice.credited}",
            account_id=account.account_id,
            fix="correct its credit notes first",
        )


def _void(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account.invoicing.set(
        fields["agency_id"],
        fields["invoice_number"],
        status=InvoiceStatus.VOIDED,
        settled_on=account.latest_date,
    )


def _refuse_stale(account: ManagedAccount, invoice: Invoice) -> None:
    # A number can be used again once voided: a stale event must not touch the new invoice.
    raise InvalidTransition(
        f"invoice {invoice.invoice_number} from {invoice.agency_id} is not the one that event "
        "recorded (the number was used again after a correction)",
        account_id=account.account_id,
        fix="correct the entries of the invoice as it stands now",
    )


class InvoiceReceived(AccountEvent):
    """An agency invoice arrived; it is owed only once approved."""

    agency_id: str
    invoice_number: str
    period_start: date
    period_end: date
    hours: Decimal
    rate: Money
    total: Money

    correction: ClassVar[Any] = Correctable(
        _can_void,
        _void,
        lambda fields: (invoice_index_key(fields["agency_id"], fields["invoice_number"]),),
    )

    def evolve(self, account: ManagedAccount) -> None:
        """A received invoice."""
        invoice = Invoice(
            agency_id=self.agency_id,
            invoice_number=self.invoice_number,
            period_start=self.period_start,
            period_end=self.period_end,
            hours=self.hours,
            rate=self.rate,
            total=self.total,
            status=InvoiceStatus.RECEIVED,
            paid=Money(0),
            received_version=self.originator_version,
        )
        account.invoicing.invoices[invoice.key] = invoice

    def claims(self) -> dict[str, str | None]:
        """Its number, besides its command's key."""
        return {**super().claims(), invoice_index_key(self.agency_id, self.invoice_number): None}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``invoice INV-7 from AG-1: 20 h, £500.00 for 2025-04-01 to 2025-04-28``."""
        return (
            f"invoice {details.get('invoice_number')} from {details.get('agency_id')}: "
            f"{details.get('hours')} h, {money_in(details, 'total')}{period_text(details)}"
        )


@decides(ReceiveInvoice)
def receive_invoice(account: ManagedAccount, command: ReceiveInvoice, ctx: Context) -> None:
    """A registered agency, a new number, a sane period, and total = hours x rate."""
    check_writable(account, ctx)
    book = account.invoicing
    book.agency(account, command.agency_id)
    check_period(account, command.period_start, command.period_end)
    _check_not_duplicate(account, command, ctx)
    if not invoice_total_matches(command.hours, command.rate, command.total):
        raise InvoiceTotalMismatch(
            f"total {command.total} is not {command.hours} hours x {command.rate} "
            f"(= {command.hours * command.rate.amount:.4f})",
            account_id=account.account_id,
            fix="check the invoice; the total must be hours x rate within a penny",
        )
    account.record(
        ctx,
        InvoiceReceived,
        NO_POSTINGS,
        agency_id=command.agency_id,
        invoice_number=command.invoice_number,
        period_start=command.period_start,
        period_end=command.period_end,
        hours=command.hours,
        rate=command.rate,
        total=command.total,
    )


def _check_not_duplicate(account: ManagedAccount, command: ReceiveInvoice, ctx: Context) -> None:
    key = invoice_key(command.agency_id, command.invoice_number)
    existing = account.invoicing.invoices.get(key)
    if existing is not None and existing.status is not InvoiceStatus.VOIDED:
        number, detail = existing.invoice_number, f"({existing.total}, {existing.status.value})"
    else:
        taken = ctx.facts.key(invoice_index_key(command.agency_id, command.invoice_number))
        if taken is None:
            return
        number, detail = command.invoice_number, f"(recorded as event {taken.version})"
    raise DuplicateInvoice(
        f"agency {command.agency_id} already sent invoice {number} {detail}",
        account_id=account.account_id,
        fix="check with the agency: a repeated invoice number is a known error and fraud pattern",
    )


# ---------------------------------------------------------------------------- approving
class ApproveInvoice(Command):
    """Approve a received (or disputed) invoice: it becomes owed to the agency."""

    method: ClassVar[str] = "approve_invoice"
    agency_id: Identifier
    invoice_number: Reference


def _can_unapprove(account: ManagedAccount, target: Any) -> None:
    invoice = account.invoicing.invoice(account, target.agency_id, target.invoice_number)
    if invoice.approved_version != target.originator_version:
        _refuse_stale(account, invoice)
    if invoice.status is not InvoiceStatus.APPROVED or invoice.paid.is_positive():
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} is {invoice.status.value} with {invoice.paid} paid",
            account_id=account.account_id,
            fix="correct its payments first",
        )
    if target.amount != invoice.net_total:
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} had credit notes since it was approved",
            account_id=account.account_id,
            fix="correct those credit notes first",
        )


def _unapprove(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account.invoicing.set(
        fields["agency_id"],
        fields["invoice_number"],
        status=InvoiceStatus.RECEIVED,
        approved_version=None,
    )


class InvoiceApproved(AccountEvent):
    """An agency invoice was approved for payment: it is now a liability."""

    agency_id: str
    invoice_number: str
    amount: Money

    correction: ClassVar[Any] = Correctable(_can_unapprove, _unapprove)

    def evolve(self, account: ManagedAccount) -> None:
        """Approved: owed to the agency."""
        account.invoicing.set(
            self.agency_id,
            self.invoice_number,
            status=InvoiceStatus.APPROVED,
            approved_version=self.originator_version,
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``invoice INV-7 from AG-1 approved £500.00``."""
        return _invoice_text(details, "approved")


def _invoice_text(details: Mapping[str, Any], verb: str) -> str:
    return (
        f"invoice {details.get('invoice_number')} from {details.get('agency_id')} {verb}"
        f"{amount_text(details)}{reference_text(details)}"
    )


@decides(ApproveInvoice)
def approve_invoice(account: ManagedAccount, command: ApproveInvoice, ctx: Context) -> None:
    """A received or disputed invoice becomes owed (its total less credit notes)."""
    check_writable(account, ctx)
    invoice = account.invoicing.invoice(account, command.agency_id, command.invoice_number)
    check_status(account, invoice, InvoiceStatus.RECEIVED, InvoiceStatus.DISPUTED)
    owed = invoice.net_total
    account.record(
        ctx,
        InvoiceApproved,
        Postings.of(
            [
                Posting.debit(LedgerAccount.AGENCY_CARE, owed),
                Posting.credit(LedgerAccount.AGENCY_PAYABLE, owed),
            ]
        ),
        agency_id=invoice.agency_id,
        invoice_number=invoice.invoice_number,
        amount=owed,
    )


class DisputeInvoice(Command):
    """Dispute an invoice, saying why."""

    method: ClassVar[str] = "dispute_invoice"
    agency_id: Identifier
    invoice_number: Reference
    reason: Text


class InvoiceDisputed(AccountEvent):
    """An agency invoice was disputed; if it had been approved, the liability is withdrawn."""

    agency_id: str
    invoice_number: str
    amount: Money

    correction: ClassVar[Any] = NotCorrectable("approve the invoice again")

    def evolve(self, account: ManagedAccount) -> None:
        """Disputed: not owed until approved again."""
        account.invoicing.set(
            self.agency_id,
            self.invoice_number,
            status=InvoiceStatus.DISPUTED,
            approved_version=None,
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``invoice INV-7 from AG-1 disputed £500.00``."""
        return _invoice_text(details, "disputed")


@decides(DisputeInvoice)
def dispute_invoice(account: ManagedAccount, command: DisputeInvoice, ctx: Context) -> None:
    """A received or approved invoice, nothing of it paid; an approved one stops being owed."""
    check_writable(account, ctx)
    require_reason(account, ctx, "disputing an invoice")
    invoice = account.invoicing.invoice(account, command.agency_id, command.invoice_number)
    check_status(account, invoice, InvoiceStatus.RECEIVED, InvoiceStatus.APPROVED)
    if invoice.paid.is_positive():
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} is part paid ({invoice.paid})",
            account_id=account.account_id,
            fix="correct the payments first, or settle the dispute with the agency",
        )
    withdrawn = invoice.net_total if invoice.status is InvoiceStatus.APPROVED else Money(0)
    account.record(
        ctx,
        InvoiceDisputed,
        Postings.of(
            [
                Posting.debit(LedgerAccount.AGENCY_PAYABLE, withdrawn),
                Posting.credit(LedgerAccount.AGENCY_CARE, withdrawn),
            ]
        ),
        agency_id=invoice.agency_id,
        invoice_number=invoice.invoice_number,
        amount=withdrawn,
    )


# ---------------------------------------------------------------------------- paying
class PayInvoice(Command):
    """Pay an approved invoice, in full or in part: never more than is owed, never twice."""

    method: ClassVar[str] = "pay_invoice"
    agency_id: Identifier
    invoice_number: Reference
    amount: Amount
    bank_reference: Reference | None = None


def _unpay(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    book = account.invoicing
    invoice = book.invoices[invoice_key(fields["agency_id"], fields["invoice_number"])]
    book.set(
        fields["agency_id"],
        fields["invoice_number"],
        paid=invoice.paid - fields["amount"],
        status=InvoiceStatus.APPROVED,
        settled_on=None,
    )


def _can_unpay(account: ManagedAccount, target: Any) -> None:
    account.invoicing.invoice(account, target.agency_id, target.invoice_number)


class InvoicePaid(AccountEvent):
    """An approved invoice was paid, in full or in part."""

    agency_id: str
    invoice_number: str
    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = Correctable(_can_unpay, _unpay)

    def evolve(self, account: ManagedAccount) -> None:
        """Paid in part, or in full (settled)."""
        settle_invoice(account, self.agency_id, self.invoice_number, paid=self.amount)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``invoice INV-7 from AG-1 paid £500.00 (ref X)``."""
        return _invoice_text(details, "paid")


def settle_invoice(
    account: ManagedAccount,
    agency_id: str,
    number: str,
    *,
    paid: Money = NOTHING,
    credited: Money = NOTHING,
) -> None:
    """Add ``paid`` and ``credited`` to an invoice (negative: take off); fully covered, it is
    settled (paid), else owed again."""
    book = account.invoicing
    invoice = book.invoices[invoice_key(agency_id, number)]
    paid, credited = invoice.paid + paid, invoice.credited + credited
    changes: dict[str, Any] = {"paid": paid, "credited": credited}
    if invoice.status in (InvoiceStatus.APPROVED, InvoiceStatus.PAID):
        settled = paid + credited >= invoice.total
        changes["status"] = InvoiceStatus.PAID if settled else InvoiceStatus.APPROVED
        changes["settled_on"] = account.latest_date if settled else None
    book.set(agency_id, number, **changes)


@decides(PayInvoice)
def pay_invoice(account: ManagedAccount, command: PayInvoice, ctx: Context) -> None:
    """An approved invoice, at most what is still owed on it; never overdrawn."""
    check_writable(account, ctx)
    invoice = account.invoicing.invoice(account, command.agency_id, command.invoice_number)
    if invoice.status is InvoiceStatus.PAID:
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} from {command.agency_id} is already paid in full",
            account_id=account.account_id,
            fix="do not pay an invoice twice; correct the earlier payment if it was wrong",
        )
    check_status(account, invoice, InvoiceStatus.APPROVED)
    check_not_over(
        account, command.amount, invoice.outstanding, f"invoice {invoice.invoice_number}"
    )
    account.record(
        ctx,
        InvoicePaid,
        Postings.transfer(LedgerAccount.AGENCY_PAYABLE, LedgerAccount.BANK, command.amount),
        agency_id=invoice.agency_id,
        invoice_number=invoice.invoice_number,
        amount=command.amount,
        bank_reference=command.bank_reference,
    )


# ---------------------------------------------------------------------------- credit notes
class ReceiveCreditNote(Command):
    """An agency's credit note against one of its invoices: it takes ``amount`` off what the
    invoice asks for, never more than is left on it."""

    method: ClassVar[str] = "receive_credit_note"
    raises_alerts: ClassVar[bool] = True
    agency_id: Identifier
    invoice_number: Reference
    credit_note_number: Reference
    amount: Amount

    def index_keys(self) -> tuple[str, ...]:
        """Its number's key."""
        return (credit_note_index_key(self.agency_id, self.credit_note_number),)


def _can_uncredit(account: ManagedAccount, target: Any) -> None:
    invoice = account.invoicing.invoice(account, target.agency_id, target.invoice_number)
    owed_when_credited = bool(target.postings)
    if owed_when_credited != (invoice.status in (InvoiceStatus.APPROVED, InvoiceStatus.PAID)):
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} was {'' if owed_when_credited else 'not '}"
            f"approved when the credit note came and is {invoice.status.value} now",
            account_id=account.account_id,
            fix="put the invoice back as it was first (correct its approval or dispute)",
        )


def _uncredit(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    settle_invoice(
        account, fields["agency_id"], fields["invoice_number"], credited=-fields["amount"]
    )


class CreditNoteReceived(AccountEvent):
    """An agency credit note took ``amount`` off an invoice; if the invoice was owed, the
    liability (and the care expense) went down by as much."""

    agency_id: str
    invoice_number: str
    credit_note_number: str
    amount: Money

    correction: ClassVar[Any] = Correctable(
        _can_uncredit,
        _uncredit,
        lambda fields: (credit_note_index_key(fields["agency_id"], fields["credit_note_number"]),),
    )

    def evolve(self, account: ManagedAccount) -> None:
        """Less is owed on the invoice; fully credited and paid, it is settled."""
        settle_invoice(account, self.agency_id, self.invoice_number, credited=self.amount)

    def claims(self) -> dict[str, str | None]:
        """Its number, besides its command's key."""
        key = credit_note_index_key(self.agency_id, self.credit_note_number)
        return {**super().claims(), key: None}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``credit note CN-1 from AG-1 against invoice INV-7 £50.00``."""
        return (
            f"credit note {details.get('credit_note_number')} from {details.get('agency_id')} "
            f"against invoice {details.get('invoice_number')}{amount_text(details)}"
        )


@decides(ReceiveCreditNote)
def receive_credit_note(account: ManagedAccount, command: ReceiveCreditNote, ctx: Context) -> None:
    """A new credit note number, against an invoice in force, for at most what is left on it."""
    check_writable(account, ctx)
    invoice = account.invoicing.invoice(account, command.agency_id, command.invoice_number)
    taken = ctx.facts.key(credit_note_index_key(command.agency_id, command.credit_note_number))
    if taken is not None:
        raise DuplicateInvoice(
            f"agency {command.agency_id} already sent credit note {command.credit_note_number} "
            f"(recorded as event {taken.version})",
            account_id=account.account_id,
            fix="check with the agency: a credit note is applied once",
        )
    left = invoice.total - invoice.paid - invoice.credited
    if command.amount > left:
        raise CreditExceedsInvoice(
            f"a credit of {command.amount} is more than the {left} left on invoice "
            f"{invoice.invoice_number} ({invoice.total}, {invoice.paid} paid, "
            f"{invoice.credited} credited)",
            account_id=account.account_id,
            fix="a credit note above what is owed is a refund: record it as money in when it "
            "arrives",
        )
    owed = invoice.status in (InvoiceStatus.APPROVED, InvoiceStatus.PAID)
    postings = (
        Postings.transfer(LedgerAccount.AGENCY_PAYABLE, LedgerAccount.AGENCY_CARE, command.amount)
        if owed
        else NO_POSTINGS
    )
    account.record(
        ctx,
        CreditNoteReceived,
        postings,
        agency_id=invoice.agency_id,
        invoice_number=invoice.invoice_number,
        credit_note_number=command.credit_note_number,
        amount=command.amount,
    )


# ---------------------------------------------------------------------------- alerts
def rate_alerts(account: ManagedAccount) -> list[Alert]:
    """``rate_above_agreed``: each invoice in force that bills hours above the agency's agreed
    rate for its period, less what credit notes already took off; the overcharge is the hours x
    the difference, rounded half up to the penny."""
    book = account.invoicing
    found = []
    for invoice in book.invoices.values():
        if invoice.status in (InvoiceStatus.VOIDED, InvoiceStatus.DISPUTED):
            continue
        agreed = book.agreed_rate_for(invoice.agency_id, invoice.period_start, invoice.period_end)
        if agreed is None or invoice.rate <= agreed:
            continue
        difference = invoice.hours * (invoice.rate.pence - agreed.pence)
        billed_over = int(difference.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        over = billed_over - invoice.credited.pence
        if over <= 0:
            continue
        credited = (
            f" ({Money(billed_over)} billed above it, {invoice.credited} credited so far)"
            if invoice.credited.is_positive()
            else ""
        )
        agency = book.agencies.get(invoice.agency_id)
        name = f"{agency.name} ({invoice.agency_id})" if agency else invoice.agency_id
        found.append(
            Alert(
                "rate_above_agreed",
                invoice.key,
                {
                    "agency_id": invoice.agency_id,
                    "invoice_number": invoice.invoice_number,
                    "billed_rate": invoice.rate.pence,
                    "agreed_rate": agreed.pence,
                    "hours": str(invoice.hours),
                    "overcharge": over,
                },
                f"{name} invoice {invoice.invoice_number} bills {invoice.hours} hours at "
                f"{invoice.rate} an hour, above the agreed {agreed} for "
                f"{invoice.period_start} to {invoice.period_end}: an overcharge of "
                f"{Money(over)}{credited}. Ask the agency for a credit note, or dispute the "
                "invoice.",
            )
        )
    return found
