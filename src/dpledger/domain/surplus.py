"""Surplus and recoupment: what the council may take back, and paying it back.

Surplus = bank balance - unpaid liabilities - contingency, never negative, where the contingency
is ``policy.contingency_weeks`` x the gross weekly budget, each as in force on the day asked
about (domain notes: councils let an account keep 4-8 weeks). Where the policy in force spends
the person's contribution first, the council may recover at most its own money still unspent.
The rules take figures (balances and terms as at a day), so the read side computes the surplus
as at any date from its projections with the same functions. A recoupment is refused above the
recoverable surplus on its date, and refused when dated before the bank last moved; it
makes the money owed to the council, and repaying it pays it from the bank.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.domain.bounds import Amount, Reference
from dpledger.domain.chart import EXPENSES, LIABILITIES, LedgerAccount, Postings
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import SurplusExceeded, ValidationError
from dpledger.domain.events import MONEY_ONLY, AccountEvent, amount_text, reference_text
from dpledger.domain.funds import pay_liability
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.rules import council_recoverable_surplus, surplus

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount
    from dpledger.domain.lifecycle import Terms


# ---------------------------------------------------------------------------- the rules
# Each rule takes figures (the balances and the terms as at a day) rather than the aggregate, so
# the write side (the account now) and the read side (projections as at any date) use the same
# function.
def contingency_in_force(terms: Terms, day: date) -> Money:
    """The contingency the terms let the account keep on ``day``: the weeks of the policy in
    force on ``day`` x the weekly gross budget in force on ``day``."""
    budget = terms.budget_on(day)
    return Money(0) if budget is None else terms.policy_on(day).contingency(budget.weekly_gross)


def surplus_of(balances: Mapping[LedgerAccount, Money], terms: Terms, day: date) -> Money:
    """Bank minus unpaid liabilities minus contingency on ``day``, never negative, from the
    ``balances`` (every ledger account, debit positive) at the end of ``day``."""
    unpaid = Money(-sum(balances.get(a, Money(0)).pence for a in LIABILITIES))
    bank = balances.get(LedgerAccount.BANK, Money(0))
    return surplus(bank, unpaid, contingency_in_force(terms, day))


def recoverable_surplus_of(
    balances: Mapping[LedgerAccount, Money], terms: Terms, day: date
) -> Money:
    """The surplus the council may recoup on ``day``, from the ``balances`` at the end of
    ``day``: the whole surplus, unless the policy in force on ``day`` spends the contribution
    first; then at most the council money still unspent (all spending counted contribution
    first)."""
    available = surplus_of(balances, terms, day)
    if not terms.policy_on(day).contribution_spent_first:
        return available

    def credit(account: LedgerAccount) -> Money:
        return -balances.get(account, Money(0))

    spent = Money(sum(balances.get(a, Money(0)).pence for a in EXPENSES))
    return council_recoverable_surplus(
        available,
        credit(LedgerAccount.COUNCIL_INCOME),
        credit(LedgerAccount.CONTRIBUTION_INCOME),
        spent,
    )


def contingency_on(account: ManagedAccount, day: date) -> Money:
    """The contingency the account may keep on ``day`` (:func:`contingency_in_force`)."""
    return contingency_in_force(account.terms, day)


def surplus_on(account: ManagedAccount, day: date) -> Money:
    """The account's surplus on ``day`` from its balances as they stand (:func:`surplus_of`):
    the surplus as at ``day`` when no event is dated after it."""
    return surplus_of(account.balances, account.terms, day)


def recoverable_surplus_on(account: ManagedAccount, day: date) -> Money:
    """The recoverable surplus on ``day`` from the balances as they stand
    (:func:`recoverable_surplus_of`)."""
    return recoverable_surplus_of(account.balances, account.terms, day)


# ---------------------------------------------------------------------------- commands
def check_not_back_dated(account: ManagedAccount, day: date) -> None:
    """Refuse a recoupment dated before the last day the bank moved.

    The account keeps its liabilities only as they stand now, so the decision checks the
    surplus with today's balances and the contingency in force on ``day``. That is the surplus
    on ``day`` as long as no money came or went after it: later bills only make today's figure
    lower (the check errs on the safe side), but money in after ``day`` would count a surplus
    the account did not hold then (a recoupment back-dated to a day when the surplus was nil
    would pass). So a recoupment may be dated on or after the bank's last movement, not before.
    (The surplus of any past day is read from the projections: :meth:`dpledger.Ledger.surplus`.)
    """
    moved = account.funds.last_bank_day()
    if moved is not None and day < moved:
        raise ValidationError(
            f"a recoupment cannot be dated {day}: money moved in or out of the bank on "
            f"{moved}, after it, so the surplus on {day} cannot be checked against today's "
            "figures",
            field="effective_date",
            account_id=account.account_id,
            fix=f"date the recoupment on or after {moved}",
        )


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
    """At most the recoverable surplus on the effective date, which may not be before the
    bank's last movement (see :func:`check_not_back_dated`)."""
    check_writable(account, ctx)
    check_not_back_dated(account, ctx.effective_date)
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
