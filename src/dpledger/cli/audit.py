"""The read-only audit commands: replay, balance, statement, warnings, portfolio, verify, seal.

None of them writes an event. Each prints for people by default and JSON with ``--json``.
"""

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from dpledger.cli.app import app
from dpledger.cli.common import (
    EXIT_ATTENTION,
    EXIT_BROKEN,
    EXIT_OK,
    JsonOption,
    StoreOption,
    err,
    jsonable,
    ledger_on,
    out,
    parse_date,
    parse_time,
    print_json,
    progress_bar,
    require_intact_chain,
    table,
)
from dpledger.cli.periods import (
    FromOption,
    FyOption,
    MonthOption,
    QuarterOption,
    ToOption,
    period_options,
    resolve_period,
)
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.money import Money
from dpledger.errors import ValidationError
from dpledger.readside import Seal, seals_to_json
from dpledger.reporting.periods import months_of
from dpledger.reporting.statement import BudgetCheck, period_budget
from dpledger.reporting.text import label, render_statement

AccountArg = Annotated[str, typer.Argument(metavar="ACCOUNT", help="The account id, e.g. DP-1001.")]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        metavar="TIME",
        help="Answer as the ledger knew it at this recorded time (ISO, with a zone, e.g. "
        "2026-03-15T12:00:00+00:00; a bare date means its start, UTC). Default: everything "
        "recorded.",
        show_default=False,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The effective date to answer at (end of that day). Default: today.",
        show_default=False,
    ),
]


# ----------------------------------------------------------------------------- replay
@app.command(
    epilog="Example: dpledger replay --as-of 2026-03-31  |  dpledger replay DP-1001 --as-of "
    "2026-03-31 --known-at 2026-04-02T09:00:00+00:00"
)
def replay(
    account_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ACCOUNT", help="One account; default: every account.", show_default=False
        ),
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Rebuild every projection from the events first."),
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Replay stored events to an effective date, optionally as known at a recorded time.

    Verifies the hash chain first and refuses (exit code 5) if it is broken, --rebuild included:
    read models rebuilt from tampered rows would agree with them. Then folds each account's
    stored events (not snapshots, not projections) into balances and checks the projections give
    the same answer. Exit code 3 if any account disagrees.
    """
    day = parse_date(as_of, "--as-of") or date.today()
    moment = parse_time(known_at)
    with ledger_on(store) as ledger:
        require_intact_chain(ledger, account_id, "replay", as_json=as_json)
        if rebuild:
            with progress_bar("Rebuilding projections") as update:
                ledger.rebuild_projections(progress=lambda _name, done, total: update(done, total))
        if account_id is not None:
            results = [ledger.replay(account_id, day, known_at=moment)]
        else:
            with progress_bar("Replaying accounts") as update:
                results = ledger.replay_store(day, known_at=moment, progress=update)
    disagree = [r.account_id for r in results if not r.projection_agrees]
    if as_json:
        print_json(
            "replay",
            {
                "as_of": day,
                "known_at": moment,
                "rebuilt": rebuild,
                "accounts": [r.as_dict() for r in results],
                "disagreements": disagree,
            },
        )
    else:
        known = "as known now" if moment is None else f"as known at {moment.isoformat()}"
        grid = table(
            f"Replay to the end of {day}, {known}",
            *("account", "events", "status", "bank", "unpaid", "projection"),
            right=("events", "bank", "unpaid"),
        )
        for r in results:
            grid.add_row(
                r.account_id,
                f"{r.events_applied}/{r.events_stored}",
                r.status,
                str(r.bank),
                str(r.unpaid_liabilities),
                "agrees" if r.projection_agrees else "[bold red]DISAGREES[/]",
            )
        out.print(grid)
        if disagree:
            err.print(
                f"dpledger: the projections disagree with the events for {', '.join(disagree)} "
                "(the chain itself verified). Fix: run `dpledger replay --rebuild`, which "
                "rebuilds them from the verified events"
            )
    return EXIT_BROKEN if disagree else EXIT_OK


# ----------------------------------------------------------------------------- balance
@app.command(
    epilog="Examples: dpledger balance DP-1001 --as-of 2026-03-31 --all  |  dpledger balance "
    "DP-1001 --monthly --fy 2025-26"
)
def balance(
    account_id: AccountArg,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    all_accounts: Annotated[
        bool, typer.Option("--all", help="Every ledger account, not only the bank.")
    ] = False,
    monthly: Annotated[
        bool,
        typer.Option(
            "--monthly",
            help="One column per month of the period (--from/--to, --fy, --month or "
            "--quarter): each balance at the month's end.",
        ),
    ] = False,
    start: FromOption = None,
    end: ToOption = None,
    fy: FyOption = None,
    month: MonthOption = None,
    quarter: QuarterOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """An account's bank balance (or every ledger account's) at the end of a date, or at the end
    of each month of a period (--monthly)."""
    moment = parse_time(known_at)
    period_given = [o for o, v in period_options(start, end, fy, month, quarter) if v]
    if not monthly and period_given:
        raise typer.BadParameter(
            "a period goes with --monthly; for one date use --as-of", param_hint=period_given[0]
        )
    if monthly and as_of is not None:
        raise typer.BadParameter(
            "--monthly shows each month's end; give the period with --from/--to, --fy, --month "
            "or --quarter instead",
            param_hint="--as-of",
        )
    if monthly:
        return _monthly(
            account_id, moment, all_accounts, (start, end, fy, month, quarter), store, as_json
        )
    day = parse_date(as_of, "--as-of") or date.today()
    with ledger_on(store) as ledger:
        balances = ledger.balances_as_of(account_id, day, known_at=moment)
    shown = balances if all_accounts else {LedgerAccount.BANK: balances[LedgerAccount.BANK]}
    if as_json:
        print_json(
            "balance",
            {
                "account_id": account_id,
                "as_of": day,
                "known_at": moment,
                "balances_pence": {a.value: m for a, m in shown.items()},
            },
        )
        return EXIT_OK
    known = "" if moment is None else f", as known at {moment.isoformat()}"
    if not all_accounts:
        out.print(
            f"{account_id} bank balance at the end of {day}{known}: {shown[LedgerAccount.BANK]}"
        )
        return EXIT_OK
    grid = table(
        f"{account_id} at the end of {day}{known} (debit positive)",
        *("ledger account", "balance"),
        right=("balance",),
    )
    for account, money in shown.items():
        grid.add_row(account.value, str(money))
    out.print(grid)
    return EXIT_OK


def _monthly(
    account_id: str,
    moment: datetime | None,
    all_accounts: bool,
    period: tuple[str | None, ...],
    store: str | None,
    as_json: bool,
) -> int:
    """``balance --monthly``: each ledger account's balance at each month's end, a column a
    month (the last column ends with the period, which may end mid-month)."""
    start, end, fy, month, quarter = period
    with ledger_on(store) as ledger:
        first, last = resolve_period(ledger, account_id, start, end, fy, month, quarter)
        months = months_of(first, last)
        columns = [
            (month_end, ledger.balances_as_of(account_id, month_end, known_at=moment))
            for _, month_end in months
        ]
    rows = list(LedgerAccount) if all_accounts else [LedgerAccount.BANK]
    if as_json:
        print_json(
            "balance",
            {
                "account_id": account_id,
                "start": first,
                "end": last,
                "known_at": moment,
                "months": [
                    {
                        "month": f"{month_end:%Y-%m}",
                        "as_of": month_end,
                        "balances_pence": {a.value: balances[a] for a in rows},
                    }
                    for month_end, balances in columns
                ],
            },
        )
        return EXIT_OK
    known = "" if moment is None else f", as known at {moment.isoformat()}"
    # A month cut short by the period's end is headed by its last day.
    headings = [
        f"{day:%Y-%m}" if (day + timedelta(days=1)).day == 1 else str(day) for day, _ in columns
    ]
    grid = table(
        f"{account_id} at each month's end, {first} to {last}{known} (debit positive)",
        "ledger account",
        *headings,
        right=tuple(headings),
    )
    for account in rows:
        grid.add_row(account.value, *(str(balances[account]) for _, balances in columns))
    out.print(grid)
    return EXIT_OK


# ----------------------------------------------------------------------------- statement
@app.command(
    epilog="Examples: dpledger statement DP-1003 --from 2025-04-01 --to 2026-03-31  |  "
    "dpledger statement DP-1003 --fy 2025-26"
)
def statement(
    account_id: AccountArg,
    start: FromOption = None,
    end: ToOption = None,
    fy: FyOption = None,
    month: MonthOption = None,
    quarter: QuarterOption = None,
    known_at: KnownAtOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """The audit sheet of an account for a period.

    Opening balance, money in (council, contribution, other), money out by category, closing
    balance (opening + in - out = closing is checked), unpaid liabilities, contingency,
    surplus, the budget against spend and contributions due against received, unexpected items
    and their resolution, reconciliation breaks, warnings raised in the period, the period's
    events with when each was recorded, and the chain head read. The chain is verified first:
    exit code 5 if it is broken (no figures are shown), 3 if the figures do not add up.
    """
    moment = parse_time(known_at)
    with ledger_on(store) as ledger:
        first, last = resolve_period(ledger, account_id, start, end, fy, month, quarter)
        require_intact_chain(ledger, account_id, "statement", as_json=as_json)
        sheet = ledger.statement(account_id, first, last, known_at=moment)
    if as_json:
        print_json("statement", {"statement": sheet.to_dict()})
    else:
        out.print(render_statement(sheet), end="", markup=False)
    return EXIT_OK if sheet.reconciles else EXIT_BROKEN


# ----------------------------------------------------------------------------- warnings
@app.command(
    "warnings",
    epilog="Example: dpledger warnings --council 'Northshire County Council' --check",
)
def warnings_(
    account_id: Annotated[
        str | None,
        typer.Argument(metavar="ACCOUNT", help="One account; default: all.", show_default=False),
    ] = None,
    council: Annotated[
        str | None,
        typer.Option("--council", help="Only this council's accounts.", show_default=False),
    ] = None,
    history: Annotated[
        bool, typer.Option("--all", help="Every warning ever raised, cleared ones too.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with code 4 if any warning is in force.")
    ] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="The warnings as they stood at the end of this effective date (in force then, "
            "or raised by then with --all). Default: now.",
            show_default=False,
        ),
    ] = None,
    known_at: KnownAtOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Warnings in force (or ever raised), for one account, a council or the store, now or on
    a date (--on).

    Rules: overdrawn, committed beyond funds, running out before the next payment, low
    balance, contribution shortfall, unexpected money in or out, reconciliation breaks,
    reviews overdue, paid while suspended (docs/projections.md).
    """
    day, moment = parse_date(on, "--on"), parse_time(known_at)
    with ledger_on(store) as ledger:
        found = ledger.warnings(
            account_id, council=council, active_only=not history, on=day, known_at=moment
        )
    if as_json:
        print_json(
            "warnings",
            {
                "account_id": account_id,
                "council": council,
                "on": day,
                "known_at": moment,
                "active_only": not history,
                "warnings": found,
            },
        )
    elif not found:
        when = "" if day is None else f" on {day}"
        out.print(
            f"No warnings in force{when}." if not history else f"No warnings were raised{when}."
        )
    else:
        grid = table(
            f"{len(found)} warning(s)" + ("" if day is None else f" on {day}"),
            *("account", "rule", "since", "cleared", "explanation"),
            fold=True,
        )
        for w in found:
            grid.add_row(
                w.account_id,
                w.rule + (f" {w.subject}" if w.subject else ""),
                str(w.raised_on),
                "" if w.cleared_on is None else str(w.cleared_on),
                w.explanation,
            )
        out.print(grid)
    in_force = [w for w in found if w.active]
    return EXIT_ATTENTION if check and in_force else EXIT_OK


# ----------------------------------------------------------------------------- portfolio
@app.command(epilog="Example: dpledger portfolio 'Northshire County Council' --on 2026-04-04")
def portfolio(
    council: Annotated[
        str | None,
        typer.Argument(
            metavar="COUNCIL",
            help="The council; default: the only one in the store.",
            show_default=False,
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="Every figure as at the end of this date, of the accounts open then. Default: "
            "each account's latest figures, reviews due counted from today.",
            show_default=False,
        ),
    ] = None,
    horizon: Annotated[
        int,
        typer.Option("--horizon", metavar="DAYS", help="Reviews due within this many days.", min=0),
    ] = 30,
    known_at: KnownAtOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """A council's oversight table of its managed accounts.

    Money held, accounts under each warning, surplus to recover, reviews due, each account's
    budget against its spend and contributions due against received (saying which days the
    spend covers), contribution shortfalls and spend by category.
    """
    day, moment = parse_date(on, "--on"), parse_time(known_at)
    with ledger_on(store) as ledger:
        councils = ledger.councils()
        if council is None:
            if len(councils) != 1:
                raise ValidationError(
                    f"the store holds {len(councils)} councils: {', '.join(councils) or 'none'}",
                    field="COUNCIL",
                    fix="name one of them",
                )
            council = councils[0]
        elif council not in councils:
            raise ValidationError(
                f"no account belongs to council {council!r}",
                field="COUNCIL",
                fix=f"use one of: {', '.join(councils) or '(the store is empty)'}",
            )
        view = ledger.portfolio(council, on=day, review_horizon_days=horizon, known_at=moment)
        budgets: dict[str, BudgetCheck] = {}
        for a in view.accounts:
            # The portfolio's spend is what each account incurred (its expense accounts) from
            # its opening to its latest entry: the budget is taken over the same days.
            state = ledger.account(a.account_id)
            budgets[a.account_id] = BudgetCheck(
                start=state.opened_on,
                end=a.as_of,
                budget=period_budget(state.budgets, state.opened_on, a.as_of),
                spent=Money(sum(m.pence for m in a.spend.values())),
                contributions_due=a.contributions_due,
                contributions_received=a.contributions_received,
            )
    covers = _spend_covers(budgets)
    if as_json:
        print_json(
            "portfolio",
            {
                "portfolio": view,
                "spend_covers": covers,
                "budgets": {k: b.to_dict() for k, b in budgets.items()},
            },
        )
        return EXIT_OK
    out.print(f"[bold]{view.council}[/]: {len(view.accounts)} accounts, on {view.on}")
    out.print(
        f"Money held {view.money_held} · unpaid liabilities {view.unpaid_liabilities} · "
        f"recoverable surplus {view.total_surplus}"
    )
    grid = table(
        "Accounts",
        *("account", "status", "bank", "unpaid", "contingency", "surplus"),
        *("next review", "warnings"),
        right=("bank", "unpaid", "contingency", "surplus"),
        fold=True,
    )
    for a in view.accounts:
        grid.add_row(
            a.account_id,
            a.status,
            str(a.bank),
            str(a.unpaid_liabilities),
            str(a.contingency),
            str(a.recoverable_surplus),
            "" if a.next_review_due is None else str(a.next_review_due),
            ", ".join(a.warnings),
        )
    out.print(grid)
    money = ("budget", "spent", "budget - spent", "contrib. due", "received", "due - received")
    plan = table(
        f"Budget against spend {covers}; contributions due against received",
        *("account", "from", "to", *money),
        right=money,
        fold=True,
    )
    for account, b in budgets.items():
        plan.add_row(
            account,
            str(b.start),
            str(b.end),
            *(str(m) for m in (b.budget, b.spent, b.under_budget)),
            *(str(m) for m in (b.contributions_due, b.contributions_received)),
            str(b.contributions_short),
        )
    out.print(plan)
    if view.by_warning:
        out.print("[bold]Accounts by warning[/]")
        for rule, ids in view.by_warning.items():
            out.print(f"  {rule}: {', '.join(ids)}")
    if view.surplus_candidates:
        out.print("[bold]Surplus to recover[/]")
        for account, money_ in view.surplus_candidates:
            out.print(f"  {account}: {money_}")
    if view.reviews_due:
        out.print(f"[bold]Reviews due within {horizon} days[/]")
        for review in view.reviews_due:
            out.print(
                f"  {review.account_id}: {review.due}{' (overdue)' if review.overdue else ''}"
            )
    if view.contribution_shortfalls:
        out.print("[bold]Contribution shortfalls[/]")
        for account, money_ in view.contribution_shortfalls:
            out.print(f"  {account}: {money_}")
    if view.spend_by_category:
        out.print(f"[bold]Spend by category[/], {covers}")
        for category, money_ in view.spend_by_category.items():
            out.print(f"  {label(category)}: {money_}")
    return EXIT_OK


def _spend_covers(budgets: dict[str, BudgetCheck]) -> str:
    """Which days the portfolio's spend covers, in words."""
    if not budgets:
        return "no accounts"
    first = min(b.start for b in budgets.values())
    last = max(b.end for b in budgets.values())
    return f"incurred from each account's opening to its latest entry ({first} to {last})"


# ----------------------------------------------------------------------------- verify, seal
@app.command(
    epilog="Example: dpledger seal --all -o seals.json, later: dpledger verify --seals seals.json"
)
def verify(
    account_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ACCOUNT", help="One account; default: the whole store.", show_default=False
        ),
    ] = None,
    seals: Annotated[
        Path | None,
        typer.Option(
            "--seals",
            metavar="FILE",
            help="Seals taken earlier (`dpledger seal`): each must still match. Seals with an "
            "HMAC need $DPLEDGER_SEAL_KEY.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Check the stored events' hash chain: versions, digests, links and any seals.

    Reads the stored rows themselves. Exit code 3 names each account's first broken link.
    """
    given = _read_seals(seals) if seals is not None else []
    with ledger_on(store) as ledger, progress_bar("Verifying accounts") as update:
        report = ledger.verify(account_id, seals=given, progress=update)
    if as_json:
        print_json(
            "verify",
            {
                "account_id": account_id,
                "ok": report.ok,
                "accounts_checked": report.accounts_checked,
                "events_checked": report.events_checked,
                "snapshots_checked": report.snapshots_checked,
                "snapshots_not_checked": report.snapshots_not_checked,
                "seals_checked": len(given),
                "broken": report.broken,
            },
        )
    elif report.ok:
        # Snapshots written by 0.1 are never loaded (their events are replayed), so they are
        # counted apart: an auditor sees that they were not checked, and why.
        legacy = (
            f" ({report.snapshots_not_checked} from dpledger 0.1, never loaded, not checked)"
            if report.snapshots_not_checked
            else ""
        )
        out.print(
            f"OK: {report.accounts_checked} account(s), {report.events_checked} events, "
            f"{report.snapshots_checked} snapshot(s){legacy}, {len(given)} seal(s): every "
            "digest and link holds."
        )
    else:
        # One account can fail twice (a broken link and a snapshot), so both are counted.
        accounts = len({link.account_id for link in report.broken})
        out.print(
            f"BROKEN: {len(report.broken)} failure(s) in {accounts} account(s):", markup=False
        )
        for link in report.broken:
            out.print(f"  {link.account_id} at version {link.version}: {link.reason}", markup=False)
    return EXIT_OK if report.ok else EXIT_BROKEN


def _read_seals(path: Path) -> list[Seal]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"cannot read seals from {path}: {exc}",
            field="--seals",
            fix="pass the JSON file `dpledger seal` wrote",
        ) from exc
    items = data if isinstance(data, list) else [data]
    return [Seal.from_dict(item) for item in items]


@app.command(epilog="Example: DPLEDGER_SEAL_KEY=... dpledger seal --all -o seals.json")
def seal(
    account_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="ACCOUNT...", help="The accounts to seal.", show_default=False),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Seal every account and bank account in the store.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Write the seals here (default: stdout).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Take each account's chain head now (and its bank accounts'), with an HMAC when
    $DPLEDGER_SEAL_KEY is set.

    Keep the seals (and the key) outside the database: `dpledger verify --seals FILE` later
    exposes any history rewritten or truncated since.
    """
    with ledger_on(store) as ledger:
        names = list(account_ids or [])
        if not names and not every:
            raise ValidationError(
                "no account to seal", field="ACCOUNT", fix="name accounts, or pass --all"
            )
        # A bank account's chain holds the balances its statements stated, so each account is
        # sealed with the bank accounts its statements were booked on: what verify checks.
        taken = list(ledger.seals()) if every else []
        for name in names:
            taken += [s for s in ledger.seals(name) if s not in taken]
    text = seals_to_json(taken) + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {len(taken)} seal(s) to {output}")
    if as_json:
        # The seals file keeps its own format (verify --seals reads it); this is the report.
        written = None if output is None else str(output)
        print_json("seal", {"output": written, "seals": [s.as_dict() for s in taken]})
    elif output is None:
        out.print(text, end="", markup=False)
    return EXIT_OK


@app.command(
    "key-store",
    epilog="Example: DPLEDGER_CHAIN_KEY=k1:... dpledger key-store --store accounts.sqlite",
)
def key_store(store: StoreOption = None, as_json: JsonOption = False) -> int:
    """Key the store's chain with $DPLEDGER_CHAIN_KEY (or $DPLEDGER_CHAIN_KEY_FILE).

    A store written without a key must verify first; then every commit keys its chain heads and
    `verify` finds a forged or cut history without seals. On a keyed store it keys every row
    again with the current key, so an old key can be dropped after a rotation
    (docs/operations.md). Run it while nothing else writes.
    """
    with ledger_on(store) as ledger:
        report = ledger.key_store()
    if as_json:
        print_json("key-store", jsonable(report))
        return EXIT_OK
    how = "keyed again" if report.rekeyed else "keyed"
    out.print(
        f"{how} with chain key {report.key_id}: {report.aggregates} aggregates, "
        f"{report.events} events",
        markup=False,
    )
    return EXIT_OK
