"""Balances at any date, bi-temporal, and money in and out by category for any period.

The ``ledger_lines`` read model keeps one row per posting with the event's effective date and
recorded time, so a balance is a sum over one account's rows (an index on account, ledger account
and effective date keeps it to that account): *as of* an effective date, and optionally *as known*
at a recorded time (what the ledger said on 15 March about 1 March, before a late invoice).

Bank rows also carry the **counterpart** they moved against (``income:council``,
``liabilities:agency``, ...): a bank posting whose event has several counter-legs is split across
them, so money in by source and money out by category add up to the bank's movement exactly and
opening + in - out = closing holds for every period. Balances come from postings only; no event
type is interpreted here, so a new kind of event needs no change. A bank account's events (statement
lines, stated balances, pending lines) post nothing and leave these rows alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dpledger.adapters.views import ViewCursor
from dpledger.domain.chart import LedgerAccount, Postings
from dpledger.domain.events import AccountEvent
from dpledger.domain.lifecycle import AccountOpened
from dpledger.domain.money import Money
from dpledger.projections.engine import ReadModel, first_event

MIXED = "mixed"
"""The counterpart of a bank posting whose counter-legs do not split it exactly."""

MONEY_IN_SOURCES: Mapping[str, str] = {
    LedgerAccount.COUNCIL_INCOME.value: "council",
    LedgerAccount.CONTRIBUTION_INCOME.value: "contribution",
    LedgerAccount.OTHER_INCOME.value: "other",
    LedgerAccount.SUSPENSE.value: "unexpected",
}
"""Counterparts that make a bank movement *money in* (net of refunds and corrections)."""

MONEY_OUT_CATEGORIES: Mapping[str, str] = {
    LedgerAccount.AGENCY_PAYABLE.value: "agency_care",
    LedgerAccount.PA_NET_WAGES_PAYABLE.value: "pa_wages",
    LedgerAccount.HMRC_PAYABLE.value: "hmrc",
    LedgerAccount.PENSION_PAYABLE.value: "pension",
    LedgerAccount.COUNCIL_PAYABLE.value: "returned_to_council",
    LedgerAccount.RETURNED_TO_COUNCIL.value: "returned_to_council",
    LedgerAccount.INSURANCE.value: "insurance",
    LedgerAccount.SUPPORT_FEES.value: "support_fees",
    LedgerAccount.OTHER_CARE_PLAN.value: "other_care_plan",
    LedgerAccount.AGENCY_CARE.value: "agency_care",
    LedgerAccount.PA_GROSS_WAGES.value: "pa_wages",
    LedgerAccount.EMPLOYER_NI.value: "hmrc",
    LedgerAccount.EMPLOYER_PENSION.value: "pension",
}
"""Counterparts that make a bank movement *money out*, by spend category; anything else
(unexplained outgoings, mixed events) is money out under its own name."""


def category_of(counterpart: str) -> tuple[str, str]:
    """``("in", source)`` or ``("out", category)`` for a bank row's counterpart."""
    if counterpart in MONEY_IN_SOURCES:
        return "in", MONEY_IN_SOURCES[counterpart]
    if counterpart in MONEY_OUT_CATEGORIES:
        return "out", MONEY_OUT_CATEGORIES[counterpart]
    return "out", counterpart.split(":", 1)[-1]


def recorded_key(moment: datetime) -> str:
    """A recorded time as sortable UTC text (how the views store and compare it)."""
    if moment.tzinfo is None:
        raise ValueError("a recorded time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def split_bank(postings: Postings) -> list[tuple[str, str, int]]:
    """Each posting as ``(ledger account, counterpart, pence)``; bank postings split by counter-leg.

    Non-bank rows have counterpart ``""``.
    """
    lines = list(postings)
    rows: list[tuple[str, str, int]] = []
    others = [p for p in lines if p.account is not LedgerAccount.BANK]
    for line in lines:
        pence = line.amount.pence
        if line.account is not LedgerAccount.BANK:
            rows.append((line.account.value, "", pence))
            continue
        opposite = [p for p in others if (p.amount.pence > 0) != (pence > 0)]
        if opposite and sum(p.amount.pence for p in opposite) == -pence:
            rows.extend((line.account.value, p.account.value, -p.amount.pence) for p in opposite)
        elif len(others) == 1:
            rows.append((line.account.value, others[0].account.value, pence))
        else:
            rows.append((line.account.value, MIXED, pence))
    return rows


class LedgerLines(ReadModel):
    """Every posting of every account, with its effective date and recorded time."""

    name = "ledger_lines"
    table_names = ("dpv_lines",)
    tables = (
        "CREATE TABLE IF NOT EXISTS dpv_lines ("
        " account_id TEXT NOT NULL, version BIGINT NOT NULL, seq INTEGER NOT NULL,"
        " effective_date TEXT NOT NULL, recorded_at TEXT NOT NULL, ledger_account TEXT NOT NULL,"
        " counterpart TEXT NOT NULL, pence BIGINT NOT NULL, event_type TEXT NOT NULL,"
        " PRIMARY KEY (account_id, version, seq))",
        "CREATE INDEX IF NOT EXISTS dpv_lines_balance"
        " ON dpv_lines (account_id, ledger_account, effective_date)",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._names: dict[Any, str] = {}
        self._rows: list[tuple[Any, ...]] = []
        """Rows of the batch, written by :meth:`flush`."""

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        if not isinstance(event, AccountEvent):
            return  # a bank account's events post nothing: the managed accounts hold the money
        postings = event.postings
        if isinstance(event, AccountOpened):
            self._names[event.originator_id] = event.account_id
        account_id = self._account_id(event.originator_id)
        effective = event.effective_date.isoformat()
        recorded = recorded_key(event.timestamp)
        kind = type(event).__name__
        rows = [
            (account_id, event.originator_version, seq, effective, recorded, code, cp, pence, kind)
            for seq, (code, cp, pence) in enumerate(split_bank(postings))
        ]
        if not rows:
            # An event without postings still marks the account as known (balances of zero).
            rows = [(account_id, event.originator_version, 0, effective, recorded, "", "", 0, kind)]
        self._rows.extend(rows)

    def flush(self, cur: ViewCursor) -> None:
        # One statement for the batch's rows: far cheaper than one per event.
        if self._rows:
            cur.executemany(
                "INSERT INTO dpv_lines (account_id, version, seq, effective_date, recorded_at,"
                " ledger_account, counterpart, pence, event_type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._rows,
            )
            self._rows.clear()

    def _account_id(self, originator_id: Any) -> str:
        name = self._names.get(originator_id)
        if name is None:
            # Only an account's first event names it; later batches look the name up once.
            name = str(first_event(self.source, originator_id).account_id)
            self._names[originator_id] = name
        return name

    def reset(self) -> None:
        self._names.clear()
        self._rows.clear()


@dataclass(frozen=True)
class PeriodSummary:
    """The bank's movement over a period: opening + money in - money out = closing.

    ``money_in`` is by source (council, contribution, other, unexpected), ``money_out`` by spend
    category (agency_care, pa_wages, hmrc, pension, insurance, support_fees, other_care_plan,
    returned_to_council, ...), each net of corrections and refunds within the category.
    """

    account_id: str
    start: date
    end: date
    known_at: datetime | None
    opening: Money
    money_in: dict[str, Money]
    money_out: dict[str, Money]
    closing: Money

    @property
    def total_in(self) -> Money:
        """All money in over the period."""
        return Money(sum(m.pence for m in self.money_in.values()))

    @property
    def total_out(self) -> Money:
        """All money out over the period."""
        return Money(sum(m.pence for m in self.money_out.values()))


_NOW = "9999-12-31T23:59:59.999999"  # "as known now": later than any recorded time


def known_key(known_at: datetime | None) -> str:
    """The recorded-time bound of a query as known at ``known_at`` (``None``: everything)."""
    return _NOW if known_at is None else recorded_key(known_at)


def balance_as_of(
    cur: ViewCursor,
    account_id: str,
    ledger_account: str,
    as_of: date,
    known_at: datetime | None = None,
) -> Money:
    """One ledger account's balance at the end of ``as_of``, as known at ``known_at`` (or now)."""
    cur.execute(
        "SELECT COALESCE(SUM(pence), 0) FROM dpv_lines WHERE account_id = ?"
        " AND ledger_account = ? AND effective_date <= ? AND recorded_at <= ?",
        [account_id, ledger_account, as_of.isoformat(), known_key(known_at)],
    )
    row = cur.fetchone()
    return Money(int(row[0]) if row else 0)


def balances_as_of(
    cur: ViewCursor, account_id: str, as_of: date, known_at: datetime | None = None
) -> dict[LedgerAccount, Money]:
    """Every ledger account's balance at the end of ``as_of`` (zero ones included)."""
    cur.execute(
        "SELECT ledger_account, COALESCE(SUM(pence), 0) FROM dpv_lines WHERE account_id = ?"
        " AND effective_date <= ? AND ledger_account <> '' AND recorded_at <= ?"
        " GROUP BY ledger_account",
        [account_id, as_of.isoformat(), known_key(known_at)],
    )
    found = {str(code): int(pence) for code, pence in cur.fetchall()}
    return {a: Money(found.get(a.value, 0)) for a in LedgerAccount}


def period_summary(
    cur: ViewCursor,
    account_id: str,
    start: date,
    end: date,
    known_at: datetime | None = None,
) -> PeriodSummary:
    """The bank's opening balance, money in by source, out by category and closing balance."""
    known = known_key(known_at)
    bank = LedgerAccount.BANK.value
    cur.execute(
        "SELECT COALESCE(SUM(pence), 0) FROM dpv_lines WHERE account_id = ?"
        " AND ledger_account = ? AND effective_date < ? AND recorded_at <= ?",
        [account_id, bank, start.isoformat(), known],
    )
    row = cur.fetchone()
    opening = int(row[0]) if row else 0
    cur.execute(
        "SELECT counterpart, SUM(pence) FROM dpv_lines WHERE account_id = ?"
        " AND ledger_account = ? AND effective_date >= ? AND effective_date <= ?"
        " AND recorded_at <= ? GROUP BY counterpart ORDER BY counterpart",
        [account_id, bank, start.isoformat(), end.isoformat(), known],
    )
    money_in: dict[str, int] = {}
    money_out: dict[str, int] = {}
    for counterpart, pence in cur.fetchall():
        side, label = category_of(str(counterpart))
        if side == "in":
            money_in[label] = money_in.get(label, 0) + int(pence)
        else:
            money_out[label] = money_out.get(label, 0) - int(pence)
    # Closing is summed on its own, not derived, so opening + in - out = closing is a real check.
    closing = balance_as_of(cur, account_id, bank, end, known_at).pence
    return PeriodSummary(
        account_id=account_id,
        start=start,
        end=end,
        known_at=known_at,
        opening=Money(opening),
        money_in={k: Money(v) for k, v in sorted(money_in.items())},
        money_out={k: Money(v) for k, v in sorted(money_out.items())},
        closing=Money(closing),
    )
