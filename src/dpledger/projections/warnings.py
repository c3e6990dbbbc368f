"""The warning rules: which conditions hold for an account now, with figures and plain English.

Pure functions of the account's state (as rebuilt from its events) at its latest effective date
(:func:`evaluate`), except reconciliation breaks, which compare what the bank's statements stated
with the ledger (:func:`break_conditions` of :mod:`dpledger.projections.reconciliation`'s breaks).
The oversight read model evaluates them as events arrive, raises a warning when a condition starts
to hold and clears it when it stops; a condition that goes on holding is not raised again.

Rules (each a ``rule`` name; item-level ones carry the item as ``subject``):

- ``overdrawn``: the bank balance is below zero (a bank feed can show this).
- ``committed``: bank balance minus unpaid liabilities is below zero.
- ``forecast``: bank minus liabilities minus the outgoings expected before the next council
  payment is below zero; says when the money is expected to run out.
- ``low_balance``: the bank holds less than ``policy.low_balance_weeks`` of the gross budget
  (once the first council payment has arrived).
- ``contribution_shortfall``: contributions due minus received exceed
  ``policy.contribution_shortfall_weeks`` of the weekly contribution (net basis only).
- ``unexpected_income``: money held in suspense (one warning per item).
- ``unexpected_outgoing``: money out that matched nothing expected, unresolved (one per item).
- ``reconciliation_break``: a statement balance differs from the ledger's (one per date).
- ``rate_above_agreed``: an invoice in force bills above the agency's agreed rate, beyond what
  credit notes took off (one per invoice; :func:`dpledger.domain.invoices.rate_alerts`).
- ``care_plan_exceeded``: the hours billed or paid for a period exceed the care plan's (one per
  kind of support and period; :func:`dpledger.domain.careplan.care_plan_alerts`).
- ``council_payment_differs``: the council payments recorded for a due date's period add up to
  another amount than the schedule's (one per due date;
  :func:`dpledger.domain.schedule.schedule_alerts`).
- ``expected_payment_missing``: a council payment or contribution due had not arrived at all by
  its due date plus the margin (one per kind and due date; same rule function).
- ``review_overdue``: the council's review is past its due date.
- ``paid_while_suspended``: a council payment arrived while payments are suspended.
- ``below_minimum_wage``, ``ni_differs``, ``pension_short``, ``pay_periods_overlap``,
  ``pay_inconsistent``: a wage run breaks the UK payroll rates of its period (one per run;
  :func:`dpledger.domain.compliance.compliance_alerts`).

The rules of :data:`TIME_RULES` hold by the date as much as by events (a payment that never came,
a review that fell due): :func:`evaluate_on` evaluates them for any date at query time, on the
account as at that date that :mod:`dpledger.projections.asat` builds from the projections.

The alert rules of the domain (:data:`dpledger.domain.registry.ALERT_RULES`) are warnings as they
stand: their figures and message are the domain's own, never computed a second time here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dpledger.domain.account import ManagedAccount
from dpledger.domain.alerts import Alert
from dpledger.domain.compliance import COMPLIANCE_RULES
from dpledger.domain.money import Money
from dpledger.domain.policy import PaymentBasis, PaymentFrequency
from dpledger.domain.records import (
    AccountStatus,
    InvoiceStatus,
    OutgoingStatus,
    ReconciliationBreak,
    SuspenseStatus,
)
from dpledger.domain.registry import ALERT_RULES
from dpledger.domain.rules import add_months
from dpledger.domain.schedule import schedule_alerts

BREAK_RULE = "reconciliation_break"
"""The one rule that compares statements with the ledger rather than reading the account."""

RULES: tuple[str, ...] = (
    "overdrawn",
    "committed",
    "forecast",
    "low_balance",
    "contribution_shortfall",
    "unexpected_income",
    "unexpected_outgoing",
    BREAK_RULE,
    "rate_above_agreed",
    "care_plan_exceeded",
    "council_payment_differs",
    "expected_payment_missing",
    "review_overdue",
    "paid_while_suspended",
    *COMPLIANCE_RULES,
)
"""Every warning rule, in the order reports list them."""

TIME_RULES: tuple[str, ...] = (
    "low_balance",
    "contribution_shortfall",
    "council_payment_differs",
    "expected_payment_missing",
    "review_overdue",
)
"""The rules that depend on the date asked about and on figures the projections keep by date
(balances, terms, payment records), so they hold for a date without waiting for an event:
:func:`evaluate_on` evaluates them at query time."""

SPENDING_WINDOW_DAYS = 56
"""How far back the forecast looks for the spending rate: two 4-weekly cycles."""


@dataclass(frozen=True)
class Condition:
    """A warning condition that holds: its rule, subject, figures and explanation."""

    rule: str
    subject: str
    figures: dict[str, Any] = field(default_factory=dict)
    """Money in pence (ints) and dates as ISO text, so they store exactly."""
    explanation: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """What makes two conditions the same warning."""
        return self.rule, self.subject


def evaluate(account: ManagedAccount) -> dict[tuple[str, str], Condition]:
    """Every condition of the account's own state that holds at its latest effective date: every
    rule but :data:`BREAK_RULE` (see :func:`break_conditions`). A closed account has none."""
    found: list[Condition] = []
    if account.status is AccountStatus.CLOSED:
        return {}
    on = account.latest_date
    bank = account.bank_balance
    unpaid = account.unpaid_liabilities
    if bank.pence < 0:
        found.append(
            Condition(
                "overdrawn",
                "",
                {"bank": bank.pence},
                f"The bank balance is {bank}: the account is overdrawn. Find out why the bank "
                "paid more than the account held, and ask the council for an urgent payment.",
            )
        )
    if (bank - unpaid).pence < 0:
        found.append(
            Condition(
                "committed",
                "",
                {"bank": bank.pence, "unpaid_liabilities": unpaid.pence},
                f"The bank holds {bank} but {unpaid} is owed (approved invoices, wages, HMRC, "
                f"pension): {unpaid - bank} more than the account holds.",
            )
        )
    found.extend(_forecast(account, on, bank, unpaid))
    found.extend(_low_balance(account, on, bank))
    found.extend(_contribution_shortfall(account, on))
    found.extend(_held_items(account))
    found.extend(alert_condition(alert) for rule in ALERT_RULES for alert in rule(account))
    found.extend(_review(account, on))
    found.extend(_paid_while_suspended(account))
    return {c.key: c for c in found}


def evaluate_on(account: ManagedAccount, on: date) -> dict[tuple[str, str], Condition]:
    """The conditions of :data:`TIME_RULES` that hold on ``on``, for ``account`` as at the end
    of ``on`` (its balances then, its latest date ``on``: see
    :func:`dpledger.projections.asat.account_as_at`). The same rule functions as
    :func:`evaluate`; a closed account has none."""
    if account.status is AccountStatus.CLOSED:
        return {}
    found = [
        *_low_balance(account, on, account.bank_balance),
        *_contribution_shortfall(account, on),
        *(alert_condition(alert) for alert in schedule_alerts(account)),
        *_review(account, on),
    ]
    return {c.key: c for c in found if c.rule in TIME_RULES}


def alert_condition(alert: Alert) -> Condition:
    """A domain alert as a warning condition: its rule, subject, figures and message as they are."""
    return Condition(alert.rule, alert.subject, dict(alert.figures), alert.message)


def break_condition(gap: ReconciliationBreak) -> Condition:
    """A reconciliation break as a warning condition (its subject is the ISO date)."""
    return Condition(
        BREAK_RULE,
        gap.effective_date.isoformat(),
        {
            "asserted": gap.asserted.pence,
            "ledger": gap.ledger.pence,
            "difference": gap.difference.pence,
        },
        f"The bank statement ({gap.source}) says {gap.asserted} on {gap.effective_date} "
        f"but the ledger says {gap.ledger}: a difference of {gap.difference}. Import the "
        "missing statement lines or record what the bank did.",
    )


def break_conditions(breaks: Iterable[ReconciliationBreak]) -> dict[tuple[str, str], Condition]:
    """One condition per date with a break (the last break recorded for that date speaks)."""
    found = (break_condition(gap) for gap in breaks)
    return {c.key: c for c in found}


def next_council_payment(account: ManagedAccount, on: date) -> date | None:
    """When the next regular council payment is expected after ``on`` (``None`` if none is:
    no payment yet, or payments suspended)."""
    if account.status is not AccountStatus.OPEN:
        return None
    dates = [p.effective_date for p in account.council_payments]
    if not dates:
        return None
    due = max(dates)
    while due <= on:
        if account.policy_on(due).frequency is PaymentFrequency.MONTHLY:
            due = add_months(due, 1)
        else:
            due += timedelta(days=28)
    return due


def spending_in_window(account: ManagedAccount, on: date) -> Money:
    """Wage costs and agency invoices for periods ending in the last 56 days up to ``on``.

    A wage run costs gross pay plus employer NI and employer pension (net wages, HMRC and the
    pension provider between them); an invoice its total unless disputed or voided.
    """
    since = on - timedelta(days=SPENDING_WINDOW_DAYS)
    total = 0
    for run in account.wage_runs.values():
        if since < run.period_end <= on:
            total += run.gross.pence + run.employer_ni.pence + run.employer_pension.pence
    for invoice in account.invoices.values():
        if invoice.status in (InvoiceStatus.DISPUTED, InvoiceStatus.VOIDED):
            continue
        if since < invoice.period_end <= on:
            total += invoice.total.pence
    return Money(total)


def _forecast(account: ManagedAccount, on: date, bank: Money, unpaid: Money) -> list[Condition]:
    next_payment = next_council_payment(account, on)
    window = spending_in_window(account, on)
    if next_payment is None or window.pence <= 0:
        return []
    days = (next_payment - on).days
    # Spending accrues at the recent daily rate until the next payment arrives.
    expected = Money(window.pence * days // SPENDING_WINDOW_DAYS)
    available = bank - unpaid
    if (available - expected).pence >= 0:
        return []
    runs_out = on + timedelta(days=max(0, available.pence) * SPENDING_WINDOW_DAYS // window.pence)
    return [
        Condition(
            "forecast",
            "",
            {
                "bank": bank.pence,
                "unpaid_liabilities": unpaid.pence,
                "expected_outgoings": expected.pence,
                "next_payment_on": next_payment.isoformat(),
                "runs_out_on": runs_out.isoformat(),
            },
            f"At the recent rate of spending, {expected} more will go out before the next "
            f"council payment on {next_payment}; with {bank} in the bank and {unpaid} owed, the "
            f"money is expected to run out on {runs_out}.",
        )
    ]


def _low_balance(account: ManagedAccount, on: date, bank: Money) -> list[Condition]:
    weeks = account.policy_on(on).low_balance_weeks
    budget = account.budget_on(on)
    if weeks <= 0 or budget is None or budget.weekly_gross.pence <= 0:
        return []
    if account.first_payment_on is None:
        return []  # an account waiting for its first payment is not yet running low
    threshold = budget.weekly_gross * weeks
    if bank >= threshold:
        return []
    return [
        Condition(
            "low_balance",
            "",
            {"bank": bank.pence, "threshold": threshold.pence, "weeks": weeks},
            f"The bank holds {bank}, less than {weeks} weeks of the gross budget ({threshold}).",
        )
    ]


def _contribution_shortfall(account: ManagedAccount, on: date) -> list[Condition]:
    policy = account.policy_on(on)
    if policy.payment_basis is not PaymentBasis.NET:
        return []  # on the gross basis the council collects the contribution itself
    budget = account.budget_on(on)
    if budget is None or budget.weekly_contribution.pence <= 0:
        return []
    due = account.terms.contributions_due(on)  # for the days on the net basis
    received = account.contributions_received
    weeks = policy.contribution_shortfall_weeks
    allowed = budget.weekly_contribution * weeks
    short = due - received
    if short <= allowed:
        return []
    return [
        Condition(
            "contribution_shortfall",
            "",
            {"due": due.pence, "received": received.pence, "shortfall": short.pence},
            f"The person's contributions are {short} behind ({due} due to {on}, {received} "
            f"received), more than {weeks} weeks' worth ({allowed}). Contact them or their "
            "representative about the arrears.",
        )
    ]


def _held_items(account: ManagedAccount) -> list[Condition]:
    found = []
    for item in account.suspense_items.values():
        if item.status is SuspenseStatus.HELD:
            found.append(
                Condition(
                    "unexpected_income",
                    item.item_id,
                    {"amount": item.amount.pence, "since": item.received_on.isoformat()},
                    f"{item.amount} arrived on {item.received_on} that matches nothing expected "
                    f"({item.description}); it is held in suspense until it is classified, "
                    "refunded or kept with a reason.",
                )
            )
    for out in account.unexplained_outgoings.values():
        if out.status is OutgoingStatus.HELD:
            found.append(
                Condition(
                    "unexpected_outgoing",
                    out.item_id,
                    {"amount": out.amount.pence, "since": out.effective_date.isoformat()},
                    f"{out.amount} left the bank on {out.effective_date} that matches no payment "
                    f"the account made ({out.description}); find out what it was and classify, "
                    "recover or accept it.",
                )
            )
    return found


def _review(account: ManagedAccount, on: date) -> list[Condition]:
    due = account.next_review_due
    if due is None or due >= on:
        return []
    last = account.last_review_on
    return [
        Condition(
            "review_overdue",
            "",
            {"due": due.isoformat(), "last_review": None if last is None else last.isoformat()},
            f"The council's review was due by {due} and none is recorded"
            + (f" since {last}." if last else "."),
        )
    ]


def _paid_while_suspended(account: ManagedAccount) -> list[Condition]:
    since = account.suspended_since
    if account.status is not AccountStatus.SUSPENDED or since is None:
        return []
    return [
        Condition(
            "paid_while_suspended",
            str(payment.version),
            {"amount": payment.amount.pence, "on": payment.effective_date.isoformat()},
            f"The council paid {payment.amount} on {payment.effective_date} although payments "
            f"are suspended since {since}; ask the council whether it is to be returned.",
        )
        for payment in account.council_payments
        if payment.effective_date >= since
    ]
