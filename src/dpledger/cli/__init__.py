"""The ``dpledger`` command: the Ledger's API for auditors, finance officers and scripts.

One typer application; each command lives with its kind (:mod:`.audit` for the read-only
audit commands, :mod:`.files` for the demo, imports, exports and reports). ``main(argv)``
returns the exit code instead of exiting, so tests and embedding programs can call it.

Exit codes (:mod:`dpledger.cli.common`): 0 done; 1 dpledger refused (the message says the fix);
2 usage error; 3 evidence of tampering or disagreement (``verify``, ``replay``); 4 ``--check``
found something needing attention; 5 no figures shown, the chain they come from is broken
(``statement``, ``report``, ``export``, ``replay``). With ``--json`` every command prints one
object of the shape :data:`dpledger.cli.common.CLI_FORMAT` (docs/cli.md).
"""

import logging
import os
import sys
from collections.abc import Sequence

import structlog
import typer

from dpledger.cli.app import USAGE_ERROR as _USAGE_ERROR
from dpledger.cli.app import app
from dpledger.cli.common import EXIT_REFUSED, err
from dpledger.errors import DpledgerError


def configure_logging(*, verbose: bool) -> None:
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


# Registers the commands on ``app`` (imported for that effect).
from dpledger.cli import audit, files, pooled, work  # noqa: E402, F401

__all__ = ["app", "audit", "files", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dpledger`` with ``argv`` (default: the process's arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # --verbose is accepted after the command too (`dpledger demo --verbose`), as it always was.
    cut = args.index("--") if "--" in args else len(args)
    verbose = any(a in ("--verbose", "-v") for a in args[:cut])
    args = [a for i, a in enumerate(args) if i >= cut or a not in ("--verbose", "-v")]
    configure_logging(verbose=verbose)
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=args,
            prog_name="dpledger",
            standalone_mode=False,
        )
    except _USAGE_ERROR as error:  # usage errors (and no arguments): click explains them
        error.show()  # type: ignore[attr-defined]
        return int(error.exit_code)  # type: ignore[attr-defined]
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        err.print("dpledger: interrupted")
        return 130
    except DpledgerError as error:
        err.print(f"dpledger: {error}", markup=False, highlight=False)
        return EXIT_REFUSED
    except BrokenPipeError:
        # The reader went away (`dpledger statement ... | head`): stop quietly, as Python advises.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_REFUSED
    return result if isinstance(result, int) else 0
