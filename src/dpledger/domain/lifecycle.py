"""Lifecycle: opening an account, its budget and bank account, reviews, suspension and closing.

The terms (:class:`Terms`) are what the council agreed: who, the policy, the budget in force, the
bank account the money is held in, the account's status, and its reviews. :func:`check_writable`
is the rule every command's decision applies first: a closed account takes nothing more, and no
entry is dated before the account was opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from eventsourcing.domain import Aggregate
from pydantic import BeforeValidator

from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import Amount, AmountOrZero, Day, Identifier, Name, Text
from dpledger.domain.chart import LIABILITIES, NO_POSTINGS, LedgerAccount, Posting, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import (
    AccountAlreadyExists,
    InvalidTransition,
    ValidationError,
)
from dpledger.domain.errors import (
    AccountClosed as AccountIsClosed,
)
from dpledger.domain.events import AccountEvent, NotCorrectable, money_in
from dpledger.domain.money import Money
from dpledger.domain.policy import (
    AccountPolicy,
    PaymentBasis,
    PolicyChange,
    policy_on,
    policy_periods,
    to_policy,
)
from dpledger.domain.records import AccountStatus, BankTransfer, BudgetAgreement
from dpledger.domain.rules import add_months, budget_on, contributions_due

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

_REVISE = NotCorrectable("the terms are revised by a new command, not reversed")


# ---------------------------------------------------------------------------- state
@dataclass(frozen=True, slots=True)
class Suspension:
    """A period council payments were suspended: from ``start``, until ``end`` (``None``: still)."""

    start: date
    end: date | None


@dataclass(slots=True)
class Terms:
    """Who the account is for, what the council agreed, and where the account is in its life."""

    account_id: str
    person_ref: str
    council: str
    provider: str
    opening_policy: AccountPolicy
    """The policy the account was opened with (:meth:`policy_on` says which is in force)."""
    opened_on: date
    opened_digest: str | None
    status: AccountStatus = AccountStatus.OPEN
    closed_on: date | None = None
    suspended_since: date | None = None
    suspensions: list[Suspension] = field(default_factory=list)
    """Suspensions in force or ended within the recent window."""
    last_review: date | None = None
    next_review_by: date | None = None
    """The date the last review set for the next one, when sooner than the policy's interval."""
    bank_account: str | None = None
    """The bank account the money is held in (a :func:`~dpledger.domain.bank.bank_key`): the
    main one, whose statements an import for the account reads by default."""
    other_bank_accounts: list[str] = field(default_factory=list)
    """Other bank accounts holding part of the money (a savings account, a pooled client
    account), in the order they were added."""
    transfers: list[BankTransfer] = field(default_factory=list)
    """Transfers between its bank accounts within the recent window (their bank lines are
    matched to them)."""
    budgets: list[BudgetAgreement] = field(default_factory=list)
    policy_changes: list[PolicyChange] = field(default_factory=list)
    """Every change of the policy since the opening, in effective-date order (changes of one
    date in the order recorded); kept for ever, as the payment schedule reads them all."""

    @classmethod
    def empty(cls) -> Terms:
        """Terms before the opening event fills them."""
        return cls("", "", "", "", AccountPolicy(), date.min, None)

    def compact(self, cutoff: date) -> None:
        """Forget suspensions that ended before ``cutoff``."""
        self.suspensions = [s for s in self.suspensions if s.end is None or s.end >= cutoff]
        self.transfers = [t for t in self.transfers if t.effective_date >= cutoff]

    def holds_money_in(self, key: str) -> bool:
        """Whether the account's money is held (in part) in bank account ``key``."""
        return key == self.bank_account or key in self.other_bank_accounts

    def ordered_budgets(self) -> tuple[BudgetAgreement, ...]:
        """Every budget agreement, in effective-date order."""
        return tuple(sorted(self.budgets, key=lambda b: b.effective_date))

    def budget_on(self, day: date) -> BudgetAgreement | None:
        """The budget in force on ``day``, if any."""
        return budget_on(self.budgets, day)

    def suspended_on(self, day: date) -> bool:
        """Whether council payments were suspended on ``day``."""
        return any(s.start <= day and (s.end is None or day < s.end) for s in self.suspensions)

    # ------------------------------------------------------------- the policy over time
    def policy_on(self, day: date) -> AccountPolicy:
        """The policy in force on ``day`` (the opening policy with every change effective on or
        before it)."""
        if not self.policy_changes:
            return self.opening_policy
        return policy_on(self.opening_policy, self.policy_changes, day)

    @property
    def latest_policy(self) -> AccountPolicy:
        """The policy of the latest change (the one in force from its date on)."""
        return policy_on(self.opening_policy, self.policy_changes, date.max)

    def policy_periods(self) -> list[tuple[date | None, AccountPolicy]]:
        """Each policy in force and the date it took effect (``None``: from the opening)."""
        return policy_periods(self.opening_policy, self.policy_changes)

    def add_policy_change(self, change: PolicyChange) -> None:
        """Keep ``change`` in effective-date order, after changes of the same date."""
        at = len(self.policy_changes)
        while at and self.policy_changes[at - 1].effective_date > change.effective_date:
            at -= 1
        self.policy_changes.insert(at, change)

    def review_due(self, first_payment_on: date | None) -> date | None:
        """When the next review is due (reg 7): the first day on which the policy in force that
        day says it is due (within ``first_review_within_months`` of the first payment, then
        within ``review_every_months`` of the last review), or the earlier date the last review
        set. ``None`` before the first payment."""
        if self.last_review is None:
            if first_payment_on is None:
                return None
            due = self._first_day_due(first_payment_on, first=True)
        else:
            due = self._first_day_due(self.last_review, first=False)
        requested = self.next_review_by
        return min(due, requested) if requested is not None else due

    def _first_day_due(self, since: date, *, first: bool) -> date:
        periods = self.policy_periods()
        for index, (start, policy) in enumerate(periods):
            months = policy.first_review_within_months if first else policy.review_every_months
            due = add_months(since, months)
            if start is not None and start > due:
                due = start  # overdue by the new interval from the day it took effect
            following = periods[index + 1][0] if index + 1 < len(periods) else None
            if following is None or due < following:
                return due
        raise AssertionError("the last policy period is open-ended")  # pragma: no cover

    def contributions_due(self, until: date) -> Money:
        """The person's contributions due into the account up to ``until``: the weekly
        contribution of each budget, pro-rated by days, for the days the policy in force pays
        on the net basis (on the gross basis the council collects the contribution itself)."""
        periods = self.policy_periods()
        if all(p.payment_basis is PaymentBasis.NET for _, p in periods):
            return contributions_due(self.budgets, until)
        net: list[tuple[date | None, date | None]] = []
        for index, (start, policy) in enumerate(periods):
            if policy.payment_basis is PaymentBasis.NET:
                following = periods[index + 1][0] if index + 1 < len(periods) else None
                net.append((start, following))
        return contributions_due(self.budgets, until, net)


# ---------------------------------------------------------------------------- shared rules
def check_writable(account: ManagedAccount, ctx: Context) -> None:
    """The rule every decision applies first: the account is not closed, and the command is
    not dated before the account was opened."""
    terms = account.terms
    if terms.status is AccountStatus.CLOSED:
        raise AccountIsClosed(
            f"the account was closed on {terms.closed_on} and accepts no new entries",
            account_id=terms.account_id,
            fix="open a new account for a new Direct Payment",
        )
    if ctx.effective_date < terms.opened_on:
        raise ValidationError(
            f"{ctx.effective_date} is before the account was opened ({terms.opened_on})",
            field="effective_date",
            account_id=terms.account_id,
            fix=f"date it on or after {terms.opened_on}",
        )


def require_reason(account: ManagedAccount, ctx: Context, what: str) -> None:
    """Refuse ``what`` without a reason (auditors read it)."""
    if ctx.command.reason is None:
        raise ValidationError(
            f"{what} needs a reason",
            field="reason",
            account_id=account.account_id,
            fix="say why, briefly; auditors read it",
        )


# ---------------------------------------------------------------------------- opening
PolicyField = Annotated[AccountPolicy, BeforeValidator(to_policy)]


class OpenAccount(Command):
    """Open a managed account for a Direct Payment recipient."""

    method: ClassVar[str] = "open_account"
    person_ref: Identifier
    """The council's reference for the person (no names)."""
    council: Name
    provider: Name
    policy: PolicyField = AccountPolicy()
    bank_account: Name | None = None
    """The bank account the money is held in: ``"30-99-50 12345678"`` or an IBAN (optional)."""

    def payload(self) -> dict[str, Any]:
        """The payload 0.1 digested (the bank account only when named), so reopening an account
        opened by 0.1 with the same details is still a no-op."""
        payload = super().payload()
        if payload.get("bank_account") is None:
            payload.pop("bank_account", None)
        return payload


class AccountOpened(AccountEvent, Aggregate.Created):
    """A managed account was opened for a Direct Payment recipient."""

    account_id: str
    person_ref: str
    council: str
    provider: str
    policy: AccountPolicy

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "an account is not un-opened: close it, or open another"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """The terms of the new account."""
        account.terms = Terms(
            account_id=self.account_id,
            person_ref=self.person_ref,
            council=self.council,
            provider=self.provider,
            opening_policy=self.policy,
            opened_on=self.effective_date,
            opened_digest=self.command_digest,
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``account opened for P-1 with SOLO``."""
        return f"account opened for {details.get('person_ref')} with {details.get('provider')}"


def check_reopen(account: ManagedAccount, command: OpenAccount) -> None:
    """Opening an account again with the same details is a no-op; other details are refused."""
    if command.digest() != account.terms.opened_digest:
        raise AccountAlreadyExists(
            "an account with this id is already open with other details",
            account_id=account.account_id,
            fix="choose another account id, or repeat the original details exactly",
        )


# ---------------------------------------------------------------------------- bank account
class NameBankAccount(Command):
    """Name the bank account the account's money is held in (sort code and number, or IBAN)."""

    method: ClassVar[str] = "name_bank_account"
    bank_account: Name


class BankAccountNamed(AccountEvent):
    """The account's money is held in ``bank_account`` from ``effective_date``."""

    bank_account: str
    """The bank account's key (:func:`~dpledger.domain.bank.bank_key`)."""

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "name the right bank account with a new command"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """The account's (main) bank account."""
        terms = account.terms
        if self.bank_account in terms.other_bank_accounts:
            terms.other_bank_accounts.remove(self.bank_account)
        terms.bank_account = self.bank_account

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``money held in bank account 309950-12345678``."""
        return f"money held in bank account {details.get('bank_account')}"


@decides(NameBankAccount)
def name_bank_account(account: ManagedAccount, command: NameBankAccount, ctx: Context) -> None:
    """Name the bank account; naming the one already named is refused, so a retry without a
    key cannot record the same fact twice."""
    check_writable(account, ctx)
    key = bank_key(command.bank_account)
    if key == account.terms.bank_account:
        raise InvalidTransition(
            f"the money is already held in bank account {key}",
            account_id=account.account_id,
            fix="nothing to do",
        )
    account.record(ctx, BankAccountNamed, NO_POSTINGS, bank_account=key)


class AddBankAccount(Command):
    """Hold part of the account's money in another bank account too (a savings account, or a
    provider's pooled client account), beside the one named (sort code and number, or IBAN)."""

    method: ClassVar[str] = "add_bank_account"
    bank_account: Name


class BankAccountAdded(AccountEvent):
    """Part of the account's money is held in ``bank_account`` too, from ``effective_date``."""

    bank_account: str
    """The bank account's key (:func:`~dpledger.domain.bank.bank_key`)."""

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "bank accounts stay on record; transfer the money out of one no longer used"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """One more bank account."""
        account.terms.other_bank_accounts.append(self.bank_account)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``money also held in bank account 30-99-50 12345678``."""
        return f"money also held in bank account {details.get('bank_account')}"


@decides(AddBankAccount)
def add_bank_account(account: ManagedAccount, command: AddBankAccount, ctx: Context) -> None:
    """Add a bank account; one the account already holds money in is refused (a retry without a
    key cannot record it twice)."""
    check_writable(account, ctx)
    key = bank_key(command.bank_account)
    if account.terms.holds_money_in(key):
        raise InvalidTransition(
            f"the money is already held in bank account {key}",
            account_id=account.account_id,
            fix="nothing to do",
        )
    account.record(ctx, BankAccountAdded, NO_POSTINGS, bank_account=key)


# ---------------------------------------------------------------------------- budget
class AgreeBudget(Command):
    """Agree (or revise) the personal budget from ``effective_date``."""

    method: ClassVar[str] = "agree_budget"
    weekly_gross: Amount
    weekly_contribution: AmountOrZero


class BudgetAgreed(AccountEvent):
    """The personal budget was agreed or revised, from ``effective_date``."""

    weekly_gross: Money
    weekly_contribution: Money

    correction: ClassVar[NotCorrectable] = _REVISE

    def evolve(self, account: ManagedAccount) -> None:
        """A second agreement on the same date replaces the first (a revision on the day)."""
        terms = account.terms
        terms.budgets = [b for b in terms.budgets if b.effective_date != self.effective_date]
        terms.budgets.append(
            BudgetAgreement(self.effective_date, self.weekly_gross, self.weekly_contribution)
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``budget £455.00 a week, contribution £38.50``."""
        return (
            f"budget {money_in(details, 'weekly_gross')} a week, contribution "
            f"{money_in(details, 'weekly_contribution')}"
        )


@decides(AgreeBudget)
def agree_budget(account: ManagedAccount, command: AgreeBudget, ctx: Context) -> None:
    """The contribution never exceeds the gross budget."""
    check_writable(account, ctx)
    if command.weekly_contribution > command.weekly_gross:
        raise ValidationError(
            f"the contribution {command.weekly_contribution} exceeds the gross budget "
            f"{command.weekly_gross}",
            field="weekly_contribution",
            account_id=account.account_id,
            fix="the assessed contribution cannot exceed the personal budget",
        )
    account.record(
        ctx,
        BudgetAgreed,
        NO_POSTINGS,
        weekly_gross=command.weekly_gross,
        weekly_contribution=command.weekly_contribution,
    )


# ---------------------------------------------------------------------------- reviews
class RecordReview(Command):
    """The council reviewed the Direct Payment on ``effective_date``; it may set the next
    review sooner than the policy's interval."""

    method: ClassVar[str] = "record_review"
    next_review_by: Day | None = None


class ReviewRecorded(AccountEvent):
    """The council reviewed the Direct Payment on ``effective_date``.

    ``next_review_by`` is a date the council set for the next review, when sooner than the
    policy's interval would make it.
    """

    next_review_by: date | None

    correction: ClassVar[NotCorrectable] = NotCorrectable("record the review again")

    def evolve(self, account: ManagedAccount) -> None:
        """The latest review (a back-dated one before it changes nothing)."""
        terms = account.terms
        if terms.last_review is None or self.effective_date >= terms.last_review:
            terms.last_review = self.effective_date
            terms.next_review_by = self.next_review_by

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``review recorded; next by 2026-01-01``."""
        by = details.get("next_review_by")
        return f"review recorded{f'; next by {by}' if by else ''}"


@decides(RecordReview)
def record_review(account: ManagedAccount, command: RecordReview, ctx: Context) -> None:
    """The next review, if set, is after this one."""
    check_writable(account, ctx)
    due = command.next_review_by
    if due is not None and due <= ctx.effective_date:
        raise ValidationError(
            f"must be after the review date {ctx.effective_date}",
            field="next_review_by",
            account_id=account.account_id,
        )
    account.record(ctx, ReviewRecorded, NO_POSTINGS, next_review_by=due)


# ---------------------------------------------------------------------------- suspension
class Suspend(Command):
    """Suspend council payments from ``effective_date``, saying why."""

    method: ClassVar[str] = "suspend"
    reason: Text


class AccountSuspended(AccountEvent):
    """Council payments were suspended from ``effective_date``, for ``reason``."""

    correction: ClassVar[NotCorrectable] = NotCorrectable("resume the account instead")

    def evolve(self, account: ManagedAccount) -> None:
        """Suspended from the effective date."""
        terms = account.terms
        terms.status = AccountStatus.SUSPENDED
        terms.suspended_since = self.effective_date
        terms.suspensions.append(Suspension(self.effective_date, None))

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``council payments suspended``."""
        return "council payments suspended"


@decides(Suspend)
def suspend(account: ManagedAccount, command: Suspend, ctx: Context) -> None:
    """Only an open account can be suspended."""
    check_writable(account, ctx)
    if account.terms.status is not AccountStatus.OPEN:
        raise InvalidTransition(
            f"the account is already suspended (since {account.terms.suspended_since})",
            account_id=account.account_id,
            fix="resume it first",
        )
    account.record(ctx, AccountSuspended, NO_POSTINGS)


class Resume(Command):
    """Resume council payments; missed ones are made good only if ``backfill_ordered``."""

    method: ClassVar[str] = "resume"
    backfill_ordered: bool = False


class AccountResumed(AccountEvent):
    """Council payments resumed; missed payments are made good only if ``backfill_ordered``."""

    backfill_ordered: bool

    correction: ClassVar[NotCorrectable] = NotCorrectable("suspend the account again instead")

    def evolve(self, account: ManagedAccount) -> None:
        """Open again; the suspension ends on the effective date."""
        terms = account.terms
        terms.status = AccountStatus.OPEN
        terms.suspended_since = None
        if terms.suspensions and terms.suspensions[-1].end is None:
            terms.suspensions[-1] = Suspension(terms.suspensions[-1].start, self.effective_date)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``council payments resumed``."""
        return "council payments resumed"


@decides(Resume)
def resume(account: ManagedAccount, command: Resume, ctx: Context) -> None:
    """Only a suspended account can be resumed."""
    check_writable(account, ctx)
    if account.terms.status is not AccountStatus.SUSPENDED:
        raise InvalidTransition(
            "the account is not suspended",
            account_id=account.account_id,
            fix="only a suspended account can be resumed",
        )
    account.record(ctx, AccountResumed, NO_POSTINGS, backfill_ordered=command.backfill_ordered)


# ---------------------------------------------------------------------------- closing
class CloseAccount(Command):
    """End the Direct Payment: the final reckoning returns the balance and closes the account."""

    method: ClassVar[str] = "close_account"


class AccountClosed(AccountEvent):
    """The Direct Payment ended: the final reckoning returned the balance and closed the account."""

    returned_to_council: Money
    returned_to_person: Money
    contributions_due: Money
    contributions_received: Money
    paid_in_advance: Money
    """Council money paid for days after the policy's end date (returned within
    ``returned_to_council``)."""

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "a closed account stays closed: open a new account for a new Direct Payment"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """Closed: it accepts nothing more."""
        account.terms.status = AccountStatus.CLOSED
        account.terms.closed_on = self.effective_date

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``account closed; £12.00 returned to council``."""
        return f"account closed; {money_in(details, 'returned_to_council')} returned to council"


@decides(CloseAccount)
def close_account(account: ManagedAccount, command: CloseAccount, ctx: Context) -> None:
    """The final reckoning.

    Every liability must be paid and nothing held in suspense; no bank entry may be dated after
    the closing date. The bank balance is returned: contributions the person paid beyond what
    was due go back to them (net basis), the rest to the council.
    """
    check_writable(account, ctx)
    funds, day = account.funds, ctx.effective_date
    outstanding = {a.value: account.owed(a) for a in LIABILITIES if account.owed(a).is_positive()}
    if outstanding:
        owed = ", ".join(f"{code} {money}" for code, money in outstanding.items())
        raise InvalidTransition(
            f"cannot close with unpaid liabilities: {owed}",
            account_id=account.account_id,
            fix="pay, dispute or correct them first",
        )
    held = account.suspense.held_ids()
    if held:
        raise InvalidTransition(
            f"cannot close with unexpected money held in suspense: {', '.join(held)}",
            account_id=account.account_id,
            fix="classify, refund or keep each item first",
        )
    last = funds.last_bank_day()
    if last is not None and last > day:
        raise InvalidTransition(
            f"bank entries are dated after the closing date {day}: {last}",
            account_id=account.account_id,
            fix="close on or after the last bank entry's date",
        )
    bank = account.bank_balance
    received = -funds.balance(LedgerAccount.CONTRIBUTION_INCOME)
    terms = account.terms
    policy = terms.policy_on(day)
    if any(p.payment_basis is PaymentBasis.NET for _, p in terms.policy_periods()):
        due = terms.contributions_due(day)  # the days paid on the net basis
    else:  # the council collects every day's contribution itself: the figure for its invoice
        due = contributions_due(terms.budgets, day)
    to_person = Money(0)
    if policy.payment_basis is PaymentBasis.NET and received > due:
        to_person = min(received - due, bank)
    to_council = bank - to_person
    postings = Postings.of(
        [
            Posting.debit(LedgerAccount.RETURNED_TO_COUNCIL, to_council),
            Posting.debit(LedgerAccount.CONTRIBUTION_INCOME, to_person),
            Posting.credit(LedgerAccount.BANK, bank),
        ]
    )
    account.record(
        ctx,
        AccountClosed,
        postings,
        returned_to_council=to_council,
        returned_to_person=to_person,
        contributions_due=due,
        contributions_received=received,
        paid_in_advance=funds.paid_in_advance(account.terms.policy_on, policy.end_date),
    )
