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

    def __init__(self, view: ProjectionView, source: Application[Any]) -> None:
        super().__init__(view)
        self.source = source
        self.seen_position = -1
        """The position this instance last wrote; another writer moved it if it differs."""
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

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply one event and track it in one transaction (eventsourcing's runner calls this)."""
        store = self.view.store
        key = (self.name, tracking.application_name)
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
        batch_size: int = 500,
    ) -> None:
        self.source = source
        self.store = store
        self.batch_size = batch_size
        self.models: dict[str, ReadModel] = {
            m.name: m(ProjectionView(store, m.name), source) for m in models
        }

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
        applied = 0
        for name in names or list(self.models):
            applied += self._catch_up_one(self.models[name], limit, progress)
        return applied

    def reset(self, names: Sequence[str] | None = None) -> None:
        """Empty the named read models' tables and set their positions back to the start."""
        for name in names or list(self.models):
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
        """Rebuild from scratch: :meth:`reset`, then replay every notification."""
        self.reset(names)
        return self.catch_up(names, progress=progress)

    def _catch_up_one(self, model: ReadModel, limit: int | None, progress: Progress | None) -> int:
        applied = 0
        key = (model.name, self.source.name)
        recorder: Any = self.source.recorder
        while limit is None or applied < limit:
            size = self.batch_size if limit is None else min(self.batch_size, limit - applied)
            try:
                with self.store.transaction(lock=key) as cur:
                    position = read_position(cur, *key)
                    batch = recorder.select_notifications(
                        start=position, limit=size, inclusive_of_start=False
                    )
                    if not batch:
                        return applied
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
            applied += len(batch)
            if progress is not None:
                progress(model.name, batch[-1].id, recorder.max_notification_id() or 0)
        return applied
