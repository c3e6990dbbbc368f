"""Read-side benchmarks on a long account: bi-temporal balances, the audit sheet, projections.

``bench_ledger.py`` (``make bench``) runs :func:`measure` on its ten-year account and writes the
rows into docs/performance.md. Run alone, this script builds such an account in a temporary
SQLite file and prints the rows::

    .venv/bin/python benchmarks/bench_readside.py [--reps N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workload import LONG_EVENTS, START, Row, Samples, build_long_account

from dpledger import Ledger

CALLS = 5
"""Calls per repetition of each read (their mean is one sample)."""


def measure(ledger: Ledger, account_id: str, reps: int) -> list[Row]:
    """Rows for the read side of ``account_id`` (a long account): a balance as of a date as
    known at a time and a year's audit sheet, against loading the account; a command plus
    refreshing every projection, against the command alone. Each pair is interleaved and
    repeated ``reps`` times."""
    started = time.perf_counter()
    applied = ledger.catch_up()
    print(
        f"  read side: caught up ({applied:,} applied) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    known = datetime.now(UTC)
    # A year in the middle of the history.
    year_start = START + timedelta(days=365 * 5)
    year_end = year_start + timedelta(days=364)
    counter = iter(range(10**9))

    def command() -> None:
        n = next(counter)
        ledger.receive_contribution(
            account_id,
            amount="1.00",
            effective_date="2031-01-01",
            actor="bench",
            idempotency_key=f"rs{n}",
        )

    def command_and_refresh() -> None:
        command()
        ledger.catch_up()

    load, query, sheet, alone, refreshed = (Samples() for _ in range(5))
    for rep in range(reps):
        load.calls(CALLS, lambda: ledger.load(account_id))
        query.calls(CALLS, lambda: ledger.balance(account_id, as_of="2030-01-01", known_at=known))
        sheet.calls(CALLS, lambda: ledger.statement(account_id, year_start, year_end))
        alone.calls(CALLS, command)
        refreshed.calls(CALLS, command_and_refresh)
        print(f"  read side: repetition {rep + 1}/{reps}", flush=True)
    return [
        Row(
            "balance as of a date as known at a time, from the projection",
            "loading the account",
            load,
            query,
        ),
        Row("the audit sheet of one year of that account", "loading the account", load, sheet),
        Row(
            "a command plus refreshing every projection (lines, audit, warnings, portfolio)",
            "the command alone",
            alone,
            refreshed,
        ),
    ]


def main() -> int:
    """Build a long account in a temporary store and print the read-side rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Ledger.sqlite(Path(tmp) / "long.sqlite") as ledger:
        print(f"building an account of {LONG_EVENTS:,} events ...", flush=True)
        build_long_account(ledger, "LONG-1")
        for row in measure(ledger, "LONG-1", args.reps):
            low, mid, paired = row.ratios()
            print(
                f"{row.what}: {row.measured.median * 1e3:.2f} ms (median) against "
                f"{row.baseline_name} {row.baseline.median * 1e3:.2f} ms: {paired:.2f}x paired "
                f"({low:.2f}x of the minimums, {mid:.2f}x of the medians)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
