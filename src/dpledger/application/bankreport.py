"""What importing a bank statement did: one outcome per line and per balance, and the report.

:class:`ImportReport` is what :meth:`dpledger.Ledger.import_bank_file` returns (see
:mod:`dpledger.application.bankimport`); it renders as text and as JSON-ready data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dpledger.domain.money import Money
from dpledger.domain.reconciliation import MatchKind
from dpledger.domain.records import ReconciliationBreak

RECORDED = "recorded"
ALREADY_IMPORTED = "already imported"
PENDING = "pending"
INFO = "info"
SKIPPED = "skipped"
"""The statuses of a line (:attr:`LineOutcome.status`) and of a balance (``recorded``,
``already imported``, ``skipped``)."""


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What happened to one line of the file.

    ``status`` is ``"recorded"``, ``"already imported"``, ``"pending"`` (remembered, posts
    nothing), ``"info"`` (never booked) or ``"skipped"`` (dated before the account opened);
    ``amount`` is signed (negative money out); ``match`` the
    :class:`~dpledger.domain.reconciliation.MatchKind` value when recorded; ``item_id`` the
    suspense or unexplained-outgoing item it created.
    """

    key: str
    location: str
    booking_date: date | None
    amount: Money
    description: str
    status: str
    reason: str
    match: str | None = None
    event_type: str | None = None
    version: int | None = None
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceOutcome:
    """What happened to one statement balance: ``"recorded"``, ``"already imported"`` or
    ``"skipped"``; ``effective_date`` is the day whose closing balance it states."""

    position: str
    kind: str
    stated_date: date
    effective_date: date
    balance: Money
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The result of importing one file (or a list of statements) into one account."""

    account_id: str
    source: str
    statements: int
    lines: tuple[LineOutcome, ...]
    balances: tuple[BalanceOutcome, ...]
    breaks: tuple[ReconciliationBreak, ...]
    pending_changed: bool
    version_before: int
    version_after: int
    bank_account: str | None = None
    """The bank account the statements are of (its key)."""
    bank_version_before: int = 0
    """The bank account's version before the import (0: it was not stored yet)."""
    bank_version_after: int = 0
    """The bank account's version after it (as before when nothing was recorded on it)."""

    @property
    def recorded(self) -> tuple[LineOutcome, ...]:
        """The lines recorded by this import."""
        return tuple(line for line in self.lines if line.status == RECORDED)

    @property
    def already_imported(self) -> tuple[LineOutcome, ...]:
        """The lines an earlier import had recorded already."""
        return tuple(line for line in self.lines if line.status == ALREADY_IMPORTED)

    @property
    def nothing_new(self) -> bool:
        """True when the import recorded nothing, on the managed account or on its bank
        account (a repeat of an earlier import)."""
        return (
            self.version_after == self.version_before
            and self.bank_version_after == self.bank_version_before
        )

    def items(self, match: MatchKind) -> tuple[LineOutcome, ...]:
        """The recorded lines that matched as ``match`` (e.g. unexpected income)."""
        return tuple(line for line in self.recorded if line.match == match.value)

    def render(self) -> str:
        """A readable report, one line per bank line, then balances and breaks."""
        out = [f"{self.source} -> {self.account_id}: {self.summary()}"]
        if self.nothing_new:
            out.append(self._nothing_new())
        for line in self.lines:
            when = line.booking_date.isoformat() if line.booking_date else "no date   "
            what = line.match or line.status
            item = f" [{line.item_id}]" if line.item_id else ""
            out.append(
                f"  {when} {line.amount!s:>12} {what}{item}: {line.reason} ({line.location})"
            )
        for balance in self.balances:
            out.append(
                f"  {balance.position} balance {balance.balance} at the end of "
                f"{balance.effective_date} ({balance.kind}): {balance.status}"
                + (f", {balance.reason}" if balance.reason else "")
            )
        for found in self.breaks:
            out.append(
                f"  BREAK {found.effective_date}: statement {found.asserted}, "
                f"ledger {found.ledger}, difference {found.difference}"
            )
        held = len(self.items(MatchKind.UNEXPECTED_INCOME)) + len(
            self.items(MatchKind.UNEXPECTED_OUTGOING)
        )
        if held:
            out.append(
                f"{held} line(s) matched nothing and are held for someone to resolve "
                "(classify, refund/recover, keep/accept)."
            )
        return "\n".join(out)

    def counts(self) -> dict[str, int]:
        """How many lines had each fate: ``new`` (recorded and matched), ``held`` (recorded in
        suspense, for someone to resolve), ``unallocated`` (a pooled line no member was found
        for), ``already imported``, ``before opening``, ``pending`` and ``info``."""
        held = {MatchKind.UNEXPECTED_INCOME.value, MatchKind.UNEXPECTED_OUTGOING.value}
        found = dict.fromkeys(
            ("new", "held", "unallocated", ALREADY_IMPORTED, "before opening", PENDING, INFO), 0
        )
        for line in self.lines:
            if line.status == RECORDED:
                fate = (
                    "held"
                    if line.match in held
                    else "unallocated"
                    if line.match == "unallocated"
                    else "new"
                )
            elif line.status == SKIPPED:
                fate = "before opening"
            else:
                fate = line.status
            found[fate] = found.get(fate, 0) + 1
        return found

    def summary(self) -> str:
        """What happened to the file's lines, in one line (fates with no lines left out)."""
        parts = [f"{n} {fate}" for fate, n in self.counts().items() if n]
        lines = ", ".join(parts) if parts else "no lines"
        return f"{lines} (version {self.version_before} -> {self.version_after})"

    def _nothing_new(self) -> str:
        counts = self.counts()
        if counts[ALREADY_IMPORTED] and counts[ALREADY_IMPORTED] == len(self.lines):
            return "Nothing new: every line was imported before; the ledger is unchanged."
        if counts["before opening"] and not counts[ALREADY_IMPORTED]:
            return (
                "Nothing recorded: the lines are dated before the account was opened; the "
                "ledger is unchanged."
            )
        return "Nothing recorded: no line of this file was new; the ledger is unchanged."

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (amounts in pence, dates in ISO form)."""

        def plain(value: Any) -> Any:
            if isinstance(value, Money):
                return value.pence
            if isinstance(value, date):
                return value.isoformat()
            return value

        def record(obj: Any) -> dict[str, Any]:
            return {name: plain(getattr(obj, name)) for name in obj.__dataclass_fields__}

        return {
            "account_id": self.account_id,
            "bank_account": self.bank_account,
            "source": self.source,
            "statements": self.statements,
            "recorded": len(self.recorded),
            "counts": self.counts(),
            "already_imported": len(self.already_imported),
            "nothing_new": self.nothing_new,
            "pending_changed": self.pending_changed,
            "version_before": self.version_before,
            "version_after": self.version_after,
            "bank_version_before": self.bank_version_before,
            "bank_version_after": self.bank_version_after,
            "lines": [record(line) for line in self.lines],
            "balances": [record(balance) for balance in self.balances],
            "breaks": [record(item) for item in self.breaks],
        }
