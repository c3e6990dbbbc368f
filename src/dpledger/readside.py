"""The Ledger's read side: balances at any date, periods, audit trail, warnings, portfolio,
verification and seals.

:class:`ReadSide` is a mixin of :class:`dpledger.Ledger`. Its queries read the projections
(:mod:`dpledger.projections`), which it brings up to date first: in-process, only the
notifications recorded since the last query are applied, so a query sees every event recorded
before it. A worker can keep them current instead with :meth:`ReadSide.catch_up`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from dpledger.adapters.store import DpledgerApplication
from dpledger.adapters.views import ViewStore
from dpledger.application.arguments import names_account as _names_account
from dpledger.domain.account import account_uuid
from dpledger.domain.bank import (
    BankAccountOpened,
    bank_account_uuid,
)
from dpledger.domain.bounds import check_identifier
from dpledger.domain.chain import (
    BrokenLink,
    broken_snapshots,
    first_broken_link,
    seal_mac,
    seal_mac_matches,
)
from dpledger.domain.chart import LIABILITIES, LedgerAccount
from dpledger.domain.errors import AccountNotFound, ValidationError
from dpledger.domain.lifecycle import AccountOpened, BankAccountNamed
from dpledger.domain.money import Money
from dpledger.domain.records import ReconciliationBreak
from dpledger.domain.snapshots import CheckedSnapshot
from dpledger.keyedchain import ChainKeys, KeyedCheck, Tip
from dpledger.projections.audit import AuditEntry, AuditTrail, audit_entries
from dpledger.projections.balances import (
    LedgerLines,
    PeriodSummary,
    balance_as_of,
    balances_as_of,
    period_summary,
)
from dpledger.projections.engine import Progress, ProjectionEngine
from dpledger.projections.oversight import (
    Oversight,
    Warning,
    warnings_for,
)
from dpledger.projections.pooled import pool_breaks
from dpledger.projections.reconciliation import (
    StatedBalance,
    StatedBalances,
    breaks_among,
    stated_balances,
)
from dpledger.projections.terms import AccountTerms
from dpledger.reporting.statement import Statement, compose_statement

READ_MODELS = (LedgerLines, StatedBalances, AuditTrail, Oversight, AccountTerms)
"""Every read model a Ledger keeps."""

SEAL_KEY_ENV = "DPLEDGER_SEAL_KEY"
"""Where the seal key comes from when a Ledger is not given one (keep it outside the database)."""


@dataclass(frozen=True)
class Seal:
    """An account's chain head at a version, anchored by an HMAC when a seal key is set.

    Export seals into every statement and audit report; a later :meth:`ReadSide.verify` given
    them exposes a history rewritten since (a plain hash chain can be recomputed by whoever can
    write the database; the seal, held outside it, cannot).
    """

    account_id: str
    version: int
    digest: str
    mac: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The seal as JSON-ready data."""
        return {
            "account_id": self.account_id,
            "version": self.version,
            "digest": self.digest,
            "mac": self.mac,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seal:
        """A seal read back from :meth:`as_dict` output; raises ValidationError if malformed."""
        try:
            seal = cls(
                account_id=str(data["account_id"]),
                version=int(data["version"]),
                digest=str(data["digest"]),
                mac=None if data.get("mac") is None else str(data["mac"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"not a seal: {exc}",
                field="seal",
                fix="pass what Ledger.seal(...).as_dict() produced",
            ) from exc
        return seal


@dataclass(frozen=True)
class VerificationReport:
    """What :meth:`ReadSide.verify` found: ``ok``, or the first broken link of each account and
    each snapshot that does not match the events it stands for.

    ``accounts_checked`` counts managed accounts and bank accounts alike (a bank account's link
    names it ``bank account <key>``).
    """

    accounts_checked: int
    events_checked: int
    broken: tuple[BrokenLink, ...]
    snapshots_checked: int = 0
    """Snapshots checked against their events."""
    snapshots_not_checked: int = 0
    """Snapshots written by dpledger 0.1, which carry no chain head or state digest: they are
    never used to load an account (its events are replayed instead), so they are not checked."""

    @property
    def ok(self) -> bool:
        """Whether every link of every account checked holds."""
        return not self.broken

    @property
    def first_broken(self) -> BrokenLink | None:
        """The first broken link found, if any."""
        return self.broken[0] if self.broken else None


@dataclass(frozen=True)
class Replay:
    """An account's balances at an effective date, folded from its stored events one by one.

    Independent of snapshots and projections: ``projection_agrees`` says whether the projection
    (:meth:`ReadSide.balances_as_of`) gives the same balances, a check an auditor can run.
    """

    account_id: str
    as_of: date
    known_at: datetime | None
    events_stored: int
    """Every event the store holds for the account."""
    events_applied: int
    """Those effective by ``as_of`` and recorded by ``known_at``."""
    version: int
    """The last version recorded by ``known_at``."""
    status: str
    """``open``, ``suspended`` or ``closed`` at the end of ``as_of``."""
    balances: dict[LedgerAccount, Money]
    projection_agrees: bool

    @property
    def bank(self) -> Money:
        """The client bank balance."""
        return self.balances[LedgerAccount.BANK]

    @property
    def unpaid_liabilities(self) -> Money:
        """Everything owed (positive)."""
        return Money(-sum(self.balances[a].pence for a in LIABILITIES))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts in pence)."""
        return {
            "account_id": self.account_id,
            "as_of": self.as_of.isoformat(),
            "known_at": None if self.known_at is None else self.known_at.isoformat(),
            "events_stored": self.events_stored,
            "events_applied": self.events_applied,
            "version": self.version,
            "status": self.status,
            "bank_pence": self.bank.pence,
            "unpaid_liabilities_pence": self.unpaid_liabilities.pence,
            "balances_pence": {a.value: m.pence for a, m in self.balances.items()},
            "projection_agrees": self.projection_agrees,
        }


class ReadSide(ChainKeys):
    """Queries over the projections, mixed into :class:`dpledger.Ledger`."""

    _app: DpledgerApplication
    _views: ViewStore
    _engine: ProjectionEngine
    _seal_key: bytes | None

    def _start_read_side(self, views: ViewStore, seal_key: bytes | str | None) -> None:
        self._views = views
        self._engine = ProjectionEngine(self._app, views, READ_MODELS)
        key = seal_key if seal_key is not None else os.environ.get(SEAL_KEY_ENV) or None
        self._seal_key = key.encode() if isinstance(key, str) else key

    # ------------------------------------------------------------ projections
    def catch_up(self, *, progress: Progress | None = None) -> int:
        """Apply every event not yet projected; return how many were applied."""
        return self._engine.catch_up(progress=progress)

    def rebuild_projections(self, *, progress: Progress | None = None) -> int:
        """Empty every read model and project the whole store again (after an upgrade)."""
        return self._engine.rebuild(progress=progress)

    @property
    def projections(self) -> ProjectionEngine:
        """The projection engine (positions, catch-up, rebuild by name)."""
        return self._engine

    def _read(self, name: str) -> Any:
        self._engine.catch_up([name])
        return self._views.transaction()

    def _opened_warnings(self, found: list[Warning]) -> list[Warning]:
        """Warnings with the explanations an encrypted store keeps sealed opened (``[erased]``
        once their person is erased)."""
        if self._app.data_keys is None:
            return found
        opened = self._app.open_view
        return [replace(w, explanation=opened(w.account_id, w.explanation)) for w in found]

    def _require_known(self, cur: Any, account_id: str) -> None:
        check_identifier(account_id, "account_id")
        cur.execute("SELECT 1 FROM dpv_lines WHERE account_id = ? LIMIT 1", (account_id,))
        if cur.fetchone() is None:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )

    # ------------------------------------------------------------ balances
    @_names_account
    def balance(
        self,
        account_id: str,
        ledger_account: LedgerAccount | str = LedgerAccount.BANK,
        *,
        as_of: date | str,
        known_at: datetime | None = None,
    ) -> Money:
        """One ledger account's balance at the end of ``as_of`` (an effective date), as the
        ledger knew it at ``known_at`` (a recorded time; default: now). Debit positive."""
        code = _ledger_account(ledger_account)
        day = _day(as_of, "as_of")
        moment = _moment(known_at)
        with self._read(LedgerLines.name) as cur:
            self._require_known(cur, account_id)
            return balance_as_of(cur, account_id, code, day, moment)

    @_names_account
    def balances_as_of(
        self, account_id: str, as_of: date | str, *, known_at: datetime | None = None
    ) -> dict[LedgerAccount, Money]:
        """Every ledger account's balance at the end of ``as_of``, as known at ``known_at``."""
        day, moment = _day(as_of, "as_of"), _moment(known_at)
        with self._read(LedgerLines.name) as cur:
            self._require_known(cur, account_id)
            return balances_as_of(cur, account_id, day, moment)

    @_names_account
    def period(
        self,
        account_id: str,
        start: date | str,
        end: date | str,
        *,
        known_at: datetime | None = None,
    ) -> PeriodSummary:
        """Opening balance, money in by source, money out by category and closing balance of
        the bank over ``start``..``end`` (inclusive): opening + in - out = closing."""
        first, last = _period_days(start, end)
        with self._read(LedgerLines.name) as cur:
            self._require_known(cur, account_id)
            return period_summary(cur, account_id, first, last, _moment(known_at))

    @_names_account
    def stated_balances(
        self, account_id: str, *, known_at: datetime | str | None = None
    ) -> list[StatedBalance]:
        """Every balance the account's bank statements stated (on its bank account, on its
        unidentified statements' account, and those 0.1 recorded on the account itself), each
        beside the ledger's bank balance at the end of the same day, all as known at
        ``known_at`` (a recorded time; default: now). Oldest first."""
        moment = _moment(known_at)
        self._engine.catch_up([LedgerLines.name, StatedBalances.name])
        with self._views.transaction() as cur:
            self._require_known(cur, account_id)
            return stated_balances(cur, account_id, moment, reveal=self._app.reveal)

    @_names_account
    def reconciliation_breaks(
        self, account_id: str, *, known_at: datetime | str | None = None
    ) -> list[ReconciliationBreak]:
        """Each balance a bank statement stated that differs from the ledger's bank balance at
        the end of that day, as the ledger knew both at ``known_at`` (default: now), oldest
        first.

        Derived each time from the statements' balances (:meth:`stated_balances`) and the
        ledger lines by effective date, so it does not depend on the order statements and
        entries were recorded in; the ``reconciliation_break`` warnings come from the same
        comparison (:mod:`dpledger.projections.reconciliation`).
        """
        return breaks_among(self.stated_balances(account_id, known_at=known_at))

    # ------------------------------------------------------------ audit
    @_names_account
    def audit_trail(
        self,
        account_id: str,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
    ) -> list[AuditEntry]:
        """Every event of the account in recording order (optionally those effective in a
        period), with actor, reason, postings and the running bank balance."""
        first = None if start is None else _day(start, "start")
        last = None if end is None else _day(end, "end")
        with self._read(LedgerLines.name) as cur:
            self._require_known(cur, account_id)
        with self._read(AuditTrail.name) as cur:
            return audit_entries(cur, account_id, first, last, self._app.reveal)

    @_names_account
    def statement(
        self,
        account_id: str,
        start: date | str,
        end: date | str,
        *,
        known_at: datetime | str | None = None,
        generated_at: datetime | None = None,
    ) -> Statement:
        """The audit sheet of the account for ``start``..``end`` (inclusive), as the ledger knew
        it at ``known_at`` (a recorded time; default: everything recorded so far).

        Opening, money in by source, money out by category and closing (opening + in - out =
        closing is checked), unpaid liabilities, suspense held, contingency and surplus at the
        end, unexpected items and their resolution, reconciliation breaks, warnings raised in
        the period, the period's events with a running balance, and the chain head read.
        Render it with :func:`dpledger.reporting.text.render_statement` or the HTML and
        spreadsheet renderers in :mod:`dpledger.adapters.reports`.
        """
        first, last = _period_days(start, end)
        moment = _moment(known_at)
        with self._read(LedgerLines.name) as cur:
            self._require_known(cur, account_id)
            summary = period_summary(cur, account_id, first, last, moment)
            at_end = balances_as_of(cur, account_id, last, moment)
        with self._read(AuditTrail.name) as cur:
            entries = audit_entries(cur, account_id, reveal=self._app.reveal)
        if moment is not None:
            entries = [e for e in entries if e.recorded_at <= moment]
        if not entries:
            raise AccountNotFound(
                f"the account was not yet opened at {moment}",
                account_id=account_id,
                fix="choose a later --known-at, or leave it out for everything recorded",
            )
        head = entries[-1]
        account: Any = self._app.repository.get(account_uuid(account_id), version=head.version)
        with self._read(Oversight.name) as cur:
            raised = self._opened_warnings(
                warnings_for(cur, account_id=account_id, active_only=False)
            )
        stated = self.stated_balances(account_id, known_at=moment)
        return compose_statement(
            account=account,
            summary=summary,
            balances_at_end=at_end,
            entries=entries,
            warnings=raised,
            generated_at=generated_at or datetime.now(UTC),
            breaks=breaks_among(stated),
            stated=stated,
            head_mac=self._mac(account_id, head.version, head.digest),
        )

    @_names_account
    def replay(
        self, account_id: str, as_of: date | str, *, known_at: datetime | str | None = None
    ) -> Replay:
        """Replay the account's stored events to the end of ``as_of`` (an effective date), as
        known at ``known_at`` (a recorded time), and check the projection agrees."""
        day, moment = _day(as_of, "as_of"), _moment(known_at)
        check_identifier(account_id, "account_id")
        stored: list[Any] = list(self._app.repository.event_store.get(account_uuid(account_id)))
        if not stored:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        known = [e for e in stored if moment is None or e.timestamp <= moment]
        if not known:
            raise AccountNotFound(
                f"the account was not yet opened at {moment}",
                account_id=account_id,
                fix="choose a later known-at time, or leave it out",
            )
        totals: dict[str, int] = {}
        applied = 0
        closed = False
        for event in known:
            if event.effective_date > day:
                continue
            applied += 1
            closed = closed or type(event).__name__ == "AccountClosed"
            for line in event.postings:
                totals[line.account.value] = totals.get(line.account.value, 0) + line.amount.pence
        balances = {a: Money(totals.get(a.value, 0)) for a in LedgerAccount}
        version = known[-1].originator_version
        account: Any = self._app.repository.get(account_uuid(account_id), version=version)
        status = "closed" if closed else "suspended" if account.suspended_on(day) else "open"
        projected = self.balances_as_of(account_id, day, known_at=moment)
        return Replay(
            account_id=account_id,
            as_of=day,
            known_at=moment,
            events_stored=len(stored),
            events_applied=applied,
            version=version,
            status=status,
            balances=balances,
            projection_agrees=projected == balances,
        )

    def replay_store(
        self,
        as_of: date | str,
        *,
        known_at: datetime | str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Replay]:
        """:meth:`replay` every account in the store (those opened by ``known_at``)."""
        day, moment = _day(as_of, "as_of"), _moment(known_at)
        names = sorted(self._stored_accounts().values())
        results = []
        for done, name in enumerate(names, start=1):
            if not name.startswith("?"):
                with contextlib.suppress(AccountNotFound):
                    results.append(self.replay(name, day, known_at=moment))
            if progress is not None:
                progress(done, len(names))
        return results

    @_names_account
    def seal(self, account_id: str) -> Seal:
        """The account's chain head now, with an HMAC when a seal key is configured.

        ``account_id`` may also name a bank account as verification names it (``bank account
        <key>``, see :meth:`seals`): a bank account's chain holds the balances its statements
        stated, so only a seal exposes its last events being removed.
        """
        if not account_id.startswith(_BANK_ACCOUNT):
            check_identifier(account_id, "account_id")
        last = self._app.recorder.select_events(_aggregate_uuid(account_id), desc=True, limit=1)
        if not last:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        head: Any = self._app.mapper.to_domain_event(last[0])
        mac = self._mac(account_id, head.originator_version, head.digest)
        return Seal(account_id, head.originator_version, head.digest, mac)

    def seals(self, account_id: str | None = None) -> list[Seal]:
        """The seal of every account and bank account in the store, or of one account and the
        bank accounts its statements were booked on: what :meth:`verify` checks."""
        if account_id is None:
            names = self._stored_accounts(bank_accounts=True).values()
        else:
            names = self._targets(account_id)[0].values()
        return [self.seal(name) for name in sorted(names) if not name.startswith("?")]

    def _targets(
        self, account_id: str
    ) -> tuple[dict[UUID, str], dict[UUID, list[tuple[int, Any]]]]:
        """One account and the bank accounts its statements were booked on, by stored id, with
        the account's stored events (read to find them)."""
        check_identifier(account_id, "account_id")
        uuid = account_uuid(account_id)
        read = {uuid: self._stored(uuid)}
        targets = {uuid: account_id}
        for key in _bank_keys(account_id, read[uuid]):
            if self._app.recorder.select_events(bank_account_uuid(key), limit=1):
                targets[bank_account_uuid(key)] = bank_account_name(key)
        return targets, read

    def _mac(self, account_id: str, version: int, digest: str) -> str | None:
        """The seal HMAC of a chain head, or ``None`` without a seal key."""
        if self._seal_key is None:
            return None
        return seal_mac(self._seal_key, account_id, version, digest)

    def verify(
        self,
        account_id: str | None = None,
        *,
        seals: Iterable[Seal] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> VerificationReport:
        """Check the stored events' hash chain of one account, or of the whole store, and every
        stored snapshot against the events it stands for.

        Reads the stored events themselves (not projections). Each seal given must be authentic
        (its HMAC, when it has one, is checked with the seal key) and still match the event it
        names. The whole store includes the bank accounts; one account includes the bank
        accounts its statements were booked on. A snapshot must match its state digest, carry
        the stored event's digest at its version as its head, and hold the state its events
        rebuild (see :func:`~dpledger.domain.chain.broken_snapshots`); 0.1's snapshots, never
        used to load, are counted as not checked. Returns every account's first broken link and
        every broken snapshot; ``report.ok`` if none. On a keyed store it also checks every
        keyed head and the keyed manifest (:class:`~dpledger.keyedchain.KeyedCheck`), and
        raises :class:`~dpledger.domain.keyring.ChainKeyError` without the store's chain key.
        """
        given = list(seals)
        keyed = KeyedCheck.load(self._app, keying=self._keying)  # a key problem: raised now
        tips: dict[UUID, Tip] = {}
        by_account: dict[str, list[tuple[int, str]]] = {}
        broken: list[BrokenLink] = []
        for seal in given:
            if seal.mac is not None:
                if self._seal_key is None:
                    raise ValidationError(
                        "the seals carry an HMAC but no seal key is configured",
                        field="seals",
                        fix=f"pass seal_key= to the Ledger or set {SEAL_KEY_ENV}",
                    )
                if not seal_mac_matches(
                    self._seal_key, seal.account_id, seal.version, seal.digest, seal.mac
                ):
                    broken.append(
                        BrokenLink(
                            seal.account_id,
                            seal.version,
                            "the seal is not authentic (its HMAC does not match)",
                        )
                    )
                    continue
            by_account.setdefault(seal.account_id, []).append((seal.version, seal.digest))
        read: dict[UUID, list[tuple[int, Any]]] = {}
        if account_id is not None:
            targets, read = self._targets(account_id)
            for key in _bank_keys(account_id, read[account_uuid(account_id)]):
                if bank_account_name(key) in by_account:  # sealed, even if now removed whole
                    targets[bank_account_uuid(key)] = bank_account_name(key)
        else:
            targets = self._stored_accounts(bank_accounts=True)
            for name in by_account:
                # A seal names its account even where the stored first event no longer can.
                uuid = _aggregate_uuid(name)
                if targets.get(uuid, "?").startswith("?"):
                    targets[uuid] = name
        events = snapshots = unchecked = 0
        for done, (uuid, name) in enumerate(sorted(targets.items(), key=lambda kv: kv[1])):
            stored = read.pop(uuid, None)
            if stored is None:
                stored = self._stored(uuid)
            if not stored and name not in by_account and not keyed.has_head(uuid):
                if account_id is not None:
                    raise AccountNotFound(
                        "no such account", account_id=account_id, fix="open the account first"
                    )
                continue
            events += len(stored)
            last = stored[-1] if stored else (0, None)
            tips[uuid] = (name, last[0], getattr(last[1], "digest", None))
            link = first_broken_link(name, stored, by_account.get(name, ()))
            if link is not None:
                broken.append(link)
            if name.startswith(_BANK_ACCOUNT):  # a pool adds up, and matches its members
                broken += pool_breaks(name, stored, lambda a: self._stored(account_uuid(a)))
            found, checked, legacy = self._check_snapshots(uuid, name, stored, link)
            broken += found
            snapshots += checked
            unchecked += legacy
            if progress is not None:
                progress(done + 1, len(targets))
        broken += keyed.breaks(tips, whole=account_id is None)  # with a chain key: no seal needed
        return VerificationReport(len(targets), events, tuple(broken), snapshots, unchecked)

    def _check_snapshots(
        self, uuid: UUID, name: str, stored: list[tuple[int, Any]], link: BrokenLink | None
    ) -> tuple[list[BrokenLink], int, int]:
        """The broken snapshots of one aggregate, how many were checked and how many were
        written by 0.1 (not checked)."""
        store = self._app.snapshots
        if store is None:
            return [], 0, 0
        broken: list[BrokenLink] = []
        current: list[Any] = []
        legacy = 0
        for record in store.recorder.select_events(uuid):
            try:
                snapshot: Any = store.mapper.to_domain_event(record)
            except Exception as exc:  # an unreadable snapshot is evidence, not a crash
                at = int(record.originator_version)
                reason = f"the snapshot at version {at} cannot be read: {exc}"
                broken.append(BrokenLink(name, at, reason))
                continue
            if isinstance(snapshot, CheckedSnapshot):
                current.append(snapshot)
            else:
                legacy += 1
        broken += broken_snapshots(name, stored, current, None if link is None else link.version)
        return broken, len(current), legacy

    def _stored(self, uuid: UUID) -> list[tuple[int, Any]]:
        result: list[tuple[int, Any]] = []
        for record in self._app.recorder.select_events(uuid):
            try:
                event: Any = self._app.mapper.to_domain_event(record)
                again = self._app.mapper.to_stored_event(event)
                if self._app.mapper.cipher is None and (
                    again.state != record.state or again.topic != record.topic
                ):
                    # Bytes that decode to the same event but differ from what was written
                    # (a renamed key taking its default, say) are still tampering.
                    event = ValueError("its stored bytes differ from what dpledger wrote")
            except Exception as exc:  # any decoding failure is evidence, not a crash
                event = exc
            result.append((int(record.originator_version), event))
        return result

    def _stored_accounts(self, *, bank_accounts: bool = False) -> dict[UUID, str]:
        """Every managed account in the store by its id, named by its first event (and, with
        ``bank_accounts``, every bank account, as :func:`bank_account_name`); an aggregate whose
        first event cannot be read is ``?<uuid>``."""
        names: dict[UUID, str] = {}
        banks: set[UUID] = set()
        start: int | None = None
        while True:
            batch = self._app.recorder.select_notifications(
                start=start, limit=1000, inclusive_of_start=False
            )
            if not batch:
                break
            for notification in batch:
                uuid = UUID(str(notification.originator_id))
                if uuid in names and not names[uuid].startswith("?"):
                    continue
                # Only the first event names an aggregate; others (or a tampered first event)
                # leave the id until a seal names it. (A bank account's lines name the managed
                # accounts they moved money for, so a later event must never name it.)
                name = None
                if notification.originator_version == 1:
                    with contextlib.suppress(Exception):
                        name = _aggregate_name(self._app.mapper.to_domain_event(notification))
                if name is not None and name.startswith(_BANK_ACCOUNT):
                    banks.add(uuid)
                names[uuid] = name or names.get(uuid) or f"?{uuid}"
            start = batch[-1].id
        if bank_accounts:
            return names
        return {uuid: name for uuid, name in names.items() if uuid not in banks}

    # ------------------------------------------------------------ warnings, portfolio


_BANK_ACCOUNT = "bank account "


def bank_account_name(key: str) -> str:
    """How verification names a bank account (never an account id: those have no space)."""
    return f"{_BANK_ACCOUNT}{key}"


def _aggregate_uuid(name: str) -> UUID:
    """The stored id of the account or bank account verification calls ``name``."""
    if name.startswith(_BANK_ACCOUNT):
        return bank_account_uuid(name.removeprefix(_BANK_ACCOUNT))
    return account_uuid(name)


def _aggregate_name(first: Any) -> str | None:
    """The name an aggregate's first event gives it: a managed account's id, or a bank
    account's :func:`bank_account_name`."""
    if isinstance(first, BankAccountOpened):
        return bank_account_name(first.key)
    if isinstance(first, AccountOpened):
        return first.account_id
    return None


def _bank_keys(account_id: str, stored: list[tuple[int, Any]]) -> list[str]:
    """The bank accounts an account's statements may have been booked on: each it named, and
    the one for statements of an unnamed bank account."""
    named = [e.bank_account for _, e in stored if isinstance(e, BankAccountNamed)]
    return list(dict.fromkeys([*named, f"UNIDENTIFIED:{account_id}"]))


def _ledger_account(value: LedgerAccount | str) -> str:
    try:
        return LedgerAccount(value).value
    except ValueError:
        codes = ", ".join(a.value for a in LedgerAccount)
        raise ValidationError(
            f"{value!r} is not a ledger account", field="ledger_account", fix=f"use one of {codes}"
        ) from None


def _day(value: object, field: str) -> date:
    if isinstance(value, datetime):
        raise ValidationError(
            "must be a date, not a datetime", field=field, fix="pass value.date() or 'YYYY-MM-DD'"
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not a date", field=field, fix="use 'YYYY-MM-DD'")


def _period_days(start: object, end: object) -> tuple[date, date]:
    """A period's first and last days (inclusive), refusing one that ends before it starts."""
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise ValidationError(
            f"the period ends ({last}) before it starts ({first})",
            field="end",
            fix="give the start date first",
        )
    return first, last


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{value!r} is not a timezone-aware time",
            field="known_at",
            fix="pass e.g. datetime(2026, 3, 15, 12, tzinfo=timezone.utc)",
        )
    return value


def seals_to_json(seals: Sequence[Seal]) -> str:
    """Seals as JSON text, to export with a report."""
    return json.dumps([s.as_dict() for s in seals], indent=2)
