"""Every query as at a date, and as known at a time, read from the projections.

An as-at query asks: what did the ledger say about the end of ``on`` (an effective date), from
what was recorded by ``known_at`` (a recorded time; ``None``: everything recorded)? It reads two
read models and no aggregate:

- the ledger lines (:mod:`~dpledger.projections.balances`): every ledger account's balance at the
  end of ``on``, as known at ``known_at``;
- the account terms (:mod:`~dpledger.projections.terms`): the terms (budgets, policy and its
  changes, reviews, suspensions, status) and the council payment and contribution records as
  they stood after the latest event effective by ``on`` among those recorded by ``known_at``.

:func:`account_as_at` puts them together as a :class:`~dpledger.domain.account.ManagedAccount`
whose balances are those at the end of ``on`` and whose latest date is ``on`` (its documents,
which no as-at figure reads, are left empty), so every figure comes from the domain's own rule
functions: :func:`~dpledger.domain.surplus.surplus_on`, ``contingency_on``,
:func:`~dpledger.domain.schedule.missing_payments`, the warning rules of
:mod:`~dpledger.projections.warnings`. One rule, one place: nothing is computed here a second time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from dpledger.adapters.views import ViewCursor
from dpledger.domain import codec
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.careplan import CarePlan
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.corrections import Corrections
from dpledger.domain.errors import AccountNotFound, ValidationError
from dpledger.domain.funds import Funds, lowest_balance_from
from dpledger.domain.invoices import InvoiceBook
from dpledger.domain.lifecycle import Terms
from dpledger.domain.money import Money
from dpledger.domain.payroll import Payroll
from dpledger.domain.snapshots import restored_aggregate
from dpledger.domain.suspense import Suspense
from dpledger.projections.balances import balances_as_of, known_key
from dpledger.projections.oversight import (
    WARNING_COLUMNS,
    PortfolioAccount,
    Warning,
    portfolio_row,
    warning_of_row,
)
from dpledger.projections.terms import TermsRow, council_accounts, opened_on, terms_row
from dpledger.projections.warnings import RULES, TIME_RULES, Condition, evaluate_on


@dataclass(frozen=True)
class AsAt:
    """An account as at the end of ``on``, as known at ``known_at``: the as-at aggregate
    (:func:`account_as_at`) and the terms row it was built from."""

    account: ManagedAccount
    row: TermsRow
    on: date
    known_at: datetime | None


def account_as_at(
    cur: ViewCursor, account_id: str, on: date, known_at: datetime | None = None
) -> AsAt:
    """The account as at the end of ``on``, as known at ``known_at`` (see the module).

    Raises :class:`~dpledger.errors.AccountNotFound` for an account the projections do not know
    (as at ``known_at``) and :class:`~dpledger.errors.ValidationError` for a date before it
    opened.
    """
    row = _row(cur, account_id, on, known_at)
    balances = balances_as_of(cur, account_id, on, known_at)
    return AsAt(_account(row, balances, on), row, on, known_at)


def figures_as_at(
    cur: ViewCursor, account_id: str, on: date, known_at: datetime | None = None
) -> tuple[dict[LedgerAccount, Money], Terms]:
    """The balances at the end of ``on`` and the terms as they stood by ``on``, as known at
    ``known_at``: what the surplus rules (:func:`~dpledger.domain.surplus.surplus_of`, ...)
    take. Cheaper than :func:`account_as_at` (the payment records are not read); the same
    errors."""
    row = _row(cur, account_id, on, known_at)
    terms: Terms = codec.decode(Terms, row.state["terms"])
    return balances_as_of(cur, account_id, on, known_at), terms


def _row(cur: ViewCursor, account_id: str, on: date, known_at: datetime | None) -> TermsRow:
    row = terms_row(cur, account_id, on, known_at)
    if row is None:
        opened = opened_on(cur, account_id)
        if opened is None or terms_row(cur, account_id, None, known_at) is None:
            raise AccountNotFound(
                "no such account"
                + ("" if known_at is None else f" recorded by {known_at.isoformat()}"),
                account_id=account_id,
                fix="open the account first"
                if known_at is None
                else "choose a later known_at, or leave it out for everything recorded",
            )
        raise ValidationError(
            f"the account was not open on {on}: it opened on {opened}",
            field="on",
            account_id=account_id,
            fix=f"ask about a date on or after {opened}",
        )
    return row


def _account(row: TermsRow, balances: dict[LedgerAccount, Money], on: date) -> ManagedAccount:
    funds: Funds = codec.decode(Funds, row.state["funds"])
    funds.balances = {a.value: m.pence for a, m in balances.items() if m.pence}
    # The bank's balance at the end of ``on`` as one figure: no day after ``on`` is counted.
    funds.bank_days = {}
    funds.bank_before = balances[LedgerAccount.BANK].pence
    stamp = datetime.combine(on, datetime.min.time(), UTC).isoformat()
    account = restored_aggregate(
        ManagedAccount,
        account_uuid(row.account_id),
        row.version,
        {"created_on": stamp, "modified_on": stamp, "head": ""},
    )
    account.terms = codec.decode(Terms, row.state["terms"])
    account.funds = funds
    account.invoicing = InvoiceBook.empty()
    account.payroll = Payroll.empty()
    account.suspense = Suspense.empty()
    account.careplan = CarePlan.empty()
    account.corrections = Corrections.empty()
    account.latest_date = on
    return account


def available_from(
    cur: ViewCursor, account_id: str, on: date, known_at: datetime | None = None
) -> Money:
    """The most that could be paid out on ``on`` without the bank going below zero then or on
    any later date, as known at ``known_at``: the domain's
    :func:`~dpledger.domain.funds.lowest_balance_from` over the bank's days from the lines."""
    cur.execute(
        "SELECT effective_date, SUM(pence) FROM dpv_lines WHERE account_id = ?"
        " AND ledger_account = ? AND recorded_at <= ? GROUP BY effective_date",
        (account_id, LedgerAccount.BANK.value, known_key(known_at)),
    )
    days = [(str(day), int(pence)) for day, pence in cur.fetchall()]
    return lowest_balance_from(0, days, on)


# ---------------------------------------------------------------------- warnings
def warnings_of(
    cur: ViewCursor,
    account_id: str | None,
    council: str | None,
    on: date,
    known_at: datetime | None,
    active_only: bool,
) -> list[Warning]:
    """The warnings as at ``on`` (:func:`warnings_as_at`) of one account, of one council's
    accounts, or (both ``None``) of every account."""
    if account_id is not None:
        ids = [account_id]
    elif council is not None:
        ids = council_accounts(cur, council)
    else:
        cur.execute("SELECT DISTINCT account_id FROM dpv_terms ORDER BY account_id")
        ids = [str(r[0]) for r in cur.fetchall()]
    found = warnings_as_at(cur, ids, on, known_at, active_only=active_only)
    return [w for w in found if council is None or w.council == council]


def warnings_as_at(
    cur: ViewCursor,
    account_ids: Iterable[str],
    on: date,
    known_at: datetime | None = None,
    *,
    active_only: bool = True,
) -> list[Warning]:
    """The warnings of ``account_ids`` as at the end of ``on``, as known at ``known_at``.

    The rules that hold by the date alone (:data:`~dpledger.projections.warnings.TIME_RULES`:
    missing payments, reviews overdue, low balance, contribution arrears, payments that differ
    from the schedule) are evaluated for ``on`` now, on the account as at ``on``
    (:func:`account_as_at`), whether or not an event arrived since. The others are those the
    oversight model raised by ``on`` (and recorded by ``known_at``) and had not cleared by then.
    A time rule's warning keeps the raising of the stored warning it continues; one that holds
    only now is raised on ``on`` at the version of the terms in force. With ``active_only``
    false, warnings of the other rules cleared by ``on`` are listed too.
    """
    found: list[Warning] = []
    for account_id in account_ids:
        as_at = _as_at_or_none(cur, account_id, on, known_at)
        if as_at is not None:  # else not open on ``on``
            found += _account_warnings(cur, as_at, active_only=active_only)
    order = {rule: index for index, rule in enumerate(RULES)}
    return sorted(
        found,
        key=lambda w: (w.account_id, order.get(w.rule, len(RULES)), w.raised_version, w.subject),
    )


def _account_warnings(cur: ViewCursor, as_at: AsAt, *, active_only: bool) -> list[Warning]:
    day, known = as_at.on.isoformat(), known_key(as_at.known_at)
    cur.execute(
        f"SELECT {WARNING_COLUMNS} FROM dpv_warnings WHERE account_id = ?"  # noqa: S608
        " AND raised_on <= ? AND raised_at <= ?",
        (as_at.row.account_id, day, known),
    )
    stored = [_stored(tuple(r), day, known) for r in cur.fetchall()]
    holding = evaluate_on(as_at.account, as_at.on)
    found: list[Warning] = []
    kept: dict[tuple[str, str], Warning] = {}
    for warning in stored:
        if warning.rule in TIME_RULES:
            if warning.active and (warning.rule, warning.subject) in holding:
                kept[(warning.rule, warning.subject)] = warning
        elif warning.active or not active_only:
            found.append(warning)
    for key, condition in holding.items():
        found.append(_from_condition(as_at, condition, kept.get(key)))
    return found


def _as_at_or_none(
    cur: ViewCursor, account_id: str, on: date, known_at: datetime | None
) -> AsAt | None:
    if terms_row(cur, account_id, on, known_at) is None:
        return None
    return account_as_at(cur, account_id, on, known_at)


def _stored(row: tuple[Any, ...], day: str, known: str) -> Warning:
    """A stored warning as at ``day``: cleared only if cleared by then (and known by then)."""
    warning = warning_of_row(row)
    cleared_on, cleared_at = row[10], row[11]
    if warning.cleared_version is None or (str(cleared_on) <= day and str(cleared_at) <= known):
        return warning
    return replace(warning, cleared_version=None, cleared_on=None, cleared_at=None)


def _from_condition(as_at: AsAt, condition: Condition, raised: Warning | None) -> Warning:
    row = as_at.row
    return Warning(
        account_id=row.account_id,
        council=row.council,
        rule=condition.rule,
        subject=condition.subject,
        raised_version=row.version if raised is None else raised.raised_version,
        raised_on=as_at.on if raised is None else raised.raised_on,
        raised_at=row.recorded_at if raised is None else raised.raised_at,
        figures=dict(condition.figures),
        explanation=condition.explanation,
    )


# ---------------------------------------------------------------------- portfolio
def portfolio_as_at(
    cur: ViewCursor, account_ids: Iterable[str], on: date, known_at: datetime | None = None
) -> list[PortfolioAccount]:
    """The portfolio rows of ``account_ids`` open on ``on``, with the figures as at the end of
    ``on`` (as known at ``known_at``) and the warning rules in force then."""
    rows = []
    for account_id in account_ids:
        as_at = _as_at_or_none(cur, account_id, on, known_at)
        if as_at is None:
            continue
        rules = sorted({w.rule for w in _account_warnings(cur, as_at, active_only=True)})
        rows.append(_portfolio_account(as_at, rules))
    return rows


def _portfolio_account(as_at: AsAt, rules: list[str]) -> PortfolioAccount:
    account = as_at.account
    # The oversight model's own row of the as-at account: one place for every column.
    row = portfolio_row(account, rules)
    return PortfolioAccount(
        account_id=account.account_id,
        council=account.council,
        provider=account.provider,
        status=str(row["status"]),
        as_of=as_at.on,
        version=as_at.row.version,
        bank=account.bank_balance,
        unpaid_liabilities=account.unpaid_liabilities,
        contingency=Money(int(row["contingency"])),
        surplus=Money(int(row["surplus"])),
        recoverable_surplus=Money(int(row["recoverable_surplus"])),
        contributions_due=Money(int(row["contributions_due"])),
        contributions_received=account.contributions_received,
        first_payment_on=account.first_payment_on,
        last_review_on=account.last_review_on,
        next_review_due=account.next_review_due,
        # The as-at account keeps no documents: what is held is the suspense accounts' balance.
        suspense_held=-account.balance(LedgerAccount.SUSPENSE),
        unexplained_out=account.balance(LedgerAccount.UNEXPLAINED_OUTGOING),
        spend={k: Money(int(v)) for k, v in json.loads(str(row["spend"])).items()},
        warnings=tuple(rules),
    )


__all__ = [
    "AsAt",
    "account_as_at",
    "available_from",
    "figures_as_at",
    "portfolio_as_at",
    "warnings_as_at",
    "warnings_of",
]
