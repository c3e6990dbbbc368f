"""The registry that ties the concerns together: every command with its decision, every event
class, and every alert rule.

Importing this module imports every concern module (:data:`CONCERNS`), whose ``@decides``
decorators register each command's decision. ``tests/unit/test_registry.py`` proves the registry
complete: every event says how it changes the account, whether a correction may reverse it and
how the audit sheet describes it; every command has a decision and a ``Ledger`` method of its
name.

To add an event or a command, see "How to add an event" in ``docs/architecture.md``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from dpledger.domain import (
    account,
    bank,
    careplan,
    compliance,
    corrections,
    funds,
    invoices,
    lifecycle,
    payroll,
    policychanges,
    pooled,
    reconciliation,
    remittances,
    surplus,
    suspense,
    transfers,
)
from dpledger.domain.alerts import AlertRule
from dpledger.domain.commands import DECISIONS, Command, Decide
from dpledger.domain.events import AccountEvent, BankAccountEvent

CONCERNS: tuple[ModuleType, ...] = (
    lifecycle,
    policychanges,
    funds,
    invoices,
    payroll,
    remittances,
    suspense,
    surplus,
    corrections,
    careplan,
    bank,
    pooled,
    transfers,
)
"""The modules of the write side's concerns, each with its commands, events and rules."""

ALERT_RULES: tuple[AlertRule, ...] = (
    invoices.rate_alerts,
    careplan.care_plan_alerts,
    reconciliation.schedule_alerts,
    compliance.compliance_alerts,
)
"""Every alert rule (see :mod:`dpledger.domain.alerts`)."""

_ = account  # the aggregate registers the opening decision


def _classes(base: type[Any]) -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in CONCERNS:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, base)
                and value is not base
                and value.__module__ == module.__name__
            ):
                if value.__name__ in found and found[value.__name__] is not value:
                    raise TypeError(f"two event or command classes are called {value.__name__}")
                found[value.__name__] = value
    return found


EVENT_CLASSES: dict[str, type[Any]] = {**_classes(AccountEvent), **_classes(BankAccountEvent)}
"""Every event class (of managed accounts and bank accounts), by name."""

ACCOUNT_EVENTS: dict[str, type[AccountEvent]] = _classes(AccountEvent)
"""The events of managed accounts, by name."""

COMMANDS: dict[str, type[Command]] = {c.method: c for c in _classes(Command).values()}
"""Every command class, by the ``Ledger`` method that builds it."""


def decision_for(command_class: type[Command]) -> Decide:
    """The decision of ``command_class``."""
    try:
        return DECISIONS[command_class]
    except KeyError:
        raise TypeError(f"{command_class.__name__} has no decision") from None
