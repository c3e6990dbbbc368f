"""Alerts: something a person should look at, that the rules let through.

A refused command records nothing; an alert is the other kind of rule. The invoice is recorded
(the agency did bill it) but someone must know that it bills above the agreed rate, or that the
hours exceed the care plan. Each concern states its alert rules as pure functions of the account
(``rate_alerts`` in :mod:`~dpledger.domain.invoices`, ``care_plan_alerts`` in
:mod:`~dpledger.domain.careplan`); a command's :class:`~dpledger.Receipt` carries the alerts it
raised, and the oversight read model shows every alert in force as a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount


@dataclass(frozen=True)
class Alert:
    """An alert that holds: its rule, what it is about, its figures and plain English.

    ``figures`` hold money in pence (ints), dates as ISO text and hours as text, so they store
    exactly; ``message`` names the figures a person needs (who, which document, how much).
    """

    rule: str
    subject: str
    figures: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """What makes two alerts the same."""
        return self.rule, self.subject


AlertRule = Callable[["ManagedAccount"], list[Alert]]
"""A function that lists the alerts holding for an account now."""
