"""The demo records a consistent year, refuses what it should, and the command prints it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters.bankfeeds import parse_bytes
from dpledger.demo import (
    DEMO_ACCOUNT_IDS,
    OWN_BANK_ACCOUNT_IDS,
    POOL_IBAN,
    POOLED_ACCOUNT_IDS,
    DemoReport,
    PoolLine,
    build_demo,
    camt053,
    four_weekly_payslip,
    render,
)
from dpledger.demo.payroll import hmrc_due_date
from dpledger.demo.setting import (
    FINANCE,
    YEAR_END,
    YEAR_START,
    calendar_months,
    four_weekly_periods,
)
from dpledger.domain.corrections import EntryCorrected
from dpledger.domain.invoices import InvoiceReceived
from dpledger.domain.surplus import RecoupmentDemanded
from dpledger.errors import AccountAlreadyExists


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Ledger, DemoReport]]:
    """The demo year on an in-memory ledger (built once: the facts below only read it)."""
    with Ledger.in_memory() as ledger:
        yield ledger, build_demo(ledger)


def test_the_demo_records_each_account(built: tuple[Ledger, DemoReport]) -> None:
    ledger, report = built
    # The five accounts with a bank account each (the report's table), and the two whose
    # money is in the pool (its own section).
    assert ledger.account_ids() == list(DEMO_ACCOUNT_IDS)
    assert DEMO_ACCOUNT_IDS == OWN_BANK_ACCOUNT_IDS + POOLED_ACCOUNT_IDS
    assert [a.account_id for a in report.accounts] == list(OWN_BANK_ACCOUNT_IDS)
    assert 4 <= len(report.accounts) <= 6
    for summary in report.accounts:
        assert summary.events == len(ledger.events(summary.account_id)) > 50


def test_every_account_balances_to_zero_over_all_events(built: tuple[Ledger, DemoReport]) -> None:
    ledger, _ = built
    for account_id in DEMO_ACCOUNT_IDS:
        total = 0
        for event in ledger.events(account_id):
            pence = [line.amount.pence for line in event.postings]
            assert sum(pence) == 0, (account_id, event.originator_version)
            total += sum(pence)
        assert total == 0
        assert sum(m.pence for m in ledger.balances(account_id).values()) == 0


def test_the_bank_is_never_overdrawn(built: tuple[Ledger, DemoReport]) -> None:
    ledger, _ = built
    for account_id in DEMO_ACCOUNT_IDS:
        bank = 0
        for event in ledger.events(account_id):
            bank += event.postings.effect_on(LedgerAccount.BANK)
            assert bank >= 0, (account_id, event.originator_version)
        assert Money(bank) == ledger.bank_balance(account_id)


def test_money_in_minus_money_out_is_the_bank_balance(built: tuple[Ledger, DemoReport]) -> None:
    _, report = built
    for summary in report.accounts:
        money_in = sum(m.pence for m in summary.money_in.values())
        money_out = sum(m.pence for m in summary.money_out.values())
        assert Money(money_in - money_out) == summary.bank_balance, summary.account_id
        assert all(not m.is_negative() for m in summary.money_out.values())


def test_the_overdraft_was_refused_with_the_right_shortfall(
    built: tuple[Ledger, DemoReport],
) -> None:
    ledger, report = built
    [refused] = report.prevented_overdrafts
    assert refused.account_id == "DP-1004"
    assert refused.shortfall == refused.amount - refused.balance
    assert refused.shortfall.is_positive()
    # The balance the ledger reported is what the events recorded up to that day add up to.
    before = sum(
        e.postings.effect_on(LedgerAccount.BANK)
        for e in ledger.events("DP-1004")
        if e.effective_date <= refused.attempted_on
    )
    assert Money(before) == refused.balance
    # It was paid once the next council payment arrived, for the amount first attempted.
    assert refused.paid_on is not None
    assert refused.paid_on > refused.attempted_on
    assert refused.paid_after == "CouncilPaymentReceived"
    invoice = ledger.account("DP-1004").invoices["AG-MBC/MBC-2511"]
    assert invoice.total == refused.amount
    assert invoice.paid == invoice.total


def test_the_duplicate_invoice_was_refused(built: tuple[Ledger, DemoReport]) -> None:
    ledger, report = built
    [refused] = report.refused_invoices
    assert (refused.account_id, refused.invoice_number) == ("DP-1001", "BHC-2507")
    received = [
        e
        for e in ledger.events("DP-1001")
        if isinstance(e, InvoiceReceived) and e.invoice_number == "BHC-2507"
    ]
    assert len(received) == 1


def test_the_retry_was_a_no_op(built: tuple[Ledger, DemoReport]) -> None:
    _, report = built
    [retry] = report.retries
    assert retry.replayed
    assert retry.retry_version == retry.first_version
    assert retry.events_after == retry.events_before


def test_the_other_stories_happened(built: tuple[Ledger, DemoReport]) -> None:
    ledger, report = built
    dp1001 = ledger.account("DP-1001")
    assert dp1001.invoices["AG-BHC/BHC-2510"].status.value == "disputed"
    assert [i.status.value for i in dp1001.suspense_items.values()] == ["refunded"]
    dp1002 = ledger.account("DP-1002")
    assert [i.resolution for i in dp1002.suspense_items.values()] == ["contribution"]
    assert len(dp1002.budgets) == 2
    assert any(isinstance(e, EntryCorrected) for e in ledger.events("DP-1002"))
    kinds = [type(e).__name__ for e in ledger.events("DP-1004")]
    assert kinds.index("AccountSuspended") < kinds.index("AccountResumed")
    assert "OneOffPaymentReceived" in kinds
    dp1005 = next(a for a in report.accounts if a.account_id == "DP-1005")
    assert dp1005.money_out["to the council"].is_positive()
    # Every recoupment was checked against the surplus on its day.
    for event in ledger.events("DP-1005"):
        if isinstance(event, RecoupmentDemanded):
            assert event.amount <= event.surplus


def test_the_report_renders_every_account(built: tuple[Ledger, DemoReport]) -> None:
    _, report = built
    text = render(report)
    for account_id in DEMO_ACCOUNT_IDS:
        assert account_id in text
    for expected in ("What happened", "overdraft prevented", "duplicate invoice refused"):
        assert expected in text
    assert report.pool is not None
    for account_id in POOLED_ACCOUNT_IDS:
        assert account_id in text
    assert f"Reconciliation: {report.pool.reconciliation}." in " ".join(text.split())
    assert len(text.splitlines()) <= 80
    assert max(len(line) for line in text.splitlines()) <= 90


def test_the_demo_is_deterministic(built: tuple[Ledger, DemoReport]) -> None:
    _, report = built
    with Ledger.in_memory() as again:
        assert render(build_demo(again)) == render(report)


def test_the_demo_refuses_a_store_that_already_holds_it(built: tuple[Ledger, DemoReport]) -> None:
    ledger, _ = built
    with pytest.raises(AccountAlreadyExists, match="already holds the demo"):
        build_demo(ledger)


def test_the_demo_on_sqlite_reads_back_the_same(
    tmp_path: Path, built: tuple[Ledger, DemoReport]
) -> None:
    memory, _ = built
    path = tmp_path / "demo.sqlite"
    with Ledger.sqlite(path) as ledger:
        report = build_demo(ledger)
    assert report.store_url.endswith("demo.sqlite")
    with Ledger.sqlite(path) as reopened:
        for account_id in DEMO_ACCOUNT_IDS:
            assert reopened.balances(account_id) == memory.balances(account_id)
            assert reopened.account(account_id).version == memory.account(account_id).version


def test_payslip_figures_are_exact() -> None:
    slip = four_weekly_payslip(Decimal(120), Money("13.00"))
    assert slip.gross == Money("1560.00")
    assert slip.employer_ni == Money("176.40")  # 15% of (1560 - 384)
    assert slip.employee_ni == Money("47.36")  # 8% of (1560 - 968)
    # 20% of 592 whole pounds above £967.68, code 1257L's 4-week free pay in HMRC's Table A
    assert slip.paye == Money("118.40")
    assert (slip.employee_pension, slip.employer_pension) == (Money("54.00"), Money("32.40"))
    assert slip.net == Money("1340.24")
    with pytest.raises(ValueError, match="National Living Wage"):
        four_weekly_payslip(Decimal(100), Money("12.20"))


@pytest.mark.parametrize(
    ("pay_day", "monthly", "quarterly"),
    [
        (date(2025, 5, 2), date(2025, 5, 22), date(2025, 7, 22)),  # tax month 6 Apr-5 May
        (date(2025, 5, 9), date(2025, 6, 22), date(2025, 7, 22)),
        (date(2025, 12, 31), date(2026, 1, 22), date(2026, 1, 22)),  # quarter 6 Oct-5 Jan
        (date(2026, 1, 5), date(2026, 1, 22), date(2026, 1, 22)),
        (date(2026, 1, 6), date(2026, 2, 22), date(2026, 4, 22)),  # quarter 6 Jan-5 Apr
    ],
)
def test_hmrc_is_due_on_the_22nd_after_the_tax_month_or_quarter(
    pay_day: date, monthly: date, quarterly: date
) -> None:
    assert hmrc_due_date(pay_day, quarterly=False) == monthly
    assert hmrc_due_date(pay_day, quarterly=True) == quarterly


@given(st.dates(min_value=date(2025, 4, 6), max_value=date(2026, 4, 5)))
def test_hmrc_due_dates_fall_after_the_pay_day(pay_day: date) -> None:
    monthly = hmrc_due_date(pay_day, quarterly=False)
    quarterly = hmrc_due_date(pay_day, quarterly=True)
    # Paid on the 5th: due 17 days later; paid on the 6th: the tax month has only begun.
    assert monthly.day == 22
    assert 17 <= (monthly - pay_day).days <= 47
    assert quarterly.day == 22
    assert quarterly.month in {1, 4, 7, 10}
    assert monthly <= quarterly <= monthly + timedelta(days=62)  # at most two months later


def test_the_calendars_cover_the_year() -> None:
    periods = list(four_weekly_periods())
    assert len(periods) == 13
    assert (periods[0][0], periods[-1][1]) == (YEAR_START, YEAR_END)
    assert all(later[0] - earlier[1] == timedelta(days=1) for earlier, later in pairwise(periods))
    months = list(calendar_months())
    assert months[0][0] == YEAR_START
    assert months[-1][0] <= YEAR_END < months[-1][1]
    assert all(later[0] - earlier[1] == timedelta(days=1) for earlier, later in pairwise(months))


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dpledger.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_command_runs_the_demo_twice(tmp_path: Path) -> None:
    store = tmp_path / "demo.sqlite"
    first = _cli("demo", "--store", str(store), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # command logs stay quiet without --verbose
    assert "dpledger demo: a year at Northshire County Council" in first.stdout
    assert "What happened" in first.stdout
    assert str(store) in first.stdout
    second = _cli("demo", "--store", str(store), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Removed the previous demo file" in second.stdout
    assert second.stdout.split("\n", 2)[2] == first.stdout


def test_the_console_command_refuses_a_file_that_is_not_the_demo(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    with Ledger.sqlite(store) as ledger:
        ledger.open_account(
            "MINE-1",
            person_ref="P-1",
            council="Northshire County Council",
            provider="Managed Account Service",
            effective_date=date(2025, 4, 7),
            actor="test",
        )
    refused = _cli("demo", "--store", str(store), cwd=tmp_path)
    assert refused.returncode == 1
    assert "MINE-1" in refused.stderr
    assert "Fix:" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert store.exists()
    assert _cli("demo", "--store", str(store), "--fresh", cwd=tmp_path).returncode == 0


def test_the_console_command_reports_usage_errors(tmp_path: Path) -> None:
    assert _cli("demo", "--no-such-option", cwd=tmp_path).returncode == 2
    assert _cli(cwd=tmp_path).returncode == 2
    verbose = _cli("demo", "--store", "memory:", "--verbose", cwd=tmp_path)
    assert verbose.returncode == 0
    assert "event='command.recorded'" in verbose.stderr


# ----------------------------------------------------------------------------- the pool
def test_the_pool_adds_up_and_each_share_is_its_members_money(
    built: tuple[Ledger, DemoReport],
) -> None:
    ledger, report = built
    pool = report.pool
    assert pool is not None
    position = ledger.pool_position(POOL_IBAN)
    assert pool.adds_up
    assert position.adds_up
    assert set(pool.members) == set(POOLED_ACCOUNT_IDS)
    for account_id in POOLED_ACCOUNT_IDS:
        # The member's own ledger holds exactly its share of the pool, and its money went out
        # only as what it owed: nothing was held in its suspense.
        assert pool.shares[account_id] == ledger.bank_balance(account_id)
        assert pool.shares[account_id].is_positive()
        assert ledger.account(account_id).suspense_items == {}
    assert pool.balance == sum((pool.shares[m] for m in pool.members), pool.unallocated)
    assert pool.unallocated == Money(0)
    assert ledger.unallocated(POOL_IBAN) == []
    assert ledger.verify().ok


def test_the_pools_reconciliation_is_backed_by_the_balances_the_bank_stated(
    built: tuple[Ledger, DemoReport],
) -> None:
    ledger, report = built
    assert report.pool is not None
    position = ledger.pool_position(POOL_IBAN)
    # One closing balance a statement; each opening repeats the last closing (or precedes the
    # pool), so it states nothing new.
    assert len(position.stated) == report.pool.statements == len(list(four_weekly_periods()))
    assert all(stated.agrees for stated in position.stated)
    assert position.stated[-1].day == YEAR_END
    assert position.stated[-1].stated == position.balance
    assert report.pool.reconciliation == position.reconciliation()
    assert f"all {len(position.stated)} stated balances" in report.pool.reconciliation
    # A member's own sheet compares nothing: the pool's balances are all its members' money.
    sheet = ledger.statement("DP-1006", YEAR_START, YEAR_END)
    assert sheet.stated_balances == 0
    assert sheet.reconciliation.startswith("No bank balance was stated")


def test_every_way_of_allocating_a_pooled_line_happened(built: tuple[Ledger, DemoReport]) -> None:
    ledger, report = built
    pool = report.pool
    assert pool is not None
    assert all(pool.allocated_by[how] >= 1 for how in ("named", "rule", "expected", "held"))
    assert sum(pool.allocated_by.values()) == pool.lines
    # The held line was allocated by a person, with a reason, to the member it was for.
    allocated = [
        event
        for event in ledger.application.events.get(_pool_id())
        if type(event).__name__ == "LineAllocated"
    ]
    assert len(allocated) == pool.allocated_by["held"] == 1
    (allocation,) = allocated
    assert allocation.account_id == "DP-1007"
    assert allocation.actor == FINANCE
    assert "daughter" in (allocation.reason or "")
    assert allocation.match == "contribution"
    assert any(h.account_id == "DP-1007" and "held" in h.text for h in report.highlights)


def _pool_id() -> object:
    from dpledger.domain.bank import bank_account_uuid
    from dpledger.domain.bankids import bank_key

    return bank_account_uuid(bank_key(POOL_IBAN))


def test_the_pool_statements_are_camt053_whose_balances_chain() -> None:
    lines = [
        PoolLine(date(2025, 4, 8), 132_000, "NORTHSHIRE CC P-10236 & CO", "NORTHSHIRE CC", "R-1"),
        PoolLine(date(2025, 4, 9), -4_530, "INVOICE OAK-2504", "OAKFIELD CARE LTD", "R-2"),
    ]
    data = camt053(
        lines,
        iban=POOL_IBAN,
        statement_id="VW-1",
        period=(date(2025, 4, 7), date(2025, 5, 4)),
        opening_pence=10_000,
    )
    (statement,) = parse_bytes(data, filename="pool.xml")
    assert statement.account_id == "60-95-11 20250407"  # the IBAN, as sort code and number
    assert statement.opening_balance is not None
    assert statement.closing_balance is not None
    assert statement.opening_balance.balance == Money("100.00")
    assert statement.closing_balance.balance == Money("100.00") + Money("1320.00") - Money("45.30")
    assert [(t.amount, t.bank_reference) for t in statement.transactions] == [
        (Money("1320.00"), "R-1"),
        (Money("45.30"), "R-2"),
    ]
    assert statement.transactions[0].description == "NORTHSHIRE CC P-10236 & CO"
    assert statement.transactions[1].counterparty == "OAKFIELD CARE LTD"
