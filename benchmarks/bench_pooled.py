"""Importing a pooled client account's statement: 100,000 lines across 1,000 managed accounts.

A seeded generator writes one Lloyds-style CSV export of a pooled client account for a year:
each member gets its 4-weekly council payment (naming the person's reference, so it is allocated
by the reference and matched as the council payment due), and payments out to a care agency
naming the reference (held in the member's suspense as unexpected outgoings, never beyond the
member's money). Each repetition imports the file into a fresh SQLite store holding the pool and
its members (parse, de-duplicate, allocate, match, record), then imports it again (nothing
recorded). Baselines, interleaved with it so they share the machine's noise:

- for the import, raw ``eventsourcing`` on SQLite reading the same file with the stdlib ``csv``
  module and recording one event per line on each line's aggregate, saved in one transaction
  (dpledger records two: the member's money event and the pool's line);
- for the re-import, the stdlib ``csv`` module reading the file (the least any re-import does).

Run alone::

    .venv/bin/python benchmarks/bench_pooled.py [--reps N] [--lines N] [--accounts N]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from dpledger import Ledger
from dpledger.commands import AgreeBudget, NameBankAccount, OpenAccount

POOL = "30-99-50 12345678"
LINES = 100_000
ACCOUNTS = 1_000
START = date(2025, 4, 7)
HEADER = (
    "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
    "Debit Amount,Credit Amount,Balance"
)
WEEKLY = 10_000  # pence: each member's weekly budget (council share)


def reference(member: int) -> str:
    """The person's reference the council and the agency quote."""
    return f"KCC-{100_000 + member}"


def generate(lines: int = LINES, accounts: int = ACCOUNTS, *, seed: int = 7) -> bytes:
    """The pooled statement: ``lines`` lines across ``accounts`` members, by date."""
    rng = random.Random(seed)  # noqa: S311 - a seeded workload, not a secret
    per = max(1, lines // accounts)
    rows: list[tuple[date, str, int]] = []
    for member in range(accounts):
        ref = reference(member)
        held = 0
        payments = 0
        for index in range(per):
            day = START + timedelta(days=(index * 364) // per)
            due = START + timedelta(days=28 * payments)
            if day >= due or held < 2_000:
                # The council payment due next (4 weeks of the weekly budget), on its due date.
                day = max(day, due) if day >= due else due
                rows.append((due, f"KENT CC DIRECT PAYMENT {ref}", WEEKLY * 4))
                held += WEEKLY * 4
                payments += 1
                continue
            pence = rng.randint(100, min(held, 15_000))
            rows.append((day, f"BRIGHT CARE LTD {ref}", -pence))
            held -= pence
    rows.sort(key=lambda r: r[0])
    out = [HEADER]
    for day, text, pence in rows[:lines]:
        debit = f"{-pence // 100}.{-pence % 100:02d}" if pence < 0 else ""
        credit = f"{pence // 100}.{pence % 100:02d}" if pence > 0 else ""
        out.append(f"{day:%d/%m/%Y},FPI,'30-99-50,12345678,{text},{debit},{credit},")
    return ("\n".join(out) + "\n").encode()


def open_pool(path: Path, accounts: int) -> None:
    """A store holding the pool and its members, each with a budget."""
    with Ledger.sqlite(path) as ledger:
        ledger.open_pooled_account(POOL, name="Clients", opened_on="2025-04-01", actor="bench")
        commands: list[Any] = []
        for member in range(accounts):
            account_id = f"DP-{member}"
            common = {"account_id": account_id, "effective_date": START, "actor": "bench"}
            commands += [
                OpenAccount.build(
                    person_ref=reference(member),
                    council="Kent County Council",
                    provider="Virtual Wallet",
                    **common,
                ),
                AgreeBudget.build(
                    weekly_gross=Decimal(WEEKLY) / 100, weekly_contribution="0.00", **common
                ),
                NameBankAccount.build(bank_account=POOL, **common),
            ]
        ledger.execute_many(commands)


class _Pot(Aggregate):
    """The baseline's aggregate: one per member, one event per line."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.pence = 0

    @event("Moved")
    def move(self, pence: int, text: str, day: str) -> None:
        self.pence += pence


def raw_import(data: bytes, path: Path) -> int:
    """The baseline import: the stdlib csv module and raw eventsourcing, one event per line."""
    app: Application = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )
    pots: dict[str, _Pot] = {}
    for row in csv.reader(io.StringIO(data.decode())):
        if row[0] == "Transaction Date":
            continue
        name = row[4].rsplit(" ", 1)[-1]
        pot = pots.get(name)
        if pot is None:
            pot = pots[name] = _Pot(name)
            pot._id = uuid5(NAMESPACE_URL, name)  # type: ignore[misc]
        pence = int(Decimal(row[6] or "0") * 100) - int(Decimal(row[5] or "0") * 100)
        pot.move(pence, row[4], row[0])
    app.save(*pots.values())
    count = sum(p.version for p in pots.values())
    app.close()
    return count


def csv_read(data: bytes) -> int:
    """The re-import baseline: read every line with the stdlib csv module."""
    count = 0
    rows = csv.reader(io.StringIO(data.decode()))
    next(rows)  # the header
    for row in rows:
        Decimal(row[5] or "0")
        Decimal(row[6] or "0")
        count += 1
    return count


@dataclass
class Figures:
    """Seconds per repetition of each measurement."""

    lines: int
    accounts: int
    imports: list[float]
    raw_imports: list[float]
    reimports: list[float]
    csv_reads: list[float]
    summary: str

    @staticmethod
    def rate(lines: int, samples: list[float]) -> tuple[float, float]:
        """Lines per second at the fastest and the median repetition."""
        return lines / min(samples), lines / statistics.median(samples)


def run(reps: int = 2, lines: int = LINES, accounts: int = ACCOUNTS) -> Figures:
    """Import and re-import the statement ``reps`` times, each beside its baseline."""
    data = generate(lines, accounts)
    figures = Figures(lines, accounts, [], [], [], [], "")
    with tempfile.TemporaryDirectory(prefix="dpledger-pool-") as tmp:
        template = Path(tmp) / "template.sqlite"
        open_pool(template, accounts)
        statement = Path(tmp) / "pool.csv"
        statement.write_bytes(data)
        for rep in range(reps):
            store = Path(tmp) / f"store-{rep}.sqlite"
            store.write_bytes(template.read_bytes())
            with Ledger.sqlite(store) as ledger:
                started = time.perf_counter()
                report = ledger.import_pooled_file(statement, actor="bench")
                figures.imports.append(time.perf_counter() - started)
                figures.summary = report.summary()
                started = time.perf_counter()
                again = ledger.import_pooled_file(statement, actor="bench")
                figures.reimports.append(time.perf_counter() - started)
                assert again.nothing_new, again.summary()
            started = time.perf_counter()
            raw_import(data, Path(tmp) / f"raw-{rep}.sqlite")
            figures.raw_imports.append(time.perf_counter() - started)
            started = time.perf_counter()
            csv_read(data)
            figures.csv_reads.append(time.perf_counter() - started)
            print(
                f"  pooled import {rep + 1}/{reps}: {figures.imports[-1]:.1f} s, "
                f"re-import {figures.reimports[-1]:.2f} s",
                flush=True,
            )
    return figures


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--lines", type=int, default=LINES)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    args = parser.parse_args()
    figures = run(args.reps, args.lines, args.accounts)
    for what, samples in (
        ("import", figures.imports),
        ("raw eventsourcing import", figures.raw_imports),
        ("re-import", figures.reimports),
        ("csv module read", figures.csv_reads),
    ):
        fastest, median = Figures.rate(figures.lines, samples)
        print(f"{what}: {fastest:,.0f} lines/s at best, {median:,.0f} median")
    print(figures.summary)


if __name__ == "__main__":
    main()
