"""The audit sheet: one account over one period, as an auditor signs it off.

:class:`Statement` holds everything the sheet shows: the bank's opening balance, money in by
source (council, contribution, other, unexpected), money out by category, the closing balance,
what was owed and held at the end, the contingency the account may keep, the surplus, each
unexpected item with its resolution, reconciliation breaks, the warnings raised in the period,
and the events themselves with a running balance (with the balances the bank account's statements
stated, beside the ledger's). Opening + in - out = closing is checked, not
assumed: the closing balance is summed on its own (:func:`dpledger.projections.balances.
period_summary`).

Everything is *as known* at one recorded time (default: when the statement was made), so a
statement made again later from the same ``known_at`` is identical, whatever was recorded since.
:func:`compose_statement` is pure: the read side gathers its inputs
(:meth:`dpledger.Ledger.statement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dpledger.domain.account import ManagedAccount
from dpledger.domain.chart import LIABILITIES, LedgerAccount
from dpledger.domain.money import Money
from dpledger.domain.records import BudgetAgreement, ReconciliationBreak
from dpledger.domain.registry import EVENT_CLASSES
from dpledger.domain.rules import contributions_due, surplus
from dpledger.projections.audit import AuditEntry
from dpledger.projections.balances import PeriodSummary
from dpledger.projections.oversight import Warning
from dpledger.projections.reconciliation import StatedBalance

STATEMENT_FORMAT_VERSION = 4
"""Bumped whenever :meth:`Statement.to_dict` changes shape (scripts read it). 2: the balances a
bank account's statements stated are among the events, and events and breaks name the bank
account whose event they are (``bank_account``, ``null`` for the account's own). 3:
``stated_balances``, how many balances the bank stated in the period (0: no breaks means nothing
was checked, not that everything agreed). 4: ``budget``, the period's budget against what was
spent and the contributions due against those received."""

NOTHING_STATED = "No bank balance was stated in this period: nothing to reconcile against."
"""What the sheet says of reconciliation when the bank stated no balance in the period."""

MONEY_IN_ORDER = ("council", "contribution", "other", "unexpected")
"""The order the sheet lists money in."""
MONEY_OUT_ORDER = (
    "agency_care",
    "pa_wages",
    "hmrc",
    "pension",
    "insurance",
    "support_fees",
    "other_care_plan",
    "unexplained_outgoing",
    "returned_to_council",
)
"""The order the sheet lists money out (other categories follow, alphabetically)."""

NOT_SPEND = ("returned_to_council", "unexplained_outgoing")
"""Money out that is not spend against the budget: surplus returned to the council, and
outgoings nobody has explained yet (spend once classified or accepted)."""

_INCOME_ITEM_EVENTS = {
    "UnexpectedIncomeClassified": "classified",
    "UnexpectedIncomeRefunded": "refunded",
    "UnexpectedIncomeKept": "kept",
}
_OUTGOING_ITEM_EVENTS = {
    "UnexpectedOutgoingClassified": "classified",
    "UnexpectedOutgoingRecovered": "recovered",
    "UnexpectedOutgoingAccepted": "accepted",
}


@dataclass(frozen=True)
class UnexpectedItem:
    """Money nobody expected, in or out, and what was decided about it by the period's end."""

    item_id: str
    direction: str
    """``"in"`` (unexpected income) or ``"out"`` (an unexplained outgoing)."""
    recorded_on: date
    """Its effective date."""
    amount: Money
    description: str
    status: str
    """``held``, ``classified``, ``refunded``, ``kept``, ``recovered``, ``accepted`` or
    ``withdrawn`` (its recording was corrected away)."""
    resolution: str
    """What was decided, in words (empty while held)."""
    resolved_on: date | None

    @property
    def held(self) -> bool:
        """Whether it was still unresolved at the end of the period."""
        return self.status == "held"


@dataclass(frozen=True)
class BudgetCheck:
    """The budget for ``start``..``end`` against what was spent, and the person's contributions
    due for those days against those received.

    ``spent`` is care spend paid from the bank in the period (money out, less
    :data:`NOT_SPEND`); ``budget`` the weekly gross budget of each agreement, pro-rated by day;
    ``contributions_due`` the domain's rule for the days of the period (net-basis days only);
    ``contributions_received`` those the ledger received in the period (:func:`contributions_in`).
    """

    start: date
    end: date
    budget: Money
    spent: Money
    contributions_due: Money
    contributions_received: Money

    @property
    def under_budget(self) -> Money:
        """Budget minus spend: negative when more was spent than the budget."""
        return self.budget - self.spent

    @property
    def contributions_short(self) -> Money:
        """Contributions due minus received: negative when more was received than due."""
        return self.contributions_due - self.contributions_received

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, amounts in pence."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "budget_pence": self.budget.pence,
            "spent_pence": self.spent.pence,
            "under_budget_pence": self.under_budget.pence,
            "contributions_due_pence": self.contributions_due.pence,
            "contributions_received_pence": self.contributions_received.pence,
            "contributions_short_pence": self.contributions_short.pence,
        }


def period_budget(budgets: Sequence[BudgetAgreement], start: date, end: date) -> Money:
    """The gross budget for ``start``..``end``: each agreement's weekly gross, pro-rated by day
    and rounded once, by the same rule as contributions due (the gross stands in for the
    contribution, counted for the period's days only)."""
    gross = [BudgetAgreement(b.effective_date, b.weekly_gross, b.weekly_gross) for b in budgets]
    return contributions_due(gross, end, [(start, end + timedelta(days=1))])


def contributions_in(entries: Sequence[AuditEntry]) -> Money:
    """The contributions the ledger received in ``entries``: their postings to the contribution
    income account (as :attr:`ManagedAccount.contributions_received` counts them), so unexpected
    income later classified as a contribution counts, on the day it was, and a corrected
    contribution does not."""
    code = LedgerAccount.CONTRIBUTION_INCOME.value
    return Money(-sum(m.pence for e in entries for account, m in e.postings if account == code))


def care_spend(money_out: Mapping[str, Money]) -> Money:
    """Money out that counts against the budget (everything but :data:`NOT_SPEND`)."""
    return Money(sum(m.pence for k, m in money_out.items() if k not in NOT_SPEND))


def budget_check(
    account: ManagedAccount,
    start: date,
    end: date,
    spent: Money,
    contributions_received: Money,
) -> BudgetCheck:
    """The account's budget and contributions due for ``start``..``end`` beside what was spent
    and received (the caller's figures, on the basis it states)."""
    terms = account.terms
    due = terms.contributions_due(end) - terms.contributions_due(start - timedelta(days=1))
    return BudgetCheck(
        start=start,
        end=end,
        budget=period_budget(account.budgets, start, end),
        spent=spent,
        contributions_due=due,
        contributions_received=contributions_received,
    )


@dataclass(frozen=True)
class StatementLine:
    """One event of the period, with the bank balance after it in effective-date order.

    Besides the account's own events, the sheet lists the balances its bank account's statements
    stated (``bank_account`` set, ``version`` and ``digest`` in that bank account's history), each
    after the day's movements, beside the ledger's balance at the end of that day.
    """

    version: int
    effective_date: date
    recorded_at: datetime
    event_type: str
    description: str
    actor: str
    reason: str | None
    bank_change: Money
    bank_after: Money
    digest: str
    bank_account: str | None = None
    """The bank account whose event this is; ``None`` for the account's own events."""


@dataclass(frozen=True)
class Statement:
    """The audit sheet of one account for ``start``..``end`` (inclusive)."""

    account_id: str
    person_ref: str
    council: str
    provider: str
    status: str
    start: date
    end: date
    known_at: datetime | None
    """The recorded time the sheet is as known at (``None``: everything recorded)."""
    generated_at: datetime
    opening: Money
    money_in: dict[str, Money]
    money_out: dict[str, Money]
    closing: Money
    unpaid_liabilities: dict[str, Money]
    """What was owed at the end, by liability (positive amounts)."""
    held_in_suspense: dict[str, Money]
    """Unexpected income held (``unidentified``) and unexplained outgoings held, at the end."""
    contingency: Money
    """The contingency the account may keep at the end (policy weeks x weekly budget)."""
    surplus: Money
    """Closing balance - unpaid liabilities - contingency, never negative."""
    unexpected_items: tuple[UnexpectedItem, ...]
    reconciliation_breaks: tuple[ReconciliationBreak, ...]
    stated_balances: int
    """How many balances the bank stated for days of the period (its bank account's statements,
    or 0.1's on the account): what ``reconciliation_breaks`` were checked among."""
    warnings: tuple[Warning, ...]
    """Warnings raised in the period (cleared ones included, with when)."""
    lines: tuple[StatementLine, ...]
    contingency_changes: tuple[tuple[date, Money], ...]
    """The contingency from the period's start and from each budget change in it."""
    head_version: int
    head_digest: str
    """The account's chain head as known at ``known_at``: quote it to prove what was read."""
    head_mac: str | None
    budget: BudgetCheck | None = None
    """The period's budget against spend and contributions due against received."""

    @property
    def total_in(self) -> Money:
        """All money in over the period."""
        return Money(sum(m.pence for m in self.money_in.values()))

    @property
    def total_out(self) -> Money:
        """All money out over the period."""
        return Money(sum(m.pence for m in self.money_out.values()))

    @property
    def total_unpaid(self) -> Money:
        """Everything owed at the end."""
        return Money(sum(m.pence for m in self.unpaid_liabilities.values()))

    @property
    def reconciles(self) -> bool:
        """Whether opening + money in - money out = closing (it always should)."""
        return self.opening + self.total_in - self.total_out == self.closing

    @property
    def reconciliation(self) -> str:
        """One sentence on the bank's stated balances in the period: none was stated (so there
        was nothing to reconcile against), all agreed with the ledger, or how many differ."""
        breaks = len(self.reconciliation_breaks)
        stated = max(self.stated_balances, breaks)
        if stated == 0:
            return NOTHING_STATED
        if breaks:
            verb = "differs" if breaks == 1 else "differ"
            return f"{breaks} of {stated} stated balance{_s(stated)} {verb} from the ledger."
        if stated == 1:
            return "The bank and the ledger agreed on the 1 stated balance."
        return f"The bank and the ledger agreed on all {stated} stated balances."

    @property
    def balance_points(self) -> list[tuple[date, Money]]:
        """The bank balance at the end of each day with a movement, from the opening balance on
        the first day: the chart's line."""
        points: dict[date, Money] = {self.start: self.opening}
        for line in self.lines:
            points[line.effective_date] = line.bank_after
        points.setdefault(self.end, self.closing)
        return sorted(points.items())

    def to_dict(self) -> dict[str, Any]:
        """The sheet as JSON-ready data (amounts in pence, dates ISO); see docs/auditing.md."""
        return {
            "format": "dpledger-statement",
            "format_version": STATEMENT_FORMAT_VERSION,
            "account_id": self.account_id,
            "person_ref": self.person_ref,
            "council": self.council,
            "provider": self.provider,
            "status": self.status,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "known_at": None if self.known_at is None else self.known_at.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "opening_pence": self.opening.pence,
            "money_in_pence": {k: v.pence for k, v in self.money_in.items()},
            "total_in_pence": self.total_in.pence,
            "money_out_pence": {k: v.pence for k, v in self.money_out.items()},
            "total_out_pence": self.total_out.pence,
            "closing_pence": self.closing.pence,
            "reconciles": self.reconciles,
            "unpaid_liabilities_pence": {k: v.pence for k, v in self.unpaid_liabilities.items()},
            "held_in_suspense_pence": {k: v.pence for k, v in self.held_in_suspense.items()},
            "contingency_pence": self.contingency.pence,
            "surplus_pence": self.surplus.pence,
            "unexpected_items": [
                {
                    "item_id": i.item_id,
                    "direction": i.direction,
                    "recorded_on": i.recorded_on.isoformat(),
                    "amount_pence": i.amount.pence,
                    "description": i.description,
                    "status": i.status,
                    "resolution": i.resolution,
                    "resolved_on": None if i.resolved_on is None else i.resolved_on.isoformat(),
                }
                for i in self.unexpected_items
            ],
            "reconciliation_breaks": [
                {
                    "date": b.effective_date.isoformat(),
                    "stated_pence": b.asserted.pence,
                    "ledger_pence": b.ledger.pence,
                    "difference_pence": b.difference.pence,
                    "source": b.source,
                    "version": b.version,
                    "bank_account": b.bank_account,
                }
                for b in self.reconciliation_breaks
            ],
            "stated_balances": self.stated_balances,
            "warnings": [
                {
                    "rule": w.rule,
                    "subject": w.subject,
                    "raised_on": w.raised_on.isoformat(),
                    "raised_version": w.raised_version,
                    "explanation": w.explanation,
                    "cleared_on": None if w.cleared_on is None else w.cleared_on.isoformat(),
                }
                for w in self.warnings
            ],
            "events": [
                {
                    "version": line.version,
                    "effective_date": line.effective_date.isoformat(),
                    "recorded_at": line.recorded_at.isoformat(),
                    "event_type": line.event_type,
                    "description": line.description,
                    "actor": line.actor,
                    "reason": line.reason,
                    "bank_change_pence": line.bank_change.pence,
                    "bank_after_pence": line.bank_after.pence,
                    "digest": line.digest,
                    "bank_account": line.bank_account,
                }
                for line in self.lines
            ],
            "chain_head": {
                "version": self.head_version,
                "digest": self.head_digest,
                "mac": self.head_mac,
            },
            "budget": None if self.budget is None else self.budget.to_dict(),
        }


def compose_statement(
    *,
    account: ManagedAccount,
    summary: PeriodSummary,
    balances_at_end: Mapping[LedgerAccount, Money],
    entries: Sequence[AuditEntry],
    warnings: Sequence[Warning],
    generated_at: datetime,
    breaks: Sequence[ReconciliationBreak] = (),
    stated: Sequence[StatedBalance] = (),
    head_mac: str | None = None,
) -> Statement:
    """The audit sheet from the read side's answers, all as known at ``summary.known_at``.

    ``account`` is the aggregate at the last version known then, ``entries`` its whole audit
    trail up to that version, ``warnings`` every warning ever raised for it, ``breaks`` the
    reconciliation breaks as known then, ``stated`` the balances its statements stated (those
    of its bank accounts are listed among the events; 0.1's are events of the account already).
    """
    start, end, known_at = summary.start, summary.end, summary.known_at
    contingency = account.contingency(end)
    unpaid = {
        liability.value.split(":", 1)[1]: -balances_at_end[liability] for liability in LIABILITIES
    }
    held = {
        "unidentified_income": -balances_at_end[LedgerAccount.SUSPENSE],
        "unexplained_outgoing": balances_at_end[LedgerAccount.UNEXPLAINED_OUTGOING],
    }
    unpaid_total = Money(sum(m.pence for m in unpaid.values()))
    in_period = [e for e in entries if start <= e.effective_date <= end]
    head = entries[-1]
    return Statement(
        account_id=account.account_id,
        person_ref=account.person_ref,
        council=account.council,
        provider=account.provider,
        status=_status_at(account, entries, end),
        start=start,
        end=end,
        known_at=known_at,
        generated_at=generated_at,
        opening=summary.opening,
        money_in=_ordered(summary.money_in, MONEY_IN_ORDER),
        money_out=_ordered(summary.money_out, MONEY_OUT_ORDER),
        closing=summary.closing,
        unpaid_liabilities=unpaid,
        held_in_suspense=held,
        contingency=contingency,
        surplus=surplus(summary.closing, unpaid_total, contingency),
        unexpected_items=tuple(unexpected_items(entries, start, end)),
        reconciliation_breaks=tuple(b for b in breaks if start <= b.effective_date <= end),
        stated_balances=sum(1 for s in stated if start <= s.effective_date <= end),
        warnings=tuple(
            sorted(
                (
                    w
                    for w in warnings
                    if start <= w.raised_on <= end and (known_at is None or w.raised_at <= known_at)
                ),
                key=lambda w: (w.raised_on, w.raised_version, w.rule, w.subject),
            )
        ),
        lines=tuple(_lines(in_period, _stated_in(stated, start, end), summary.opening)),
        contingency_changes=tuple(_contingency_changes(account, start, end)),
        head_version=head.version,
        head_digest=head.digest,
        head_mac=head_mac,
        budget=budget_check(
            account,
            start,
            end,
            care_spend(summary.money_out),
            contributions_in(in_period),
        ),
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _ordered(amounts: Mapping[str, Money], order: Sequence[str]) -> dict[str, Money]:
    # A fixed order (council first), whatever order the query returned; unknown keys last.
    rank = {key: i for i, key in enumerate(order)}
    return dict(sorted(amounts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def _status_at(account: ManagedAccount, entries: Sequence[AuditEntry], end: date) -> str:
    """Open, suspended or closed at the end of the period (by effective date)."""
    closed = [e for e in entries if e.event_type == "AccountClosed" and e.effective_date <= end]
    if closed:
        return "closed"
    return "suspended" if account.suspended_on(end) else "open"


def _stated_in(stated: Sequence[StatedBalance], start: date, end: date) -> list[StatedBalance]:
    """The balances a bank account's statements stated for days of the period."""
    return [s for s in stated if s.bank_account is not None and start <= s.effective_date <= end]


def _lines(
    entries: Sequence[AuditEntry], stated: Sequence[StatedBalance], opening: Money
) -> list[StatementLine]:
    # Effective-date order, so the running balance is the one the bank would have shown; a
    # stated balance is the bank's at the end of its day, so it follows the day's movements.
    rows: list[tuple[tuple[date, int, str, int], AuditEntry | StatedBalance]] = [
        ((e.effective_date, 0, "", e.version), e) for e in entries
    ]
    rows += [((s.effective_date, 1, s.recorded_at.isoformat(), s.version), s) for s in stated]
    lines = []
    balance = opening
    for _, row in sorted(rows, key=lambda pair: pair[0]):
        # A stated balance moves no money; it names the bank account that stated it.
        if isinstance(row, AuditEntry):
            change = Money(
                sum(m.pence for code, m in row.postings if code == LedgerAccount.BANK.value)
            )
            bank_account = None
        else:
            change, bank_account = Money(0), row.bank_account
        balance += change
        lines.append(
            StatementLine(
                version=row.version,
                effective_date=row.effective_date,
                recorded_at=row.recorded_at,
                event_type=row.event_type,
                description=describe(row.event_type, row.details),
                actor=row.actor,
                reason=row.reason,
                bank_change=change,
                bank_after=balance,
                digest=row.digest,
                bank_account=bank_account,
            )
        )
    return lines


def _contingency_changes(
    account: ManagedAccount, start: date, end: date
) -> list[tuple[date, Money]]:
    days = {start} | {b.effective_date for b in account.budgets if start < b.effective_date <= end}
    return [(day, account.contingency(day)) for day in sorted(days)]


def _pence(value: Any) -> Money:
    if isinstance(value, Mapping):
        return Money(int(value["pence"]), str(value.get("currency", "GBP")))
    return Money(0)


def unexpected_items(entries: Sequence[AuditEntry], start: date, end: date) -> list[UnexpectedItem]:
    """Each unexpected item recorded by ``end`` and not resolved before ``start``, with its
    resolution as at ``end`` (corrections that undo a recording or a resolution are followed)."""
    known = [e for e in entries if e.effective_date <= end]
    corrected = {
        int(e.details["corrected_version"]) for e in known if e.event_type == "EntryCorrected"
    }
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in sorted(known, key=lambda e: e.version):
        kind, details = entry.event_type, entry.details
        if kind in ("UnexpectedIncomeReceived", "UnexpectedOutgoingRecorded"):
            direction = "in" if kind == "UnexpectedIncomeReceived" else "out"
            items[(direction, str(details["item_id"]))] = {
                "on": entry.effective_date,
                "amount": _pence(details.get("amount")),
                "description": str(details.get("description", "")),
                "status": "withdrawn" if entry.version in corrected else "held",
                "resolution": "its recording was corrected" if entry.version in corrected else "",
                "resolved_on": None,
            }
        elif kind in _INCOME_ITEM_EVENTS or kind in _OUTGOING_ITEM_EVENTS:
            direction = "in" if kind in _INCOME_ITEM_EVENTS else "out"
            item = items.get((direction, str(details["item_id"])))
            if item is None or entry.version in corrected or item["status"] == "withdrawn":
                continue
            status = (_INCOME_ITEM_EVENTS | _OUTGOING_ITEM_EVENTS)[kind]
            item["status"] = status
            item["resolution"] = _resolution(kind, details, entry.reason)
            item["resolved_on"] = entry.effective_date
    found = []
    for (direction, item_id), item in items.items():
        resolved_on = item["resolved_on"]
        if resolved_on is not None and resolved_on < start and item["on"] < start:
            continue  # settled before the period: last period's business
        found.append(
            UnexpectedItem(
                item_id=item_id,
                direction=direction,
                recorded_on=item["on"],
                amount=item["amount"],
                description=item["description"],
                status=item["status"],
                resolution=item["resolution"],
                resolved_on=resolved_on,
            )
        )
    return sorted(found, key=lambda i: (i.recorded_on, i.direction, i.item_id))


def _resolution(kind: str, details: Mapping[str, Any], reason: str | None) -> str:
    """What was decided beyond the status itself: the class, the income that repaid it, why."""
    parts = []
    if kind == "UnexpectedIncomeClassified":
        parts.append(f"as {details.get('classified_as')}")
    elif kind == "UnexpectedOutgoingClassified":
        parts.append(f"as {details.get('category')}")
    elif kind == "UnexpectedOutgoingRecovered" and details.get("income_item_id"):
        parts.append(f"by income item {details.get('income_item_id')}")
    if reason:
        parts.append(reason)
    return "; ".join(parts)


def describe(event_type: str, details: Mapping[str, Any]) -> str:
    """A short description of an event for the sheet's event list: the event class's own
    :meth:`~dpledger.domain.events.AccountEvent.describe`."""
    event_class = EVENT_CLASSES.get(event_type)
    return event_type if event_class is None else str(event_class.describe(details))
