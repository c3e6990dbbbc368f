"""The write side against raw eventsourcing, and the read side; rewrites docs/performance.md.

Run with ``make bench`` (``.venv/bin/python benchmarks/bench_ledger.py docs/performance.md``).
Every figure is a ratio to a baseline measured in the same run, on the same machine, interleaved
with it so that both share the machine's noise, and repeated: the tables give the minimum and the
median of the repetitions. The baseline of the write side is raw eventsourcing (see
``workload.py``) doing the same number of events, saves and snapshots on its own SQLite file.

What is measured (``--reps`` repetitions of each, dpledger and baseline in turn):

a. commands one at a time on a new account, through ``Ledger``'s typed methods (a council
   payment, a contribution, two care-plan payments, each with an idempotency key), against
   loading, changing and saving a new aggregate;
b. the same on a ten-year account of 3,000 events, against a 3,000-event aggregate;
c. ``execute_many`` of many accounts' commands (one transaction per account), against saving
   the same number of events in the same batches;
d. the size of the ten-year account's latest snapshot, and of all its stored events;
e. loading the ten-year account, against loading the 3,000-event aggregate.

For orientation, (a) also runs against raw eventsourcing loading without its default
projector's per-event protocol check, and ``bench_readside.py`` measures the read side on the
ten-year account.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

import bench_readside
from workload import (
    BATCH_ACCOUNTS,
    BATCH_PER_ACCOUNT,
    LONG_EVENTS,
    OPENING_EVENTS,
    RawApplication,
    Row,
    Samples,
    batch_commands,
    build_long_account,
    dpledger_one_at_a_time,
    opening,
    raw_application,
    raw_batches,
    raw_create,
    raw_one_at_a_time,
)

from dpledger import Ledger
from dpledger.adapters.store import SNAPSHOT_INTERVAL, project
from dpledger.domain.account import account_uuid

REPS = 25
"""Repetitions of each write-side measurement (the machines are shared and noisy)."""
NEW_COMMANDS = 100
"""Commands per repetition on a new account (it crosses two snapshots, as the baseline does)."""
LONG_COMMANDS = 50
"""Commands per repetition on the long account (one snapshot each repetition)."""
LOADS = 10
"""Loads of the long account per repetition."""
LONG_ACCOUNTS = 5
"""Ten-year accounts (and aggregates) taken in turn, so each grows little beyond its 3,000."""
LONG_IDS = tuple(f"LONG-{n}" for n in range(1, LONG_ACCOUNTS + 1))
SNAPSHOT_LIMIT_KB = 50
READ_REPS = 10
"""Repetitions of the read side (at most): its figures are for orientation."""


@dataclass
class Stores:
    """dpledger and the baseline, each with a store for new accounts and one for the long one."""

    new: Ledger
    long: Ledger
    raw_new: RawApplication
    raw_long: RawApplication
    raw_long_ids: tuple[UUID, ...]

    def close(self) -> None:
        """Release every connection."""
        for ledger in (self.new, self.long):
            ledger.close()
        for app in (self.raw_new, self.raw_long):
            app.close()


@dataclass
class WriteSide:
    """The write side's measurements."""

    new: Row
    lean: Row
    long: Row
    long_vs_new: Row
    batch: Row
    building: Samples
    load: Row
    replay: Samples
    snapshot_bytes: int
    event_bytes: int
    events: int


def open_stores(workdir: Path) -> Stores:
    """Open the four stores and build the ten-year accounts and aggregates."""
    new = Ledger.sqlite(workdir / "dpledger-new.sqlite")
    long = Ledger.sqlite(workdir / "dpledger-long.sqlite")
    raw_new = raw_application(workdir / "raw-new.sqlite")
    raw_long = raw_application(workdir / "raw-long.sqlite")
    started = time.perf_counter()
    for account_id in LONG_IDS:
        build_long_account(long, account_id)
    built = time.perf_counter()
    raw_long_ids = tuple(raw_create(raw_long, LONG_EVENTS) for _ in LONG_IDS)
    print(
        f"  built {LONG_ACCOUNTS} ten-year accounts ({LONG_EVENTS:,} events each, execute_many "
        f"a year at a time) in {built - started:.1f} s; the raw aggregates in "
        f"{time.perf_counter() - built:.1f} s",
        flush=True,
    )
    return Stores(new, long, raw_new, raw_long, raw_long_ids)


Measure = Callable[[], object]


def _variants(stores: Stores, rep: int) -> list[tuple[str, int, list[tuple[str, Measure]]]]:
    """Repetition ``rep``'s measurements: (name, units, [(sample name, run)...]), dpledger's
    first, with their accounts and aggregates set up (not timed): for each, a new account and
    the batch's accounts."""
    account_id = f"NEW-{rep}"
    _check(stores.new.execute_many(opening(account_id)))
    pot_id = raw_create(stores.raw_new, OPENING_EVENTS)
    lean_pot_id = raw_create(stores.raw_new, OPENING_EVENTS)
    batch_ids = [f"BATCH-{rep}-{n}" for n in range(BATCH_ACCOUNTS)]
    _check(stores.new.execute_many([c for a in batch_ids for c in opening(a)]))
    pot_ids = [raw_create(stores.raw_new, OPENING_EVENTS) for _ in range(BATCH_ACCOUNTS)]
    commands = batch_commands(batch_ids, BATCH_PER_ACCOUNT, 0)
    long_id, raw_long_id = LONG_IDS[rep % LONG_ACCOUNTS], stores.raw_long_ids[rep % LONG_ACCOUNTS]
    first = rep // LONG_ACCOUNTS * LONG_COMMANDS  # going on from the account's last repetition
    raw_new, raw_long = stores.raw_new, stores.raw_long
    return [
        (
            "new",
            NEW_COMMANDS,
            [
                ("new", lambda: dpledger_one_at_a_time(stores.new, account_id, NEW_COMMANDS, 0)),
                ("raw_new", lambda: raw_one_at_a_time(raw_new, pot_id, NEW_COMMANDS, 0)),
                (
                    "lean_new",
                    lambda: raw_one_at_a_time(raw_new, lean_pot_id, NEW_COMMANDS, 0, lean=True),
                ),
            ],
        ),
        (
            "long",
            LONG_COMMANDS,
            [
                (
                    "long",
                    lambda: dpledger_one_at_a_time(stores.long, long_id, LONG_COMMANDS, first),
                ),
                (
                    "raw_long",
                    lambda: raw_one_at_a_time(raw_long, raw_long_id, LONG_COMMANDS, first),
                ),
            ],
        ),
        (
            "batch",
            BATCH_ACCOUNTS * BATCH_PER_ACCOUNT,
            [
                ("batch", lambda: _check(stores.new.execute_many(commands))),
                ("raw_batch", lambda: raw_batches(raw_new, pot_ids, BATCH_PER_ACCOUNT, 0)),
            ],
        ),
        (
            "load",
            LOADS,
            [
                ("load", lambda: [stores.long.load(long_id) for _ in range(LOADS)]),
                (
                    "raw_load",
                    lambda: [raw_long.repository.get(raw_long_id) for _ in range(LOADS)],
                ),
            ],
        ),
    ]


def measure_write_side(stores: Stores, reps: int) -> WriteSide:
    """Repeat every write-side measurement ``reps`` times, dpledger and baseline in turn
    (who goes first rotates, so none always follows another's disk writes)."""
    # The snapshot of the account as built: ten years, exactly LONG_EVENTS events.
    snapshot_bytes, event_bytes, events_count = stored_bytes(stores.long)
    samples: dict[str, Samples] = defaultdict(Samples)
    building, replay = Samples(), Samples()
    build_ids = [f"BUILD-{n}" for n in range(BATCH_ACCOUNTS)]
    events = stores.long.application.events
    long_uuid = account_uuid(LONG_IDS[0])
    names = ("new", "long", "batch", "load")
    for rep in range(reps):
        for _name, units, variants in _variants(stores, rep):
            turn = rep % len(variants)
            for key, fn in variants[turn:] + variants[:turn]:
                samples[key].measure(units, fn)
        # Building a batch's commands (checking their fields) is the caller's, measured apart.
        building.measure(
            BATCH_ACCOUNTS * BATCH_PER_ACCOUNT,
            lambda: batch_commands(build_ids, BATCH_PER_ACCOUNT, 0),
        )
        replay.measure(1, lambda: project(None, events.get(long_uuid)))
        print(
            f"  write side: repetition {rep + 1}/{reps}, ms each (raw's): "
            + ", ".join(
                f"{name} {samples[name].seconds[-1] * 1e3:.2f}"
                f" ({samples['raw_' + name].seconds[-1] * 1e3:.2f})"
                for name in names
            ),
            flush=True,
        )
    _check_recorded(stores, reps)
    return WriteSide(
        new=Row(
            "one command at a time on a new account (2 to 102 events)",
            "raw load, trigger, save of a new aggregate",
            samples["raw_new"],
            samples["new"],
            ratio="throughput",
            target=0.8,
        ),
        long=Row(
            f"one command at a time on a ten-year account ({LONG_EVENTS:,} events, at most "
            f"{LONG_EVENTS + -(-reps // LONG_ACCOUNTS) * LONG_COMMANDS:,} by the last "
            "repetition)",
            f"raw load, trigger, save of a {LONG_EVENTS:,}-event aggregate",
            samples["raw_long"],
            samples["long"],
            ratio="throughput",
            target=0.8,
        ),
        lean=Row(
            "one command at a time on a new account (as above)",
            "raw, without the default projector's per-event protocol check",
            samples["lean_new"],
            samples["new"],
            ratio="throughput",
        ),
        long_vs_new=Row(
            "a command on the ten-year account, against one on a new account",
            "dpledger, new account",
            samples["new"],
            samples["long"],
            ratio="cost",
            target=1.5,
        ),
        batch=Row(
            f"execute_many: {BATCH_ACCOUNTS} accounts x {BATCH_PER_ACCOUNT} commands, "
            "one transaction per account (per command)",
            f"raw: {BATCH_ACCOUNTS} aggregates x {BATCH_PER_ACCOUNT} events, one save each",
            samples["raw_batch"],
            samples["batch"],
            ratio="throughput",
            target=0.5,
        ),
        building=building,
        load=Row(
            f"load the ten-year account ({LONG_EVENTS:,} events)",
            f"raw load of the {LONG_EVENTS:,}-event aggregate",
            samples["raw_load"],
            samples["load"],
            ratio="cost",
        ),
        replay=replay,
        snapshot_bytes=snapshot_bytes,
        event_bytes=event_bytes,
        events=events_count,
    )


def _check_recorded(stores: Stores, reps: int) -> None:
    # Every measured command recorded an event (none was taken for a retry and replayed).
    long_events = LONG_EVENTS + -(-reps // LONG_ACCOUNTS) * LONG_COMMANDS
    counts = [
        ("a new account", stores.new.load("NEW-0").version, OPENING_EVENTS + NEW_COMMANDS),
        (
            "a batch's account",
            stores.new.load(f"BATCH-0-{BATCH_ACCOUNTS - 1}").version,
            OPENING_EVENTS + BATCH_PER_ACCOUNT,
        ),
        ("a ten-year account", stores.long.load(LONG_IDS[0]).version, long_events),
        (
            "a 3,000-event aggregate",
            stores.raw_long.repository.get(stores.raw_long_ids[0]).version,
            long_events,
        ),
    ]
    for what, found, wanted in counts:
        if found != wanted:
            raise RuntimeError(f"{what} has {found} events, not {wanted}")


def _check(report: object) -> None:
    if not getattr(report, "ok", False):
        raise RuntimeError(f"a benchmark batch failed: {report!r}")


def stored_bytes(ledger: Ledger) -> tuple[int, int, int]:
    """The long account's latest snapshot's bytes, all its stored events' bytes and their
    number (what a load reads and decodes: the snapshot must not grow with the account's age)."""
    app = ledger.application
    assert app.snapshots is not None
    originator = account_uuid(LONG_IDS[0])
    (latest,) = app.snapshots.recorder.select_events(originator, desc=True, limit=1)
    events = app.events.recorder.select_events(originator)
    return len(latest.state), sum(len(e.state) for e in events), len(events)


# ---------------------------------------------------------------------------- the report
def _ms(samples: Samples) -> str:
    return f"{samples.min * 1e3:.2f} / {samples.median * 1e3:.2f} ms"


def _table_row(row: Row, note: str = "") -> str:
    low, mid, paired = row.ratios()
    target = note
    if row.target is not None:
        sign = ">=" if row.ratio == "throughput" else "<="
        target = f"{sign} {row.target}x: **{'met' if row.met() else 'not met'}**"
    return (
        f"| {row.what} | {row.baseline_name}: {_ms(row.baseline)} | {_ms(row.measured)} | "
        f"{low:.2f}x / {mid:.2f}x / **{paired:.2f}x** | {target} |"
    )


def _cpu(samples: Samples) -> str:
    return f"{samples.cpu_median * 1e3:.2f}"


def _wait(samples: Samples) -> str:
    return f"{max(samples.median - samples.cpu_median, 0) * 1e3:.2f}"


def _verdict(met: bool | None) -> str:
    return "**met**" if met else "**not met**"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs"


def report(
    write: WriteSide,
    read: list[Row],
    *,
    reps: int,
    read_reps: int,
    read_events: int,
    total: float,
) -> str:
    """docs/performance.md."""
    snapshot_kb = write.snapshot_bytes / 1e3
    rows = [write.new, write.long, write.long_vs_new, write.batch]
    orientation = [write.lean, write.load]
    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` (`benchmarks/{Path(__file__).name}`) on "
        f"{date.today().isoformat()}: Python {platform.python_version()}, eventsourcing "
        f"{version('eventsourcing')}, SQLite {sqlite3.sqlite_version}, {_machine()}; "
        f"{reps} repetitions of each measurement, dpledger and its baseline interleaved (so they "
        f"share the machine's noise); the whole run took {total / 60:.1f} minutes. Each figure "
        "is a ratio to a baseline measured in the same run, so it holds across machines; "
        "absolute times are per command (or per load) and for orientation only, given as "
        "minimum / median of the repetitions. A ratio is given three ways: of the minimums, of "
        "the medians, and **paired**: the median over the repetitions of each repetition's "
        "ratio (dpledger and its baseline ran back to back, sharing the machine's state at "
        "that moment). The targets are judged on the paired ratio, the one noise moves least.",
        "",
        "## Write side, against raw eventsourcing",
        "",
        "The baseline is a plain eventsourcing `Application` with one `Aggregate` whose event "
        "carries an int amount, a date string and an actor string, on its own SQLite file, "
        f"snapshotting every {SNAPSHOT_INTERVAL} events (dpledger's interval) with "
        "eventsourcing's default mechanism. A throughput ratio is baseline time / dpledger time "
        "(at least 0.8x means dpledger does at least 0.8 times the baseline's commands per "
        "second); a cost ratio is the other way round.",
        "",
        "| what | baseline, min / median | dpledger, min / median | ratio: of the minimums / "
        "of the medians / **paired** | target |",
        "|---|---|---|---|---|",
        *(_table_row(row) for row in rows),
        f"| size of the ten-year account's latest snapshot | all its {write.events:,} stored "
        f"events: {write.event_bytes / 1e3:,.0f} kB | {snapshot_kb:,.1f} kB | "
        f"{write.snapshot_bytes / write.event_bytes:.3f}x | <= {SNAPSHOT_LIMIT_KB} kB: "
        f"**{'met' if snapshot_kb <= SNAPSHOT_LIMIT_KB else 'not met'}** |",
        *(_table_row(row, "(orientation)") for row in orientation),
        "",
        "The targets (paired ratios):",
        "",
        f"- One command at a time on SQLite, at least 0.8x raw eventsourcing: new account "
        f"{write.new.verdict():.2f}x, {_verdict(write.new.met())}; ten-year account "
        f"{write.long.verdict():.2f}x, {_verdict(write.long.met())}.",
        f"- `execute_many`, at least 0.5x raw eventsourcing saving the same events in the same "
        f"batches: {write.batch.verdict():.2f}x, {_verdict(write.batch.met())}.",
        f"- A command on a ten-year ({LONG_EVENTS:,}-event) account costs at most 1.5x one on a "
        f"new account: {write.long_vs_new.verdict():.2f}x, "
        f"{_verdict(write.long_vs_new.met())}; its snapshot is at most {SNAPSHOT_LIMIT_KB} kB: "
        f"{snapshot_kb:,.1f} kB, {_verdict(snapshot_kb <= SNAPSHOT_LIMIT_KB)}.",
        "",
        "Where the time goes (medians): a command on a new account takes "
        f"{_cpu(write.new.measured)} ms of CPU in the process, and waits "
        f"{_wait(write.new.measured)} ms (for SQLite's commit to reach the disk, and for a CPU "
        f"when the machine is busy); the baseline {_cpu(write.new.baseline)} ms and "
        f"{_wait(write.new.baseline)} ms. In a "
        f"batch, dpledger spends {write.batch.measured.cpu_median * 1e3:.3f} ms of CPU per "
        f"command against the baseline's {write.batch.baseline.cpu_median * 1e3:.3f} ms; "
        "building the batch's commands (checking every field) costs another "
        f"{write.building.median * 1e3:.3f} ms per command, not included above. Loading the "
        f"ten-year account replays at most {SNAPSHOT_INTERVAL - 1} events after its snapshot; "
        f"replaying all its events instead takes {write.replay.median * 1e3:.0f} ms.",
        "",
        "eventsourcing's default projector checks every event it replays against a runtime "
        "protocol (`isinstance` with a `typing.Protocol`), a cost of its own on Python 3.11 "
        "that dpledger's repository does not pay. Against a baseline without that check, the "
        "stricter comparison (the first *orientation* row), a command on a new account is "
        f"{write.lean.verdict():.2f}x.",
        "",
        "Every `Ledger` call is its own transaction, durable on return; `execute_many` commits "
        "once per account. dpledger's save also writes the key index (idempotency keys) in "
        "the events' transaction, and takes its snapshot from the saved account, where "
        "eventsourcing's default reloads the aggregate to snapshot it.",
        "",
        "## Read side",
        "",
        f"On the ten-year account ({read_events:,} events by then), each pair interleaved and "
        f"repeated {read_reps} times; a cost ratio (measured time / baseline time).",
        "",
        "| what | baseline, min / median | measured, min / median | ratio: of the minimums / "
        "of the medians / **paired** | |",
        "|---|---|---|---|---|",
        *(_table_row(row) for row in read),
        "",
        "A bi-temporal balance reads one account's rows through an index; refreshing the "
        "projections after an event costs that account's rows only, whatever the portfolio's "
        "size.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmarks and write docs/performance.md (or the file named)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/performance.md", type=Path)
    parser.add_argument("--reps", type=int, default=REPS, help=f"repetitions (default {REPS})")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dpledger-bench-") as tmp:
        print(f"write side, {args.reps} repetitions, stores in {tmp}", flush=True)
        stores = open_stores(Path(tmp))
        try:
            write = measure_write_side(stores, args.reps)
            read_reps = min(args.reps, READ_REPS)
            print(f"read side on the ten-year account, {read_reps} repetitions", flush=True)
            read = bench_readside.measure(stores.long, LONG_IDS[0], read_reps)
            read_events = stores.long.load(LONG_IDS[0]).version
        finally:
            stores.close()
    text = report(
        write,
        read,
        reps=args.reps,
        read_reps=read_reps,
        read_events=read_events,
        total=time.perf_counter() - started,
    )
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out} in {(time.perf_counter() - started) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
