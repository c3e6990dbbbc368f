"""How fast a bank CSV export is parsed, against the stdlib ``csv`` module reading the same file.

A seeded generator writes a pooled statement of ``LINES`` lines (date, description, amount,
balance, reference; 1,000 different references, so references repeat and get ordinals). Each
repetition times :func:`dpledger.adapters.bankfeeds.parse_bytes` on it and, interleaved so both
share the machine's noise, the baseline: ``csv.reader`` over the decoded text plus one ``Decimal``
per amount and balance (the least any parser must do). Run alone::

    .venv/bin/python benchmarks/bench_parse.py [--reps N] [--lines N]

``bench_ledger.py`` can call :func:`run` and put its figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dpledger.adapters.bankfeeds import CsvMapping, parse_bytes

LINES = 100_000
"""Lines in the generated statement."""

REFERENCES = 1_000
"""Different references in it (each is used about ``LINES / REFERENCES`` times)."""

MAPPING = CsvMapping(
    name="Pooled account",
    date_column="Date",
    amount_column="Amount",
    description_columns=("Description",),
    balance_column="Balance",
    reference_column="Reference",
)
"""How the generated file is read (no built-in export has its header)."""

_PAYEES = ("PA WAGES", "CARE AGENCY LTD", "COUNCIL DP", "HMRC PAYE", "CLIENT CONTRIBUTION")


def generate(lines: int = LINES, *, seed: int = 11) -> bytes:
    """A pooled statement of ``lines`` lines whose running balance chains, oldest first."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    out = io.StringIO()
    out.write("Date,Description,Amount,Balance,Reference\n")
    balance = 10_000_000  # pence: large enough that payments never overdraw it
    day = date(2020, 1, 1)
    for number in range(lines):
        if number % 40 == 0:
            day += timedelta(days=1)
        pence = rng.randint(1, 250_000) * (1 if rng.random() < 0.3 else -1)
        balance += pence
        payee = rng.choice(_PAYEES)
        out.write(
            f"{day:%d/%m/%Y},{payee} {number % 97},{_pounds(pence)},{_pounds(balance)},"
            f"REF{rng.randrange(REFERENCES):04d}\n"
        )
    return out.getvalue().encode()


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _dpledger(data: bytes) -> int:
    [statement] = parse_bytes(data, filename="pooled.csv", csv_mapping=MAPPING)
    return len(statement.transactions)


def _baseline(data: bytes) -> int:
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    next(reader)
    count = 0
    for row in reader:
        Decimal(row[2])
        Decimal(row[3])
        count += 1
    return count


def run(repeats: int = 5, lines: int = LINES) -> dict[str, Any]:
    """Time both readers ``repeats`` times each, interleaved, on one generated file.

    Returns the seconds (``min``/``median`` for ``dpledger`` and ``baseline``), the ratios of
    dpledger to the baseline, and dpledger's microseconds and lines per second (from the median).
    """
    data = generate(lines)
    timings: dict[str, list[float]] = {"dpledger": [], "baseline": []}
    readers = {"dpledger": _dpledger, "baseline": _baseline}
    for _ in range(repeats):
        for name, reader in readers.items():
            started = time.perf_counter()
            count = reader(data)
            timings[name].append(time.perf_counter() - started)
            if count != lines:
                raise AssertionError(f"{name} read {count} lines, not {lines}")
    result: dict[str, Any] = {"lines": lines, "repeats": repeats, "bytes": len(data)}
    for name, seconds in timings.items():
        result[name] = {"min": min(seconds), "median": statistics.median(seconds)}
    result["ratio_min"] = result["dpledger"]["min"] / result["baseline"]["min"]
    result["ratio_median"] = result["dpledger"]["median"] / result["baseline"]["median"]
    result["us_per_line"] = result["dpledger"]["median"] / lines * 1e6
    result["lines_per_second"] = lines / result["dpledger"]["median"]
    return result


def main() -> int:
    """Print the figures of :func:`run`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each reader")
    parser.add_argument("--lines", type=int, default=LINES, help="lines in the generated file")
    args = parser.parse_args()
    result = run(args.reps, args.lines)
    print(f"{result['lines']:,} lines ({result['bytes']:,} bytes), {result['repeats']} repeats")
    for name in ("dpledger", "baseline"):
        print(
            f"  {name:9} min {result[name]['min'] * 1000:9.1f} ms   "
            f"median {result[name]['median'] * 1000:9.1f} ms"
        )
    print(f"  ratio     min {result['ratio_min']:9.1f} x    median {result['ratio_median']:9.1f} x")
    print(
        f"  dpledger  {result['us_per_line']:.2f} us/line, "
        f"{result['lines_per_second']:,.0f} lines/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
