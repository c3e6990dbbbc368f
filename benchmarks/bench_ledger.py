"""The write side against raw eventsourcing, and the read side; rewrites docs/performance.md.

Run with ``make bench`` (``.venv/bin/python benchmarks/bench_ledger.py docs/performance.md``).
Every figure is a ratio to a baseline measured in the same run, on the same machine, interleaved
with it so that both share the machine's noise, and repeated: the tables give the minimum and the
median of the repetitions. The baseline of the write side is raw eventsourcing (see
``workload.py``) doing the same number of events, saves and snapshots on its own SQLite file.

Both dpledger (its account cache, ``DPLEDGER_ACCOUNT_CACHE``) and eventsourcing (its aggregate
cache, ``AGGREGATE_CACHE_MAXSIZE``) can keep aggregates in memory between commands, so the
commands one at a time are measured in two settings, like for like: **without caches** (dpledger
with ``DPLEDGER_ACCOUNT_CACHE=0``, eventsourcing without its cache) and **with caches** (dpledger
with its default cache of 256 accounts, eventsourcing with ``AGGREGATE_CACHE_MAXSIZE=256`` and its
defaults otherwise). Each setting has its own stores.

What is measured (``--reps`` repetitions of each, dpledger and baseline in turn):

a. commands one at a time on a new account, through ``Ledger``'s typed methods (a council
   payment, a contribution, two care-plan payments, each with an idempotency key), against
   loading, changing and saving a new aggregate; in both settings;
b. the same on a ten-year account of 3,000 events, against a 3,000-event aggregate; in both
   settings;
c. ``execute_many`` of many accounts' commands (one transaction per account), against saving
   the same number of events in the same batches; without caches;
d. the size of the ten-year account's latest snapshot, and of all its stored events;
e. loading the ten-year account, against loading the 3,000-event aggregate; without caches.

For orientation, (a) without caches also runs against raw eventsourcing loading without its
default projector's per-event protocol check, and ``bench_readside.py`` measures the read side on
the ten-year account (dpledger's defaults, its cache on).
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
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID

import bench_parse
import bench_pooled
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
    dpledger_ledger,
    dpledger_one_at_a_time,
    opening,
    raw_application,
    raw_batches,
    raw_create,
    raw_one_at_a_time,
)

from dpledger import Ledger
from dpledger.adapters.store import ACCOUNT_CACHE_SIZE, SNAPSHOT_INTERVAL, project
from dpledger.domain.account import account_uuid

REPS = 40
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
CACHED = "cached_"
"""The prefix of the samples taken with caches (``new`` without, ``cached_new`` with)."""


@dataclass
class Setting:
    """One cache setting's stores: dpledger's and the baseline's, each with a store for new
    accounts and one for the ten-year ones; and the baseline's aggregates measured on them
    (for the checks that every measured command recorded an event)."""

    label: str
    prefix: str
    new: Ledger
    long: Ledger
    raw_new: RawApplication
    raw_long: RawApplication
    raw_long_ids: tuple[UUID, ...]
    raw_new_ids: list[UUID] = field(default_factory=list)
    raw_batch_ids: list[UUID] = field(default_factory=list)

    def close(self) -> None:
        """Release every connection."""
        for ledger in (self.new, self.long):
            ledger.close()
        for app in (self.raw_new, self.raw_long):
            app.close()


@dataclass
class Stores:
    """Both settings: without caches, and with them."""

    plain: Setting
    cached: Setting

    def close(self) -> None:
        """Release every connection."""
        self.plain.close()
        self.cached.close()


@dataclass
class Targets:
    """The rows with a target for commands one at a time, in one cache setting."""

    label: str
    new: Row
    long: Row
    long_vs_new: Row


@dataclass
class WriteSide:
    """The write side's measurements."""

    plain: Targets
    cached: Targets
    lean: Row
    batch: Row
    building: Samples
    load: Row
    replay: Samples
    snapshot_bytes: int
    event_bytes: int
    events: int


def open_stores(workdir: Path) -> Stores:
    """Open the stores of both settings and build the ten-year accounts and aggregates (once:
    the stores with caches start from a copy of the ones without)."""
    plain = Setting(
        "without caches",
        "",
        new=dpledger_ledger(workdir / "dpledger-new.sqlite", cached=False),
        long=dpledger_ledger(workdir / "dpledger-long.sqlite", cached=False),
        raw_new=raw_application(workdir / "raw-new.sqlite"),
        raw_long=raw_application(workdir / "raw-long.sqlite"),
        raw_long_ids=(),
    )
    started = time.perf_counter()
    for account_id in LONG_IDS:
        build_long_account(plain.long, account_id)
    built = time.perf_counter()
    plain.raw_long_ids = tuple(raw_create(plain.raw_long, LONG_EVENTS) for _ in LONG_IDS)
    print(
        f"  built {LONG_ACCOUNTS} ten-year accounts ({LONG_EVENTS:,} events each, execute_many "
        f"a year at a time) in {built - started:.1f} s; the raw aggregates in "
        f"{time.perf_counter() - built:.1f} s",
        flush=True,
    )
    for name in ("dpledger-long", "raw-long"):
        _copy_sqlite(workdir / f"{name}.sqlite", workdir / f"{name}-cached.sqlite")
    cached = Setting(
        "with caches",
        CACHED,
        new=dpledger_ledger(workdir / "dpledger-new-cached.sqlite", cached=True),
        long=dpledger_ledger(workdir / "dpledger-long-cached.sqlite", cached=True),
        raw_new=raw_application(workdir / "raw-new-cached.sqlite", cache_size=ACCOUNT_CACHE_SIZE),
        raw_long=raw_application(workdir / "raw-long-cached.sqlite", cache_size=ACCOUNT_CACHE_SIZE),
        raw_long_ids=plain.raw_long_ids,
    )
    return Stores(plain, cached)


def _copy_sqlite(source: Path, target: Path) -> None:
    # SQLite's online backup: every committed transaction, whatever the journal mode.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


Measure = Callable[[], object]
Group = tuple[str, int, list[tuple[str, Measure]]]


def _one_at_a_time(setting: Setting, rep: int) -> list[Group]:
    """Repetition ``rep``'s commands one at a time in ``setting``, with a new account and
    new aggregates set up (not timed)."""
    p = setting.prefix
    account_id = f"NEW-{rep}"
    _check(setting.new.execute_many(opening(account_id)))
    raw_new, raw_long = setting.raw_new, setting.raw_long
    pot_id = raw_create(raw_new, OPENING_EVENTS)
    setting.raw_new_ids.append(pot_id)
    new: list[tuple[str, Measure]] = [
        (f"{p}new", lambda: dpledger_one_at_a_time(setting.new, account_id, NEW_COMMANDS, 0)),
        (f"raw_{p}new", lambda: raw_one_at_a_time(raw_new, pot_id, NEW_COMMANDS, 0)),
    ]
    if not p:  # the stricter baseline, for orientation: without caches only
        lean_pot_id = raw_create(raw_new, OPENING_EVENTS)
        setting.raw_new_ids.append(lean_pot_id)
        new.append(
            (
                "lean_new",
                lambda: raw_one_at_a_time(raw_new, lean_pot_id, NEW_COMMANDS, 0, lean=True),
            )
        )
    long_id, raw_long_id = LONG_IDS[rep % LONG_ACCOUNTS], setting.raw_long_ids[rep % LONG_ACCOUNTS]
    first = rep // LONG_ACCOUNTS * LONG_COMMANDS  # going on from the account's last repetition
    long: list[tuple[str, Measure]] = [
        (f"{p}long", lambda: dpledger_one_at_a_time(setting.long, long_id, LONG_COMMANDS, first)),
        (f"raw_{p}long", lambda: raw_one_at_a_time(raw_long, raw_long_id, LONG_COMMANDS, first)),
    ]
    return [(f"{p}new", NEW_COMMANDS, new), (f"{p}long", LONG_COMMANDS, long)]


def _variants(stores: Stores, rep: int) -> list[Group]:
    """Repetition ``rep``'s measurements: (name, units, [(sample name, run)...]), dpledger's
    first, with their accounts and aggregates set up (not timed)."""
    plain = stores.plain
    batch_ids = [f"BATCH-{rep}-{n}" for n in range(BATCH_ACCOUNTS)]
    _check(plain.new.execute_many([c for a in batch_ids for c in opening(a)]))
    pot_ids = [raw_create(plain.raw_new, OPENING_EVENTS) for _ in range(BATCH_ACCOUNTS)]
    plain.raw_batch_ids.extend(pot_ids)
    commands = batch_commands(batch_ids, BATCH_PER_ACCOUNT, 0)
    long_id, raw_long_id = LONG_IDS[rep % LONG_ACCOUNTS], plain.raw_long_ids[rep % LONG_ACCOUNTS]
    raw_new, raw_long = plain.raw_new, plain.raw_long
    return [
        *_one_at_a_time(plain, rep),
        *_one_at_a_time(stores.cached, rep),
        (
            "batch",
            BATCH_ACCOUNTS * BATCH_PER_ACCOUNT,
            [
                ("batch", lambda: _check(plain.new.execute_many(commands))),
                ("raw_batch", lambda: raw_batches(raw_new, pot_ids, BATCH_PER_ACCOUNT, 0)),
            ],
        ),
        (
            "load",
            LOADS,
            [
                ("load", lambda: [plain.long.load(long_id) for _ in range(LOADS)]),
                (
                    "raw_load",
                    lambda: [raw_long.repository.get(raw_long_id) for _ in range(LOADS)],
                ),
            ],
        ),
    ]


def _targets(samples: dict[str, Samples], setting: Setting, reps: int) -> Targets:
    p, label = setting.prefix, setting.label
    longest = LONG_EVENTS + -(-reps // LONG_ACCOUNTS) * LONG_COMMANDS
    return Targets(
        label=label,
        new=Row(
            f"one command at a time on a new account (2 to 102 events), {label}",
            "raw load, trigger, save of a new aggregate",
            samples[f"raw_{p}new"],
            samples[f"{p}new"],
            ratio="throughput",
            target=0.8,
        ),
        long=Row(
            f"one command at a time on a ten-year account ({LONG_EVENTS:,} events, at most "
            f"{longest:,} by the last repetition), {label}",
            f"raw load, trigger, save of a {LONG_EVENTS:,}-event aggregate",
            samples[f"raw_{p}long"],
            samples[f"{p}long"],
            ratio="throughput",
            target=0.8,
        ),
        long_vs_new=Row(
            f"a command on the ten-year account, against one on a new account, {label}",
            "dpledger, new account",
            samples[f"{p}new"],
            samples[f"{p}long"],
            ratio="cost",
            target=1.5,
        ),
    )


def measure_write_side(stores: Stores, reps: int) -> WriteSide:
    """Repeat every write-side measurement ``reps`` times, dpledger and baseline in turn
    (who goes first rotates, so none always follows another's disk writes)."""
    # The snapshot of the account as built: ten years, exactly LONG_EVENTS events.
    snapshot_bytes, event_bytes, events_count = stored_bytes(stores.plain.long)
    samples: dict[str, Samples] = defaultdict(Samples)
    building, replay = Samples(), Samples()
    build_ids = [f"BUILD-{n}" for n in range(BATCH_ACCOUNTS)]
    events = stores.plain.long.application.events
    long_uuid = account_uuid(LONG_IDS[0])
    names = ("new", "long", f"{CACHED}new", f"{CACHED}long", "batch", "load")
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
                f"{name.replace('_', ' ')} {samples[name].seconds[-1] * 1e3:.2f}"
                f" ({samples['raw_' + name].seconds[-1] * 1e3:.2f})"
                for name in names
            ),
            flush=True,
        )
    for setting in (stores.plain, stores.cached):
        _check_recorded(setting, reps)
    _check_cached(stores.cached, reps)
    return WriteSide(
        plain=_targets(samples, stores.plain, reps),
        cached=_targets(samples, stores.cached, reps),
        lean=Row(
            "one command at a time on a new account, without caches (as above)",
            "raw, without the default projector's per-event protocol check",
            samples["lean_new"],
            samples["new"],
            ratio="throughput",
        ),
        batch=Row(
            f"execute_many: {BATCH_ACCOUNTS} accounts x {BATCH_PER_ACCOUNT} commands, "
            "one transaction per account (per command), without caches",
            f"raw: {BATCH_ACCOUNTS} aggregates x {BATCH_PER_ACCOUNT} events, one save each",
            samples["raw_batch"],
            samples["batch"],
            ratio="throughput",
            target=0.5,
        ),
        building=building,
        load=Row(
            f"load the ten-year account ({LONG_EVENTS:,} events), without caches",
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


def _check_recorded(setting: Setting, reps: int) -> None:
    # Every measured command recorded an event (none was taken for a retry and replayed): read
    # from the stores, never from a cache.
    counts: list[tuple[str, int, int]] = []
    for rep in range(reps):
        account_id = f"NEW-{rep}"
        counts.append(
            (account_id, setting.new.load(account_id).version, OPENING_EVENTS + NEW_COMMANDS)
        )
    counts += [
        (f"raw {n}", _raw_version(setting.raw_new, pot_id), OPENING_EVENTS + NEW_COMMANDS)
        for n, pot_id in enumerate(setting.raw_new_ids)
    ]
    for n, (account_id, pot_id) in enumerate(zip(LONG_IDS, setting.raw_long_ids, strict=True)):
        wanted = LONG_EVENTS + len(range(n, reps, LONG_ACCOUNTS)) * LONG_COMMANDS
        counts.append((account_id, setting.long.load(account_id).version, wanted))
        counts.append((f"raw {account_id}", _raw_version(setting.raw_long, pot_id), wanted))
    if setting.raw_batch_ids:  # the batches run without caches only
        batched = OPENING_EVENTS + BATCH_PER_ACCOUNT
        for rep in range(reps):
            for n in range(BATCH_ACCOUNTS):
                account_id = f"BATCH-{rep}-{n}"
                counts.append((account_id, setting.new.load(account_id).version, batched))
        counts += [
            (f"raw batch {n}", _raw_version(setting.raw_new, pot_id), batched)
            for n, pot_id in enumerate(setting.raw_batch_ids)
        ]
    for what, found, wanted in counts:
        if found != wanted:
            raise RuntimeError(f"{setting.label}: {what} has {found} events, not {wanted}")


def _raw_version(app: RawApplication, pot_id: UUID) -> int:
    (latest,) = app.events.get(pot_id, desc=True, limit=1)
    return int(latest.originator_version)


def _check_cached(setting: Setting, reps: int) -> None:
    # With caches, both sides really kept their aggregates: each ten-year one measured is in
    # memory after the run, so its measured commands found it there, bar the first of all
    # (dpledger's memory is private to its repository: read here, for this check alone).
    kept = setting.long.application.checked_repository._kept
    cache = setting.raw_long.repository.cache
    assert cache is not None
    used = min(reps, LONG_ACCOUNTS)
    for account_id, pot_id in zip(LONG_IDS[:used], setting.raw_long_ids[:used], strict=True):
        if account_uuid(account_id) not in kept:
            raise RuntimeError(f"with caches: dpledger did not keep {account_id}")
        try:
            cache.get(pot_id)
        except KeyError:
            raise RuntimeError(f"with caches: eventsourcing did not keep {pot_id}") from None


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


def _x(row: Row, ratio: float | None = None) -> str:
    """A ratio as ``0.79x``, with a third decimal where two would round it onto the target
    (0.797x is not 0.8x, and must not read as if it were)."""
    value = row.verdict() if ratio is None else ratio
    text = f"{value:.2f}"
    if row.target is not None and text == f"{row.target:.2f}" and value != row.target:
        text = f"{value:.3f}"
    return f"{text}x"


def _table_row(row: Row, note: str = "") -> str:
    low, mid, paired = row.ratios()
    target = note
    if row.target is not None:
        sign = ">=" if row.ratio == "throughput" else "<="
        target = f"{sign} {row.target}x: **{'met' if row.met() else 'not met'}**"
    return (
        f"| {row.what} | {row.baseline_name}: {_ms(row.baseline)} | {_ms(row.measured)} | "
        f"{low:.2f}x / {mid:.2f}x / **{_x(row, paired)}** | {target} |"
    )


def _cpu(samples: Samples) -> str:
    return f"{samples.cpu_median * 1e3:.2f}"


def _wait(samples: Samples) -> str:
    return f"{max(samples.median - samples.cpu_median, 0) * 1e3:.2f}"


def _verdict(met: bool | None) -> str:
    return "**met**" if met else "**not met**"


def _setting_verdicts(targets: Targets) -> str:
    return (
        f"{targets.label}: new account {_x(targets.new)}, "
        f"{_verdict(targets.new.met())}; ten-year account {_x(targets.long)}, "
        f"{_verdict(targets.long.met())}"
    )


def _both_ways(what: str, plain: Row, cached: Row) -> str:
    """One target's verdict over the two settings, said plainly."""
    if plain.met() and cached.met():
        return f"{what}: met both ways ({_x(plain)} without caches, {_x(cached)} with them)."
    if cached.met():
        return (
            f"{what}: **met only with caches** ({_x(cached)}); without them, like "
            f"for like, it is not met ({_x(plain)})."
        )
    if plain.met():
        return (
            f"{what}: met only without caches ({_x(plain)}); with them it is not "
            f"met ({_x(cached)})."
        )
    return f"{what}: **not met either way** ({_x(plain)} without caches, {_x(cached)} with them)."


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


def _near_targets(rows: list[tuple[str, Row]]) -> list[str]:
    """A paragraph naming the verdicts so near their target that noise can flip them (none
    if there are none)."""
    near = [
        f"{label} ({_x(row)})"
        for label, row in rows
        if row.target is not None and abs(row.verdict() - row.target) < 0.03
    ]
    if not near:
        return []
    return [
        "",
        f"Within 0.03 of their target, so liable to fall either side of it from one run to the "
        f"next on a shared machine: {', '.join(near)}.",
    ]


def report(
    write: WriteSide,
    read: list[Row],
    *,
    reps: int,
    read_reps: int,
    read_events: int,
    total: float,
    pooled: bench_pooled.Figures | None = None,
    parse: dict[str, Any] | None = None,
) -> str:
    """docs/performance.md."""
    snapshot_kb = write.snapshot_bytes / 1e3
    plain, cached = write.plain, write.cached
    header = (
        "| what | baseline, min / median | dpledger, min / median | ratio: of the minimums / "
        "of the medians / **paired** | target |"
    )
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
        "**Two settings, each like for like.** dpledger keeps accounts in memory after a save "
        f"(its account cache: `DPLEDGER_ACCOUNT_CACHE`, {ACCOUNT_CACHE_SIZE} accounts by "
        "default), so the next command on an account reads only the events stored since "
        "instead of its snapshot and the events after it. eventsourcing has the same kind of "
        "cache, off by default (`AGGREGATE_CACHE_MAXSIZE`; fast-forward on by default, and a "
        "deepcopy of the cached aggregate on every get). The commands one at a time are "
        "therefore measured twice, each setting on its own stores (the ten-year ones copied "
        "from the same build), both in the same interleaved repetitions: **without caches**, "
        "dpledger with `DPLEDGER_ACCOUNT_CACHE=0` against eventsourcing without its cache, so "
        "each command loads the latest snapshot and the events after it on both sides; **with "
        "caches**, dpledger with its default cache against eventsourcing with "
        f"`AGGREGATE_CACHE_MAXSIZE={ACCOUNT_CACHE_SIZE}` and its defaults otherwise, so each "
        "command reads only the events stored since the aggregate was last in memory on both "
        "sides (eventsourcing then deep-copies its cached aggregate; dpledger hands its kept "
        "account to one unit of work at a time instead, and drops it if that unit of work "
        "fails). `execute_many`, the snapshot's size and the load are measured without caches "
        "on both sides: a batch loads each account once, so a cache matters little to it, and "
        "dpledger's `load` does not use its cache.",
        "",
        "### Without caches",
        "",
        header,
        "|---|---|---|---|---|",
        *(_table_row(row) for row in (plain.new, plain.long, plain.long_vs_new, write.batch)),
        f"| size of the ten-year account's latest snapshot | all its {write.events:,} stored "
        f"events: {write.event_bytes / 1e3:,.0f} kB | {snapshot_kb:,.1f} kB | "
        f"{write.snapshot_bytes / write.event_bytes:.3f}x | <= {SNAPSHOT_LIMIT_KB} kB: "
        f"**{'met' if snapshot_kb <= SNAPSHOT_LIMIT_KB else 'not met'}** |",
        *(_table_row(row, "(orientation)") for row in (write.lean, write.load)),
        "",
        "### With caches",
        "",
        header,
        "|---|---|---|---|---|",
        *(_table_row(row) for row in (cached.new, cached.long, cached.long_vs_new)),
        "",
        "The targets (paired ratios), for each setting:",
        "",
        "- One command at a time on SQLite, at least 0.8x raw eventsourcing: "
        f"{_setting_verdicts(plain)}; {_setting_verdicts(cached)}.",
        f"- A command on a ten-year ({LONG_EVENTS:,}-event) account costs at most 1.5x one on a "
        f"new account: without caches {_x(plain.long_vs_new)}, "
        f"{_verdict(plain.long_vs_new.met())}; with caches {_x(cached.long_vs_new)}, "
        f"{_verdict(cached.long_vs_new.met())}.",
        f"- `execute_many`, at least 0.5x raw eventsourcing saving the same events in the same "
        f"batches (without caches): {_x(write.batch)}, {_verdict(write.batch.met())}.",
        f"- The ten-year account's snapshot is at most {SNAPSHOT_LIMIT_KB} kB: "
        f"{snapshot_kb:,.1f} kB, {_verdict(snapshot_kb <= SNAPSHOT_LIMIT_KB)}.",
        "",
        "In short, this run's verdicts against raw eventsourcing in the same setting:",
        "",
        "- " + _both_ways("one command at a time on a new account", plain.new, cached.new),
        "- " + _both_ways("one command at a time on a ten-year account", plain.long, cached.long),
        "- "
        + _both_ways(
            "a command on the ten-year account at most 1.5x one on a new account",
            plain.long_vs_new,
            cached.long_vs_new,
        ),
        *_near_targets(
            [
                ("new account without caches", plain.new),
                ("ten-year account without caches", plain.long),
                ("new account with caches", cached.new),
                ("ten-year account with caches", cached.long),
                ("long/new without caches", plain.long_vs_new),
                ("long/new with caches", cached.long_vs_new),
                ("execute_many", write.batch),
            ]
        ),
        "",
        "Where the time goes (medians): without caches, a command on a new account takes "
        f"{_cpu(plain.new.measured)} ms of CPU in the process, and waits "
        f"{_wait(plain.new.measured)} ms (for SQLite's commit to reach the disk, and for a CPU "
        f"when the machine is busy); the baseline {_cpu(plain.new.baseline)} ms and "
        f"{_wait(plain.new.baseline)} ms. With caches, dpledger {_cpu(cached.new.measured)} ms "
        f"and {_wait(cached.new.measured)} ms; the baseline {_cpu(cached.new.baseline)} ms and "
        f"{_wait(cached.new.baseline)} ms. In a batch, dpledger spends "
        f"{write.batch.measured.cpu_median * 1e3:.3f} ms of CPU per command against the "
        f"baseline's {write.batch.baseline.cpu_median * 1e3:.3f} ms; building the batch's "
        "commands (checking every field) costs another "
        f"{write.building.median * 1e3:.3f} ms per command, not included above. Loading the "
        f"ten-year account replays at most {SNAPSHOT_INTERVAL - 1} events after its snapshot; "
        f"replaying all its events instead takes {write.replay.median * 1e3:.0f} ms.",
        "",
        "eventsourcing's default projector checks every event it replays against a runtime "
        "protocol (`isinstance` with a `typing.Protocol`), a cost of its own on Python 3.11 "
        "that dpledger's repository does not pay. Against a baseline without that check, the "
        "stricter comparison (the first *orientation* row), a command on a new account without "
        f"caches is {write.lean.verdict():.2f}x.",
        "",
        "Every `Ledger` call is its own transaction, durable on return; `execute_many` commits "
        "once per account. dpledger's save also writes the key index (idempotency keys) in "
        "the events' transaction, and takes its snapshot from the saved account, where "
        "eventsourcing's default reloads the aggregate to snapshot it.",
        "",
        "## Read side",
        "",
        f"On the ten-year account ({read_events:,} events by then), with dpledger's defaults "
        f"(its account cache on), each pair interleaved and repeated {read_reps} times; a cost "
        "ratio (measured time / baseline time).",
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
        *_pooled_section(pooled, parse),
    ]
    return "\n".join(lines)


def _rate(lines: int, samples: list[float]) -> str:
    fastest, median = bench_pooled.Figures.rate(lines, samples)
    return f"{fastest:,.0f} / {median:,.0f} lines/s"


def _pooled_section(pooled: bench_pooled.Figures | None, parse: dict[str, Any] | None) -> list[str]:
    """The pooled statement import and the CSV parse (issue 11's targets)."""
    out = ["## Bank statements", ""]
    if parse is not None:
        out += [
            f"**Parsing a CSV export** of {parse['lines']:,} lines "
            f"({parse['bytes'] / 1e6:.1f} MB; `benchmarks/bench_parse.py`), {parse['repeats']} "
            "repetitions interleaved with the baseline, the stdlib `csv` module reading the same "
            "file plus one `Decimal` per amount and balance: dpledger "
            f"{parse['dpledger']['min'] * 1000:,.0f} / "
            f"{parse['dpledger']['median'] * 1000:,.0f} ms "
            f"(min / median), baseline {parse['baseline']['min'] * 1000:,.0f} / "
            f"{parse['baseline']['median'] * 1000:,.0f} ms: **{parse['ratio_min']:.1f}x / "
            f"{parse['ratio_median']:.1f}x** the baseline's time, "
            f"{parse['us_per_line']:.1f} µs and {parse['lines_per_second']:,.0f} lines a second.",
            "",
        ]
    if pooled is not None:
        raw_min = min(pooled.raw_imports)
        imp_min = min(pooled.imports)
        csv_min = min(pooled.csv_reads)
        re_min = min(pooled.reimports)
        out += [
            f"**Importing a pooled statement** of {pooled.lines:,} lines across "
            f"{pooled.accounts:,} managed accounts (`benchmarks/bench_pooled.py`: parse, "
            "de-duplicate, allocate, match, record: two chained events per line, the member's "
            "money event and the pool's line, one transaction), then importing it again (nothing "
            f"recorded), {len(pooled.imports)} repetitions, each beside its baseline "
            "(lines a second, at the fastest / median repetition):",
            "",
            "| what | dpledger | baseline | dpledger's speed as a share of the baseline's | "
            "target |",
            "|---|---|---|---|---|",
            f"| import | {_rate(pooled.lines, pooled.imports)} | raw eventsourcing, one event per "
            f"line: {_rate(pooled.lines, pooled.raw_imports)} | {raw_min / imp_min:.2f}x | "
            f"20,000 lines/s: {_verdict(pooled.lines / imp_min >= 20_000)} |",
            f"| re-import | {_rate(pooled.lines, pooled.reimports)} | the csv module reading the "
            f"file: {_rate(pooled.lines, pooled.csv_reads)} | {csv_min / re_min:.3f}x | "
            f"50,000 lines/s: {_verdict(pooled.lines / re_min >= 50_000)} |",
            "",
            f"What the import did: {pooled.summary}.",
            "",
        ]
    return out


def main() -> int:
    """Run the benchmarks and write docs/performance.md (or the file named)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/performance.md", type=Path)
    parser.add_argument("--reps", type=int, default=REPS, help=f"repetitions (default {REPS})")
    parser.add_argument(
        "--pooled-reps", type=int, default=2, help="repetitions of the pooled import (default 2)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dpledger-bench-") as tmp:
        print(f"write side, {args.reps} repetitions, stores in {tmp}", flush=True)
        stores = open_stores(Path(tmp))
        try:
            write = measure_write_side(stores, args.reps)
            read_reps = min(args.reps, READ_REPS)
            print(f"read side on the ten-year account, {read_reps} repetitions", flush=True)
            read = bench_readside.measure(stores.cached.long, LONG_IDS[0], read_reps)
            read_events = stores.cached.long.load(LONG_IDS[0]).version
        finally:
            stores.close()
    print("CSV parse against the csv module", flush=True)
    parse = bench_parse.run(min(args.reps, 5))
    print("pooled statement import", flush=True)
    pooled = bench_pooled.run(args.pooled_reps)
    text = report(
        write,
        read,
        reps=args.reps,
        read_reps=read_reps,
        read_events=read_events,
        total=time.perf_counter() - started,
        pooled=pooled,
        parse=parse,
    )
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out} in {(time.perf_counter() - started) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
