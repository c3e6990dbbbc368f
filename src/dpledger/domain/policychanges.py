"""Policies over time: a council changes an account's policy from a date.

``ChangePolicy`` names the fields that change (any field of
:class:`~dpledger.domain.policy.AccountPolicy`; the others keep what is in force) and the date
they apply from. Its event, ``PolicyChanged``, records the whole policy in force from that date
and the names of the fields it changed; the account keeps every change
(:attr:`~dpledger.domain.lifecycle.Terms.policy_changes`) and each rule asks for the policy in
force on the day it is about (:meth:`~dpledger.domain.lifecycle.Terms.policy_on`).

A change sets only the fields it names: one dated between two others sets its fields until a
later change sets them again. A change that changes nothing in force on its date is refused
(``InvalidTransition``), so a retry without an idempotency key records nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, ValidationInfo

from dpledger.domain.chart import NO_POSTINGS
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import InvalidTransition, ValidationError
from dpledger.domain.events import AccountEvent, NotCorrectable
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.policy import (
    LATER_FIELDS,
    POLICY_FIELDS,
    AccountPolicy,
    PaymentBasis,
    PaymentFrequency,
    PolicyChange,
    to_policy,
)

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount


def _checked(value: Any, info: ValidationInfo) -> Any:
    """The check of one changed field: the policy's own (range, type, bounds), the message
    naming the field; ``None`` means unchanged."""
    name = info.field_name
    if value is None or name is None:
        return value
    return getattr(to_policy({name: value}), name)


CHECKED = BeforeValidator(_checked)


class ChangePolicy(Command):
    """Change the account's policy from ``effective_date``: each field given (not ``None``)
    takes the new value; the others keep what is in force. ``clear_end_date`` removes the end
    date."""

    method: ClassVar[str] = "change_policy"
    payment_basis: Annotated[PaymentBasis | None, CHECKED] = None
    frequency: Annotated[PaymentFrequency | None, CHECKED] = None
    contingency_weeks: Annotated[int | None, CHECKED] = None
    first_review_within_months: Annotated[int | None, CHECKED] = None
    review_every_months: Annotated[int | None, CHECKED] = None
    contribution_spent_first: Annotated[bool | None, CHECKED] = None
    end_date: Annotated[date | None, CHECKED] = None
    low_balance_weeks: Annotated[int | None, CHECKED] = None
    contribution_shortfall_weeks: Annotated[int | None, CHECKED] = None
    missing_payment_margin_days: Annotated[int | None, CHECKED] = None
    match_tolerance_pence: Annotated[int | None, CHECKED] = None
    clear_end_date: bool = False
    """Remove the end date (the Direct Payment no longer ends on a known date)."""

    def changes(self) -> dict[str, Any]:
        """The fields this command sets, by name (``end_date`` ``None`` when cleared)."""
        given = {name: getattr(self, name) for name in POLICY_FIELDS}
        found = {name: value for name, value in given.items() if value is not None}
        if self.clear_end_date:
            found["end_date"] = None
        return found


class PolicyChanged(AccountEvent):
    """The council changed the account's policy from ``effective_date``: the fields named in
    ``changed`` take their values in ``policy``, the whole policy in force from that date as
    recorded."""

    policy: AccountPolicy
    changed: list[str]

    correction: ClassVar[NotCorrectable] = NotCorrectable(
        "a policy change is put right by another change_policy from the same date"
    )

    def evolve(self, account: ManagedAccount) -> None:
        """One more change, in effective-date order."""
        account.terms.add_policy_change(
            PolicyChange(self.effective_date, self.policy, tuple(self.changed))
        )

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``policy changed: contingency_weeks 4, frequency monthly``."""
        policy = details.get("policy")
        values = policy if isinstance(policy, Mapping) else {}
        shown = [
            f"{name} {_shown(name, values.get(name, LATER_FIELDS.get(name)))}"
            for name in details.get("changed") or ()
        ]
        return f"policy changed: {', '.join(shown) or 'no field'}"


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "removed (no end date)" if name == "end_date" else "unset"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, PaymentBasis | PaymentFrequency):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@decides(ChangePolicy)
def change_policy(account: ManagedAccount, command: ChangePolicy, ctx: Context) -> None:
    """The change is dated on or after the opening (:func:`check_writable`), names at least one
    field, leaves a valid policy, and changes something in force on its date; an end date is
    neither before the opening nor before the change takes effect."""
    check_writable(account, ctx)
    day, terms = ctx.effective_date, account.terms
    given = command.changes()
    if command.clear_end_date and command.end_date is not None:
        raise ValidationError(
            "sets an end date and clears it",
            field="clear_end_date",
            account_id=account.account_id,
            fix="pass end_date= to set one, or clear_end_date=True to remove it, not both",
        )
    if not given:
        raise ValidationError(
            "names no policy field to change",
            field="policy",
            account_id=account.account_id,
            fix=f"pass the fields that change, among {', '.join(POLICY_FIELDS)}",
        )
    end = given.get("end_date")
    if end is not None and end < terms.opened_on:
        raise ValidationError(
            f"{end} is before the account was opened ({terms.opened_on})",
            field="end_date",
            account_id=account.account_id,
            fix=f"an end date on or after {terms.opened_on}",
        )
    if end is not None and end < day:
        raise ValidationError(
            f"{end} is before the change takes effect ({day})",
            field="end_date",
            account_id=account.account_id,
            fix=f"date the change on or before {end}: the Direct Payment ends from the day "
            "the decision applies",
        )
    in_force = terms.policy_on(day)
    changed = [name for name, value in given.items() if getattr(in_force, name) != value]
    if not changed:
        said = ", ".join(f"{name} {_shown(name, value)}" for name, value in given.items())
        raise InvalidTransition(
            f"the policy in force on {day} already has {said}",
            account_id=account.account_id,
            fix="nothing to do; a change names a field with another value",
        )
    policy = replace(in_force, **{name: given[name] for name in changed})
    account.record(ctx, PolicyChanged, NO_POSTINGS, policy=policy, changed=changed)
