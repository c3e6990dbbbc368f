"""One engine for every read model: pull the notification log in order, apply, track.

A :class:`ReadModel` is an eventsourcing :class:`~eventsourcing.projection.Projection` whose view
is a :class:`ProjectionView` (an eventsourcing ``TrackingRecorder`` over dpledger's SQL view
store). :class:`ProjectionEngine` pulls notifications after the tracked position in batches and,
per batch, writes the model's rows and the new position in one transaction. That works on SQLite,
where eventsourcing's ``ProjectionRunner`` cannot subscribe, and on PostgreSQL alike; on
PostgreSQL a ``ProjectionRunner`` may drive the same read models through
:meth:`ReadModel.process_event`.

Notification ids may have gaps (PostgreSQL leaves them after rolled-back inserts): the engine asks
for ids *greater than* the position, never for "position + 1", so a gap is simply passed over.

A read model that reads another's rows names it in :attr:`ReadModel.depends_on`; before each batch
the engine brings the models it depends on up to date and applies no notification they have not
applied yet, so what a model reads is never behind the events it applies, whatever order read
models are caught up in.

**One pass for every model.** When the read models being caught up stand at the same position
(always so after a rebuild, and in the steady state), the engine reads each batch of notifications
once, decodes each event once, and feeds the batch to every model in dependency order, each
flushing its rows before the next model starts, in one transaction that writes every model's
rows and positions. Where the positions differ (a model added later, another process that
caught up one model), it falls back to catching up each model on its own until they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from dpledger.adapters.views import ViewCursor, ViewStore, read_position, write_position

Progress = Callable[[str, int, int], None]
"""Called as ``progress(projection, position, last_notification_id)`` after each batch."""


class ProjectionView(TrackingRecorder):
    """The tracking side of one read model in the view store (eventsourcing's interface)."""

    def __init__(self, store: ViewStore, projection: str) -> None:
        self.store = store
        self.projection = projection

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record a position on its own (rows and position together: see the engine)."""
        with self.store.transaction() as cur:
            write_position(
                cur, self.projection, tracking.application_name, tracking.notification_id
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last notification id applied, or ``None`` before the first."""
        position = self.store.position(self.projection, application_name)
        return position or None


class ReadModel(Projection[ProjectionView]):
    """A projection: its tables, and how each event changes its rows.

    Subclasses set ``name`` and ``tables`` (``CREATE ... IF NOT EXISTS`` statements; the first
    word after ``TABLE`` names each table, which a rebuild empties) and implement :meth:`apply`.
    :meth:`flush` runs at the end of each batch, inside its transaction.
    """

    tables: ClassVar[tuple[str, ...]] = ()
    table_names: ClassVar[tuple[str, ...]] = ()
    depends_on: ClassVar[tuple[str, ...]] = ()
    """The read models whose rows this one reads while it applies events: they are brought at
    least as far as each notification it applies (see :class:`ProjectionEngine`)."""

    def __init__(self, view: ProjectionView, source: Application[Any]) -> None:
        super().__init__(view)
        self.source = source
        self.seen_position = -1
        """The position this instance last wrote; another writer moved it if it differs."""
        self.prepare: Callable[[int], None] = _nothing_to_prepare
        """Brings :attr:`depends_on` at least to a notification id (set by the engine)."""
        view.store.create_tables(self.tables)

    def begin(self, position: int) -> None:
        """Start a batch at ``position``: caches are kept only if this instance wrote it."""
        if position != self.seen_position:
            self.reset()

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        """Change this model's rows for one event (inside the batch's transaction)."""
        raise NotImplementedError

    def flush(self, cur: ViewCursor) -> None:
        """Write whatever the batch accumulated (default: nothing)."""

    def reset(self) -> None:
        """Forget in-process caches (after a rollback or before a rebuild)."""

    def partitions(self, through: int) -> int:
        """How many passes a rebuild through notification ``through`` takes, each applying the
        events of one part of the aggregates (see :meth:`ProjectionEngine.rebuild`); 1 (the
        default) rebuilds in one pass, batch by batch, like a catch-up."""
        return 1

    def take_part(self, part: int, parts: int) -> None:
        """Before a rebuild's pass: apply only part ``part`` of ``parts`` (see
        :meth:`in_part`)."""

    def in_part(self, notification: Any) -> bool:
        """Whether a rebuild's pass applies this notification (default: every one)."""
        return True

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply one event and track it in one transaction (eventsourcing's runner calls this)."""
        store = self.view.store
        key = (self.name, tracking.application_name)
        self.prepare(tracking.notification_id)
        try:
            with store.transaction(lock=key) as cur:
                position = read_position(cur, *key)
                if position >= tracking.notification_id:
                    return  # already applied (a redelivery)
                self.begin(position)
                self.apply(cur, domain_event, tracking.notification_id)
                self.flush(cur)
                write_position(cur, *key, tracking.notification_id)
        except BaseException:
            self.reset()
            self.seen_position = -1
            raise
        self.seen_position = tracking.notification_id


class ProjectionEngine:
    """Keeps read models up to date with an application's notification log."""

    def __init__(
        self,
        source: Application[Any],
        store: ViewStore,
        models: Sequence[type[ReadModel]],
        *,
        batch_size: int = 2000,
    ) -> None:
        self.source = source
        self.store = store
        self.batch_size = batch_size
        self._current: dict[str, int] = {}
        """Per model: a position it is known to have applied (committed), for the fast path."""
        self.models: dict[str, ReadModel] = {
            m.name: m(ProjectionView(store, m.name), source) for m in models
        }
        for model in self.models.values():
            self._check_dependencies(model, [])
            if model.depends_on:
                model.prepare = self._preparer(model)
        self.order = self._dependency_order(list(self.models))
        """Every model's name, each after the models it depends on."""

    def _dependency_order(self, names: Sequence[str]) -> list[str]:
        ordered: list[str] = []

        def visit(name: str) -> None:
            if name in ordered:
                return
            for dependency in self.models[name].depends_on:
                visit(dependency)
            ordered.append(name)

        for name in names:
            visit(name)
        return ordered

    def _check_dependencies(self, model: ReadModel, chain: list[str]) -> None:
        if model.name in chain:
            raise ValueError(f"read models depend on each other: {' -> '.join(chain)}")
        for name in model.depends_on:
            if name not in self.models:
                raise ValueError(f"read model {model.name} depends on {name}, which is not kept")
            self._check_dependencies(self.models[name], [*chain, model.name])

    def _preparer(self, model: ReadModel) -> Callable[[int], None]:
        def prepare(through: int) -> None:
            self.catch_up(model.depends_on)
            behind = [n for n in model.depends_on if self.position(n) < through]
            if behind:
                raise RuntimeError(
                    f"read model {model.name} cannot apply notification {through}: "
                    f"{', '.join(behind)} could not be brought that far"
                )

        return prepare

    def model(self, name: str) -> ReadModel:
        """One read model by name."""
        return self.models[name]

    def position(self, name: str) -> int:
        """How far the named read model has read (a notification id; 0 before the first)."""
        return self.store.position(name, self.source.name)

    def catch_up(
        self,
        names: Sequence[str] | None = None,
        *,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply every notification not yet applied; return how many events were applied.

        ``limit`` stops after about that many notifications (whole batches), for workers that
        share their time and for tests that stop a projection half-way.
        """
        wanted = list(self.models) if names is None else list(names)
        if limit is None and self._all_current(wanted):
            return 0  # a query on a store with nothing new: no write lock, no batch read
        group = self._dependency_order(wanted)
        applied = 0
        if len(group) > 1 and set(group) == set(wanted):
            # Every model's dependencies are caught up with it: one pass feeds them all.
            applied = self._catch_up_together(group, limit, progress)
            if limit is not None:
                limit -= applied // len(group)
                if limit <= 0:
                    return applied
        for name in wanted:
            applied += self._catch_up_one(self.models[name], limit, progress)
        return applied

    def _all_current(self, names: list[str]) -> bool:
        """Whether every named model is known to have applied the last notification stored.

        Positions only move forward, so a position this engine saw committed still holds (a
        model's dependencies were at least as far when it applied its last notification): one
        ``max(id)`` read answers a query's catch-up when nothing was recorded since.
        """
        current = self._current
        if any(name not in current for name in names):
            return False
        recorder: Any = self.source.recorder
        top = int(recorder.max_notification_id() or 0)
        return all(current[name] >= top for name in names)

    def reset(self, names: Sequence[str] | None = None) -> None:
        """Empty the named read models' tables and set their positions back to the start."""
        for name in names or list(self.models):
            self._current.pop(name, None)
            model = self.models[name]
            model.reset()
            model.seen_position = -1
            with self.store.transaction(lock=(name, self.source.name)) as cur:
                for table in model.table_names:
                    cur.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants
                write_position(cur, name, self.source.name, 0)

    def rebuild(
        self, names: Sequence[str] | None = None, *, progress: Progress | None = None
    ) -> int:
        """Rebuild from scratch: :meth:`reset`, then replay every notification.

        A model whose :meth:`ReadModel.partitions` is more than one (the oversight model, which
        keeps each account's state in memory while it applies its events) is rebuilt in that
        many passes over the log, each applying the events of one part of the accounts, so it
        holds one part's accounts at a time however many the store has: after the models it
        depends on, in one transaction (a rebuild that fails leaves it empty, at the start).
        """
        self.reset(names)
        wanted = self._dependency_order(list(self.models) if names is None else list(names))
        recorder: Any = self.source.recorder
        top = int(recorder.max_notification_id() or 0)
        split = [n for n in wanted if self.models[n].partitions(top) > 1]
        if not split:
            return self.catch_up(names, progress=progress)
        applied = self.catch_up([n for n in wanted if n not in split], progress=progress)
        for name in split:
            applied += self._rebuild_in_parts(self.models[name])
            if progress is not None:
                progress(name, self.position(name), recorder.max_notification_id() or 0)
        return applied + self.catch_up(names, progress=progress)

    def _through(self, name: str) -> int:
        """How far a rebuild of ``name`` may go now: as far as its dependencies have read."""
        model = self.models[name]
        if model.depends_on:
            return min(self.position(n) for n in model.depends_on)
        recorder: Any = self.source.recorder
        return int(recorder.max_notification_id() or 0)

    def _rebuild_in_parts(self, model: ReadModel) -> int:
        self.catch_up(model.depends_on)
        through = self._through(model.name)
        parts = model.partitions(through)
        key = (model.name, self.source.name)
        recorder: Any = self.source.recorder
        mapper = self.source.mapper
        applied = 0
        try:
            with self.store.transaction(lock=key) as cur:
                if read_position(cur, *key) != 0:
                    return 0  # another process has built it meanwhile
                for part in range(parts):
                    model.reset()
                    model.take_part(part, parts)
                    position = 0
                    while True:
                        batch = recorder.select_notifications(
                            start=position,
                            limit=self.batch_size,
                            stop=through,
                            inclusive_of_start=False,
                        )
                        if not batch:
                            break
                        for notification in batch:
                            # The part is known before decoding: the others' events cost a
                            # row read, not a decode.
                            if model.in_part(notification):
                                event = mapper.to_domain_event(notification)
                                model.apply(cur, event, notification.id)
                        model.flush(cur)
                        position = batch[-1].id
                        applied += len(batch) if part == 0 else 0
                write_position(cur, *key, through)
        finally:
            model.take_part(0, 1)
            model.reset()
            model.seen_position = -1
            self._current.pop(model.name, None)
        return applied

    def _catch_up_together(
        self, names: list[str], limit: int | None, progress: Progress | None
    ) -> int:
        """Catch ``names`` (in dependency order) up together while they stand at one position;
        return how many events were applied, counted once per model (as :meth:`catch_up`
        counts them). Stops, leaving the rest to the per-model catch-up, when they do not."""
        models = [self.models[name] for name in names]
        keys = [(name, self.source.name) for name in names]
        recorder: Any = self.source.recorder
        mapper = self.source.mapper
        read = 0
        while limit is None or read < limit:
            size = self.batch_size if limit is None else min(self.batch_size, limit - read)
            try:
                with self.store.transaction(lock=keys[0], also_lock=keys[1:]) as cur:
                    positions = {read_position(cur, *key) for key in keys}
                    if len(positions) != 1:
                        return read * len(models)
                    position = positions.pop()
                    batch = recorder.select_notifications(
                        start=position, limit=size, inclusive_of_start=False
                    )
                    if not batch:
                        for name in names:
                            self._current[name] = position
                        return read * len(models)
                    # Decoded once for every model: decoding is a large part of applying.
                    events = [(mapper.to_domain_event(n), n.id) for n in batch]
                    for model in models:
                        model.begin(position)
                        apply = model.apply
                        for event, notification_id in events:
                            apply(cur, event, notification_id)
                        model.flush(cur)  # before the models that read its rows
                    last = batch[-1].id
                    for key in keys:
                        write_position(cur, *key, last)
            except BaseException:
                for model in models:
                    model.reset()  # the rows rolled back; so must the caches built from them
                    model.seen_position = -1
                raise
            for model in models:
                model.seen_position = last
                self._current[model.name] = last
            read += len(batch)
            if progress is not None:
                top = recorder.max_notification_id() or 0
                for name in names:
                    progress(name, last, top)
        return read * len(models)

    def _catch_up_one(self, model: ReadModel, limit: int | None, progress: Progress | None) -> int:
        applied = 0
        by_dependencies = 0
        key = (model.name, self.source.name)
        recorder: Any = self.source.recorder
        while limit is None or applied < limit:
            size = self.batch_size if limit is None else min(self.batch_size, limit - applied)
            stop = None
            if model.depends_on:
                # The models it reads first, and nothing beyond what they have applied: a
                # notification recorded meanwhile waits for the next batch.
                by_dependencies += self.catch_up(model.depends_on, progress=progress)
                stop = min(self.position(name) for name in model.depends_on)
            try:
                with self.store.transaction(lock=key) as cur:
                    position = read_position(cur, *key)
                    batch = recorder.select_notifications(
                        start=position, limit=size, stop=stop, inclusive_of_start=False
                    )
                    if not batch:
                        self._current[model.name] = position
                        return applied + by_dependencies
                    model.begin(position)
                    for notification in batch:
                        event = self.source.mapper.to_domain_event(notification)
                        model.apply(cur, event, notification.id)
                    model.flush(cur)
                    write_position(cur, *key, batch[-1].id)
            except BaseException:
                model.reset()  # the rows rolled back; so must the caches built from them
                model.seen_position = -1
                raise
            model.seen_position = batch[-1].id
            self._current[model.name] = batch[-1].id
            applied += len(batch)
            if progress is not None:
                progress(model.name, batch[-1].id, recorder.max_notification_id() or 0)
        return applied + by_dependencies


def _nothing_to_prepare(through: int) -> None:
    """The :attr:`ReadModel.prepare` of a model that reads no other model's rows."""


def first_event(source: Application[Any], originator_id: Any) -> Any:
    """The first stored event of an aggregate (the one that names it: an account's id, a bank
    account's key), for events after it that do not repeat the name."""
    return next(iter(source.repository.event_store.get(originator_id, lte=1)))
