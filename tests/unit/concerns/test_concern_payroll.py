"""Payroll: personal assistants, wage runs, and paying net wages, HMRC and the pension."""

from __future__ import annotations

from decimal import Decimal

from concern_harness import FUNDED, Given, cmd, given

from dpledger.domain.chart import LedgerAccount
from dpledger.domain.commands import Command
from dpledger.domain.corrections import Correct, EntryCorrected
from dpledger.domain.errors import (
    DuplicateWageRun,
    InvalidTransition,
    Overpayment,
    UnknownParty,
    ValidationError,
    WageRunDoesNotBalance,
)
from dpledger.domain.money import Money
from dpledger.domain.payroll import (
    ClaimEmploymentAllowance,
    EmploymentAllowanceClaimed,
    HmrcPaid,
    NetWagesPaid,
    PayHmrc,
    PayNetWages,
    PayPension,
    PensionPaid,
    PersonalAssistantRegistered,
    RecordWageRun,
    RegisterPersonalAssistant,
    WageRunRecorded,
)

A = LedgerAccount


def pa(pa_id: str = "PA-1") -> Command:
    return cmd(RegisterPersonalAssistant, pa_id=pa_id, hourly_rate="12.71")


def wage_run(
    start: str = "2026-04-06", end: str = "2026-04-12", pa_id: str = "PA-1", **figures: str
) -> Command:
    """Gross £500, PAYE £40, employee NI £20, employer NI £30, employee pension £25, employer
    pension £15: net £415, HMRC owed £90, the pension £40."""
    values = {
        "hours": "39.34",
        "gross": "500.00",
        "paye": "40.00",
        "employee_ni": "20.00",
        "employer_ni": "30.00",
        "employee_pension": "25.00",
        "employer_pension": "15.00",
        "net": "415.00",
    }
    values.update(figures)
    return cmd(RecordWageRun, pa_id=pa_id, period_start=start, period_end=end, **values)


def owed(scenario: Given, liability: LedgerAccount) -> Money:
    assert scenario.account is not None
    return scenario.account.owed(liability)


def test_a_pa_is_registered_once() -> None:
    scenario = given(*FUNDED)
    scenario.when(pa()).event(PersonalAssistantRegistered, hourly_rate=Money("12.71"))
    scenario.when(pa()).refused(InvalidTransition, "personal assistant PA-1 is already registered")


def test_a_wage_run_makes_what_is_owed() -> None:
    scenario = given(*FUNDED, pa())
    event = scenario.when(wage_run()).event(WageRunRecorded, net=Money("415.00"))
    assert {line.account: line.amount.pence for line in event.postings} == {
        A.PA_GROSS_WAGES: 50000,
        A.EMPLOYER_NI: 3000,
        A.EMPLOYER_PENSION: 1500,
        A.PA_NET_WAGES_PAYABLE: -41500,
        A.HMRC_PAYABLE: -9000,
        A.PENSION_PAYABLE: -4000,
    }
    assert owed(scenario, A.PA_NET_WAGES_PAYABLE) == Money("415.00")
    assert owed(scenario, A.HMRC_PAYABLE) == Money("90.00")
    assert owed(scenario, A.PENSION_PAYABLE) == Money("40.00")
    account = scenario.account
    assert account is not None
    assert account.personal_assistants["PA-1"].net_owed == Money("415.00")
    (run,) = account.wage_runs.values()
    assert run.hours == Decimal("39.34")


def test_a_payslip_that_does_not_balance_is_refused() -> None:
    error = (
        given(*FUNDED, pa())
        .when(wage_run(net="415.01"))
        .refused(
            WageRunDoesNotBalance, "net pay £415.01 is not gross £500.00 minus deductions, which is"
        )
    )
    assert error.fix == "check the payslip: net = gross - PAYE - employee NI - employee pension"


def test_a_wage_run_needs_a_registered_pa_and_a_sane_period() -> None:
    scenario = given(*FUNDED, pa())
    scenario.when(wage_run(pa_id="PA-9")).refused(UnknownParty, "no personal assistant 'PA-9'")
    scenario.when(wage_run("2026-04-12", "2026-04-06")).refused(ValidationError, "ends before")


def test_one_run_per_pa_and_period_until_it_is_corrected() -> None:
    scenario = given(*FUNDED, pa(), wage_run())
    scenario.when(wage_run(hours="40")).refused(
        DuplicateWageRun, "a wage run for PA-1 for 2026-04-06..2026-04-12 is already recorded"
    )
    scenario.after(pa("PA-2"))
    scenario.when(wage_run(pa_id="PA-2")).then(WageRunRecorded)
    scenario.when(cmd(Correct, version=6, reason="wrong hours")).then(EntryCorrected)
    scenario.when(wage_run(hours="40")).event(WageRunRecorded, hours=Decimal("40"))


def test_paying_net_wages_never_more_than_owed() -> None:
    scenario = given(*FUNDED, pa(), wage_run())
    pay = cmd(PayNetWages, pa_id="PA-1", amount="415.01")
    scenario.when(pay).refused(Overpayment, "£415.01 is more than the £415.00 owed on net wages")
    scenario.when(cmd(PayNetWages, pa_id="PA-1", amount="400.00")).event(
        NetWagesPaid, amount=Money("400.00")
    )
    account = scenario.account
    assert account is not None
    assert account.personal_assistants["PA-1"].net_owed == Money("15.00")
    assert owed(scenario, A.PA_NET_WAGES_PAYABLE) == Money("15.00")


def test_paying_hmrc_and_the_pension_never_more_than_owed() -> None:
    scenario = given(*FUNDED, pa(), wage_run())
    scenario.when(cmd(PayHmrc, amount="90.01")).refused(Overpayment, "owed on HMRC")
    scenario.when(cmd(PayHmrc, amount="90.00")).event(HmrcPaid, amount=Money("90.00"))
    scenario.when(cmd(PayPension, amount="40.01")).refused(Overpayment, "owed on the pension")
    scenario.when(cmd(PayPension, amount="40.00")).event(PensionPaid, amount=Money("40.00"))
    assert owed(scenario, A.HMRC_PAYABLE) == owed(scenario, A.PENSION_PAYABLE) == Money(0)


def test_employment_allowance_offsets_employer_ni_only() -> None:
    scenario = given(*FUNDED, pa(), wage_run())
    # HMRC is owed £90.00, but only £30.00 of it is employer NI.
    scenario.when(cmd(ClaimEmploymentAllowance, amount="30.01")).refused(
        Overpayment, "£30.01 is more than the £30.00 owed on employer NI incurred"
    )
    event = scenario.when(cmd(ClaimEmploymentAllowance, amount="30.00")).event(
        EmploymentAllowanceClaimed, amount=Money("30.00")
    )
    assert event.postings.effect_on(A.BANK) == 0
    assert owed(scenario, A.HMRC_PAYABLE) == Money("60.00")
    account = scenario.account
    assert account is not None
    assert account.balance(A.EMPLOYER_NI) == Money(0)
