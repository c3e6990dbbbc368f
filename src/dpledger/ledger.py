"""The ``Ledger`` facade: what council and provider systems import.

One typed method per command and a few queries. Each command loads the account, lets the domain
check its rule, and saves the one event it records. Every command takes an optional caller-chosen
``idempotency_key``: repeating a command with the same key and payload returns the original
:class:`Receipt` and records nothing; the same key with another payload is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TextIO, TypeVar
from uuid import UUID

import pydantic
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError, RecordConflictError

from dpledger.adapters.interchange import beancount, jsonl
from dpledger.adapters.interchange.jsonl import ExportSummary, ImportSummary
from dpledger.adapters.store import (
    DEFAULT_SQLITE_FILE,
    DpledgerApplication,
    open_application,
    store_environment,
)
from dpledger.adapters.views import open_views
from dpledger.bankimport import ImportReport, import_statements
from dpledger.domain import events as ev
from dpledger.domain.account import CommandMeta, ManagedAccount, account_uuid, check_identifier
from dpledger.domain.chart import LedgerAccount, Postings, SpendCategory
from dpledger.domain.errors import (
    AccountNotFound,
    BankFileError,
    ConflictError,
    DpledgerError,
    StoreError,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy
from dpledger.domain.reconciliation import MissingPayment, missing_payments
from dpledger.domain.records import (
    AccountStatus,
    Agency,
    BudgetAgreement,
    Invoice,
    PersonalAssistant,
    ReconciliationBreak,
    SuspenseItem,
    UnexplainedOutgoing,
    WageRun,
)
from dpledger.log import get_logger
from dpledger.readside import ReadSide, _names_account
from dpledger.readside import _day as _date

if TYPE_CHECKING:
    from types import ModuleType

    from dpledger.adapters.bankfeeds import BankStatement, CsvMapping

MoneyLike = Money | str | int | Decimal
"""An amount: ``Money``, pounds as ``str`` or ``Decimal`` (at most 2 places), or ``int`` pence."""
DateLike = date | str
"""A calendar date, or an ISO ``YYYY-MM-DD`` string."""

_policy_adapter: pydantic.TypeAdapter[AccountPolicy] = pydantic.TypeAdapter(AccountPolicy)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a command recorded: the account, the event's version and the event itself.

    ``replayed`` is true when an idempotent retry returned the original result.
    """

    account_id: str
    version: int
    event: ev.AccountEvent
    replayed: bool = False

    @property
    def event_type(self) -> str:
        """The event's class name, e.g. ``"InvoicePaid"``."""
        return type(self.event).__name__

    @property
    def postings(self) -> Postings:
        """The event's postings (they sum to zero)."""
        return self.event.postings

    @property
    def item_id(self) -> str | None:
        """The suspense item id, for unexpected income (``None`` for other events)."""
        item = getattr(self.event, "item_id", None)
        return item if isinstance(item, str) else None

    @property
    def recorded_at(self) -> datetime:
        """When the event was recorded."""
        return self.event.timestamp


@dataclass(frozen=True, slots=True)
class AccountState:
    """A read-only picture of one account now, for queries and display."""

    account_id: str
    person_ref: str
    council: str
    provider: str
    policy: AccountPolicy
    status: AccountStatus
    opened_on: date
    closed_on: date | None
    suspended_since: date | None
    version: int
    balances: Mapping[LedgerAccount, Money]
    budgets: tuple[BudgetAgreement, ...]
    agencies: Mapping[str, Agency]
    invoices: Mapping[str, Invoice]
    personal_assistants: Mapping[str, PersonalAssistant]
    wage_runs: Mapping[str, WageRun]
    suspense_items: Mapping[str, SuspenseItem]

    @property
    def bank_balance(self) -> Money:
        """Money in the client bank account."""
        return self.balances[LedgerAccount.BANK]

    @property
    def unpaid_liabilities(self) -> Money:
        """Everything owed (approved invoices, net wages, HMRC, pension, recoupment)."""
        total = Money(0)
        for account, balance in self.balances.items():
            if account.kind == "liabilities":
                total -= balance
        return total

    def owed(self, liability: LedgerAccount) -> Money:
        """What is owed on one liability account, as a positive amount."""
        return -self.balances[liability]


_P = ParamSpec("_P")
_R = TypeVar("_R")


class Ledger(ReadSide):
    """Managed accounts on one event store.

    >>> with Ledger.in_memory() as ledger:  # doctest: +SKIP
    ...     ledger.open_account("DP-1", person_ref="P-77", council="Kent", provider="SOLO",
    ...                         effective_date="2026-04-01", actor="officer-12")

    Open it on ``memory:``, a SQLite file (the default, ``dpledger.sqlite`` or ``$DPLEDGER_STORE``)
    or PostgreSQL (``postgresql://user@host:5432/db?schema=name``).
    """

    def __init__(self, store: str | None = None, *, seal_key: bytes | str | None = None) -> None:
        """Open the store at ``store`` (see the class docstring). ``seal_key`` (default
        ``$DPLEDGER_SEAL_KEY``) authenticates seals; keep it outside the database."""
        self.store_url = store or os.environ.get("DPLEDGER_STORE") or DEFAULT_SQLITE_FILE
        self._app: DpledgerApplication = open_application(self.store_url)
        try:
            views = open_views(store_environment(self.store_url))
        except BaseException:
            self._app.close()
            raise
        self._start_read_side(views, seal_key)

    @classmethod
    def in_memory(cls, *, seal_key: bytes | str | None = None) -> Ledger:
        """A ledger whose events live only in this process (tests, examples)."""
        return cls("memory:", seal_key=seal_key)

    @classmethod
    def sqlite(cls, path: str | os.PathLike[str], *, seal_key: bytes | str | None = None) -> Ledger:
        """A ledger on the embedded SQLite file at ``path`` (created if missing)."""
        return cls(f"sqlite:///{os.fspath(path)}", seal_key=seal_key)

    @classmethod
    def postgres(cls, url: str, *, seal_key: bytes | str | None = None) -> Ledger:
        """A ledger on PostgreSQL, e.g. ``postgresql://postgres@127.0.0.1:5432/test``."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValidationError("must be a postgresql:// URL", field="url")
        return cls(url, seal_key=seal_key)

    def close(self) -> None:
        """Release the store's connections."""
        self._views.close()
        self._app.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ================================================================= opening and budget
    @_names_account
    def open_account(
        self,
        account_id: str,
        *,
        person_ref: str,
        council: str,
        provider: str,
        effective_date: DateLike,
        actor: str,
        policy: AccountPolicy | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Open a managed account. Opening it again with the same details is a harmless no-op
        (returns the original receipt); with other details it is refused."""
        check_identifier(account_id, "account_id")
        the_policy = _policy(policy)
        payload = {
            "person_ref": person_ref,
            "council": council,
            "provider": provider,
            "policy": the_policy,
        }
        meta = _meta("open_account", payload, effective_date, actor, None, idempotency_key)
        try:
            existing = self._load(account_id)
        except AccountNotFound:
            account = ManagedAccount.open(
                account_id=account_id,
                person_ref=person_ref,
                council=council,
                provider=provider,
                policy=the_policy,
                meta=meta,
            )
            return self._save(account, "open_account")
        existing.check_reopen(meta.digest)
        return self._receipt(existing, existing.INITIAL_VERSION, replayed=True)

    @_names_account
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
        gross = _money(weekly_gross, "weekly_gross")
        contribution = _money(weekly_contribution, "weekly_contribution")
        return self._execute(
            account_id,
            "agree_budget",
            {"weekly_gross": gross, "weekly_contribution": contribution},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.agree_budget(
                weekly_gross=gross, weekly_contribution=contribution, meta=m
            ),
        )

    # ================================================================= money in
    @_names_account
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
        money = _money(amount, "amount")
        start = None if period_start is None else _date(period_start, "period_start")
        end = None if period_end is None else _date(period_end, "period_end")
        return self._execute(
            account_id,
            "receive_council_payment",
            {"amount": money, "period": [start, end], "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.receive_council_payment(
                amount=money,
                period_start=start,
                period_end=end,
                bank_reference=bank_reference,
                meta=m,
            ),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "receive_contribution",
            {"amount": money, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.receive_contribution(
                amount=money, bank_reference=bank_reference, meta=m
            ),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "receive_one_off_payment",
            {"amount": money, "purpose": purpose, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.receive_one_off_payment(
                amount=money, purpose=purpose, bank_reference=bank_reference, meta=m
            ),
        )

    # ================================================================= agencies
    @_names_account
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
        """Register a care agency that will invoice this account."""
        rate = None if hourly_rate is None else _money(hourly_rate, "hourly_rate")
        return self._execute(
            account_id,
            "register_agency",
            {"agency_id": agency_id, "name": name, "hourly_rate": rate},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.register_agency(
                agency_id=agency_id, name=name, hourly_rate=rate, meta=m
            ),
        )

    @_names_account
    def receive_invoice(
        self,
        account_id: str,
        *,
        agency_id: str,
        invoice_number: str,
        period_start: DateLike,
        period_end: DateLike,
        hours: Decimal | str | int,
        rate: MoneyLike,
        total: MoneyLike,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Record an agency invoice: total must be hours x rate within a penny; a number the agency
        used before is refused."""
        start, end = _date(period_start, "period_start"), _date(period_end, "period_end")
        the_hours = _decimal(hours, "hours")
        the_rate, the_total = _money(rate, "rate"), _money(total, "total")
        return self._execute(
            account_id,
            "receive_invoice",
            {
                "agency_id": agency_id,
                "invoice_number": invoice_number,
                "period": [start, end],
                "hours": the_hours,
                "rate": the_rate,
                "total": the_total,
            },
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.receive_invoice(
                agency_id=agency_id,
                invoice_number=invoice_number,
                period_start=start,
                period_end=end,
                hours=the_hours,
                rate=the_rate,
                total=the_total,
                meta=m,
            ),
        )

    @_names_account
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
        return self._execute(
            account_id,
            "approve_invoice",
            {"agency_id": agency_id, "invoice_number": invoice_number},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.approve_invoice(
                agency_id=agency_id, invoice_number=invoice_number, meta=m
            ),
        )

    @_names_account
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
        return self._execute(
            account_id,
            "dispute_invoice",
            {"agency_id": agency_id, "invoice_number": invoice_number},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.dispute_invoice(
                agency_id=agency_id, invoice_number=invoice_number, meta=m
            ),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "pay_invoice",
            {
                "agency_id": agency_id,
                "invoice_number": invoice_number,
                "amount": money,
                "bank_reference": bank_reference,
            },
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.pay_invoice(
                agency_id=agency_id,
                invoice_number=invoice_number,
                amount=money,
                bank_reference=bank_reference,
                meta=m,
            ),
        )

    # ================================================================= payroll
    @_names_account
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
        rate = _money(hourly_rate, "hourly_rate")
        return self._execute(
            account_id,
            "register_personal_assistant",
            {"pa_id": pa_id, "hourly_rate": rate},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.register_personal_assistant(pa_id=pa_id, hourly_rate=rate, meta=m),
        )

    @_names_account
    def record_wage_run(
        self,
        account_id: str,
        *,
        pa_id: str,
        period_start: DateLike,
        period_end: DateLike,
        hours: Decimal | str | int,
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
        start, end = _date(period_start, "period_start"), _date(period_end, "period_end")
        the_hours = _decimal(hours, "hours")
        figures = {
            name: _money(value, name)
            for name, value in (
                ("gross", gross),
                ("paye", paye),
                ("employee_ni", employee_ni),
                ("employer_ni", employer_ni),
                ("employee_pension", employee_pension),
                ("employer_pension", employer_pension),
                ("net", net),
            )
        }
        return self._execute(
            account_id,
            "record_wage_run",
            {"pa_id": pa_id, "period": [start, end], "hours": the_hours, **figures},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.record_wage_run(
                pa_id=pa_id,
                period_start=start,
                period_end=end,
                hours=the_hours,
                meta=m,
                **figures,
            ),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "pay_net_wages",
            {"pa_id": pa_id, "amount": money, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.pay_net_wages(
                pa_id=pa_id, amount=money, bank_reference=bank_reference, meta=m
            ),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "pay_hmrc",
            {"amount": money, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.pay_hmrc(amount=money, bank_reference=bank_reference, meta=m),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "claim_employment_allowance",
            {"amount": money},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.claim_employment_allowance(amount=money, meta=m),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "pay_pension",
            {"amount": money, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.pay_pension(amount=money, bank_reference=bank_reference, meta=m),
        )

    @_names_account
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
        money = _money(amount, "amount")
        the_category = _category(category)
        return self._execute(
            account_id,
            "pay_care_plan_spend",
            {
                "category": the_category,
                "amount": money,
                "description": description,
                "bank_reference": bank_reference,
            },
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.pay_care_plan_spend(
                category=the_category,
                amount=money,
                description=description,
                bank_reference=bank_reference,
                meta=m,
            ),
        )

    # ================================================================= unexpected income
    @_names_account
    def receive_unexpected_income(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        description: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Hold money that matches nothing expected in suspense. The receipt's
        ``item_id`` names the suspense item."""
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "receive_unexpected_income",
            {"amount": money, "description": description},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.receive_unexpected_income(amount=money, description=description, meta=m),
        )

    @_names_account
    def classify_unexpected_income(
        self,
        account_id: str,
        *,
        item_id: str,
        classified_as: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Identify suspense money as ``"council"`` money or the person's ``"contribution"``."""
        return self._execute(
            account_id,
            "classify_unexpected_income",
            {"item_id": item_id, "classified_as": classified_as},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.classify_unexpected_income(
                item_id=item_id, classified_as=classified_as, meta=m
            ),
        )

    @_names_account
    def refund_unexpected_income(
        self,
        account_id: str,
        *,
        item_id: str,
        effective_date: DateLike,
        actor: str,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay suspense money back to whoever sent it."""
        return self._execute(
            account_id,
            "refund_unexpected_income",
            {"item_id": item_id},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.refund_unexpected_income(item_id=item_id, meta=m),
        )

    @_names_account
    def keep_unexpected_income(
        self,
        account_id: str,
        *,
        item_id: str,
        reason: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Keep suspense money in the account, saying why."""
        return self._execute(
            account_id,
            "keep_unexpected_income",
            {"item_id": item_id},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.keep_unexpected_income(item_id=item_id, meta=m),
        )

    # ================================================================= recoupment and lifecycle
    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "demand_recoupment",
            {"amount": money},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.demand_recoupment(amount=money, meta=m),
        )

    @_names_account
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
        money = _money(amount, "amount")
        return self._execute(
            account_id,
            "repay_recoupment",
            {"amount": money, "bank_reference": bank_reference},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.repay_recoupment(amount=money, bank_reference=bank_reference, meta=m),
        )

    @_names_account
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
        return self._execute(
            account_id,
            "suspend",
            {},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.suspend(meta=m),
        )

    @_names_account
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
        return self._execute(
            account_id,
            "resume",
            {"backfill_ordered": bool(backfill_ordered)},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.resume(backfill_ordered=backfill_ordered, meta=m),
        )

    @_names_account
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
        due = None if next_review_by is None else _date(next_review_by, "next_review_by")
        return self._execute(
            account_id,
            "record_review",
            {"next_review_by": None if due is None else due.isoformat()},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.record_review(next_review_by=due, meta=m),
        )

    @_names_account
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
        return self._execute(
            account_id,
            "close_account",
            {},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.close(meta=m),
        )

    @_names_account
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
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValidationError("must be a positive event version", field="version")
        target = self._event(account_id, version)
        return self._execute(
            account_id,
            "correct",
            {"version": version},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.correct(target=target, meta=m),
        )

    # ================================================================= interchange
    def export_history(
        self,
        out: TextIO | str | os.PathLike[str],
        account_ids: Sequence[str] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> ExportSummary:
        """Write the full history of ``account_ids`` (default: every account) as a versioned
        ``dpledger-history`` JSON Lines file (docs/interchange.md).

        ``out`` is an open text stream or a path; a path is written whole or not at all (a
        temporary file renamed at the end), so a failed export never leaves half a history.
        """
        if isinstance(out, (str, os.PathLike)):
            target = Path(out)
            partial = target.with_name(f".{target.name}.partial")
            try:
                with open(partial, "w", encoding="utf-8", newline="\n") as stream:
                    summary = jsonl.export_history(
                        self._app, stream, account_ids, progress=progress
                    )
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            return summary
        return jsonl.export_history(self._app, out, account_ids, progress=progress)

    def import_history(
        self,
        source: Iterable[str] | str | os.PathLike[str],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Replay a ``dpledger-history`` file into this store, all or nothing.

        Every line is checked first (format, digests, links, versions, the trailer); accounts
        the store lacks are written whole, older copies are brought up to date, and importing
        the same file again writes nothing. A store whose history differs is refused, naming the
        account and version. Into an empty store it reproduces every balance.
        """
        summary = jsonl.import_history(self._app, source, progress=progress)
        get_logger().info(
            "history.imported",
            source=summary.source_name,
            events_written=summary.events_written,
            accounts=len(summary.accounts),
        )
        return summary

    def export_beancount(
        self, account_ids: Sequence[str] | None = None, *, title: str | None = None
    ) -> str:
        """The ledger of ``account_ids`` (default: every account) as a beancount file: open
        directives, one transaction per event with postings, and balance assertions for every
        ledger account at every month end. ``bean-check`` on it is an independent check of
        dpledger's arithmetic."""
        names = list(self.account_ids() if account_ids is None else account_ids)
        return beancount.to_beancount(((name, self.events(name)) for name in names), title=title)

    # ================================================================= bank statements
    @_names_account
    def import_bank_file(
        self,
        account_id: str,
        path: str | os.PathLike[str],
        *,
        actor: str,
        format: str | None = None,
        mapping: CsvMapping | str | None = None,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import a bank statement file into the account: all of it, or nothing.

        ``format`` (``"csv"``, ``"ofx"``, ``"mt940"``, ``"camt053"``, ``"openbanking"``) skips
        detection; ``mapping`` is a ``CsvMapping`` or the name of a built-in one (``"hsbc"``);
        ``bank_account`` picks one account of a file holding several. Importing a file again, or
        an overlapping one, records nothing new (see ``docs/bankfeeds.md``). A malformed file
        raises :class:`~dpledger.errors.BankFileError` naming the line and records nothing.
        """
        bankfeeds = _bankfeeds(os.fspath(path))
        csv_mapping = mapping
        if isinstance(mapping, str):
            csv_mapping = bankfeeds.BUILTIN_CSV_MAPPINGS.get(mapping)
            if csv_mapping is None:
                raise ValidationError(
                    f"no built-in CSV mapping {mapping!r}",
                    field="mapping",
                    fix=f"use one of {', '.join(sorted(bankfeeds.BUILTIN_CSV_MAPPINGS))}, "
                    "or pass a CsvMapping",
                )
        assert csv_mapping is None or isinstance(csv_mapping, bankfeeds.CsvMapping)
        statements = bankfeeds.parse_file(path, format, csv_mapping=csv_mapping)
        return import_statements(
            self,
            account_id,
            statements,
            actor=actor,
            source=os.path.basename(os.fspath(path)),
            bank_account=bank_account,
        )

    @_names_account
    def import_statement(
        self,
        account_id: str,
        statement: BankStatement | Sequence[BankStatement],
        *,
        actor: str,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import statements already parsed (``parse_bytes`` of an upload, an Open Banking feed):
        all of them, or nothing, exactly as :meth:`import_bank_file` does."""
        statements = [statement] if not isinstance(statement, Sequence) else list(statement)
        source = statements[0].source_file if statements else "statement"
        return import_statements(
            self, account_id, statements, actor=actor, source=source, bank_account=bank_account
        )

    @_names_account
    def missing_payments(self, account_id: str, on: DateLike) -> list[MissingPayment]:
        """Council payments and contributions expected but not received by ``on``: each due
        date plus ``policy.missing_payment_margin_days`` has passed without them."""
        return missing_payments(self._load(account_id), _date(on, "on"))

    @_names_account
    def reconciliation_breaks(self, account_id: str) -> list[ReconciliationBreak]:
        """Each statement balance that differs from the ledger's bank balance on its date."""
        return self._load(account_id).reconciliation_breaks()

    @_names_account
    def unexplained_outgoings(self, account_id: str) -> dict[str, UnexplainedOutgoing]:
        """Money out of the bank that matched nothing, by item id (``HELD``: unresolved)."""
        return dict(self._load(account_id).unexplained_outgoings)

    @_names_account
    def classify_unexpected_outgoing(
        self,
        account_id: str,
        *,
        item_id: str,
        category: SpendCategory | str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Identify an unexplained outgoing as care-plan spend of ``category``."""
        the_category = _category(category)
        return self._execute(
            account_id,
            "classify_unexpected_outgoing",
            {"item_id": item_id, "category": the_category},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.classify_unexpected_outgoing(
                item_id=item_id, category=the_category, meta=m
            ),
        )

    @_names_account
    def recover_unexpected_outgoing(
        self,
        account_id: str,
        *,
        item_id: str,
        effective_date: DateLike,
        actor: str,
        income_item_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """The unexplained outgoing came back: into the bank now, or as the unexpected income
        ``income_item_id`` already held (the same amount)."""
        return self._execute(
            account_id,
            "recover_unexpected_outgoing",
            {"item_id": item_id, "income_item_id": income_item_id},
            effective_date,
            actor,
            None,
            idempotency_key,
            lambda a, m: a.recover_unexpected_outgoing(
                item_id=item_id, income_item_id=income_item_id, meta=m
            ),
        )

    @_names_account
    def accept_unexpected_outgoing(
        self,
        account_id: str,
        *,
        item_id: str,
        reason: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Accept an unexplained outgoing as spent and not recoverable, saying why."""
        return self._execute(
            account_id,
            "accept_unexpected_outgoing",
            {"item_id": item_id},
            effective_date,
            actor,
            reason,
            idempotency_key,
            lambda a, m: a.accept_unexpected_outgoing(item_id=item_id, meta=m),
        )

    # ================================================================= queries
    @_names_account
    def account(self, account_id: str) -> AccountState:
        """The account's state now."""
        account = self._load(account_id)
        return AccountState(
            account_id=account.account_id,
            person_ref=account.person_ref,
            council=account.council,
            provider=account.provider,
            policy=account.policy,
            status=account.status,
            opened_on=account.opened_on,
            closed_on=account.closed_on,
            suspended_since=account.suspended_since,
            version=account.version,
            balances=account.balances,
            budgets=account.budgets,
            agencies=dict(account.agencies),
            invoices=dict(account.invoices),
            personal_assistants=dict(account.personal_assistants),
            wage_runs=dict(account.wage_runs),
            suspense_items=dict(account.suspense_items),
        )

    @_names_account
    def balances(self, account_id: str) -> dict[LedgerAccount, Money]:
        """Every ledger account's balance now (debit positive)."""
        return self._load(account_id).balances

    @_names_account
    def bank_balance(self, account_id: str) -> Money:
        """The client bank balance now."""
        return self._load(account_id).bank_balance

    @_names_account
    def surplus(self, account_id: str, on: DateLike) -> Money:
        """Balance minus unpaid liabilities minus contingency on ``on``, never negative."""
        return self._load(account_id).surplus(_date(on, "on"))

    @_names_account
    def recoverable_surplus(self, account_id: str, on: DateLike) -> Money:
        """The surplus the council may recoup on ``on``: the whole surplus, or where the policy
        spends the contribution first, no more than the council money still unspent."""
        return self._load(account_id).recoverable_surplus(_date(on, "on"))

    @_names_account
    def paid_in_advance(self, account_id: str, end_date: DateLike | None = None) -> Money:
        """Council money paid for days after ``end_date`` (default: the policy's end date),
        returnable at the final reckoning."""
        end = None if end_date is None else _date(end_date, "end_date")
        return self._load(account_id).paid_in_advance(end)

    @_names_account
    def contingency(self, account_id: str, on: DateLike) -> Money:
        """The contingency the account may keep on ``on``: policy weeks x weekly gross budget."""
        return self._load(account_id).contingency(_date(on, "on"))

    @_names_account
    def available_from(self, account_id: str, on: DateLike) -> Money:
        """The most that could be paid out on ``on`` without the bank going below zero then or
        on any later date."""
        return self._load(account_id).available_from(_date(on, "on"))

    @_names_account
    def events(self, account_id: str) -> list[ev.AccountEvent]:
        """Every event of the account, oldest first."""
        self._load(account_id)
        stored = self._app.repository.event_store.get(account_uuid(account_id))
        return [e for e in stored if isinstance(e, ev.AccountEvent)]

    def account_ids(self) -> list[str]:
        """Every account id in the store, in the order they were opened.

        Reads the whole notification log: fine for tools and tests; the portfolio projection is
        the fast way for a council's thousands of accounts.
        """
        ids: list[str] = []
        for notification in self._iter_notifications():
            if notification.topic.endswith(":AccountOpened"):
                event = self._app.mapper.to_domain_event(notification)
                if isinstance(event, ev.AccountOpened):
                    ids.append(event.account_id)
        return ids

    @_names_account
    def load(self, account_id: str) -> ManagedAccount:
        """The domain aggregate itself (read it; commands go through the Ledger's methods)."""
        return self._load(account_id)

    @property
    def application(self) -> DpledgerApplication:
        """The underlying eventsourcing application (for projections and tools)."""
        return self._app

    # ================================================================= plumbing
    def _iter_notifications(self) -> Iterator[Any]:
        start = 1
        while True:
            batch = self._app.recorder.select_notifications(start=start, limit=500)
            if not batch:
                return
            yield from batch
            start = batch[-1].id + 1

    def _load(self, account_id: str) -> ManagedAccount:
        check_identifier(account_id, "account_id")
        try:
            account: Any = self._app.repository.get(account_uuid(account_id))
        except AggregateNotFoundError:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            ) from None
        assert isinstance(account, ManagedAccount)
        return account

    def _event(self, account_id: str, version: int) -> ev.AccountEvent:
        account = self._load(account_id)
        found = list(
            self._app.repository.event_store.get(
                account_uuid(account_id), gt=version - 1, lte=version
            )
        )
        if not found or not isinstance(found[0], ev.AccountEvent):
            raise UnknownParty(
                f"the account has no event {version} (its last is {account.version})",
                account_id=account_id,
                fix="name an event version from the account's history (Ledger.events)",
            )
        return found[0]

    def _receipt(self, account: ManagedAccount, version: int, *, replayed: bool) -> Receipt:
        event = self._event(account.account_id, version)
        get_logger().info(
            "command.replayed",
            account_id=account.account_id,
            event_type=type(event).__name__,
            version=version,
        )
        return Receipt(account.account_id, version, event, replayed=replayed)

    def _execute(
        self,
        account_id: str,
        command: str,
        payload: Mapping[str, Any],
        effective_date: DateLike,
        actor: str,
        reason: str | None,
        key: str | None,
        action: Callable[[ManagedAccount, CommandMeta], Any],
    ) -> Receipt:
        meta = _meta(command, payload, effective_date, actor, reason, key)
        account = self._load(account_id)
        if key is not None and meta.digest is not None:
            version = account.previous_result(key, meta.digest)
            if version is not None:
                return self._receipt(account, version, replayed=True)
        try:
            action(account, meta)
        except DpledgerError as error:
            get_logger().info(
                "command.refused",
                account_id=account_id,
                command=command,
                error=type(error).__name__,
            )
            raise
        return self._save(account, command)

    def _save(self, account: ManagedAccount, command: str) -> Receipt:
        pending = list(account._pending_events)
        try:
            self._app.save(account)
        except RecordConflictError as exc:
            raise ConflictError(
                "another writer changed this account at the same time; nothing was recorded",
                account_id=account.account_id,
                fix="retry the command (with the same idempotency key, it is safe)",
            ) from exc
        except PersistenceError as exc:  # locked file, lost connection, full disk, ...
            raise StoreError(
                f"the store could not record the event: {exc}; nothing was recorded",
                account_id=account.account_id,
                fix="check the store is reachable and writable, then retry with the same key",
            ) from exc
        event = pending[-1]
        assert isinstance(event, ev.AccountEvent)
        amount = getattr(event, "amount", None)
        get_logger().info(
            "command.recorded",
            account_id=account.account_id,
            command=command,
            event_type=type(event).__name__,
            version=event.originator_version,
            amount_pence=amount.pence if isinstance(amount, Money) else None,
        )
        return Receipt(account.account_id, event.originator_version, event)


# ===================================================================== boundary coercion
def _bankfeeds(path: str) -> ModuleType:
    # Imported on first use: the parsers need the optional `bankfeeds` extra.
    try:
        from dpledger.adapters import bankfeeds
    except ImportError as missing:
        raise BankFileError(
            f"reading bank files needs the bankfeeds extra ({missing.name} is not installed)",
            file=os.path.basename(path),
            fix="pip install 'dpledger[bankfeeds]'",
        ) from missing
    return bankfeeds


def _money(value: object, field: str) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        try:
            return Money(value)
        except ValidationError as exc:
            raise ValidationError(exc.message.split(": ", 1)[-1], field=field, fix=exc.fix) from exc
    raise ValidationError(
        f"{value!r} is not an amount of money",
        field=field,
        fix="pass Money, pounds as a str like '12.34' or a Decimal, or int pence",
    )


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool | float):
        raise ValidationError(
            f"{value!r} is not exact", field=field, fix="pass a Decimal or a str like '12.5'"
        )
    if isinstance(value, Decimal | int | str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            pass
        else:
            if result.is_finite():
                return result
    raise ValidationError(f"{value!r} is not a number", field=field)


def _category(value: object) -> SpendCategory:
    if isinstance(value, SpendCategory):
        return value
    try:
        return SpendCategory(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a spend category",
            field="category",
            fix=f"use one of {', '.join(c.value for c in SpendCategory)}",
        ) from None


def _policy(value: object) -> AccountPolicy:
    if value is None:
        return AccountPolicy()
    if isinstance(value, AccountPolicy):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{value!r} is not a policy",
            field="policy",
            fix="pass an AccountPolicy or a mapping of its fields",
        )
    known = AccountPolicy.__dataclass_fields__
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}",
            field="policy",
            fix=f"use only {', '.join(known)}",
        )
    for name, given in value.items():
        if isinstance(given, bool) and name != "contribution_spent_first":
            # pydantic's lax mode would read True as 1 week
            raise ValidationError(f"{given!r} is not a number", field=f"policy.{name}")
    try:
        return _policy_adapter.validate_python(dict(value))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        inner = first.get("ctx", {}).get("error")
        if isinstance(inner, ValidationError):  # our own check in AccountPolicy.__post_init__
            raise inner from None
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationError(
            first["msg"], field=f"policy.{where}", fix="see docs/model.md for the policy fields"
        ) from None


def _meta(
    command: str,
    payload: Mapping[str, Any],
    effective_date: DateLike,
    actor: str,
    reason: str | None,
    key: str | None,
) -> CommandMeta:
    when = _date(effective_date, "effective_date")
    if key is not None and (not isinstance(key, str) or not key.strip() or len(key) > 200):
        raise ValidationError(
            "must be a non-blank string of at most 200 characters", field="idempotency_key"
        )
    digest = _digest(command, {**payload, "effective_date": when, "actor": actor, "reason": reason})
    return CommandMeta(effective_date=when, actor=actor, reason=reason, key=key, digest=digest)


def _digest(command: str, payload: Mapping[str, Any]) -> str:
    """A stable digest of a command and its payload (canonical JSON, exact money)."""
    text = json.dumps(
        {"command": command, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        default=_canonical,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, Money):
        return f"{value.currency}:{value.pence}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, AccountPolicy):
        return {f: getattr(value, f) for f in value.__dataclass_fields__}
    raise TypeError(f"cannot digest {type(value).__name__}")
