"""The typed ``Ledger`` methods of money: payments in, care-plan spend, agencies and invoices,
personal assistants and payroll. Each builds its command and runs it through ``Ledger.execute``:
one path for the typed API and the data API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dpledger.application.arguments import DateLike, HoursLike, MoneyLike, names_account
from dpledger.application.base import Executes
from dpledger.application.session import Receipt
from dpledger.domain.chart import SpendCategory
from dpledger.domain.funds import (
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveOneOffPayment,
)
from dpledger.domain.invoices import (
    AgreeAgencyRate,
    ApproveInvoice,
    DisputeInvoice,
    PayInvoice,
    ReceiveCreditNote,
    ReceiveInvoice,
    RegisterAgency,
)
from dpledger.domain.payroll import (
    ClaimEmploymentAllowance,
    PayHmrc,
    PayNetWages,
    PayPension,
    RecordWageRun,
    RegisterPersonalAssistant,
    UpdatePersonalAssistant,
)
from dpledger.domain.remittances import PayRemittance


class MoneyMethods(Executes):
    """Money in and out, invoices and payroll."""

    @names_account
    def receive_council_payment(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        period_start: DateLike | None = None,
        period_end: DateLike | None = None,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record a council Direct Payment that arrived in the bank."""
        return self.execute(
            ReceiveCouncilPayment.build(
                account_id=account_id,
                amount=amount,
                period_start=period_start,
                period_end=period_end,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def receive_contribution(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record the person's contribution arriving in the bank."""
        return self.execute(
            ReceiveContribution.build(
                account_id=account_id,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def receive_one_off_payment(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        purpose: str,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record a one-off council payment (equipment, a float, back-pay)."""
        return self.execute(
            ReceiveOneOffPayment.build(
                account_id=account_id,
                amount=amount,
                purpose=purpose,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_care_plan_spend(
        self,
        account_id: str,
        *,
        category: SpendCategory | str,
        amount: MoneyLike,
        description: str,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay other care-plan spend: ``insurance``, ``support_fees`` or ``other_care_plan``."""
        return self.execute(
            PayCarePlanSpend.build(
                account_id=account_id,
                category=category,
                amount=amount,
                description=description,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def register_agency(
        self,
        account_id: str,
        *,
        agency_id: str,
        name: str,
        effective_date: DateLike,
        actor: str,
        hourly_rate: MoneyLike | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Register a care agency that will invoice this account, at its hourly rate if known."""
        return self.execute(
            RegisterAgency.build(
                account_id=account_id,
                agency_id=agency_id,
                name=name,
                hourly_rate=hourly_rate,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def agree_agency_rate(
        self,
        account_id: str,
        *,
        agency_id: str,
        hourly_rate: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Agree an agency's hourly rate from ``effective_date``; invoices for later periods billing
        more raise a ``rate_above_agreed`` alert."""
        return self.execute(
            AgreeAgencyRate.build(
                account_id=account_id,
                agency_id=agency_id,
                hourly_rate=hourly_rate,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def receive_invoice(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        period_start: DateLike,
        period_end: DateLike,
        hours: HoursLike,
        rate: MoneyLike,
        total: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record an agency invoice: total must be hours x rate within a penny; a number the agency
        used before is refused. The receipt's ``alerts`` name a rate above the agreed one."""
        return self.execute(
            ReceiveInvoice.build(
                account_id=account_id,
                agency_id=agency_id,
                invoice_number=invoice_number,
                period_start=period_start,
                period_end=period_end,
                hours=hours,
                rate=rate,
                total=total,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def approve_invoice(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Approve an invoice for payment: it becomes owed to the agency."""
        return self.execute(
            ApproveInvoice.build(
                account_id=account_id,
                agency_id=agency_id,
                invoice_number=invoice_number,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def dispute_invoice(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        reason: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Dispute an invoice, saying why."""
        return self.execute(
            DisputeInvoice.build(
                account_id=account_id,
                agency_id=agency_id,
                invoice_number=invoice_number,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_invoice(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay an approved invoice (in full or in part); never more than owed, never twice."""
        return self.execute(
            PayInvoice.build(
                account_id=account_id,
                agency_id=agency_id,
                invoice_number=invoice_number,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_remittance(
        self,
        account_id: str,
        *,
        agency_id: str,
        payments: Mapping[str, MoneyLike] | Sequence[tuple[str, MoneyLike]],
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay several approved invoices of one agency in one bank payment (a remittance):
        ``payments`` gives what is paid on each, ``{"INV-1": "100.00", "INV-2": "40.00"}``.
        One event, one bank movement of the total; each part follows ``pay_invoice``'s rules."""
        return self.execute(
            PayRemittance.build(
                account_id=account_id,
                agency_id=agency_id,
                payments=payments,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def receive_credit_note(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        credit_note_number: str,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record an agency's credit note against one of its invoices: it reduces what is owed,
        and a credit above what is left on the invoice is refused (``CreditExceedsInvoice``)."""
        return self.execute(
            ReceiveCreditNote.build(
                account_id=account_id,
                agency_id=agency_id,
                invoice_number=invoice_number,
                credit_note_number=credit_note_number,
                amount=amount,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def register_personal_assistant(
        self,
        account_id: str,
        *,
        pa_id: str,
        hourly_rate: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Register a personal assistant the person employs, with their hourly rate."""
        return self.execute(
            RegisterPersonalAssistant.build(
                account_id=account_id,
                pa_id=pa_id,
                hourly_rate=hourly_rate,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def update_personal_assistant(
        self,
        account_id: str,
        *,
        pa_id: str,
        effective_date: DateLike,
        actor: str,
        hourly_rate: MoneyLike | None = None,
        date_of_birth: DateLike | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record a PA's date of birth (for the minimum-wage band and NI category) or a new hourly
        rate in force from ``effective_date``; its receipt lists the compliance alerts it raises."""
        return self.execute(
            UpdatePersonalAssistant.build(
                account_id=account_id,
                pa_id=pa_id,
                hourly_rate=hourly_rate,
                date_of_birth=date_of_birth,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def record_wage_run(
        self,
        account_id: str,
        *,
        pa_id: str,
        period_start: DateLike,
        period_end: DateLike,
        hours: HoursLike,
        gross: MoneyLike,
        paye: MoneyLike,
        employee_ni: MoneyLike,
        employer_ni: MoneyLike,
        employee_pension: MoneyLike,
        employer_pension: MoneyLike,
        net: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record a payslip for one PA and period; net must equal gross minus PAYE, employee NI
        and employee pension."""
        return self.execute(
            RecordWageRun.build(
                account_id=account_id,
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
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_net_wages(
        self,
        account_id: str,
        *,
        pa_id: str,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay a PA net wages owed to them."""
        return self.execute(
            PayNetWages.build(
                account_id=account_id,
                pa_id=pa_id,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_hmrc(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay HMRC the PAYE and NI owed."""
        return self.execute(
            PayHmrc.build(
                account_id=account_id,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def claim_employment_allowance(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Offset employer NI owed to HMRC by Employment Allowance (no money moves)."""
        return self.execute(
            ClaimEmploymentAllowance.build(
                account_id=account_id,
                amount=amount,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def pay_pension(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay the pension provider the contributions owed."""
        return self.execute(
            PayPension.build(
                account_id=account_id,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )
