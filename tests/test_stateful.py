"""Random command sequences against a simple model (hypothesis RuleBasedStateMachine).

After every step: postings sum to zero; bank = opening + money in - money out; the library never
took the bank below zero; reloading the account from the store (events, and snapshots) gives the
same state; idempotent retries change nothing; and the ledger agrees with the model.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from dpledger import Ledger, LedgerAccount, Money
from dpledger.domain.account import ManagedAccount, account_uuid
from dpledger.errors import (
    DpledgerError,
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    SurplusExceeded,
)
from dpledger.ledger import Receipt
from dpledger.testing import check_account_invariants
from dpledger.testing import strategies as dps

ACCOUNT = "DP-STATE"
ACTOR = "stateful-test"
START = date(2026, 4, 6)


@dataclass
class Model:
    """What a careful clerk with a calculator would expect."""

    bank: int = 0
    money_in: int = 0
    money_out: int = 0
    owed: dict[str, int] = field(default_factory=dict)
    invoices: dict[str, list[Any]] = field(default_factory=dict)  # key -> [total, status, paid]
    suspense: dict[str, int] = field(default_factory=dict)
    weekly_gross: int = 0
    contingency_weeks: int = 8
    contribution_spent_first: bool = False

    def owe(self, what: str, pence: int) -> None:
        self.owed[what] = self.owed.get(what, 0) + pence

    def total_owed(self) -> int:
        return sum(self.owed.values())

    def surplus(self) -> int:
        return max(0, self.bank - self.total_owed() - self.weekly_gross * self.contingency_weeks)


class LedgerMachine(RuleBasedStateMachine):
    """Drives the Ledger with random commands and checks it against the model."""

    invoices = Bundle("invoices")
    paid_events = Bundle("paid_events")
    suspense_items = Bundle("suspense_items")

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.make_ledger()
        self.model = Model()
        self.day = START
        self.counter = 0
        self.last: tuple[str, dict[str, Any], Receipt] | None = None
        self.snapshot_version = 0

    def make_ledger(self) -> Ledger:
        """The ledger under test: in memory (events still go through the store's encoding)."""
        return Ledger.in_memory()

    def reopened(self) -> Ledger | None:
        """A second ledger on the same store, for reload checks (None: the store is in-process)."""
        return None

    def teardown(self) -> None:
        self.ledger.close()

    # ----------------------------------------------------------------- helpers
    def _when(self) -> dict[str, Any]:
        self.day += timedelta(days=1)
        return {"effective_date": self.day, "actor": ACTOR}

    def _key(self) -> str:
        self.counter += 1
        return f"k{self.counter}"

    def _run(self, command: str, **kwargs: Any) -> Receipt:
        kwargs.setdefault("idempotency_key", self._key())
        receipt: Receipt = getattr(self.ledger, command)(ACCOUNT, **kwargs)
        self.last = (command, kwargs, receipt)
        return receipt

    def _expect_refusal(self, error: type[DpledgerError], command: str, **kwargs: Any) -> None:
        before = self.ledger.load(ACCOUNT).version
        with pytest.raises(error):
            self._run(command, **kwargs)
        assert self.ledger.load(ACCOUNT).version == before, "a refused command recorded something"

    def _pay(self, command: str, pence: int, owed_key: str | None, **kwargs: Any) -> bool:
        """Pay ``pence`` if the model says it can; else check the ledger refuses it."""
        owed = self.model.owed.get(owed_key, 0) if owed_key else None
        if owed is not None and pence > owed:
            self._expect_refusal(Overpayment, command, amount=Money(pence), **kwargs)
            return False
        if pence > self.model.bank:
            before = self.ledger.load(ACCOUNT).version
            with pytest.raises(InsufficientFunds) as refused:
                self._run(command, amount=Money(pence), **kwargs)
            assert refused.value.shortfall == Money(pence - self.model.bank)
            assert self.ledger.load(ACCOUNT).version == before
            return False
        self._run(command, amount=Money(pence), **kwargs)
        self.model.bank -= pence
        self.model.money_out += pence
        if owed_key:
            self.model.owe(owed_key, -pence)
        return True

    # ----------------------------------------------------------------- rules
    @initialize(
        policy=dps.policies(),
        budget=dps.budgets(max_weekly_pence=100_000),
    )
    def open_account(self, policy: Any, budget: dps.BudgetFigures) -> None:
        self.ledger.open_account(
            ACCOUNT,
            person_ref="P-1",
            council="Testshire",
            provider="Provider",
            policy=policy,
            **self._when(),
        )
        self._run(
            "agree_budget",
            weekly_gross=budget.weekly_gross,
            weekly_contribution=budget.weekly_contribution,
            **self._when(),
        )
        self.model.weekly_gross = budget.weekly_gross.pence
        self.model.contingency_weeks = policy.contingency_weeks
        self.model.contribution_spent_first = policy.contribution_spent_first
        self._run("register_agency", agency_id="AG", name="Agency", **self._when())
        self._run("register_personal_assistant", pa_id="PA", hourly_rate="12.21", **self._when())

    @rule(amount=dps.money(1, 500_000))
    def council_payment(self, amount: Money) -> None:
        self._run("receive_council_payment", amount=amount, **self._when())
        self.model.bank += amount.pence
        self.model.money_in += amount.pence

    @rule(amount=dps.money(1, 100_000))
    def contribution(self, amount: Money) -> None:
        self._run("receive_contribution", amount=amount, **self._when())
        self.model.bank += amount.pence
        self.model.money_in += amount.pence

    @rule(target=suspense_items, amount=dps.money(1, 100_000))
    def unexpected_income(self, amount: Money) -> str:
        receipt = self._run(
            "receive_unexpected_income", amount=amount, description="unknown", **self._when()
        )
        self.model.bank += amount.pence
        self.model.money_in += amount.pence
        item_id = receipt.item_id
        assert item_id is not None
        self.model.suspense[item_id] = amount.pence
        return item_id

    @rule(item=consumes(suspense_items), how=st.sampled_from(["council", "keep", "refund"]))
    def resolve_suspense(self, item: str, how: str) -> None:
        if item not in self.model.suspense:
            return
        pence = self.model.suspense[item]
        if how == "council":
            self._run(
                "classify_unexpected_income", item_id=item, classified_as="council", **self._when()
            )
        elif how == "keep":
            self._run("keep_unexpected_income", item_id=item, reason="donation", **self._when())
        else:
            if pence > self.model.bank:
                self._expect_refusal(
                    InsufficientFunds, "refund_unexpected_income", item_id=item, **self._when()
                )
                return
            self._run("refund_unexpected_income", item_id=item, **self._when())
            self.model.bank -= pence
            self.model.money_out += pence
        del self.model.suspense[item]

    @rule(target=invoices, figures=dps.invoice_figures(max_rate_pence=4_000))
    def invoice(self, figures: dps.InvoiceFigures) -> str:
        number = f"INV-{self.counter}"
        start = self.day
        self._run(
            "receive_invoice",
            agency_id="AG",
            invoice_number=number,
            period_start=start,
            period_end=start + timedelta(days=27),
            hours=figures.hours,
            rate=figures.rate,
            total=figures.total,
            **self._when(),
        )
        self.model.invoices[number] = [figures.total.pence, "received", 0]
        return number

    @rule(number=invoices)
    def approve(self, number: str) -> None:
        total, status, _ = self.model.invoices[number]
        if status not in ("received", "disputed"):
            self._expect_refusal(
                InvalidTransition,
                "approve_invoice",
                agency_id="AG",
                invoice_number=number,
                **self._when(),
            )
            return
        self._run("approve_invoice", agency_id="AG", invoice_number=number, **self._when())
        self.model.invoices[number][1] = "approved"
        self.model.owe(f"inv:{number}", total)

    @rule(number=invoices)
    def dispute(self, number: str) -> None:
        total, status, paid = self.model.invoices[number]
        if status not in ("received", "approved") or paid:
            self._expect_refusal(
                InvalidTransition,
                "dispute_invoice",
                agency_id="AG",
                invoice_number=number,
                reason="hours wrong",
                **self._when(),
            )
            return
        self._run(
            "dispute_invoice",
            agency_id="AG",
            invoice_number=number,
            reason="hours wrong",
            **self._when(),
        )
        if status == "approved":
            self.model.owe(f"inv:{number}", -total)
        self.model.invoices[number][1] = "disputed"

    @rule(target=paid_events, number=invoices, part=st.integers(min_value=1, max_value=100))
    def pay_invoice(self, number: str, part: int) -> int:
        total, status, paid = self.model.invoices[number]
        if status != "approved":
            self._expect_refusal(
                InvalidTransition,
                "pay_invoice",
                agency_id="AG",
                invoice_number=number,
                amount=Money(1),
                **self._when(),
            )
            return 0
        pence = max(1, (total - paid) * part // 100)
        if self._pay(
            "pay_invoice",
            pence,
            f"inv:{number}",
            agency_id="AG",
            invoice_number=number,
            **self._when(),
        ):
            self.model.invoices[number][2] += pence
            if self.model.invoices[number][2] == total:
                self.model.invoices[number][1] = "paid"
            assert self.last is not None
            return self.last[2].version
        return 0

    @rule(slip=dps.payslips(max_gross_pence=200_000))
    def wage_run(self, slip: dps.PayslipFigures) -> None:
        start = self.day
        self._run(
            "record_wage_run",
            pa_id="PA",
            period_start=start,
            period_end=start + timedelta(days=27),
            hours=slip.hours,
            gross=slip.gross,
            paye=slip.paye,
            employee_ni=slip.employee_ni,
            employer_ni=slip.employer_ni,
            employee_pension=slip.employee_pension,
            employer_pension=slip.employer_pension,
            net=slip.net,
            **self._when(),
        )
        self.model.owe("pa", slip.net.pence)
        self.model.owe("hmrc", (slip.paye + slip.employee_ni + slip.employer_ni).pence)
        self.model.owe("pension", (slip.employee_pension + slip.employer_pension).pence)

    @rule(
        target=paid_events,
        what=st.sampled_from(["pa", "hmrc", "pension"]),
        part=st.integers(min_value=1, max_value=120),
    )
    def pay_payroll(self, what: str, part: int) -> int:
        owed = self.model.owed.get(what, 0)
        pence = max(1, owed * part // 100)
        command = {"pa": "pay_net_wages", "hmrc": "pay_hmrc", "pension": "pay_pension"}[what]
        extra = {"pa_id": "PA"} if what == "pa" else {}
        if self._pay(command, pence, what, **extra, **self._when()):
            assert self.last is not None
            return self.last[2].version
        return 0

    @rule(target=paid_events, amount=dps.money(1, 300_000))
    def care_plan_spend(self, amount: Money) -> int:
        if self._pay(
            "pay_care_plan_spend",
            amount.pence,
            None,
            category="insurance",
            description="insurance",
            **self._when(),
        ):
            assert self.last is not None
            return self.last[2].version
        return 0

    @rule(part=st.integers(min_value=1, max_value=150))
    def recoup(self, part: int) -> None:
        available = self.model.surplus()
        if self.model.contribution_spent_first:
            # Contribution spent first: the council recovers at most its own unspent money. The
            # inputs are sums of postings (checked by the invariants); the rule is restated here.
            balances = self.ledger.balances(ACCOUNT)
            council = -balances[LedgerAccount.COUNCIL_INCOME].pence
            contributions = -balances[LedgerAccount.CONTRIBUTION_INCOME].pence
            spent = sum(m.pence for a, m in balances.items() if a.kind == "expenses")
            available = max(0, min(available, council - max(0, spent - contributions)))
        pence = max(1, available * part // 100)
        if pence > available:
            self._expect_refusal(
                SurplusExceeded, "demand_recoupment", amount=Money(pence), **self._when()
            )
            return
        self._run("demand_recoupment", amount=Money(pence), **self._when())
        self.model.owe("council", pence)

    @rule(version=consumes(paid_events))
    def correct_payment(self, version: int) -> None:
        # Reversing a payment puts the money back in the bank and the debt back on the books.
        if version == 0:
            return
        receipt = self._run("correct", version=version, reason="paid in error", **self._when())
        back = receipt.postings.effect_on(LedgerAccount.BANK)
        assert back > 0
        self.model.bank += back
        self.model.money_in += back
        target = self.ledger.events(ACCOUNT)[version - 1]
        for line in target.postings:
            if line.account.kind == "liabilities":
                owed_key = self._owed_key(target, line.account)
                self.model.owe(owed_key, line.amount.pence)
                if owed_key.startswith("inv:"):
                    invoice = self.model.invoices[owed_key[4:]]
                    invoice[2] -= line.amount.pence
                    invoice[1] = "approved"

    @staticmethod
    def _owed_key(event: Any, account: LedgerAccount) -> str:
        if account is LedgerAccount.AGENCY_PAYABLE:
            return f"inv:{event.invoice_number}"
        return {
            LedgerAccount.PA_NET_WAGES_PAYABLE: "pa",
            LedgerAccount.HMRC_PAYABLE: "hmrc",
            LedgerAccount.PENSION_PAYABLE: "pension",
            LedgerAccount.COUNCIL_PAYABLE: "council",
        }[account]

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_last_command(self) -> None:
        assert self.last is not None
        command, kwargs, receipt = self.last
        before = self.ledger.load(ACCOUNT)
        again: Receipt = getattr(self.ledger, command)(ACCOUNT, **kwargs)
        assert again.replayed
        assert again.version == receipt.version
        assert self.ledger.load(ACCOUNT) == before

    @rule()
    def snapshot(self) -> None:
        version = self.ledger.load(ACCOUNT).version
        if version != self.snapshot_version:  # one snapshot per version, as the store requires
            self.ledger.application.take_snapshot(account_uuid(ACCOUNT))
            self.snapshot_version = version

    # ----------------------------------------------------------------- invariants
    @invariant()
    def ledger_agrees_with_model(self) -> None:
        account = self.ledger.load(ACCOUNT)
        events = self.ledger.events(ACCOUNT)
        check_account_invariants(account, events)
        assert account.bank_balance.pence == self.model.bank
        assert self.model.bank == self.model.money_in - self.model.money_out
        assert account.unpaid_liabilities.pence == self.model.total_owed()
        assert -account.balance(LedgerAccount.SUSPENSE).pence == sum(self.model.suspense.values())

    @invariant()
    def reload_gives_same_state(self) -> None:
        # The store may answer from a snapshot; a replay of the events alone must agree with it.
        from_store = self.ledger.load(ACCOUNT)
        rebuilt: ManagedAccount | None = None
        for event in self.ledger.events(ACCOUNT):
            rebuilt = event.mutate(rebuilt)
        assert rebuilt == from_store
        other = self.reopened()
        if other is not None:
            with other:
                assert other.load(ACCOUNT) == from_store
                assert other.account(ACCOUNT) == self.ledger.account(ACCOUNT)


class SqliteLedgerMachine(LedgerMachine):
    """The same machine on an embedded SQLite file, reloaded by a second Ledger on that file."""

    def make_ledger(self) -> Ledger:
        self.workdir = tempfile.TemporaryDirectory()
        self.path = Path(self.workdir.name) / "ledger.sqlite"
        return Ledger.sqlite(self.path)

    def reopened(self) -> Ledger | None:
        return Ledger.sqlite(self.path)

    def teardown(self) -> None:
        super().teardown()
        self.workdir.cleanup()


TestLedgerMachine = LedgerMachine.TestCase
TestSqliteLedgerMachine = SqliteLedgerMachine.TestCase
TestSqliteLedgerMachine.settings = settings(
    settings.default, max_examples=max(5, settings.default.max_examples // 4)
)
