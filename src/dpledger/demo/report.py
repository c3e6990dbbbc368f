"""The demo's report: :func:`build_demo` records the year and returns a :class:`DemoReport`,
:func:`summarise` reads one account's position back from the ledger, and :func:`render` turns the
report into the plain-text summary ``dpledger demo`` prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from textwrap import wrap
from typing import Any

from dpledger import Ledger, LedgerAccount, Money, PaymentFrequency, SpendCategory
from dpledger.adapters.store import store_environment
from dpledger.demo.accounts import STORIES
from dpledger.demo.pooled import POOL_IBAN, POOLED_ABOUT, PoolYear, pooled_story
from dpledger.demo.setting import (
    ABOUT,
    COUNCIL,
    DEMO_ACCOUNT_IDS,
    KESTREL,
    OWN_BANK_ACCOUNT_IDS,
    YEAR_END,
    YEAR_START,
)
from dpledger.demo.year import Highlight, IdempotentRetry, PreventedOverdraft, RefusedInvoice, Year
from dpledger.domain.corrections import EntryCorrected, own_fields
from dpledger.domain.records import SuspenseStatus
from dpledger.errors import AccountAlreadyExists
from dpledger.ledger import AccountState


# ----------------------------------------------------------------------------- the report
@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One account at the end of the demo year: its terms, cash in and out, and position."""

    account_id: str
    person_ref: str
    provider: str
    payment_basis: str
    frequency: str
    weekly_gross: Money
    weekly_contribution: Money
    budget_revisions: int
    money_in: dict[str, Money]
    money_out: dict[str, Money]
    bank_balance: Money
    unpaid_liabilities: Money
    contingency: Money
    surplus: Money
    status: str
    events: int


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """The pooled client account at the end of the demo year, read back from the ledger."""

    bank_account: str
    """Its key (sort code and account number)."""
    name: str
    provider: str
    members: dict[str, str]
    """Each member's person reference, by account id."""
    about: dict[str, str]
    shares: dict[str, Money]
    """Each member's money in the pool (their managed account's bank balance)."""
    balance: Money
    unallocated: Money
    held_lines: int
    adds_up: bool
    """The pool's balance is the members' shares plus the unallocated money."""
    statements: int
    """camt.053 statements imported."""
    lines: int
    """Booked lines imported."""
    allocated_by: dict[str, int]
    """How many lines each way found their member: ``named`` (the bank's text names the
    member), ``rule`` (the allocation table), ``expected`` (a unique expected payment) and
    ``held`` (held for a person to allocate)."""
    reconciliation: str
    """:meth:`~dpledger.projections.pooled.PoolPosition.reconciliation`: what the balances the
    bank stated showed."""
    commands: int
    """Commands sent for the pool and its members."""


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What :func:`build_demo` recorded: a summary per account and the year's notable moments."""

    council: str
    year_start: date
    year_end: date
    store_url: str
    accounts: tuple[AccountSummary, ...]
    highlights: tuple[Highlight, ...]
    prevented_overdrafts: tuple[PreventedOverdraft, ...]
    refused_invoices: tuple[RefusedInvoice, ...]
    retries: tuple[IdempotentRetry, ...]
    commands: int
    """Commands sent to the ledger for the five accounts, including refused ones and
    retries."""
    about: dict[str, str]
    """What each account is, in a few words, by account id."""
    pool: PoolSummary | None = None
    """The pooled client account and its members (DP-1006 and DP-1007)."""


# ----------------------------------------------------------------------------- build and summarise
def build_demo(ledger: Ledger) -> DemoReport:
    """Record the demo year on ``ledger`` and return what happened.

    Refuses a store that already holds a demo account (the year would be recorded twice):
    :class:`~dpledger.errors.AccountAlreadyExists` says to use a fresh store.
    """
    existing = set(ledger.account_ids()) & set(DEMO_ACCOUNT_IDS)
    if existing:
        raise AccountAlreadyExists(
            "this store already holds the demo",
            account_id=sorted(existing)[0],
            fix="record it on an empty store: `dpledger demo --fresh` rebuilds the SQLite file; "
            "for PostgreSQL use a new ?schema=",
        )
    year = Year(ledger)
    for story in STORIES:
        story(year)
    pool = pooled_story(year)
    year.run()

    overdrafts = year.prevented_overdrafts()
    for held in overdrafts:
        paid = "still held at the year end"
        if held.paid_on is not None:
            arrival = _ARRIVALS.get(held.paid_after or "", "money")
            paid = f"held, and paid {held.paid_on} when {arrival} arrived"
        year.note(
            held.attempted_on,
            held.account_id,
            f"overdraft prevented: paying {held.payment} ({held.amount}) from {held.balance} "
            f"would leave the bank short by {held.shortfall} (InsufficientFunds); {paid}",
        )
    return DemoReport(
        council=COUNCIL,
        year_start=YEAR_START,
        year_end=YEAR_END,
        store_url=ledger.store_url,
        accounts=tuple(summarise(ledger, account_id) for account_id in OWN_BANK_ACCOUNT_IDS),
        highlights=tuple(sorted(year.highlights, key=lambda h: (h.day, h.account_id))),
        prevented_overdrafts=overdrafts,
        refused_invoices=tuple(year.refused),
        retries=tuple(year.retries),
        commands=year.commands,
        about=dict(ABOUT),
        pool=summarise_pool(ledger, pool),
    )


def _how(reason: str, match: str | None) -> str:
    """How an imported pooled line found its member, from the import's reason for it
    (``DP-1006: allocation rule 1 ... names DP-1006; ...``)."""
    if match == "unallocated":
        return "held"
    why = reason.split(": ", 1)[-1]
    for prefix, how in (
        ("allocation rule", "rule"),
        ("the bank's text names", "named"),
        ("expected by", "expected"),
    ):
        if why.startswith(prefix):
            return how
    return "other"


def summarise_pool(ledger: Ledger, pool: PoolYear) -> PoolSummary:
    """The pooled account now, from :meth:`~dpledger.Ledger.pool_position`, with how its
    imported lines were allocated."""
    position = ledger.pool_position(POOL_IBAN)
    allocated_by = {"named": 0, "rule": 0, "expected": 0, "held": 0}
    lines = [line for report in pool.imports for line in report.recorded]
    for line in lines:
        how = _how(line.reason, line.match)
        allocated_by[how] = allocated_by.get(how, 0) + 1
    return PoolSummary(
        bank_account=position.bank_account,
        name=position.name,
        provider=KESTREL,
        members=dict(position.members),
        about=dict(POOLED_ABOUT),
        shares={m: position.shares.get(m, Money(0)) for m in position.members},
        balance=position.balance,
        unallocated=position.unallocated,
        held_lines=position.held_lines,
        adds_up=position.adds_up,
        statements=sum(report.statements for report in pool.imports),
        lines=len(lines),
        allocated_by=allocated_by,
        reconciliation=position.reconciliation(),
        commands=pool.commands,
    )


_ARRIVALS = {
    "CouncilPaymentReceived": "the council payment",
    "ContributionReceived": "the contribution",
    "OneOffPaymentReceived": "a one-off council payment",
    "UnexpectedIncomeReceived": "unexpected income",
}

MONEY_IN_ROWS = ("council", "contribution", "other")
MONEY_OUT_ROWS = (
    "agency care",
    "PA net wages",
    "HMRC",
    "pension",
    "insurance",
    "support fees",
    "other care plan",
    "refunded",
    "to the council",
)
_CASH_ROWS = {
    "CouncilPaymentReceived": "council",
    "OneOffPaymentReceived": "council",
    "ContributionReceived": "contribution",
    "InvoicePaid": "agency care",
    "RemittancePaid": "agency care",
    "NetWagesPaid": "PA net wages",
    "HmrcPaid": "HMRC",
    "PensionPaid": "pension",
    "UnexpectedIncomeRefunded": "refunded",
    "RecoupmentRepaid": "to the council",
    "AccountClosed": "to the council",
}


def _cash_row(event_type: str, fields: Mapping[str, Any], state: AccountState) -> str:
    """Which summary row a bank movement belongs to."""
    if event_type == "CarePlanSpendPaid":
        return SpendCategory(fields["category"]).value.replace("_", " ")
    if event_type == "UnexpectedIncomeReceived":
        # Money that was later identified counts as what it turned out to be.
        item = state.suspense_items[str(fields["item_id"])]
        if item.status is SuspenseStatus.CLASSIFIED and item.resolution is not None:
            return item.resolution
        return "other"
    return _CASH_ROWS[event_type]


def summarise(ledger: Ledger, account_id: str) -> AccountSummary:
    """One account's position now, with the bank's money in and out by row since it opened.

    Money in and out are read from each event's bank posting; a correction counts against the
    row of the event it reverses, so opening (nil) + in - out = the bank balance.
    """
    state = ledger.account(account_id)
    money_in = {row: Money(0) for row in MONEY_IN_ROWS}
    money_out = {row: Money(0) for row in MONEY_OUT_ROWS}
    for event in ledger.events(account_id):
        moved = Money(event.postings.effect_on(LedgerAccount.BANK))
        if moved.is_zero():
            continue
        if isinstance(event, EntryCorrected):
            row = _cash_row(event.corrected_type, event.corrected_fields, state)
        else:
            row = _cash_row(type(event).__name__, own_fields(event), state)
        if row in money_in:
            money_in[row] += moved
        else:
            money_out[row] -= moved
    budget = state.budgets[-1]
    policy = state.policy
    frequency = "4-weekly" if policy.frequency is PaymentFrequency.FOUR_WEEKLY else "monthly"
    return AccountSummary(
        account_id=account_id,
        person_ref=state.person_ref,
        provider=state.provider,
        payment_basis=policy.payment_basis.value,
        frequency=frequency,
        weekly_gross=budget.weekly_gross,
        weekly_contribution=budget.weekly_contribution,
        budget_revisions=len(state.budgets) - 1,
        money_in=money_in,
        money_out=money_out,
        bank_balance=state.bank_balance,
        unpaid_liabilities=state.unpaid_liabilities,
        contingency=policy.contingency(budget.weekly_gross),
        surplus=ledger.surplus(account_id, YEAR_END),
        status=state.status.value,
        events=state.version,
    )


def _sqlite_file(store_url: str) -> str | None:
    """The SQLite file behind ``store_url``, if it is one."""
    env = store_environment(store_url)
    return env.get("SQLITE_DBNAME")


def render(report: DemoReport) -> str:
    """The plain-text summary ``dpledger demo`` prints (about 70 lines, 90 columns at most)."""
    accounts = report.accounts

    def row(name: str, values: list[str]) -> str:
        return (f"{name:<19}" + "".join(f"{value:>12}" for value in values)).rstrip()

    def money_row(name: str, amounts: list[Money], *, nil: str = "£0.00") -> str:
        return row(name, [nil if amount.is_zero() else str(amount) for amount in amounts])

    providers: dict[str, list[str]] = {}
    for account in accounts:
        providers.setdefault(account.provider, []).append(account.account_id)
    run_by = " and ".join(f"{name} ({', '.join(ids)})" for name, ids in providers.items())
    events = sum(a.events for a in accounts)
    lines = [
        f"dpledger demo: a year at {report.council} (fictional), "
        f"{report.year_start:%d %b %Y} to {report.year_end:%d %b %Y}",
        *wrap(
            f"{len(accounts)} managed accounts run by {run_by}: "
            f"{events} events recorded from {report.commands} commands "
            f"(the other {report.commands - events} were refused or were retries).",
            width=90,
        ),
        "",
        *(f"{a.account_id}  {report.about.get(a.account_id, '')}".rstrip() for a in accounts),
        "",
        row("", [a.account_id for a in accounts]),
        row("person", [a.person_ref for a in accounts]),
        row("council pays", [a.frequency for a in accounts]),
        row("  basis", [a.payment_basis for a in accounts]),
        row(
            "weekly budget",
            [f"{a.weekly_gross}{'*' if a.budget_revisions else ''}" for a in accounts],
        ),
        money_row("  contribution", [a.weekly_contribution for a in accounts]),
        "money in",
    ]
    # Rows that are nil for every account say nothing; leave them out.
    for name in MONEY_IN_ROWS:
        if any(not a.money_in[name].is_zero() for a in accounts):
            lines.append(money_row(f"  {name}", [a.money_in[name] for a in accounts], nil="-"))
    lines.append("money out")
    for name in MONEY_OUT_ROWS:
        if any(not a.money_out[name].is_zero() for a in accounts):
            lines.append(money_row(f"  {name}", [a.money_out[name] for a in accounts], nil="-"))
    lines += [
        money_row("bank balance", [a.bank_balance for a in accounts]),
        money_row("unpaid liabilities", [a.unpaid_liabilities for a in accounts]),
        money_row("contingency", [a.contingency for a in accounts]),
        money_row("surplus", [a.surplus for a in accounts]),
        row("status", [a.status for a in accounts]),
        row("events", [str(a.events) for a in accounts]),
        "* revised during the year. Every account opened with £0: money in - money out = bank.",
        "Surplus = bank - unpaid liabilities - contingency (6 weeks' budget), never below £0.",
        "",
        *_render_pool(report.pool),
        "What happened",
    ]
    for highlight in report.highlights:
        text = f"{highlight.day} {highlight.account_id}  {highlight.text}"
        lines += wrap(text, width=90, subsequent_indent=" " * 20, break_on_hyphens=False)
    lines.append("")
    sqlite_file, last = _sqlite_file(report.store_url), accounts[-1]
    if sqlite_file is None:
        lines.append(f"The events were stored in {report.store_url}")
    else:
        lines += [
            f"The events are in {os.path.abspath(sqlite_file)} (SQLite).",
            f'Read them back: Ledger.sqlite("{sqlite_file}").bank_balance("{last.account_id}")'
            f"  # {last.bank_balance}",
        ]
    lines += [
        "Next: .venv/bin/python examples/01_quickstart.py (then 02_idempotency_and_errors.py,",
        "      03_sqlite_store.py); docs/model.md explains every event, posting and rule.",
    ]
    return "\n".join(lines)


def _render_pool(pool: PoolSummary | None) -> list[str]:
    """The pooled client account's section: each member's share, what is unallocated, how the
    lines found their member, and what the balances the bank stated showed."""
    if pool is None:
        return []
    members = list(pool.members)

    def row(name: str, values: list[str]) -> str:
        return (f"{name:<19}" + "".join(f"{value:>12}" for value in values)).rstrip()

    by = pool.allocated_by
    adds_up = "" if pool.adds_up else " THE POOL DOES NOT ADD UP: run dpledger verify."
    summary = (
        f"{pool.statements} camt.053 statements imported, {pool.lines} lines: {by['named']} "
        f"named their member, {by['rule']} matched the allocation table, {by['expected']} an "
        f"expected payment, {by['held']} held for a person to allocate.{adds_up} "
        f"Reconciliation: {pool.reconciliation}."
    )
    return [
        f"{pool.name} {pool.bank_account} (pooled, {pool.provider})",
        *(f"{m}  {pool.members[m]}  {pool.about.get(m, '')}".rstrip() for m in members),
        row("", [*members, "unallocated", "pool"]),
        row(
            "share",
            [*(str(pool.shares[m]) for m in members), str(pool.unallocated), str(pool.balance)],
        ),
        *wrap(summary, width=90),
        "",
    ]
