"""What every ``dpledger`` command shares: exit codes, the store option, dates, JSON and progress.

Kept free of ``from __future__ import annotations``: typer reads the annotations at run time.
"""

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dpledger import Ledger
from dpledger.adapters.store import DEFAULT_SQLITE_FILE, store_environment
from dpledger.domain.money import Money
from dpledger.errors import StoreError

EXIT_OK = 0
"""Done."""
EXIT_REFUSED = 1
"""dpledger refused: bad input, an unknown account, a refused file (the message says the fix)."""
EXIT_USAGE = 2
"""The command line itself is wrong (unknown option, bad date)."""
EXIT_BROKEN = 3
"""Evidence of tampering or disagreement: a broken hash chain, a seal that no longer matches,
or a replay that disagrees with the projections."""
EXIT_ATTENTION = 4
"""``--check`` was given and something needs attention (warnings in force)."""
EXIT_CHAIN_BROKEN = 5
"""Refused to present figures: the hash chain they would come from is broken (``statement``,
``report``, ``export``, ``replay``); the message names the account, version and reason."""

CLI_FORMAT = "dpledger.cli/1"
"""The ``format`` of every command's ``--json`` output (docs/cli.md); bumped when its shape
changes."""

STORE_ENV = "DPLEDGER_STORE"
PROGRESS_ENV = "DPLEDGER_PROGRESS"
"""``always`` or ``never`` overrides the default (a progress bar only on a terminal)."""

PIPE_WIDTH = 100_000
"""The width output to a file or pipe is laid out at: wide enough that no line is ever wrapped
(tables take their natural width; nothing is padded to it)."""

out = Console(
    highlight=False,
    width=None if sys.stdout.isatty() else PIPE_WIDTH,
    soft_wrap=not sys.stdout.isatty(),
)
"""The command's own output (stdout): wrapped to a terminal's width, never wrapped elsewhere."""
err = Console(stderr=True, highlight=False, soft_wrap=True)
"""Messages and progress (stderr), so stdout stays clean for pipes and ``--json``."""


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar=STORE_ENV,
        metavar="URL",
        help=f"The ledger store: a SQLite file (default ./{DEFAULT_SQLITE_FILE}), "
        "sqlite:///file, memory: or postgresql://user@host:5432/db?schema=name. "
        f"Also read from ${STORE_ENV}.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help=f"Print one JSON object for machines ({CLI_FORMAT}: amounts in integer pence; "
        "docs/cli.md).",
    ),
]


def parse_date(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD", param_hint=option
        ) from None


def parse_time(value: str | None, option: str = "--known-at") -> datetime | None:
    """A timezone-aware ISO time (``2026-03-15T12:00:00+00:00``; a bare date means the start of
    that day, UTC), or a usage error naming the option."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a time; use e.g. 2026-03-15T12:00:00+00:00", param_hint=option
        ) from None
    if moment.tzinfo is None:
        if len(value) == 10:  # a bare date: the start of that day, UTC
            return moment.replace(tzinfo=UTC)
        raise typer.BadParameter(
            f"{value!r} has no time zone; add one, e.g. +00:00 or Z", param_hint=option
        )
    return moment


def existing_store(store: str | None) -> str:
    """The store URL to read, refusing a SQLite file that does not exist (opening it would
    silently create an empty store and every answer would be 'no such account')."""
    url = store or os.environ.get(STORE_ENV) or DEFAULT_SQLITE_FILE
    path = store_environment(url).get("SQLITE_DBNAME")
    if path is not None and path != ":memory:" and not Path(path).exists():
        raise StoreError(
            f"there is no dpledger store at {path}",
            fix=f"pass --store URL or set ${STORE_ENV} (run `dpledger demo` to make one)",
        )
    return url


@contextmanager
def ledger_on(store: str | None, *, create: bool = False) -> Iterator[Ledger]:
    """A Ledger on ``store``, closed afterwards; read commands refuse a missing SQLite file."""
    url = (store or os.environ.get(STORE_ENV) or DEFAULT_SQLITE_FILE) if create else None
    with Ledger(url or existing_store(store)) as ledger:
        yield ledger


def table(title: str, *columns: str, right: tuple[str, ...] = (), fold: bool = False) -> Table:
    """A table titled on the left; columns named in ``right`` (money, counts) are right-aligned,
    and with ``fold`` long cells wrap instead of being cut short."""
    made = Table(title=title, title_justify="left")
    for name in columns:
        made.add_column(
            name,
            justify="right" if name in right else "left",
            overflow="fold" if fold else "ellipsis",
        )
    return made


def jsonable(value: Any) -> Any:
    """Plain JSON data: Money as integer pence, dates ISO, dataclasses and enums unwrapped."""
    if isinstance(value, Money):
        return value.pence
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def envelope(command: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every ``--json`` answer's shape: ``format``, ``command``, then the command's own fields
    (plain JSON data, amounts in integer pence)."""
    body = jsonable(dict(data))
    clash = {"format", "command"} & set(body)
    if clash:  # a programming error: the envelope's keys are reserved
        raise ValueError(f"reserved keys in a --json answer: {sorted(clash)}")
    return {"format": CLI_FORMAT, "command": command, **body}


def print_json(command: str, data: Mapping[str, Any]) -> None:
    """``data`` as the command's indented ``--json`` object on stdout (``£`` as itself)."""
    text = json.dumps(envelope(command, data), indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write(text + "\n")


def require_intact_chain(
    ledger: Ledger, account_id: str | None, command: str, *, as_json: bool = False
) -> None:
    """Verify the hash chain of ``account_id`` (or the whole store) before figures are read
    from it; if a link is broken, say where and how to fix it, and exit with
    :data:`EXIT_CHAIN_BROKEN` (figures from a tampered history would look authoritative)."""
    with progress_bar("Verifying the chain") as update:
        report = ledger.verify(account_id, progress=update)
    if report.ok:
        return
    where = "the store" if account_id is None else account_id
    fix = (
        "restore the store from a backup taken before the break, then run `dpledger verify` "
        "until it reports OK"
    )
    if as_json:
        print_json(
            command,
            {
                "refused": "chain_broken",
                "account_id": account_id,
                "broken": [
                    {"account_id": b.account_id, "version": b.version, "reason": b.reason}
                    for b in report.broken
                ],
                "fix": fix,
            },
        )
    err.print(
        f"dpledger: refused: the hash chain of {where} is broken, so no figures are shown "
        "(they could be the tampered ones):",
        markup=False,
        highlight=False,
    )
    for link in report.broken:
        err.print(
            f"  {link.account_id} at version {link.version}: {link.reason}",
            markup=False,
            highlight=False,
        )
    err.print(f"Fix: {fix}.", markup=False, highlight=False)
    raise typer.Exit(EXIT_CHAIN_BROKEN)


def _show_progress() -> bool:
    setting = os.environ.get(PROGRESS_ENV, "").lower()
    if setting in ("always", "1", "yes"):
        return True
    if setting in ("never", "0", "no"):
        return False
    return err.is_terminal


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for work that may take more than a second.

    Yields ``update(done, total)``. Shown on a terminal (or with ``DPLEDGER_PROGRESS=always``);
    elsewhere it costs nothing, so scripts' output stays clean.
    """
    if not _show_progress():
        yield lambda done, total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=err.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
