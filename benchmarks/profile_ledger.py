"""Profile the write side: where a command's time goes, next to raw eventsourcing's.

Not part of ``make bench``; for whoever optimises. The cases are commands one at a time on new
accounts and on a ten-year account, and an ``execute_many`` batch, each with its raw
eventsourcing baseline (see ``workload.py``)::

    .venv/bin/python benchmarks/profile_ledger.py [--top 25] [--only long] [--save DIR]
    .venv/bin/python benchmarks/profile_ledger.py --phases
    py-spy record -o long.txt -f raw -- .venv/bin/python benchmarks/profile_ledger.py \\
        --plain 5 --only long

By default each case runs under cProfile and its top functions are printed by cumulative and by
own time (``--save DIR`` also writes ``DIR/<case>.prof``). ``--phases`` times a command's phases
without a profiler: loading the aggregate, deciding, saving (which includes SQLite's commit).
``--plain N`` runs the cases N times with no profiler, for a sampling profiler such as py-spy.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

from workload import (
    ACTOR,
    BATCH_ACCOUNTS,
    BATCH_PER_ACCOUNT,
    LONG_EVENTS,
    OPENING_EVENTS,
    Pot,
    RawApplication,
    after,
    batch_commands,
    build_long_account,
    command,
    dpledger_one_at_a_time,
    opening,
    raw_application,
    raw_batches,
    raw_create,
    raw_one_at_a_time,
)

from dpledger import Ledger
from dpledger.application.session import Session

COMMANDS = 200
"""Commands per one-at-a-time case (four snapshots' worth)."""
LONG_ID = "LONG-1"


class Rig:
    """dpledger and the baseline, set up in ``workdir``: a long account and aggregate, new
    accounts and aggregates, and the batch's accounts and aggregates (none of it profiled)."""

    def __init__(self, workdir: Path, stack: ExitStack) -> None:
        self.new = stack.enter_context(Ledger.sqlite(workdir / "new.sqlite"))
        self.long = stack.enter_context(Ledger.sqlite(workdir / "long.sqlite"))
        self.raw: RawApplication = raw_application(workdir / "raw.sqlite")
        stack.callback(self.raw.close)
        build_long_account(self.long, LONG_ID)
        self.raw_long = raw_create(self.raw, LONG_EVENTS)
        self.round = 0

    def cases(self) -> dict[str, Callable[[], object]]:
        """Each case, with fresh accounts and aggregates (so the cases can run again)."""
        self.round += 1
        new_ids = [f"NEW-{self.round}-{n}" for n in range(COMMANDS // 50)]
        batch_ids = [f"BATCH-{self.round}-{n}" for n in range(BATCH_ACCOUNTS)]
        self.new.execute_many([c for a in new_ids + batch_ids for c in opening(a)])
        raw_new = [raw_create(self.raw, OPENING_EVENTS) for _ in new_ids]
        raw_batch = [raw_create(self.raw, OPENING_EVENTS) for _ in batch_ids]
        commands = batch_commands(batch_ids, BATCH_PER_ACCOUNT, 0)
        first = (self.round - 1) * COMMANDS

        def new() -> None:
            # 50 commands on each of four new accounts: from 2 to 52 events, a snapshot each.
            for account_id in new_ids:
                dpledger_one_at_a_time(self.new, account_id, 50, 0)

        def raw_new_pots() -> None:
            for pot_id in raw_new:
                raw_one_at_a_time(self.raw, pot_id, 50, 0)

        return {
            "new": new,
            "raw-new": raw_new_pots,
            "long": lambda: dpledger_one_at_a_time(self.long, LONG_ID, COMMANDS, first),
            "raw-long": lambda: raw_one_at_a_time(self.raw, self.raw_long, COMMANDS, first),
            "batch": lambda: self.new.execute_many(commands),
            "raw-batch": lambda: raw_batches(self.raw, raw_batch, BATCH_PER_ACCOUNT, 0),
        }


def dpledger_phases(ledger: Ledger, account_id: str, count: int, first: int) -> dict[str, float]:
    """Median seconds of each phase of ``count`` commands (what ``Ledger.execute`` does)."""
    times: dict[str, list[float]] = {"build": [], "load": [], "decide": [], "save": []}
    for n in range(first, first + count):
        t0 = time.perf_counter()
        cmd = command(account_id, n, after(n), f"phase-{n}")
        t1 = time.perf_counter()
        session = Session(ledger.application)
        session.account(account_id)
        t2 = time.perf_counter()
        session.run(cmd)
        t3 = time.perf_counter()
        session.save()
        t4 = time.perf_counter()
        for name, took in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[name].append(took)
    return {name: statistics.median(values) for name, values in times.items()}


def raw_phases(app: RawApplication, pot_id: UUID, count: int) -> dict[str, float]:
    """Median seconds of the baseline's load, trigger and save."""
    times: dict[str, list[float]] = {"load": [], "decide": [], "save": []}
    for n in range(count):
        t0 = time.perf_counter()
        pot: Pot = app.repository.get(pot_id)
        t1 = time.perf_counter()
        pot.move(n, after(n).isoformat(), ACTOR)
        t2 = time.perf_counter()
        app.save(pot)
        t3 = time.perf_counter()
        for name, took in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            times[name].append(took)
    return {name: statistics.median(values) for name, values in times.items()}


def phases(rig: Rig) -> None:
    """Print the median phases of a command, dpledger's and the baseline's."""
    rig.new.execute_many(opening("PHASES-1"))
    pot = raw_create(rig.raw, OPENING_EVENTS)
    rows = {
        "dpledger, new account (2 to 202 events)": dpledger_phases(rig.new, "PHASES-1", 200, 0),
        "raw, new aggregate": raw_phases(rig.raw, pot, 200),
        "dpledger, ten-year account": dpledger_phases(rig.long, LONG_ID, 200, 0),
        "raw, 3,000-event aggregate": raw_phases(rig.raw, rig.raw_long, 200),
    }
    print("median ms per command:")
    for name, row in rows.items():
        cells = ", ".join(f"{phase} {took * 1e3:.3f}" for phase, took in row.items())
        print(f"  {name}: {cells}; total {sum(row.values()) * 1e3:.3f}")


def main() -> int:
    """Profile each case and print its top functions (or see the module's options)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="functions per listing (25)")
    parser.add_argument("--only", action="append", help="run only this case (repeatable)")
    parser.add_argument("--save", type=Path, help="write each profile to this folder")
    parser.add_argument("--phases", action="store_true", help="time a command's phases")
    parser.add_argument("--plain", type=int, default=0, help="run N times, no profiler")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dpledger-profile-") as tmp, ExitStack() as stack:
        rig = Rig(Path(tmp), stack)
        if args.phases:
            phases(rig)
            return 0
        for _ in range(max(args.plain, 1)):
            for name, fn in rig.cases().items():
                if args.only and name not in args.only:
                    continue
                if args.plain:
                    started = time.perf_counter()
                    fn()
                    print(f"{name}: {(time.perf_counter() - started) * 1e3:.0f} ms", flush=True)
                    continue
                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.runcall(fn)
                took = time.perf_counter() - started
                stats = pstats.Stats(profiler)
                print(f"\n======== {name}: {took * 1e3:.0f} ms under the profiler")
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    stats.dump_stats(args.save / f"{name}.prof")
                for order in ("cumulative", "tottime"):
                    print(f"-------- by {order}")
                    stats.sort_stats(order).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
