"""Pooled client accounts from the command line: ``dpledger pool open|show|held`` and
``dpledger allocate`` (a pooled statement is imported with ``dpledger import FILE``, no account).

An allocation table is a TOML file of ``[[rule]]`` tables::

    [[rule]]
    account_id = "DP-1002"
    pattern = "SMITH J"      # a regular expression, case ignored
    field = "payer"          # text (default), payer or reference
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from dpledger.cli.app import app
from dpledger.cli.common import (
    EXIT_OK,
    JsonOption,
    StoreOption,
    jsonable,
    ledger_on,
    out,
    parse_date,
    print_json,
    table,
)
from dpledger.domain.errors import ValidationError
from dpledger.domain.pooled import check_rules
from dpledger.domain.records import AllocationRule

pool = typer.Typer(
    help="Pooled client accounts: one bank account holding many people's money.",
    no_args_is_help=True,
)
app.add_typer(pool, name="pool")

ActorOption = Annotated[
    str, typer.Option("--actor", help="Who is doing it (recorded with the event).")
]


def load_allocation_rules(path: Path) -> list[AllocationRule]:
    """The allocation table in the TOML file ``path``; a bad file or rule is a
    :class:`ValidationError` naming the file, the rule and its line, and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"{path} cannot be read: {exc}", field="--rules", fix="give a UTF-8 TOML file"
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(
            f"{path}: {exc}", field="--rules", fix="correct the TOML at that line"
        ) from exc
    unknown = sorted(set(data) - {"rule"})
    if unknown or not isinstance(data.get("rule", []), list):
        raise ValidationError(
            f"{path}: expected only [[rule]] tables, found {', '.join(unknown) or 'rule = ...'}",
            field="--rules",
            fix='write each rule as [[rule]] with account_id, pattern and field = "text"',
        )
    rows: list[Any] = data.get("rule", [])
    try:
        return check_rules(rows)
    except ValidationError as bad:
        index = _rule_index(bad.field)
        line = _rule_line(text, index)
        where = f"{path}, rule {index + 1}" + (f" (line {line})" if line else "")
        raise ValidationError(f"{where}: {bad}", field="--rules", fix=bad.fix) from bad


def _rule_index(field: str | None) -> int:
    if field and field.startswith("rules[") and "]" in field:
        return int(field[len("rules[") : field.index("]")])
    return 0


def _rule_line(text: str, index: int) -> int | None:
    """The line of the ``index``-th ``[[rule]]`` header."""
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().replace(" ", "") == "[[rule]]":
            seen += 1
            if seen == index:
                return number
    return None


@pool.command(
    "open",
    epilog="Example: dpledger pool open '30-99-50 12345678' --name 'Client account' "
    "--opened-on 2026-04-01 --rules pool-rules.toml --actor finance-1",
)
def open_(
    bank_account: Annotated[str, typer.Argument(help="Sort code and account number, or IBAN.")],
    name: Annotated[str, typer.Option("--name", help="What the provider calls it.")],
    opened_on: Annotated[str, typer.Option("--opened-on", help="From when (YYYY-MM-DD).")],
    actor: ActorOption,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="The allocation table (TOML [[rule]] tables).", exists=True),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Declare a pooled client account (or change its name or allocation table).

    Managed accounts join it by naming it as their bank account. Each line of its statements is
    allocated to a member by the table, by the member's id or reference in the bank's text, or
    by an expected payment; the rest is held until someone allocates it (dpledger allocate).
    """
    table_rules = [] if rules is None else load_allocation_rules(rules)
    day = parse_date(opened_on, "--opened-on")
    assert day is not None
    with ledger_on(store, create=True) as ledger:
        key = ledger.open_pooled_account(
            bank_account, name=name, opened_on=day, actor=actor, rules=table_rules
        )
    if as_json:
        print_json(
            "pool open",
            {"bank_account": key, "name": name, "opened_on": day, "rules": len(table_rules)},
        )
        return EXIT_OK
    out.print(
        f"pooled client account {key} ({name}): {len(table_rules)} allocation rules", markup=False
    )
    return EXIT_OK


@pool.command("show", epilog="Example: dpledger pool show '30-99-50 12345678' --on 2026-06-30")
def show(
    bank_account: Annotated[str, typer.Argument(help="The pool's bank account.")],
    on: Annotated[str | None, typer.Option("--on", help="As at the end of this date.")] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """The pool's balance, each member's share, the unallocated money, and whether the bank's
    stated balances agree with the ledger (or that none was ever stated)."""
    with ledger_on(store) as ledger:
        position = ledger.pool_position(bank_account, on=parse_date(on, "--on"))
    if as_json:
        print_json(
            "pool show",
            {
                "bank_account": position.bank_account,
                "name": position.name,
                "on": jsonable(position.on),
                "balance": position.balance.pence,
                "unallocated": position.unallocated.pence,
                "held_lines": position.held_lines,
                "shares": {k: v.pence for k, v in position.shares.items()},
                "adds_up": position.adds_up,
                "stated": [
                    {
                        "date": s.day.isoformat(),
                        "stated": s.stated.pence,
                        "ledger": s.ledger.pence,
                        "agrees": s.agrees,
                    }
                    for s in position.stated
                ],
                "reconciliation": position.reconciliation(),
            },
        )
        return EXIT_OK
    grid = table(f"{position.name} ({position.bank_account})", "Member", "Share", right=("Share",))
    for member, share in position.shares.items():
        grid.add_row(member, str(share))
    grid.add_row("unallocated", str(position.unallocated))
    grid.add_row("pool balance", str(position.balance))
    out.print(grid)
    out.print(
        ("adds up" if position.adds_up else "DOES NOT ADD UP") + "; " + position.reconciliation()
    )
    return EXIT_OK


@pool.command("held", epilog="Example: dpledger pool held '30-99-50 12345678'")
def held(
    bank_account: Annotated[str, typer.Argument(help="The pool's bank account.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """The pool's lines held for someone to allocate, with why they were held."""
    with ledger_on(store) as ledger:
        lines = ledger.unallocated(bank_account)
    if as_json:
        print_json(
            "pool held",
            {
                "bank_account": bank_account,
                "lines": [
                    {
                        "line_key": u.key,
                        "date": u.booking_date.isoformat(),
                        "amount": u.amount.pence,
                        "remaining": u.remaining.pence,
                        "description": u.description,
                        "reason": u.reason,
                    }
                    for u in lines
                ],
            },
        )
        return EXIT_OK
    grid = table("Held lines", "Line", "Date", "Held", "Description", "Why", right=("Held",))
    for u in lines:
        grid.add_row(u.key, str(u.booking_date), str(u.remaining), u.description, u.reason)
    out.print(grid if lines else "Nothing is held: every line is allocated.")
    return EXIT_OK


@app.command(
    epilog="Example: dpledger allocate '30-99-50 12345678' 'day:2026-04-08:credit:30000:GBP#0' "
    "DP-1002 --amount 100.00 --reason 'council remittance lists DP-1002' --actor finance-1"
)
def allocate(
    bank_account: Annotated[str, typer.Argument(help="The pool's bank account.")],
    line_key: Annotated[str, typer.Argument(help="The held line (see dpledger pool held).")],
    account_id: Annotated[str, typer.Argument(help="The member whose money it is.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is this member's.")],
    actor: ActorOption,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Part of the line, in pounds (default: all).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Effective date (default: the line's).")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Repeat it to retry safely."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Allocate a held line of a pooled account (or part of it) to a member: it is recorded on
    the member's account as an import would have recorded it, with your reason."""
    with ledger_on(store) as ledger:
        receipt = ledger.allocate(
            bank_account,
            line_key,
            account_id,
            actor=actor,
            reason=reason,
            amount=amount,
            effective_date=parse_date(on, "--on"),
            idempotency_key=idempotency_key,
        )
    if as_json:
        print_json(
            "allocate",
            {
                "bank_account": receipt.bank_account,
                "line_key": receipt.line_key,
                "account_id": receipt.account_id,
                "amount": receipt.amount.pence,
                "remaining": receipt.remaining.pence,
                "event_type": receipt.receipt.event_type,
                "version": receipt.receipt.version,
                "replayed": receipt.replayed,
            },
        )
        return EXIT_OK
    again = " (already allocated: nothing new)" if receipt.replayed else ""
    out.print(
        f"{receipt.amount} of {receipt.line_key} -> {receipt.account_id}: "
        f"{receipt.receipt.event_type} (event {receipt.receipt.version}); "
        f"{receipt.remaining} still held{again}",
        markup=False,
    )
    return EXIT_OK
