"""Warnings and the council portfolio: the real-time oversight councils say they lack.

The ``oversight`` read model rebuilds each account's state from its events (the aggregate's own
``when``, applied to the previous state: the same arithmetic as the write side, never a second
implementation), evaluates the warning rules (:mod:`dpledger.projections.warnings`) after every
event, and keeps:

- ``dpv_warnings``: one row per warning raised, with when it was raised (the event's version,
  effective date and recorded time), its latest figures and explanation (kept current while the
  condition holds), and when it was cleared;
- ``dpv_portfolio``: one row per account with what a council's oversight table shows (money held,
  unpaid liabilities, contingency, surplus, contributions, reviews, spend by category, warnings
  in force), rewritten once per batch for each account the batch touched.

Refreshing after an event costs one account's rows, whatever the size of the portfolio.

**Reconciliation breaks** compare what statements stated with the ledger
(:mod:`dpledger.projections.reconciliation`), both as known when the event was recorded; the
engine brings ``ledger_lines`` and ``stated_balances`` at least as far as each notification this
model applies, so the warnings are the same whatever order the read models catch up in. Only the
breaks an event can change are compared again: those on or after the date of a managed account's
money in or out of the bank, the date of a balance a statement stated (a bank account's
``BankBalanceStated``, raising the warning for every account whose statements those are, at that
account's version), and every date when the account names another bank account. A bank
account's other events change no warning and never touch an account's replica.

**Alerts** of the domain (:data:`dpledger.domain.registry.ALERT_RULES`) are warnings like the
others, evaluated on the replica after each of the account's events.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from dpledger.adapters.views import ViewCursor
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bank import BankAccountOpened, BankBalanceAsserted, BankBalanceStated
from dpledger.domain.chart import EXPENSES, LedgerAccount
from dpledger.domain.events import AccountEvent
from dpledger.domain.lifecycle import AccountOpened, BankAccountNamed
from dpledger.domain.money import Money
from dpledger.domain.records import AccountStatus, OutgoingStatus, SuspenseStatus
from dpledger.projections.balances import LedgerLines, recorded_key
from dpledger.projections.engine import ReadModel, first_event
from dpledger.projections.reconciliation import (
    StatedBalances,
    accounts_holding,
    reconciliation_breaks,
)
from dpledger.projections.replicas import Replicas
from dpledger.projections.warnings import (
    BREAK_RULE,
    RULES,
    Condition,
    break_conditions,
    evaluate,
)

_REPLICAS = 2000
"""Accounts whose state the model keeps in memory between events (least recently used go)."""

ACCOUNTS_PER_PART = 300
"""A rebuild applies the events of at most about this many accounts per pass over the log, so
it keeps at most that many accounts' state in memory, whatever the store holds (an account's
state is about a tenth of a megabyte; reloading an evicted one costs its snapshot and events)."""

_OPENED_TOPIC = AccountOpened.TOPIC  # type: ignore[attr-defined]
_SHARED_TOPICS = frozenset(
    {BankAccountOpened.TOPIC, BankBalanceStated.TOPIC}  # type: ignore[attr-defined]
)
"""A bank account's events the model applies in every part (they refresh accounts' warnings)."""


class Oversight(ReadModel):
    """Warnings raised and cleared as events arrive, and one portfolio row per account."""

    name = "oversight"
    depends_on = (LedgerLines.name, StatedBalances.name)
    table_names = ("dpv_warnings", "dpv_portfolio")
    tables = (
        "CREATE TABLE IF NOT EXISTS dpv_warnings ("
        " account_id TEXT NOT NULL, council TEXT NOT NULL, rule TEXT NOT NULL,"
        " subject TEXT NOT NULL, raised_version BIGINT NOT NULL, raised_on TEXT NOT NULL,"
        " raised_at TEXT NOT NULL, figures TEXT NOT NULL, explanation TEXT NOT NULL,"
        " cleared_version BIGINT, cleared_on TEXT, cleared_at TEXT,"
        " PRIMARY KEY (account_id, rule, subject, raised_version))",
        "CREATE INDEX IF NOT EXISTS dpv_warnings_open ON dpv_warnings (council, cleared_version)",
        "CREATE TABLE IF NOT EXISTS dpv_portfolio ("
        " account_id TEXT PRIMARY KEY, council TEXT NOT NULL, provider TEXT NOT NULL,"
        " status TEXT NOT NULL, as_of TEXT NOT NULL, version BIGINT NOT NULL,"
        " bank BIGINT NOT NULL, unpaid BIGINT NOT NULL, contingency BIGINT NOT NULL,"
        " surplus BIGINT NOT NULL, recoverable_surplus BIGINT NOT NULL,"
        " contributions_due BIGINT NOT NULL, contributions_received BIGINT NOT NULL,"
        " first_payment_on TEXT, last_review_on TEXT, next_review_due TEXT,"
        " suspense_held BIGINT NOT NULL, unexplained_out BIGINT NOT NULL,"
        " spend TEXT NOT NULL, warnings TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dpv_portfolio_council ON dpv_portfolio (council)",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._replicas = Replicas(self.source, _REPLICAS)
        self._open: dict[str, dict[tuple[str, str], int]] = {}
        """Per account id: the key of each warning in force and the version that raised it."""
        self._touched: dict[str, ManagedAccount] = {}
        """Accounts an event of this batch changed: their portfolio rows are rewritten."""
        self._rewarned: set[str] = set()
        """Accounts whose warnings a bank account's event of this batch raised."""
        self._bank_keys: dict[Any, str] = {}
        self._part = 0
        self._parts = 1
        """During a rebuild's pass: apply the accounts whose id's number is ``_part`` modulo
        ``_parts`` (one pass, every account, otherwise)."""

    def partitions(self, through: int) -> int:
        opened = 0
        position = 0
        recorder: Any = self.source.recorder
        while True:
            batch = recorder.select_notifications(
                start=position,
                limit=5000,
                stop=through,
                inclusive_of_start=False,
                topics=[_OPENED_TOPIC],
            )
            if not batch:
                break
            opened += len(batch)
            position = batch[-1].id
        return max(1, -(-opened // ACCOUNTS_PER_PART))

    def take_part(self, part: int, parts: int) -> None:
        self._part, self._parts = part, parts

    def in_part(self, notification: Any) -> bool:
        return (
            self._parts == 1
            or notification.topic in _SHARED_TOPICS
            or self._mine(notification.originator_id)
        )

    def _mine(self, originator_id: Any) -> bool:
        if self._parts == 1:
            return True
        number = originator_id.int if isinstance(originator_id, UUID) else UUID(originator_id).int
        return number % self._parts == self._part

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        if isinstance(event, AccountEvent):
            self._account_event(cur, event)
        elif isinstance(event, BankBalanceStated):
            self._balance_stated(cur, event)
        elif isinstance(event, BankAccountOpened):
            self._bank_keys[event.originator_id] = event.key
        # A bank account's other events (lines booked, pending lines) change no warning: the
        # money they stand for is in the managed account's own events.

    # ------------------------------------------------------------ a managed account's event
    def _account_event(self, cur: ViewCursor, event: AccountEvent) -> None:
        account = self._replicas.apply(event)
        account_id = account.account_id
        self._touched[account_id] = account
        holding = evaluate(account)
        closed = account.status is AccountStatus.CLOSED
        scope = None if closed else _break_scope(event)
        if scope is not None:
            since, until = scope
            breaks = reconciliation_breaks(
                cur, account_id, event.timestamp, since=since, until=until
            )
            holding.update(break_conditions(breaks))

        def in_scope(key: tuple[str, str]) -> bool:
            # The account's own rules are evaluated whole after each of its events; breaks only
            # where the event can have changed them (a closed account clears every warning).
            return key[0] != BREAK_RULE or closed or _within(key[1], scope)

        when = (event.originator_version, account.latest_date.isoformat(), event.timestamp)
        self._refresh(cur, account_id, account.council, when, holding, in_scope)

    # ------------------------------------------------------------ a bank account's statement
    def _balance_stated(self, cur: ViewCursor, event: BankBalanceStated) -> None:
        key = self._bank_keys.get(event.originator_id)
        if key is None:
            key = self._bank_keys[event.originator_id] = str(
                first_event(self.source, event.originator_id).key
            )
        day = event.effective_date
        for account_id in accounts_holding(cur, key, event.timestamp):
            if not self._mine(account_uuid(account_id)):
                continue  # another part's account: its pass raises its warnings
            known = self._known(cur, account_id)
            if known is None or known.closed:
                continue  # not an account yet (as far as this model has read), or closed
            breaks = reconciliation_breaks(cur, account_id, event.timestamp, since=day, until=day)
            subject = day.isoformat()
            # The managed account did not change: the warning is raised at its version, on its
            # latest date or the statement's, whichever is later (as when 0.1 recorded the
            # stated balance on the account itself).
            when = (known.version, max(known.latest_date, day).isoformat(), event.timestamp)
            changed = self._refresh(
                cur,
                account_id,
                known.council,
                when,
                break_conditions(breaks),
                _the_break_on(subject),
            )
            if changed:
                self._rewarned.add(account_id)

    def _known(self, cur: ViewCursor, account_id: str) -> _Known | None:
        """The account as this model last left it: its replica, or else its portfolio row."""
        account = self._touched.get(account_id) or self._replicas.get(account_uuid(account_id))
        if account is not None:
            return _Known(
                account.council,
                account.version,
                account.latest_date,
                account.status is AccountStatus.CLOSED,
            )
        cur.execute(
            "SELECT council, version, as_of, status FROM dpv_portfolio WHERE account_id = ?",
            (account_id,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        council, version, as_of, status = row
        return _Known(
            str(council),
            int(version),
            date.fromisoformat(str(as_of)),
            str(status) == AccountStatus.CLOSED.value,
        )

    # ------------------------------------------------------------ raising and clearing
    def _refresh(
        self,
        cur: ViewCursor,
        account_id: str,
        council: str,
        when: tuple[int, str, datetime],
        holding: dict[tuple[str, str], Condition],
        in_scope: Callable[[tuple[str, str]], bool],
    ) -> bool:
        """Clear the warnings in scope that no longer hold, raise those that newly hold, and
        bring the figures of the others up to date; return whether any was raised or cleared.

        ``holding`` are the conditions in scope that hold; warnings out of scope are left as
        they are. ``when`` is the version, effective date and recorded time to stamp.
        """
        open_now = self._open.get(account_id)
        if open_now is None:
            open_now = self._open[account_id] = self._load_open(cur, account_id)
        version, on, moment = when
        recorded = recorded_key(moment)
        changed = False
        for key, raised_version in list(open_now.items()):
            if in_scope(key) and key not in holding:
                cur.execute(
                    "UPDATE dpv_warnings SET cleared_version = ?, cleared_on = ?, cleared_at = ?"
                    " WHERE account_id = ? AND rule = ? AND subject = ? AND raised_version = ?",
                    (version, on, recorded, account_id, *key, raised_version),
                )
                del open_now[key]
                changed = True
        # A warning may quote a bank line's text: kept sealed, as the events keep it.
        seal = getattr(self.source, "seal_view", None)

        def explanation(condition: Condition) -> str:
            text = condition.explanation
            return text if seal is None else str(seal(account_id, text))

        for key, condition in holding.items():
            figures = json.dumps(condition.figures, sort_keys=True)
            if key in open_now:
                # Still holding: not raised again, but its figures and words follow the account.
                cur.execute(
                    "UPDATE dpv_warnings SET figures = ?, explanation = ? WHERE account_id = ?"
                    " AND rule = ? AND subject = ? AND raised_version = ?",
                    (figures, explanation(condition), account_id, *key, open_now[key]),
                )
                continue
            cur.execute(
                "INSERT INTO dpv_warnings (account_id, council, rule, subject, raised_version,"
                " raised_on, raised_at, figures, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    council,
                    condition.rule,
                    condition.subject,
                    version,
                    on,
                    recorded,
                    figures,
                    explanation(condition),
                ),
            )
            open_now[key] = version
            changed = True
        return changed

    @staticmethod
    def _load_open(cur: ViewCursor, account_id: str) -> dict[tuple[str, str], int]:
        cur.execute(
            "SELECT rule, subject, raised_version FROM dpv_warnings"
            " WHERE account_id = ? AND cleared_version IS NULL",
            (account_id,),
        )
        return {(str(r), str(s)): int(v) for r, s, v in cur.fetchall()}

    def _rules_in_force(self, account_id: str) -> list[str]:
        return sorted({rule for rule, _ in self._open.get(account_id, {})})

    def flush(self, cur: ViewCursor) -> None:
        for account_id, account in self._touched.items():
            row = portfolio_row(account, self._rules_in_force(account_id))
            columns = list(row)
            cur.execute(
                f"INSERT INTO dpv_portfolio ({', '.join(columns)})"  # noqa: S608 - fixed names
                f" VALUES ({', '.join('?' for _ in columns)})"
                " ON CONFLICT (account_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "account_id"),
                list(row.values()),
            )
        for account_id in sorted(self._rewarned - set(self._touched)):
            # Only its warnings changed (a statement's balance): the rest of the row stands.
            cur.execute(
                "UPDATE dpv_portfolio SET warnings = ? WHERE account_id = ?",
                (json.dumps(self._rules_in_force(account_id)), account_id),
            )
        self._touched.clear()
        self._rewarned.clear()

    def reset(self) -> None:
        self._replicas.clear()
        self._open.clear()
        self._touched.clear()
        self._rewarned.clear()
        self._bank_keys.clear()


@dataclass(frozen=True)
class _Known:
    """What a bank account's event needs of a managed account to raise its warnings."""

    council: str
    version: int
    latest_date: date
    closed: bool


def _break_scope(event: AccountEvent) -> tuple[date | None, date | None] | None:
    """The dates of the breaks a managed account's event can change, from ``since`` to ``until``
    (``None``: open-ended), or ``None`` for none.

    Naming another bank account changes whose statements count: every date. A balance 0.1 stated
    on the account: its own date. Money in or out of the bank on a date changes the ledger's
    balance on that date and every later one. Anything else leaves the breaks as they were.
    """
    if isinstance(event, BankAccountNamed):
        return None, None
    if isinstance(event, BankBalanceAsserted):
        return event.effective_date, event.effective_date
    if any(line.account is LedgerAccount.BANK for line in event.postings):
        return event.effective_date, None
    return None


def _the_break_on(subject: str) -> Callable[[tuple[str, str]], bool]:
    return lambda key: key == (BREAK_RULE, subject)


def _within(subject: str, scope: tuple[date | None, date | None] | None) -> bool:
    if scope is None:
        return False
    since, until = scope
    # ISO dates compare as text in date order.
    return (since is None or subject >= since.isoformat()) and (
        until is None or subject <= until.isoformat()
    )


def portfolio_row(account: ManagedAccount, warnings: list[str]) -> dict[str, Any]:
    """The portfolio columns for one account, at its latest effective date."""
    on = account.latest_date
    due = account.terms.contributions_due(on)  # for the days on the net basis
    spend = {a.value.split(":", 1)[1]: account.balance(a).pence for a in EXPENSES}
    first, last, review = account.first_payment_on, account.last_review_on, account.next_review_due
    return {
        "account_id": account.account_id,
        "council": account.council,
        "provider": account.provider,
        "status": account.status.value,
        "as_of": on.isoformat(),
        "version": account.version,
        "bank": account.bank_balance.pence,
        "unpaid": account.unpaid_liabilities.pence,
        "contingency": account.contingency(on).pence,
        "surplus": account.surplus(on).pence,
        "recoverable_surplus": account.recoverable_surplus(on).pence,
        "contributions_due": due.pence,
        "contributions_received": account.contributions_received.pence,
        "first_payment_on": None if first is None else first.isoformat(),
        "last_review_on": None if last is None else last.isoformat(),
        "next_review_due": None if review is None else review.isoformat(),
        "suspense_held": sum(
            i.amount.pence
            for i in account.suspense_items.values()
            if i.status is SuspenseStatus.HELD
        ),
        "unexplained_out": sum(
            o.amount.pence
            for o in account.unexplained_outgoings.values()
            if o.status is OutgoingStatus.HELD
        ),
        "spend": json.dumps(spend, sort_keys=True),
        "warnings": json.dumps(warnings),
    }


# ---------------------------------------------------------------------- queries
@dataclass(frozen=True)
class Warning:
    """A warning raised for an account, and cleared once its condition stopped holding."""

    account_id: str
    council: str
    rule: str
    subject: str
    raised_version: int
    raised_on: date
    """The account's latest effective date when the warning was raised."""
    raised_at: datetime
    """When the event that raised it was recorded."""
    figures: dict[str, Any]
    explanation: str
    cleared_version: int | None = None
    cleared_on: date | None = None
    cleared_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the condition still holds."""
        return self.cleared_version is None


WARNING_COLUMNS = (
    "account_id, council, rule, subject, raised_version, raised_on, raised_at, figures,"
    " explanation, cleared_version, cleared_on, cleared_at"
)
"""The columns of ``dpv_warnings`` that :func:`warning_of_row` reads, in its order."""


def _when(text: Any) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


def warning_of_row(row: tuple[Any, ...]) -> Warning:
    """A ``dpv_warnings`` row (its columns in ``WARNING_COLUMNS`` order) as a Warning."""
    account, council, rule, subject, version, on, at, figures, text, c_version, c_on, c_at = row
    raised_at = _when(at)
    assert raised_at is not None
    return Warning(
        account_id=str(account),
        council=str(council),
        rule=str(rule),
        subject=str(subject),
        raised_version=int(version),
        raised_on=date.fromisoformat(str(on)),
        raised_at=raised_at,
        figures=json.loads(figures),
        explanation=str(text),
        cleared_version=None if c_version is None else int(c_version),
        cleared_on=None if c_on is None else date.fromisoformat(str(c_on)),
        cleared_at=_when(c_at),
    )


def _rule_order(w: Warning) -> tuple[int, int, str]:
    return RULES.index(w.rule) if w.rule in RULES else len(RULES), w.raised_version, w.subject


def warnings_for(
    cur: ViewCursor,
    *,
    account_id: str | None = None,
    council: str | None = None,
    active_only: bool = True,
) -> list[Warning]:
    """Warnings of one account or one council (active ones unless ``active_only=False``)."""
    sql = f"SELECT {WARNING_COLUMNS} FROM dpv_warnings WHERE 1 = 1"  # noqa: S608
    params: list[Any] = []
    if account_id is not None:
        sql += " AND account_id = ?"
        params.append(account_id)
    if council is not None:
        sql += " AND council = ?"
        params.append(council)
    if active_only:
        sql += " AND cleared_version IS NULL"
    cur.execute(sql, params)
    found = [warning_of_row(tuple(r)) for r in cur.fetchall()]
    return sorted(found, key=lambda w: (w.account_id, *_rule_order(w)))


@dataclass(frozen=True)
class PortfolioAccount:
    """One account as the council's oversight table shows it (figures at ``as_of``)."""

    account_id: str
    council: str
    provider: str
    status: str
    as_of: date
    version: int
    bank: Money
    unpaid_liabilities: Money
    contingency: Money
    surplus: Money
    recoverable_surplus: Money
    contributions_due: Money
    contributions_received: Money
    first_payment_on: date | None
    last_review_on: date | None
    next_review_due: date | None
    suspense_held: Money
    unexplained_out: Money
    spend: dict[str, Money]
    warnings: tuple[str, ...]

    @property
    def contribution_shortfall(self) -> Money:
        """Contributions due minus received, when positive."""
        short = self.contributions_due - self.contributions_received
        return short if short.pence > 0 else Money(0)


@dataclass(frozen=True)
class ReviewDue:
    """An account whose review falls due by the portfolio's date (or is overdue)."""

    account_id: str
    due: date
    overdue: bool


@dataclass(frozen=True)
class Portfolio:
    """A council's oversight table: every account, and what needs attention.

    ``reviews_due`` lists reviews due within ``review_horizon_days`` of ``on`` (overdue ones
    first); ``surplus_candidates`` accounts with a recoverable surplus, largest first.
    """

    council: str
    on: date
    accounts: tuple[PortfolioAccount, ...]
    by_warning: dict[str, tuple[str, ...]]
    """Account ids under each warning rule in force."""
    surplus_candidates: tuple[tuple[str, Money], ...]
    reviews_due: tuple[ReviewDue, ...]
    contribution_shortfalls: tuple[tuple[str, Money], ...]
    spend_by_category: dict[str, Money]
    money_held: Money
    unpaid_liabilities: Money
    total_surplus: Money


_PORTFOLIO_COLUMNS = (
    "account_id, council, provider, status, as_of, version, bank, unpaid, contingency, surplus,"
    " recoverable_surplus, contributions_due, contributions_received, first_payment_on,"
    " last_review_on, next_review_due, suspense_held, unexplained_out, spend, warnings"
)


def _optional_date(text: Any) -> date | None:
    return None if text is None else date.fromisoformat(str(text))


def portfolio_accounts(
    cur: ViewCursor, council: str | None = None, *, account_id: str | None = None
) -> list[PortfolioAccount]:
    """Portfolio rows, of one council (or one account) or of all, by account id."""
    sql = f"SELECT {_PORTFOLIO_COLUMNS} FROM dpv_portfolio"  # noqa: S608
    params: list[Any] = []
    if council is not None:
        sql += " WHERE council = ?"
        params.append(council)
    elif account_id is not None:
        sql += " WHERE account_id = ?"
        params.append(account_id)
    cur.execute(sql + " ORDER BY account_id", params)
    rows = []
    for r in cur.fetchall():
        rows.append(
            PortfolioAccount(
                account_id=str(r[0]),
                council=str(r[1]),
                provider=str(r[2]),
                status=str(r[3]),
                as_of=date.fromisoformat(str(r[4])),
                version=int(r[5]),
                bank=Money(int(r[6])),
                unpaid_liabilities=Money(int(r[7])),
                contingency=Money(int(r[8])),
                surplus=Money(int(r[9])),
                recoverable_surplus=Money(int(r[10])),
                contributions_due=Money(int(r[11])),
                contributions_received=Money(int(r[12])),
                first_payment_on=_optional_date(r[13]),
                last_review_on=_optional_date(r[14]),
                next_review_due=_optional_date(r[15]),
                suspense_held=Money(int(r[16])),
                unexplained_out=Money(int(r[17])),
                spend={k: Money(int(v)) for k, v in json.loads(r[18]).items()},
                warnings=tuple(json.loads(r[19])),
            )
        )
    return rows


def build_portfolio(
    accounts: list[PortfolioAccount], council: str, on: date, review_horizon_days: int = 30
) -> Portfolio:
    """Summarise a council's accounts as of ``on``."""
    by_warning: dict[str, list[str]] = {}
    for row in accounts:
        for rule in row.warnings:
            by_warning.setdefault(rule, []).append(row.account_id)
    reviews = []
    for row in accounts:
        due = row.next_review_due
        if due is not None and row.status != "closed" and (due - on).days <= review_horizon_days:
            reviews.append(ReviewDue(row.account_id, due, due < on))
    spend: dict[str, int] = {}
    for row in accounts:
        for category, money in row.spend.items():
            spend[category] = spend.get(category, 0) + money.pence
    return Portfolio(
        council=council,
        on=on,
        accounts=tuple(accounts),
        by_warning={r: tuple(by_warning[r]) for r in RULES if r in by_warning},
        surplus_candidates=tuple(
            sorted(
                (
                    (a.account_id, a.recoverable_surplus)
                    for a in accounts
                    if a.recoverable_surplus.pence > 0
                ),
                key=lambda pair: (-pair[1].pence, pair[0]),
            )
        ),
        reviews_due=tuple(sorted(reviews, key=lambda r: (not r.overdue, r.due, r.account_id))),
        contribution_shortfalls=tuple(
            (a.account_id, a.contribution_shortfall)
            for a in accounts
            if a.contribution_shortfall.pence > 0
        ),
        spend_by_category={k: Money(v) for k, v in sorted(spend.items())},
        money_held=Money(sum(a.bank.pence for a in accounts)),
        unpaid_liabilities=Money(sum(a.unpaid_liabilities.pence for a in accounts)),
        total_surplus=Money(sum(a.recoverable_surplus.pence for a in accounts)),
    )


__all__ = ["Condition", "Oversight", "Portfolio", "PortfolioAccount", "Warning", "build_portfolio"]
