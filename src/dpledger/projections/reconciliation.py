"""What the bank's statements stated, beside the ledger: stated balances and reconciliation breaks.

The ``stated_balances`` read model keeps

- ``dpv_stated``: one row per balance a statement stated, with its effective date (the balance is
  the one at the end of that day) and recorded time: on a bank account (``BankBalanceStated``,
  held by ``bank:<bank key>``) or, as dpledger 0.1 recorded them, on the managed account itself
  (``BankBalanceAsserted``, held by ``account:<account id>``);
- ``dpv_bank_named``: each ``BankAccountNamed``: from which recorded time a managed account's money
  is held in which bank account.

**Whose statements.** A managed account's stated balances are those of the bank account it names
(the latest naming recorded by then), those of its own ``UNIDENTIFIED:<account id>`` bank account
(statements that name no account are imported there) and those 0.1 recorded on the account.

**A break** is a stated balance that differs from the ledger's bank balance at the end of the same
day, both *as known* at one recorded time. :func:`stated_balances` is the one place where that
comparison is made: ``Ledger.reconciliation_breaks``, the audit sheet and the
``reconciliation_break`` warning all read it. Everything is derived from the rows by effective
date, so a break does not depend on the order statements and entries were recorded in, and a
back-dated entry that explains the difference clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dpledger.adapters.views import ViewCursor
from dpledger.domain.bank import BankAccountOpened, BankBalanceAsserted, BankBalanceStated
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.lifecycle import AccountOpened, BankAccountNamed
from dpledger.domain.money import Money
from dpledger.domain.personal import as_stored
from dpledger.domain.pooled import PoolingConfigured
from dpledger.domain.records import ReconciliationBreak
from dpledger.projections.balances import balance_as_of, known_key, recorded_key
from dpledger.projections.engine import ReadModel, first_event

UNIDENTIFIED_PREFIX = "UNIDENTIFIED:"
"""The bank key of a managed account's statements that name no bank account is this prefix
followed by the account id (see ``dpledger.application.bankimport``)."""

_BANK = "bank:"
_ACCOUNT = "account:"


def unidentified_key(account_id: str) -> str:
    """The bank key under which ``account_id``'s statements that name no bank account are kept."""
    return f"{UNIDENTIFIED_PREFIX}{account_id}"


@dataclass(frozen=True)
class StatedBalance:
    """A balance a bank statement stated, and the ledger's bank balance for the same moment.

    Both are for the end of ``effective_date`` and as known at the time the question was asked
    (``known_at`` of :func:`stated_balances`).
    """

    effective_date: date
    stated: Money
    """What the bank said (signed: an overdraft is negative)."""
    ledger: Money
    """The ledger's bank balance at the end of ``effective_date``."""
    stated_date: date
    """The date as the statement wrote it (an opening balance is the end of the day before)."""
    kind: str
    position: str
    """``"opening"`` or ``"closing"``."""
    source: str
    """The file and statement it came from."""
    bank_account: str | None
    """The bank account whose event states it; ``None`` when 0.1 recorded it on the managed
    account itself (then ``version`` is the managed account's)."""
    version: int
    """The version of the event that recorded it, in ``bank_account``'s history (or the managed
    account's)."""
    event_type: str
    recorded_at: datetime
    actor: str
    reason: str | None
    digest: str

    @property
    def difference(self) -> Money:
        """Stated minus ledger: positive when the bank holds more than the ledger says."""
        return self.stated - self.ledger

    @property
    def agrees(self) -> bool:
        """Whether the bank and the ledger agree (no break)."""
        return self.stated == self.ledger

    @property
    def details(self) -> dict[str, Any]:
        """The stating event's own fields, as the audit trail stores an event's details."""
        return {
            "balance": {"pence": self.stated.pence, "currency": self.stated.currency},
            "stated_date": self.stated_date.isoformat(),
            "kind": self.kind,
            "position": self.position,
            "source": self.source,
        }

    def as_break(self) -> ReconciliationBreak:
        """The break this stated balance is (meaningful when it does not :attr:`agree`)."""
        return ReconciliationBreak(
            effective_date=self.effective_date,
            asserted=self.stated,
            ledger=self.ledger,
            difference=self.difference,
            source=self.source,
            version=self.version,
            bank_account=self.bank_account,
        )


class StatedBalances(ReadModel):
    """Every balance a statement stated, and which bank account holds each account's money."""

    name = "stated_balances"
    table_names = ("dpv_stated", "dpv_bank_named", "dpv_pooled")
    tables = (
        "CREATE TABLE IF NOT EXISTS dpv_stated ("
        " holder TEXT NOT NULL, version BIGINT NOT NULL, event_type TEXT NOT NULL,"
        " effective_date TEXT NOT NULL, recorded_at TEXT NOT NULL, pence BIGINT NOT NULL,"
        " currency TEXT NOT NULL, stated_date TEXT NOT NULL, kind TEXT NOT NULL,"
        " position TEXT NOT NULL, source TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT,"
        " digest TEXT NOT NULL, PRIMARY KEY (holder, version))",
        "CREATE INDEX IF NOT EXISTS dpv_stated_date ON dpv_stated (holder, effective_date)",
        "CREATE TABLE IF NOT EXISTS dpv_bank_named ("
        " account_id TEXT NOT NULL, version BIGINT NOT NULL, recorded_at TEXT NOT NULL,"
        " bank_key TEXT NOT NULL, PRIMARY KEY (account_id, version))",
        "CREATE INDEX IF NOT EXISTS dpv_bank_named_key ON dpv_bank_named (bank_key)",
        "CREATE TABLE IF NOT EXISTS dpv_pooled ("
        " bank_key TEXT NOT NULL, version BIGINT NOT NULL, recorded_at TEXT NOT NULL,"
        " PRIMARY KEY (bank_key, version))",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._names: dict[Any, str] = {}  # aggregate id -> account id or bank key

    def apply(self, cur: ViewCursor, event: Any, notification_id: int) -> None:
        if isinstance(event, AccountOpened):
            self._names[event.originator_id] = event.account_id
        elif isinstance(event, BankAccountOpened):
            self._names[event.originator_id] = event.key
        elif isinstance(event, BankBalanceStated):
            self._insert(cur, _BANK + self._name(event.originator_id, "key"), event)
        elif isinstance(event, BankBalanceAsserted):
            self._insert(cur, _ACCOUNT + self._name(event.originator_id, "account_id"), event)
        elif isinstance(event, PoolingConfigured):
            cur.execute(
                "INSERT INTO dpv_pooled (bank_key, version, recorded_at) VALUES (?, ?, ?)",
                (
                    self._name(event.originator_id, "key"),
                    event.originator_version,
                    recorded_key(event.timestamp),
                ),
            )
        elif isinstance(event, BankAccountNamed):
            cur.execute(
                "INSERT INTO dpv_bank_named (account_id, version, recorded_at, bank_key)"
                " VALUES (?, ?, ?, ?)",
                (
                    self._name(event.originator_id, "account_id"),
                    event.originator_version,
                    recorded_key(event.timestamp),
                    event.bank_account,
                ),
            )

    def _insert(self, cur: ViewCursor, holder: str, event: Any) -> None:
        cur.execute(
            "INSERT INTO dpv_stated (holder, version, event_type, effective_date, recorded_at,"
            " pence, currency, stated_date, kind, position, source, actor, reason, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                holder,
                event.originator_version,
                type(event).__name__,
                event.effective_date.isoformat(),
                recorded_key(event.timestamp),
                event.balance.pence,
                event.balance.currency,
                event.stated_date.isoformat(),
                event.kind,
                event.position,
                as_stored(event, ("source",), event.source),  # sealed: its token, not the text
                as_stored(event, ("actor",), event.actor),
                as_stored(event, ("reason",), event.reason),
                event.digest,
            ),
        )

    def _name(self, originator_id: Any, field: str) -> str:
        name = self._names.get(originator_id)
        if name is None:
            # Only an aggregate's first event names it; later batches look the name up once.
            name = str(getattr(first_event(self.source, originator_id), field))
            self._names[originator_id] = name
        return name

    def reset(self) -> None:
        self._names.clear()


# ---------------------------------------------------------------------- queries
def named_bank_account(
    cur: ViewCursor, account_id: str, known_at: datetime | None = None
) -> str | None:
    """The bank account ``account_id``'s money is held in, as known at ``known_at`` (the latest
    naming recorded by then), or ``None`` if none was named."""
    cur.execute(
        "SELECT bank_key FROM dpv_bank_named WHERE account_id = ? AND recorded_at <= ?"
        " ORDER BY version DESC LIMIT 1",
        (account_id, known_key(known_at)),
    )
    row = cur.fetchone()
    return None if row is None else str(row[0])


def accounts_holding(cur: ViewCursor, bank_key: str, known_at: datetime | None = None) -> list[str]:
    """The managed accounts whose statements ``bank_key``'s are, as known at ``known_at``: those
    naming it then, or the one an ``UNIDENTIFIED:`` key belongs to."""
    cur.execute(
        "SELECT DISTINCT account_id FROM dpv_bank_named WHERE bank_key = ? AND recorded_at <= ?",
        (bank_key, known_key(known_at)),
    )
    candidates = sorted(str(row[0]) for row in cur.fetchall())
    found = [a for a in candidates if named_bank_account(cur, a, known_at) == bank_key]
    if bank_key.startswith(UNIDENTIFIED_PREFIX):
        owner = bank_key.removeprefix(UNIDENTIFIED_PREFIX)
        if owner not in found:
            found.append(owner)
    return found


def _holders(cur: ViewCursor, account_id: str, known_at: datetime | None) -> tuple[str, str, str]:
    """The account itself (0.1's balances), its unidentified statements and its bank account's
    (the unidentified ones twice when it names none)."""
    unidentified = unidentified_key(account_id)
    named = named_bank_account(cur, account_id, known_at) or unidentified
    if is_pooled(cur, named, known_at):
        # A pool's balances are all its members' money: compared with the pool, not with one
        # member (``Ledger.pool_position``).
        named = unidentified
    return _ACCOUNT + account_id, _BANK + unidentified, _BANK + named


def is_pooled(cur: ViewCursor, bank_key: str, known_at: datetime | None = None) -> bool:
    """Whether ``bank_key`` was declared a pooled client account, as known at ``known_at``."""
    cur.execute(
        "SELECT 1 FROM dpv_pooled WHERE bank_key = ? AND recorded_at <= ? LIMIT 1",
        (bank_key, known_key(known_at)),
    )
    return cur.fetchone() is not None


def stated_balances(
    cur: ViewCursor,
    account_id: str,
    known_at: datetime | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    reveal: Callable[[Any], Any] | None = None,
) -> list[StatedBalance]:
    """Every balance stated for ``account_id`` (effective from ``since`` to ``until``, both
    inclusive, when given), each beside the ledger's bank balance at the end of its day, all as
    known at ``known_at`` (a recorded time; default: everything recorded). Oldest first; on one
    day in the order they were recorded.

    The ledger figures come from the ``ledger_lines`` rows: bring that read model (and this one)
    at least as far as ``known_at`` first.
    """
    opened = reveal or _same  # opens what an encrypted store keeps sealed
    known = known_key(known_at)
    holders = _holders(cur, account_id, known_at)
    sql = (
        "SELECT holder, version, event_type, effective_date, recorded_at, pence, currency,"
        " stated_date, kind, position, source, actor, reason, digest FROM dpv_stated"
        " WHERE holder IN (?, ?, ?) AND recorded_at <= ?"
    )
    params: list[Any] = [*holders, known]
    if since is not None:
        sql += " AND effective_date >= ?"
        params.append(since.isoformat())
    if until is not None:
        sql += " AND effective_date <= ?"
        params.append(until.isoformat())
    cur.execute(sql + " ORDER BY effective_date, recorded_at, holder, version", params)
    rows = [tuple(r) for r in cur.fetchall()]
    ledger: dict[str, Money] = {}
    found = []
    for holder, version, kind, day, recorded, pence, currency, *rest in rows:
        stated_date, balance_kind, position, source, actor, reason, digest = rest
        day = str(day)
        if day not in ledger:
            ledger[day] = balance_as_of(
                cur, account_id, LedgerAccount.BANK.value, date.fromisoformat(day), known_at
            )
        holder = str(holder)
        found.append(
            StatedBalance(
                effective_date=date.fromisoformat(day),
                stated=Money(int(pence), str(currency)),
                ledger=ledger[day],
                stated_date=date.fromisoformat(str(stated_date)),
                kind=str(balance_kind),
                position=str(position),
                source=str(opened(source)),
                bank_account=holder.removeprefix(_BANK) if holder.startswith(_BANK) else None,
                version=int(version),
                event_type=str(kind),
                recorded_at=datetime.fromisoformat(str(recorded)).replace(tzinfo=UTC),
                actor=str(opened(actor)),
                reason=None if reason is None else str(opened(reason)),
                digest=str(digest),
            )
        )
    return found


def reconciliation_breaks(
    cur: ViewCursor,
    account_id: str,
    known_at: datetime | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[ReconciliationBreak]:
    """The stated balances of :func:`stated_balances` that the ledger does not agree with."""
    return breaks_among(stated_balances(cur, account_id, known_at, since=since, until=until))


def breaks_among(stated: list[StatedBalance]) -> list[ReconciliationBreak]:
    """The breaks among ``stated``, in their order."""
    return [s.as_break() for s in stated if not s.agrees]


def _same(value: Any) -> Any:
    return value
