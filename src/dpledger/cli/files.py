"""Commands that read or write files: demo, import, export and report."""

import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from dpledger import Ledger
from dpledger.adapters.interchange.jsonl import ImportSummary
from dpledger.adapters.store import store_environment
from dpledger.cli.app import app
from dpledger.cli.audit import AccountArg, KnownAtOption
from dpledger.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    JsonOption,
    StoreOption,
    err,
    jsonable,
    ledger_on,
    out,
    parse_time,
    print_json,
    progress_bar,
    require_intact_chain,
)
from dpledger.cli.periods import (
    FromOption,
    FyOption,
    MonthOption,
    QuarterOption,
    ToOption,
    resolve_period,
)
from dpledger.errors import DpledgerError, StoreError
from dpledger.reporting.statement import Statement

DEMO_STORE = "dpledger-demo.sqlite"
"""Where ``dpledger demo`` writes unless told otherwise (in the current directory)."""

HISTORY_FORMAT = "dpledger-history"


# ----------------------------------------------------------------------------- demo
@app.command(epilog="Example: dpledger demo && dpledger portfolio --store dpledger-demo.sqlite")
def demo(
    store: Annotated[
        str,
        typer.Option(
            "--store",
            metavar="URL",
            help=f"Where to record: a SQLite file (default ./{DEMO_STORE}), sqlite:///file, "
            "memory:, or postgresql://user@host:5432/db?schema=demo.",
        ),
    ] = DEMO_STORE,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Delete the SQLite file first even if it holds more than the demo."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> int:
    """Record a year of a fictional council's managed accounts and summarise it.

    The demo's SQLite file is rebuilt on every run; then try `dpledger statement`, `report`,
    `verify` and `portfolio` on it (see docs/auditing.md).
    """
    # Imported here: the demo module is only needed by this command.
    from dpledger.demo import build_demo, render

    sqlite_file = store_environment(store).get("SQLITE_DBNAME")
    if sqlite_file is not None and Path(sqlite_file).exists():
        _remove_previous_demo(Path(sqlite_file), fresh=fresh, quiet=as_json)
    with Ledger(store) as ledger:
        report = build_demo(ledger)
    if as_json:
        print_json("demo", {"store": store, "report": report})
    else:
        print(render(report))
    return EXIT_OK


def _remove_previous_demo(path: Path, *, fresh: bool, quiet: bool = False) -> None:
    """Delete the SQLite file of an earlier demo run, so re-running starts from nothing.

    Without ``--fresh`` only a file holding nothing but demo accounts is deleted: pointed at a
    file with other accounts by mistake, the demo refuses rather than destroy them.
    """
    from dpledger.demo import DEMO_ACCOUNT_IDS

    if not fresh:
        accounts = _accounts_in(path)
        if accounts is None:
            raise StoreError(
                f"{path} is not a dpledger store",
                fix="choose another file with --store, or pass --fresh to delete it",
            )
        others = accounts - set(DEMO_ACCOUNT_IDS)
        if others:
            raise StoreError(
                f"{path} holds accounts that are not the demo's ({', '.join(sorted(others))})",
                fix="choose another file with --store, or pass --fresh to delete it anyway",
            )
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    said = f"Removed the previous demo file {path}; recording the demo afresh."
    if quiet:  # stdout holds only the JSON
        err.print(said, markup=False)
    else:
        print(said + "\n")


def _accounts_in(path: Path) -> set[str] | None:
    """The account ids in the SQLite file at ``path``, or ``None`` if it is not a dpledger store
    (an empty file counts as an empty store)."""
    if path.stat().st_size == 0:
        return set()
    try:
        # Look read-only first: opening a Ledger on a stranger's file would add tables to it.
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return None
    if "stored_events" not in tables:  # eventsourcing's table of events
        return None
    with Ledger.sqlite(os.fspath(path)) as ledger:
        return set(ledger.account_ids())


# ----------------------------------------------------------------------------- import
class BankFormat(StrEnum):
    """The formats ``--format`` accepts."""

    csv = "csv"
    ofx = "ofx"
    mt940 = "mt940"
    camt053 = "camt053"
    openbanking = "openbanking"
    jsonl = "jsonl"


def is_history_file(path: str) -> bool:
    """Whether ``path`` is a dpledger JSON Lines history (its first line says so)."""
    try:
        with open(path, encoding="utf-8") as stream:
            header = json.loads(stream.readline())
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and header.get("format") == HISTORY_FORMAT


@app.command(
    "import",
    epilog="Examples: dpledger import DP-1001 statement-2026-03.ofx april.csv  |  "
    "dpledger import --store audit.sqlite DP-1001-history.jsonl",
)
def import_(
    arguments: Annotated[
        list[str],
        typer.Argument(
            metavar="[ACCOUNT] FILE...",
            help="Bank statements: the account id, then the files; a pooled client "
            "account's statements (see `dpledger pool`) or a dpledger history (.jsonl from "
            "`dpledger export --format jsonl`): just the files.",
        ),
    ],
    file_format: Annotated[
        BankFormat | None,
        typer.Option(
            "--format",
            help="The files' format (default: detected from each file).",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            metavar="NAME",
            help="A built-in CSV mapping, e.g. hsbc.",
            show_default=False,
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="FILE",
            help="A CSV rules file (TOML) describing a custom CSV layout (docs/bankfeeds.md).",
            show_default=False,
            exists=True,
        ),
    ] = None,
    bank_account: Annotated[
        str | None,
        typer.Option(
            "--bank-account",
            metavar="ID",
            help="Import only this bank account of a file holding several.",
            show_default=False,
        ),
    ] = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is importing (default: $USER).", show_default=False)
    ] = os.environ.get("USER") or "dpledger-cli",
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Import bank statement files into an account or a pooled client account, or dpledger
    histories into a store.

    Bank files (CSV, OFX, MT940, camt.053, Open Banking JSON) are each imported whole or not
    at all, and importing one again records nothing new (docs/bankfeeds.md). A history is
    checked link by link before anything is written; into an empty store it reproduces every
    balance (docs/interchange.md). Exit code 1 if any file was refused.
    """
    history = file_format is BankFormat.jsonl or (
        file_format is None and bool(arguments) and is_history_file(arguments[0])
    )
    if history:
        return _import_histories(arguments, store, as_json)
    pooled = bool(arguments) and Path(arguments[0]).is_file()
    if not pooled and len(arguments) < 2:
        raise typer.BadParameter(
            "give the account id and at least one bank file (or only files, of a pooled "
            "client account)",
            param_hint="[ACCOUNT] FILE...",
        )
    account_id, paths = (None, arguments) if pooled else (arguments[0], arguments[1:])
    if rules is not None and mapping is not None:
        raise typer.BadParameter("give --mapping or --rules, not both", param_hint="--rules")
    layout: Any = mapping
    if rules is not None:
        from dpledger.adapters.bankfeeds import load_csv_rules

        layout = load_csv_rules(rules)
    reports: list[dict[str, Any]] = []
    refused = 0
    with ledger_on(store, create=True) as ledger, progress_bar("Importing files") as update:
        for done, path in enumerate(paths, start=1):
            kind = None if file_format is None else file_format.value
            try:
                if account_id is None:
                    report = ledger.import_pooled_file(
                        path, actor=actor, format=kind, mapping=layout, bank_account=bank_account
                    )
                else:
                    report = ledger.import_bank_file(
                        account_id,
                        path,
                        actor=actor,
                        format=kind,
                        mapping=layout,
                        bank_account=bank_account,
                    )
            except DpledgerError as error:
                refused += 1
                err.print(f"dpledger: {error}", markup=False)
                reports.append({"source": Path(path).name, "error": str(error)})
            else:
                if as_json:
                    reports.append(report.to_dict())
                else:
                    out.print(report.render(), markup=False)
            update(done, len(paths))
    if as_json:
        print_json(
            "import",
            {
                "kind": "bank" if account_id else "pooled",
                "account_id": account_id,
                "files": reports,
            },
        )
    return EXIT_REFUSED if refused else EXIT_OK


def _import_histories(paths: list[str], store: str | None, as_json: bool) -> int:
    summaries: list[dict[str, Any]] = []
    refused = 0
    with ledger_on(store, create=True) as ledger:
        for path in paths:
            try:
                with progress_bar(f"Importing {Path(path).name}") as update:
                    summary = ledger.import_history(path, progress=update)
            except DpledgerError as error:
                refused += 1
                err.print(f"dpledger: {error}", markup=False)
                summaries.append({"source": Path(path).name, "error": str(error)})
                continue
            summaries.append({"source": Path(path).name, **jsonable(summary)})
            if not as_json:
                out.print(_history_report(Path(path).name, summary), markup=False)
    if as_json:
        print_json("import", {"kind": "history", "account_id": None, "files": summaries})
    return EXIT_REFUSED if refused else EXIT_OK


def _history_report(name: str, summary: ImportSummary) -> str:
    if summary.no_op:
        return (
            f"{name}: nothing new; the store already holds these {len(summary.accounts)} "
            f"account(s) ({summary.events_in_file} events)"
        )
    parts = [f"{name}: wrote {summary.events_written} of {summary.events_in_file} events"]
    for what, ids in (
        ("imported", summary.imported),
        ("brought up to date", summary.appended),
        ("already held", summary.already_present),
        ("newer in the store, left alone", summary.newer_in_store),
    ):
        if ids:
            parts.append(f"{what}: {', '.join(ids)}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- export
class ExportFormat(StrEnum):
    """What ``dpledger export`` writes."""

    jsonl = "jsonl"
    beancount = "beancount"
    xlsx = "xlsx"
    csv = "csv"
    events_csv = "events-csv"


@contextmanager
def _text_output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as stream:
        yield stream


@app.command(
    epilog="Examples: dpledger export --format jsonl -o store.jsonl  |  dpledger export DP-1003 "
    "--format xlsx --from 2025-04-01 --to 2026-03-31 -o DP-1003.xlsx  |  dpledger export "
    "--format beancount -o ledger.beancount",
)
def export(
    account_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ACCOUNT]...",
            help="The accounts (jsonl, beancount: default every account; xlsx, csv: exactly one).",
            show_default=False,
        ),
    ] = None,
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="What to write.")
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Where to write (default: stdout; xlsx needs a file).",
            show_default=False,
        ),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    fy: FyOption = None,
    month: MonthOption = None,
    quarter: QuarterOption = None,
    known_at: KnownAtOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Export histories (jsonl), the ledger for beancount, or an audit sheet for spreadsheets.

    jsonl: the full history in dpledger's versioned JSON Lines format (docs/interchange.md),
    which `dpledger import` replays into another store. beancount: open directives, one
    transaction per event and balance assertions at every month end. xlsx: the audit sheet
    and the event list; csv: the audit sheet as (section, item, amount) rows; events-csv: the
    period's events. Figures (beancount, xlsx, csv) are exported only from a chain that
    verifies (exit code 5 otherwise); jsonl exports the history as stored, for forensics too.
    With --json, a report of what was written goes to stdout (so -o is needed, except for xlsx).
    """
    names = list(account_ids or [])
    if as_json and output is None and file_format is not ExportFormat.xlsx:
        raise typer.BadParameter(
            "the export itself goes to stdout without -o; give -o FILE with --json",
            param_hint="--json",
        )
    with ledger_on(store) as ledger:
        if file_format in (ExportFormat.jsonl, ExportFormat.beancount):
            if start or end or known_at or fy or month or quarter:
                raise typer.BadParameter(
                    "--from, --to, --fy, --month, --quarter and --known-at apply to xlsx and "
                    "csv; jsonl and beancount export the whole history",
                    param_hint="--format",
                )
            if file_format is ExportFormat.jsonl:
                with progress_bar("Exporting accounts") as update:
                    # A path is written whole or not at all (the Ledger renames a temporary).
                    summary = ledger.export_history(
                        output or sys.stdout, names or None, progress=update
                    )
                written = f"{summary.events} events of {len(summary.accounts)} account(s)"
            else:
                targets: list[str | None] = list(names) or [None]
                for name in targets:
                    require_intact_chain(ledger, name, "export", as_json=as_json)
                text = ledger.export_beancount(names or None)
                with _text_output(output) as stream:
                    stream.write(text)
                written = f"the ledger of {len(names) or len(ledger.account_ids())} account(s)"
            if as_json:
                print_json(
                    "export",
                    {"format_written": file_format.value, "output": str(output), "wrote": written},
                )
            elif output is not None:
                err.print(f"Wrote {written} to {output}")
            return EXIT_OK
        if len(names) != 1:
            raise typer.BadParameter(
                f"--format {file_format.value} exports one account's audit sheet; name exactly one",
                param_hint="[ACCOUNT]...",
            )
        period = (start, end, fy, month, quarter)
        sheet = _sheet(ledger, names[0], period, known_at, "export", as_json)
    spreadsheet = _reports("spreadsheet")
    target: Path | None
    if file_format is ExportFormat.xlsx:
        target = output or Path(f"{sheet.account_id}-{sheet.start}-to-{sheet.end}.xlsx")
        spreadsheet.write_xlsx(sheet, target)
        wrote = f"the audit sheet and {len(sheet.lines)} events"
    else:
        with _text_output(output) as stream:
            if file_format is ExportFormat.csv:
                spreadsheet.write_statement_csv(sheet, stream)
            else:
                spreadsheet.write_events_csv(sheet, stream)
        target, wrote = output, f"{len(sheet.lines)} events"
    if as_json:
        print_json(
            "export",
            {
                "format_written": file_format.value,
                "output": str(target),
                "wrote": wrote,
                "account_id": sheet.account_id,
                "start": sheet.start,
                "end": sheet.end,
                "reconciles": sheet.reconciles,
            },
        )
    elif target is not None:
        err.print(f"Wrote {wrote} to {target}")
    return EXIT_OK


def _sheet(
    ledger: Ledger,
    account_id: str,
    period: tuple[str | None, str | None, str | None, str | None, str | None],
    known_at: str | None,
    command: str,
    as_json: bool,
) -> Statement:
    """The audit sheet for the period the options name, from a chain that verifies."""
    moment = parse_time(known_at)
    first, last = resolve_period(ledger, account_id, *period)
    require_intact_chain(ledger, account_id, command, as_json=as_json)
    return ledger.statement(account_id, first, last, known_at=moment)


def _reports(module: str) -> Any:
    """A renderer module; matplotlib and openpyxl come with the ``reports`` extra."""
    import importlib

    try:
        return importlib.import_module(f"dpledger.adapters.reports.{module}")
    except ImportError as exc:
        raise StoreError(
            f"reports need a package that is not installed ({exc.name})",
            fix="pip install 'dpledger[reports]'",
        ) from exc


# ----------------------------------------------------------------------------- report
@app.command(
    epilog="Example: dpledger report DP-1003 --from 2025-04-01 --to 2026-03-31 -o DP-1003.html"
)
def report(
    account_id: AccountArg,
    start: FromOption = None,
    end: ToOption = None,
    fy: FyOption = None,
    month: MonthOption = None,
    quarter: QuarterOption = None,
    known_at: KnownAtOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Where to write (default: ACCOUNT-FROM-to-TO.html here).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Write an account's audit sheet as one self-contained HTML file.

    The sheet, the event list (with when each event was recorded), and a chart of the bank
    balance with the contingency line and the warnings raised; open it in any browser or print
    it. The chain is verified first: exit code 5, and no file, if it is broken.
    """
    with ledger_on(store) as ledger:
        sheet = _sheet(
            ledger, account_id, (start, end, fy, month, quarter), known_at, "report", as_json
        )
    html = _reports("html").render_html(sheet)
    target = output or Path(f"{sheet.account_id}-{sheet.start}-to-{sheet.end}.html")
    target.write_text(html, encoding="utf-8")
    if as_json:
        print_json(
            "report",
            {
                "path": str(target),
                "bytes": len(html.encode()),
                "account_id": sheet.account_id,
                "start": sheet.start,
                "end": sheet.end,
                "events": len(sheet.lines),
                "warnings": len(sheet.warnings),
                "reconciles": sheet.reconciles,
            },
        )
    else:
        out.print(
            f"Wrote {target} ({len(sheet.lines)} events, {len(sheet.warnings)} warnings)",
            markup=False,
        )
    return EXIT_OK
