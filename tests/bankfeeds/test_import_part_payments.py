"""Part payments, payments in several lines and remittances, imported end to end through
``Ledger.import_statement``.

The account ``DP-1`` is opened on 2026-04-06 with a budget of £100.00 a week gross and £20.00 a
week contribution (net basis, four-weekly): £320.00 council payments due every 28 days. Each test
builds the statement it imports from ``dpledger.adapters.bankfeeds``' model, so the lines are in
view; the money is recorded by the same commands a hand entry runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.bankfeeds.model import (
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
)

ACCOUNT = "DP-1"
ACTOR = "importer-1"
OPENED = date(2026, 4, 6)
IBAN = "GB29NWBK60161331926819"


def open_account(ledger: Ledger, **policy: Any) -> None:
    ledger.open_account(
        ACCOUNT,
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date=OPENED,
        actor=ACTOR,
        policy=policy or None,
    )
    ledger.agree_budget(
        ACCOUNT,
        weekly_gross="100.00",
        weekly_contribution="20.00",
        effective_date=OPENED,
        actor=ACTOR,
    )


def statement(
    lines: Sequence[tuple[date, int, str]], *, reversal: int | None = None
) -> BankStatement:
    """A camt.053 statement of (booking date, signed pence, text) lines; ``reversal`` marks the
    line at that index as a bank reversal."""
    transactions = tuple(
        BankTransaction(
            booking_date=day,
            amount=Money(abs(pence)),
            direction=Direction.CREDIT if pence > 0 else Direction.DEBIT,
            description=text,
            is_reversal=index == reversal,
            source_location=f"Ntry[{index + 1}]",
        )
        for index, (day, pence, text) in enumerate(lines)
    )
    return BankStatement(
        source_file="parts.xml",
        format=BankFormat.CAMT053,
        account_id=IBAN,
        currency="GBP",
        transactions=transactions,
    )


def wages_owed(ledger: Ledger, net: Money) -> None:
    """PA-1 is owed ``net`` (a run with no deductions): the only liability."""
    ledger.register_personal_assistant(
        ACCOUNT, pa_id="PA-1", hourly_rate="12.00", effective_date=OPENED, actor=ACTOR
    )
    ledger.record_wage_run(
        ACCOUNT,
        pa_id="PA-1",
        period_start=OPENED,
        period_end=OPENED + timedelta(days=6),
        hours="10",
        gross=net,
        paye="0",
        employee_ni="0",
        employer_ni="0",
        employee_pension="0",
        employer_pension="0",
        net=net,
        effective_date=OPENED + timedelta(days=6),
        actor=ACTOR,
    )


def invoices(ledger: Ledger, totals: Sequence[int]) -> list[str]:
    """Approved invoices INV-1.. of AG-1 of these totals (pence), oldest first."""
    ledger.register_agency(
        ACCOUNT, agency_id="AG-1", name="Oak Care", effective_date=OPENED, actor=ACTOR
    )
    numbers = []
    for index, pence in enumerate(totals, start=1):
        number = f"INV-{index}"
        ledger.receive_invoice(
            ACCOUNT,
            agency_id="AG-1",
            invoice_number=number,
            period_start=OPENED,
            period_end=OPENED + timedelta(days=6),
            hours="1",
            rate=Money(pence),
            total=Money(pence),
            effective_date=OPENED + timedelta(days=7),
            actor=ACTOR,
        )
        ledger.approve_invoice(
            ACCOUNT,
            agency_id="AG-1",
            invoice_number=number,
            effective_date=OPENED + timedelta(days=7),
            actor=ACTOR,
        )
        numbers.append(number)
    return numbers


def pa_owed(ledger: Ledger) -> Money:
    return ledger.account(ACCOUNT).owed(LedgerAccount.PA_NET_WAGES_PAYABLE)


# ----------------------------------------------------------------------------- wages in parts
def test_wages_paid_in_two_lines_are_both_wages_and_the_pa_owes_nothing() -> None:
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        wages_owed(ledger, Money("160.02"))
        day = date(2026, 4, 14)
        report = ledger.import_statement(
            ACCOUNT,
            statement([(day, -8000, "J SMITH WAGES"), (day, -8002, "J SMITH WAGES")]),
            actor=ACTOR,
        )
        assert [line.match for line in report.recorded] == ["net_wages", "net_wages"]
        reasons = sorted(line.reason for line in report.recorded)
        assert any("a part payment of £80.00" in r for r in reasons) or any(
            "a part payment of £80.02" in r for r in reasons
        )
        assert pa_owed(ledger) == Money("0.00")
        assert ledger.unexplained_outgoings(ACCOUNT) == {}
        assert ledger.account(ACCOUNT).balances[LedgerAccount.BANK] == Money("-160.02")
        # importing the statement again records nothing
        again = ledger.import_statement(
            ACCOUNT,
            statement([(day, -8000, "J SMITH WAGES"), (day, -8002, "J SMITH WAGES")]),
            actor=ACTOR,
        )
        assert again.nothing_new


@given(
    owed=st.integers(2, 500_000),
    cuts=st.lists(st.integers(1, 999), min_size=1, max_size=5),  # thousandths of the amount
    spread=st.lists(st.integers(0, 10), min_size=6, max_size=6),
    named=st.booleans(),
)
def test_wages_split_into_any_parts_across_lines_leave_nothing_owed_or_held(
    owed: int, cuts: list[int], spread: list[int], named: bool
) -> None:
    points = sorted({max(1, min(owed - 1, owed * c // 1000)) for c in cuts})
    parts = [b - a for a, b in zip([0, *points], [*points, owed], strict=True)]
    assert sum(parts) == owed
    assert all(p > 0 for p in parts)
    lines = [
        (date(2026, 4, 14) + timedelta(days=spread[i]), -part, "PA-1" if named else "WAGES")
        for i, part in enumerate(parts)
    ]
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        wages_owed(ledger, Money(owed))
        report = ledger.import_statement(ACCOUNT, statement(lines), actor=ACTOR)
        assert {line.match for line in report.recorded} == {"net_wages"}
        assert pa_owed(ledger) == Money(0)
        assert ledger.unexplained_outgoings(ACCOUNT) == {}


@given(
    totals=st.lists(st.integers(100, 100_000), min_size=1, max_size=4),
    cut=st.floats(0.05, 0.95),
)
def test_an_invoice_paid_in_lines_naming_it_is_paid_in_full(totals: list[int], cut: float) -> None:
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        numbers = invoices(ledger, totals)
        lines = []
        for number, total in zip(numbers, totals, strict=True):
            first = max(1, min(total - 1, round(total * cut)))
            lines += [
                (date(2026, 4, 20), -first, f"OAK CARE {number}"),
                (date(2026, 4, 21), -(total - first), f"OAK CARE {number}"),
            ]
        report = ledger.import_statement(ACCOUNT, statement(lines), actor=ACTOR)
        assert {line.match for line in report.recorded} == {"invoice_payment"}, [
            line.reason for line in report.recorded
        ]
        assert ledger.account(ACCOUNT).owed(LedgerAccount.AGENCY_PAYABLE) == Money(0)
        assert ledger.unexplained_outgoings(ACCOUNT) == {}


# ----------------------------------------------------------------------------- remittances
def test_a_remittance_line_pays_the_invoices_it_names_in_one_event_a_reversal_undoes() -> None:
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        invoices(ledger, [10000, 4000, 6000])
        day = date(2026, 4, 20)
        report = ledger.import_statement(
            ACCOUNT, statement([(day, -16000, "OAK CARE REMITTANCE INV-1 INV-3")]), actor=ACTOR
        )
        (line,) = report.recorded
        assert (line.match, line.event_type) == ("remittance", "RemittancePaid")
        event = ledger.events(ACCOUNT)[-1]
        assert [(n, Money(a) if isinstance(a, int) else a) for n, a in event.payments] == [
            ("INV-1", Money("100.00")),
            ("INV-3", Money("60.00")),
        ]
        assert str(event.command_key).startswith("bank:")
        state = ledger.account(ACCOUNT)
        assert state.owed(LedgerAccount.AGENCY_PAYABLE) == Money("40.00")
        # the bank returns the payment: one line, one event corrected, both invoices owed again
        back = ledger.import_statement(
            ACCOUNT,
            statement([(day + timedelta(days=1), 16000, "RETURNED")], reversal=0),
            actor=ACTOR,
        )
        assert [line.match for line in back.recorded] == ["reversal"]
        assert ledger.account(ACCOUNT).owed(LedgerAccount.AGENCY_PAYABLE) == Money("200.00")
        assert ledger.account(ACCOUNT).balances[LedgerAccount.BANK] == Money(0)


@given(
    totals=st.lists(st.integers(1, 100_000), min_size=2, max_size=6),
    take=st.integers(2, 6),
)
def test_a_remittance_equals_the_sum_of_the_invoices_it_pays(totals: list[int], take: int) -> None:
    take = min(take, len(totals))
    paid = sum(totals[:take])
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        invoices(ledger, totals)
        report = ledger.import_statement(
            ACCOUNT, statement([(date(2026, 4, 20), -paid, "OAK CARE")]), actor=ACTOR
        )
        (line,) = report.recorded
        if line.match != "remittance":
            # another reading fitted first (one invoice of that amount, an earlier prefix)
            assert line.match in {"invoice_payment", "unexpected_outgoing"}, line.reason
            return
        event = ledger.events(ACCOUNT)[-1]
        amounts = [Money(a) if isinstance(a, int) else a for _, a in event.payments]
        assert sum(a.pence for a in amounts) == event.amount.pence == paid
        owed = ledger.account(ACCOUNT).owed(LedgerAccount.AGENCY_PAYABLE)
        assert owed == Money(sum(totals) - paid)


# ----------------------------------------------------------------------------- the council
def test_a_council_payment_of_another_amount_is_recorded_for_its_period_with_a_warning() -> None:
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        report = ledger.import_statement(
            ACCOUNT,
            statement(
                [
                    (date(2026, 4, 6), 30000, "KENT COUNTY COUNCIL DIRECT PAYMENT"),
                    (date(2026, 4, 8), 2000, "KENT COUNTY COUNCIL DIRECT PAYMENT"),
                    (date(2026, 5, 4), 31000, "KENT COUNTY COUNCIL DIRECT PAYMENT"),
                ]
            ),
            actor=ACTOR,
        )
        assert [line.match for line in report.recorded] == ["council_payment"] * 3
        warnings = {
            w.subject: w for w in ledger.warnings(ACCOUNT) if w.rule == "council_payment_differs"
        }
        # April's arrived in two lines and adds up; May's is £10.00 short
        assert set(warnings) == {"council:2026-05-04"}
        assert warnings["council:2026-05-04"].figures["difference"] == -1000
        assert ledger.account(ACCOUNT).balances[LedgerAccount.COUNCIL_INCOME] == Money("-630.00")
