"""Bank reconciliation rules: what a booked bank line is, as a person reconciling it would read it.

Pure functions of a :class:`~dpledger.domain.account.ManagedAccount`'s state (and its
:class:`~dpledger.domain.bank.BankAccount`'s): no I/O, nothing recorded here. :func:`match_line`
decides what one booked bank line is and says why, in words an auditor can read; the bank import
then runs the command that match stands for, the one a hand entry would run, always for the
bank's amount (never the amount expected). The schedule (what should arrive, what is missing,
and the alerts when a council payment differs or an expected payment is missing) is in
:mod:`~dpledger.domain.schedule`, re-exported here.

The rules, in the order they are tried (see docs/bankfeeds.md). The margin is
``policy.missing_payment_margin_days`` and the tolerance ``policy.match_tolerance_pence`` (0: none),
each of the policy in force on the line's booking date.

1. a bank **reversal** line reverses the recorded line it undoes (same amount, other direction,
   booked within the recent window of the bank account's latest line); one whose original is not
   found confirms money recorded by hand (rule 2) or is held (unexpected income or outgoing),
   never read as a payment due or owed;
2. the line **confirms** money already recorded by hand that no bank line has confirmed yet (same
   amount and direction, dates within the margin);
3. a credit is, first match wins: a **council payment** of the scheduled amount for a due date
   within the margin that no payment settles; a **council payment** of any amount when the
   bank's text names the council (``terms.council``), for the nearest due date within the margin
   not paid in full; a **contribution** (whole weeks of the weekly contribution, or a reference
   earlier contributions used); the **rest of a council payment** (exactly what a due date
   within the margin still lacks after a part arrived: a council payment in several lines); a
   council payment, then a contribution, **within the tolerance** of what is due; else
   **unexpected income**. A council payment of another amount than the schedule's raises the
   ``council_payment_differs`` alert; one of another amount that nothing names is held, and its
   due date raises ``expected_payment_missing`` once the margin has passed;
4. a debit pays what is owed on an approved **invoice**, to a PA (**net wages**), **HMRC** or the
   **pension**: exactly what is owed (or a wage run's net pay), within the tolerance below it, or
   **part** of it when the bank's text names the payee (invoice number, agency name or id, PA
   id, ``HMRC``/``PAYE``, ``pension``/``NEST``) or when it is the only liability owed at least as
   much; the rest is then owed, and the later line paying it matches exactly, so one payment in
   several lines is read line by line. A **remittance** pays several approved invoices of one
   agency in full: those the text names by number, else the agency's oldest, when their
   outstanding adds up to the amount exactly. Among candidates, the one the text names most
   wins, then the closest fit (exact, tolerance, named part, part), then rule order (invoice,
   remittance, wages, HMRC, pension), then the oldest. A debit above what anything is owed is
   never read as a payment (a payment never exceeds what is owed); it is an **unexpected
   outgoing**, like any debit nothing explains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from dpledger.domain.chart import LedgerAccount
from dpledger.domain.funds import movements_near
from dpledger.domain.money import Money
from dpledger.domain.policy import PaymentBasis
from dpledger.domain.records import BankLineRecord, BankMovement, Invoice, InvoiceStatus
from dpledger.domain.schedule import (
    ExpectedPayment,
    MissingPayment,
    council_allocation,
    council_received,
    missing_payments,
    payment_schedule,
    schedule_alerts,
)
from dpledger.domain.window import RECENT_DAYS

if TYPE_CHECKING:  # annotations only
    from dpledger.domain.account import ManagedAccount
    from dpledger.domain.bank import BankAccount

__all__ = [
    "MAX_CONTRIBUTION_WEEKS",
    "REVERSAL_WINDOW_DAYS",
    "BankLine",
    "ExpectedPayment",
    "Match",
    "MatchKind",
    "MissingPayment",
    "council_allocation",
    "council_received",
    "match_line",
    "missing_payments",
    "payment_schedule",
    "schedule_alerts",
    "unexpected",
]

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
    TRANSFER = "transfer"
    COUNCIL_PAYMENT = "council_payment"
    CONTRIBUTION = "contribution"
    INVOICE_PAYMENT = "invoice_payment"
    REMITTANCE = "remittance"
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
    earlier_keys: tuple[str, ...] = ()
    """Keys earlier versions of dpledger gave the same line (looked up so that a line they
    recorded is not recorded again)."""

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
    ``line_key`` the recorded line a reversal undoes; ``payments`` the (invoice number, amount)
    pairs a remittance pays (their amounts sum to the line's)."""

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
    payments: tuple[tuple[str, Money], ...] = ()


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

    Deterministic: ties are broken by the bank's text, then by how closely the amount fits, then
    by date distance, then by the oldest candidate, never by the order lines were imported in.
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
    found = _money_in(account, line) if line.credit else _liability_payment(account, line)
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


def _margin(account: ManagedAccount, day: date) -> int:
    """The missing-payment margin of the policy in force on ``day`` (a line's booking date)."""
    return account.terms.policy_on(day).missing_payment_margin_days


def _tolerance(account: ManagedAccount, day: date) -> Money:
    """The match tolerance of the policy in force on ``day`` (a line's booking date)."""
    return account.terms.policy_on(day).match_tolerance


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def _within(amount: Money, expected: Money, tolerance: Money) -> bool:
    """Whether ``amount`` differs from ``expected`` by no more than a non-zero ``tolerance``."""
    return tolerance.is_positive() and abs(amount.pence - expected.pence) <= tolerance.pence


def _difference(amount: Money, expected: Money) -> str:
    """``£1.66 less than`` / ``£0.02 more than`` / ``exactly``: how ``amount`` differs."""
    gap = amount.pence - expected.pence
    if gap == 0:
        return "exactly"
    return f"{Money(abs(gap))} {'less' if gap < 0 else 'more'} than"


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
    margin = _margin(account, line.booking_date)
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


# ---------------------------------------------------------------------- money in
def _money_in(account: ManagedAccount, line: BankLine) -> Match | None:
    """A credit: exact fits first (the council's scheduled amount, a council payment the bank's
    text names, whole weeks of the contribution), then the rest of a council payment paid in
    parts, then fits within the policy's tolerance."""
    dues = _council_dues(account, line)
    return (
        _council_exact(account, line, dues)
        or _council_named(account, line, dues)
        or _contribution(account, line)
        or _council_rest(account, line, dues)
        or _council_within(account, line, dues)
        or _contribution_within(account, line)
    )


@dataclass(frozen=True, slots=True)
class _Due:
    """A council due date within the margin of a line, and what was received for it so far."""

    due: ExpectedPayment
    received: Money
    paid: bool
    """Whether a recorded payment settles the due date (see :func:`council_allocation`)."""

    @property
    def remaining(self) -> Money:
        """What is still due (zero or below: paid in full, or more)."""
        return self.due.amount - self.received


def _council_dues(account: ManagedAccount, line: BankLine) -> list[_Due]:
    """The council due dates within the margin of ``line``, nearest (then oldest) first."""
    margin = _margin(account, line.booking_date)
    since = line.booking_date - timedelta(days=margin + 62)
    dues = [
        due
        for due in payment_schedule(account, line.booking_date + timedelta(days=margin), since)
        if due.kind == "council"
    ]
    received = council_received(account, dues)
    near = [
        _Due(due, received.get(due.due_date, Money(0)), due.due_date in received)
        for due in dues
        if _days(due.due_date, line.booking_date) <= margin
    ]
    return sorted(near, key=lambda d: (_days(d.due.due_date, line.booking_date), d.due.due_date))


def _council_match(account: ManagedAccount, line: BankLine, due: _Due, why: str) -> Match:
    margin = _margin(account, line.booking_date)
    arrived = _days(due.due.due_date, line.booking_date)
    return Match(
        MatchKind.COUNCIL_PAYMENT,
        f"{why}; arrived {arrived} day(s) from its due date (within {margin})",
        period_start=due.due.due_date,
        period_end=due.due.period_end,
    )


def _council_exact(account: ManagedAccount, line: BankLine, dues: list[_Due]) -> Match | None:
    for due in dues:
        if not due.paid and due.due.amount == line.amount:
            why = f"council payment due {due.due.due_date} ({due.due.basis})"
            return _council_match(account, line, due, why)
    return None


def _council_named(account: ManagedAccount, line: BankLine, dues: list[_Due]) -> Match | None:
    council = account.terms.council
    if not line.mentions(council):
        return None
    for due in dues:
        if due.remaining.is_positive():
            before = f", after {due.received} received before" if due.paid else ""
            why = (
                f"the bank's text names the council ({council}): council payment for the "
                f"period from {due.due.due_date} ({due.due.basis}), {line.amount} is "
                f"{_difference(line.amount, due.remaining)} the {due.remaining} due{before}"
            )
            return _council_match(account, line, due, why)
    return None


def _council_rest(account: ManagedAccount, line: BankLine, dues: list[_Due]) -> Match | None:
    for due in dues:
        if due.paid and due.remaining == line.amount:
            why = (
                f"the rest of the council payment due {due.due.due_date} ({due.due.basis}): "
                f"{due.received} was received for it before, {line.amount} makes the "
                f"{due.due.amount} due"
            )
            return _council_match(account, line, due, why)
    return None


def _council_within(account: ManagedAccount, line: BankLine, dues: list[_Due]) -> Match | None:
    tolerance = _tolerance(account, line.booking_date)
    for due in dues:
        if due.remaining.is_positive() and _within(line.amount, due.remaining, tolerance):
            why = (
                f"council payment due {due.due.due_date} ({due.due.basis}): {line.amount} is "
                f"{_difference(line.amount, due.remaining)} the {due.remaining} due, within "
                f"the tolerance of {tolerance}"
            )
            return _council_match(account, line, due, why)
    return None


def _weekly_contribution(account: ManagedAccount, line: BankLine) -> tuple[Money, str] | None:
    budget = account.budget_on(line.booking_date)
    basis = account.terms.policy_on(line.booking_date).payment_basis
    if budget is None or basis is not PaymentBasis.NET:
        return None
    weekly = budget.weekly_contribution
    return (weekly, f"budget of {budget.effective_date}") if weekly.is_positive() else None


def _contribution(account: ManagedAccount, line: BankLine) -> Match | None:
    found = _weekly_contribution(account, line)
    if found is not None:
        weekly, budget = found
        if line.amount.pence % weekly.pence == 0:
            weeks = line.amount.pence // weekly.pence
            if weeks <= MAX_CONTRIBUTION_WEEKS:
                return Match(
                    MatchKind.CONTRIBUTION,
                    f"{line.amount} is {weeks} week(s) of the {weekly} weekly contribution "
                    f"({budget})",
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


def _contribution_within(account: ManagedAccount, line: BankLine) -> Match | None:
    found = _weekly_contribution(account, line)
    tolerance = _tolerance(account, line.booking_date)
    if found is None or not tolerance.is_positive():
        return None
    weekly, budget = found
    fits = [
        weeks
        for weeks in range(1, MAX_CONTRIBUTION_WEEKS + 1)
        if _within(line.amount, weekly * weeks, tolerance)
    ]
    if not fits:
        return None
    weeks = min(fits, key=lambda w: (abs(line.amount.pence - weekly.pence * w), w))
    expected = weekly * weeks
    return Match(
        MatchKind.CONTRIBUTION,
        f"{line.amount} is {_difference(line.amount, expected)} {weeks} week(s) of the {weekly} "
        f"weekly contribution ({expected}, {budget}), within the tolerance of {tolerance}",
    )


# ---------------------------------------------------------------------- money out
_HMRC_WORDS = ("hmrc", "paye")
_PENSION_WORDS = ("pension", "nest")

_INVOICE, _REMITTANCE, _WAGES, _HMRC, _PENSION = range(5)
"""The rule order between candidates that fit alike."""

_EXACT, _WITHIN, _PART_NAMED, _PART_ONLY = range(4)
"""How a debit fits a liability, best first: exactly what is owed (or a wage run's net pay),
within the policy's tolerance below it, part of it where the bank's text names the payee, part
of the only liability that could take it."""

_FIT_WORDS = {
    _EXACT: "an exact amount",
    _WITHIN: "an amount within the tolerance",
    _PART_NAMED: "a part payment the bank's text names",
    _PART_ONLY: "a part payment",
}


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A liability a debit could pay: how many things the bank's text names, how the amount
    fits, the rule's order (invoice, remittance, wages, HMRC, pension), a tie-break, and the
    decision."""

    hints: int
    fit: int
    rule: int
    tie: str
    match: Match

    @property
    def rank(self) -> tuple[int, int, int, str]:
        """Best first: most named, closest fit, rule order, tie-break."""
        return (-self.hints, self.fit, self.rule, self.tie)


def _fit(amount: Money, owed: Money, tolerance: Money, named: bool) -> int | None:
    """How ``amount`` fits ``owed``: exactly, within the tolerance below it, as a part (named or
    not), or ``None`` when it is more than is owed (a payment is never beyond what is owed)."""
    if amount == owed:
        return _EXACT
    if amount > owed or not amount.is_positive():
        return None
    if _within(amount, owed, tolerance):
        return _WITHIN
    return _PART_NAMED if named else _PART_ONLY


def _fit_words(amount: Money, owed: Money, fit: int, tolerance: Money) -> str:
    """What the reason adds when the amount is not exactly what is owed."""
    left = f"{owed - amount} is left owed"
    if fit == _WITHIN:
        return (
            f"; {amount} is {_difference(amount, owed)} the {owed} owed, within the tolerance "
            f"of {tolerance}, so {left}"
        )
    if fit == _PART_NAMED:
        return f"; a part payment of {amount}, {left}"
    if fit == _PART_ONLY:
        return (
            f"; a part payment of {amount}: the bank's text says wages and nothing else owed "
            f"could take it, {left}"
        )
    return ""


_WAGE_WORDS = ("wages", "wage", "salary", "pay")
"""Words by which a bank line says it pays wages (whole words, case ignored)."""


def _liability_payment(account: ManagedAccount, line: BankLine) -> Match | None:
    amount = line.amount
    tolerance = _tolerance(account, line.booking_date)
    found = [
        *_invoice_candidates(account, line, tolerance),
        *_wage_candidates(account, line, tolerance),
        *_payroll_tax_candidates(account, line, tolerance),
    ]
    could_take = len(found)
    # A part payment the bank's text does not name is read only as a PA's wages, when the text
    # says wages (a transfer to a PA says so, and dpledger holds no PA's name) and nothing else
    # owed could take it; any other is left to a person (held): a shop's card payment is not
    # part of anyone's wages, nor a card fee part of an invoice.
    wages = any(line.mentions(word) for word in _WAGE_WORDS)
    found = [
        c for c in found if c.fit != _PART_ONLY or (could_take == 1 and c.rule == _WAGES and wages)
    ]
    found += _remittance_candidates(account, line)
    if not found:
        return None
    found.sort(key=lambda c: c.rank)
    best = found[0].match
    if len(found) == 1:
        return best
    first, second = found[0], found[1]
    if first.hints > second.hints:
        rule = "the bank's text decided"
    elif first.fit < second.fit:
        rule = f"{_FIT_WORDS[first.fit]} came first"
    elif first.rule < second.rule:
        rule = "chose by rule order (invoice, remittance, wages, HMRC, pension)"
    else:
        rule = "chose the oldest"
    owed = "owed" if all(c.fit == _EXACT for c in found) else "could take"
    return replace(best, reason=f"{best.reason}; {len(found)} liabilities {owed} {amount}, {rule}")


def _invoice_candidates(
    account: ManagedAccount, line: BankLine, tolerance: Money
) -> list[_Candidate]:
    found = []
    for invoice in account.invoicing.invoices.values():
        if invoice.status is not InvoiceStatus.APPROVED:
            continue
        owed = invoice.outstanding
        hints = _invoice_hints(account, line, invoice.invoice_number, invoice.agency_id)
        fit = _fit(line.amount, owed, tolerance, bool(hints))
        if fit is None:
            continue
        why = f"pays invoice {invoice.invoice_number} from {invoice.agency_id}: {owed} outstanding"
        if hints:
            why += f"; the bank's text names the {' and '.join(hints)}"
        why += _fit_words(line.amount, owed, fit, tolerance)
        match = Match(
            MatchKind.INVOICE_PAYMENT,
            why,
            agency_id=invoice.agency_id,
            invoice_number=invoice.invoice_number,
        )
        tie = f"{invoice.received_version:012d}"
        found.append(_Candidate(len(hints), fit, _INVOICE, tie, match))
    return found


def _invoice_hints(
    account: ManagedAccount, line: BankLine, number: str | None, agency_id: str
) -> list[str]:
    agency = account.invoicing.agencies.get(agency_id)
    return [
        what
        for what, needle in (
            ("invoice number", number),
            ("agency name", agency.name if agency else None),
            ("agency id", agency_id),
        )
        if line.mentions(needle)
    ]


def _wage_candidates(account: ManagedAccount, line: BankLine, tolerance: Money) -> list[_Candidate]:
    amount = line.amount
    found = []
    for pa in account.payroll.pas.values():
        hinted = line.mentions(pa.pa_id)
        fit = _fit(amount, pa.net_owed, tolerance, hinted)
        if fit is None:
            continue
        why = f"net wages owed to {pa.pa_id} ({pa.net_owed} owed"
        if any(r.pa_id == pa.pa_id and r.net == amount for r in account.payroll.wage_runs.values()):
            fit = _EXACT  # a wage run's net pay, while more is owed for other runs
            why += f", a wage run's net pay is {amount})"
        else:
            why += ")"
        if hinted:
            why += f"; the bank's text names {pa.pa_id}"
        why += _fit_words(amount, pa.net_owed, fit, tolerance)
        match = Match(MatchKind.NET_WAGES, why, pa_id=pa.pa_id)
        found.append(_Candidate(int(hinted), fit, _WAGES, pa.pa_id, match))
    return found


def _payroll_tax_candidates(
    account: ManagedAccount, line: BankLine, tolerance: Money
) -> list[_Candidate]:
    found = []
    for kind, liability, words, payee in (
        (MatchKind.HMRC, LedgerAccount.HMRC_PAYABLE, _HMRC_WORDS, "HMRC"),
        (MatchKind.PENSION, LedgerAccount.PENSION_PAYABLE, _PENSION_WORDS, "the pension provider"),
    ):
        owed = account.owed(liability)
        hinted = any(line.mentions(word) for word in words)
        fit = _fit(line.amount, owed, tolerance, hinted)
        if fit is None:
            continue
        why = f"{owed} is owed to {payee}"
        if hinted:
            why += f"; the bank's text says {payee}"
        elif fit == _EXACT:
            why += f", exactly {line.amount}"
        why += _fit_words(line.amount, owed, fit, tolerance)
        rule = _HMRC if kind is MatchKind.HMRC else _PENSION
        found.append(_Candidate(int(hinted), fit, rule, "", Match(kind, why)))
    return found


def _remittance_candidates(account: ManagedAccount, line: BankLine) -> list[_Candidate]:
    """One debit paying several approved invoices of one agency in full: those the bank's text
    names by number when their outstanding sums to the amount, else the agency's oldest
    outstanding invoices, oldest first, when they sum to it exactly."""
    by_agency: dict[str, list[Invoice]] = {}
    for invoice in account.invoicing.invoices.values():
        if invoice.status is InvoiceStatus.APPROVED and invoice.outstanding.is_positive():
            by_agency.setdefault(invoice.agency_id, []).append(invoice)
    found = []
    for agency_id, invoices in sorted(by_agency.items()):
        invoices.sort(key=lambda i: i.received_version)
        named = [i for i in invoices if line.mentions(i.invoice_number)]
        chosen = _sums_to(named, line.amount) if len(named) > 1 else None
        how = "the bank's text names them"
        if chosen is None:
            chosen = _oldest_summing_to(invoices, line.amount)
            how = "the agency's oldest outstanding invoices, oldest first, sum to it exactly"
        if chosen is None:
            continue
        hints = _invoice_hints(account, line, None, agency_id)
        parts = ", ".join(f"{i.invoice_number} {i.outstanding}" for i in chosen)
        why = (
            f"a remittance to {agency_id} paying {len(chosen)} invoices in full ({parts}): "
            f"{line.amount} is their outstanding total; {how}"
        )
        if hints:
            why += f"; the bank's text names the {' and '.join(hints)}"
        match = Match(
            MatchKind.REMITTANCE,
            why,
            agency_id=agency_id,
            payments=tuple((i.invoice_number, i.outstanding) for i in chosen),
        )
        named_count = sum(1 for i in chosen if i in named)
        found.append(_Candidate(named_count + len(hints), _EXACT, _REMITTANCE, agency_id, match))
    return found


def _sums_to(invoices: list[Invoice], amount: Money) -> list[Invoice] | None:
    total = sum(i.outstanding.pence for i in invoices)
    return invoices if total == amount.pence else None


def _oldest_summing_to(invoices: list[Invoice], amount: Money) -> list[Invoice] | None:
    total = 0
    for count, invoice in enumerate(invoices, start=1):
        total += invoice.outstanding.pence
        if total == amount.pence:
            return invoices[:count] if count > 1 else None
        if total > amount.pence:
            return None
    return None
