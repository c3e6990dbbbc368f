"""The typed ``Ledger`` methods of held items: unexpected income and unexplained outgoings, each
held until someone resolves it. Each builds its command and runs it through ``Ledger.execute``."""

from __future__ import annotations

from dpledger.application.arguments import DateLike, MoneyLike, names_account
from dpledger.application.base import Executes
from dpledger.application.session import Receipt
from dpledger.domain.chart import SpendCategory
from dpledger.domain.suspense import (
    AcceptUnexpectedOutgoing,
    ClassifyUnexpectedIncome,
    ClassifyUnexpectedOutgoing,
    KeepUnexpectedIncome,
    ReceiveUnexpectedIncome,
    RecordUnexplainedOutgoing,
    RecoverUnexpectedOutgoing,
    RefundUnexpectedIncome,
)


class SuspenseMethods(Executes):
    """Unexpected income and unexplained outgoings."""

    @names_account
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
        """Hold money that matches nothing expected in suspense. The receipt's ``item_id`` names
        the suspense item."""
        return self.execute(
            ReceiveUnexpectedIncome.build(
                account_id=account_id,
                amount=amount,
                description=description,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
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
        return self.execute(
            ClassifyUnexpectedIncome.build(
                account_id=account_id,
                item_id=item_id,
                classified_as=classified_as,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def refund_unexpected_income(
        self,
        account_id: str,
        *,
        item_id: str,
        effective_date: DateLike,
        actor: str,
        bank_reference: str | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Pay suspense money back to whoever sent it, under ``bank_reference`` if given (its
        statement line then confirms the refund by reference)."""
        return self.execute(
            RefundUnexpectedIncome.build(
                account_id=account_id,
                item_id=item_id,
                bank_reference=bank_reference,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
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
        return self.execute(
            KeepUnexpectedIncome.build(
                account_id=account_id,
                item_id=item_id,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
    def record_unexplained_outgoing(
        self,
        account_id: str,
        *,
        amount: MoneyLike,
        description: str,
        effective_date: DateLike,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Hold money that left the bank and that no payment of the account explains (seen in the
        bank's portal, say) until someone classifies, recovers or accepts it. The receipt's
        ``item_id`` names the item; a statement's unmatched debits come the same way."""
        return self.execute(
            RecordUnexplainedOutgoing.build(
                account_id=account_id,
                amount=amount,
                description=description,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
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
        return self.execute(
            ClassifyUnexpectedOutgoing.build(
                account_id=account_id,
                item_id=item_id,
                category=category,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
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
        return self.execute(
            RecoverUnexpectedOutgoing.build(
                account_id=account_id,
                item_id=item_id,
                income_item_id=income_item_id,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )

    @names_account
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
        return self.execute(
            AcceptUnexpectedOutgoing.build(
                account_id=account_id,
                item_id=item_id,
                reason=reason,
                effective_date=effective_date,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        )
