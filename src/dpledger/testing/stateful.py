"""The stateful model: random command sequences against a ledger and a clerk's model.

:class:`LedgerMachine` is a hypothesis ``RuleBasedStateMachine``. It opens one account with any
policy and budget, then sends random commands (money in and out, invoices, payroll, suspense,
recoupment, corrections, retries, snapshots), many of which the ledger must refuse (overdrafts,
overpayments, surplus exceeded, invalid transitions). The
:class:`~dpledger.testing.model.AccountModel` says for each command whether the ledger must
accept or refuse it; :meth:`LedgerMachine.execute` checks the ledger does, and that a refusal
records nothing. After every step: the invariants hold
(:func:`~dpledger.testing.invariants.check_ledger_invariants`), the ledger agrees with the model,
and the account reloads the same (from a second ledger on the same store, if there is one).

Subclass it to add your own rules and invariants, or another store::

    from hypothesis.stateful import invariant
    from dpledger.testing.stateful import LedgerMachine

    class CouncilMachine(LedgerMachine):
        @invariant()
        def never_more_than_twelve_weeks(self) -> None:
            ...

    TestCouncilMachine = CouncilMachine.TestCase

Build commands with :meth:`LedgerMachine.command` (it dates each one a day after the last) and
send them with :meth:`LedgerMachine.execute`.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

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

from dpledger import commands as c
from dpledger.domain.account import account_uuid
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.errors import DpledgerError, InsufficientFunds
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy
from dpledger.ledger import Ledger, Receipt
from dpledger.testing import primitives as dps
from dpledger.testing.invariants import check_ledger_invariants
from dpledger.testing.model import AccountModel

C = TypeVar("C", bound=c.Command)
START = date(2026, 4, 6)
AGENCY = "AG"
PA = "PA"


class LedgerMachine(RuleBasedStateMachine):
    """Drives a :class:`~dpledger.Ledger` with random commands and checks it against the model.

    Attributes a subclass may use: ``ledger``, ``model`` (the
    :class:`~dpledger.testing.model.AccountModel`), ``account_id``, ``day`` (the date of the
    last command) and ``last`` (the last accepted command and its receipt).
    """

    account_id = "DP-STATE"
    actor = "stateful-test"
    start = START

    invoices = Bundle("invoices")
    paid_events = Bundle("paid_events")
    suspense_items = Bundle("suspense_items")

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.make_ledger()
        self.model: AccountModel | None = None
        self.day = self.start
        self.counter = 0
        self.last: tuple[c.Command, Receipt] | None = None
        self.snapshot_version = 0

    # ------------------------------------------------------------------------- hooks
    def make_ledger(self) -> Ledger:
        """The ledger under test: in memory (events still go through the store's encoding)."""
        return Ledger.in_memory()

    def reopened(self) -> Ledger | None:
        """A second ledger on the same store, for reload checks (``None``: none)."""
        return None

    def teardown(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    # ------------------------------------------------------------------------- helpers
    @property
    def state(self) -> AccountModel:
        """The model (once the account is open)."""
        assert self.model is not None, "the account is not open yet"
        return self.model

    def command(self, command_class: type[C], **fields: Any) -> C:
        """A ``command_class`` for the account, dated a day after the last, with a fresh
        idempotency key (unless ``fields`` give them)."""
        self.day += timedelta(days=1)
        self.counter += 1
        fields.setdefault("effective_date", self.day)
        fields.setdefault("idempotency_key", f"k{self.counter}")
        return command_class(account_id=self.account_id, actor=self.actor, **fields)

    def execute(self, command: c.Command) -> Receipt | None:
        """Send ``command``; the ledger must accept it exactly when the model does.

        Accepted: returns the receipt (one event more, as the model counts). Refused: checks
        the ledger raised the model's error (with its shortfall, for money it cannot cover)
        and recorded nothing, and returns ``None``.
        """
        refusal = self.state.refusal(command)
        before = self.ledger.load(self.account_id).version
        name = type(command).__name__
        if refusal is None:
            try:
                receipt = self.ledger.execute(command)
            except DpledgerError as error:
                raise AssertionError(f"the ledger refused {name}, which the model accepts") from (
                    error
                )
            assert not receipt.replayed, f"{name} was taken for a retry"
            assert receipt.version == self.state.version + 1, "event versions differ from model"
            self.state.apply(command)
            self.last = (command, receipt)
            return receipt
        refused: DpledgerError | None = None
        try:
            self.ledger.execute(command)
        except refusal.error as error:
            refused = error
        except DpledgerError as error:
            raise AssertionError(
                f"{name}: the ledger raised {type(error).__name__}, the model expects "
                f"{refusal.error.__name__} ({refusal.why})"
            ) from error
        else:
            raise AssertionError(f"the ledger accepted {name}, which it must refuse: {refusal.why}")
        if isinstance(refused, InsufficientFunds) and refusal.shortfall is not None:
            assert refused.shortfall == refusal.shortfall, (refused.shortfall, refusal.shortfall)
        after = self.ledger.load(self.account_id).version
        assert after == before, f"a refused {name} recorded something"
        return None

    def _pay(self, command_class: type[c.Command], pence: int, **fields: Any) -> int:
        """Pay ``pence``; the version of the payment, or 0 if it was refused."""
        receipt = self.execute(self.command(command_class, amount=Money(pence), **fields))
        return 0 if receipt is None else receipt.version

    # ------------------------------------------------------------------------- rules
    @initialize(policy=dps.policies(), budget=dps.budgets(max_weekly_pence=100_000))
    def open_account(self, policy: AccountPolicy, budget: dps.BudgetFigures) -> None:
        """Open the account with any policy, agree a budget, register an agency and a PA."""
        opening = self.command(
            c.OpenAccount,
            person_ref="P-1",
            council="Testshire",
            provider="Provider",
            policy=policy,
            idempotency_key=None,
        )
        self.ledger.execute(opening)
        self.model = AccountModel.opened(opening)
        self.execute(
            self.command(
                c.AgreeBudget,
                weekly_gross=budget.weekly_gross,
                weekly_contribution=budget.weekly_contribution,
            )
        )
        self.execute(self.command(c.RegisterAgency, agency_id=AGENCY, name="Agency"))
        self.execute(self.command(c.RegisterPersonalAssistant, pa_id=PA, hourly_rate=Money(1_300)))

    @rule(amount=dps.money(1, 500_000))
    def council_payment(self, amount: Money) -> None:
        """The council pays in."""
        self.execute(self.command(c.ReceiveCouncilPayment, amount=amount))

    @rule(amount=dps.money(1, 100_000))
    def contribution(self, amount: Money) -> None:
        """The person pays their contribution in."""
        self.execute(self.command(c.ReceiveContribution, amount=amount))

    @rule(target=suspense_items, amount=dps.money(1, 100_000))
    def unexpected_income(self, amount: Money) -> str:
        """Money nobody expected arrives; it is held in suspense."""
        expected = f"S{self.state.version + 1}"
        receipt = self.execute(
            self.command(c.ReceiveUnexpectedIncome, amount=amount, description="unknown")
        )
        assert receipt is not None
        assert receipt.item_id == expected
        return expected

    @rule(item=consumes(suspense_items), how=st.sampled_from(["council", "keep", "refund"]))
    def resolve_suspense(self, item: str, how: str) -> None:
        """Classify, keep or refund a held item (a refund the bank cannot cover is refused)."""
        if how == "council":
            command: c.Command = self.command(
                c.ClassifyUnexpectedIncome, item_id=item, classified_as="council"
            )
        elif how == "keep":
            command = self.command(c.KeepUnexpectedIncome, item_id=item, reason="donation")
        else:
            command = self.command(c.RefundUnexpectedIncome, item_id=item)
        if self.execute(command) is None and how == "refund":
            # Still held: classify it, so the bundle never holds a resolved item.
            self.execute(
                self.command(c.ClassifyUnexpectedIncome, item_id=item, classified_as="council")
            )

    @rule(target=invoices, figures=dps.invoice_figures(max_rate_pence=4_000))
    def invoice(self, figures: dps.InvoiceFigures) -> str:
        """An agency invoice arrives."""
        number = f"INV-{self.counter + 1}"
        self.execute(
            self.command(
                c.ReceiveInvoice,
                agency_id=AGENCY,
                invoice_number=number,
                period_start=self.day,
                period_end=self.day + timedelta(days=27),
                hours=figures.hours,
                rate=figures.rate,
                total=figures.total,
            )
        )
        return number

    @rule(number=invoices)
    def approve(self, number: str) -> None:
        """Approve an invoice (refused unless received or disputed)."""
        self.execute(self.command(c.ApproveInvoice, agency_id=AGENCY, invoice_number=number))

    @rule(number=invoices)
    def dispute(self, number: str) -> None:
        """Dispute an invoice (refused once paid, in part or whole)."""
        self.execute(
            self.command(
                c.DisputeInvoice, agency_id=AGENCY, invoice_number=number, reason="hours wrong"
            )
        )

    @rule(target=paid_events, number=invoices, part=st.integers(min_value=1, max_value=100))
    def pay_invoice(self, number: str, part: int) -> int:
        """Pay part of an invoice (refused unless approved, or beyond the bank)."""
        invoice = self.state.invoices[f"{AGENCY}/{number}"]
        pence = max(1, (invoice.total - invoice.paid) * part // 100)
        return self._pay(c.PayInvoice, pence, agency_id=AGENCY, invoice_number=number)

    @rule(slip=dps.payslips(max_gross_pence=200_000))
    def wage_run(self, slip: dps.PayslipFigures) -> None:
        """The PA's next weekly wage run."""
        last = self.state.personal_assistants.get(PA)
        start = self.start if last is None else last + timedelta(days=1)
        self.execute(
            self.command(
                c.RecordWageRun,
                pa_id=PA,
                period_start=start,
                period_end=start + timedelta(days=6),
                hours=slip.hours,
                gross=slip.gross,
                paye=slip.paye,
                employee_ni=slip.employee_ni,
                employer_ni=slip.employer_ni,
                employee_pension=slip.employee_pension,
                employer_pension=slip.employer_pension,
                net=slip.net,
            )
        )

    @rule(
        target=paid_events,
        what=st.sampled_from(["pa", "hmrc", "pension"]),
        part=st.integers(min_value=1, max_value=120),
    )
    def pay_payroll(self, what: str, part: int) -> int:
        """Pay part of what the PA, HMRC or the pension is owed (above 100%: an overpayment)."""
        key = f"pa:{PA}" if what == "pa" else what
        pence = max(1, self.state.owes(key) * part // 100)
        if what == "pa":
            return self._pay(c.PayNetWages, pence, pa_id=PA)
        return self._pay(c.PayHmrc if what == "hmrc" else c.PayPension, pence)

    @rule(target=paid_events, amount=dps.money(1, 300_000))
    def care_plan_spend(self, amount: Money) -> int:
        """Pay for insurance from the bank (refused beyond the bank)."""
        return self._pay(
            c.PayCarePlanSpend, amount.pence, category="insurance", description="insurance"
        )

    @rule(part=st.integers(min_value=1, max_value=150))
    def recoup(self, part: int) -> None:
        """The council demands surplus back (above 100% of what it may recover: refused)."""
        available = self.state.recoverable(self.day + timedelta(days=1))
        pence = max(1, available * part // 100)
        self.execute(self.command(c.DemandRecoupment, amount=Money(pence)))

    @rule(version=consumes(paid_events))
    def correct_payment(self, version: int) -> None:
        """Reverse a payment: the money goes back to the bank and the debt back on the books."""
        if version == 0:
            return
        receipt = self.execute(self.command(c.Correct, version=version, reason="paid in error"))
        assert receipt is not None
        assert receipt.postings.effect_on(LedgerAccount.BANK) > 0

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_last_command(self) -> None:
        """Send the last accepted command again: replayed, nothing recorded."""
        assert self.last is not None
        command, receipt = self.last
        before = self.ledger.load(self.account_id)
        again = self.ledger.execute(command)
        assert again.replayed
        assert again.version == receipt.version
        assert self.ledger.load(self.account_id) == before

    @rule()
    def snapshot(self) -> None:
        """Take a snapshot (one per version, as the store requires)."""
        version = self.ledger.load(self.account_id).version
        if version != self.snapshot_version:
            self.ledger.application.take_snapshot(account_uuid(self.account_id))
            self.snapshot_version = version

    # ------------------------------------------------------------------------- invariants
    @invariant()
    def ledger_agrees_with_model(self) -> None:
        """The invariants hold and the ledger's figures are the model's."""
        if self.model is None:
            return
        check_ledger_invariants(self.ledger, [self.account_id])
        account = self.ledger.load(self.account_id)
        model = self.model
        assert account.version == model.version
        assert account.bank_balance.pence == model.bank
        assert model.bank == model.money_in - model.money_out
        assert account.unpaid_liabilities.pence == model.total_owed()
        assert -account.balance(LedgerAccount.SUSPENSE).pence == sum(model.suspense.values())
        spent = sum(account.balance(a).pence for a in LedgerAccount if a.kind == "expenses")
        assert spent == model.spent

    @invariant()
    def reload_gives_same_state(self) -> None:
        """A second ledger on the same store loads the same account."""
        if self.model is None:
            return
        other = self.reopened()
        if other is not None:
            with other:
                assert other.load(self.account_id) == self.ledger.load(self.account_id)
                assert other.account(self.account_id) == self.ledger.account(self.account_id)


class SqliteLedgerMachine(LedgerMachine):
    """The same machine on an embedded SQLite file, reloaded by a second ledger on that file."""

    def make_ledger(self) -> Ledger:
        """A ledger on a new SQLite file in a temporary folder."""
        self.workdir = tempfile.TemporaryDirectory()
        self.path = Path(self.workdir.name) / "ledger.sqlite"
        return Ledger.sqlite(self.path)

    def reopened(self) -> Ledger | None:
        """Another ledger on the same file."""
        return Ledger.sqlite(self.path)

    def teardown(self) -> None:
        """Close the ledger and delete the file."""
        super().teardown()
        self.workdir.cleanup()


__all__ = ["LedgerMachine", "SqliteLedgerMachine"]
