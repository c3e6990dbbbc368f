"""Strategies for whole command sequences a ledger accepts, in order, for any policy.

:func:`command_sequences` opens an account (a policy drawn or given), agrees its budget,
registers an agency and a personal assistant, then takes random steps: money in, invoices and
their approval, disputes and payments, weekly wage runs and their payments, care-plan spend,
unexpected income and its resolution, recoupment of surplus, corrections of payments, budget
revisions, reviews, suspension. :func:`account_histories` goes on to settle everything and close
the account. Each step is chosen among those the account allows then, so the ledger never refuses
one: a :class:`~dpledger.testing.model.AccountModel` follows the sequence as it is built.

Shrinking reads well: fewer steps, the first kinds of step (council payments), whole pounds, a
payment of all that is owed, and no days between steps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from dpledger import commands as c
from dpledger.domain.chart import SpendCategory
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy
from dpledger.testing.model import AccountModel
from dpledger.testing.primitives import policies

START = date(2026, 4, 6)
"""The first day of the 2026/27 tax year: sequences start there unless told otherwise."""
AGENCY = "AG-1"
PA = "PA-1"
ACTOR = "property-test"
PA_RATE_PENCE = (1300, 1500)
"""A PA's hourly pay in the sequences: above the National Living Wage (£12.71 in 2026/27)."""
WEEKLY_EMPLOYER_NI_THRESHOLD = 9_600
"""Employer NI is 15% of weekly earnings above £96 (2025/26 and 2026/27)."""


_ONE_MORE = st.sampled_from((False, *(True,) * 11))
"""Whether to take one more step: mostly yes (sequences of about a dozen steps), shrinking to no."""


class _Builder:
    """Builds one sequence step by step, with the model saying what the account allows."""

    def __init__(
        self,
        draw: st.DrawFn,
        account_id: str,
        day: date,
        keys: bool,
        max_days: int,
        policy_changes: bool = False,
    ) -> None:
        self.policy_changes = policy_changes
        self.draw = draw
        self.account_id = account_id
        self.day = day
        self.keys = keys
        self.max_days = max_days
        self.commands: list[c.Command] = []
        self.model: AccountModel | None = None
        self.numbers = 0

    # ------------------------------------------------------------------------- plumbing
    def add(self, command_class: type[c.Command], **fields: Any) -> None:
        meta: dict[str, Any] = {
            "account_id": self.account_id,
            "effective_date": self.day,
            "actor": ACTOR,
        }
        if self.keys:
            meta["idempotency_key"] = f"{self.account_id}-{len(self.commands) + 1}"
        command = command_class(**meta, **fields)
        if self.model is None:
            assert isinstance(command, c.OpenAccount)
            self.model = AccountModel.opened(command)
        else:
            refusal = self.model.run(command)
            assert refusal is None, f"the strategy built a command the ledger refuses: {refusal}"
        self.commands.append(command)

    @property
    def state(self) -> AccountModel:
        assert self.model is not None
        return self.model

    def pounds(self, most: int, least: int = 1) -> Money:
        """An amount that shrinks to whole (and few) pounds."""
        whole = self.draw(st.integers(min_value=least, max_value=most))
        pence = self.draw(st.integers(min_value=0, max_value=99))
        return Money(whole * 100 + pence)

    def up_to(self, limit: int) -> Money:
        """An amount of at most ``limit`` pence (above zero), shrinking to all of it."""
        return Money(limit - self.draw(st.integers(min_value=0, max_value=limit - 1)))

    # ------------------------------------------------------------------------- opening
    def open(self, policy: AccountPolicy) -> None:
        self.add(
            c.OpenAccount,
            person_ref="P-1",
            council="Testshire County Council",
            provider="Managed Account Service",
            policy=policy,
        )
        self.budget()
        self.add(c.RegisterAgency, agency_id=AGENCY, name="Care Agency")
        self.add(c.RegisterPersonalAssistant, pa_id=PA, hourly_rate=Money(PA_RATE_PENCE[0]))

    def budget(self) -> None:
        gross = self.pounds(1_000, least=50)
        share = self.draw(st.integers(min_value=0, max_value=100))
        contribution = Money(gross.pence * share // 100 // 100 * 100)
        self.add(c.AgreeBudget, weekly_gross=gross, weekly_contribution=contribution)

    # ------------------------------------------------------------------------- steps
    def steps(self) -> list[tuple[Callable[[], bool], Callable[[], None]]]:
        """(allowed now?, take it), in shrinking order: the first is the simplest."""
        m = self.state
        approved = [k for k, i in m.invoices.items() if i.status == "approved"]
        return [
            (lambda: True, self.council_payment),
            (lambda: True, self.contribution),
            (lambda: m.bank > 0, self.care_plan_spend),
            (lambda: True, self.invoice),
            (lambda: any(i.status in ("received", "disputed") for i in m.invoices.values()),
             self.approve),
            (lambda: m.bank > 0 and bool(approved), self.pay_invoice),
            (lambda: any(i.status in ("received", "approved") and not i.paid
                         for i in m.invoices.values()), self.dispute),
            (lambda: self.next_pay_period() is not None, self.wage_run),
            (lambda: m.bank > 0 and m.owes(f"pa:{PA}") > 0, self.pay_wages),
            (lambda: m.bank > 0 and m.owes("hmrc") > 0, self.pay_hmrc),
            (lambda: True, self.unexpected_income),
            (lambda: bool(m.suspense), self.resolve_suspense),
            (lambda: m.recoverable(self.day) > 0, self.recoup),
            (lambda: m.bank > 0 and m.owes("council") > 0, self.repay_recoupment),
            (lambda: bool(m.payments), self.correct_payment),
            (lambda: True, self.budget),
            (lambda: True, self.review),
            (lambda: True, self.suspend_or_resume),
            (lambda: True, self.care_plan),
            (lambda: self.policy_changes, self.change_policy),
        ]  # fmt: skip

    def steps_until_done(self, most: int) -> None:
        """Up to ``most`` steps; "one more?" is drawn before each, so a step anywhere can be
        shrunk away (as hypothesis shrinks a list)."""
        for _ in range(most):
            if not self.draw(_ONE_MORE):
                return
            self.step()

    def step(self) -> None:
        self.day += timedelta(days=self.draw(st.integers(min_value=0, max_value=self.max_days)))
        allowed = [take for can, take in self.steps() if can()]
        self.draw(st.sampled_from(allowed))()

    def council_payment(self) -> None:
        self.add(c.ReceiveCouncilPayment, amount=self.pounds(2_000))

    def contribution(self) -> None:
        self.add(c.ReceiveContribution, amount=self.pounds(200))

    def care_plan_spend(self) -> None:
        self.add(
            c.PayCarePlanSpend,
            category=self.draw(st.sampled_from(SpendCategory)),
            amount=self.up_to(min(self.state.bank, 50_000)),
            description="insurance",
        )

    def invoice(self) -> None:
        self.numbers += 1
        hours = Decimal(self.draw(st.integers(min_value=4, max_value=160))) / 4
        rate = self.pounds(30, least=15)
        exact = hours * rate.pence
        total = Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        self.add(
            c.ReceiveInvoice,
            agency_id=AGENCY,
            invoice_number=f"INV-{self.numbers}",
            period_start=max(self.state.opened_on, self.day - timedelta(days=27)),
            period_end=self.day,
            hours=hours,
            rate=rate,
            total=total,
        )

    def _invoice_number(self, *statuses: str, unpaid: bool = False) -> str:
        keys = [
            key
            for key, invoice in self.state.invoices.items()
            if invoice.status in statuses and not (unpaid and invoice.paid)
        ]
        return self.draw(st.sampled_from(keys)).split("/", 1)[1]

    def approve(self) -> None:
        number = self._invoice_number("received", "disputed")
        self.add(c.ApproveInvoice, agency_id=AGENCY, invoice_number=number)

    def dispute(self) -> None:
        number = self._invoice_number("received", "approved", unpaid=True)
        self.add(c.DisputeInvoice, agency_id=AGENCY, invoice_number=number, reason="hours wrong")

    def pay_invoice(self) -> None:
        number = self._invoice_number("approved")
        owed = self.state.owes(f"inv:{AGENCY}/{number}")
        self.add(
            c.PayInvoice,
            agency_id=AGENCY,
            invoice_number=number,
            amount=self.up_to(min(owed, self.state.bank)),
        )

    def next_pay_period(self) -> tuple[date, date] | None:
        last = self.state.personal_assistants.get(PA)
        start = self.state.opened_on if last is None else last + timedelta(days=1)
        end = start + timedelta(days=6)
        return (start, end) if end <= self.day else None

    def wage_run(self) -> None:
        period = self.next_pay_period()
        assert period is not None
        hours = self.draw(st.integers(min_value=1, max_value=12))
        rate = self.draw(st.integers(min_value=PA_RATE_PENCE[0], max_value=PA_RATE_PENCE[1]))
        gross = hours * rate
        employer_ni = max(0, gross - WEEKLY_EMPLOYER_NI_THRESHOLD) * 15 // 100
        zero = Money(0)
        self.add(
            c.RecordWageRun,
            pa_id=PA,
            period_start=period[0],
            period_end=period[1],
            hours=Decimal(hours),
            gross=Money(gross),
            paye=zero,
            employee_ni=zero,
            employer_ni=Money(employer_ni),
            employee_pension=zero,
            employer_pension=zero,
            net=Money(gross),
        )

    def pay_wages(self) -> None:
        owed = self.state.owes(f"pa:{PA}")
        self.add(c.PayNetWages, pa_id=PA, amount=self.up_to(min(owed, self.state.bank)))

    def pay_hmrc(self) -> None:
        owed = self.state.owes("hmrc")
        self.add(c.PayHmrc, amount=self.up_to(min(owed, self.state.bank)))

    def unexpected_income(self) -> None:
        self.add(c.ReceiveUnexpectedIncome, amount=self.pounds(100), description="unknown credit")

    def resolve_suspense(self) -> None:
        item = self.draw(st.sampled_from(self.state.held_items()))
        how = self.draw(st.sampled_from(["council", "contribution", "keep", "refund"]))
        if how == "refund" and self.state.suspense[item] <= self.state.bank:
            self.add(c.RefundUnexpectedIncome, item_id=item)
        elif how == "keep":
            self.add(c.KeepUnexpectedIncome, item_id=item, reason="a gift, kept")
        else:
            classified = "contribution" if how == "contribution" else "council"
            self.add(c.ClassifyUnexpectedIncome, item_id=item, classified_as=classified)

    def recoup(self) -> None:
        self.add(c.DemandRecoupment, amount=self.up_to(self.state.recoverable(self.day)))

    def repay_recoupment(self) -> None:
        owed = self.state.owes("council")
        self.add(c.RepayRecoupment, amount=self.up_to(min(owed, self.state.bank)))

    def correct_payment(self) -> None:
        version = self.draw(st.sampled_from(sorted(self.state.payments)))
        self.add(c.Correct, version=version, reason="paid in error")

    def review(self) -> None:
        self.add(c.RecordReview)

    def suspend_or_resume(self) -> None:
        if self.state.status == "open":
            self.add(c.Suspend, reason="paperwork late")
        else:
            self.add(c.Resume)

    def care_plan(self) -> None:
        agency = Decimal(self.draw(st.integers(min_value=0, max_value=40)))
        pa = Decimal(self.draw(st.integers(min_value=0, max_value=40)))
        self.add(c.AgreeCarePlan, agency_hours_per_week=agency, pa_hours_per_week=pa)

    def change_policy(self) -> None:
        """A council's review changes the contingency, or which money is spent first, from
        today (a change to what is already in force is not drawn: the ledger refuses it)."""
        policy = self.state.policy_on(self.day)
        if self.draw(st.booleans()):
            weeks = self.draw(st.integers(min_value=0, max_value=12))
            if weeks != policy.contingency_weeks:
                self.add(c.ChangePolicy, contingency_weeks=weeks, reason="annual review")
                return
        self.add(
            c.ChangePolicy,
            contribution_spent_first=not policy.contribution_spent_first,
            reason="annual review",
        )

    # ------------------------------------------------------------------------- closing
    def close(self) -> None:
        """Settle everything (suspense classified, every debt paid, topped up by the council
        if the bank is short) and close the account."""
        self.day += timedelta(days=self.draw(st.integers(min_value=0, max_value=self.max_days)))
        m = self.state
        for item in m.held_items():
            self.add(c.ClassifyUnexpectedIncome, item_id=item, classified_as="council")
        if m.bank < m.total_owed():
            self.add(c.ReceiveCouncilPayment, amount=Money(m.total_owed() - m.bank))
        for key, owed in sorted(m.owed.items()):
            if key.startswith("inv:"):
                agency, number = key[4:].split("/", 1)
                fields: dict[str, Any] = {"agency_id": agency, "invoice_number": number}
                self.add(c.PayInvoice, amount=Money(owed), **fields)
            elif key.startswith("pa:"):
                self.add(c.PayNetWages, pa_id=key[3:], amount=Money(owed))
            else:
                paying = {"hmrc": c.PayHmrc, "pension": c.PayPension}
                self.add(paying.get(key, c.RepayRecoupment), amount=Money(owed))
        self.add(c.CloseAccount)


def _policy(
    draw: st.DrawFn, policy: AccountPolicy | st.SearchStrategy[AccountPolicy] | None
) -> Any:
    if policy is None:
        return draw(policies())
    if isinstance(policy, AccountPolicy):
        return policy
    return draw(policy)


@st.composite
def command_sequences(
    draw: st.DrawFn,
    policy: AccountPolicy | st.SearchStrategy[AccountPolicy] | None = None,
    *,
    account_id: str = "DP-1",
    start: date = START,
    max_steps: int = 20,
    max_days_between: int = 7,
    idempotency_keys: bool = True,
    policy_changes: bool = False,
) -> list[c.Command]:
    """A list of ``dpledger.commands`` a fresh ledger accepts in order, without one refusal.

    It opens ``account_id`` on ``start`` with ``policy`` (an ``AccountPolicy``, a strategy of
    them, or any policy), agrees a budget, registers agency ``AG-1`` and PA ``PA-1``, then takes
    up to ``max_steps`` random steps, 0 to ``max_days_between`` days apart. Each command has an
    idempotency key (``DP-1-7``) unless ``idempotency_keys`` is false. With ``policy_changes``,
    steps include council reviews that change the contingency or the spending order from a date
    (``ChangePolicy``); without, the policy stays the one the account opened with.
    """
    builder = _Builder(draw, account_id, start, idempotency_keys, max_days_between, policy_changes)
    builder.open(_policy(draw, policy))
    builder.steps_until_done(max_steps)
    return builder.commands


@st.composite
def account_histories(
    draw: st.DrawFn,
    policy: AccountPolicy | st.SearchStrategy[AccountPolicy] | None = None,
    *,
    account_id: str = "DP-1",
    start: date = START,
    max_steps: int = 20,
    max_days_between: int = 7,
    idempotency_keys: bool = True,
    policy_changes: bool = False,
) -> list[c.Command]:
    """A whole account's life, from ``OpenAccount`` to ``CloseAccount``: the steps of
    :func:`command_sequences` (``policy_changes`` as there), then everything settled (suspense
    classified, every debt paid, the council topping up the bank if it is short) and the account
    closed. The ledger accepts every command; the close returns the bank balance, leaving it at
    zero."""
    builder = _Builder(draw, account_id, start, idempotency_keys, max_days_between, policy_changes)
    builder.open(_policy(draw, policy))
    builder.steps_until_done(max_steps)
    builder.close()
    return builder.commands
