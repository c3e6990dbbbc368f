"""Transfers between a person's own bank accounts (a dedicated account and a pooled one, or a
savings account): the person's money does not change, only where it is held.

``TransferBetweenBankAccounts`` records ``MoneyTransferred``, which posts nothing (the account's
bank balance is the sum over all its bank accounts). Its two bank lines, the payment out of one
account and the money into the other, are each matched to it when their statements are imported
(:func:`transfer_leg`): the same amount, in the right direction, within the policy's margin of
days, once per bank account. A transfer out of a pooled client account is refused when the
person's share of the pool does not cover it (:func:`check_transfer_covered`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import Amount, Name, Reference
from dpledger.domain.chart import NO_POSTINGS
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import InsufficientFunds, InvalidTransition, ValidationError
from dpledger.domain.events import AccountEvent, NotCorrectable, money_in
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.money import Money
from dpledger.domain.records import BankTransfer

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount
    from dpledger.domain.bank import BankAccount


class TransferBetweenBankAccounts(Command):
    """Move the person's money from one of their bank accounts to another."""

    method: ClassVar[str] = "transfer_between_bank_accounts"
    from_bank_account: Name
    to_bank_account: Name
    amount: Amount
    bank_reference: Reference | None = None


class MoneyTransferred(AccountEvent):
    """``amount`` of the person's money moved from ``from_bank_account`` to
    ``to_bank_account`` (posts nothing: the money is still theirs)."""

    from_bank_account: str
    to_bank_account: str
    amount: Money
    bank_reference: str | None

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "transfer the money back with a new transfer"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """The transfer waits for its bank lines."""
        account.terms.transfers.append(
            BankTransfer(
                self.originator_version,
                self.effective_date,
                self.from_bank_account,
                self.to_bank_account,
                self.amount,
            )
        )

    def moved_in(self, bank: str) -> Money:
        """What the transfer moved into ``bank`` (negative: out of it)."""
        if bank == self.from_bank_account:
            return -self.amount
        if bank == self.to_bank_account:
            return self.amount
        return Money(0)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``£50.00 moved from bank account A to bank account B``."""
        return (
            f"{money_in(details)} moved from bank account {details.get('from_bank_account')} "
            f"to bank account {details.get('to_bank_account')}"
        )


@decides(TransferBetweenBankAccounts)
def transfer_between_bank_accounts(
    account: ManagedAccount, command: TransferBetweenBankAccounts, ctx: Context
) -> None:
    """Both bank accounts must hold the account's money and differ; the amount must be within
    the account's money (the pool's own check follows in the session)."""
    check_writable(account, ctx)
    source, target = bank_key(command.from_bank_account), bank_key(command.to_bank_account)
    terms = account.terms
    for key, field in ((source, "from_bank_account"), (target, "to_bank_account")):
        if not terms.holds_money_in(key):
            raise InvalidTransition(
                f"the money of {terms.account_id} is not held in bank account {key}",
                account_id=terms.account_id,
                fix=f"add the bank account first (Ledger.add_bank_account), or correct {field}",
            )
    if source == target:
        raise ValidationError(
            "the two bank accounts are the same",
            field="to_bank_account",
            account_id=terms.account_id,
            fix="name the bank account the money goes to",
        )
    available = account.bank_balance
    if command.amount > available:
        raise InsufficientFunds(
            f"{terms.account_id} holds {available}, short by {command.amount - available} of "
            f"the {command.amount} to transfer",
            shortfall=command.amount - available,
            balance=available,
            account_id=terms.account_id,
            fix="transfer less",
        )
    account.record(
        ctx,
        MoneyTransferred,
        NO_POSTINGS,
        from_bank_account=source,
        to_bank_account=target,
        amount=command.amount,
        bank_reference=command.bank_reference,
    )


def check_transfer_covered(bank: BankAccount, event: MoneyTransferred, account_id: str) -> None:
    """A transfer out of a pooled client account takes only the person's own money there:
    refused, naming the person and the shortfall, when their share does not cover it."""
    if not bank.book.pooled:
        return
    share = Money(bank.book.shares.get(account_id, 0))
    if event.amount > share:
        raise InsufficientFunds(
            f"{account_id}'s money in pool {bank.key} is {share}, short by "
            f"{event.amount - share} of the transfer: client money never pays for another client",
            shortfall=event.amount - share,
            balance=share,
            account_id=account_id,
            fix="transfer at most the person's share of the pool",
        )


def transfer_leg(
    account: ManagedAccount, bank: BankAccount, booked_on: date, signed: Money
) -> BankTransfer | None:
    """The transfer of ``account`` a bank line of ``bank`` (``signed``, booked on
    ``booked_on``) is a leg of: out of or into ``bank``, the same amount, within the policy's
    margin of days, and not matched by another line of ``bank`` yet. The nearest in days, then
    the oldest, wins."""
    margin = account.terms.policy_on(booked_on).missing_payment_margin_days
    fits = [
        t
        for t in account.terms.transfers
        if abs((t.effective_date - booked_on).days) <= margin
        and (
            (t.from_bank_account == bank.key and signed == -t.amount)
            or (t.to_bank_account == bank.key and signed == t.amount)
        )
    ]
    if not fits:
        return None  # nearly every line: no transfer of its amount, so no need to read the book
    taken = {
        r.target_version
        for r in bank.recent_lines()
        if r.account_id == account.account_id and r.event_type == MoneyTransferred.__name__
    }
    fits = [t for t in fits if t.version not in taken]
    if not fits:
        return None
    return min(fits, key=lambda t: (abs((t.effective_date - booked_on).days), t.version))
