"""What a council decides for an account: payment basis, frequency, contingency, reviews.

Every number a council can set is a policy with a documented default (see docs/model.md); none is a
constant buried in the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from typing import Any

import pydantic

from dpledger.domain.bounds import check_day
from dpledger.domain.errors import ValidationError
from dpledger.domain.money import Money


class PaymentBasis(Enum):
    """Who pays the contribution into the account."""

    NET = "net"
    """Council pays gross minus contribution; the person pays the contribution in (most do)."""
    GROSS = "gross"
    """Council pays the gross budget and invoices the contribution back (e.g. Hartlepool)."""


class PaymentFrequency(Enum):
    """How often the council pays."""

    FOUR_WEEKLY = "four_weekly"
    """13 equal payments a year, in advance."""
    MONTHLY = "monthly"
    """12 payments a year, pro-rated by days."""


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """A council's policy for one account.

    Defaults follow the regulations and common practice: a first review within 6 months of the
    first payment and then at most every 12 months (Care and Support (Direct Payments) Regulations
    2014, reg 7), a contingency of 8 weeks (Richmond, St Helens), net payments every 4 weeks.
    """

    payment_basis: PaymentBasis = PaymentBasis.NET
    frequency: PaymentFrequency = PaymentFrequency.FOUR_WEEKLY
    contingency_weeks: int = 8
    first_review_within_months: int = 6
    review_every_months: int = 12
    contribution_spent_first: bool = False
    """Spend the person's contribution before council money (Gloucestershire)."""
    end_date: date | None = None
    """The date the Direct Payment ends, when known; payments for later periods are returnable."""
    low_balance_weeks: int = 2
    """Warn when the bank holds less than this many weeks of the gross budget (0: never)."""
    contribution_shortfall_weeks: int = 4
    """Warn when contributions due exceed those received by more than this many weeks' worth
    (people pay at least every 4 weeks: Gloucestershire)."""
    missing_payment_margin_days: int = 5
    """An expected payment is missing once this many days pass after its due date."""
    match_tolerance_pence: int = 0
    """How far (in pence) a bank line may be from an expected council payment, contribution or
    liability and still be matched to it, the reason stating the difference (0: exact amounts
    only; at most :data:`MAX_MATCH_TOLERANCE_PENCE`). The bank's amount is what is recorded."""

    def __post_init__(self) -> None:
        _range("contingency_weeks", self.contingency_weeks, 0, 26)
        _range("first_review_within_months", self.first_review_within_months, 1, 6)
        _range("review_every_months", self.review_every_months, 1, 12)
        _range("low_balance_weeks", self.low_balance_weeks, 0, 26)
        _range("contribution_shortfall_weeks", self.contribution_shortfall_weeks, 0, 26)
        _range("missing_payment_margin_days", self.missing_payment_margin_days, 0, 60)
        _range("match_tolerance_pence", self.match_tolerance_pence, 0, MAX_MATCH_TOLERANCE_PENCE)
        if not isinstance(self.payment_basis, PaymentBasis):
            raise ValidationError("must be 'net' or 'gross'", field="policy.payment_basis")
        if not isinstance(self.frequency, PaymentFrequency):
            raise ValidationError("must be 'four_weekly' or 'monthly'", field="policy.frequency")

    @classmethod
    def preset(cls, name: str) -> AccountPolicy:
        """The policy of the named council preset (see :data:`PRESETS`): ``AccountPolicy.preset(
        "st_helens")``; an unknown name is a :class:`ValidationError` listing the known ones."""
        return preset(name).policy

    def contingency(self, weekly_gross: Money) -> Money:
        """The balance the account may keep: contingency weeks of the gross weekly budget."""
        return weekly_gross * self.contingency_weeks

    @property
    def match_tolerance(self) -> Money:
        """:attr:`match_tolerance_pence` as money."""
        return Money(self.match_tolerance_pence)

    def stored_fields(self) -> dict[str, Any]:
        """The fields as stored and digested: a field of :data:`LATER_FIELDS` only when it is
        set to something other than the default an older record means, so a policy stored
        before the field existed encodes (and digests) byte for byte as it did."""
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in LATER_FIELDS or getattr(self, name) != LATER_FIELDS[name]
        }


MAX_MATCH_TOLERANCE_PENCE = 10_000
"""The most a council may let a bank line differ from what is expected: £100.00."""

LATER_FIELDS: dict[str, object] = {"match_tolerance_pence": 0}
"""Policy fields added after policies were first stored, with the value a record without them
means. The encoders (event store, chain digest, command digest, snapshots) write them only when
set otherwise (:meth:`AccountPolicy.stored_fields`)."""


def _range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"must be a whole number from {low} to {high}, got {value!r}",
            field=f"policy.{name}",
            fix=_FIXES.get(name.split("_")[0], ""),
        )


_FIXES = {
    "first": "the regulations cap reviews at 6 months (first) and 12 months (then)",
    "review": "the regulations cap reviews at 6 months (first) and 12 months (then)",
    "match": "the tolerance is in pence (5 is 5p); 0 matches exact amounts only",
}


def to_policy(value: object) -> AccountPolicy:
    """A policy given as an :class:`AccountPolicy`, a mapping of its fields, the name of a
    council preset (:data:`PRESETS`), or ``None`` (the defaults); unknown fields, and ``True``
    where a number belongs, are refused."""
    if value is None:
        return AccountPolicy()
    if isinstance(value, AccountPolicy):
        return value
    if isinstance(value, str):
        return preset(value).policy
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{value!r} is not a policy",
            field="policy",
            fix="pass an AccountPolicy or a mapping of its fields",
        )
    known = AccountPolicy.__dataclass_fields__
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}",
            field="policy",
            fix=f"use only {', '.join(known)}",
        )
    for name, given in value.items():
        if isinstance(given, bool) and name != "contribution_spent_first":
            # pydantic's lax mode would read True as 1 week
            raise ValidationError(f"{given!r} is not a number", field=f"policy.{name}")
    try:
        policy = _POLICY.validate_python(dict(value))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        inner = first.get("ctx", {}).get("error")
        if isinstance(inner, ValidationError):  # our own check in AccountPolicy.__post_init__
            raise inner from None
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationError(
            first["msg"], field=f"policy.{where}", fix="see docs/model.md for the policy fields"
        ) from None
    if policy.end_date is not None:
        check_day(policy.end_date, "policy.end_date")
    return policy


_POLICY: pydantic.TypeAdapter[AccountPolicy] = pydantic.TypeAdapter(AccountPolicy)


# ---------------------------------------------------------------------------- over time
POLICY_FIELDS: tuple[str, ...] = tuple(AccountPolicy.__dataclass_fields__)
"""Every field of :class:`AccountPolicy`, in order: each may be changed from a date."""


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A change of an account's policy from ``effective_date``: the fields named in ``changed``
    take their values in ``policy`` (the whole policy in force from that date, as recorded);
    the other fields keep whatever was in force before."""

    effective_date: date
    policy: AccountPolicy
    changed: tuple[str, ...]

    def apply_to(self, before: AccountPolicy) -> AccountPolicy:
        """``before`` with this change's fields set."""
        return replace(before, **{name: getattr(self.policy, name) for name in self.changed})


def policy_on(opening: AccountPolicy, changes: Sequence[PolicyChange], day: date) -> AccountPolicy:
    """The policy in force on ``day``: the opening policy with every change effective on or
    before ``day`` applied in date order (changes of one date in the order recorded).

    ``changes`` must be in that order already (:class:`~dpledger.domain.lifecycle.Terms` keeps
    them so)."""
    policy = opening
    for change in changes:
        if change.effective_date > day:
            break
        policy = change.apply_to(policy)
    return policy


def policy_periods(
    opening: AccountPolicy, changes: Sequence[PolicyChange]
) -> list[tuple[date | None, AccountPolicy]]:
    """Each policy in force and the date it took effect (``None``: from the opening), oldest
    first; a change that changes nothing in force by then still starts a period."""
    periods: list[tuple[date | None, AccountPolicy]] = [(None, opening)]
    for change in changes:
        policy = change.apply_to(periods[-1][1])
        if periods[-1][0] == change.effective_date:
            periods[-1] = (change.effective_date, policy)
        else:
            periods.append((change.effective_date, policy))
    return periods


# ---------------------------------------------------------------------------- presets
@dataclass(frozen=True, slots=True)
class CouncilPreset:
    """A council's published Direct Payment rules as a policy: ``sources`` are the pages they
    were read from, ``notes`` what each field set rests on (fields not named keep the
    defaults, which follow the regulations)."""

    name: str
    council: str
    policy: AccountPolicy
    sources: tuple[str, ...]
    notes: str


PRESETS: Mapping[str, CouncilPreset] = {
    preset.name: preset
    for preset in (
        CouncilPreset(
            "regulations",
            "any council (the regulations' limits)",
            AccountPolicy(),
            (
                "https://www.legislation.gov.uk/uksi/2014/2871/regulation/7",
                "https://www.slough.gov.uk/paying-care-support/direct-payments/8",
            ),
            "the defaults: first review within 6 months of the first payment, then at most "
            "every 12 months (reg 7; Slough states the 6 months); net, 4-weekly, 8 weeks' "
            "contingency",
        ),
        CouncilPreset(
            "st_helens",
            "St Helens Borough Council",
            AccountPolicy(contingency_weeks=8),
            ("https://sthelens.gov.uk/article/4464/Recovering-Direct-Payments",),
            "a surplus of more than 8 weeks' funding may be reclaimed (repay within two weeks "
            "of the letter, or future payments are reduced)",
        ),
        CouncilPreset(
            "richmond",
            "London Borough of Richmond upon Thames",
            AccountPolicy(contingency_weeks=8),
            ("https://lawinsider.com/clause/recovery-and-repayments/_1",),
            "the Direct Payment agreement (richmond.gov.uk, quoted there) lets the account keep "
            "up to 8 times the weekly value as a reserve; the excess is recovered",
        ),
        CouncilPreset(
            "gloucestershire",
            "Gloucestershire County Council",
            AccountPolicy(contribution_spent_first=True, contribution_shortfall_weeks=4),
            (
                "https://gloucestershire.gov.uk/health-and-social-care/adult-social-care/"
                "social-care-policies-and-procedures/direct-payments-policy/"
                "when-a-direct-payment-is-agreed",
            ),
            "policy 5.6: the person pays the assessed amount in at no less than 4-weekly "
            "intervals; the council's money starts once the assessed amount is used, and "
            "excess funds remain the council's",
        ),
        CouncilPreset(
            "hampshire",
            "Hampshire County Council (from December 2023)",
            AccountPolicy(frequency=PaymentFrequency.FOUR_WEEKLY),
            (
                "https://www.hants.gov.uk/socialcareandhealth/adultsocialcare/direct-payments/"
                "amounts",
            ),
            "paid in advance every 4 weeks, 13 identical payments a year, from 8 December 2023",
        ),
        CouncilPreset(
            "hampshire_to_november_2023",
            "Hampshire County Council (until November 2023)",
            AccountPolicy(frequency=PaymentFrequency.MONTHLY),
            (
                "https://www.hants.gov.uk/socialcareandhealth/adultsocialcare/direct-payments/"
                "amounts",
            ),
            "paid monthly in advance, by the calendar days in the month, until the last "
            "monthly payment of 31 October 2023 (change_policy moves an account to "
            "'hampshire')",
        ),
        CouncilPreset(
            "hartlepool",
            "Hartlepool Borough Council",
            AccountPolicy(payment_basis=PaymentBasis.GROSS, first_review_within_months=3),
            ("https://www.hartlepool.gov.uk/adult-social-care/monitoring-review-direct-payments",),
            "a review within the first three months, then at least once a year (the page); "
            "the gross basis is from dpledger's domain notes, not stated on that page",
        ),
    )
}
"""Named policies for councils' published rules (``AccountPolicy.preset("st_helens")``, or
``open_account(policy="st_helens")``); see docs/model.md "Policies over time" for the list."""


def preset(name: str) -> CouncilPreset:
    """The council preset called ``name``; an unknown name is a :class:`ValidationError`
    listing the known ones."""
    found = PRESETS.get(name)
    if found is None:
        raise ValidationError(
            f"no council preset is called {name!r}",
            field="policy",
            fix=f"use one of {', '.join(sorted(PRESETS))}, or pass the policy's fields",
        )
    return found
