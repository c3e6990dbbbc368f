"""The fixed chart of accounts of a managed account, and balanced postings.

Postings are signed: a debit is positive, a credit negative, so every event's postings sum to zero.
Assets and expenses normally carry debit (positive) balances; income, suspense and liabilities
normally carry credit (negative) balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum

from dpledger.domain.errors import ValidationError
from dpledger.domain.money import GBP, Money


class LedgerAccount(StrEnum):
    """Every account a managed account's postings may name, by a stable code."""

    BANK = "assets:bank"
    """The client bank account holding the Direct Payment."""

    COUNCIL_INCOME = "income:council"
    """Council Direct Payments, regular and one-off."""
    CONTRIBUTION_INCOME = "income:contribution"
    """The person's assessed contribution."""
    OTHER_INCOME = "income:other"
    """Unexpected income kept, with a reason."""
    RETURNED_TO_COUNCIL = "income:returned_to_council"
    """Contra-income: surplus recouped and money returned at closure (debit balance)."""

    SUSPENSE = "suspense:unidentified"
    """Unexpected income held until someone classifies, refunds or keeps it."""
    UNEXPLAINED_OUTGOING = "suspense:unexplained_outgoing"
    """Money out of the bank that matches nothing expected (debit balance), held until someone
    classifies, recovers or accepts it."""

    AGENCY_PAYABLE = "liabilities:agency"
    """Approved agency invoices not yet paid."""
    PA_NET_WAGES_PAYABLE = "liabilities:pa_net_wages"
    """Net wages owed to personal assistants."""
    HMRC_PAYABLE = "liabilities:hmrc"
    """PAYE, employee and employer NI owed to HMRC."""
    PENSION_PAYABLE = "liabilities:pension"
    """Employee and employer pension contributions owed to the pension provider."""
    COUNCIL_PAYABLE = "liabilities:council"
    """Recoupment the council has demanded and not yet been repaid."""

    AGENCY_CARE = "expenses:agency_care"
    PA_GROSS_WAGES = "expenses:pa_gross_wages"
    EMPLOYER_NI = "expenses:employer_ni"
    EMPLOYER_PENSION = "expenses:employer_pension"
    INSURANCE = "expenses:insurance"
    SUPPORT_FEES = "expenses:support_fees"
    """Managed-account and payroll service fees."""
    OTHER_CARE_PLAN = "expenses:other_care_plan"
    """Other spend the care plan allows (equipment, activities, ...)."""
    UNRECOVERED_OUTGOINGS = "expenses:unrecovered_outgoings"
    """Unexplained outgoings accepted as spent and not recoverable, with a reason."""

    @property
    def kind(self) -> str:
        """``assets``, ``income``, ``suspense``, ``liabilities`` or ``expenses``."""
        return self.value.split(":", 1)[0]


LIABILITIES: tuple[LedgerAccount, ...] = tuple(a for a in LedgerAccount if a.kind == "liabilities")
EXPENSES: tuple[LedgerAccount, ...] = tuple(a for a in LedgerAccount if a.kind == "expenses")


class SpendCategory(Enum):
    """Categories of 'other care-plan spend' paid straight from the bank (one per outgoing)."""

    INSURANCE = "insurance"
    SUPPORT_FEES = "support_fees"
    OTHER_CARE_PLAN = "other_care_plan"

    @property
    def ledger_account(self) -> LedgerAccount:
        """The expense account this category posts to."""
        return LedgerAccount(f"expenses:{self.value}")


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of a balanced entry: ``amount`` debited (positive) or credited (negative)."""

    account: LedgerAccount
    amount: Money

    @classmethod
    def debit(cls, account: LedgerAccount, amount: Money) -> Posting:
        """Debit ``account`` with ``amount`` (a positive amount)."""
        return cls(account, amount)

    @classmethod
    def credit(cls, account: LedgerAccount, amount: Money) -> Posting:
        """Credit ``account`` with ``amount`` (a positive amount)."""
        return cls(account, -amount)


@dataclass(frozen=True, slots=True)
class Postings:
    """An immutable, balanced set of postings in GBP. Construction refuses an unbalanced set."""

    lines: tuple[Posting, ...] = ()

    def __post_init__(self) -> None:
        total = 0
        for line in self.lines:
            if line.amount.currency != GBP:
                raise ValidationError(
                    f"posting to {line.account} is in {line.amount.currency}",
                    field="postings",
                    fix="a managed account keeps GBP only",
                )
            total += line.amount.pence
        if total != 0:
            raise ValidationError(
                f"postings do not balance: they sum to {total} pence",
                field="postings",
                fix="every debit needs an equal credit",
            )

    @classmethod
    def transfer(cls, debit: LedgerAccount, credit: LedgerAccount, amount: Money) -> Postings:
        """The two-line entry moving ``amount`` from ``credit`` to ``debit``."""
        return cls((Posting.debit(debit, amount), Posting.credit(credit, amount)))

    @classmethod
    def of(cls, lines: Iterable[Posting]) -> Postings:
        """A balanced set from ``lines``, dropping zero lines (they say nothing)."""
        return cls(tuple(line for line in lines if not line.amount.is_zero()))

    def reversed(self) -> Postings:
        """The same lines with debit and credit swapped: what a correction records."""
        return Postings(tuple(Posting(p.account, -p.amount) for p in self.lines))

    def effect_on(self, account: LedgerAccount) -> int:
        """Net pence these postings move on ``account`` (debit positive)."""
        return sum(p.amount.pence for p in self.lines if p.account is account)

    def __iter__(self) -> Iterator[Posting]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)


NO_POSTINGS = Postings()
