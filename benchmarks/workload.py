"""What the benchmarks run: dpledger accounts and their raw eventsourcing baseline, side by side.

Shared by ``bench_ledger.py`` (write side), ``bench_readside.py`` (read side) and
``profile_ledger.py``. The baseline is the least an event-sourced ledger on the same library can
do: a plain eventsourcing ``Application`` with one ``Aggregate`` whose event carries an int amount,
a date string and an actor string, on its own SQLite file, with dpledger's snapshot interval and
eventsourcing's default snapshot mechanism (on a save that reaches a multiple of the interval, it
reloads the aggregate at that version and stores its snapshot). Either side can keep aggregates
in memory between commands, or not: :func:`dpledger_ledger` with dpledger's account cache at its
default size or off, :func:`raw_application` with eventsourcing's aggregate cache or without.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal
from uuid import UUID

from eventsourcing.application import Application, LRUCache
from eventsourcing.domain import Aggregate, event

from dpledger import Ledger
from dpledger.adapters.store import ACCOUNT_CACHE_ENV, ACCOUNT_CACHE_SIZE, SNAPSHOT_INTERVAL
from dpledger.commands import (
    AgreeBudget,
    Command,
    OpenAccount,
    PayCarePlanSpend,
    ReceiveContribution,
    ReceiveCouncilPayment,
)

START = date(2016, 4, 4)
"""The first day of every benchmark account."""
ACTOR = "bench"
YEARS_OF_HISTORY = 10
LONG_EVENTS = 3_000
"""Events of the long account: ten busy years (about six a week)."""
OPENING_EVENTS = 2
"""Events of a new account before the measured commands: opened, budget agreed."""
BATCH_ACCOUNTS = 20
BATCH_PER_ACCOUNT = 150
"""A batch for ``execute_many``: this many commands for each of this many accounts."""


# ---------------------------------------------------------------------------- timing
@dataclass
class Samples:
    """Repeated measurements of one thing, in seconds per unit (per command, per load)."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def min(self) -> float:
        """The fastest repetition: the cost with the least interference."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """The middle repetition: the typical cost on this (shared, noisy) machine."""
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        """The middle repetition's CPU time in this process (the rest of the wall time is
        waiting: on the disk for SQLite's commits, or for a CPU on a busy machine)."""
        return statistics.median(self.cpu)

    def calls(self, count: int, fn: Callable[[], object]) -> None:
        """Call ``fn`` ``count`` times and record the time per call (one sample)."""

        def run() -> None:
            for _ in range(count):
                fn()

        self.measure(count, run)

    def measure(self, units: int, fn: Callable[[], object]) -> None:
        """Run ``fn`` once and record its wall and CPU time per unit (``units`` per run)."""
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        self.cpu.append((time.process_time() - cpu) / units)
        self.seconds.append((time.perf_counter() - wall) / units)


@dataclass
class Row:
    """One line of a results table: ``measured`` against ``baseline``, both repeated.

    ``ratio`` says how the two compare: ``"throughput"`` is baseline time / measured time (at
    least 0.8 means "at least 0.8x the baseline's throughput"); ``"cost"`` is measured time /
    baseline time (at most 1.5 means "costs at most 1.5 times the baseline").
    """

    what: str
    baseline_name: str
    baseline: Samples
    measured: Samples
    ratio: Literal["throughput", "cost"] = "cost"
    target: float | None = None

    def _ratio(self, baseline: float, measured: float) -> float:
        return baseline / measured if self.ratio == "throughput" else measured / baseline

    def ratios(self) -> tuple[float, float, float]:
        """The ratio of the minimums, the ratio of the medians, and the median of the ratios
        of each repetition's pair (measured one after the other, so sharing the machine's
        state: the figure least moved by noise, which the target is judged on)."""
        baseline, measured = self.baseline.seconds, self.measured.seconds
        assert len(baseline) == len(measured), "pairs come from the same repetitions"
        return (
            self._ratio(self.baseline.min, self.measured.min),
            self._ratio(self.baseline.median, self.measured.median),
            statistics.median(self._ratio(b, m) for b, m in zip(baseline, measured, strict=True)),
        )

    def verdict(self) -> float:
        """The ratio the target is judged on: the median of the paired ratios."""
        return self.ratios()[2]

    def met(self) -> bool | None:
        """Whether :meth:`verdict` meets the target (``None`` without a target)."""
        if self.target is None:
            return None
        ratio = self.verdict()
        return ratio >= self.target if self.ratio == "throughput" else ratio <= self.target


# ---------------------------------------------------------------------------- baseline
class Pot(Aggregate):
    """The baseline aggregate: a running total moved by minimal events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0

    @event("Moved")
    def move(self, amount: int, day: str, actor: str) -> None:
        """One event: an int amount, a date string and an actor string."""
        self.total += amount


class RawApplication(Application[UUID]):
    """Raw eventsourcing with dpledger's snapshot interval and the default snapshots."""

    name = "raw"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Pot: SNAPSHOT_INTERVAL}


def raw_application(path: Path, *, cache_size: int | None = None) -> RawApplication:
    """The baseline application on a SQLite file (eventsourcing's defaults, as dpledger's).

    ``cache_size`` turns on eventsourcing's aggregate cache (``AGGREGATE_CACHE_MAXSIZE``) with
    its defaults otherwise: fast-forward on (a cached aggregate is brought up to date with the
    events stored since) and a deepcopy of the cached aggregate on every get. ``None`` (or 0)
    leaves the cache off: in eventsourcing, 0 would mean a cache without a limit.
    """
    cached = bool(cache_size)
    app = RawApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
            # Given here, not taken from os.environ: an empty size is no cache; the other two
            # are eventsourcing's defaults, pinned so the process's environment cannot move them.
            "AGGREGATE_CACHE_MAXSIZE": str(cache_size) if cached else "",
            "AGGREGATE_CACHE_FASTFORWARD": "y",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
        }
    )
    repository = app.repository
    if cached:
        ok = (
            isinstance(repository.cache, LRUCache)
            and repository.cache.maxsize == cache_size
            and repository.fastforward
            and repository.deepcopy_from_cache
        )
    else:
        ok = repository.cache is None
    if not ok:
        app.close()
        raise RuntimeError(
            f"the baseline's aggregate cache is not as asked ({cache_size=}): is a RAW_* "
            "variable set in the environment?"
        )
    return app


def raw_create(app: RawApplication, events: int, batch: int = 300) -> UUID:
    """A new pot of ``events`` events (created, then moves), saved ``batch`` at a time."""
    pot = Pot("pot")
    for n in range(1, events):
        pot.move(_amount(n), _day(n, events).isoformat(), ACTOR)
        if n % batch == 0:
            app.save(pot)
    app.save(pot)
    return pot.id


def raw_one_at_a_time(
    app: RawApplication, pot_id: UUID, count: int, first: int, *, lean: bool = False
) -> None:
    """``count`` commands, each loading the pot, moving it once and saving it. ``lean`` loads
    with :func:`plain_projector` instead of eventsourcing's default projector."""
    options: dict[str, Any] = {"projector_func": plain_projector} if lean else {}
    for n in range(first, first + count):
        pot: Pot = app.repository.get(pot_id, **options)
        pot.move(_amount(n), after(n).isoformat(), ACTOR)
        app.save(pot)


def plain_projector(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply ``events`` in order: eventsourcing's default projector without its check of each
    event against a runtime protocol (slow on Python 3.11; dpledger's repository skips it)."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def raw_batches(app: RawApplication, pot_ids: list[UUID], per_pot: int, first: int) -> None:
    """For each pot, one load, ``per_pot`` moves and one save (one transaction)."""
    for pot_id in pot_ids:
        pot: Pot = app.repository.get(pot_id)
        for n in range(first, first + per_pot):
            pot.move(_amount(n), after(n).isoformat(), ACTOR)
        app.save(pot)


# ---------------------------------------------------------------------------- dpledger
@contextmanager
def _environ(name: str, value: str | None) -> Iterator[None]:
    # os.environ[name] set to value (removed if None) while a store is opened, then restored:
    # dpledger reads it when its application is constructed, so it applies to that store alone.
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def dpledger_ledger(path: Path, *, cached: bool) -> Ledger:
    """A ledger on the SQLite file ``path``: with its account cache at the default size
    (``DPLEDGER_ACCOUNT_CACHE`` unset), or without it (``DPLEDGER_ACCOUNT_CACHE=0``)."""
    with _environ(ACCOUNT_CACHE_ENV, None if cached else "0"):
        ledger = Ledger.sqlite(path)
    size = ledger.application.checked_repository.cache_size
    wanted = ACCOUNT_CACHE_SIZE if cached else 0
    if size != wanted:
        ledger.close()
        raise RuntimeError(f"the ledger keeps {size} accounts in memory, not {wanted}")
    return ledger


def opening(account_id: str) -> list[Command]:
    """Open an account and agree its budget (:data:`OPENING_EVENTS` events)."""
    return [
        OpenAccount.build(
            account_id=account_id,
            person_ref="P-1",
            council="Benchshire",
            provider="Provider",
            effective_date=START,
            actor=ACTOR,
        ),
        AgreeBudget.build(
            account_id=account_id,
            weekly_gross="400",
            weekly_contribution="40",
            effective_date=START,
            actor=ACTOR,
        ),
    ]


def _mix(account_id: str, n: int, day: date, key: str) -> tuple[type[Command], dict[str, Any]]:
    # The n-th command of the mix: its class and its fields, as a caller gives them.
    fields: dict[str, Any] = {
        "account_id": account_id,
        "effective_date": day,
        "actor": ACTOR,
        "idempotency_key": key,
    }
    kind = n % 4
    if kind == 0:
        return ReceiveCouncilPayment, {**fields, "amount": "1440"}
    if kind == 1:
        return ReceiveContribution, {**fields, "amount": "160"}
    return PayCarePlanSpend, {
        **fields,
        "category": "other_care_plan",
        "amount": "795",
        "description": "care agency, week" if kind == 2 else "care agency, weekend",
    }


def command(account_id: str, n: int, day: date, key: str) -> Command:
    """The ``n``-th command of a realistic mix: a council payment, the person's contribution and
    two care-plan payments, in turn (money in first, so the account is never overdrawn)."""
    command_class, fields = _mix(account_id, n, day, key)
    return command_class.build(**fields)


def execute_one(ledger: Ledger, account_id: str, n: int, day: date, key: str) -> None:
    """The ``n``-th command of :func:`command`, through ``Ledger``'s typed method (which builds
    the command and executes it: the path most callers take)."""
    command_class, fields = _mix(account_id, n, day, key)
    del fields["account_id"]  # the typed methods take it first, by position
    getattr(ledger, command_class.method)(account_id, **fields)


def dpledger_one_at_a_time(ledger: Ledger, account_id: str, count: int, first: int) -> None:
    """``count`` commands on one account, one ``Ledger`` call (one transaction) each."""
    for n in range(first, first + count):
        execute_one(ledger, account_id, n, after(n), f"one-{n}")


def history(account_id: str, events: int = LONG_EVENTS) -> Iterator[Command]:
    """An account's commands for ``events`` events over :data:`YEARS_OF_HISTORY` years."""
    yield from opening(account_id)
    for n in range(OPENING_EVENTS, events):
        yield command(account_id, n - OPENING_EVENTS, _day(n, events), f"h-{n}")


def batch_commands(account_ids: list[str], per_account: int, first: int) -> list[Command]:
    """``per_account`` commands for each account, day by day across the accounts (a daily feed
    of a provider's clients)."""
    return [
        command(account_id, n, after(n), f"b-{n}")
        for n in range(first, first + per_account)
        for account_id in account_ids
    ]


def build_long_account(ledger: Ledger, account_id: str, events: int = LONG_EVENTS) -> None:
    """The long account, a year of history per ``execute_many`` (a migration's batches)."""
    commands = list(history(account_id, events))
    per_year = -(-len(commands) // YEARS_OF_HISTORY)
    for start in range(0, len(commands), per_year):
        report = ledger.execute_many(commands[start : start + per_year])
        if not report.ok:
            raise RuntimeError(f"building the long account failed: {dict(report.failed)}")


# ---------------------------------------------------------------------------- dates, amounts
def _day(n: int, events: int) -> date:
    # Event n of a history of ``events`` events spread evenly over the years of history.
    return START + timedelta(days=n * 365 * YEARS_OF_HISTORY // events)


def after(n: int) -> date:
    """The day of the ``n``-th measured command: after every history, as often as the long
    account's events, so its recent window (and so its snapshot) keeps its ten-year size."""
    return _day(LONG_EVENTS + n, LONG_EVENTS)


def _amount(n: int) -> int:
    return (144000, 16000, -79500, -79500)[n % 4]
