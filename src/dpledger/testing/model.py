"""A clerk's model of one managed account: what a careful person with a calculator expects.

:class:`AccountModel` follows the commands of one account in plain integer pence, without the
ledger's code: the bank, what is owed to whom, each invoice's status, the money held in suspense,
the budgets, and the surplus the council may recoup. For any command it says whether the ledger
should refuse it (:meth:`AccountModel.refusal`) and, once accepted, what changes
(:meth:`AccountModel.apply`). The command-sequence strategies use it to build only sequences a
ledger accepts; :class:`~dpledger.testing.stateful.LedgerMachine` checks the ledger against it.

It models the commands the strategies and the machine send (money in and out, invoices, payroll,
suspense, recoupment, corrections of payments out, reviews, suspension, closing); any other
command raises :class:`NotModelled`. Commands are assumed to come in effective-date order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dpledger import commands as c
from dpledger.domain.errors import (
    AccountClosed,
    DpledgerError,
    DuplicateInvoice,
    DuplicateWageRun,
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    SurplusExceeded,
    UnknownParty,
    ValidationError,
)
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy

HMRC = "hmrc"
PENSION = "pension"
COUNCIL = "council"


class NotModelled(TypeError):
    """The model does not follow this command (send it to the ledger without a model)."""


@dataclass(frozen=True)
class Refusal:
    """Why the ledger must refuse a command: the error class it raises, and the figures."""

    error: type[DpledgerError]
    why: str
    shortfall: Money | None = None
    """For :class:`~dpledger.errors.InsufficientFunds`: how much the bank is short."""


@dataclass
class InvoiceState:
    """One agency invoice as the model sees it."""

    total: int
    status: str = "received"
    """``received``, ``approved``, ``disputed`` or ``paid``."""
    paid: int = 0


@dataclass(frozen=True)
class Movement:
    """What one recorded payment out did, so that correcting it can be undone in the model."""

    bank: int
    """The (negative) change to the bank, in pence."""
    owed_key: str | None
    """The debt it paid (``inv:AG/7``, ``pa:PA-1``, ``hmrc``, ``pension``, ``council``)."""
    expense: int = 0
    """What it added to spending (care-plan spend), in pence."""


def invoice_key(agency_id: str, invoice_number: str) -> str:
    """The model's key of an invoice (its owed key is ``inv:`` and this)."""
    return f"{agency_id}/{invoice_number}"


@dataclass
class AccountModel:
    """One managed account as a clerk would follow it (all money in integer pence)."""

    account_id: str
    policy: AccountPolicy
    opened_on: date
    version: int = 1
    status: str = "open"
    """``open``, ``suspended`` or ``closed``."""
    bank: int = 0
    money_in: int = 0
    money_out: int = 0
    council_in: int = 0
    contributions_in: int = 0
    spent: int = 0
    """Money spent (agency care, wages, NI, pension, care-plan spend), as the expense accounts
    sum it: an invoice counts once approved, a wage run once recorded."""
    owed: dict[str, int] = field(default_factory=dict)
    invoices: dict[str, InvoiceState] = field(default_factory=dict)
    agencies: set[str] = field(default_factory=set)
    personal_assistants: dict[str, date | None] = field(default_factory=dict)
    """Each PA and the last day of their latest wage run (``None``: none yet)."""
    wage_runs: set[tuple[str, date, date]] = field(default_factory=set)
    suspense: dict[str, int] = field(default_factory=dict)
    """Unexpected income still held, by item id (``S`` and the version that received it)."""
    budgets: list[tuple[date, int, int]] = field(default_factory=list)
    """(from, weekly gross, weekly contribution), in the order agreed."""
    payments: dict[int, Movement] = field(default_factory=dict)
    """Payments out not yet corrected, by version: what a correction may reverse."""
    last_bank_day: date | None = None
    policy_changes: list[tuple[date, dict[str, Any]]] = field(default_factory=list)
    """(from, the fields changed), in the order changed (commands come in date order)."""

    @classmethod
    def opened(cls, command: c.OpenAccount) -> AccountModel:
        """The model of the account ``command`` opens."""
        return cls(command.account_id, command.policy, command.effective_date)

    # ------------------------------------------------------------------------- queries
    def total_owed(self) -> int:
        """Every unpaid liability, in pence."""
        return sum(self.owed.values())

    def owes(self, key: str) -> int:
        """What is owed on ``key``, in pence."""
        return self.owed.get(key, 0)

    def weekly_gross(self, day: date) -> int:
        """The gross weekly budget in force on ``day`` (0 before any)."""
        in_force = [b for b in self.budgets if b[0] <= day]
        return max(in_force, key=lambda b: b[0])[1] if in_force else 0

    def policy_on(self, day: date) -> AccountPolicy:
        """The policy in force on ``day``: the opening policy, then each change from its date."""
        fields = {name: getattr(self.policy, name) for name in self.policy.__dataclass_fields__}
        for start, changed in self.policy_changes:
            if start <= day:
                fields.update(changed)
        return AccountPolicy(**fields)

    def contingency(self, day: date) -> int:
        """The contingency the policy in force on ``day`` lets the account keep."""
        return self.weekly_gross(day) * self.policy_on(day).contingency_weeks

    def surplus(self, day: date) -> int:
        """Bank - unpaid liabilities - contingency on ``day``, never negative."""
        return max(0, self.bank - self.total_owed() - self.contingency(day))

    def recoverable(self, day: date) -> int:
        """The surplus the council may recoup on ``day``; where the contribution is spent
        first, no more than the council's own money still unspent."""
        available = self.surplus(day)
        if not self.policy_on(day).contribution_spent_first:
            return available
        council_share = max(0, self.spent - self.contributions_in)
        return max(0, min(available, self.council_in - council_share))

    def held_items(self) -> list[str]:
        """The suspense items still held, oldest first."""
        return sorted(self.suspense, key=lambda item: int(item[1:]))

    # ------------------------------------------------------------------------- the rules
    def refusal(self, command: c.Command) -> Refusal | None:
        """Why the ledger must refuse ``command`` now, or ``None`` if it must accept it."""
        name = command.method
        check = getattr(self, f"_check_{name}", None)
        if check is None or not hasattr(self, f"_apply_{name}"):
            raise NotModelled(f"the model does not follow {type(command).__name__}")
        if self.status == "closed":
            return Refusal(AccountClosed, "the account is closed")
        if command.effective_date < self.opened_on:
            return Refusal(ValidationError, "dated before the account was opened")
        refusal: Refusal | None = check(command)
        return refusal

    def apply(self, command: c.Command) -> None:
        """Follow an accepted ``command``: one event, one version more."""
        getattr(self, f"_apply_{command.method}")(command)
        self.version += 1

    def run(self, command: c.Command) -> Refusal | None:
        """:meth:`apply` ``command`` unless it must be refused; returns the refusal, if any."""
        refusal = self.refusal(command)
        if refusal is None:
            self.apply(command)
        return refusal

    # ------------------------------------------------------------------------- helpers
    def _money_in(self, pence: int, day: date) -> None:
        self.bank += pence
        self.money_in += pence
        self.last_bank_day = max(day, self.last_bank_day or day)

    def _money_out(self, pence: int, day: date) -> None:
        self.bank -= pence
        self.money_out += pence
        self.last_bank_day = max(day, self.last_bank_day or day)

    def _owe(self, key: str, pence: int) -> None:
        self.owed[key] = self.owed.get(key, 0) + pence
        if not self.owed[key]:
            del self.owed[key]

    def _cover(self, pence: int, owed_key: str | None, what: str) -> Refusal | None:
        if owed_key is not None and pence > self.owes(owed_key):
            return Refusal(Overpayment, f"{pence}p is more than the {self.owes(owed_key)}p owed")
        return self._funds(pence, what)

    def _funds(self, pence: int, what: str) -> Refusal | None:
        if pence > self.bank:
            shortfall = Money(pence - self.bank)
            return Refusal(InsufficientFunds, f"the bank cannot cover {what}", shortfall)
        return None

    def _pay(self, command: c.Command, pence: int, owed_key: str | None, expense: int = 0) -> None:
        self._money_out(pence, command.effective_date)
        if owed_key is not None:
            self._owe(owed_key, -pence)
        self.spent += expense
        self.payments[self.version + 1] = Movement(-pence, owed_key, expense)

    def _held(self, item_id: str) -> Refusal | None:
        if item_id not in self.suspense:
            return Refusal(UnknownParty, f"no suspense item {item_id} is held")
        return None

    # ------------------------------------------------------------------------- terms
    def _check_agree_budget(self, command: c.AgreeBudget) -> Refusal | None:
        if command.weekly_contribution > command.weekly_gross:
            return Refusal(ValidationError, "the contribution exceeds the gross budget")
        return None

    def _apply_agree_budget(self, command: c.AgreeBudget) -> None:
        day = command.effective_date
        self.budgets = [b for b in self.budgets if b[0] != day]
        self.budgets.append((day, command.weekly_gross.pence, command.weekly_contribution.pence))

    def _check_record_review(self, command: c.RecordReview) -> Refusal | None:
        due = command.next_review_by
        if due is not None and due <= command.effective_date:
            return Refusal(ValidationError, "the next review is not after this one")
        return None

    def _apply_record_review(self, command: c.RecordReview) -> None:
        pass

    def _check_change_policy(self, command: c.ChangePolicy) -> Refusal | None:
        given = _policy_fields(command)
        if set(given) - _MODELLED_POLICY_FIELDS or command.clear_end_date:
            raise NotModelled("the model changes the contingency and the spending order only")
        if not given:
            return Refusal(ValidationError, "no field of the policy is changed")
        in_force = self.policy_on(command.effective_date)
        if all(getattr(in_force, name) == value for name, value in given.items()):
            return Refusal(InvalidTransition, "the policy in force already says so")
        return None

    def _apply_change_policy(self, command: c.ChangePolicy) -> None:
        self.policy_changes.append((command.effective_date, _policy_fields(command)))

    def _check_suspend(self, command: c.Suspend) -> Refusal | None:
        return None if self.status == "open" else Refusal(InvalidTransition, "already suspended")

    def _apply_suspend(self, command: c.Suspend) -> None:
        self.status = "suspended"

    def _check_resume(self, command: c.Resume) -> Refusal | None:
        return None if self.status == "suspended" else Refusal(InvalidTransition, "not suspended")

    def _apply_resume(self, command: c.Resume) -> None:
        self.status = "open"

    def _check_close_account(self, command: c.CloseAccount) -> Refusal | None:
        if self.total_owed():
            return Refusal(InvalidTransition, "liabilities are unpaid")
        if self.suspense:
            return Refusal(InvalidTransition, "money is held in suspense")
        if self.last_bank_day is not None and self.last_bank_day > command.effective_date:
            return Refusal(InvalidTransition, "bank entries are dated after the closing date")
        return None

    def _apply_close_account(self, command: c.CloseAccount) -> None:
        self._money_out(self.bank, command.effective_date)
        self.status = "closed"

    # ------------------------------------------------------------------------- money in
    def _check_receive_council_payment(self, command: c.ReceiveCouncilPayment) -> Refusal | None:
        start, end = command.period_start, command.period_end
        if start is not None and end is not None and end < start:
            return Refusal(ValidationError, "the period ends before it starts")
        return None

    def _apply_receive_council_payment(self, command: c.ReceiveCouncilPayment) -> None:
        self._money_in(command.amount.pence, command.effective_date)
        self.council_in += command.amount.pence

    def _check_receive_contribution(self, command: c.ReceiveContribution) -> Refusal | None:
        return None

    def _apply_receive_contribution(self, command: c.ReceiveContribution) -> None:
        self._money_in(command.amount.pence, command.effective_date)
        self.contributions_in += command.amount.pence

    def _check_receive_unexpected_income(
        self, command: c.ReceiveUnexpectedIncome
    ) -> Refusal | None:
        return None

    def _apply_receive_unexpected_income(self, command: c.ReceiveUnexpectedIncome) -> None:
        self._money_in(command.amount.pence, command.effective_date)
        self.suspense[f"S{self.version + 1}"] = command.amount.pence

    def _check_classify_unexpected_income(
        self, command: c.ClassifyUnexpectedIncome
    ) -> Refusal | None:
        if command.classified_as not in ("council", "contribution"):
            return Refusal(ValidationError, "not a class of income")
        return self._held(command.item_id)

    def _apply_classify_unexpected_income(self, command: c.ClassifyUnexpectedIncome) -> None:
        pence = self.suspense.pop(command.item_id)
        if command.classified_as == "council":
            self.council_in += pence
        else:
            self.contributions_in += pence

    def _check_keep_unexpected_income(self, command: c.KeepUnexpectedIncome) -> Refusal | None:
        return self._held(command.item_id)

    def _apply_keep_unexpected_income(self, command: c.KeepUnexpectedIncome) -> None:
        del self.suspense[command.item_id]

    def _check_refund_unexpected_income(self, command: c.RefundUnexpectedIncome) -> Refusal | None:
        held = self._held(command.item_id)
        if held is not None:
            return held
        return self._funds(self.suspense[command.item_id], f"refunding {command.item_id}")

    def _apply_refund_unexpected_income(self, command: c.RefundUnexpectedIncome) -> None:
        self._money_out(self.suspense.pop(command.item_id), command.effective_date)

    # ------------------------------------------------------------------------- agencies
    def _check_register_agency(self, command: c.RegisterAgency) -> Refusal | None:
        if command.agency_id in self.agencies:
            return Refusal(InvalidTransition, f"agency {command.agency_id} is registered")
        return None

    def _apply_register_agency(self, command: c.RegisterAgency) -> None:
        self.agencies.add(command.agency_id)

    def _check_agree_agency_rate(self, command: c.AgreeAgencyRate) -> Refusal | None:
        if command.agency_id not in self.agencies:
            return Refusal(UnknownParty, f"agency {command.agency_id} is not registered")
        return None

    def _apply_agree_agency_rate(self, command: c.AgreeAgencyRate) -> None:
        pass

    def _check_agree_care_plan(self, command: c.AgreeCarePlan) -> Refusal | None:
        return None

    def _apply_agree_care_plan(self, command: c.AgreeCarePlan) -> None:
        pass

    def _invoice(self, agency_id: str, number: str) -> InvoiceState | Refusal:
        invoice = self.invoices.get(invoice_key(agency_id, number))
        if invoice is None:
            return Refusal(UnknownParty, f"no invoice {number} from {agency_id}")
        return invoice

    def _check_receive_invoice(self, command: c.ReceiveInvoice) -> Refusal | None:
        if command.agency_id not in self.agencies:
            return Refusal(UnknownParty, f"agency {command.agency_id} is not registered")
        if command.period_end < command.period_start:
            return Refusal(ValidationError, "the period ends before it starts")
        if invoice_key(command.agency_id, command.invoice_number) in self.invoices:
            return Refusal(DuplicateInvoice, f"invoice {command.invoice_number} again")
        return None

    def _apply_receive_invoice(self, command: c.ReceiveInvoice) -> None:
        key = invoice_key(command.agency_id, command.invoice_number)
        self.invoices[key] = InvoiceState(command.total.pence)

    def _check_approve_invoice(self, command: c.ApproveInvoice) -> Refusal | None:
        invoice = self._invoice(command.agency_id, command.invoice_number)
        if isinstance(invoice, Refusal):
            return invoice
        if invoice.status not in ("received", "disputed"):
            return Refusal(InvalidTransition, f"the invoice is {invoice.status}")
        return None

    def _apply_approve_invoice(self, command: c.ApproveInvoice) -> None:
        key = invoice_key(command.agency_id, command.invoice_number)
        invoice = self.invoices[key]
        invoice.status = "approved"
        self._owe(f"inv:{key}", invoice.total)
        self.spent += invoice.total

    def _check_dispute_invoice(self, command: c.DisputeInvoice) -> Refusal | None:
        invoice = self._invoice(command.agency_id, command.invoice_number)
        if isinstance(invoice, Refusal):
            return invoice
        if invoice.status not in ("received", "approved") or invoice.paid:
            return Refusal(InvalidTransition, f"the invoice is {invoice.status}, paid in part")
        return None

    def _apply_dispute_invoice(self, command: c.DisputeInvoice) -> None:
        key = invoice_key(command.agency_id, command.invoice_number)
        invoice = self.invoices[key]
        if invoice.status == "approved":
            self._owe(f"inv:{key}", -invoice.total)
            self.spent -= invoice.total
        invoice.status = "disputed"

    def _check_pay_invoice(self, command: c.PayInvoice) -> Refusal | None:
        invoice = self._invoice(command.agency_id, command.invoice_number)
        if isinstance(invoice, Refusal):
            return invoice
        if invoice.status != "approved":
            return Refusal(InvalidTransition, f"the invoice is {invoice.status}")
        key = f"inv:{invoice_key(command.agency_id, command.invoice_number)}"
        return self._cover(command.amount.pence, key, "the invoice")

    def _apply_pay_invoice(self, command: c.PayInvoice) -> None:
        key = invoice_key(command.agency_id, command.invoice_number)
        invoice = self.invoices[key]
        self._pay(command, command.amount.pence, f"inv:{key}")
        invoice.paid += command.amount.pence
        if invoice.paid == invoice.total:
            invoice.status = "paid"

    # ------------------------------------------------------------------------- payroll
    def _check_register_personal_assistant(
        self, command: c.RegisterPersonalAssistant
    ) -> Refusal | None:
        if command.pa_id in self.personal_assistants:
            return Refusal(InvalidTransition, f"PA {command.pa_id} is registered")
        return None

    def _apply_register_personal_assistant(self, command: c.RegisterPersonalAssistant) -> None:
        self.personal_assistants[command.pa_id] = None

    def _check_record_wage_run(self, command: c.RecordWageRun) -> Refusal | None:
        if command.pa_id not in self.personal_assistants:
            return Refusal(UnknownParty, f"PA {command.pa_id} is not registered")
        if command.period_end < command.period_start:
            return Refusal(ValidationError, "the period ends before it starts")
        deductions = command.paye + command.employee_ni + command.employee_pension
        if command.net != command.gross - deductions:
            return Refusal(ValidationError, "net is not gross minus deductions")
        if (command.pa_id, command.period_start, command.period_end) in self.wage_runs:
            return Refusal(DuplicateWageRun, "a wage run for this period is recorded")
        return None

    def _apply_record_wage_run(self, command: c.RecordWageRun) -> None:
        self.wage_runs.add((command.pa_id, command.period_start, command.period_end))
        last = self.personal_assistants[command.pa_id]
        self.personal_assistants[command.pa_id] = max(command.period_end, last or date.min)
        self._owe(f"pa:{command.pa_id}", command.net.pence)
        self._owe(HMRC, (command.paye + command.employee_ni + command.employer_ni).pence)
        self._owe(PENSION, (command.employee_pension + command.employer_pension).pence)
        self.spent += (command.gross + command.employer_ni + command.employer_pension).pence

    def _check_pay_net_wages(self, command: c.PayNetWages) -> Refusal | None:
        if command.pa_id not in self.personal_assistants:
            return Refusal(UnknownParty, f"PA {command.pa_id} is not registered")
        return self._cover(command.amount.pence, f"pa:{command.pa_id}", "net wages")

    def _apply_pay_net_wages(self, command: c.PayNetWages) -> None:
        self._pay(command, command.amount.pence, f"pa:{command.pa_id}")

    def _check_pay_hmrc(self, command: c.PayHmrc) -> Refusal | None:
        return self._cover(command.amount.pence, HMRC, "HMRC")

    def _apply_pay_hmrc(self, command: c.PayHmrc) -> None:
        self._pay(command, command.amount.pence, HMRC)

    def _check_pay_pension(self, command: c.PayPension) -> Refusal | None:
        return self._cover(command.amount.pence, PENSION, "the pension")

    def _apply_pay_pension(self, command: c.PayPension) -> None:
        self._pay(command, command.amount.pence, PENSION)

    # ------------------------------------------------------------------------- spending
    def _check_pay_care_plan_spend(self, command: c.PayCarePlanSpend) -> Refusal | None:
        return self._funds(command.amount.pence, "the spend")

    def _apply_pay_care_plan_spend(self, command: c.PayCarePlanSpend) -> None:
        pence = command.amount.pence
        self._pay(command, pence, None, expense=pence)

    # ------------------------------------------------------------------------- surplus
    def _check_demand_recoupment(self, command: c.DemandRecoupment) -> Refusal | None:
        if self.last_bank_day is not None and self.last_bank_day > command.effective_date:
            return Refusal(ValidationError, "the bank moved after the recoupment's date")
        available = self.recoverable(command.effective_date)
        if command.amount.pence > available:
            return Refusal(SurplusExceeded, f"the recoverable surplus is {Money(available)}")
        return None

    def _apply_demand_recoupment(self, command: c.DemandRecoupment) -> None:
        self._owe(COUNCIL, command.amount.pence)

    def _check_repay_recoupment(self, command: c.RepayRecoupment) -> Refusal | None:
        return self._cover(command.amount.pence, COUNCIL, "the recoupment")

    def _apply_repay_recoupment(self, command: c.RepayRecoupment) -> None:
        self._pay(command, command.amount.pence, COUNCIL)

    # ------------------------------------------------------------------------- corrections
    def _check_correct(self, command: c.Correct) -> Refusal | None:
        if command.version not in self.payments:
            raise NotModelled("the model corrects only payments out it has not corrected")
        if command.reason is None:
            return Refusal(ValidationError, "a correction needs a reason")
        return None

    def _apply_correct(self, command: c.Correct) -> None:
        paid = self.payments.pop(command.version)
        self._money_in(-paid.bank, command.effective_date)
        self.spent -= paid.expense
        if paid.owed_key is not None:
            self._owe(paid.owed_key, -paid.bank)
            if paid.owed_key.startswith("inv:"):
                invoice = self.invoices[paid.owed_key[4:]]
                invoice.paid += paid.bank
                invoice.status = "approved"


def model_of(commands: list[c.Command]) -> AccountModel:
    """The model after ``commands`` (the first opens the account), each of which it must
    accept; raises ``AssertionError`` naming the first it would refuse."""
    first = commands[0]
    assert isinstance(first, c.OpenAccount), "a sequence starts by opening the account"
    model = AccountModel.opened(first)
    for number, command in enumerate(commands[1:], start=2):
        refusal = model.run(command)
        assert refusal is None, f"command {number} ({type(command).__name__}): {refusal}"
    return model


_MODELLED_POLICY_FIELDS = {"contingency_weeks", "contribution_spent_first"}
"""The policy fields whose changes the model follows."""


def _policy_fields(command: c.ChangePolicy) -> dict[str, Any]:
    """The policy fields ``command`` changes (given, not ``None``)."""
    names = AccountPolicy.__dataclass_fields__
    return {n: getattr(command, n) for n in names if getattr(command, n, None) is not None}
