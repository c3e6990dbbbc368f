"""Surplus and recoupment: what the council may take back, and paying it back.

Surplus = bank balance - unpaid liabilities - contingency, never negative, where the contingency
is ``policy.contingency_weeks`` x the gross weekly budget, each as in force on the day asked
about (domain notes: councils let an account keep 4-8 weeks). Where the policy in force spends
the person's contribution first, the council may recover at most its own money still unspent. A
recoupment is refused above the recoverable surplus on its date; it makes the money owed to the
council, and repaying it pays it from the bank.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.domain.bounds import Amount, Reference
from dpledger.domain.chart import EXPENSES, LedgerAccount, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import SurplusExceeded
from dpledger.domain.events import MONEY_ONLY, AccountEvent, amount_text, reference_text
from dpledger.domain.funds import pay_liability
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.rules import council_recoverable_surplus, surplus

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount


# ---------------------------------------------------------------------------- the rules
def contingency_on(account: ManagedAccount, day: date) -> Money:
    """The contingency the account may keep on ``day``: the weeks of the policy in force on
    ``day`` x the weekly gross budget in force on ``day``."""
    terms = account.terms
    budget = terms.budget_on(day)
    return Money(0) if budget is None else terms.policy_on(day).contingency(budget.weekly_gross)


def surplus_on(account: ManagedAccount, day: date) -> Money:
    """Balance minus unpaid liabilities minus contingency on ``day``, never negative."""
    return surplus(account.bank_balance, account.unpaid_liabilities, contingency_on(account, day))


def recoverable_surplus_on(account: ManagedAccount, day: date) -> Money:
    """The surplus the council may recoup on ``day``: the whole surplus, unless the policy in
    force on ``day`` spends the contribution first; then at most the council money still
    unspent (all spending so far counted contribution first)."""
    available = surplus_on(account, day)
    if not account.terms.policy_on(day).contribution_spent_first:
        return available
    funds = account.funds
    spent = Money(sum(funds.balance(a).pence for a in EXPENSES))
    return council_recoverable_surplus(
        available,
        -funds.balance(LedgerAccount.COUNCIL_INCOME),
        -funds.balance(LedgerAccount.CONTRIBUTION_INCOME),
        spent,
    )


# ---------------------------------------------------------------------------- commands
class DemandRecoupment(Command):
    """The council recoups surplus; refused if more than the recoverable surplus."""

    method: ClassVar[str] = "demand_recoupment"
    amount: Amount


class RecoupmentDemanded(AccountEvent):
    """The council demanded surplus back; ``surplus`` is what the demand was checked against."""

    amount: Money
    surplus: Money

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all (the money is owed to the council)."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``council recoupment demanded £500.00``."""
        return f"council recoupment demanded{amount_text(details)}"


@decides(DemandRecoupment)
def demand_recoupment(account: ManagedAccount, command: DemandRecoupment, ctx: Context) -> None:
    """At most the recoverable surplus on the effective date."""
    check_writable(account, ctx)
    available = recoverable_surplus_on(account, ctx.effective_date)
    if command.amount > available:
        spent_first = account.terms.policy_on(ctx.effective_date).contribution_spent_first
        raise SurplusExceeded(
            f"recoupment of {command.amount} exceeds the surplus of {available}"
            + (" the council can recover (the contribution is spent first)" if spent_first else ""),
            account_id=account.account_id,
            fix="recoup at most the surplus: balance - unpaid liabilities - contingency"
            + (", and no more council money than is unspent" if spent_first else ""),
        )
    account.record(
        ctx,
        RecoupmentDemanded,
        Postings.transfer(
            LedgerAccount.RETURNED_TO_COUNCIL, LedgerAccount.COUNCIL_PAYABLE, command.amount
        ),
        amount=command.amount,
        surplus=available,
    )


class RepayRecoupment(Command):
    """Pay recouped surplus back to the council."""

    method: ClassVar[str] = "repay_recoupment"
    amount: Amount
    bank_reference: Reference | None = None


class RecoupmentRepaid(AccountEvent):
    """Recouped surplus was paid back to the council."""

    amount: Money
    bank_reference: str | None

    correction: ClassVar[Any] = MONEY_ONLY

    def evolve(self, account: ManagedAccount) -> None:
        """Its postings say it all."""

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``recoupment repaid £500.00 (ref X)``."""
        return f"recoupment repaid{amount_text(details)}{reference_text(details)}"


@decides(RepayRecoupment)
def repay_recoupment(account: ManagedAccount, command: RepayRecoupment, ctx: Context) -> None:
    """Never more than was demanded and not yet repaid; never overdrawn."""
    pay_liability(
        account,
        ctx,
        RecoupmentRepaid,
        LedgerAccount.COUNCIL_PAYABLE,
        "recoupment owed to the council",
        command.amount,
        command.bank_reference,
    )
