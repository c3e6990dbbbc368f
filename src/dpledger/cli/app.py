"""The ``dpledger`` typer application itself, which the command modules register on
(kept apart from ``dpledger.cli`` so that those modules never import the package that imports
them)."""

from typing import Annotated

import typer

from dpledger import __version__

# typer 0.26+ vendors click; its usage errors share this base whichever click they come from.
USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)

app = typer.Typer(
    name="dpledger",
    help="Event-sourced double-entry ledger for Direct Payment managed accounts: replay, "
    "audit, verify, import and export. Run `dpledger COMMAND --help` for each command's "
    "options and an example.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        print(f"dpledger {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each command (key=value lines on stderr).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Event-sourced double-entry ledger for Direct Payment managed accounts."""
    # main() has already configured logging (it lifts --verbose from anywhere on the line).
