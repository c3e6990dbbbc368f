"""The audit trail: every event of an account in order, as an auditor reads it.

Each row holds the event's effective date, recorded time, actor, reason, postings, the running
bank balance (in recording order), its own fields, and the chain digests that make the trail
tamper-evident (see :mod:`dpledger.domain.chain`; ``Ledger.verify`` checks the stored events
themselves, not these rows). A bank account's events are not part of any managed account's trail:
they have their own chain, and the balances its statements stated reach the audit sheet through
:mod:`dpledger.projections.reconciliation`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dpledger.adapters.views import ViewCursor
from dpledger.domain.chain import canonical
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.events import AccountEvent
from dpledger.domain.lifecycle import AccountOpened
from dpledger.domain.money import Money
from dpledger.domain.personal import as_stored, details_as_stored
from dpledger.projections.balances import recorded_key
from dpledger.projections.engine import ReadModel, first_event

_COMMON = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "effective_date",
        "actor",
        "reason",
        "command_key",
        "command_digest",
        "postings",
        "previous_digest",
        "digest",
    }
)


def event_details(event: Any) -> dict[str, Any]:
    """An event's own fields, as the audit trail keeps them (money as pence and currency, dates
    as ISO text), without the fields every event carries: what its ``describe`` is given."""
    return {
        f.name: canonical(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name not in _COMMON
    }


@dataclass(frozen=True)
class AuditEntry:
    """One event as the audit trail shows it."""

    account_id: str
    version: int
    event_type: str
    effective_date: date
    recorded_at: datetime
    actor: str
    reason: str | None
    postings: tuple[tuple[str, Money], ...]
    bank_after: Money
    """The bank balance after this event, in recording order."""
    details: dict[str, Any]
    """The event's own fields (amounts as ``{"pence", "currency"}``, dates as ISO text)."""
    previous_digest: str
    digest: str


class AuditTrail(ReadModel):
    """One row per event with its running bank balance."""

    name = "audit_trail"
    table_names = ("dpv_audit",)
    tables = (
        "CREATE TABLE IF NOT EXISTS dpv_audit ("
        " account_id TEXT NOT NULL, version BIGINT NOT NULL, notification_id BIGINT NOT NULL,"
        " event_type TEXT NOT NULL, effective_date TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " actor TEXT NOT NULL, reason TEXT, postings TEXT NOT NULL, bank_after BIGINT NOT NULL,"
        " details TEXT NOT NULL, previous_digest TEXT NOT NULL, digest TEXT NOT NULL,"
        " PRIMARY KEY (account_id, version))",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._last: dict[Any, tuple[str, int]] = {}  # originator id -> (account id, bank after)

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        if not isinstance(event, AccountEvent):
            return  # a bank account's events are not a managed account's history
        postings = event.postings
        known = self._last.get(event.originator_id)
        if known is None:
            if isinstance(event, AccountOpened):
                known = (event.account_id, 0)
            else:
                known = self._load_last(cur, event)
        account_id, bank = known
        bank += postings.effect_on(LedgerAccount.BANK)
        self._last[event.originator_id] = (account_id, bank)
        details = event_details(event)
        cur.execute(
            "INSERT INTO dpv_audit (account_id, version, notification_id, event_type,"
            " effective_date, recorded_at, actor, reason, postings, bank_after, details,"
            " previous_digest, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account_id,
                event.originator_version,
                notification_id,
                type(event).__name__,
                event.effective_date.isoformat(),
                recorded_key(event.timestamp),
                as_stored(event, ("actor",), event.actor),  # sealed: its token, not the name
                as_stored(event, ("reason",), event.reason),
                json.dumps(canonical(postings)),
                bank,
                json.dumps(details_as_stored(event, details), sort_keys=True),
                event.previous_digest,
                event.digest,
            ),
        )

    def _load_last(self, cur: ViewCursor, event: Any) -> tuple[str, int]:
        first = first_event(self.source, event.originator_id)
        cur.execute(
            "SELECT bank_after FROM dpv_audit WHERE account_id = ? AND version = ?",
            (first.account_id, event.originator_version - 1),
        )
        row = cur.fetchone()
        return first.account_id, int(row[0]) if row else 0

    def reset(self) -> None:
        self._last.clear()


def audit_entries(
    cur: ViewCursor,
    account_id: str,
    start: date | None = None,
    end: date | None = None,
    reveal: Callable[[Any], Any] | None = None,
) -> list[AuditEntry]:
    """An account's audit trail in recording order, optionally only events effective in a
    period (inclusive); ``reveal`` opens the personal values an encrypted store keeps sealed
    (``DpledgerApplication.reveal``)."""
    opened = reveal or _same
    sql = (
        "SELECT version, event_type, effective_date, recorded_at, actor, reason, postings,"
        " bank_after, details, previous_digest, digest FROM dpv_audit WHERE account_id = ?"
    )
    params: list[Any] = [account_id]
    if start is not None:
        sql += " AND effective_date >= ?"
        params.append(start.isoformat())
    if end is not None:
        sql += " AND effective_date <= ?"
        params.append(end.isoformat())
    cur.execute(sql + " ORDER BY version", params)
    entries = []
    for row in cur.fetchall():
        version, kind, effective, recorded, actor, reason, postings, bank, details, prev, dig = row
        entries.append(
            AuditEntry(
                account_id=account_id,
                version=int(version),
                event_type=str(kind),
                effective_date=date.fromisoformat(str(effective)),
                recorded_at=datetime.fromisoformat(str(recorded)).replace(tzinfo=UTC),
                actor=str(opened(actor)),
                reason=None if reason is None else str(opened(reason)),
                postings=tuple((str(code), Money(int(p))) for code, p in json.loads(postings)),
                bank_after=Money(int(bank)),
                details=opened(json.loads(details)),
                previous_digest=str(prev),
                digest=str(dig),
            )
        )
    return entries


def _same(value: Any) -> Any:
    return value
