"""Remittances: one payment to an agency that settles several of its approved invoices.

An agency often sends one remittance advice for a batch of invoices, and the person pays them in
one bank transfer. :class:`PayRemittance` records that transfer as one event
(:class:`RemittancePaid`), one bank movement of the total, each invoice paid its part by the same
rules as :class:`~dpledger.domain.invoices.PayInvoice` (approved, never beyond what is still
owed). One event keeps a bank line one event: the bank account's ``StatementLineBooked`` names it,
a bank reversal of the line corrects it, and correcting it owes every invoice its part again.
A hand entry of a remittance and a bank line read as one (see
:mod:`~dpledger.domain.reconciliation`) run this same command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from dpledger.domain.bounds import Amount, Identifier, Reference
from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import InvalidTransition, ValidationError
from dpledger.domain.events import AccountEvent, Correctable, money_in, reference_text
from dpledger.domain.funds import check_not_over
from dpledger.domain.invoices import check_status, settle_invoice
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.records import InvoiceStatus

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

MAX_REMITTANCE_INVOICES = 200
"""The most invoices one remittance may pay."""


def _pairs(value: object) -> object:
    """A mapping of invoice number -> amount as (number, amount) pairs, in the mapping's order."""
    if isinstance(value, Mapping):
        return tuple(value.items())
    return value


Payments = Annotated[
    tuple[tuple[Reference, Amount], ...],
    BeforeValidator(_pairs),
    Field(min_length=1, max_length=MAX_REMITTANCE_INVOICES),
]


class PayRemittance(Command):
    """Pay several approved invoices of one agency in one bank payment: ``payments`` pairs each
    invoice number with what is paid on it (``{"INV-1": "100.00", "INV-2": "40.00"}`` or a
    sequence of pairs). Each part follows ``PayInvoice``'s rules; the total leaves the bank."""

    method: ClassVar[str] = "pay_remittance"
    agency_id: Identifier
    payments: Payments
    bank_reference: Reference | None = None

    def payload(self) -> dict[str, Any]:
        """The payload, the payments as lists (the digest's JSON has no tuples of its own)."""
        payload = super().payload()
        payload["payments"] = [[number, amount] for number, amount in self.payments]
        return payload


def _parts(fields: Mapping[str, Any]) -> list[tuple[str, Money]]:
    """The (invoice number, amount) pairs an event or its stored details hold."""
    return [(str(number), money_in({"amount": paid})) for number, paid in fields["payments"]]


def _can_unpay_all(account: ManagedAccount, target: Any) -> None:
    for number, _ in _parts({"payments": target.payments}):
        account.invoicing.invoice(account, target.agency_id, number)


def _unpay_all(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    for number, amount in _parts(fields):
        settle_invoice(account, fields["agency_id"], number, paid=-amount)


class RemittancePaid(AccountEvent):
    """One bank payment to an agency paid several of its approved invoices, in full or in part:
    ``payments`` pairs each invoice number with its part; ``amount`` is the total."""

    agency_id: str
    payments: tuple[tuple[str, Money], ...]
    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = Correctable(_can_unpay_all, _unpay_all)

    def evolve(self, account: ManagedAccount) -> None:
        """Each invoice paid its part; paid in full, it is settled."""
        for number, amount in _parts({"payments": self.payments}):
            settle_invoice(account, self.agency_id, number, paid=amount)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``remittance to AG-1 £300.00: invoice INV-1 £100.00, INV-2 £200.00 (ref X)``."""
        parts = ", ".join(f"{number} {amount}" for number, amount in _parts(details))
        return (
            f"remittance to {details.get('agency_id')} {money_in(details)}: invoice "
            f"{parts}{reference_text(details)}"
        )


@decides(PayRemittance)
def pay_remittance(account: ManagedAccount, command: PayRemittance, ctx: Context) -> None:
    """Each invoice once, approved and not paid in full, paid at most what is still owed on it;
    never overdrawn (the total)."""
    check_writable(account, ctx)
    seen: set[str] = set()
    parts: list[tuple[str, Money]] = []
    for number, amount in command.payments:
        invoice = account.invoicing.invoice(account, command.agency_id, number)
        if invoice.key in seen:
            raise ValidationError(
                f"invoice {invoice.invoice_number} is listed twice in the remittance",
                field="payments",
                account_id=account.account_id,
                fix="list each invoice once, with the whole amount paid on it",
            )
        seen.add(invoice.key)
        if invoice.status is InvoiceStatus.PAID:
            raise InvalidTransition(
                f"invoice {invoice.invoice_number} from {command.agency_id} is already paid in "
                "full",
                account_id=account.account_id,
                fix="leave it out of the remittance; correct the earlier payment if it was wrong",
            )
        check_status(account, invoice, InvoiceStatus.APPROVED)
        check_not_over(account, amount, invoice.outstanding, f"invoice {invoice.invoice_number}")
        parts.append((invoice.invoice_number, amount))
    total = sum((amount for _, amount in parts), Money(0))
    account.record(
        ctx,
        RemittancePaid,
        Postings.transfer(LedgerAccount.AGENCY_PAYABLE, LedgerAccount.BANK, total),
        agency_id=command.agency_id,
        payments=tuple(parts),
        amount=total,
        bank_reference=command.bank_reference,
    )
