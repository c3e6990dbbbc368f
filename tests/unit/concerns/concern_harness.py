"""Given these commands, when this command: these events, or this error and nothing recorded.

The harness runs each command's decision (``registry.decision_for``) on an in-memory
``ManagedAccount`` with a :class:`~dpledger.domain.commands.Context`, exactly as a session does,
but without a store: the key index a decision reads is the one the account's own unsaved events
claim, and the events it may look up are those events. So a concern is tested through its
decisions and events alone::

    outcome = given(*OPENED).when(cmd(PayHmrc, amount="1.00"))
    outcome.refused(Overpayment, "more than the £0.00 owed on HMRC")

A refused command must leave the account exactly as it was: no new event, and the same state
(every part, as a snapshot would hold it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dpledger.domain.account import ManagedAccount
from dpledger.domain.alerts import Alert
from dpledger.domain.commands import Command, Context
from dpledger.domain.errors import DpledgerError
from dpledger.domain.events import AccountEvent
from dpledger.domain.funds import ReceiveContribution, ReceiveCouncilPayment
from dpledger.domain.keys import KeyRecord
from dpledger.domain.lifecycle import AgreeBudget, OpenAccount
from dpledger.domain.registry import ALERT_RULES, decision_for

ACCOUNT = "DP-1"
ACTOR = "officer-1"
OPENED_ON = "2026-04-06"
LATER = "2026-04-13"


def cmd(command_class: type[Command], /, **fields: Any) -> Command:
    """A command of ``command_class`` on ``DP-1`` by ``officer-1``, dated :data:`LATER` unless
    the fields say otherwise."""
    fields.setdefault("account_id", ACCOUNT)
    fields.setdefault("actor", ACTOR)
    fields.setdefault("effective_date", LATER)
    return command_class.build(**fields)


def opening(**fields: Any) -> Command:
    """Open ``DP-1`` on :data:`OPENED_ON` (Kent, SOLO, the default policy)."""
    values: dict[str, Any] = {
        "person_ref": "P-77",
        "council": "Kent County Council",
        "provider": "SOLO",
        "effective_date": OPENED_ON,
    }
    values.update(fields)
    return cmd(OpenAccount, **values)


OPENED: tuple[Command, ...] = (opening(),)
"""An open account with nothing in it."""

FUNDED: tuple[Command, ...] = (
    opening(),
    cmd(AgreeBudget, weekly_gross="100.00", weekly_contribution="20.00", effective_date=OPENED_ON),
    cmd(ReceiveCouncilPayment, amount="1000.00", effective_date=OPENED_ON),
    cmd(ReceiveContribution, amount="100.00", effective_date=OPENED_ON),
)
"""``DP-1`` opened and funded as the unit tests' ``funded`` fixture: £1,100.00 in the bank at
version 4, a £100.00 weekly budget with a £20.00 contribution (contingency £800.00)."""


class UnsavedFacts:
    """The facts a decision sees on an account that was never saved: the key index its own
    events claim, and those events."""

    def __init__(self, account: ManagedAccount | None) -> None:
        self.account = account

    def key(self, key: str) -> KeyRecord | None:
        """The record of ``key`` among the account's events (``None``: free)."""
        if self.account is None:
            return None
        found = self.account.pending_key(key)
        return None if found is False else found  # type: ignore[return-value]

    def event(self, version: int) -> Any:
        """The account's event ``version``."""
        if self.account is not None:
            for event in self.account.pending_events:
                if event.originator_version == version:
                    return event
        raise LookupError(f"no event {version}")


def decide(account: ManagedAccount | None, command: Command, *, from_bank: bool = False) -> Any:
    """Run ``command``'s decision on ``account``; returns the account (a new one when the
    command opened it)."""
    result = decision_for(type(command))(
        account, command, Context(command, UnsavedFacts(account), from_bank)
    )
    return result if isinstance(result, ManagedAccount) else account


def alerts_of(account: ManagedAccount | None) -> list[Alert]:
    """Every alert holding for ``account`` now."""
    if account is None:
        return []
    return [alert for rule in ALERT_RULES for alert in rule(account)]


@dataclass
class Outcome:
    """What one command did to the account given before it."""

    account: ManagedAccount | None
    command: Command
    events: list[AccountEvent] = field(default_factory=list)
    error: DpledgerError | None = None
    alerts: list[Alert] = field(default_factory=list)
    """The alerts the command raised (holding after it, not before)."""
    changed_state: bool = False
    """Whether a refused command changed the account's state all the same."""

    def then(self, *expected: type[AccountEvent]) -> list[AccountEvent]:
        """Assert that the command recorded events of exactly these classes, in order; returns
        them. A refusal is re-raised, so an unexpected error reads as itself."""
        if self.error is not None:
            raise self.error
        assert [type(e) for e in self.events] == list(expected), (
            f"{type(self.command).__name__} recorded {[type(e).__name__ for e in self.events]}"
        )
        return self.events

    def event(self, expected: type[AccountEvent], **fields: Any) -> AccountEvent:
        """Assert that the command recorded one event of ``expected`` with these fields."""
        (event,) = self.then(expected)
        for name, value in fields.items():
            assert getattr(event, name) == value, f"{expected.__name__}.{name}"
        return event

    def refused(self, expected: type[DpledgerError], match: str | None = None) -> DpledgerError:
        """Assert that the command was refused with ``expected`` (its text matching ``match``),
        recording nothing and changing nothing; returns the error."""
        assert self.error is not None, (
            f"{type(self.command).__name__} was not refused: it recorded "
            f"{[type(e).__name__ for e in self.events]}"
        )
        if not isinstance(self.error, expected):
            raise AssertionError(f"expected {expected.__name__}, got {self.error!r}")
        if match is not None:
            assert re.search(match, str(self.error)), f"{str(self.error)!r} !~ {match!r}"
        assert not self.events, "a refused command recorded events"
        assert not self.changed_state, "a refused command changed the account's state"
        return self.error


@dataclass
class Given:
    """An account after some commands, ready for the one under test."""

    account: ManagedAccount | None = None

    def when(self, command: Command, *, from_bank: bool = False) -> Outcome:
        """Run ``command`` on the account as it is; later ``when`` calls build on its events."""
        account = self.account
        done = len(account.pending_events) if account is not None else 0
        state = account.dump() if account is not None else None
        before = {alert.key for alert in alerts_of(account)}
        try:
            after = decide(account, command, from_bank=from_bank)
        except DpledgerError as error:
            changed = account is not None and account.dump() != state
            new = account.pending_events[done:] if account is not None else []
            return Outcome(account, command, list(new), error, changed_state=changed)
        self.account = after
        assert after is not None
        new_events = [e for e in after.pending_events[done:] if isinstance(e, AccountEvent)]
        raised = [alert for alert in alerts_of(after) if alert.key not in before]
        return Outcome(after, command, new_events, alerts=raised)

    def after(self, *commands: Command, from_bank: bool = False) -> Given:
        """Run more commands first; each must be recorded."""
        for command in commands:
            outcome = self.when(command, from_bank=from_bank)
            if outcome.error is not None:
                raise AssertionError(
                    f"given {type(command).__name__} was refused: {outcome.error}"
                ) from outcome.error
        return self

    @property
    def version(self) -> int:
        """The account's version now (0 before it is opened)."""
        return 0 if self.account is None else self.account.version


def given(*commands: Command) -> Given:
    """An account after ``commands``, each of which must be recorded."""
    return Given().after(*commands)
