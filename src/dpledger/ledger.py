"""The ``Ledger`` facade: what council and provider systems import.

Commands are data (``dpledger.commands``): ``Ledger.execute(command)`` runs any of them, and each
typed method (``ledger.pay_invoice(...)``) builds one and executes it, so both are one path.
``Ledger.execute_many(commands)`` runs a batch, one transaction per account. Every command takes
an optional caller-chosen ``idempotency_key``: repeating a command with the same key and payload
returns the original :class:`Receipt` and records nothing; the same key with another payload is
refused. The figures as at a date (balances, surplus, contingency, missing payments, warnings,
the portfolio) read the projections, as known at any recorded time; ``account``, ``load`` and
the documents read the account's recent state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO

from eventsourcing.application import AggregateNotFoundError

from dpledger.adapters.interchange import beancount, jsonl
from dpledger.adapters.interchange.jsonl import ExportSummary, ImportSummary
from dpledger.adapters.store import (
    DEFAULT_SQLITE_FILE,
    DpledgerApplication,
    open_application,
    setup_lock,
    store_environment,
)
from dpledger.adapters.views import open_views
from dpledger.application.account_methods import AccountMethods
from dpledger.application.arguments import DateLike, HoursLike, MoneyLike, names_account
from dpledger.application.bankimport import ImportReport, import_statements
from dpledger.application.batch import BatchReport, run_batch
from dpledger.application.money_methods import MoneyMethods
from dpledger.application.pooled_methods import PooledMethods
from dpledger.application.retry import Retrying
from dpledger.application.session import Receipt, Session
from dpledger.application.suspense_methods import SuspenseMethods
from dpledger.asatside import AsAtSide
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.domain.bounds import check_identifier
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.commands import Command
from dpledger.domain.errors import AccountNotFound, BankFileError, UnknownParty, ValidationError
from dpledger.domain.events import AccountEvent
from dpledger.domain.keyring import Keyring
from dpledger.domain.money import Money
from dpledger.domain.payroll import HmrcDue, hmrc_due
from dpledger.domain.policy import AccountPolicy
from dpledger.domain.records import (
    AccountStatus,
    Agency,
    BudgetAgreement,
    Invoice,
    PersonalAssistant,
    SuspenseItem,
    UnexplainedOutgoing,
    WageRun,
)
from dpledger.log import get_logger

if TYPE_CHECKING:
    from types import ModuleType

    from dpledger.adapters.bankfeeds import BankStatement, CsvMapping

__all__ = [
    "AccountState",
    "BatchReport",
    "DateLike",
    "HoursLike",
    "Ledger",
    "MoneyLike",
    "Receipt",
]


@dataclass(frozen=True, slots=True)
class AccountState:
    """A read-only picture of one account now, for queries and display.

    Documents are those the account keeps for its decisions: open ones and those settled within
    the recent window (see ``docs/model.md``); every event stays in :meth:`Ledger.events`.
    """

    account_id: str
    person_ref: str
    council: str
    provider: str
    policy: AccountPolicy
    status: AccountStatus
    opened_on: date
    closed_on: date | None
    suspended_since: date | None
    version: int
    balances: Mapping[LedgerAccount, Money]
    budgets: tuple[BudgetAgreement, ...]
    agencies: Mapping[str, Agency]
    invoices: Mapping[str, Invoice]
    personal_assistants: Mapping[str, PersonalAssistant]
    wage_runs: Mapping[str, WageRun]
    suspense_items: Mapping[str, SuspenseItem]
    bank_account: str | None = None
    """The bank account the money is held in, if named."""

    @property
    def bank_balance(self) -> Money:
        """Money in the client bank account."""
        return self.balances[LedgerAccount.BANK]

    @property
    def unpaid_liabilities(self) -> Money:
        """Everything owed (approved invoices, net wages, HMRC, pension, recoupment)."""
        total = Money(0)
        for account, balance in self.balances.items():
            if account.kind == "liabilities":
                total -= balance
        return total

    def owed(self, liability: LedgerAccount) -> Money:
        """What is owed on one liability account, as a positive amount."""
        return -self.balances[liability]


class Ledger(AsAtSide, AccountMethods, MoneyMethods, SuspenseMethods, PooledMethods):
    """Managed accounts on one event store.

    >>> with Ledger.in_memory() as ledger:  # doctest: +SKIP
    ...     ledger.open_account("DP-1", person_ref="P-77", council="Kent", provider="SOLO",
    ...                         effective_date="2026-04-01", actor="officer-12")

    Open it on ``memory:``, a SQLite file (the default, ``dpledger.sqlite`` or ``$DPLEDGER_STORE``)
    or PostgreSQL (``postgresql://user@host:5432/db?schema=name``).
    """

    def __init__(
        self,
        store: str | None = None,
        *,
        seal_key: bytes | str | None = None,
        retries: int | None = None,
        chain_key: str | bytes | Keyring | None = None,
    ) -> None:
        """Open the store at ``store`` (see the class docstring). ``seal_key`` (default
        ``$DPLEDGER_SEAL_KEY``) authenticates seals; keep it outside the database.
        ``retries`` (default ``$DPLEDGER_RETRIES``, else 5): how many times a command that met
        another writer's save is run again on the fresh account before :class:`ConflictError`
        reaches the caller (0: never retried). ``chain_key`` (default ``$DPLEDGER_CHAIN_KEY``
        or ``$DPLEDGER_CHAIN_KEY_FILE``): the key, or a :class:`~dpledger.domain.keyring.Keyring`
        of keys, that keys every commit's chain heads (see ``docs/operations.md``)."""
        self.store_url = store or os.environ.get("DPLEDGER_STORE") or DEFAULT_SQLITE_FILE
        self.retrying = Retrying(retries)
        with setup_lock(self.store_url):  # processes opening one new store create it in turn
            self._app: DpledgerApplication = open_application(self.store_url, chain_key=chain_key)
            try:
                views = open_views(store_environment(self.store_url))
            except BaseException:
                self._app.close()
                raise
            self._start_read_side(views, seal_key)

    @classmethod
    def in_memory(cls, *, seal_key: bytes | str | None = None) -> Ledger:
        """A ledger whose events live only in this process (tests, examples)."""
        return cls("memory:", seal_key=seal_key)

    @classmethod
    def sqlite(cls, path: str | os.PathLike[str], *, seal_key: bytes | str | None = None) -> Ledger:
        """A ledger on the embedded SQLite file at ``path`` (created if missing)."""
        return cls(f"sqlite:///{os.fspath(path)}", seal_key=seal_key)

    @classmethod
    def postgres(
        cls, url: str, *, seal_key: bytes | str | None = None, retries: int | None = None
    ) -> Ledger:
        """A ledger on PostgreSQL, e.g. ``postgresql://postgres@127.0.0.1:5432/test``
        (settings in the URL's query: see docs/operations.md)."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValidationError("must be a postgresql:// URL", field="url")
        return cls(url, seal_key=seal_key, retries=retries)

    def close(self) -> None:
        """Release the store's connections."""
        self._views.close()
        self._app.close()

    def erase_person(self, account_id: str, *, actor: str, reason: str) -> bool:
        """Erase a closed account's person (crypto-shredding, on an encrypted store): see
        :func:`dpledger.application.erasure.erase_person`."""
        from dpledger.application.erasure import erase_person

        return erase_person(self, account_id, actor=actor, reason=reason)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ================================================================= commands
    def execute(self, command: Command) -> Receipt:
        """Run one command (any of ``dpledger.commands``) and save what it recorded, in one
        transaction. Returns the :class:`Receipt` of its first event (``replayed`` when its
        idempotency key says it ran before). A refused command raises and records nothing."""

        def work(session: Session) -> Receipt:
            receipt = session.run(command)
            session.save()
            return receipt

        try:
            receipt = self.retrying.run(self._app, work)
        except Exception as error:
            if isinstance(command, Command) and hasattr(error, "for_account"):
                error.for_account(command.account_id)
            raise
        return receipt

    def execute_many(
        self,
        commands: Iterable[Command],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> BatchReport:
        """Run a batch of commands (bulk loads, migrations): one transaction per account, all
        or nothing per account, in the order given. Returns a :class:`BatchReport` with a
        receipt per command and each failed account's error; a batch sent again records
        nothing new (each command's idempotency key holds)."""
        return run_batch(self._app, commands, progress=progress, retrying=self.retrying)

    # ================================================================= queries
    @names_account
    def account(self, account_id: str) -> AccountState:
        """The account's state now (documents: open ones and those settled recently)."""
        account = self._load(account_id)
        return AccountState(
            account_id=account.account_id,
            person_ref=account.person_ref,
            council=account.council,
            provider=account.provider,
            policy=account.policy,
            status=account.status,
            opened_on=account.opened_on,
            closed_on=account.closed_on,
            suspended_since=account.suspended_since,
            version=account.version,
            balances=MappingProxyType(account.balances),
            budgets=account.budgets,
            agencies=dict(account.invoicing.agencies),
            invoices=dict(account.invoicing.invoices),
            personal_assistants=dict(account.payroll.pas),
            wage_runs=dict(account.payroll.wage_runs),
            suspense_items=dict(account.suspense.income),
            bank_account=account.bank_account,
        )

    @names_account
    def events(self, account_id: str) -> list[AccountEvent]:
        """Every event of the account, oldest first."""
        stored = list(self._app.repository.event_store.get(self._uuid_of(account_id)))
        if not stored:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        return [e for e in stored if isinstance(e, AccountEvent)]

    def account_ids(self) -> list[str]:
        """Every account id in the store, in the order they were opened.

        Reads the whole notification log: fine for tools and tests; the portfolio projection is
        the fast way for a council's thousands of accounts.
        """
        ids: list[str] = []
        start = 0
        while True:
            batch = self._app.recorder.select_notifications(
                start=start, limit=500, inclusive_of_start=False, topics=[_OPENED_TOPIC]
            )
            if not batch:
                return ids
            for notification in batch:
                event: Any = self._app.mapper.to_domain_event(notification)
                ids.append(str(event.account_id))
            start = batch[-1].id

    @names_account
    def load(self, account_id: str) -> ManagedAccount:
        """The domain aggregate itself, loaded for the caller alone (read it; commands go
        through :meth:`execute`)."""
        try:
            account: Any = self._app.repository.get(self._uuid_of(account_id))
        except AggregateNotFoundError:
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            ) from None
        if not isinstance(account, ManagedAccount):
            raise AccountNotFound(
                "no such account", account_id=account_id, fix="open the account first"
            )
        return account

    @property
    def application(self) -> DpledgerApplication:
        """The underlying eventsourcing application (for projections and tools)."""
        return self._app

    @names_account
    def hmrc_due(self, account_id: str, *, quarterly: bool = False) -> list[HmrcDue]:
        """What HMRC is owed now, by due date (the 22nd after each tax month, or quarter for
        a small employer paying quarterly), earliest first: the forecast of PAYE payments."""
        return hmrc_due(self._load(account_id), quarterly=quarterly)

    @names_account
    def unexplained_outgoings(self, account_id: str) -> dict[str, UnexplainedOutgoing]:
        """Money out of the bank that matched nothing, by item id (``HELD``: unresolved)."""
        return dict(self._load(account_id).suspense.outgoings)

    # ================================================================= plumbing
    def _uuid_of(self, account_id: str) -> Any:
        return account_uuid(check_identifier(account_id, "account_id"))

    def _load(self, account_id: str) -> ManagedAccount:
        # For the queries, which only read it: it goes back to the repository's memory at once.
        session = Session(self._app)
        account = session.existing(account_id)
        session.release()
        return account

    def _event(self, account_id: str, version: int) -> AccountEvent:
        found = list(
            self._app.repository.event_store.get(
                self._uuid_of(account_id), gt=version - 1, lte=version
            )
        )
        if not found or not isinstance(found[0], AccountEvent):
            last = self._load(account_id).version
            raise UnknownParty(
                f"the account has no event {version} (its last is {last})",
                account_id=account_id,
                fix="name an event version from the account's history (Ledger.events)",
            )
        return found[0]

    # ================================================================= interchange
    def export_history(
        self,
        out: TextIO | str | os.PathLike[str],
        account_ids: Sequence[str] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> ExportSummary:
        """Write the full history of ``account_ids`` (default: every account) as a versioned
        ``dpledger-history`` JSON Lines file (docs/interchange.md).

        ``out`` is an open text stream or a path; a path is written whole or not at all (a
        temporary file renamed at the end), so a failed export never leaves half a history.
        """
        if isinstance(out, (str, os.PathLike)):
            target = Path(out)
            partial = target.with_name(f".{target.name}.partial")
            try:
                with open(partial, "w", encoding="utf-8", newline="\n") as stream:
                    summary = jsonl.export_history(
                        self._app, stream, account_ids, progress=progress
                    )
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            return summary
        return jsonl.export_history(self._app, out, account_ids, progress=progress)

    def import_history(
        self,
        source: Iterable[str] | str | os.PathLike[str],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Replay a ``dpledger-history`` file into this store, all or nothing.

        Every line is checked first (format, digests, links, versions, the trailer); accounts
        the store lacks are written whole, older copies are brought up to date, and importing
        the same file again writes nothing. A store whose history differs is refused, naming the
        account and version. Into an empty store it reproduces every balance.
        """
        summary = jsonl.import_history(self._app, source, progress=progress)
        get_logger().info(
            "history.imported",
            source=summary.source_name,
            events_written=summary.events_written,
            accounts=len(summary.accounts),
        )
        return summary

    def export_beancount(
        self, account_ids: Sequence[str] | None = None, *, title: str | None = None
    ) -> str:
        """The ledger of ``account_ids`` (default: every account) as a beancount file: open
        directives, one transaction per event with postings, and balance assertions for every
        ledger account at every month end. ``bean-check`` on it is an independent check of
        dpledger's arithmetic."""
        names = list(self.account_ids() if account_ids is None else account_ids)
        return beancount.to_beancount(((name, self.events(name)) for name in names), title=title)

    # ================================================================= bank statements
    @names_account
    def import_bank_file(
        self,
        account_id: str,
        path: str | os.PathLike[str],
        *,
        actor: str,
        format: str | None = None,
        mapping: CsvMapping | str | None = None,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import a bank statement file into the account: all of it, or nothing.

        ``format`` (``"csv"``, ``"ofx"``, ``"mt940"``, ``"camt053"``, ``"openbanking"``) skips
        detection; ``mapping`` is a ``CsvMapping`` or the name of a built-in one (``"hsbc"``);
        ``bank_account`` picks one account of a file holding several. Importing a file again, or
        an overlapping one, records nothing new; a statement of another bank account than the
        one the account's money is held in is refused (see ``docs/bankfeeds.md``). A malformed
        file raises :class:`~dpledger.errors.BankFileError` naming the line and records nothing.
        """
        statements = _parse(path, format, mapping)
        return self._import(
            account_id, statements, actor, os.path.basename(os.fspath(path)), bank_account
        )

    def import_pooled_file(
        self,
        path: str | os.PathLike[str],
        *,
        actor: str,
        format: str | None = None,
        mapping: CsvMapping | str | None = None,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import a statement file of a pooled client account (see
        :meth:`open_pooled_account`): the file is read once, each line allocated to the member
        whose money it is (or held as unallocated), all of it or nothing. ``format``,
        ``mapping`` and ``bank_account`` are as for :meth:`import_bank_file`."""
        statements = _parse(path, format, mapping)
        return self.import_pooled_statement(statements, actor=actor, bank_account=bank_account)

    @names_account
    def import_statement(
        self,
        account_id: str,
        statement: BankStatement | Sequence[BankStatement],
        *,
        actor: str,
        bank_account: str | None = None,
    ) -> ImportReport:
        """Import statements already parsed (``parse_bytes`` of an upload, an Open Banking feed):
        all of them, or nothing, exactly as :meth:`import_bank_file` does."""
        statements = [statement] if not isinstance(statement, Sequence) else list(statement)
        source = statements[0].source_file if statements else "statement"
        return self._import(account_id, statements, actor, source, bank_account)

    def _import(
        self,
        account_id: str,
        statements: Sequence[BankStatement],
        actor: str,
        source: str,
        bank_account: str | None,
    ) -> ImportReport:

        def work(session: Session) -> ImportReport:
            report = import_statements(
                session,
                account_id,
                statements,
                actor=actor,
                source=source,
                bank_account=bank_account,
            )
            session.save()
            return report

        report = self.retrying.run(self._app, work)
        asserted = {(b.effective_date, b.balance) for b in report.balances if b.status != "skipped"}
        breaks = tuple(
            item
            for item in self.reconciliation_breaks(account_id)
            if (item.effective_date, item.asserted) in asserted
        )
        return ImportReport(
            **{
                **{f: getattr(report, f) for f in report.__dataclass_fields__},
                "breaks": breaks,
            }
        )


def _parse(
    path: str | os.PathLike[str], format: str | None, mapping: CsvMapping | str | None
) -> list[BankStatement]:
    """The statements of the bank file ``path`` (``mapping``: a CSV layout or a built-in's
    name)."""
    bankfeeds = _bankfeeds(os.fspath(path))
    csv_mapping = mapping
    if isinstance(mapping, str):
        csv_mapping = bankfeeds.BUILTIN_CSV_MAPPINGS.get(mapping)
        if csv_mapping is None:
            raise ValidationError(
                f"no built-in CSV mapping {mapping!r}",
                field="mapping",
                fix=f"use one of {', '.join(sorted(bankfeeds.BUILTIN_CSV_MAPPINGS))}, "
                "or pass a CsvMapping",
            )
    assert csv_mapping is None or isinstance(csv_mapping, bankfeeds.CsvMapping)
    statements: list[BankStatement] = bankfeeds.parse_file(path, format, csv_mapping=csv_mapping)
    return statements


_OPENED_TOPIC = "dpledger.domain.events:AccountOpened"


def _bankfeeds(path: str) -> ModuleType:
    # Imported on first use: the parsers need the optional `bankfeeds` extra.
    try:
        from dpledger.adapters import bankfeeds
    except ImportError as missing:
        raise BankFileError(
            f"reading bank files needs the bankfeeds extra ({missing.name} is not installed)",
            file=os.path.basename(path),
            fix="pip install 'dpledger[bankfeeds]'",
        ) from missing
    return bankfeeds
