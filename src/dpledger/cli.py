"""The ``dpledger`` command.

A small argparse front end over the :class:`~dpledger.Ledger` facade. Each subcommand is one
``_add_<name>`` function that registers its arguments and the handler that runs it; a handler
returns the exit code. Exit codes: 0 done, 1 dpledger refused (a :class:`DpledgerError`, printed
with its fix, no traceback), 2 usage error.

    dpledger demo [--store URL] [--fresh] [--verbose]
    dpledger import ACCOUNT FILE... [--store URL] [--format F] [--actor A] [--json]
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

import structlog

from dpledger import Ledger, __version__
from dpledger.adapters.store import store_environment
from dpledger.errors import DpledgerError, StoreError

DEMO_STORE = "dpledger-demo.sqlite"
"""Where ``dpledger demo`` writes unless told otherwise (in the current directory)."""

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dpledger`` command with ``argv`` (default: the process's arguments).

    Returns the exit code: 0 ok, 1 a :class:`~dpledger.errors.DpledgerError`, 2 usage.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help (0) and on usage errors (2)
        code = exit_.code
        return code if isinstance(code, int) else 0 if code is None else 2
    _configure_logging(verbose=args.verbose)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except DpledgerError as error:
        print(f"dpledger: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`dpledger demo | head`): stop quietly, as the Python docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dpledger",
        description="Event-sourced double-entry ledger for Direct Payment managed accounts.",
    )
    parser.add_argument("--version", action="version", version=f"dpledger {__version__}")
    _add_verbose(parser, default=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_demo(commands)
    _add_import(commands)
    return parser


def _add_verbose(parser: argparse.ArgumentParser, *, default: object) -> None:
    # Accepted before or after the subcommand; the subcommand's copy must not reset the value
    # given before it, hence SUPPRESS as its default.
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log each command (key=value lines on stderr)",
    )


def _configure_logging(*, verbose: bool) -> None:
    """Warnings only by default, so command logs do not drown the output; info with --verbose.

    Logs go to stderr as ``key=value`` lines, keeping stdout for the command's own output.
    """
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.INFO if verbose else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


# ----------------------------------------------------------------------------- dpledger demo
def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="record a year of a fictional council's managed accounts and summarise it",
        description="Record a year of a fictional council's managed accounts through the "
        "Ledger API and print a summary. The demo's SQLite file is rebuilt on every run.",
    )
    demo.add_argument(
        "--store",
        default=DEMO_STORE,
        metavar="URL",
        help=f"where to record: a SQLite file (default ./{DEMO_STORE}), sqlite:///file, "
        "memory:, or postgresql://user@host:5432/db?schema=demo",
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="delete the SQLite file first even if it holds more than the demo",
    )
    _add_verbose(demo, default=argparse.SUPPRESS)
    demo.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    """Record the demo on ``--store`` and print its summary."""
    # Imported here: the demo module is only needed by this command.
    from dpledger.demo import build_demo, render

    store: str = args.store
    sqlite_file = store_environment(store).get("SQLITE_DBNAME")
    if sqlite_file is not None and Path(sqlite_file).exists():
        _remove_previous_demo(Path(sqlite_file), fresh=args.fresh)
    with Ledger(store) as ledger:
        report = build_demo(ledger)
    print(render(report))
    return 0


def _remove_previous_demo(path: Path, *, fresh: bool) -> None:
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
    print(f"Removed the previous demo file {path}; recording the demo afresh.\n")


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


# ----------------------------------------------------------------------------- dpledger import
def _add_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "import",
        help="import bank statement files into a managed account",
        description="Import bank statement files (CSV, OFX, MT940, camt.053, Open Banking JSON) "
        "into ACCOUNT. Each file is imported whole or not at all; importing a file again "
        "records nothing new. See docs/bankfeeds.md.",
    )
    command.add_argument("account", metavar="ACCOUNT", help="the managed account id, e.g. DP-1001")
    command.add_argument("files", metavar="FILE", nargs="+", help="bank statement files")
    command.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="the ledger store (default $DPLEDGER_STORE or ./dpledger.sqlite)",
    )
    command.add_argument(
        "--format",
        choices=["csv", "ofx", "mt940", "camt053", "openbanking"],
        default=None,
        help="the files' format (default: detected from each file)",
    )
    command.add_argument(
        "--mapping", default=None, metavar="NAME", help="a built-in CSV mapping, e.g. hsbc"
    )
    command.add_argument(
        "--bank-account",
        default=None,
        metavar="ID",
        help="import only this bank account of a file holding several",
    )
    command.add_argument(
        "--actor",
        default=os.environ.get("USER") or "dpledger-cli",
        help="who is importing (default: $USER)",
    )
    command.add_argument("--json", action="store_true", help="print the reports as JSON")
    _add_verbose(command, default=argparse.SUPPRESS)
    command.set_defaults(handler=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    """Import each file atomically; report each; exit 1 if any file was refused."""
    import json

    reports: list[dict[str, object]] = []
    refused = 0
    with Ledger(args.store) as ledger:
        for path in args.files:
            try:
                report = ledger.import_bank_file(
                    args.account,
                    path,
                    actor=args.actor,
                    format=args.format,
                    mapping=args.mapping,
                    bank_account=args.bank_account,
                )
            except DpledgerError as error:
                refused += 1
                print(f"dpledger: {error}", file=sys.stderr)
                reports.append({"source": Path(path).name, "error": str(error)})
                continue
            if args.json:
                reports.append(report.to_dict())
            else:
                print(report.render())
    if args.json:
        print(json.dumps(reports, indent=2))
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
