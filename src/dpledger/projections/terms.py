"""The terms each account was under, version by version: what as-at queries need beside balances.

The ``account_terms`` read model keeps, for every managed account, one row each time an event
changed what the rules of a date depend on other than balances: the account's terms (status,
budgets, policy and its changes, suspensions, reviews; the :class:`~dpledger.domain.lifecycle.Terms`
part as the domain encodes it) and its council payment and contribution records (the
:class:`~dpledger.domain.funds.Funds` part without its balances and bank days, which the ledger
lines hold by date). Each row carries the version, effective date and recorded time of the event
that left it, so :func:`terms_row` finds the terms as they stood after the latest event effective
by a date among those recorded by a time.

The state is taken from a replica of the account rebuilt with the aggregate's own ``when`` (as
the oversight model does), never worked out a second time here. A row is written only when the
encoded terms or records differ from the account's previous row, so money events that change
no record (invoices, wages, bank lines) add no row. Personal data (the person's reference, bank
account numbers, bank references) is left out: no as-at rule reads it, and erasure must find it
only in the events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from dpledger.adapters.views import ViewCursor
from dpledger.domain import codec
from dpledger.domain.account import ManagedAccount
from dpledger.domain.events import AccountEvent
from dpledger.projections.balances import known_key, recorded_key
from dpledger.projections.engine import ReadModel
from dpledger.projections.replicas import Replicas

_REPLICAS = 2000
"""Accounts whose state the model keeps in memory between events (least recently used go)."""


def terms_state(account: ManagedAccount) -> str:
    """The JSON text a row stores: the terms part without personal data, and the funds part
    without balances and bank days (kept by date in ``dpv_lines``)."""
    # No personal data in the views: the person's reference (which erasure must be able to
    # shred), the bank account numbers and the contributions' bank references stay in the
    # events; no as-at rule reads them.
    contributions = {
        v: [day, pence, None] for v, (day, pence, _) in account.funds.contributions.items()
    }
    funds = replace(
        account.funds,
        balances={},
        bank_days={},
        bank_before=0,
        last_day=None,
        contributions=contributions,
    )
    terms = replace(
        account.terms, person_ref="", bank_account=None, other_bank_accounts=[], transfers=[]
    )
    return json.dumps(
        {"terms": codec.encode(terms), "funds": codec.encode(funds)},
        separators=(",", ":"),
        sort_keys=True,
    )


class AccountTerms(ReadModel):
    """Each account's terms and payment records, one row per event that changed them."""

    name = "account_terms"
    table_names = ("dpv_terms",)
    tables = (
        "CREATE TABLE IF NOT EXISTS dpv_terms ("
        " account_id TEXT NOT NULL, version BIGINT NOT NULL, effective_date TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL, council TEXT NOT NULL, opened_on TEXT NOT NULL,"
        " state TEXT NOT NULL, PRIMARY KEY (account_id, version))",
        "CREATE INDEX IF NOT EXISTS dpv_terms_council ON dpv_terms (council, account_id)",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._replicas = Replicas(self.source, _REPLICAS)
        self._last: dict[str, str] = {}
        """Per account id: the state text of its latest row (to skip unchanged ones)."""

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        if not isinstance(event, AccountEvent):
            return  # a bank account's events change no account's terms
        account = self._replicas.apply(event)
        account_id = account.account_id
        state = terms_state(account)
        previous = self._last.get(account_id)
        if previous is None:
            cur.execute(
                "SELECT state FROM dpv_terms WHERE account_id = ? ORDER BY version DESC LIMIT 1",
                (account_id,),
            )
            row = cur.fetchone()
            previous = None if row is None else str(row[0])
        if state == previous:
            return
        cur.execute(
            "INSERT INTO dpv_terms (account_id, version, effective_date, recorded_at, council,"
            " opened_on, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                account_id,
                event.originator_version,
                event.effective_date.isoformat(),
                recorded_key(event.timestamp),
                account.council,
                account.opened_on.isoformat(),
                state,
            ),
        )
        self._last[account_id] = state

    def reset(self) -> None:
        self._replicas.clear()
        self._last.clear()


@dataclass(frozen=True)
class TermsRow:
    """An account's terms and payment records after one event (see :func:`terms_row`)."""

    account_id: str
    version: int
    effective_date: date
    recorded_at: datetime
    council: str
    opened_on: date
    state: dict[str, Any]


def terms_row(
    cur: ViewCursor, account_id: str, on: date | None, known_at: datetime | None
) -> TermsRow | None:
    """The terms as they stood after the latest event effective by ``on`` (``None``: any date)
    among those recorded by ``known_at`` (``None``: now); ``None`` if there is none (the
    account was not open by then)."""
    cur.execute(
        "SELECT version, effective_date, recorded_at, council, opened_on, state FROM dpv_terms"
        " WHERE account_id = ? AND effective_date <= ? AND recorded_at <= ?"
        " ORDER BY version DESC LIMIT 1",
        (account_id, (on or date.max).isoformat(), known_key(known_at)),
    )
    row = cur.fetchone()
    if row is None:
        return None
    version, effective, recorded, council, opened_on, state = row
    return TermsRow(
        account_id,
        int(version),
        date.fromisoformat(str(effective)),
        datetime.fromisoformat(str(recorded)).replace(tzinfo=UTC),
        str(council),
        date.fromisoformat(str(opened_on)),
        json.loads(str(state)),
    )


def opened_on(cur: ViewCursor, account_id: str) -> date | None:
    """The date the account opened, as the read model knows it (``None``: not known)."""
    cur.execute("SELECT opened_on FROM dpv_terms WHERE account_id = ? LIMIT 1", (account_id,))
    row = cur.fetchone()
    return None if row is None else date.fromisoformat(str(row[0]))


def council_accounts(cur: ViewCursor, council: str) -> list[str]:
    """Every account of ``council``, by id."""
    cur.execute(
        "SELECT DISTINCT account_id FROM dpv_terms WHERE council = ? ORDER BY account_id",
        (council,),
    )
    return [str(r[0]) for r in cur.fetchall()]


__all__ = ["AccountTerms", "TermsRow", "council_accounts", "opened_on", "terms_row"]
