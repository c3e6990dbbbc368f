"""Bank reconciliation rules: what a booked bank line is, and which expected payments are missing.

Pure functions of a :class:`~dpledger.domain.account.ManagedAccount`'s state (and its
:class:`~dpledger.domain.bank.BankAccount`'s): no I/O, nothing recorded here. :func:`match_line`
decides what one booked bank line is and says why, in words an auditor can read; the bank import
then runs the command that match stands for, the one a hand entry would run.
:func:`payment_schedule` works out the council payments and contributions an account should
receive, and :func:`missing_payments` those that never arrived.

The rules, in the order they are tried (see docs/bankfeeds.md):

1. a bank **reversal** line reverses the recorded line it undoes (same amount, other direction,
   booked within the recent window of the bank account's latest line); one whose original is not
   found confirms money recorded by hand (rule 2) or is held (unexpected income or outgoing),
   never read as a payment due or owed;
2. the line **confirms** money already recorded by hand that no bank line has confirmed yet (same
   amount and direction, dates at most ``policy.missing_payment_margin_days`` apart);
3. a credit is a **council payment** due (the scheduled amount, within the margin of a due date
   not yet paid), else a **contribution** (whole weeks of the weekly contribution, or a reference
   earlier contributions used), else **unexpected income**;
4. a debit pays an approved **invoice**, **net wages**, **HMRC** or the **pension** when that much
   is owed (payee or reference in the bank's text decides between candidates), else it is an
   **unexpected outgoing**.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from dpledger.domain.chart import LedgerAccount
from dpledger.domain.funds import movements_near
from dpledger.domain.money import Money
from dpledger.domain.policy import PaymentBasis, PaymentFrequency
from dpledger.domain.records import (
    BankLineRecord,
    BankMovement,
    BudgetAgreement,
    CouncilPayment,
    InvoiceStatus,
)
from dpledger.domain.rules import add_months
from dpledger.domain.window import RECENT_DAYS

if TYPE_CHECKING:  # annotations only
    from dpledger.domain.account import ManagedAccount
    from dpledger.domain.bank import BankAccount

REVERSAL_WINDOW_DAYS = RECENT_DAYS
"""How far back, from the latest booked line, a bank reversal looks for the line it reverses:
banks return payments within days, so a later reversal is left to a person (held in suspense)."""

MAX_CONTRIBUTION_WEEKS = 13
"""A credit of up to a quarter's (13 weeks') contributions is read as a contribution."""

_NOT_TEXT = re.compile(r"[^0-9a-z]+")


class MatchKind(Enum):
    """What a booked bank line turned out to be."""

    REVERSAL = "reversal"
    CONFIRMS = "confirms"
    COUNCIL_PAYMENT = "council_payment"
    CONTRIBUTION = "contribution"
    INVOICE_PAYMENT = "invoice_payment"
    NET_WAGES = "net_wages"
    HMRC = "hmrc"
    PENSION = "pension"
    UNEXPECTED_INCOME = "unexpected_income"
    UNEXPECTED_OUTGOING = "unexpected_outgoing"


@dataclass(frozen=True, slots=True)
class BankLine:
    """One booked bank line as the domain sees it (the adapters' ``BankTransaction``, reduced).

    ``amount`` is unsigned and above zero; ``credit`` says money came in. ``key`` is the line's
    de-duplication key; ``location`` where it is in its file (for messages).
    """

    key: str
    booking_date: date
    amount: Money
    credit: bool
    description: str = ""
    counterparty: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    is_reversal: bool = False
    location: str = ""

    @property
    def signed(self) -> Money:
        """The amount with its sign: negative for money out."""
        return self.amount if self.credit else -self.amount

    @property
    def text(self) -> str:
        """Everything the bank says about the line, lower case, words separated by one space."""
        parts = (self.description, self.counterparty, self.bank_reference, self.end_to_end_id)
        return _words(" ".join(p for p in parts if p))

    @property
    def label(self) -> str:
        """A short description for suspense items: the bank's text, else its direction."""
        text = " ".join(p for p in (self.description, self.counterparty) if p).strip()
        return text or ("bank credit" if self.credit else "bank debit")

    def mentions(self, needle: str | None) -> bool:
        """Whether ``needle`` appears in the bank's text as whole words (case and punctuation
        ignored: ``INV-7`` matches ``inv 7`` but not ``INV-70``)."""
        if not needle:
            return False
        words = _words(needle)
        return bool(words) and f" {words} " in f" {self.text} "


@dataclass(frozen=True, slots=True)
class Match:
    """What a bank line is, and why. ``version`` is the event it confirms or reverses;
    ``line_key`` the recorded line a reversal undoes."""

    kind: MatchKind
    reason: str
    version: int | None = None
    matched_type: str | None = None
    agency_id: str | None = None
    invoice_number: str | None = None
    pa_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    line_key: str | None = None


@dataclass(frozen=True, slots=True)
class ExpectedPayment:
    """A payment the account should receive: ``kind`` is ``"council"`` or ``"contribution"``.

    It pays for ``due_date`` to ``period_end``; ``basis`` says how the amount was worked out.
    """

    kind: str
    due_date: date
    period_end: date
    amount: Money
    basis: str


@dataclass(frozen=True, slots=True)
class MissingPayment:
    """An expected payment that had not arrived by its due date plus the policy margin."""

    kind: str
    due_date: date
    amount: Money
    reason: str


def _words(text: str) -> str:
    return " ".join(_NOT_TEXT.sub(" ", text.casefold()).split())


# ---------------------------------------------------------------------- matching
def match_line(
    account: ManagedAccount,
    bank: BankAccount | None,
    line: BankLine,
    awaiting: Mapping[int, BankMovement] | None = None,
) -> Match:
    """Decide what the booked ``line`` is on ``account``, whose money is in ``bank`` (see the
    module's rules), with a reason. ``awaiting`` is the money recorded by hand that no bank line
    has confirmed yet, by version (from the key index: see
    :func:`~dpledger.domain.funds.awaiting_movements`).

    Deterministic: ties are broken by the bank's text, then by date distance, then by the
    oldest candidate, never by the order lines were imported in.
    """
    note = ""
    if line.is_reversal:
        reversal = None if bank is None else _reversal(account, bank, line)
        if reversal is not None:
            return reversal
        note = (
            "a bank reversal whose original line is not in the ledger (never imported, or "
            f"booked more than {REVERSAL_WINDOW_DAYS} days before the latest line: those are "
            "not searched); "
        )
    confirmed = _confirms_recorded(account, line, awaiting or {})
    if confirmed is not None:
        return confirmed
    if line.is_reversal:
        # Money coming back is never a payment due or owed: a person decides what it undoes.
        return unexpected(line, note)
    if line.credit:
        found = _council_payment(account, line) or _contribution(account, line)
    else:
        found = _liability_payment(account, line)
    return found if found is not None else unexpected(line, note)


def unexpected(line: BankLine, note: str = "") -> Match:
    """The decision for a line that matches nothing: suspense, with ``note`` prefixed."""
    if line.credit:
        return Match(
            MatchKind.UNEXPECTED_INCOME,
            f"{note}no expected payment of {line.amount} around {line.booking_date}: held in "
            "suspense as unexpected income",
        )
    return Match(
        MatchKind.UNEXPECTED_OUTGOING,
        f"{note}nothing owed or recorded matches {line.amount} paid out around "
        f"{line.booking_date}: held as an unexpected outgoing",
    )


def _margin(account: ManagedAccount) -> int:
    return account.policy.missing_payment_margin_days


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def _reversal(account: ManagedAccount, bank: BankAccount, line: BankLine) -> Match | None:
    candidates = [
        record
        for record in bank.recent_lines()
        if record.account_id == account.account_id
        and record.reversed_by is None
        and record.amount == -line.signed
        and record.booking_date <= line.booking_date
        and account.corrected_by(record.target_version) is None
    ]
    if not candidates:
        return None

    def rank(record: BankLineRecord) -> tuple[bool, int, str]:
        return (
            not line.mentions(record.bank_reference),
            (line.booking_date - record.booking_date).days,
            record.key,
        )

    chosen = min(candidates, key=rank)
    return Match(
        MatchKind.REVERSAL,
        f"the bank reversed line {chosen.key} ({chosen.event_type} of {chosen.booking_date}, "
        f"{chosen.amount}): same amount, opposite direction",
        version=chosen.target_version,
        matched_type=chosen.event_type,
        line_key=chosen.key,
    )


def _confirms_recorded(
    account: ManagedAccount, line: BankLine, awaiting: Mapping[int, BankMovement]
) -> Match | None:
    margin = _margin(account)
    candidates = movements_near(awaiting, line.signed, line.booking_date, margin)
    if not candidates:
        return None

    def rank(movement: BankMovement) -> tuple[bool, int, int]:
        return (
            not line.mentions(movement.bank_reference),
            _days(movement.effective_date, line.booking_date),
            movement.version,
        )

    chosen = min(candidates, key=rank)
    apart = _days(chosen.effective_date, line.booking_date)
    why = (
        f"confirms {chosen.event_type} (event {chosen.version}) recorded on "
        f"{chosen.effective_date}: same amount {abs(chosen.amount)} and direction, {apart} day(s) "
        f"apart (within {margin})"
    )
    if line.mentions(chosen.bank_reference):
        why += f", reference {chosen.bank_reference!r} matches"
    if len(candidates) > 1:
        why += f"; {len(candidates)} recorded entries fitted, this one was the closest"
    return Match(MatchKind.CONFIRMS, why, version=chosen.version, matched_type=chosen.event_type)


def _council_payment(account: ManagedAccount, line: BankLine) -> Match | None:
    margin = _margin(account)
    since = line.booking_date - timedelta(days=margin + 62)
    dues = [
        due
        for due in payment_schedule(account, line.booking_date + timedelta(days=margin), since)
        if due.kind == "council"
    ]
    paid = council_allocation(account, dues)
    candidates = [
        due
        for due in dues
        if due.due_date not in paid
        and due.amount == line.amount
        and _days(due.due_date, line.booking_date) <= margin
    ]
    if not candidates:
        return None
    due = min(candidates, key=lambda d: (_days(d.due_date, line.booking_date), d.due_date))
    return Match(
        MatchKind.COUNCIL_PAYMENT,
        f"council payment due {due.due_date} ({due.basis}); arrived "
        f"{_days(due.due_date, line.booking_date)} day(s) from its due date (within {margin})",
        period_start=due.due_date,
        period_end=due.period_end,
    )


def _contribution(account: ManagedAccount, line: BankLine) -> Match | None:
    budget = account.budget_on(line.booking_date)
    if budget is not None and account.policy.payment_basis is PaymentBasis.NET:
        weekly = budget.weekly_contribution
        if weekly.is_positive() and line.amount.pence % weekly.pence == 0:
            weeks = line.amount.pence // weekly.pence
            if weeks <= MAX_CONTRIBUTION_WEEKS:
                return Match(
                    MatchKind.CONTRIBUTION,
                    f"{line.amount} is {weeks} week(s) of the {weekly} weekly contribution "
                    f"(budget of {budget.effective_date})",
                )
    references = sorted(
        {c.bank_reference for c in account.funds.contribution_records() if c.bank_reference}
    )
    for reference in references:
        if line.mentions(reference):
            return Match(
                MatchKind.CONTRIBUTION,
                f"reference {reference!r} was used by earlier contributions",
            )
    return None


_HMRC_WORDS = ("hmrc", "paye")
_PENSION_WORDS = ("pension", "nest")


def _liability_payment(account: ManagedAccount, line: BankLine) -> Match | None:
    amount = line.amount
    # (how many things the bank's text names, rule priority, tie-break, decision)
    found: list[tuple[int, int, str, Match]] = []
    for invoice in account.invoicing.invoices.values():
        if invoice.status is InvoiceStatus.APPROVED and invoice.outstanding == amount:
            agency = account.invoicing.agencies.get(invoice.agency_id)
            hints = [
                what
                for what, needle in (
                    ("invoice number", invoice.invoice_number),
                    ("agency name", agency.name if agency else None),
                    ("agency id", invoice.agency_id),
                )
                if line.mentions(needle)
            ]
            why = (
                f"pays invoice {invoice.invoice_number} from {invoice.agency_id}: "
                f"{amount} outstanding"
            )
            if hints:
                why += f"; the bank's text names the {' and '.join(hints)}"
            found.append(
                (
                    len(hints),
                    0,
                    f"{invoice.received_version:012d}",
                    Match(
                        MatchKind.INVOICE_PAYMENT,
                        why,
                        agency_id=invoice.agency_id,
                        invoice_number=invoice.invoice_number,
                    ),
                )
            )
    for pa in account.payroll.pas.values():
        runs = [
            r for r in account.payroll.wage_runs.values() if r.pa_id == pa.pa_id and r.net == amount
        ]
        if pa.net_owed >= amount and (pa.net_owed == amount or runs):
            hinted = line.mentions(pa.pa_id)
            why = f"net wages owed to {pa.pa_id} ({pa.net_owed} owed"
            why += f", a wage run's net pay is {amount})" if runs else ")"
            if hinted:
                why += f"; the bank's text names {pa.pa_id}"
            decision = Match(MatchKind.NET_WAGES, why, pa_id=pa.pa_id)
            found.append((int(hinted), 1, pa.pa_id, decision))
    for kind, liability, words, payee in (
        (MatchKind.HMRC, LedgerAccount.HMRC_PAYABLE, _HMRC_WORDS, "HMRC"),
        (MatchKind.PENSION, LedgerAccount.PENSION_PAYABLE, _PENSION_WORDS, "the pension provider"),
    ):
        owed = account.owed(liability)
        hinted = any(line.mentions(word) for word in words)
        if owed >= amount and (owed == amount or hinted):
            why = f"{owed} is owed to {payee}"
            why += f"; the bank's text says {payee}" if hinted else f", exactly {amount}"
            found.append((int(hinted), 2 if kind is MatchKind.HMRC else 3, "", Match(kind, why)))
    if not found:
        return None
    found.sort(key=lambda c: (-c[0], c[1], c[2]))
    best = found[0]
    decision = best[3]
    if len(found) > 1:
        if best[0] > found[1][0]:
            rule = "the bank's text decided"
        elif best[1] < found[1][1]:
            rule = "chose by rule order (invoice, wages, HMRC, pension)"
        else:
            rule = "chose the oldest"
        decision = Match(
            decision.kind,
            f"{decision.reason}; {len(found)} liabilities owed {amount}, {rule}",
            agency_id=decision.agency_id,
            invoice_number=decision.invoice_number,
            pa_id=decision.pa_id,
        )
    return decision


# ---------------------------------------------------------------------- schedule
def payment_schedule(
    account: ManagedAccount, until: date, since: date | None = None
) -> list[ExpectedPayment]:
    """Council payments and (net basis) contributions due from the first budget (or ``since``)
    to ``until``.

    Due dates follow ``policy.frequency``: every 28 days from the first budget's date
    (four-weekly, 4 weeks' worth each) or on the same day each month (monthly, pro-rated by the
    days in the month, rounded half up to the penny). The amount comes from the budget in force
    on the due date: the council share (net basis) or the gross budget (gross basis). Nothing is
    due while the account is suspended, after ``policy.end_date`` or after closing.
    """
    budgets = account.budgets
    if not budgets:
        return []
    last = until
    for limit in (account.policy.end_date, account.closed_on):
        if limit is not None and limit < last:
            last = limit
    start = budgets[0].effective_date
    monthly = account.policy.frequency is PaymentFrequency.MONTHLY
    net = account.policy.payment_basis is PaymentBasis.NET
    due: list[ExpectedPayment] = []
    index = 0
    if since is not None and since > start:
        # Jump close to ``since`` instead of walking every cycle from the first budget.
        if monthly:
            index = max(0, (since.year - start.year) * 12 + since.month - start.month - 1)
        else:
            index = max(0, (since - start).days // 28 - 1)
    day = add_months(start, index) if monthly else start + timedelta(days=28 * index)
    terms = account.terms
    while day <= last:
        following = add_months(start, index + 1) if monthly else day + timedelta(days=28)
        budget = terms.budget_on(day)
        if budget is not None and not terms.suspended_on(day):
            due.extend(_due_on(budget, day, following, monthly=monthly, net=net))
        index += 1
        day = following
    return due


def _due_on(
    budget: BudgetAgreement, day: date, following: date, *, monthly: bool, net: bool
) -> Iterable[ExpectedPayment]:
    days = (following - day).days
    end = following - timedelta(days=1)
    share = budget.weekly_council_share if net else budget.weekly_gross
    weekly = {"council": share}
    if net:
        weekly["contribution"] = budget.weekly_contribution
    for kind, per_week in weekly.items():
        if not per_week.is_positive():
            continue
        if monthly:
            amount = Money((per_week.pence * days * 2 + 7) // 14)  # x days / 7, half up
            basis = f"{per_week}/week x {days} days / 7, monthly"
        else:
            amount = per_week * 4
            basis = f"{per_week}/week x 4 weeks"
        yield ExpectedPayment(kind, day, end, amount, basis)


def council_allocation(
    account: ManagedAccount, dues: Iterable[ExpectedPayment]
) -> dict[date, CouncilPayment]:
    """Which recorded council payment settles which due date (each payment settles one).

    A payment for the period starting on the due date settles it first; else the nearest payment
    within the policy margin, oldest first on a tie.
    """
    margin = _margin(account)
    payments = sorted(
        account.funds.council_payment_records(), key=lambda p: (p.effective_date, p.version)
    )
    used: set[int] = set()
    settled: dict[date, CouncilPayment] = {}
    for due in sorted((d for d in dues if d.kind == "council"), key=lambda d: d.due_date):
        fits = [
            p
            for p in payments
            if p.version not in used
            and (
                p.period_start == due.due_date
                or (p.period_start is None and _days(p.effective_date, due.due_date) <= margin)
            )
        ]
        if fits:
            chosen = min(
                fits,
                key=lambda p: (
                    p.period_start != due.due_date,
                    _days(p.effective_date, due.due_date),
                    p.version,
                ),
            )
            used.add(chosen.version)
            settled[due.due_date] = chosen
    return settled


def missing_payments(account: ManagedAccount, as_of: date) -> list[MissingPayment]:
    """Expected payments not received by their due date plus ``policy.missing_payment_margin_days``,
    among those due within the account's recent window (see :mod:`~dpledger.domain.window`).

    A council payment is missing when no council payment settles its due date (see
    :func:`council_allocation`). Contributions are counted cumulatively: one is missing when the
    contributions received by its due date plus the margin fall short of all those due by then
    (the missing amount is the shortfall, at most that period's contribution).
    """
    margin = _margin(account)
    dues = [d for d in payment_schedule(account, as_of) if d.due_date + timedelta(margin) < as_of]
    kept_from = account.funds.kept_from
    missing: list[MissingPayment] = []
    settled = council_allocation(account, dues)
    for due in dues:
        if kept_from is not None and due.due_date < kept_from:
            continue
        if due.kind == "council" and due.due_date not in settled:
            missing.append(
                MissingPayment(
                    "council",
                    due.due_date,
                    due.amount,
                    f"no council payment within {margin} days of {due.due_date} ({due.basis})",
                )
            )
    due_total = 0
    for due in dues:
        if due.kind != "contribution":
            continue
        due_total += due.amount.pence
        if kept_from is not None and due.due_date < kept_from:
            continue
        cutoff = due.due_date + timedelta(days=margin)
        paid = account.funds.received_by(cutoff)
        if paid < due_total:
            short = Money(min(due.amount.pence, due_total - paid))
            missing.append(
                MissingPayment(
                    "contribution",
                    due.due_date,
                    short,
                    f"contributions received by {cutoff} are {Money(paid)}, "
                    f"{Money(due_total - paid)} short of the {Money(due_total)} due by "
                    f"{due.due_date} ({due.basis})",
                )
            )
    missing.sort(key=lambda m: (m.due_date, m.kind))
    return missing
