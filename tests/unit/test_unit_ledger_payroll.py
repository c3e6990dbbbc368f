"""Ledger: personal assistants, wage runs, net wages, HMRC and pension payments."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.domain.chart import Posting
from dpledger.errors import (
    DuplicateWageRun,
    InsufficientFunds,
    InvalidTransition,
    Overpayment,
    UnknownParty,
    ValidationError,
    WageRunDoesNotBalance,
)

A = LedgerAccount


@pytest.fixture
def payroll(funded: Any) -> Any:
    funded.pa("PA-1")
    return funded


def test_register_personal_assistant(funded: Any) -> None:
    receipt = funded.pa("PA-1", rate="12.71")
    assert receipt.event_type == "PersonalAssistantRegistered"
    pa = funded.state().personal_assistants["PA-1"]
    assert (pa.hourly_rate, pa.net_owed) == (Money("12.71"), Money(0))
    with pytest.raises(InvalidTransition, match="already registered") as caught:
        funded.pa("PA-1")
    assert caught.value.fix == "use the existing PA id"


def test_wage_run_postings_are_exact(payroll: Any) -> None:
    receipt = payroll.wage_run()
    assert receipt.event_type == "WageRunRecorded"
    assert receipt.postings.lines == (
        Posting(A.PA_GROSS_WAGES, Money("500.00")),
        Posting(A.EMPLOYER_NI, Money("30.00")),
        Posting(A.EMPLOYER_PENSION, Money("15.00")),
        Posting(A.PA_NET_WAGES_PAYABLE, Money("-415.00")),
        Posting(A.HMRC_PAYABLE, Money("-90.00")),  # PAYE 40 + employee NI 20 + employer NI 30
        Posting(A.PENSION_PAYABLE, Money("-40.00")),  # employee 25 + employer 15
    )
    state = payroll.state()
    assert state.owed(A.PA_NET_WAGES_PAYABLE) == Money("415.00")
    assert state.owed(A.HMRC_PAYABLE) == Money("90.00")
    assert state.owed(A.PENSION_PAYABLE) == Money("40.00")
    assert state.unpaid_liabilities == Money("545.00")
    assert state.bank_balance == Money("1100.00")  # nothing paid yet
    assert state.personal_assistants["PA-1"].net_owed == Money("415.00")
    run = state.wage_runs["PA-1/2026-04-06/2026-04-12"]
    assert (run.gross, run.net, run.hours) == (Money("500.00"), Money("415.00"), Decimal("39.34"))
    assert (run.period_start, run.period_end) == (date(2026, 4, 6), date(2026, 4, 12))


def test_zero_figures_post_no_lines(payroll: Any) -> None:
    receipt = payroll.wage_run(
        gross="96.00",
        paye="0",
        employee_ni="0",
        employer_ni="0",
        employee_pension="0",
        employer_pension="0",
        net="96.00",
    )
    assert receipt.postings.lines == (
        Posting(A.PA_GROSS_WAGES, Money("96.00")),
        Posting(A.PA_NET_WAGES_PAYABLE, Money("-96.00")),
    )


@pytest.mark.parametrize("net", ["415.01", "414.99", "475.00", "500.00"])
def test_net_must_be_gross_minus_deductions(payroll: Any, net: str) -> None:
    with pytest.raises(WageRunDoesNotBalance) as caught:
        payroll.wage_run(net=net)
    assert f"net pay £{net}" in str(caught.value)
    assert "which is £415.00" in str(caught.value)
    assert caught.value.account_id == "DP-1"
    assert "net = gross - PAYE - employee NI - employee pension" in caught.value.fix
    assert payroll.version == 5
    assert payroll.state().wage_runs == {}


def test_employer_costs_do_not_reduce_net(payroll: Any) -> None:
    payroll.wage_run(employer_ni="99.00", employer_pension="77.00", net="415.00")
    assert payroll.owed(A.HMRC_PAYABLE) == Money("159.00")
    assert payroll.owed(A.PENSION_PAYABLE) == Money("102.00")


def test_duplicate_wage_run_is_refused(payroll: Any) -> None:
    payroll.wage_run()
    with pytest.raises(
        DuplicateWageRun, match=re.escape("PA-1 for 2026-04-06..2026-04-12")
    ) as caught:
        payroll.wage_run(gross="400.00", net="315.00")
    assert "correct the recorded run" in caught.value.fix
    assert payroll.owed(A.PA_NET_WAGES_PAYABLE) == Money("415.00")
    # another period, or another PA, is fine
    payroll.wage_run(period_start="2026-04-13", period_end="2026-04-19")
    payroll.pa("PA-2")
    payroll.wage_run("PA-2")
    assert len(payroll.state().wage_runs) == 3


def test_wage_run_for_an_unknown_pa_is_refused(payroll: Any) -> None:
    with pytest.raises(UnknownParty, match="no personal assistant 'PA-9'"):
        payroll.wage_run("PA-9")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"gross": "0", "net": "0", "paye": "0", "employee_ni": "0", "employee_pension": "0"},
            "gross",
        ),
        ({"paye": "-1.00"}, "paye"),
        ({"employer_ni": 30.0}, "employer_ni"),
        ({"hours": "39.345"}, "hours"),
        ({"period_start": "2026-04-13"}, "period_end"),
    ],
)
def test_wage_run_fields_are_validated(payroll: Any, change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        payroll.wage_run(**change)
    assert caught.value.field == field


def test_paying_net_wages_hmrc_and_pension(payroll: Any) -> None:
    payroll.wage_run()
    net = payroll.do("pay_net_wages", pa_id="PA-1", amount="415.00")
    assert net.postings.effect_on(A.PA_NET_WAGES_PAYABLE) == 41500
    assert net.postings.effect_on(A.BANK) == -41500
    hmrc = payroll.do("pay_hmrc", amount="90.00", effective_date="2026-05-22")
    assert hmrc.postings.effect_on(A.HMRC_PAYABLE) == 9000
    pension = payroll.do("pay_pension", amount="40.00")
    assert pension.postings.effect_on(A.PENSION_PAYABLE) == 4000
    state = payroll.state()
    assert state.bank_balance == Money("555.00")
    assert state.unpaid_liabilities == Money(0)
    assert state.personal_assistants["PA-1"].net_owed == Money(0)
    assert state.balances[A.PA_GROSS_WAGES] == Money("500.00")
    assert state.balances[A.EMPLOYER_NI] == Money("30.00")
    assert state.balances[A.EMPLOYER_PENSION] == Money("15.00")


def test_part_payments_of_payroll_liabilities(payroll: Any) -> None:
    payroll.wage_run()
    payroll.do("pay_net_wages", pa_id="PA-1", amount="400.00")
    payroll.do("pay_hmrc", amount="45.00")
    payroll.do("pay_pension", amount="0.01")
    assert payroll.state().personal_assistants["PA-1"].net_owed == Money("15.00")
    assert payroll.owed(A.HMRC_PAYABLE) == Money("45.00")
    assert payroll.owed(A.PENSION_PAYABLE) == Money("39.99")


@pytest.mark.parametrize(
    ("command", "kwargs", "owed"),
    [
        ("pay_net_wages", {"pa_id": "PA-1", "amount": "415.01"}, "£415.00"),
        ("pay_hmrc", {"amount": "90.01"}, "£90.00"),
        ("pay_pension", {"amount": "40.01"}, "£40.00"),
    ],
)
def test_payroll_payments_never_exceed_what_is_owed(
    payroll: Any, command: str, kwargs: dict[str, Any], owed: str
) -> None:
    payroll.wage_run()
    with pytest.raises(Overpayment) as caught:
        payroll.do(command, **kwargs)
    assert f"more than the {owed} owed" in str(caught.value)
    assert caught.value.fix == f"pay at most {owed}"
    assert payroll.version == 6
    assert payroll.bank() == Money("1100.00")


@pytest.mark.parametrize(
    ("command", "kwargs"),
    [
        ("pay_net_wages", {"pa_id": "PA-1", "amount": "0.01"}),
        ("pay_hmrc", {"amount": "0.01"}),
        ("pay_pension", {"amount": "0.01"}),
    ],
)
def test_nothing_can_be_paid_before_anything_is_owed(
    payroll: Any, command: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(Overpayment, match=re.escape("more than the £0.00 owed")):
        payroll.do(command, **kwargs)


def test_net_wages_are_owed_per_pa(payroll: Any) -> None:
    payroll.pa("PA-2")
    payroll.wage_run("PA-1")
    with pytest.raises(Overpayment):
        payroll.do("pay_net_wages", pa_id="PA-2", amount="1.00")
    with pytest.raises(UnknownParty):
        payroll.do("pay_net_wages", pa_id="PA-9", amount="1.00")


def test_net_wages_beyond_the_bank_are_refused(payroll: Any) -> None:
    payroll.wage_run(
        gross="2000.00", paye="0", employee_ni="0", employee_pension="0", net="2000.00"
    )
    with pytest.raises(InsufficientFunds) as caught:
        payroll.do("pay_net_wages", pa_id="PA-1", amount="2000.00")
    assert caught.value.shortfall == Money("900.00")
    assert payroll.state().personal_assistants["PA-1"].net_owed == Money("2000.00")


@given(
    gross=st.integers(1, 500_000),
    paye=st.integers(0, 100_000),
    employee_ni=st.integers(0, 100_000),
    employer_ni=st.integers(0, 100_000),
    employee_pension=st.integers(0, 100_000),
    employer_pension=st.integers(0, 100_000),
)
def test_any_balanced_wage_run_posts_gross_plus_employer_costs(
    gross: int,
    paye: int,
    employee_ni: int,
    employer_ni: int,
    employee_pension: int,
    employer_pension: int,
) -> None:
    net = gross - paye - employee_ni - employee_pension
    with Ledger.in_memory() as ledger:
        day = {"effective_date": "2026-04-06", "actor": "a"}
        ledger.open_account("DP-W", person_ref="P", council="C", provider="S", **day)
        ledger.register_personal_assistant("DP-W", pa_id="PA", hourly_rate="12.71", **day)
        args = {
            "pa_id": "PA",
            "period_start": "2026-04-06",
            "period_end": "2026-04-12",
            "hours": "10",
            "gross": gross,
            "paye": paye,
            "employee_ni": employee_ni,
            "employer_ni": employer_ni,
            "employee_pension": employee_pension,
            "employer_pension": employer_pension,
        }
        if net < 0:  # deductions beyond gross: no net pay can balance it
            with pytest.raises(ValidationError) as caught:
                ledger.record_wage_run("DP-W", **args, net=net, **day)
            assert caught.value.field == "net"
            with pytest.raises(WageRunDoesNotBalance):
                ledger.record_wage_run("DP-W", **args, net=0, **day)
            return
        receipt = ledger.record_wage_run("DP-W", **args, net=net, **day)
        postings = receipt.postings
        assert sum(p.amount.pence for p in postings) == 0
        cost = gross + employer_ni + employer_pension
        expenses = sum(
            postings.effect_on(a) for a in (A.PA_GROSS_WAGES, A.EMPLOYER_NI, A.EMPLOYER_PENSION)
        )
        assert expenses == cost
        assert -postings.effect_on(A.PA_NET_WAGES_PAYABLE) == net
        assert -postings.effect_on(A.HMRC_PAYABLE) == paye + employee_ni + employer_ni
        assert -postings.effect_on(A.PENSION_PAYABLE) == employee_pension + employer_pension
        assert ledger.account("DP-W").unpaid_liabilities == Money(cost)


def test_employment_allowance_offsets_employer_ni_owed_to_hmrc(funded: Any) -> None:
    funded.pa()
    funded.wage_run()  # employer NI £30, HMRC owed £90
    bank_before = funded.state().bank_balance
    receipt = funded.do("claim_employment_allowance", amount="30.00")
    state = funded.state()
    assert {(p.account, p.amount) for p in receipt.postings} == {
        (LedgerAccount.HMRC_PAYABLE, Money("30.00")),
        (LedgerAccount.EMPLOYER_NI, Money("-30.00")),
    }
    assert state.owed(LedgerAccount.HMRC_PAYABLE) == Money("60.00")
    assert state.balances[LedgerAccount.EMPLOYER_NI] == Money(0)
    assert state.bank_balance == bank_before


def test_employment_allowance_never_exceeds_employer_ni_incurred(funded: Any) -> None:
    funded.pa()
    funded.wage_run()  # employer NI £30 although £90 is owed to HMRC
    version = funded.state().version
    with pytest.raises(Overpayment, match="employer NI"):
        funded.do("claim_employment_allowance", amount="30.01")
    assert funded.state().version == version
