"""The ``Ledger`` methods of pooled client accounts (see :mod:`dpledger.domain.pooled`):
declaring a pool, importing its statements, allocating held lines, and reading its position."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dpledger.application.arguments import DateLike, MoneyLike
from dpledger.application.bankreport import ImportReport
from dpledger.application.pooledimport import (
    AllocationReceipt,
    allocate,
    import_pooled,
    open_pooled,
)
from dpledger.application.retry import Retrying
from dpledger.application.session import Session
from dpledger.domain.bank import BankAccount, bank_account_uuid
from dpledger.domain.bankids import bank_key
from dpledger.domain.bounds import to_day, to_money
from dpledger.domain.errors import ValidationError
from dpledger.domain.pooled import unallocated_lines
from dpledger.domain.records import AllocationRule, UnallocatedLine
from dpledger.projections.pooled import PoolPosition, fold_pool

if TYPE_CHECKING:
    from dpledger.adapters.bankfeeds.model import BankStatement
    from dpledger.adapters.store import DpledgerApplication


class PooledMethods:
    """Pooled client accounts: one bank account holding many managed accounts' money."""

    _app: DpledgerApplication
    retrying: Retrying

    def open_pooled_account(
        self,
        bank_account: str,
        *,
        name: str,
        opened_on: DateLike,
        actor: str,
        rules: Sequence[Mapping[str, Any] | AllocationRule] = (),
    ) -> str:
        """Declare ``bank_account`` (sort code and number, or IBAN) a pooled client account
        called ``name``, from ``opened_on``, with the allocation table ``rules`` (rows of
        ``account_id``, ``pattern`` (a regular expression, case ignored) and ``field``:
        ``"text"``, ``"payer"`` or ``"reference"``). Declaring it again replaces the name and the
        table; the same settings record nothing. Returns the bank account's key.

        Managed accounts join the pool by naming it (:meth:`name_bank_account`) or adding it
        (:meth:`add_bank_account`).
        """
        day = to_day(opened_on, "opened_on")

        def work(session: Session) -> str:
            bank = open_pooled(
                session, bank_account, name=name, opened_on=day, actor=actor, rules=rules
            )
            session.save()
            return bank.key

        return self.retrying.run(self._app, work)

    def import_pooled_statement(
        self,
        statement: BankStatement | Sequence[BankStatement],
        *,
        actor: str,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import statements of a pooled client account already parsed: each line allocated to
        its member (or held), all of them or nothing (see :mod:`dpledger.domain.pooled`)."""
        statements = [statement] if not isinstance(statement, Sequence) else list(statement)
        source = statements[0].source_file if statements else "statement"

        def work(session: Session) -> ImportReport:
            report = import_pooled(
                session, statements, actor=actor, source=source, bank_account=bank_account
            )
            session.save()
            return report

        return self.retrying.run(self._app, work)

    def allocate(
        self,
        bank_account: str,
        line_key: str,
        account_id: str,
        *,
        actor: str,
        reason: str,
        amount: MoneyLike | None = None,
        effective_date: DateLike | None = None,
        idempotency_key: str | None = None,
    ) -> AllocationReceipt:
        """Allocate a held line of a pooled account (all of it, or ``amount`` of it) to the
        member ``account_id``, saying why; it is recorded on the member as an import would have
        recorded it. Refused, with the fix, for an unknown pool, line or account, a closed
        account, an amount above what is held, or money out the member cannot cover."""
        money = None if amount is None else to_money(amount, "amount")
        day = None if effective_date is None else to_day(effective_date, "effective_date")

        def work(session: Session) -> AllocationReceipt:
            receipt = allocate(
                session,
                bank_account,
                line_key,
                account_id,
                actor=actor,
                reason=reason,
                amount=money,
                effective_date=day,
                idempotency_key=idempotency_key,
            )
            session.save()
            return receipt

        return self.retrying.run(self._app, work)

    def unallocated(self, bank_account: str) -> list[UnallocatedLine]:
        """The lines of a pooled account still (partly) held for someone to allocate, oldest
        first."""
        return unallocated_lines(self._pool(bank_account))

    def pool_position(self, bank_account: str, *, on: DateLike | None = None) -> PoolPosition:
        """A pooled account on ``on`` (default: everything recorded): its balance, each
        member's share, the unallocated money, and the balances the bank stated beside the
        ledger's. Read from the bank account's events."""
        key = self._pool(bank_account).key
        day = None if on is None else to_day(on, "on")
        events = self._app.events.get(bank_account_uuid(key))
        return fold_pool(key, events, day)

    def _pool(self, bank_account: str) -> BankAccount:
        key = bank_key(bank_account)
        bank = Session(self._app).bank(key)
        if bank is None or not bank.book.pooled:
            raise ValidationError(
                f"bank account {key} is not a pooled client account",
                field="bank_account",
                fix="declare it with Ledger.open_pooled_account",
            )
        return bank
