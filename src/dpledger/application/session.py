"""A unit of work: aggregates loaded once, changed by commands' decisions, saved together.

:meth:`Session.run` is the one path every command takes, typed or as data, by hand or from a
bank line: the idempotency key is looked up, the command's decision runs on the account, and the
events it recorded wait in the account. :meth:`Session.save` then stores every changed aggregate
(a managed account and its bank account, say) and their key-index rows in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError, RecordConflictError

from dpledger.adapters import keyindex
from dpledger.adapters.store import DpledgerApplication
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.alerts import Alert
from dpledger.domain.bank import BankAccount, bank_account_uuid
from dpledger.domain.bounds import check_identifier
from dpledger.domain.chart import Postings
from dpledger.domain.commands import Command, Context
from dpledger.domain.errors import (
    AccountNotFound,
    ConflictError,
    DpledgerError,
    IdempotencyConflict,
    StoreError,
    ValidationError,
)
from dpledger.domain.events import AccountEvent, command_index_key
from dpledger.domain.keys import KeyRecord
from dpledger.domain.lifecycle import BankAccountAdded, BankAccountNamed, OpenAccount
from dpledger.domain.money import Money
from dpledger.domain.personal import seal_personal
from dpledger.domain.pooled import PoolMemberJoined
from dpledger.domain.records import invoice_key, wage_run_key
from dpledger.domain.registry import ALERT_RULES, decision_for
from dpledger.domain.transfers import MoneyTransferred, check_transfer_covered
from dpledger.log import get_logger


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a command recorded: the account, the event's version and the event itself.

    ``replayed`` is true when an idempotent retry returned the original result; ``alerts`` are
    the alerts the command raised (an invoice above the agreed rate, hours above the care plan).
    """

    account_id: str
    version: int
    event: AccountEvent
    replayed: bool = False
    alerts: tuple[Alert, ...] = ()

    @property
    def event_type(self) -> str:
        """The event's class name, e.g. ``"InvoicePaid"``."""
        return type(self.event).__name__

    @property
    def postings(self) -> Postings:
        """The event's postings (they sum to zero)."""
        return self.event.postings

    @property
    def item_id(self) -> str | None:
        """The suspense item id, for unexpected income or an unexplained outgoing."""
        item = getattr(self.event, "item_id", None)
        return item if isinstance(item, str) else None

    @property
    def recorded_at(self) -> datetime:
        """When the event was recorded."""
        return self.event.timestamp


class StoreFacts:
    """What a decision may look up for one aggregate: its key index (the unsaved events' keys
    first, then the store's, read once and cached) and its stored events."""

    def __init__(self, app: DpledgerApplication, originator_id: UUID, aggregate: Any) -> None:
        self.app = app
        self.originator_id = originator_id
        self.aggregate = aggregate
        self._cache: dict[str, KeyRecord | None] = {}

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read ``keys`` from the store in one query (a batch's or a statement's keys)."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._cache]
        if not missing or self.aggregate is None:
            for key in missing:
                self._cache[key] = None
            return
        found = self.app.open_index(
            self.originator_id, keyindex.lookup(self.app.recorder, self.originator_id, missing)
        )
        for key in missing:
            self._cache[key] = found.get(key)

    def key(self, key: str) -> KeyRecord | None:
        """The key index's record for ``key``, or ``None`` if it is free."""
        if self.aggregate is not None:
            pending = self.aggregate.pending_key(key)
            if pending is not False:
                return pending  # type: ignore[no-any-return]
        if key not in self._cache:
            self.prefetch([key])
        return self._cache[key]

    def prefixed(self, prefix: str) -> dict[str, KeyRecord]:
        """Every key starting with ``prefix``: the store's, as the unsaved events left them."""
        stored = keyindex.lookup_prefix(self.app.recorder, self.originator_id, prefix)
        found = self.app.open_index(self.originator_id, stored)
        if self.aggregate is not None:
            claims: dict[str, KeyRecord | None] = self.aggregate.__dict__.get("_claims", {})
            for key, record in claims.items():
                if key.startswith(prefix):
                    if record is None:
                        found.pop(key, None)
                    else:
                        found[key] = record
        return found

    def event(self, version: int) -> Any:
        """The aggregate's event ``version`` (unsaved, or stored)."""
        if self.aggregate is not None:
            for event in self.aggregate.pending_events:
                if event.originator_version == version:
                    return event
        found = list(self.app.events.get(self.originator_id, gt=version - 1, lte=version))
        if not found:
            raise LookupError(f"no stored event {version}")
        return found[0]


class Session:
    """One unit of work on a store."""

    def __init__(self, app: DpledgerApplication) -> None:
        self.app = app
        seal_personal(app.seals_personal)  # the events this unit of work makes, in this context
        self.accounts: dict[str, ManagedAccount | None] = {}
        self.banks: dict[str, BankAccount | None] = {}
        self.facts: dict[UUID, StoreFacts] = {}
        self._recorded: list[tuple[str, AccountEvent]] = []

    # ------------------------------------------------------------ loading
    def account(self, account_id: str) -> ManagedAccount | None:
        """The managed account (loaded once per session), or ``None`` if it does not exist."""
        if account_id not in self.accounts:
            check_identifier(account_id, "account_id")
            self.accounts[account_id] = self._get(account_uuid(account_id), ManagedAccount)
        return self.accounts[account_id]

    def existing(self, account_id: str) -> ManagedAccount:
        """The managed account; raises :class:`AccountNotFound` if there is none."""
        account = self.account(account_id)
        if account is None:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        return account

    def bank(self, key: str) -> BankAccount | None:
        """The bank account with key ``key`` (loaded once per session), or ``None``."""
        if key not in self.banks:
            self.banks[key] = self._get(bank_account_uuid(key), BankAccount)
        return self.banks[key]

    def _get(self, uuid: UUID, kind: type[Any]) -> Any:
        try:
            aggregate: Any = self.app.checked_repository.take(uuid)
        except AggregateNotFoundError:
            return None
        except PersistenceError as exc:
            raise StoreError(
                f"the store could not be read: {exc}",
                fix="check the store is reachable, then retry",
            ) from exc
        if not isinstance(aggregate, kind):
            raise StoreError(f"aggregate {uuid} is not a {kind.__name__}")
        return aggregate

    def facts_for(self, uuid: UUID, aggregate: Any) -> StoreFacts:
        """The facts of the aggregate ``uuid`` in this session."""
        facts = self.facts.get(uuid)
        if facts is None:
            facts = self.facts[uuid] = StoreFacts(self.app, uuid, aggregate)
        facts.aggregate = aggregate
        return facts

    # ------------------------------------------------------------ running
    def run(self, command: Command, *, from_bank: bool = False) -> Receipt:
        """Run ``command``'s decision on its account, unless its idempotency key says it ran
        already (then the original receipt, ``replayed``). Nothing is saved until :meth:`save`."""
        if not isinstance(command, Command):
            raise ValidationError(
                f"{command!r} is not a command",
                field="command",
                fix="build one of dpledger.commands' classes",
            )
        account_id = command.account_id
        account = self.account(account_id)
        facts = self.facts_for(account_uuid(account_id), account)
        if command.idempotency_key is not None and account is not None:
            prior = facts.key(command_index_key(command.idempotency_key))
            if prior is not None:
                return self._replay(account_id, facts, prior, command)
        if account is None and not isinstance(command, OpenAccount):
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        facts.prefetch(command.index_keys())
        before = _alert_keys(account) if command.raises_alerts and account is not None else None
        done = len(account.pending_events) if account is not None else 0
        try:
            result = decision_for(type(command))(
                account, command, Context(command, facts, from_bank)
            )
        except DpledgerError as error:
            get_logger().info(
                "command.refused",
                account_id=account_id,
                command=command.method,
                error=type(error).__name__,
            )
            raise
        if isinstance(result, ManagedAccount):
            account = self.accounts[account_id] = result
            facts.aggregate = account
        if account is None or len(account.pending_events) == done:
            # Opening an account again with the same details: the first receipt.
            assert account is not None
            return Receipt(account_id, 1, facts.event(1), replayed=True)
        new = account.pending_events[done:]
        first = new[0]
        assert isinstance(first, AccountEvent)
        self._recorded.append((command.method, first))
        if isinstance(first, BankAccountNamed | BankAccountAdded):
            self._join_pool(account, first)
        elif isinstance(first, MoneyTransferred):
            bank = self.bank(first.from_bank_account)
            if bank is not None:
                check_transfer_covered(bank, first, account_id)
        alerts: tuple[Alert, ...] = ()
        if command.raises_alerts:
            holding = _alerts(account)
            _remember_alerts(account, holding)
            alerts = tuple(a for a in holding if before is None or a.key not in before)
        return Receipt(account_id, first.originator_version, first, alerts=alerts)

    def _join_pool(
        self, account: ManagedAccount, event: BankAccountNamed | BankAccountAdded
    ) -> None:
        """A managed account that names a pooled client account joins the pool, in the same
        transaction (a bank account not declared pooled knows its holders from its lines)."""
        bank = self.bank(event.bank_account)
        if bank is None or not bank.book.pooled or account.account_id in bank.book.members:
            return
        bank.record(
            PoolMemberJoined,
            effective_date=event.effective_date,
            actor=event.actor,
            reason=f"{type(event).__name__} (event {event.originator_version})",
            account_id=account.account_id,
            person_ref=account.terms.person_ref,
        )

    def _replay(
        self, account_id: str, facts: StoreFacts, prior: KeyRecord, command: Command
    ) -> Receipt:
        if prior.digest != command.digest():
            raise IdempotencyConflict(
                f"idempotency key {command.idempotency_key!r} was already used for a different "
                "command or payload",
                account_id=account_id,
                fix="use a new key for a new command; repeat a key only to retry the same command",
            )
        event = facts.event(prior.version)
        get_logger().info(
            "command.replayed",
            account_id=account_id,
            event_type=type(event).__name__,
            version=prior.version,
        )
        alerts: tuple[Alert, ...] = ()
        account = self.accounts.get(account_id)
        if command.raises_alerts and account is not None:
            # The first response may have been lost: say again what still holds about it.
            subjects = _subjects(event)
            alerts = tuple(a for a in _alerts(account) if a.subject in subjects)
        return Receipt(account_id, prior.version, event, replayed=True, alerts=alerts)

    # ------------------------------------------------------------ saving
    def save(self) -> int:
        """Store every changed aggregate, with its key-index rows, in one transaction; returns
        how many events were stored."""
        aggregates: list[Any] = [
            a for a in (*self.accounts.values(), *self.banks.values()) if a and a.pending_events
        ]
        if not aggregates:
            self.release()
            return 0
        changes = []
        count = 0
        for aggregate in aggregates:
            count += len(aggregate.pending_events)
            # Each event's keys were folded in as it was recorded (``HoldsKeys.claim``).
            changes += keyindex.as_changes(aggregate.id, aggregate.unsaved_keys())
        who = next((a.account_id for a in aggregates if isinstance(a, ManagedAccount)), None)
        firsts = [(a.id, a.pending_events[0]) for a in aggregates]
        try:
            try:
                self.app.save(*aggregates, keys=changes)
            except RecordConflictError:
                if not self._landed(firsts):
                    raise
            for aggregate in aggregates:
                aggregate.__dict__.pop("_claims", None)  # saved: the store holds them now
        except RecordConflictError as exc:
            raise ConflictError(
                "another writer changed this account at the same time; nothing was recorded",
                account_id=who,
                fix="retry the command (with the same idempotency key, it is safe)",
            ) from exc
        except PersistenceError as exc:  # locked file, lost connection, full disk, ...
            raise StoreError(
                f"the store could not record the event: {exc}; nothing was recorded",
                account_id=who,
                fix="check the store is reachable and writable, then retry with the same key",
            ) from exc
        logger = get_logger()
        for command, event in self._recorded:
            amount = getattr(event, "amount", None)
            logger.info(
                "command.recorded",
                account_id=self._account_of(event),
                command=command,
                event_type=type(event).__name__,
                version=event.originator_version,
                amount_pence=amount.pence if isinstance(amount, Money) else None,
            )
        self._recorded.clear()
        self.release()
        return count

    def release(self) -> None:
        """Hand every aggregate this unit of work loaded back to the repository's memory (all
        its events are saved). Only after a success: a failed unit of work keeps nothing."""
        repository = self.app.checked_repository
        for aggregate in (*self.accounts.values(), *self.banks.values()):
            if aggregate is not None and not aggregate.pending_events:
                repository.keep(aggregate)
        self.accounts.clear()
        self.banks.clear()

    def _landed(self, firsts: Sequence[tuple[UUID, Any]]) -> bool:
        """Whether this save's events are in the store after all: the connection was lost after
        the commit, and the store's own retry of the insert then met the events it had written.
        Each aggregate's first event is compared by its digest (which covers its timestamp)."""
        for originator_id, event in firsts:
            digest = getattr(event, "digest", None)
            version = event.originator_version
            try:
                stored = list(self.app.events.get(originator_id, gt=version - 1, lte=version))
            except PersistenceError:
                return False
            if digest is None or not stored or getattr(stored[0], "digest", None) != digest:
                return False
        get_logger().warning("save.landed_after_lost_reply", aggregates=len(firsts))
        return True

    def discard(self) -> None:
        """Forget every aggregate this unit of work loaded, after a failed save: neither this
        session nor the repository's memory keeps them, so a retry loads them from the store."""
        loaded = [a.id for a in (*self.accounts.values(), *self.banks.values()) if a is not None]
        self.app.checked_repository.drop(loaded)
        self.accounts.clear()
        self.banks.clear()
        self.facts.clear()
        self._recorded.clear()

    def _account_of(self, event: AccountEvent) -> str | None:
        for name, account in self.accounts.items():
            if account is not None and account.id == event.originator_id:
                return name
        return None


def _alerts(account: ManagedAccount) -> list[Alert]:
    return [alert for rule in ALERT_RULES for alert in rule(account)]


def _subjects(event: Any) -> set[str]:
    """What alerts about ``event``'s document are about: its invoice, or its period."""
    found = set()
    agency, number = getattr(event, "agency_id", None), getattr(event, "invoice_number", None)
    if isinstance(agency, str) and isinstance(number, str):
        found.add(invoice_key(agency, number))
    start, end = getattr(event, "period_start", None), getattr(event, "period_end", None)
    if start is not None and end is not None:
        found |= {f"{kind}:{start.isoformat()}..{end.isoformat()}" for kind in ("agency", "pa")}
        pa_id = getattr(event, "pa_id", None)
        if isinstance(pa_id, str):
            found.add(wage_run_key(pa_id, start, end))  # a wage run's compliance alerts
    return found


def _alert_keys(account: ManagedAccount) -> set[tuple[str, str]]:
    """The keys of the alerts holding for ``account`` now: remembered from the command that
    left it at this version, if this session's account is the one it ran on (alerts are a
    function of the account's state, so they are not worked out twice)."""
    remembered = account.__dict__.get(_ALERTS_AT)
    if remembered is not None and remembered[0] == account.version:
        return set(remembered[1])
    return {alert.key for alert in _alerts(account)}


_ALERTS_AT = "_dpledger_alert_keys"


def _remember_alerts(account: ManagedAccount, holding: list[Alert]) -> None:
    account.__dict__[_ALERTS_AT] = (account.version, frozenset(a.key for a in holding))
