"""The managed account aggregate: one per Direct Payment recipient.

The account is thin. Its state is a few parts, each kept by the module of its concern
(:mod:`~dpledger.domain.lifecycle` the terms, :mod:`~dpledger.domain.funds` the money,
:mod:`~dpledger.domain.invoices` the invoicing, :mod:`~dpledger.domain.payroll`,
:mod:`~dpledger.domain.suspense`, :mod:`~dpledger.domain.careplan`,
:mod:`~dpledger.domain.corrections`). A command's decision (a function in its concern's module)
checks the rules and calls :meth:`ManagedAccount.record`, the one place where an event is made:
the money invariants are checked there (the bank never below zero, nothing overpaid), the event
is chained to the one before it, and applied. Applying (:meth:`ManagedAccount.when`) posts the
event's postings for every event alike, then lets the event change its concern's part
(``event.evolve``), so replaying the events rebuilds the account exactly.

The state keeps what a future decision needs (see :mod:`~dpledger.domain.window`); a snapshot
holds it as plain data with the chain head at its version and a digest of its state, and a
snapshot that does not match is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from dpledger.domain import codec
from dpledger.domain.bankids import bank_key
from dpledger.domain.careplan import CarePlan
from dpledger.domain.chain import GENESIS, chained
from dpledger.domain.chart import EXPENSES, LIABILITIES, NO_POSTINGS, LedgerAccount, Postings
from dpledger.domain.commands import Context, decides
from dpledger.domain.corrections import Corrections
from dpledger.domain.events import AccountEvent
from dpledger.domain.funds import Funds
from dpledger.domain.invoices import InvoiceBook
from dpledger.domain.keys import HoldsKeys
from dpledger.domain.lifecycle import (
    AccountOpened,
    BankAccountNamed,
    OpenAccount,
    Terms,
    check_reopen,
)
from dpledger.domain.money import Money
from dpledger.domain.payroll import Payroll
from dpledger.domain.personal import SEALS, attach
from dpledger.domain.policy import AccountPolicy
from dpledger.domain.records import (
    AccountStatus,
    Agency,
    BudgetAgreement,
    ContributionReceipt,
    CouncilPayment,
    Invoice,
    PersonalAssistant,
    SuspenseItem,
    UnexplainedOutgoing,
    WageRun,
)
from dpledger.domain.snapshots import CheckedSnapshot, SnapshotRefused, restored_aggregate
from dpledger.domain.surplus import contingency_on, recoverable_surplus_on, surplus_on
from dpledger.domain.suspense import Suspense
from dpledger.domain.window import COMPACT_EVERY, window_start

_ACCOUNT_NAMESPACE = UUID("6f1d7c2e-3b0a-5c59-9d6e-2a7f0e4b8c11")
PARTS = ("terms", "funds", "invoicing", "payroll", "suspense", "careplan", "corrections")
"""The account's parts, in the order a snapshot holds them."""
_PART_TYPES: dict[str, type[Any]] = {
    "terms": Terms,
    "funds": Funds,
    "invoicing": InvoiceBook,
    "payroll": Payroll,
    "suspense": Suspense,
    "careplan": CarePlan,
    "corrections": Corrections,
}


@lru_cache(maxsize=65536)
def account_uuid(account_id: str) -> UUID:
    """The stored aggregate id of the account the caller calls ``account_id`` (stable, derived)."""
    return uuid5(_ACCOUNT_NAMESPACE, account_id)


class AccountSnapshot(CheckedSnapshot):
    """A managed account's state at a version, checked before it is trusted."""


class ManagedAccount(HoldsKeys, Aggregate):
    """A Direct Payment managed account: terms, money, documents and double-entry balances."""

    Snapshot = AccountSnapshot

    if TYPE_CHECKING:  # eventsourcing would turn class annotations into __init__ arguments
        terms: Terms
        funds: Funds
        invoicing: InvoiceBook
        payroll: Payroll
        suspense: Suspense
        careplan: CarePlan
        corrections: Corrections
        head: str
        latest_date: date

    # ----------------------------------------------------------------- recording
    def record(
        self,
        ctx: Context,
        event_class: type[AccountEvent],
        postings: Postings,
        **fields: Any,
    ) -> AccountEvent:
        """Record one event of ``event_class``: the one place every event is made.

        The money invariants are checked here for every event alike: the bank never goes below
        zero on the effective date or after it (unless the bank itself reports the money moved,
        ``ctx.from_bank``), and no liability or suspense account is paid beyond what is owed.
        """
        day = ctx.effective_date
        if not ctx.from_bank:
            self.funds.check_funds(postings, day, self.terms.account_id)
        self.funds.check_not_overpaid(postings, self.terms.account_id)
        command = ctx.command
        fields.update(
            effective_date=day,
            actor=command.actor,
            reason=command.reason,
            command_key=command.idempotency_key,
            command_digest=ctx.digest,
            postings=postings,
        )
        made = chained(event_class, fields, self.id, self.version + 1, self.head)
        seals = made.pop(SEALS, None)
        self.trigger_event(event_class, **made)
        event = self.pending_events[-1]
        assert isinstance(event, AccountEvent)
        attach(event, seals)
        self.claim(event)
        return event

    # ----------------------------------------------------------------- applying events
    def when(self, event: AccountEvent) -> None:
        """Change the state as ``event`` says. Called for new events and on replay alike."""
        if isinstance(event, AccountOpened):
            self.start()
        self.funds.post(event)
        self.head = event.digest
        if event.effective_date > self.latest_date:
            self.latest_date = event.effective_date
        event.evolve(self)
        if event.originator_version % COMPACT_EVERY == 0:
            self.compact()

    def start(self) -> None:
        """Give a new account its empty parts (its opening event fills the terms)."""
        for name, part in _PART_TYPES.items():
            setattr(self, name, part.empty())
        self.head = GENESIS
        self.latest_date = date.min

    def compact(self) -> None:
        """Drop what fell out of the recent window (see :mod:`~dpledger.domain.window`)."""
        cutoff = window_start(self.latest_date)
        for name in PARTS:
            getattr(self, name).compact(cutoff)

    # ----------------------------------------------------------------- snapshots
    def dump(self) -> dict[str, Any]:
        """The state as plain data (what a snapshot holds)."""
        return {
            "parts": [codec.encode(getattr(self, name)) for name in PARTS],
            "head": self.head,
            "latest_date": self.latest_date.isoformat(),
            "created_on": self.created_on.isoformat(),
            "modified_on": self.modified_on.isoformat(),
        }

    @classmethod
    def restore(cls, uuid: UUID, version: int, state: Mapping[str, Any]) -> ManagedAccount:
        """The account :meth:`dump` described, at ``version``."""
        account = restored_aggregate(cls, uuid, version, state)
        try:
            for name, data in zip(PARTS, state["parts"], strict=True):
                setattr(account, name, codec.decode(_PART_TYPES[name], data))
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotRefused(f"the snapshot's state cannot be read: {exc}") from exc
        account.latest_date = date.fromisoformat(state["latest_date"])
        return account

    # ----------------------------------------------------------------- who and what
    @property
    def account_id(self) -> str:
        """The caller's name for the account (``DP-1001``)."""
        return self.terms.account_id

    @property
    def person_ref(self) -> str:
        """The council's reference for the person (never a name)."""
        return self.terms.person_ref

    @property
    def council(self) -> str:
        """The council paying the Direct Payment."""
        return self.terms.council

    @property
    def provider(self) -> str:
        """The managed-account provider holding the money."""
        return self.terms.provider

    @property
    def policy(self) -> AccountPolicy:
        """The council's latest policy for the account (the one in force from the latest
        change on; see :meth:`policy_on` for the one a rule about a given day uses)."""
        return self.terms.latest_policy

    def policy_on(self, day: date) -> AccountPolicy:
        """The policy in force on ``day``: the opening policy with every change effective on or
        before it (``change_policy``)."""
        return self.terms.policy_on(day)

    @property
    def policy_periods(self) -> tuple[tuple[date | None, AccountPolicy], ...]:
        """Each policy in force and the date it took effect (``None``: from the opening)."""
        return tuple(self.terms.policy_periods())

    @property
    def status(self) -> AccountStatus:
        """Open, suspended or closed."""
        return self.terms.status

    @property
    def opened_on(self) -> date:
        """The day the account was opened."""
        return self.terms.opened_on

    @property
    def closed_on(self) -> date | None:
        """The day the account was closed, if it was."""
        return self.terms.closed_on

    @property
    def suspended_since(self) -> date | None:
        """The day council payments were suspended, while they are."""
        return self.terms.suspended_since

    @property
    def bank_account(self) -> str | None:
        """The bank account the money is held in (as :func:`~dpledger.domain.bank.bank_key`)."""
        return self.terms.bank_account

    @property
    def budgets(self) -> tuple[BudgetAgreement, ...]:
        """Every budget agreement, in effective-date order."""
        return self.terms.ordered_budgets()

    def budget_on(self, day: date) -> BudgetAgreement | None:
        """The budget in force on ``day``, if any."""
        return self.terms.budget_on(day)

    # ----------------------------------------------------------------- money
    def balance(self, account: LedgerAccount) -> Money:
        """The balance of one ledger account, debit positive."""
        return self.funds.balance(account)

    @property
    def balances(self) -> dict[LedgerAccount, Money]:
        """Every ledger account's balance (zero ones included), debit positive."""
        return {a: self.funds.balance(a) for a in LedgerAccount}

    @property
    def bank_balance(self) -> Money:
        """Money in the client bank account."""
        return self.funds.balance(LedgerAccount.BANK)

    def owed(self, liability: LedgerAccount) -> Money:
        """What is owed on one liability account (a positive amount)."""
        return -self.funds.balance(liability)

    @property
    def unpaid_liabilities(self) -> Money:
        """Everything owed: approved invoices, net wages, HMRC, pension, council recoupment."""
        return Money(-sum(self.funds.balance(a).pence for a in LIABILITIES))

    def available_from(self, day: date) -> Money:
        """The most that can be paid out on ``day`` without the bank going below zero then or
        on any later date."""
        return self.funds.available_from(day, self.terms.account_id)

    def bank_balance_on(self, day: date) -> Money:
        """The ledger's bank balance at the end of ``day`` (a day within the recent window)."""
        return self.funds.bank_balance_on(day)

    @property
    def council_received(self) -> Money:
        """Council money received, regular and one-off (net of corrections)."""
        return -self.funds.balance(LedgerAccount.COUNCIL_INCOME)

    @property
    def contributions_received(self) -> Money:
        """The person's contributions received (net of corrections)."""
        return -self.funds.balance(LedgerAccount.CONTRIBUTION_INCOME)

    @property
    def spent(self) -> Money:
        """Everything spent on care so far: the sum of the expense accounts."""
        return Money(sum(self.funds.balance(a).pence for a in EXPENSES))

    def contingency(self, day: date) -> Money:
        """The contingency the account may keep on ``day``."""
        return contingency_on(self, day)

    def surplus(self, day: date) -> Money:
        """Balance minus unpaid liabilities minus contingency on ``day``, never negative."""
        return surplus_on(self, day)

    def recoverable_surplus(self, day: date) -> Money:
        """The surplus the council may recoup on ``day``."""
        return recoverable_surplus_on(self, day)

    def paid_in_advance(self, end_date: date | None = None) -> Money:
        """Council payments for days after ``end_date`` (default: the latest policy's end
        date)."""
        end = end_date if end_date is not None else self.policy.end_date
        return self.funds.paid_in_advance(self.terms.policy_on, end)

    @property
    def council_payments(self) -> tuple[CouncilPayment, ...]:
        """Regular council payments in force within the recent window, in recording order."""
        return tuple(self.funds.council_payment_records())

    @property
    def contributions(self) -> tuple[ContributionReceipt, ...]:
        """Contributions in force within the recent window, in recording order."""
        return tuple(self.funds.contribution_records())

    @property
    def first_payment_on(self) -> date | None:
        """The date of the first regular council payment."""
        return self.funds.first_payment_on

    # ----------------------------------------------------------------- documents
    @property
    def agencies(self) -> Mapping[str, Agency]:
        """Registered agencies by id."""
        return MappingProxyType(self.invoicing.agencies)

    @property
    def invoices(self) -> Mapping[str, Invoice]:
        """Invoices by ``agency_id/NUMBER``: open ones, and ones settled recently."""
        return MappingProxyType(self.invoicing.invoices)

    def invoice(self, agency_id: str, invoice_number: str) -> Invoice:
        """One invoice in force; raises :class:`~dpledger.errors.UnknownParty` if none."""
        return self.invoicing.invoice(self, agency_id, invoice_number)

    @property
    def personal_assistants(self) -> Mapping[str, PersonalAssistant]:
        """Registered personal assistants by id."""
        return MappingProxyType(self.payroll.pas)

    @property
    def wage_runs(self) -> Mapping[str, WageRun]:
        """Wage runs of the recent window by ``pa_id/start/end``."""
        return MappingProxyType(self.payroll.wage_runs)

    @property
    def suspense_items(self) -> Mapping[str, SuspenseItem]:
        """Unexpected income by item id: held, and resolved recently."""
        return MappingProxyType(self.suspense.income)

    @property
    def unexplained_outgoings(self) -> Mapping[str, UnexplainedOutgoing]:
        """Unexplained outgoings by item id (``HELD`` means unresolved)."""
        return MappingProxyType(self.suspense.outgoings)

    # ----------------------------------------------------------------- reviews, suspensions
    @property
    def last_review_on(self) -> date | None:
        """The date of the latest review recorded."""
        return self.terms.last_review

    @property
    def next_review_due(self) -> date | None:
        """When the next review is due, by the policy and any date the last review set."""
        return self.terms.review_due(self.funds.first_payment_on)

    @property
    def suspensions(self) -> tuple[tuple[date, date | None], ...]:
        """Each suspension of the recent window: from, and until (``None``: still)."""
        return tuple((s.start, s.end) for s in self.terms.suspensions)

    def suspended_on(self, day: date) -> bool:
        """Whether council payments were suspended on ``day``."""
        return self.terms.suspended_on(day)

    def corrected_by(self, version: int) -> int | None:
        """The correction that reversed event ``version``, if it is within the recent window
        (the key index knows every one)."""
        return self.corrections.corrected_by(version)


@decides(OpenAccount)
def open_account(account: ManagedAccount | None, command: OpenAccount, ctx: Context) -> Any:
    """Open the account, or, when it exists, refuse other details (the same details again are a
    no-op: the caller returns the first receipt). Returns the new account."""
    if account is not None:
        check_reopen(account, command)
        return None
    fields = {
        "account_id": command.account_id,
        "person_ref": command.person_ref,
        "council": command.council,
        "provider": command.provider,
        "policy": command.policy,
        "effective_date": command.effective_date,
        "actor": command.actor,
        "reason": command.reason,
        "command_key": command.idempotency_key,
        "command_digest": ctx.digest,
        "postings": NO_POSTINGS,
    }
    uuid = account_uuid(command.account_id)
    # eventsourcing adds the aggregate's topic to the created event; the digest covers it.
    topic = {"originator_topic": get_topic(ManagedAccount)}
    made = chained(AccountOpened, fields, uuid, 1, GENESIS, topic)
    seals = made.pop(SEALS, None)
    new = ManagedAccount._create(AccountOpened, id=uuid, **made)
    opened = new.pending_events[-1]
    assert isinstance(opened, AccountEvent)
    attach(opened, seals)
    new.claim(opened)
    if command.bank_account is not None:
        new.record(ctx, BankAccountNamed, NO_POSTINGS, bank_account=bank_key(command.bank_account))
    return new
