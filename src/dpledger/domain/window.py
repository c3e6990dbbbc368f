"""How much history an account keeps for its decisions, so that its state stops growing.

Every event stays in the store for ever; the account's in-memory state (and so its snapshot)
keeps only what a future decision needs: open documents, unpaid liabilities, held items, the
budget and policy, and a recent window of :data:`RECENT_DAYS` days of settled documents and
day-by-day bank movements. Older settled items leave the state when the account is compacted,
every :data:`COMPACT_EVERY` events, at the same versions whichever way the account is loaded, so
loading from a snapshot and replaying every event always give the same state.

Uniqueness that must hold for ever (idempotency keys, invoice numbers, wage-run periods, bank
line keys, corrections) is kept in the key index beside the events instead (see
:mod:`dpledger.domain.keys`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

RECENT_DAYS: Final = 400
"""About 13 months: a year's statements imported at audit time still match what they confirm,
and a bank reversal still finds the line it undoes."""
COMPACT_EVERY: Final = 50
"""The account drops what fell out of the window at every 50th version."""


def window_start(latest: date) -> date:
    """The first day of the window that ends on ``latest`` (the latest effective date)."""
    return latest - timedelta(days=RECENT_DAYS)
