"""The managed account aggregate: one per Direct Payment recipient.

Each command checks its rule, works out its postings, then records one event; the event alone
changes the state (in :meth:`ManagedAccount.when`), so replaying the events rebuilds the account
exactly. Guards are small named methods, one per rule.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from dpledger.domain import events as ev
from dpledger.domain.chain import GENESIS, digest_of
from dpledger.domain.chart import (
    EXPENSES,
    LIABILITIES,
    NO_POSTINGS,
    LedgerAccount,
    Posting,
    Postings,
    SpendCategory,
)
from dpledger.domain.errors import (
    AccountAlreadyExists,
    AccountClosed,
    DuplicateInvoice,
    DuplicateWageRun,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    InvoiceTotalMismatch,
    Overpayment,
    SurplusExceeded,
    UnknownParty,
    ValidationError,
    WageRunDoesNotBalance,
)
from dpledger.domain.money import GBP, Money
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.reconciliation import (
    BANK_KEY_PREFIX,
    REVERSAL_WINDOW_DAYS,
    BankLine,
    Decision,
    MatchKind,
)
from dpledger.domain.records import (
    AccountStatus,
    Agency,
    BankBalanceRecord,
    BankLineRecord,
    BankMovement,
    BudgetAgreement,
    ContributionReceipt,
    CouncilPayment,
    Invoice,
    InvoiceStatus,
    OutgoingStatus,
    PendingBankLine,
    PersonalAssistant,
    ReconciliationBreak,
    SuspenseItem,
    SuspenseStatus,
    UnexplainedOutgoing,
    WageRun,
    invoice_key,
    wage_run_key,
)
from dpledger.domain.rules import (
    add_months,
    budget_on,
    contributions_due,
    council_recoverable_surplus,
    invoice_total_matches,
    next_review_due,
    paid_in_advance_after,
    surplus,
    wage_run_net,
)

MAX_HOURS = Decimal(24 * 366)
"""No invoice or payslip covers more hours than a (leap) year has."""
_ACCOUNT_NAMESPACE = UUID("6f1d7c2e-3b0a-5c59-9d6e-2a7f0e4b8c11")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")

INCOME_CLASSES: Mapping[str, LedgerAccount] = MappingProxyType(
    {"council": LedgerAccount.COUNCIL_INCOME, "contribution": LedgerAccount.CONTRIBUTION_INCOME}
)
"""What unexpected income may be classified as, and the income account it then posts to."""


def account_uuid(account_id: str) -> UUID:
    """The stored aggregate id of the account the caller calls ``account_id`` (stable, derived)."""
    return uuid5(_ACCOUNT_NAMESPACE, account_id)


def check_identifier(value: object, field: str) -> str:
    """A caller-chosen id: 1-64 letters, digits and ``._:-``, starting with a letter or digit."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValidationError(
            f"{value!r} is not a valid id",
            field=field,
            fix="use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
        )
    return value


@dataclass(frozen=True, slots=True)
class CommandMeta:
    """What every command carries besides its own fields.

    ``effective_date`` is when it happened in the world, ``actor`` who did it, ``reason`` why
    (required for corrections, disputes, suspensions and keeping unexpected income), ``key`` and
    ``digest`` the caller's idempotency key and the digest of the command's payload.
    """

    effective_date: date
    actor: str
    reason: str | None = None
    key: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.effective_date, date):
            raise ValidationError("must be a date", field="effective_date")
        if not isinstance(self.actor, str) or not self.actor.strip():
            raise ValidationError(
                "must say who did it", field="actor", fix="pass the user or system id"
            )
        if self.reason is not None and not self.reason.strip():
            raise ValidationError("must not be blank; omit it instead", field="reason")


_E = TypeVar("_E", bound=ev.AccountEvent)
_HANDLERS: dict[type[ev.AccountEvent], Callable[[ManagedAccount, Any], None]] = {}


def _handles(
    event_class: type[_E],
) -> Callable[[Callable[[ManagedAccount, _E], None]], Callable[[ManagedAccount, _E], None]]:
    def register(
        method: Callable[[ManagedAccount, _E], None],
    ) -> Callable[[ManagedAccount, _E], None]:
        _HANDLERS[event_class] = method
        return method

    return register


class ManagedAccount(Aggregate):
    """A Direct Payment managed account: budget, parties, documents and double-entry balances."""

    # The state is set by the events only (see `when` and `_start`), as plain data so snapshots
    # hold it exactly. No class-level annotations: eventsourcing would turn them into __init__ args.

    class_version = 2
    """The layout of the state a snapshot holds; older snapshots are upcast when loaded."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 kept every bank movement and bank line as records; keep what matching needs."""
        movements: dict[str, BankMovement] = state.pop("_bank_movements", {})
        records: dict[str, BankLineRecord] = state.pop("_bank_lines", {})
        state["_unconfirmed"] = {
            v: [m.event_type, m.effective_date.isoformat(), m.amount.pence, m.bank_reference]
            for v, m in movements.items()
            if m.line_key is None
        }
        state["_contributions"] = {
            v: [m.effective_date.isoformat(), m.amount.pence, m.bank_reference]
            for v, m in movements.items()
            if m.event_type == "ContributionReceived"
        }

        def row(r: BankLineRecord) -> list[Any]:
            target = movements.get(str(r.target_version))
            reference = None if target is None else target.bank_reference
            day, pence = r.booking_date.isoformat(), r.amount.pence
            return [r.version, r.target_version, day, pence, r.event_type, reference, r.reversed_by]

        rows = {key: row(r) for key, r in records.items()}
        through = max((r.booking_date for r in records.values()), default=None)
        state["_bank_lines"] = _lines_within(rows, through)
        state["_bank_lines_through"] = through

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        *,
        account_id: str,
        person_ref: str,
        council: str,
        provider: str,
        policy: AccountPolicy,
        meta: CommandMeta,
    ) -> ManagedAccount:
        """Open the account. ``person_ref`` is the council's reference for the person (no names)."""
        check_identifier(account_id, "account_id")
        check_identifier(person_ref, "person_ref")
        for field, value in (("council", council), ("provider", provider)):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("must not be blank", field=field, account_id=account_id)
        if not isinstance(policy, AccountPolicy):
            raise ValidationError("must be an AccountPolicy", field="policy")
        fields = {
            "account_id": account_id,
            "person_ref": person_ref,
            "council": council.strip(),
            "provider": provider.strip(),
            "policy": policy,
            **_meta_fields(meta, NO_POSTINGS),
        }
        uuid = account_uuid(account_id)
        # eventsourcing adds the aggregate's topic to the created event; the digest covers it.
        topic = {"originator_topic": get_topic(cls)}
        chained = _chained(ev.AccountOpened, fields, uuid, cls.INITIAL_VERSION, GENESIS, topic)
        return cls._create(ev.AccountOpened, id=uuid, **chained)

    def check_reopen(self, digest: str | None) -> None:
        """Refuse opening this account again with different details (same details are a no-op)."""
        if digest is None or digest != self._opened_digest:
            raise AccountAlreadyExists(
                "an account with this id is already open with other details",
                account_id=self.account_id,
                fix="choose another account id, or repeat the original details exactly",
            )

    # ----------------------------------------------------------------- budget
    def agree_budget(
        self, *, weekly_gross: Money, weekly_contribution: Money, meta: CommandMeta
    ) -> None:
        """Agree or revise the personal budget from ``meta.effective_date``."""
        self._check_writable(meta)
        self._check_amount(weekly_gross, "weekly_gross")
        self._check_amount(weekly_contribution, "weekly_contribution", allow_zero=True)
        if weekly_contribution > weekly_gross:
            raise ValidationError(
                f"the contribution {weekly_contribution} exceeds the gross budget {weekly_gross}",
                field="weekly_contribution",
                account_id=self.account_id,
                fix="the assessed contribution cannot exceed the personal budget",
            )
        self._record(
            ev.BudgetAgreed,
            meta,
            NO_POSTINGS,
            weekly_gross=weekly_gross,
            weekly_contribution=weekly_contribution,
        )

    # ----------------------------------------------------------------- money in
    def receive_council_payment(
        self,
        *,
        amount: Money,
        period_start: date | None,
        period_end: date | None,
        bank_reference: str | None,
        meta: CommandMeta,
    ) -> None:
        """A regular council payment arrived, optionally for a stated period."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        if period_start is not None and period_end is not None:
            self._check_period(period_start, period_end)
        self._record(
            ev.CouncilPaymentReceived,
            meta,
            Postings.transfer(LedgerAccount.BANK, LedgerAccount.COUNCIL_INCOME, amount),
            amount=amount,
            period_start=period_start,
            period_end=period_end,
            bank_reference=bank_reference,
        )

    def receive_contribution(
        self, *, amount: Money, bank_reference: str | None, meta: CommandMeta
    ) -> None:
        """The person's contribution arrived."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        self._record(
            ev.ContributionReceived,
            meta,
            Postings.transfer(LedgerAccount.BANK, LedgerAccount.CONTRIBUTION_INCOME, amount),
            amount=amount,
            bank_reference=bank_reference,
        )

    def receive_one_off_payment(
        self, *, amount: Money, purpose: str, bank_reference: str | None, meta: CommandMeta
    ) -> None:
        """A one-off council payment arrived, for ``purpose``."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        self._check_text(purpose, "purpose")
        self._record(
            ev.OneOffPaymentReceived,
            meta,
            Postings.transfer(LedgerAccount.BANK, LedgerAccount.COUNCIL_INCOME, amount),
            amount=amount,
            purpose=purpose.strip(),
            bank_reference=bank_reference,
        )

    # ----------------------------------------------------------------- agencies
    def register_agency(
        self, *, agency_id: str, name: str, hourly_rate: Money | None, meta: CommandMeta
    ) -> None:
        """Register a care agency that will invoice this account."""
        self._check_writable(meta)
        check_identifier(agency_id, "agency_id")
        self._check_text(name, "name")
        if hourly_rate is not None:
            self._check_amount(hourly_rate, "hourly_rate")
        if agency_id in self._agencies:
            raise InvalidTransition(
                f"agency {agency_id} is already registered",
                account_id=self.account_id,
                fix="use the existing agency id",
            )
        self._record(
            ev.AgencyRegistered,
            meta,
            NO_POSTINGS,
            agency_id=agency_id,
            name=name.strip(),
            hourly_rate=hourly_rate,
        )

    def receive_invoice(
        self,
        *,
        agency_id: str,
        invoice_number: str,
        period_start: date,
        period_end: date,
        hours: Decimal,
        rate: Money,
        total: Money,
        meta: CommandMeta,
    ) -> None:
        """An agency invoice arrived. Its total must be hours x rate within a penny, and the
        agency must not have sent an invoice with this number before."""
        self._check_writable(meta)
        self._agency(agency_id)
        self._check_text(invoice_number, "invoice_number")
        self._check_period(period_start, period_end)
        self._check_hours(hours)
        self._check_amount(rate, "rate")
        self._check_amount(total, "total")
        self._check_not_duplicate_invoice(agency_id, invoice_number)
        self._check_invoice_total(hours, rate, total)
        self._record(
            ev.InvoiceReceived,
            meta,
            NO_POSTINGS,
            agency_id=agency_id,
            invoice_number=invoice_number.strip(),
            period_start=period_start,
            period_end=period_end,
            hours=hours,
            rate=rate,
            total=total,
        )

    def approve_invoice(self, *, agency_id: str, invoice_number: str, meta: CommandMeta) -> None:
        """Approve a received (or disputed) invoice: it becomes owed to the agency."""
        self._check_writable(meta)
        invoice = self._invoice(agency_id, invoice_number)
        self._check_invoice_status(invoice, InvoiceStatus.RECEIVED, InvoiceStatus.DISPUTED)
        self._record(
            ev.InvoiceApproved,
            meta,
            Postings.transfer(
                LedgerAccount.AGENCY_CARE, LedgerAccount.AGENCY_PAYABLE, invoice.total
            ),
            agency_id=invoice.agency_id,
            invoice_number=invoice.invoice_number,
            amount=invoice.total,
        )

    def dispute_invoice(self, *, agency_id: str, invoice_number: str, meta: CommandMeta) -> None:
        """Dispute an invoice (``meta.reason`` says why). An approved, unpaid invoice stops being
        owed until it is approved again."""
        self._check_writable(meta)
        self._require_reason(meta, "disputing an invoice")
        invoice = self._invoice(agency_id, invoice_number)
        self._check_invoice_status(invoice, InvoiceStatus.RECEIVED, InvoiceStatus.APPROVED)
        if invoice.paid.is_positive():
            raise InvalidTransition(
                f"invoice {invoice.invoice_number} is part paid ({invoice.paid})",
                account_id=self.account_id,
                fix="correct the payments first, or settle the dispute with the agency",
            )
        withdrawn = invoice.total if invoice.status is InvoiceStatus.APPROVED else Money(0)
        self._record(
            ev.InvoiceDisputed,
            meta,
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

    def pay_invoice(
        self,
        *,
        agency_id: str,
        invoice_number: str,
        amount: Money,
        bank_reference: str | None,
        meta: CommandMeta,
    ) -> None:
        """Pay an approved invoice, in full or in part: never more than is owed on it."""
        self._check_writable(meta)
        invoice = self._invoice(agency_id, invoice_number)
        self._check_amount(amount, "amount")
        if invoice.status is InvoiceStatus.PAID:
            raise InvalidTransition(
                f"invoice {invoice.invoice_number} from {agency_id} is already paid in full",
                account_id=self.account_id,
                fix="do not pay an invoice twice; correct the earlier payment if it was wrong",
            )
        self._check_invoice_status(invoice, InvoiceStatus.APPROVED)
        self._check_not_over(amount, invoice.outstanding, f"invoice {invoice.invoice_number}")
        self._record(
            ev.InvoicePaid,
            meta,
            Postings.transfer(LedgerAccount.AGENCY_PAYABLE, LedgerAccount.BANK, amount),
            agency_id=invoice.agency_id,
            invoice_number=invoice.invoice_number,
            amount=amount,
            bank_reference=bank_reference,
        )

    # ----------------------------------------------------------------- payroll
    def register_personal_assistant(
        self, *, pa_id: str, hourly_rate: Money, meta: CommandMeta
    ) -> None:
        """Register a PA the person employs, at ``hourly_rate``."""
        self._check_writable(meta)
        check_identifier(pa_id, "pa_id")
        self._check_amount(hourly_rate, "hourly_rate")
        if pa_id in self._pas:
            raise InvalidTransition(
                f"personal assistant {pa_id} is already registered",
                account_id=self.account_id,
                fix="use the existing PA id",
            )
        self._record(
            ev.PersonalAssistantRegistered, meta, NO_POSTINGS, pa_id=pa_id, hourly_rate=hourly_rate
        )

    def record_wage_run(
        self,
        *,
        pa_id: str,
        period_start: date,
        period_end: date,
        hours: Decimal,
        gross: Money,
        paye: Money,
        employee_ni: Money,
        employer_ni: Money,
        employee_pension: Money,
        employer_pension: Money,
        net: Money,
        meta: CommandMeta,
    ) -> None:
        """Record a payslip: net must be gross minus PAYE, employee NI and employee pension."""
        self._check_writable(meta)
        self._pa(pa_id)
        self._check_period(period_start, period_end)
        self._check_hours(hours)
        self._check_amount(gross, "gross")
        for field, value in (
            ("paye", paye),
            ("employee_ni", employee_ni),
            ("employer_ni", employer_ni),
            ("employee_pension", employee_pension),
            ("employer_pension", employer_pension),
            ("net", net),
        ):
            self._check_amount(value, field, allow_zero=True)
        expected = wage_run_net(gross, paye, employee_ni, employee_pension)
        if net != expected:
            raise WageRunDoesNotBalance(
                f"net pay {net} is not gross {gross} minus deductions, which is {expected}",
                account_id=self.account_id,
                fix="check the payslip: net = gross - PAYE - employee NI - employee pension",
            )
        if wage_run_key(pa_id, period_start, period_end) in self._wage_runs:
            raise DuplicateWageRun(
                f"a wage run for {pa_id} for {period_start}..{period_end} is already recorded",
                account_id=self.account_id,
                fix="correct the recorded run instead of recording it again",
            )
        postings = Postings.of(
            [
                Posting.debit(LedgerAccount.PA_GROSS_WAGES, gross),
                Posting.debit(LedgerAccount.EMPLOYER_NI, employer_ni),
                Posting.debit(LedgerAccount.EMPLOYER_PENSION, employer_pension),
                Posting.credit(LedgerAccount.PA_NET_WAGES_PAYABLE, net),
                Posting.credit(LedgerAccount.HMRC_PAYABLE, paye + employee_ni + employer_ni),
                Posting.credit(LedgerAccount.PENSION_PAYABLE, employee_pension + employer_pension),
            ]
        )
        self._record(
            ev.WageRunRecorded,
            meta,
            postings,
            pa_id=pa_id,
            period_start=period_start,
            period_end=period_end,
            hours=hours,
            gross=gross,
            paye=paye,
            employee_ni=employee_ni,
            employer_ni=employer_ni,
            employee_pension=employee_pension,
            employer_pension=employer_pension,
            net=net,
        )

    def pay_net_wages(
        self, *, pa_id: str, amount: Money, bank_reference: str | None, meta: CommandMeta
    ) -> None:
        """Pay a PA net wages owed to them: never more than is owed."""
        self._check_writable(meta)
        pa = self._pa(pa_id)
        self._check_amount(amount, "amount")
        self._check_not_over(amount, pa.net_owed, f"net wages owed to {pa_id}")
        self._record(
            ev.NetWagesPaid,
            meta,
            Postings.transfer(LedgerAccount.PA_NET_WAGES_PAYABLE, LedgerAccount.BANK, amount),
            pa_id=pa_id,
            amount=amount,
            bank_reference=bank_reference,
        )

    def pay_hmrc(self, *, amount: Money, bank_reference: str | None, meta: CommandMeta) -> None:
        """Pay HMRC PAYE and NI owed: never more than is owed."""
        self._pay_liability(
            ev.HmrcPaid, LedgerAccount.HMRC_PAYABLE, "HMRC", amount, bank_reference, meta
        )

    def claim_employment_allowance(self, *, amount: Money, meta: CommandMeta) -> None:
        """Offset employer NI owed to HMRC by Employment Allowance (no money moves).

        Never more than HMRC is owed, nor more than the employer NI incurred so far.
        """
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        self._check_not_over(amount, self.owed(LedgerAccount.HMRC_PAYABLE), "HMRC")
        self._check_not_over(
            amount, self.balance(LedgerAccount.EMPLOYER_NI), "employer NI incurred"
        )
        self._record(
            ev.EmploymentAllowanceClaimed,
            meta,
            Postings.transfer(LedgerAccount.HMRC_PAYABLE, LedgerAccount.EMPLOYER_NI, amount),
            amount=amount,
        )

    def pay_pension(self, *, amount: Money, bank_reference: str | None, meta: CommandMeta) -> None:
        """Pay pension contributions owed: never more than is owed."""
        self._pay_liability(
            ev.PensionPaid,
            LedgerAccount.PENSION_PAYABLE,
            "the pension",
            amount,
            bank_reference,
            meta,
        )

    def _pay_liability(
        self,
        event_class: type[ev.AccountEvent],
        liability: LedgerAccount,
        payee: str,
        amount: Money,
        bank_reference: str | None,
        meta: CommandMeta,
    ) -> None:
        """Pay a payee what a liability account says is owed: never more, never overdrawn."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        self._check_not_over(amount, self.owed(liability), payee)
        self._record(
            event_class,
            meta,
            Postings.transfer(liability, LedgerAccount.BANK, amount),
            amount=amount,
            bank_reference=bank_reference,
        )

    def pay_care_plan_spend(
        self,
        *,
        category: SpendCategory,
        amount: Money,
        description: str,
        bank_reference: str | None,
        meta: CommandMeta,
    ) -> None:
        """Pay other care-plan spend (insurance, fees, equipment) straight from the bank."""
        self._check_writable(meta)
        if not isinstance(category, SpendCategory):
            raise ValidationError(
                f"{category!r} is not a spend category",
                field="category",
                account_id=self.account_id,
                fix=f"use one of {', '.join(c.value for c in SpendCategory)}",
            )
        self._check_amount(amount, "amount")
        self._check_text(description, "description")
        self._record(
            ev.CarePlanSpendPaid,
            meta,
            Postings.transfer(category.ledger_account, LedgerAccount.BANK, amount),
            category=category,
            amount=amount,
            description=description.strip(),
            bank_reference=bank_reference,
        )

    # ----------------------------------------------------------------- unexpected income
    def receive_unexpected_income(
        self, *, amount: Money, description: str, meta: CommandMeta
    ) -> str:
        """Money that matches nothing expected arrived: hold it in suspense. Returns its item id."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        self._check_text(description, "description")
        item_id = f"S{self.version + 1}"
        self._record(
            ev.UnexpectedIncomeReceived,
            meta,
            Postings.transfer(LedgerAccount.BANK, LedgerAccount.SUSPENSE, amount),
            item_id=item_id,
            amount=amount,
            description=description.strip(),
        )
        return item_id

    def classify_unexpected_income(
        self, *, item_id: str, classified_as: str, meta: CommandMeta
    ) -> None:
        """Identify suspense money as ``"council"`` money or the person's ``"contribution"``."""
        self._check_writable(meta)
        item = self._held_item(item_id)
        income = INCOME_CLASSES.get(classified_as)
        if income is None:
            raise ValidationError(
                f"{classified_as!r} is not a class of income",
                field="classified_as",
                account_id=self.account_id,
                fix=f"use one of {', '.join(INCOME_CLASSES)}",
            )
        self._record(
            ev.UnexpectedIncomeClassified,
            meta,
            Postings.transfer(LedgerAccount.SUSPENSE, income, item.amount),
            item_id=item_id,
            amount=item.amount,
            classified_as=classified_as,
        )

    def refund_unexpected_income(self, *, item_id: str, meta: CommandMeta) -> None:
        """Pay suspense money back to whoever sent it."""
        self._check_writable(meta)
        item = self._held_item(item_id)
        self._record(
            ev.UnexpectedIncomeRefunded,
            meta,
            Postings.transfer(LedgerAccount.SUSPENSE, LedgerAccount.BANK, item.amount),
            item_id=item_id,
            amount=item.amount,
        )

    def keep_unexpected_income(self, *, item_id: str, meta: CommandMeta) -> None:
        """Keep suspense money in the account; ``meta.reason`` must say why."""
        self._check_writable(meta)
        self._require_reason(meta, "keeping unexpected income")
        item = self._held_item(item_id)
        self._record(
            ev.UnexpectedIncomeKept,
            meta,
            Postings.transfer(LedgerAccount.SUSPENSE, LedgerAccount.OTHER_INCOME, item.amount),
            item_id=item_id,
            amount=item.amount,
        )

    # ----------------------------------------------------------------- recoupment
    def demand_recoupment(self, *, amount: Money, meta: CommandMeta) -> None:
        """The council recoups surplus: refused if ``amount`` exceeds the surplus."""
        self._check_writable(meta)
        self._check_amount(amount, "amount")
        available = self.recoverable_surplus(meta.effective_date)
        if amount > available:
            spent_first = self.policy.contribution_spent_first
            raise SurplusExceeded(
                f"recoupment of {amount} exceeds the surplus of {available}"
                + (
                    " the council can recover (the contribution is spent first)"
                    if spent_first
                    else ""
                ),
                account_id=self.account_id,
                fix="recoup at most the surplus: balance - unpaid liabilities - contingency"
                + (", and no more council money than is unspent" if spent_first else ""),
            )
        self._record(
            ev.RecoupmentDemanded,
            meta,
            Postings.transfer(
                LedgerAccount.RETURNED_TO_COUNCIL, LedgerAccount.COUNCIL_PAYABLE, amount
            ),
            amount=amount,
            surplus=available,
        )

    def repay_recoupment(
        self, *, amount: Money, bank_reference: str | None, meta: CommandMeta
    ) -> None:
        """Pay recouped surplus back to the council: never more than was demanded."""
        self._pay_liability(
            ev.RecoupmentRepaid,
            LedgerAccount.COUNCIL_PAYABLE,
            "recoupment owed to the council",
            amount,
            bank_reference,
            meta,
        )

    # ----------------------------------------------------------------- reviews
    def record_review(self, *, next_review_by: date | None, meta: CommandMeta) -> None:
        """The council reviewed the Direct Payment; it may set the next review sooner."""
        self._check_writable(meta)
        if next_review_by is not None:
            if not isinstance(next_review_by, date):
                raise ValidationError("must be a date", field="next_review_by")
            if next_review_by <= meta.effective_date:
                raise ValidationError(
                    f"must be after the review date {meta.effective_date}",
                    field="next_review_by",
                    account_id=self.account_id,
                )
        self._record(ev.ReviewRecorded, meta, NO_POSTINGS, next_review_by=next_review_by)

    # ----------------------------------------------------------------- lifecycle
    def suspend(self, *, meta: CommandMeta) -> None:
        """Suspend council payments from ``meta.effective_date``; ``meta.reason`` says why."""
        self._check_writable(meta)
        self._require_reason(meta, "suspending an account")
        if self.status is not AccountStatus.OPEN:
            raise InvalidTransition(
                f"the account is already suspended (since {self.suspended_since})",
                account_id=self.account_id,
                fix="resume it first",
            )
        self._record(ev.AccountSuspended, meta, NO_POSTINGS)

    def resume(self, *, backfill_ordered: bool, meta: CommandMeta) -> None:
        """Resume council payments; missed payments are made good only if ``backfill_ordered``."""
        self._check_writable(meta)
        if self.status is not AccountStatus.SUSPENDED:
            raise InvalidTransition(
                "the account is not suspended",
                account_id=self.account_id,
                fix="only a suspended account can be resumed",
            )
        self._record(ev.AccountResumed, meta, NO_POSTINGS, backfill_ordered=bool(backfill_ordered))

    def close(self, *, meta: CommandMeta) -> None:
        """End the Direct Payment with the final reckoning.

        Every liability must be paid and no unexpected income held. The bank balance is returned:
        contributions the person paid beyond what was due go back to them (net basis), the rest to
        the council, and the account then accepts nothing more.
        """
        self._check_writable(meta)
        outstanding = {a.value: self.owed(a) for a in LIABILITIES if self.owed(a).is_positive()}
        if outstanding:
            owed = ", ".join(f"{code} {money}" for code, money in outstanding.items())
            raise InvalidTransition(
                f"cannot close with unpaid liabilities: {owed}",
                account_id=self.account_id,
                fix="pay, dispute or correct them first",
            )
        held = [i.item_id for i in self._suspense.values() if i.status is SuspenseStatus.HELD]
        held += [
            o.item_id
            for o in self.unexplained_outgoings.values()
            if o.status is OutgoingStatus.HELD
        ]
        if held:
            raise InvalidTransition(
                f"cannot close with unexpected money held in suspense: {', '.join(held)}",
                account_id=self.account_id,
                fix="classify, refund or keep each item first",
            )
        later = [d for d in self._bank_days if d > meta.effective_date.isoformat()]
        if later:
            raise InvalidTransition(
                f"bank entries are dated after the closing date {meta.effective_date}: "
                f"{max(later)}",
                account_id=self.account_id,
                fix="close on or after the last bank entry's date",
            )
        bank = self.bank_balance
        received = -self.balance(LedgerAccount.CONTRIBUTION_INCOME)
        due = contributions_due(self._budgets, meta.effective_date)
        to_person = Money(0)
        if self.policy.payment_basis is PaymentBasis.NET and received > due:
            to_person = min(received - due, bank)
        to_council = bank - to_person
        in_advance = self.paid_in_advance()
        postings = Postings.of(
            [
                Posting.debit(LedgerAccount.RETURNED_TO_COUNCIL, to_council),
                Posting.debit(LedgerAccount.CONTRIBUTION_INCOME, to_person),
                Posting.credit(LedgerAccount.BANK, bank),
            ]
        )
        self._record(
            ev.AccountClosed,
            meta,
            postings,
            returned_to_council=to_council,
            returned_to_person=to_person,
            contributions_due=due,
            contributions_received=received,
            paid_in_advance=in_advance,
        )

    # ----------------------------------------------------------------- bank lines
    def record_bank_line(
        self,
        *,
        line: BankLine,
        decision: Decision,
        meta: CommandMeta,
        target: ev.AccountEvent | None = None,
    ) -> None:
        """Record a booked bank line as ``decision`` says (see
        :func:`~dpledger.domain.reconciliation.match_line`).

        The bank is the truth: money a line moved is recorded ``from_bank`` (the overdraft guard
        is for payments we make), ``meta.key`` must be ``bank:<dedup key>`` and ``meta.reason``
        carries the decision's reason. ``target`` is the event a reversal line reverses.
        """
        self._check_writable(meta)
        self._check_amount(line.amount, "amount")
        if meta.key != f"{BANK_KEY_PREFIX}{line.key}":
            raise ValidationError(
                f"a bank line is recorded under the key {BANK_KEY_PREFIX}<dedup key>, "
                f"got {meta.key!r}",
                field="idempotency_key",
                account_id=self.account_id,
                fix="import bank lines through Ledger.import_bank_file or import_statement",
            )
        kind, amount = decision.kind, line.amount
        reference = line.bank_reference or line.end_to_end_id
        self._check_direction(line, decision)
        if kind is MatchKind.REVERSAL:
            self._record_bank_reversal(line, decision, target, meta)
        elif kind is MatchKind.CONFIRMS:
            row = self._unconfirmed.get(str(decision.version))
            movement = None if row is None else _movement_of(str(decision.version), row)
            if movement is None or movement.amount != line.signed:
                raise InvalidTransition(
                    f"event {decision.version} is not a recorded movement of {line.signed} "
                    "awaiting its bank line",
                    account_id=self.account_id,
                    fix="match the line again against the account as it is now",
                )
            self._record(
                ev.BankLineConfirmed,
                meta,
                NO_POSTINGS,
                line_key=line.key,
                matched_version=movement.version,
                matched_type=movement.event_type,
                amount=line.signed,
                description=line.label,
            )
        elif kind is MatchKind.COUNCIL_PAYMENT:
            self._record(
                ev.CouncilPaymentReceived,
                meta,
                Postings.transfer(LedgerAccount.BANK, LedgerAccount.COUNCIL_INCOME, amount),
                from_bank=True,
                amount=amount,
                period_start=decision.period_start,
                period_end=decision.period_end,
                bank_reference=reference,
            )
        elif kind is MatchKind.CONTRIBUTION:
            self._record(
                ev.ContributionReceived,
                meta,
                Postings.transfer(LedgerAccount.BANK, LedgerAccount.CONTRIBUTION_INCOME, amount),
                from_bank=True,
                amount=amount,
                bank_reference=reference,
            )
        elif kind is MatchKind.INVOICE_PAYMENT:
            invoice = self._invoice(str(decision.agency_id), str(decision.invoice_number))
            self._check_invoice_status(invoice, InvoiceStatus.APPROVED)
            self._check_not_over(amount, invoice.outstanding, f"invoice {invoice.invoice_number}")
            self._record(
                ev.InvoicePaid,
                meta,
                Postings.transfer(LedgerAccount.AGENCY_PAYABLE, LedgerAccount.BANK, amount),
                from_bank=True,
                agency_id=invoice.agency_id,
                invoice_number=invoice.invoice_number,
                amount=amount,
                bank_reference=reference,
            )
        elif kind is MatchKind.NET_WAGES:
            pa = self._pa(str(decision.pa_id))
            self._check_not_over(amount, pa.net_owed, f"net wages owed to {pa.pa_id}")
            self._record(
                ev.NetWagesPaid,
                meta,
                Postings.transfer(LedgerAccount.PA_NET_WAGES_PAYABLE, LedgerAccount.BANK, amount),
                from_bank=True,
                pa_id=pa.pa_id,
                amount=amount,
                bank_reference=reference,
            )
        elif kind in (MatchKind.HMRC, MatchKind.PENSION):
            event_class, liability = (
                (ev.HmrcPaid, LedgerAccount.HMRC_PAYABLE)
                if kind is MatchKind.HMRC
                else (ev.PensionPaid, LedgerAccount.PENSION_PAYABLE)
            )
            self._check_not_over(amount, self.owed(liability), liability.value)
            self._record(
                event_class,
                meta,
                Postings.transfer(liability, LedgerAccount.BANK, amount),
                from_bank=True,
                amount=amount,
                bank_reference=reference,
            )
        elif kind is MatchKind.UNEXPECTED_INCOME:
            self.receive_unexpected_income(amount=amount, description=line.label, meta=meta)
        else:
            self._record(
                ev.UnexpectedOutgoingRecorded,
                meta,
                Postings.transfer(LedgerAccount.UNEXPLAINED_OUTGOING, LedgerAccount.BANK, amount),
                from_bank=True,
                item_id=f"U{self.version + 1}",
                amount=amount,
                description=line.label,
            )

    def _check_direction(self, line: BankLine, decision: Decision) -> None:
        credit_kinds = (
            MatchKind.COUNCIL_PAYMENT,
            MatchKind.CONTRIBUTION,
            MatchKind.UNEXPECTED_INCOME,
        )
        debit_kinds = (
            MatchKind.INVOICE_PAYMENT,
            MatchKind.NET_WAGES,
            MatchKind.HMRC,
            MatchKind.PENSION,
            MatchKind.UNEXPECTED_OUTGOING,
        )
        if (decision.kind in credit_kinds and not line.credit) or (
            decision.kind in debit_kinds and line.credit
        ):
            raise ValidationError(
                f"a {'credit' if line.credit else 'debit'} cannot be {decision.kind.value}",
                field="decision",
                account_id=self.account_id,
                fix="money in is income, money out is a payment",
            )

    def _record_bank_reversal(
        self,
        line: BankLine,
        decision: Decision,
        target: ev.AccountEvent | None,
        meta: CommandMeta,
    ) -> None:
        if target is None or target.originator_version != decision.version:
            raise ValidationError(
                f"a reversal needs the event it reverses (version {decision.version})",
                field="target",
                account_id=self.account_id,
                fix="pass the event the decision names",
            )
        if target.postings.effect_on(LedgerAccount.BANK) != -line.signed.pence:
            raise ValidationError(
                f"event {target.originator_version} did not move {-line.signed} in the bank",
                field="target",
                account_id=self.account_id,
                fix="a reversal line undoes a line of the same amount in the other direction",
            )
        self._check_correctable(target)
        self._record(
            ev.EntryCorrected,
            meta,
            target.postings.reversed(),
            from_bank=True,
            corrected_version=target.originator_version,
            corrected_type=type(target).__name__,
            corrected_fields=own_fields(target),
        )

    def can_reverse(self, target: ev.AccountEvent) -> str | None:
        """Why ``target`` cannot be reversed now (``None`` if it can): a bank reversal line
        whose original cannot be corrected is held in suspense instead."""
        try:
            self._check_correctable(target)
        except (InvalidTransition, UnknownParty, ValidationError) as refused:
            return refused.message
        return None

    def previous_version(self, key: str) -> int:
        """The version an earlier command with idempotency key ``key`` recorded (0: none)."""
        seen = self._commands.get(key)
        return 0 if seen is None else int(seen[1])

    def assert_bank_balance(
        self,
        *,
        balance: Money,
        stated_date: date,
        kind: str,
        position: str,
        source: str,
        meta: CommandMeta,
    ) -> None:
        """Record a balance a statement states for the end of ``meta.effective_date``.

        Nothing is posted: the statement asserts, the ledger is checked against it
        (:meth:`reconciliation_breaks`), and a difference is reported, never absorbed.
        """
        self._check_writable(meta)
        self._check_amount(abs(balance), "balance", allow_zero=True)
        if position not in ("opening", "closing"):
            raise ValidationError(
                f"{position!r} is not a balance position",
                field="position",
                account_id=self.account_id,
                fix="use 'opening' or 'closing'",
            )
        self._check_text(kind, "kind")
        self._check_text(source, "source")
        self._record(
            ev.BankBalanceAsserted,
            meta,
            NO_POSTINGS,
            balance=balance,
            stated_date=stated_date,
            kind=kind.strip(),
            position=position,
            source=source.strip(),
        )

    def note_pending_bank_lines(
        self,
        *,
        lines: Sequence[PendingBankLine],
        as_of: date | None,
        source: str,
        meta: CommandMeta,
    ) -> bool:
        """Remember the bank's pending lines as of ``as_of``; returns whether anything changed.

        Pending lines post nothing. A statement as of a later date replaces the set, one as of
        the same date adds to it, an older one changes nothing; lines that a recorded booked line
        already settles are left out. Nothing is recorded when the set would not change.
        """
        self._check_writable(meta)
        current = self._pending_as_of
        if current is not None and (as_of is None or as_of < current):
            return False
        fresh = {line.key: line for line in self._unsettled(lines)}
        merged = {**self._pending, **fresh} if as_of == current else fresh
        if set(merged) == set(self._pending):
            return False
        self._record(
            ev.PendingBankLinesSeen,
            meta,
            NO_POSTINGS,
            as_of=as_of,
            lines=sorted(merged.values(), key=lambda p: p.key),
            source=source,
        )
        return True

    def _unsettled(self, lines: Sequence[PendingBankLine]) -> list[PendingBankLine]:
        """The pending lines no recorded booked line settles (each booked line settles one)."""
        used: set[str] = set()
        left: list[PendingBankLine] = []
        booked = sorted(self.bank_lines.values(), key=lambda r: r.key)
        for line in sorted(lines, key=_pending_order):
            if f"{BANK_KEY_PREFIX}{line.key}" in self._commands:  # booked already, at any date
                continue
            settled_by = next(
                (
                    record.key
                    for record in booked
                    if record.key not in used
                    and self._settles(line, record.booking_date, record.amount)
                ),
                None,
            )
            if settled_by is None:
                left.append(line)
            else:
                used.add(settled_by)
        return left

    def _settles(self, pending: PendingBankLine, booked_on: date, amount: Money) -> bool:
        # A booked line settles a pending one of the same signed amount booked on its date or
        # within the policy margin after it.
        if pending.amount != amount:
            return False
        if pending.booking_date is None:
            return True
        days = (booked_on - pending.booking_date).days
        return 0 <= days <= self.policy.missing_payment_margin_days

    def classify_unexpected_outgoing(
        self, *, item_id: str, category: SpendCategory, meta: CommandMeta
    ) -> None:
        """Identify an unexplained outgoing as care-plan spend of ``category``."""
        self._check_writable(meta)
        item = self._held_outgoing(item_id)
        if not isinstance(category, SpendCategory):
            raise ValidationError(
                f"{category!r} is not a spend category",
                field="category",
                account_id=self.account_id,
                fix=f"use one of {', '.join(c.value for c in SpendCategory)}",
            )
        self._record(
            ev.UnexpectedOutgoingClassified,
            meta,
            Postings.transfer(
                category.ledger_account, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount
            ),
            item_id=item_id,
            amount=item.amount,
            category=category,
        )

    def recover_unexpected_outgoing(
        self, *, item_id: str, income_item_id: str | None, meta: CommandMeta
    ) -> None:
        """An unexplained outgoing came back: into the bank now (``income_item_id`` ``None``),
        or as unexpected income already held in suspense (that item, of the same amount)."""
        self._check_writable(meta)
        item = self._held_outgoing(item_id)
        source = LedgerAccount.BANK
        if income_item_id is not None:
            income = self._held_item(income_item_id)
            if income.amount != item.amount:
                raise ValidationError(
                    f"suspense item {income_item_id} is {income.amount}, not {item.amount}",
                    field="income_item_id",
                    account_id=self.account_id,
                    fix="recover with the unexpected income of the same amount",
                )
            source = LedgerAccount.SUSPENSE
        self._record(
            ev.UnexpectedOutgoingRecovered,
            meta,
            Postings.transfer(source, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount),
            item_id=item_id,
            amount=item.amount,
            income_item_id=income_item_id,
        )

    def accept_unexpected_outgoing(self, *, item_id: str, meta: CommandMeta) -> None:
        """Accept an unexplained outgoing as spent and not recoverable; ``meta.reason`` says why."""
        self._check_writable(meta)
        self._require_reason(meta, "accepting an unexplained outgoing")
        item = self._held_outgoing(item_id)
        self._record(
            ev.UnexpectedOutgoingAccepted,
            meta,
            Postings.transfer(
                LedgerAccount.UNRECOVERED_OUTGOINGS, LedgerAccount.UNEXPLAINED_OUTGOING, item.amount
            ),
            item_id=item_id,
            amount=item.amount,
        )

    def _held_outgoing(self, item_id: str) -> UnexplainedOutgoing:
        item = self._unexplained.get(item_id)
        if item is None:
            raise UnknownParty(
                f"no unexplained outgoing {item_id!r}",
                account_id=self.account_id,
                fix="use the item id from the import report (U and a version)",
            )
        if item.status is not OutgoingStatus.HELD:
            raise InvalidTransition(
                f"unexplained outgoing {item_id} was already {item.status.value}",
                account_id=self.account_id,
                fix="correct that resolution first if it was wrong",
            )
        return item

    @property
    def bank_lines(self) -> Mapping[str, BankLineRecord]:
        """The booked bank lines recorded in the last ``REVERSAL_WINDOW_DAYS`` days up to the
        latest booked line, by de-duplication key.

        Older lines are in the events only: a bank reversal does not look so far back, and
        their keys still make a re-import of them record nothing (:meth:`previous_result`).
        """
        return MappingProxyType({k: _line_of(k, row) for k, row in self._bank_lines.items()})

    @property
    def bank_movements(self) -> Mapping[str, BankMovement]:
        """The events in force that moved money in or out of the bank and that no bank line has
        recorded or confirmed yet (the ones a bank line could still confirm), by version.

        Movements a bank line recorded or confirmed are in the events only.
        """
        return MappingProxyType({v: _movement_of(v, row) for v, row in self._unconfirmed.items()})

    def unconfirmed_movements(self, amount: Money, around: date, days: int) -> list[BankMovement]:
        """The :attr:`bank_movements` of ``amount`` (signed) dated at most ``days`` from
        ``around``, in recording order."""
        # Compare the stored pence and ISO dates first: building every record would cost more.
        first = (around - timedelta(days=days)).isoformat()
        last = (around + timedelta(days=days)).isoformat()
        found = (
            _movement_of(v, row)
            for v, row in self._unconfirmed.items()
            if row[2] == amount.pence and first <= row[1] <= last
        )
        return [m for m in found if m.amount == amount]

    @property
    def contributions(self) -> tuple[ContributionReceipt, ...]:
        """The contributions in force (corrected ones removed), in recording order."""
        return tuple(
            ContributionReceipt(int(v), date.fromisoformat(day), Money(pence), reference)
            for v, (day, pence, reference) in self._contributions.items()
        )

    @property
    def unexplained_outgoings(self) -> Mapping[str, UnexplainedOutgoing]:
        """Unexplained outgoings by item id, resolved or not (``HELD`` means unresolved)."""
        return MappingProxyType(self._unexplained)

    @property
    def pending_bank_lines(self) -> Mapping[str, PendingBankLine]:
        """The bank's pending lines not yet settled by a booked line, by key."""
        return MappingProxyType(self._pending)

    @property
    def balance_assertions(self) -> tuple[BankBalanceRecord, ...]:
        """The balances bank statements stated, by date."""
        return tuple(sorted(self._assertions.values(), key=lambda a: (a.effective_date, a.version)))

    def bank_balance_on(self, day: date) -> Money:
        """The ledger's bank balance at the end of ``day``, by effective date."""
        key = day.isoformat()
        return Money(sum(pence for when, pence in self._bank_days.items() if when <= key))

    def reconciliation_breaks(self) -> list[ReconciliationBreak]:
        """Each stated balance that differs from the ledger's bank balance on its date.

        Derived each time from the assertions and the postings by effective date, so it does
        not depend on the order statements and entries were recorded in.
        """
        breaks = []
        for assertion in self.balance_assertions:
            ledger = self.bank_balance_on(assertion.effective_date)
            if ledger != assertion.balance:
                breaks.append(
                    ReconciliationBreak(
                        effective_date=assertion.effective_date,
                        asserted=assertion.balance,
                        ledger=ledger,
                        difference=assertion.balance - ledger,
                        source=assertion.source,
                        version=assertion.version,
                    )
                )
        return breaks

    @property
    def suspensions(self) -> tuple[tuple[date, date | None], ...]:
        """Each suspension: from, and until the day payments resumed (``None``: still)."""
        periods = []
        for start, end in self._suspensions:
            assert start is not None  # a suspension always has its first day
            periods.append((start, end))
        return tuple(periods)

    def suspended_on(self, day: date) -> bool:
        """Whether council payments were suspended on ``day``."""
        return any(start <= day and (end is None or day < end) for start, end in self.suspensions)

    # ----------------------------------------------------------------- corrections
    def correct(self, *, target: ev.AccountEvent, meta: CommandMeta) -> None:
        """Reverse an earlier event of this account by a new event naming it.

        ``meta.reason`` must say why. Only money events (and invoices not yet approved) can be
        corrected; registrations and budgets are revised by new commands instead.
        """
        self._check_writable(meta)
        self._require_reason(meta, "a correction")
        self._check_correctable(target)
        self._record(
            ev.EntryCorrected,
            meta,
            target.postings.reversed(),
            corrected_version=target.originator_version,
            corrected_type=type(target).__name__,
            corrected_fields=own_fields(target),
        )

    # ----------------------------------------------------------------- idempotency
    def previous_result(self, key: str, digest: str) -> int | None:
        """The version recorded by an earlier command with this key, or ``None`` if new.

        Raises :class:`IdempotencyConflict` if the key was used with a different payload.
        """
        seen = self._commands.get(key)
        if seen is None:
            return None
        if seen[0] != digest:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for a different command or payload",
                account_id=self.account_id,
                fix="use a new key for a new command; repeat a key only to retry the same command",
            )
        return int(seen[1])

    # ----------------------------------------------------------------- queries
    def balance(self, account: LedgerAccount) -> Money:
        """The balance of one ledger account, debit positive."""
        return Money(self._balances.get(account.value, 0))

    @property
    def balances(self) -> dict[LedgerAccount, Money]:
        """Every ledger account's balance (zero ones included), debit positive."""
        return {a: self.balance(a) for a in LedgerAccount}

    @property
    def bank_balance(self) -> Money:
        """Money in the client bank account."""
        return self.balance(LedgerAccount.BANK)

    def owed(self, liability: LedgerAccount) -> Money:
        """What is owed on one liability account (a positive amount)."""
        return -self.balance(liability)

    @property
    def unpaid_liabilities(self) -> Money:
        """Everything owed: approved invoices, net wages, HMRC, pension, council recoupment."""
        total = Money(0)
        for liability in LIABILITIES:
            total += self.owed(liability)
        return total

    @property
    def budgets(self) -> tuple[BudgetAgreement, ...]:
        """Every budget agreement, in effective-date order."""
        return tuple(sorted(self._budgets, key=lambda b: b.effective_date))

    def budget_on(self, day: date) -> BudgetAgreement | None:
        """The budget in force on ``day``, if any."""
        return budget_on(self._budgets, day)

    def contingency(self, day: date) -> Money:
        """The contingency the account may keep on ``day``."""
        budget = self.budget_on(day)
        return Money(0) if budget is None else self.policy.contingency(budget.weekly_gross)

    def surplus(self, day: date) -> Money:
        """Balance minus unpaid liabilities minus contingency on ``day``, never negative."""
        return surplus(self.bank_balance, self.unpaid_liabilities, self.contingency(day))

    @property
    def agencies(self) -> Mapping[str, Agency]:
        """Registered agencies by id."""
        return MappingProxyType(self._agencies)

    @property
    def invoices(self) -> Mapping[str, Invoice]:
        """Invoices by ``agency_id/NUMBER``."""
        return MappingProxyType(self._invoices)

    def invoice(self, agency_id: str, invoice_number: str) -> Invoice:
        """One invoice; raises :class:`UnknownParty` if there is none."""
        return self._invoice(agency_id, invoice_number)

    @property
    def personal_assistants(self) -> Mapping[str, PersonalAssistant]:
        """Registered personal assistants by id."""
        return MappingProxyType(self._pas)

    @property
    def wage_runs(self) -> Mapping[str, WageRun]:
        """Wage runs by ``pa_id/start/end``."""
        return MappingProxyType(self._wage_runs)

    @property
    def council_received(self) -> Money:
        """Council money received, regular and one-off (net of corrections)."""
        return -self.balance(LedgerAccount.COUNCIL_INCOME)

    @property
    def contributions_received(self) -> Money:
        """The person's contributions received (net of corrections)."""
        return -self.balance(LedgerAccount.CONTRIBUTION_INCOME)

    @property
    def spent(self) -> Money:
        """Everything spent on care so far: the sum of the expense accounts."""
        return Money(sum(self.balance(a).pence for a in EXPENSES))

    def recoverable_surplus(self, day: date) -> Money:
        """The surplus the council may recoup on ``day``.

        The whole surplus, unless the policy spends the contribution first: then at most the
        council money still unspent (:func:`council_recoverable_surplus`).
        """
        available = self.surplus(day)
        if not self.policy.contribution_spent_first:
            return available
        return council_recoverable_surplus(
            available, self.council_received, self.contributions_received, self.spent
        )

    def paid_in_advance(self, end_date: date | None = None) -> Money:
        """Council payments for days after ``end_date`` (default: the policy's end date).

        A payment with no stated period is taken to cover the 4 weeks (or the month) from its
        date, as councils pay in advance.
        """
        end = end_date or self.policy.end_date
        if end is None:
            return Money(0)
        periods = []
        for payment in self._council_payments.values():
            start = payment.period_start or payment.effective_date
            stop = payment.period_end
            if stop is None:
                if self.policy.frequency is PaymentFrequency.MONTHLY:
                    stop = add_months(start, 1) - timedelta(days=1)
                else:
                    stop = start + timedelta(days=27)
            periods.append((start, stop, payment.amount))
        return paid_in_advance_after(periods, end)

    @property
    def first_payment_on(self) -> date | None:
        """The date of the first regular council payment still in force."""
        dates = [p.effective_date for p in self._council_payments.values()]
        return min(dates) if dates else None

    @property
    def last_review_on(self) -> date | None:
        """The date of the latest review recorded."""
        return date.fromisoformat(max(self._reviews)) if self._reviews else None

    @property
    def next_review_due(self) -> date | None:
        """When the next review is due, by the policy and any date the last review set."""
        last = self.last_review_on
        requested = self._reviews[last.isoformat()] if last is not None else None
        return next_review_due(
            self.first_payment_on,
            last,
            self.policy.first_review_within_months,
            self.policy.review_every_months,
            requested,
        )

    @property
    def council_payments(self) -> tuple[CouncilPayment, ...]:
        """Regular council payments still in force (corrected ones removed), in recording order."""
        return tuple(self._council_payments.values())

    @property
    def suspense_items(self) -> Mapping[str, SuspenseItem]:
        """Unexpected income items by id, resolved or not."""
        return MappingProxyType(self._suspense)

    def corrected_by(self, version: int) -> int | None:
        """The version of the correction that reversed event ``version``, if any."""
        return self._corrections.get(str(version))

    # ----------------------------------------------------------------- guards
    def _check_writable(self, meta: CommandMeta) -> None:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(
                f"the account was closed on {self.closed_on} and accepts no new entries",
                account_id=self.account_id,
                fix="open a new account for a new Direct Payment",
            )
        if meta.effective_date < self.opened_on:
            raise ValidationError(
                f"{meta.effective_date} is before the account was opened ({self.opened_on})",
                field="effective_date",
                account_id=self.account_id,
                fix=f"date it on or after {self.opened_on}",
            )

    def _check_amount(self, value: object, field: str, *, allow_zero: bool = False) -> None:
        if not isinstance(value, Money):
            raise ValidationError(
                f"must be Money, got {type(value).__name__}",
                field=field,
                account_id=self.account_id,
                fix="pass Money('12.34')",
            )
        if value.currency != GBP:
            raise ValidationError(
                f"must be in GBP, got {value.currency}",
                field=field,
                account_id=self.account_id,
                fix="a managed account keeps GBP only",
            )
        if value.is_negative() or (value.is_zero() and not allow_zero):
            raise ValidationError(
                f"must be {'zero or more' if allow_zero else 'more than zero'}, got {value}",
                field=field,
                account_id=self.account_id,
                fix="amounts are never negative: corrections reverse entries instead",
            )

    def _check_text(self, value: object, field: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(
                "must not be blank", field=field, account_id=self.account_id, fix=f"give a {field}"
            )

    def _check_period(self, start: date, end: date) -> None:
        if not isinstance(start, date) or not isinstance(end, date) or end < start:
            raise ValidationError(
                f"period {start}..{end} ends before it starts",
                field="period_end",
                account_id=self.account_id,
                fix="give dates with the period's first day first",
            )

    def _check_hours(self, hours: object) -> None:
        valid = (
            isinstance(hours, Decimal)
            and hours.is_finite()
            and Decimal(0) <= hours <= MAX_HOURS
            and (hours * 100) == (hours * 100).to_integral_value()
        )
        if not valid:
            raise ValidationError(
                f"must be a number of hours from 0 to {MAX_HOURS} with at most 2 places, "
                f"got {hours!r}",
                field="hours",
                account_id=self.account_id,
                fix="pass hours as a Decimal or str such as '37.5'",
            )

    def _require_reason(self, meta: CommandMeta, what: str) -> None:
        if meta.reason is None:
            raise ValidationError(
                f"{what} needs a reason",
                field="reason",
                account_id=self.account_id,
                fix="say why, briefly; auditors read it",
            )

    def _check_not_over(self, amount: Money, owed: Money, what: str) -> None:
        if amount > owed:
            raise Overpayment(
                f"{amount} is more than the {owed} owed on {what}",
                account_id=self.account_id,
                fix=f"pay at most {owed}",
            )

    def _check_not_duplicate_invoice(self, agency_id: str, invoice_number: str) -> None:
        existing = self._invoices.get(invoice_key(agency_id, invoice_number))
        if existing is not None and existing.status is not InvoiceStatus.VOIDED:
            raise DuplicateInvoice(
                f"agency {agency_id} already sent invoice {existing.invoice_number} "
                f"({existing.total}, {existing.status.value})",
                account_id=self.account_id,
                fix="check with the agency: a repeated invoice number is a known error and fraud "
                "pattern",
            )

    def _check_invoice_total(self, hours: Decimal, rate: Money, total: Money) -> None:
        if not invoice_total_matches(hours, rate, total):
            raise InvoiceTotalMismatch(
                f"total {total} is not {hours} hours x {rate} (= {hours * rate.amount:.4f})",
                account_id=self.account_id,
                fix="check the invoice; the total must be hours x rate within a penny",
            )

    def _check_invoice_status(self, invoice: Invoice, *allowed: InvoiceStatus) -> None:
        if invoice.status not in allowed:
            raise InvalidTransition(
                f"invoice {invoice.invoice_number} from {invoice.agency_id} is "
                f"{invoice.status.value}; this needs it to be "
                + " or ".join(s.value for s in allowed),
                account_id=self.account_id,
                fix="an invoice goes received -> approved (or disputed) -> paid",
            )

    def _check_correctable(self, target: ev.AccountEvent) -> None:
        if target.originator_id != self.id or target.originator_version > self.version:
            raise UnknownParty(
                "the event to correct is not on this account",
                account_id=self.account_id,
                fix="name an event version of this account",
            )
        version = target.originator_version
        if str(version) in self._corrections:
            raise InvalidTransition(
                f"event {version} was already corrected by event {self._corrections[str(version)]}",
                account_id=self.account_id,
                fix="record the right entry as a new command",
            )
        check = _CORRECTION_CHECKS.get(type(target))
        if check is None:
            raise InvalidTransition(
                f"a {type(target).__name__} cannot be corrected",
                account_id=self.account_id,
                fix="budgets and registrations are revised by new commands; corrections are "
                "reversed by recording the entry again",
            )
        check(self, target)

    # ----------------------------------------------------------------- lookups
    def _agency(self, agency_id: str) -> Agency:
        agency = self._agencies.get(agency_id)
        if agency is None:
            raise UnknownParty(
                f"no agency {agency_id!r} is registered",
                account_id=self.account_id,
                fix="register the agency first",
            )
        return agency

    def _pa(self, pa_id: str) -> PersonalAssistant:
        pa = self._pas.get(pa_id)
        if pa is None:
            raise UnknownParty(
                f"no personal assistant {pa_id!r} is registered",
                account_id=self.account_id,
                fix="register the PA first",
            )
        return pa

    def _invoice(self, agency_id: str, invoice_number: str) -> Invoice:
        invoice = self._invoices.get(invoice_key(agency_id, str(invoice_number)))
        if invoice is None or invoice.status is InvoiceStatus.VOIDED:
            raise UnknownParty(
                f"no invoice {invoice_number!r} from agency {agency_id!r}",
                account_id=self.account_id,
                fix="record the invoice as received first",
            )
        return invoice

    def _held_item(self, item_id: str) -> SuspenseItem:
        item = self._suspense.get(item_id)
        if item is None:
            raise UnknownParty(
                f"no suspense item {item_id!r}",
                account_id=self.account_id,
                fix="use the item id from the unexpected income's receipt",
            )
        if item.status is not SuspenseStatus.HELD:
            raise InvalidTransition(
                f"suspense item {item_id} was already {item.status.value}",
                account_id=self.account_id,
                fix="correct that resolution first if it was wrong",
            )
        return item

    # ----------------------------------------------------------------- recording
    def _record(
        self,
        event_class: type[ev.AccountEvent],
        meta: CommandMeta,
        postings: Postings,
        *,
        from_bank: bool = False,
        **fields: Any,
    ) -> None:
        """The one place an event is recorded: the money invariants are checked here.

        ``from_bank`` marks a fact the bank statement reports: the bank is the truth, so the
        never-overdrawn check (which guards payments *we* make) does not apply to it.
        """
        if not from_bank:
            self._check_funds(postings, meta.effective_date)
        self._check_no_overpaid_liability(postings)
        fields = {**fields, **_meta_fields(meta, postings)}
        self.trigger_event(
            event_class, **_chained(event_class, fields, self.id, self.version + 1, self._head)
        )

    def _check_funds(self, postings: Postings, day: date) -> None:
        # The library never makes the bank balance negative (the bank's own feed may, we don't),
        # on any date: a back-dated payment may only spend what was there from that date on.
        change = postings.effect_on(LedgerAccount.BANK)
        if change >= 0:
            return
        available = self.available_from(day)
        if available.pence + change < 0:
            shortfall = Money(-(available.pence + change))
            raise InsufficientFunds(
                f"the bank cannot cover {Money(-change)} on {day}: {available} is available from "
                f"that date on, short by {shortfall}",
                shortfall=shortfall,
                balance=available,
                account_id=self.account_id,
                fix="wait for the next council payment or contribution, or pay less",
            )

    def available_from(self, day: date) -> Money:
        """The most that can be paid out on ``day``: the lowest end-of-day bank balance from
        ``day`` on (money arriving later cannot pay for it; later payments already spent some)."""
        key = day.isoformat()
        running = sum(pence for when, pence in self._bank_days.items() if when <= key)
        lowest = running
        for when in sorted(w for w in self._bank_days if w > key):
            running += self._bank_days[when]
            lowest = min(lowest, running)
        return Money(lowest)

    def _check_no_overpaid_liability(self, postings: Postings) -> None:
        for line in postings:
            if line.account in LIABILITIES or line.account is LedgerAccount.SUSPENSE:
                after = self._balances.get(line.account.value, 0) + line.amount.pence
                if after > 0:
                    raise Overpayment(
                        f"this would leave {line.account.value} overpaid by {Money(after)}",
                        account_id=self.account_id,
                        fix="pay or reverse no more than is owed",
                    )

    # ----------------------------------------------------------------- applying events
    def when(self, event: ev.AccountEvent) -> None:
        """Change the state as ``event`` says. Called for new events and on replay alike."""
        if isinstance(event, ev.AccountOpened):
            self._start(event)
        for line in event.postings:
            code = line.account.value
            self._balances[code] = self._balances.get(code, 0) + line.amount.pence
            if line.account is LedgerAccount.BANK:
                day = event.effective_date.isoformat()
                self._bank_days[day] = self._bank_days.get(day, 0) + line.amount.pence
        self._head: str = event.digest
        latest: date = self.latest_date
        if event.effective_date > latest:
            self.latest_date: date = event.effective_date
        if event.command_key is not None:
            self._commands[event.command_key] = [event.command_digest, event.originator_version]
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        self._track_bank(event)

    def _start(self, event: ev.AccountOpened) -> None:
        self.account_id: str = event.account_id
        self.person_ref: str = event.person_ref
        self.council: str = event.council
        self.provider: str = event.provider
        self.policy: AccountPolicy = event.policy
        self.opened_on: date = event.effective_date
        self.status: AccountStatus = AccountStatus.OPEN
        self.closed_on: date | None = None
        self.suspended_since: date | None = None
        self._balances: dict[str, int] = {}
        self._bank_days: dict[str, int] = {}  # ISO effective date -> net bank movement, pence
        self._budgets: list[BudgetAgreement] = []
        self._agencies: dict[str, Agency] = {}
        self._invoices: dict[str, Invoice] = {}
        self._pas: dict[str, PersonalAssistant] = {}
        self._wage_runs: dict[str, WageRun] = {}
        self._suspense: dict[str, SuspenseItem] = {}
        self._commands: dict[str, list[Any]] = {}
        self._corrections: dict[str, int] = {}
        self._opened_digest: str | None = event.command_digest
        self._head = GENESIS  # the digest of the latest event: the next one chains to it
        self.latest_date = event.effective_date  # the latest effective date recorded
        self._council_payments: dict[str, CouncilPayment] = {}  # by version
        self._reviews: dict[str, date | None] = {}  # ISO review date -> next review it set
        # Reconciliation state: only what matching still needs (the events keep the rest), as
        # rows of plain values, which a snapshot decodes without a transcoder call per row.
        # version -> [event type, ISO date, signed pence, bank reference]: no bank line yet
        self._unconfirmed: dict[str, list[Any]] = {}
        # version -> [ISO date, pence, bank reference]: every contribution in force
        self._contributions: dict[str, list[Any]] = {}
        # dedup key -> [version, target version, ISO booking date, signed pence, event type,
        # bank reference, reversed by]: the lines booked within the reversal window
        self._bank_lines: dict[str, list[Any]] = {}
        self._bank_lines_through: date | None = None  # the latest booking date of a line
        self._unexplained: dict[str, UnexplainedOutgoing] = {}
        self._assertions: dict[str, BankBalanceRecord] = {}  # by version
        self._pending: dict[str, PendingBankLine] = {}
        self._pending_as_of: date | None = None
        self._suspensions: list[list[date | None]] = []  # [from, until or None]

    @_handles(ev.BudgetAgreed)
    def _on_budget(self, event: ev.BudgetAgreed) -> None:
        # A second agreement on the same date replaces the first (a revision on the day).
        self._budgets = [b for b in self._budgets if b.effective_date != event.effective_date]
        self._budgets.append(
            BudgetAgreement(event.effective_date, event.weekly_gross, event.weekly_contribution)
        )

    @_handles(ev.AgencyRegistered)
    def _on_agency(self, event: ev.AgencyRegistered) -> None:
        self._agencies[event.agency_id] = Agency(event.agency_id, event.name, event.hourly_rate)

    @_handles(ev.InvoiceReceived)
    def _on_invoice_received(self, event: ev.InvoiceReceived) -> None:
        invoice = Invoice(
            agency_id=event.agency_id,
            invoice_number=event.invoice_number,
            period_start=event.period_start,
            period_end=event.period_end,
            hours=event.hours,
            rate=event.rate,
            total=event.total,
            status=InvoiceStatus.RECEIVED,
            paid=Money(0),
            received_version=event.originator_version,
        )
        self._invoices[invoice.key] = invoice

    def _set_invoice(self, agency_id: str, number: str, **changes: Any) -> None:
        key = invoice_key(agency_id, number)
        self._invoices[key] = replace(self._invoices[key], **changes)

    @_handles(ev.InvoiceApproved)
    def _on_invoice_approved(self, event: ev.InvoiceApproved) -> None:
        self._set_invoice(
            event.agency_id,
            event.invoice_number,
            status=InvoiceStatus.APPROVED,
            approved_version=event.originator_version,
        )

    @_handles(ev.InvoiceDisputed)
    def _on_invoice_disputed(self, event: ev.InvoiceDisputed) -> None:
        self._set_invoice(
            event.agency_id,
            event.invoice_number,
            status=InvoiceStatus.DISPUTED,
            approved_version=None,
        )

    @_handles(ev.InvoicePaid)
    def _on_invoice_paid(self, event: ev.InvoicePaid) -> None:
        invoice = self._invoices[invoice_key(event.agency_id, event.invoice_number)]
        paid = invoice.paid + event.amount
        status = InvoiceStatus.PAID if paid == invoice.total else InvoiceStatus.APPROVED
        self._set_invoice(event.agency_id, event.invoice_number, paid=paid, status=status)

    @_handles(ev.PersonalAssistantRegistered)
    def _on_pa(self, event: ev.PersonalAssistantRegistered) -> None:
        self._pas[event.pa_id] = PersonalAssistant(event.pa_id, event.hourly_rate, Money(0))

    def _change_net_owed(self, pa_id: str, change: Money) -> None:
        pa = self._pas[pa_id]
        self._pas[pa_id] = replace(pa, net_owed=pa.net_owed + change)

    @_handles(ev.WageRunRecorded)
    def _on_wage_run(self, event: ev.WageRunRecorded) -> None:
        run = WageRun(
            pa_id=event.pa_id,
            period_start=event.period_start,
            period_end=event.period_end,
            hours=event.hours,
            gross=event.gross,
            paye=event.paye,
            employee_ni=event.employee_ni,
            employer_ni=event.employer_ni,
            employee_pension=event.employee_pension,
            employer_pension=event.employer_pension,
            net=event.net,
        )
        self._wage_runs[run.key] = run
        self._change_net_owed(event.pa_id, event.net)

    @_handles(ev.NetWagesPaid)
    def _on_net_wages_paid(self, event: ev.NetWagesPaid) -> None:
        self._change_net_owed(event.pa_id, -event.amount)

    @_handles(ev.UnexpectedIncomeReceived)
    def _on_unexpected_income(self, event: ev.UnexpectedIncomeReceived) -> None:
        self._suspense[event.item_id] = SuspenseItem(
            item_id=event.item_id,
            received_on=event.effective_date,
            amount=event.amount,
            description=event.description,
            status=SuspenseStatus.HELD,
            resolution=None,
        )

    def _resolve(self, item_id: str, status: SuspenseStatus, resolution: str | None) -> None:
        self._suspense[item_id] = replace(
            self._suspense[item_id], status=status, resolution=resolution
        )

    @_handles(ev.UnexpectedIncomeClassified)
    def _on_classified(self, event: ev.UnexpectedIncomeClassified) -> None:
        self._resolve(event.item_id, SuspenseStatus.CLASSIFIED, event.classified_as)

    @_handles(ev.UnexpectedIncomeRefunded)
    def _on_refunded(self, event: ev.UnexpectedIncomeRefunded) -> None:
        self._resolve(event.item_id, SuspenseStatus.REFUNDED, event.reason)

    @_handles(ev.UnexpectedIncomeKept)
    def _on_kept(self, event: ev.UnexpectedIncomeKept) -> None:
        self._resolve(event.item_id, SuspenseStatus.KEPT, event.reason)

    @_handles(ev.AccountSuspended)
    def _on_suspended(self, event: ev.AccountSuspended) -> None:
        self.status = AccountStatus.SUSPENDED
        self.suspended_since = event.effective_date

    @_handles(ev.AccountResumed)
    def _on_resumed(self, event: ev.AccountResumed) -> None:
        self.status = AccountStatus.OPEN
        self.suspended_since = None

    @_handles(ev.AccountClosed)
    def _on_closed(self, event: ev.AccountClosed) -> None:
        self.status = AccountStatus.CLOSED
        self.closed_on = event.effective_date

    @_handles(ev.CouncilPaymentReceived)
    def _on_council_payment(self, event: ev.CouncilPaymentReceived) -> None:
        self._council_payments[str(event.originator_version)] = CouncilPayment(
            event.originator_version,
            event.effective_date,
            event.amount,
            event.period_start,
            event.period_end,
        )

    @_handles(ev.ReviewRecorded)
    def _on_review(self, event: ev.ReviewRecorded) -> None:
        self._reviews[event.effective_date.isoformat()] = event.next_review_by

    @_handles(ev.EntryCorrected)
    def _on_corrected(self, event: ev.EntryCorrected) -> None:
        self._corrections[str(event.corrected_version)] = event.originator_version
        self._council_payments.pop(str(event.corrected_version), None)
        # Postings were reversed generically above; undo the target's effect on documents here.
        undo = _UNDO.get(event.corrected_type)
        if undo is not None:
            undo(self, event.corrected_fields)

    def _track_bank(self, event: ev.AccountEvent) -> None:
        # Reconciliation state for every event (called from `when`): the money no bank line
        # stands for yet, contributions, the recent bank lines, suspensions.
        version = event.originator_version
        if isinstance(event, ev.EntryCorrected):
            corrected = str(event.corrected_version)
            self._unconfirmed.pop(corrected, None)
            self._contributions.pop(corrected, None)
            for row in self._bank_lines.values():
                if row[1] == event.corrected_version and row[6] is None:
                    row[6] = version
        elif isinstance(event, ev.AccountSuspended):
            self._suspensions.append([event.effective_date, None])
        elif isinstance(event, ev.AccountResumed) and self._suspensions:
            self._suspensions[-1][1] = event.effective_date
        key = event.command_key
        line_key = key[len(BANK_KEY_PREFIX) :] if key and key.startswith(BANK_KEY_PREFIX) else None
        change = event.postings.effect_on(LedgerAccount.BANK)
        day = event.effective_date.isoformat()
        target, event_type, reference = version, type(event).__name__, None
        if isinstance(event, ev.BankLineConfirmed):
            matched = self._unconfirmed.pop(str(event.matched_version), None)
            reference = None if matched is None else matched[3]
            target, event_type = event.matched_version, event.matched_type
            change = event.amount.pence
        elif change and not isinstance(event, ev.EntryCorrected | ev.AccountClosed):
            stated = getattr(event, "bank_reference", None)
            reference = stated if isinstance(stated, str) else None
            if line_key is None:  # money recorded by hand: a bank line may confirm it later
                self._unconfirmed[str(version)] = [event_type, day, change, reference]
            if isinstance(event, ev.ContributionReceived):
                self._contributions[str(version)] = [day, change, reference]
        if line_key is not None:
            row = [version, target, day, change, event_type, reference, None]
            self._remember_line(line_key, row, event.effective_date)
            self._settle_pending(line_key, Money(change), event.effective_date)

    def _remember_line(self, key: str, row: list[Any], booked_on: date) -> None:
        # Keep the lines booked within the reversal window up to the latest booked line, so the
        # state does not grow with the account's age; a line older than that is not kept.
        through = self._bank_lines_through
        if through is None or booked_on > through:
            self._bank_lines_through = booked_on
            self._bank_lines = _lines_within(self._bank_lines, booked_on)
        elif (through - booked_on).days > REVERSAL_WINDOW_DAYS:
            return
        self._bank_lines[key] = row

    def _settle_pending(self, key: str, amount: Money, booked_on: date) -> None:
        if key in self._pending:
            del self._pending[key]
            return
        for pending in sorted(self._pending.values(), key=_pending_order):
            if self._settles(pending, booked_on, amount):
                del self._pending[pending.key]
                return

    @_handles(ev.UnexpectedOutgoingRecorded)
    def _on_unexpected_outgoing(self, event: ev.UnexpectedOutgoingRecorded) -> None:
        self._unexplained[event.item_id] = UnexplainedOutgoing(
            item_id=event.item_id,
            amount=event.amount,
            effective_date=event.effective_date,
            description=event.description,
            status=OutgoingStatus.HELD,
            resolution=None,
        )

    def _resolve_outgoing(
        self, item_id: str, status: OutgoingStatus, resolution: str | None
    ) -> None:
        self._unexplained[item_id] = replace(
            self._unexplained[item_id], status=status, resolution=resolution
        )

    @_handles(ev.UnexpectedOutgoingClassified)
    def _on_outgoing_classified(self, event: ev.UnexpectedOutgoingClassified) -> None:
        self._resolve_outgoing(event.item_id, OutgoingStatus.CLASSIFIED, event.category.value)

    @_handles(ev.UnexpectedOutgoingRecovered)
    def _on_outgoing_recovered(self, event: ev.UnexpectedOutgoingRecovered) -> None:
        if event.income_item_id is None:
            self._resolve_outgoing(event.item_id, OutgoingStatus.RECOVERED, "repaid into the bank")
            return
        self._resolve_outgoing(
            event.item_id, OutgoingStatus.RECOVERED, f"returned as {event.income_item_id}"
        )
        self._resolve(event.income_item_id, SuspenseStatus.CLASSIFIED, f"recovers {event.item_id}")

    @_handles(ev.UnexpectedOutgoingAccepted)
    def _on_outgoing_accepted(self, event: ev.UnexpectedOutgoingAccepted) -> None:
        self._resolve_outgoing(event.item_id, OutgoingStatus.ACCEPTED, event.reason)

    @_handles(ev.BankBalanceAsserted)
    def _on_balance_asserted(self, event: ev.BankBalanceAsserted) -> None:
        self._assertions[str(event.originator_version)] = BankBalanceRecord(
            effective_date=event.effective_date,
            balance=event.balance,
            stated_date=event.stated_date,
            kind=event.kind,
            position=event.position,
            source=event.source,
            version=event.originator_version,
        )

    @_handles(ev.PendingBankLinesSeen)
    def _on_pending_seen(self, event: ev.PendingBankLinesSeen) -> None:
        self._pending = {line.key: line for line in event.lines}
        self._pending_as_of = event.as_of


# ---------------------------------------------------------------------- corrections
# For each correctable event: what must hold before it can be reversed, and how reversing it
# changes the documents (invoices, PAs, suspense items). Postings reverse generically in `when`.
# The correction carries the corrected event's own fields, so replay needs nothing else.


def _can_always(_account: ManagedAccount, _target: Any) -> None:
    return None


def _refuse_stale_invoice(account: ManagedAccount, invoice: Invoice) -> None:
    # An invoice number can be used again once voided: a stale event must not touch the new one.
    raise InvalidTransition(
        f"invoice {invoice.invoice_number} from {invoice.agency_id} is not the one that event "
        "recorded (the number was used again after a correction)",
        account_id=account.account_id,
        fix="correct the entries of the invoice as it stands now",
    )


def _can_undo_invoice_received(account: ManagedAccount, target: ev.InvoiceReceived) -> None:
    invoice = account.invoice(target.agency_id, target.invoice_number)
    if invoice.received_version != target.originator_version:
        _refuse_stale_invoice(account, invoice)
    account._check_invoice_status(invoice, InvoiceStatus.RECEIVED, InvoiceStatus.DISPUTED)


def _can_undo_invoice_approved(account: ManagedAccount, target: ev.InvoiceApproved) -> None:
    invoice = account.invoice(target.agency_id, target.invoice_number)
    if invoice.approved_version != target.originator_version:
        _refuse_stale_invoice(account, invoice)
    if invoice.status is not InvoiceStatus.APPROVED or invoice.paid.is_positive():
        raise InvalidTransition(
            f"invoice {invoice.invoice_number} is {invoice.status.value} with {invoice.paid} paid",
            account_id=account.account_id,
            fix="correct its payments first",
        )


def _can_undo_wage_run(account: ManagedAccount, target: ev.WageRunRecorded) -> None:
    if account.personal_assistants[target.pa_id].net_owed < target.net:
        raise InvalidTransition(
            f"net wages of this run have already been paid to {target.pa_id}",
            account_id=account.account_id,
            fix="correct the net wage payment first",
        )


def _can_undo_suspense_received(
    account: ManagedAccount, target: ev.UnexpectedIncomeReceived
) -> None:
    account._held_item(target.item_id)


def _can_undo_suspense_resolution(account: ManagedAccount, target: Any) -> None:
    item = account.suspense_items[target.item_id]
    if item.status in (SuspenseStatus.HELD, SuspenseStatus.REVERSED):
        raise InvalidTransition(
            f"suspense item {target.item_id} is {item.status.value}",
            account_id=account.account_id,
            fix="only a resolution still in force can be corrected",
        )


_CORRECTION_CHECKS: dict[type[ev.AccountEvent], Callable[[ManagedAccount, Any], None]] = {
    ev.CouncilPaymentReceived: _can_always,
    ev.ContributionReceived: _can_always,
    ev.OneOffPaymentReceived: _can_always,
    ev.InvoiceReceived: _can_undo_invoice_received,
    ev.InvoiceApproved: _can_undo_invoice_approved,
    ev.InvoicePaid: _can_always,
    ev.WageRunRecorded: _can_undo_wage_run,
    ev.NetWagesPaid: _can_always,
    ev.HmrcPaid: _can_always,
    ev.EmploymentAllowanceClaimed: _can_always,
    ev.PensionPaid: _can_always,
    ev.CarePlanSpendPaid: _can_always,
    ev.UnexpectedIncomeReceived: _can_undo_suspense_received,
    ev.UnexpectedIncomeClassified: _can_undo_suspense_resolution,
    ev.UnexpectedIncomeRefunded: _can_undo_suspense_resolution,
    ev.UnexpectedIncomeKept: _can_undo_suspense_resolution,
    ev.RecoupmentDemanded: _can_always,
    ev.RecoupmentRepaid: _can_always,
}
"""The events a correction may reverse, each with the check that must pass first."""


def _undo_invoice_received(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._set_invoice(fields["agency_id"], fields["invoice_number"], status=InvoiceStatus.VOIDED)


def _undo_invoice_approved(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._set_invoice(
        fields["agency_id"],
        fields["invoice_number"],
        status=InvoiceStatus.RECEIVED,
        approved_version=None,
    )


def _undo_invoice_paid(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    invoice = account._invoices[invoice_key(fields["agency_id"], fields["invoice_number"])]
    account._set_invoice(
        fields["agency_id"],
        fields["invoice_number"],
        paid=invoice.paid - fields["amount"],
        status=InvoiceStatus.APPROVED,
    )


def _undo_wage_run(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    del account._wage_runs[
        wage_run_key(fields["pa_id"], fields["period_start"], fields["period_end"])
    ]
    account._change_net_owed(fields["pa_id"], -fields["net"])


def _undo_net_wages_paid(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._change_net_owed(fields["pa_id"], fields["amount"])


def _undo_suspense_received(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._resolve(fields["item_id"], SuspenseStatus.REVERSED, None)


def _undo_suspense_resolution(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._resolve(fields["item_id"], SuspenseStatus.HELD, None)


_UNDO: dict[str, Callable[[ManagedAccount, Mapping[str, Any]], None]] = {
    "InvoiceReceived": _undo_invoice_received,
    "InvoiceApproved": _undo_invoice_approved,
    "InvoicePaid": _undo_invoice_paid,
    "WageRunRecorded": _undo_wage_run,
    "NetWagesPaid": _undo_net_wages_paid,
    "UnexpectedIncomeReceived": _undo_suspense_received,
    "UnexpectedIncomeClassified": _undo_suspense_resolution,
    "UnexpectedIncomeRefunded": _undo_suspense_resolution,
    "UnexpectedIncomeKept": _undo_suspense_resolution,
}


def _pending_order(line: PendingBankLine) -> tuple[date, str]:
    return (line.booking_date or date.min, line.key)


def _movement_of(version: str, row: list[Any]) -> BankMovement:
    event_type, day, pence, reference = row
    return BankMovement(
        int(version), event_type, date.fromisoformat(day), Money(pence), reference, None
    )


def _line_of(key: str, row: list[Any]) -> BankLineRecord:
    version, target, day, pence, event_type, reference, reversed_by = row
    return BankLineRecord(
        key,
        version,
        target,
        date.fromisoformat(day),
        Money(pence),
        event_type,
        reversed_by,
        reference,
    )


def _lines_within(rows: dict[str, list[Any]], through: date | None) -> dict[str, list[Any]]:
    # The bank line rows booked within the reversal window up to `through`.
    if through is None:
        return rows
    cutoff = (through - timedelta(days=REVERSAL_WINDOW_DAYS)).isoformat()
    if all(row[2] >= cutoff for row in rows.values()):
        return rows
    return {key: row for key, row in rows.items() if row[2] >= cutoff}


def _can_undo_outgoing_recorded(
    account: ManagedAccount, target: ev.UnexpectedOutgoingRecorded
) -> None:
    account._held_outgoing(target.item_id)


def _can_undo_outgoing_resolution(account: ManagedAccount, target: Any) -> None:
    item = account.unexplained_outgoings[target.item_id]
    if item.status in (OutgoingStatus.HELD, OutgoingStatus.REVERSED):
        raise InvalidTransition(
            f"unexplained outgoing {target.item_id} is {item.status.value}",
            account_id=account.account_id,
            fix="only a resolution still in force can be corrected",
        )


def _undo_outgoing_recorded(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._resolve_outgoing(fields["item_id"], OutgoingStatus.REVERSED, None)


def _undo_outgoing_resolution(account: ManagedAccount, fields: Mapping[str, Any]) -> None:
    account._resolve_outgoing(fields["item_id"], OutgoingStatus.HELD, None)
    if fields.get("income_item_id"):
        account._resolve(fields["income_item_id"], SuspenseStatus.HELD, None)


_CORRECTION_CHECKS.update(
    {
        ev.UnexpectedOutgoingRecorded: _can_undo_outgoing_recorded,
        ev.UnexpectedOutgoingClassified: _can_undo_outgoing_resolution,
        ev.UnexpectedOutgoingRecovered: _can_undo_outgoing_resolution,
        ev.UnexpectedOutgoingAccepted: _can_undo_outgoing_resolution,
    }
)
_UNDO.update(
    {
        "UnexpectedOutgoingRecorded": _undo_outgoing_recorded,
        "UnexpectedOutgoingClassified": _undo_outgoing_resolution,
        "UnexpectedOutgoingRecovered": _undo_outgoing_resolution,
        "UnexpectedOutgoingAccepted": _undo_outgoing_resolution,
    }
)


def own_fields(event: ev.AccountEvent) -> dict[str, Any]:
    """An event's own fields: what it says beyond the metadata every account event carries."""
    common = {f.name for f in dataclasses.fields(ev.AccountEvent)} | {"originator_topic"}
    return {
        f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in common
    }


def _meta_fields(meta: CommandMeta, postings: Postings) -> dict[str, Any]:
    return {
        "effective_date": meta.effective_date,
        "actor": meta.actor.strip(),
        "reason": None if meta.reason is None else meta.reason.strip(),
        "command_key": meta.key,
        "command_digest": meta.digest,
        "postings": postings,
    }


def _chained(
    event_class: type[ev.AccountEvent],
    fields: Mapping[str, Any],
    originator_id: UUID,
    version: int,
    previous: str,
    imposed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    # The digest covers the recorded time too, so the timestamp is chosen here rather than by
    # eventsourcing when it builds the event.
    timestamp = event_class.create_timestamp()
    chained = {**fields, "timestamp": timestamp, "previous_digest": previous}
    whole = {
        **chained,
        **(imposed or {}),
        "originator_id": originator_id,
        "originator_version": version,
    }
    return {**chained, "digest": digest_of(event_class.__name__, whole)}
