"""The typed ``Ledger`` methods of an account's life: opening, policy changes, budget, bank
account, care plan, reviews, suspension, recoupment, closing and corrections. Each builds its
command and runs it through ``Ledger.execute``: one path for the typed API and the data API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dpledger.application.arguments import DateLike, HoursLike, MoneyLike, names_account
from dpledger.application.base import Executes
from dpledger.application.session import Receipt
from dpledger.domain.careplan import AgreeCarePlan
from dpledger.domain.corrections import Correct
from dpledger.domain.lifecycle import (
    AddBankAccount,
    AgreeBudget,
    CloseAccount,
    NameBankAccount,
    OpenAccount,
    RecordReview,
    Resume,
    Suspend,
)
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.policychanges import ChangePolicy
from dpledger.domain.surplus import DemandRecoupment, RepayRecoupment
from dpledger.domain.transfers import TransferBetweenBankAccounts


class AccountMethods(Executes):
    """Opening, terms, reviews, suspension, recoupment, closing and corrections."""

    @names_account
    def open_account(
        self,
        account_id: str,
        *,
        person_ref: str,
        council: str,
        provider: str,
        effective_date: DateLike,
        actor: str,
        policy: AccountPolicy | Mapping[str, Any] | str | None = None,
        bank_account: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Open a managed account. Opening it again with the same details is a harmless no-op
        (returns the original receipt); with other details it is refused. ``policy`` is an
        ``AccountPolicy``, a mapping of its fields, or a council preset's name
        (``dpledger.policies.PRESETS``). ``bank_account``
        (``"30-99-50 12345678"`` or an IBAN) names the bank account its money is held in."""
        return self.execute(
            OpenAccount.build(
                account_id=account_id,
                person_ref=person_ref,
                council=council,
                provider=provider,
                policy=policy,
                bank_account=bank_account,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def change_policy(
        self,
        account_id: str,
        *,
        effective_date: DateLike,
        actor: str,
        payment_basis: PaymentBasis | str | None = None,
        frequency: PaymentFrequency | str | None = None,
        contingency_weeks: int | None = None,
        first_review_within_months: int | None = None,
        review_every_months: int | None = None,
        contribution_spent_first: bool | None = None,
        end_date: DateLike | None = None,
        low_balance_weeks: int | None = None,
        contribution_shortfall_weeks: int | None = None,
        missing_payment_margin_days: int | None = None,
        match_tolerance_pence: int | None = None,
        clear_end_date: bool = False,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Change the account's policy from ``effective_date`` (a council's review or a new
        council-wide rule): each field given takes its new value from that date, the others
        keep what is in force; ``clear_end_date=True`` removes the end date. Every rule about a
        day uses the policy in force on that day. A change dated before the account opened, an
        invalid value, or one that changes nothing in force on its date is refused."""
        return self.execute(
            ChangePolicy.build(
                account_id=account_id,
                payment_basis=payment_basis,
                frequency=frequency,
                contingency_weeks=contingency_weeks,
                first_review_within_months=first_review_within_months,
                review_every_months=review_every_months,
                contribution_spent_first=contribution_spent_first,
                end_date=end_date,
                low_balance_weeks=low_balance_weeks,
                contribution_shortfall_weeks=contribution_shortfall_weeks,
                missing_payment_margin_days=missing_payment_margin_days,
                match_tolerance_pence=match_tolerance_pence,
                clear_end_date=clear_end_date,
                effective_date=effective_date,
                actor=actor,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def agree_budget(
        self,
        account_id: str,
        *,
        weekly_gross: MoneyLike,
        weekly_contribution: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Agree (or revise) the personal budget: gross per week and the person's assessed
        contribution per week, from ``effective_date``."""
        return self.execute(
            AgreeBudget.build(
                account_id=account_id,
                weekly_gross=weekly_gross,
                weekly_contribution=weekly_contribution,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def name_bank_account(
        self,
        account_id: str,
        *,
        bank_account: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Name the bank account the account's money is held in, from ``effective_date``
        (``"30-99-50 12345678"`` or an IBAN); statements of other accounts are then refused."""
        return self.execute(
            NameBankAccount.build(
                account_id=account_id,
                bank_account=bank_account,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def add_bank_account(
        self,
        account_id: str,
        *,
        bank_account: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Hold part of the account's money in ``bank_account`` too, from ``effective_date``
        (a savings account, or a provider's pooled client account: the account then joins the
        pool, see :meth:`~dpledger.Ledger.open_pooled_account`)."""
        return self.execute(
            AddBankAccount.build(
                account_id=account_id,
                bank_account=bank_account,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def transfer_between_bank_accounts(
        self,
        account_id: str,
        *,
        from_bank_account: str,
        to_bank_account: str,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Move the person's money between two of their bank accounts (it stays theirs: nothing
        is posted); each bank's line of it is matched to the transfer when imported. A
        transfer out of a pooled account is refused beyond the person's share of it."""
        return self.execute(
            TransferBetweenBankAccounts.build(
                account_id=account_id,
                from_bank_account=from_bank_account,
                to_bank_account=to_bank_account,
                amount=amount,
                effective_date=effective_date,
                actor=actor,
                bank_reference=bank_reference,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def agree_care_plan(
        self,
        account_id: str,
        *,
        agency_hours_per_week: HoursLike,
        pa_hours_per_week: HoursLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Agree the care plan's hours a week of agency and PA support, from
        ``effective_date``; invoices and wage runs above it raise ``care_plan_exceeded``."""
        return self.execute(
            AgreeCarePlan.build(
                account_id=account_id,
                agency_hours_per_week=agency_hours_per_week,
                pa_hours_per_week=pa_hours_per_week,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def record_review(
        self,
        account_id: str,
        *,
        effective_date: DateLike,
        actor: str,
        next_review_by: DateLike | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record that the council reviewed the Direct Payment on ``effective_date``.

        The next review is then due within ``policy.review_every_months``, or by
        ``next_review_by`` when the council sets an earlier date.
        """
        return self.execute(
            RecordReview.build(
                account_id=account_id,
                next_review_by=next_review_by,
                effective_date=effective_date,
                actor=actor,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def suspend(
        self,
        account_id: str,
        *,
        reason: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Suspend council payments from ``effective_date``, saying why."""
        return self.execute(
            Suspend.build(
                account_id=account_id,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def resume(
        self,
        account_id: str,
        *,
        effective_date: DateLike,
        actor: str,
        backfill_ordered: bool = False,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Resume council payments; missed ones are made good only if ``backfill_ordered``."""
        return self.execute(
            Resume.build(
                account_id=account_id,
                backfill_ordered=bool(backfill_ordered),
                effective_date=effective_date,
                actor=actor,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def demand_recoupment(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """The council recoups surplus; refused if more than the surplus."""
        return self.execute(
            DemandRecoupment.build(
                account_id=account_id,
                amount=amount,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def repay_recoupment(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay recouped surplus back to the council."""
        return self.execute(
            RepayRecoupment.build(
                account_id=account_id,
                amount=amount,
                bank_reference=bank_reference,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def close_account(
        self,
        account_id: str,
        *,
        effective_date: DateLike,
        actor: str,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """End the Direct Payment: the final reckoning returns the balance and closes the account.
        The receipt's event says how much went to the council and to the person."""
        return self.execute(
            CloseAccount.build(
                account_id=account_id,
                effective_date=effective_date,
                actor=actor,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def correct(
        self,
        account_id: str,
        *,
        version: int,
        reason: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Reverse the account's event number ``version`` by a new correcting event."""
        return self.execute(
            Correct.build(
                account_id=account_id,
                version=version,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )
