"""The care plan: hours a week of agency support and of PA support, changing over time.

A plan is agreed from a date (reviews change it); every day uses the plan in force that day. The
``care_plan_exceeded`` alert holds when the hours invoiced by agencies, or paid to PAs in wage
runs, for a period exceed the plan's hours for that period: the plan's hours a week x days / 7,
and every document's hours pro-rated by the days it shares with the period. Each alert names the
kind of support, the period, the planned and billed hours and the excess hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationInfo, field_validator

from dpledger.domain.alerts import Alert
from dpledger.domain.bounds import Hours
from dpledger.domain.chart import NO_POSTINGS
from dpledger.domain.commands import Command, Context, decides
from dpledger.domain.errors import ValidationError
from dpledger.domain.events import AccountEvent, NotCorrectable
from dpledger.domain.lifecycle import check_writable
from dpledger.domain.records import InvoiceStatus

if TYPE_CHECKING:
    from dpledger.domain.account import ManagedAccount

_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CarePlanAgreement:
    """The support the care plan provides each week, from ``effective_from``."""

    effective_from: date
    agency_hours_per_week: Decimal
    pa_hours_per_week: Decimal


@dataclass(slots=True)
class CarePlan:
    """The care plans agreed, by the day each took effect."""

    plans: list[CarePlanAgreement] = field(default_factory=list)

    @classmethod
    def empty(cls) -> CarePlan:
        """No plan yet (no alert is raised without one)."""
        return cls()

    def compact(self, cutoff: date) -> None:
        """Keep every plan: a few a year, and each is the plan in force for its days."""

    def in_force(self, day: date) -> CarePlanAgreement | None:
        """The plan in force on ``day``."""
        agreed = [p for p in self.plans if p.effective_from <= day]
        return max(agreed, key=lambda p: p.effective_from) if agreed else None

    def planned_hours(self, kind: str, start: date, end: date) -> Decimal | None:
        """The plan's hours of ``kind`` (``"agency"`` or ``"pa"``) over ``start``..``end``, or
        ``None`` when no plan covers the whole period."""
        total = Decimal(0)
        day = start
        while day <= end:
            plan = self.in_force(day)
            if plan is None:
                return None
            weekly = plan.agency_hours_per_week if kind == "agency" else plan.pa_hours_per_week
            total += weekly / 7
            day += timedelta(days=1)
        return total.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


HOURS_IN_A_WEEK = Decimal(7 * 24)
"""No plan provides more hours of one kind of support a week than a week has."""


class AgreeCarePlan(Command):
    """Agree the care plan's weekly hours of agency and PA support, from ``effective_date``."""

    method: ClassVar[str] = "agree_care_plan"
    raises_alerts: ClassVar[bool] = True
    agency_hours_per_week: Hours
    pa_hours_per_week: Hours

    @field_validator("agency_hours_per_week", "pa_hours_per_week")
    @classmethod
    def _within_a_week(cls, hours: Decimal, info: ValidationInfo) -> Decimal:
        if hours > HOURS_IN_A_WEEK:
            raise ValidationError(
                f"{hours} hours a week is more than the {HOURS_IN_A_WEEK} a week has",
                field=str(info.field_name),
                fix="give the plan's hours for one week",
            )
        return hours


class CarePlanAgreed(AccountEvent):
    """The care plan's weekly hours were agreed, in force from ``effective_date``."""

    agency_hours_per_week: Decimal
    pa_hours_per_week: Decimal

    correction: ClassVar[Any] = NotCorrectable("agree the right plan from the same date")

    def evolve(self, account: ManagedAccount) -> None:
        """The plan from the effective date (agreeing again from the same date replaces it)."""
        plans = [p for p in account.careplan.plans if p.effective_from != self.effective_date]
        plans.append(
            CarePlanAgreement(
                self.effective_date, self.agency_hours_per_week, self.pa_hours_per_week
            )
        )
        account.careplan.plans = sorted(plans, key=lambda p: p.effective_from)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``care plan: 20 agency hours and 10 PA hours a week``."""
        return (
            f"care plan: {details.get('agency_hours_per_week')} agency hours and "
            f"{details.get('pa_hours_per_week')} PA hours a week"
        )


@decides(AgreeCarePlan)
def agree_care_plan(account: ManagedAccount, command: AgreeCarePlan, ctx: Context) -> None:
    """The hours are within a week's (checked when the command is built)."""
    check_writable(account, ctx)
    account.record(
        ctx,
        CarePlanAgreed,
        NO_POSTINGS,
        agency_hours_per_week=command.agency_hours_per_week,
        pa_hours_per_week=command.pa_hours_per_week,
    )


# ---------------------------------------------------------------------------- the alert
def care_plan_alerts(account: ManagedAccount) -> list[Alert]:
    """``care_plan_exceeded``: each period of a recent invoice (agency support) or wage run (PA
    support) whose hours, with the other documents' hours pro-rated to it, exceed the plan."""
    plan = account.careplan
    if not plan.plans:
        return []
    agency = [
        (i.period_start, i.period_end, i.hours)
        for i in account.invoicing.invoices.values()
        if i.status not in (InvoiceStatus.VOIDED, InvoiceStatus.DISPUTED)
    ]
    pa = [(r.period_start, r.period_end, r.hours) for r in account.payroll.wage_runs.values()]
    found = []
    for kind, label, documents in (("agency", "Agency", agency), ("pa", "PA", pa)):
        for start, end in sorted({(s, e) for s, e, _ in documents}):
            planned = plan.planned_hours(kind, start, end)
            if planned is None:
                continue
            billed = _hours_within(documents, start, end)
            excess = billed - planned
            if excess <= 0:
                continue
            found.append(
                Alert(
                    "care_plan_exceeded",
                    f"{kind}:{start.isoformat()}..{end.isoformat()}",
                    {
                        "support": kind,
                        "period_start": start.isoformat(),
                        "period_end": end.isoformat(),
                        "planned_hours": str(planned),
                        "billed_hours": str(billed),
                        "excess_hours": str(excess),
                    },
                    f"{label} support for {start} to {end} comes to {billed} hours, "
                    f"{excess} hours more than the care plan's {planned} for that period. Check "
                    "the hours with the "
                    + ("agency" if kind == "agency" else "PA's timesheets")
                    + ", or ask the council to review the plan.",
                )
            )
    return found


def _hours_within(
    documents: Iterable[tuple[date, date, Decimal]], start: date, end: date
) -> Decimal:
    # Each document's hours spread evenly over its days; count the days it shares with the period.
    total = Decimal(0)
    for first, last, hours in documents:
        shared = (min(end, last) - max(start, first)).days + 1
        if shared > 0:
            total += hours * shared / ((last - first).days + 1)
    return total.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
