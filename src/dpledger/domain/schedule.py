"""The payment schedule: what an account should receive, what arrived for each due date, what is
missing, and the alerts of both.

Pure functions of a :class:`~dpledger.domain.account.ManagedAccount`'s state.
:func:`payment_schedule` works out the council payments and contributions due;
:func:`council_allocation` and :func:`council_received` which recorded council payments settle
which due date; :func:`missing_payments` lists those that never arrived. :func:`schedule_alerts`
is an alert rule (:data:`~dpledger.domain.registry.ALERT_RULES`):

- ``council_payment_differs``: the council payments recorded for a due date's period (stating the
  period, as the bank import records them) add up to another amount than the schedule's, one
  alert per due date, with the figures ``due_date``, ``due``, ``received`` and ``difference``
  (received - due, in pence): a short payment shows, and it clears once the rest arrives;
- ``expected_payment_missing``: a council payment or a contribution :func:`missing_payments`
  lists as of the account's latest date of which nothing arrived, one alert per kind and due
  date, with ``kind``, ``due_date``, ``due``, ``received``, ``difference`` and ``margin_days``
  (a contribution part paid is arrears, for the ``contribution_shortfall`` warning).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dpledger.domain.alerts import Alert
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy, PaymentBasis, PaymentFrequency
from dpledger.domain.records import BudgetAgreement, CouncilPayment
from dpledger.domain.rules import add_months
from dpledger.domain.window import window_start

if TYPE_CHECKING:  # annotations only
    from dpledger.domain.account import ManagedAccount

NOTHING = Money(0)


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
    """An expected payment that had not arrived by its due date plus the policy's margin:
    ``amount`` is what is missing, of the ``due`` amount, ``received`` having arrived."""

    kind: str
    due_date: date
    amount: Money
    reason: str
    due: Money = NOTHING
    received: Money = NOTHING


def _margin(account: ManagedAccount, day: date) -> int:
    """The missing-payment margin of the policy in force on ``day`` (a due date)."""
    return account.terms.policy_on(day).missing_payment_margin_days


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


# ---------------------------------------------------------------------- schedule
def payment_schedule(
    account: ManagedAccount, until: date, since: date | None = None
) -> list[ExpectedPayment]:
    """Council payments and (net basis) contributions due from the first budget (or ``since``)
    to ``until``.

    Each due date follows the policy in force on it. Four-weekly: the next is 28 days on
    (4 weeks' worth each); monthly: the same day each month, counted from the first monthly due
    date (pro-rated by the days in the month, rounded half up to the penny). A change of
    frequency takes effect from the first due date on or after it: the period already paid for
    runs its course. The amount comes from the budget in force on the due date: the council
    share (net basis) or the gross budget (gross basis). Nothing is due while the account is
    suspended, after the end date of the policy in force on the due date, or after closing.
    """
    budgets = account.budgets
    if not budgets:
        return []
    terms = account.terms
    # The schedule is a function of these alone; alert rules ask for it before and after every
    # payment, which changes none of them, so the last few answers are kept on the account.
    # A schedule to a date is the first part of the schedule to any later date, so one is kept
    # to a horizon a year ahead and cut at ``until``.
    key = (
        since,
        account.closed_on,
        tuple(budgets),
        terms.opening_policy,
        tuple(terms.policy_changes),
        tuple(terms.suspensions),
    )
    cache: dict[Any, tuple[date, list[ExpectedPayment]]] = account.__dict__.setdefault(
        "_schedules", {}
    )
    found = cache.get(key)
    if found is None or found[0] < until:
        horizon = until + timedelta(days=_HORIZON_DAYS)
        found = (horizon, _schedule(account, horizon, since))
        if key not in cache and len(cache) >= _SCHEDULES_KEPT:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return [due for due in found[1] if due.due_date <= until]


_SCHEDULES_KEPT = 8
"""How many schedules an account keeps at hand (each a few hundred records at most)."""

_SETTLE_BEFORE = 92
"""Days of dues before the recent window that still take part in settling the window's."""

_HORIZON_DAYS = 366
"""How far ahead of the date asked a kept schedule reaches."""


def _schedule(account: ManagedAccount, until: date, since: date | None) -> list[ExpectedPayment]:
    budgets = account.budgets
    terms = account.terms
    last = until
    if account.closed_on is not None and account.closed_on < last:
        last = account.closed_on
    final = terms.latest_policy
    if final.end_date is not None:
        changed = terms.policy_changes[-1].effective_date if terms.policy_changes else date.min
        last = min(last, max(final.end_date, changed))
    due: list[ExpectedPayment] = []
    for day, following, policy in _due_dates(account, budgets[0].effective_date, last, since):
        if policy.end_date is not None and day > policy.end_date:
            continue
        budget = terms.budget_on(day)
        if budget is not None and not terms.suspended_on(day):
            monthly = policy.frequency is PaymentFrequency.MONTHLY
            net = policy.payment_basis is PaymentBasis.NET
            due.extend(_due_on(budget, day, following, monthly=monthly, net=net))
    return due


def _due_dates(
    account: ManagedAccount, start: date, last: date, since: date | None
) -> Iterator[tuple[date, date, AccountPolicy]]:
    """Each due date to ``last``, the next one after it, and the policy in force on it."""
    terms = account.terms
    anchor, index, day = start, 0, start  # a run of one frequency counts from its anchor
    monthly = terms.policy_on(start).frequency is PaymentFrequency.MONTHLY
    while day <= last:
        policy = terms.policy_on(day)
        if (policy.frequency is PaymentFrequency.MONTHLY) is not monthly:
            monthly, anchor, index = not monthly, day, 0
        if since is not None and day < since:
            # Jump close to ``since`` instead of walking every cycle, within this run only.
            limit = min(
                [since, *(c.effective_date for c in terms.policy_changes if c.effective_date > day)]
            )
            skip = _cycles_before(anchor, limit, monthly=monthly)
            if skip > index:
                index = skip
                day = add_months(anchor, index) if monthly else anchor + timedelta(28 * index)
                continue
        following = add_months(anchor, index + 1) if monthly else day + timedelta(days=28)
        yield day, following, policy
        index += 1
        day = following


def _cycles_before(anchor: date, limit: date, *, monthly: bool) -> int:
    """How many cycles from ``anchor`` surely end before ``limit`` (one fewer, to be safe)."""
    if monthly:
        return max(0, (limit.year - anchor.year) * 12 + limit.month - anchor.month - 1)
    return max(0, (limit - anchor).days // 28 - 1)


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
    payments = sorted(
        account.funds.council_payment_records(), key=lambda p: (p.effective_date, p.version)
    )
    used: set[int] = set()
    settled: dict[date, CouncilPayment] = {}
    for due in sorted((d for d in dues if d.kind == "council"), key=lambda d: d.due_date):
        margin = _margin(account, due.due_date)
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


def missing_payments(
    account: ManagedAccount, as_of: date, *, none_received: bool = False
) -> list[MissingPayment]:
    """Expected payments not received by their due date plus ``policy.missing_payment_margin_days``,
    among those due within the account's recent window (see :mod:`~dpledger.domain.window`).

    A council payment is missing when no council payment settles its due date (see
    :func:`council_allocation`). Contributions are counted cumulatively: one is missing when the
    contributions received by its due date plus the margin fall short of all those due by then
    (the missing amount is the shortfall, at most that period's contribution).
    ``none_received`` leaves out contributions of which some part arrived (arrears).
    """
    kept_from = account.funds.kept_from
    recent = window_start(as_of)
    if kept_from is None or kept_from < recent:
        kept_from = recent  # older dues are for the records, not for chasing now
    # Payments settle dues oldest first within the margin: dues a quarter before the window
    # are enough to settle the window's dues as all of them would. Earlier ones only count
    # towards the contributions due (their margin, at most 60 days, has surely passed).
    settling_from = kept_from - timedelta(days=_SETTLE_BEFORE)
    earlier_contributions = 0
    dues = []
    for d in payment_schedule(account, as_of):
        if d.due_date < settling_from:
            if d.kind == "contribution":
                earlier_contributions += d.amount.pence
        elif d.due_date + timedelta(_margin(account, d.due_date)) < as_of:
            dues.append(d)
    missing: list[MissingPayment] = []
    settled = council_allocation(account, dues)
    for due in dues:
        if kept_from is not None and due.due_date < kept_from:
            continue
        if due.kind == "council" and due.due_date not in settled:
            margin = _margin(account, due.due_date)
            missing.append(
                MissingPayment(
                    "council",
                    due.due_date,
                    due.amount,
                    f"no council payment within {margin} days of {due.due_date} ({due.basis})",
                    due.amount,
                    Money(0),
                )
            )
    due_total = earlier_contributions
    for due in dues:
        if due.kind != "contribution":
            continue
        due_total += due.amount.pence
        if kept_from is not None and due.due_date < kept_from:
            continue
        cutoff = due.due_date + timedelta(days=_margin(account, due.due_date))
        paid = account.funds.received_by(cutoff)
        if paid < due_total:
            short = Money(min(due.amount.pence, due_total - paid))
            if none_received and short != due.amount:
                continue
            missing.append(
                MissingPayment(
                    "contribution",
                    due.due_date,
                    short,
                    f"contributions received by {cutoff} are {Money(paid)}, "
                    f"{Money(due_total - paid)} short of the {Money(due_total)} due by "
                    f"{due.due_date} ({due.basis})",
                    due.amount,
                    due.amount - short,
                )
            )
    missing.sort(key=lambda m: (m.due_date, m.kind))
    return missing


def council_received(account: ManagedAccount, dues: Iterable[ExpectedPayment]) -> dict[date, Money]:
    """What was received for each due date a recorded council payment settles: the payment
    :func:`council_allocation` gives it, plus the further payments recorded for the same period
    (a council payment that arrived in parts). Due dates nothing settles are left out."""
    settled = council_allocation(account, dues)
    used = {payment.version for payment in settled.values()}
    received = {day: payment.amount for day, payment in settled.items()}
    for payment in account.funds.council_payment_records():
        start = payment.period_start
        if payment.version not in used and start is not None and start in received:
            received[start] += payment.amount
    return received


# ---------------------------------------------------------------------- alerts
def schedule_alerts(account: ManagedAccount) -> list[Alert]:
    """``council_payment_differs`` and ``expected_payment_missing`` (see the module), as of the
    account's latest date."""
    return [*_differs_alerts(account), *_missing_alerts(account)]


def _differs_alerts(account: ManagedAccount) -> list[Alert]:
    by_period: dict[date, list[CouncilPayment]] = {}
    for payment in account.funds.council_payment_records():
        if payment.period_start is not None:
            by_period.setdefault(payment.period_start, []).append(payment)
    if not by_period:
        return []
    dues = {
        due.due_date: due
        for due in payment_schedule(account, max(by_period), min(by_period))
        if due.kind == "council" and due.due_date in by_period
    }
    found = []
    for day, due in sorted(dues.items()):
        payments = by_period[day]
        received = sum((p.amount for p in payments), Money(0))
        gap = received - due.amount
        if gap.pence == 0:
            continue
        how = f"{Money(abs(gap.pence))} {'short' if gap.pence < 0 else 'more than due'}"
        dated = ", ".join(f"{p.amount} on {p.effective_date}" for p in payments)
        found.append(
            Alert(
                "council_payment_differs",
                f"council:{day.isoformat()}",
                {
                    "due_date": day.isoformat(),
                    "due": due.amount.pence,
                    "received": received.pence,
                    "difference": gap.pence,
                },
                f"The council paid {received} for the period from {day} ({dated}), but "
                f"{due.amount} was due ({due.basis}): {how}. Ask the council why, or agree "
                "the budget that explains it.",
            )
        )
    return found


def _missing_alerts(account: ManagedAccount) -> list[Alert]:
    found = []
    for missing in missing_payments(account, account.latest_date, none_received=True):
        margin = _margin(account, missing.due_date)
        if missing.received.is_positive():
            # Part of a period's contribution arrived: arrears, which the read side's
            # contribution_shortfall warning weighs; this alert is for a payment that never came.
            continue
        what = "council payment" if missing.kind == "council" else "contribution"
        found.append(
            Alert(
                "expected_payment_missing",
                f"{missing.kind}:{missing.due_date.isoformat()}",
                {
                    "kind": missing.kind,
                    "due_date": missing.due_date.isoformat(),
                    "due": missing.due.pence,
                    "received": missing.received.pence,
                    "difference": missing.received.pence - missing.due.pence,
                    "margin_days": margin,
                },
                f"The {what} due {missing.due_date} ({missing.due}) had not arrived "
                f"{margin} days later: {missing.due - missing.received} is missing "
                f"({missing.reason}). Ask the "
                f"{'council' if missing.kind == 'council' else 'person or their representative'}"
                " about it.",
            )
        )
    return found
