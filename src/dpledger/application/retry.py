"""Retrying a unit of work that lost an optimistic-concurrency race.

Two writers that load the same account and both save meet a conflict: the store keeps the first
and refuses the second, which records nothing. :class:`Retrying` runs the unit of work again on a
fresh :class:`~dpledger.application.session.Session`: the aggregates are loaded again from the
store (never the half-changed ones of the failed attempt), every rule is checked again on them,
and the command is applied again, or replayed if its idempotency key shows the other writer
recorded it. Attempts are bounded and spread with random jitter; when they run out the caller
sees the :class:`~dpledger.errors.ConflictError`. On PostgreSQL a retry also holds an advisory
lock on the contended account, so the writers that keep colliding on it take turns.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from dpledger.application.session import Session
from dpledger.domain.errors import ConflictError, ValidationError
from dpledger.log import get_logger

if TYPE_CHECKING:
    from dpledger.adapters.store import DpledgerApplication

T = TypeVar("T")

DEFAULT_RETRIES = 5
"""Attempts after the first before a conflict reaches the caller."""
RETRIES_ENV = "DPLEDGER_RETRIES"
FIRST_DELAY = 0.005
"""Seconds: the longest pause before the first retry; each later one may wait twice as long."""
LONGEST_DELAY = 0.5


class Retrying:
    """How many times a unit of work is retried after a conflict, and how many conflicts were
    absorbed so far (``conflicts_absorbed``) or passed on (``conflicts_raised``)."""

    def __init__(self, retries: int | None = None) -> None:
        """``retries`` (default ``$DPLEDGER_RETRIES``, else :data:`DEFAULT_RETRIES`): attempts
        after the first; 0 passes every conflict straight to the caller."""
        self.retries = retries_from(retries)
        self.conflicts_absorbed = 0
        self.conflicts_raised = 0
        self._lock = threading.Lock()

    def run(self, app: DpledgerApplication, work: Callable[[Session], T]) -> T:
        """``work(session)`` on a fresh session, again on a conflict (see the module docstring).

        ``work`` must load everything through the session it is given and save it; it may run
        several times, so it must not change anything outside the session.
        """
        attempt = 0
        contended: str | None = None
        while True:
            session = Session(app)
            try:
                if contended is None:
                    return work(session)
                with app.exclusive(contended):
                    return work(session)
            except ConflictError as conflict:
                session.discard()
                contended = f"account:{conflict.account_id}"
                if attempt >= self.retries:
                    with self._lock:
                        self.conflicts_raised += 1
                    raise
                attempt += 1
                with self._lock:
                    self.conflicts_absorbed += 1
                pause = random.uniform(0, min(LONGEST_DELAY, FIRST_DELAY * 2**attempt))  # noqa: S311
                get_logger().info(
                    "command.retried",
                    account_id=conflict.account_id,
                    attempt=attempt,
                    pause_ms=round(pause * 1000, 1),
                )
                time.sleep(pause)


def retries_from(retries: int | None) -> int:
    """The number of retries: ``retries``, else ``$DPLEDGER_RETRIES``, else the default."""
    if retries is None:
        text = os.environ.get(RETRIES_ENV, "").strip()
        if not text:
            return DEFAULT_RETRIES
        try:
            retries = int(text)
        except ValueError:
            raise ValidationError(
                f"{RETRIES_ENV}={text!r} is not a number",
                field=RETRIES_ENV,
                fix="set it to how many times to retry a conflicting command (0: never)",
            ) from None
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
        raise ValidationError(
            f"retries={retries!r} is not a number of attempts from 0 to 100",
            field="retries",
            fix="pass how many times to retry a conflicting command (0: never)",
        )
    return retries
