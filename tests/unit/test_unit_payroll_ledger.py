"""The payroll queries and receipts of the Ledger: `hmrc_due`, and a retried wage run's alerts."""

from __future__ import annotations

from datetime import date

from conftest import Funded
from dpledger import Money


def test_hmrc_is_owed_by_the_22nd_after_the_tax_month_of_the_pay_day(funded: Funded) -> None:
    funded.pa()
    funded.wage_run()  # PAYE £40 + employee NI £20 + employer NI £30, paid 2026-04-06
    (due,) = funded.ledger.hmrc_due(funded.account_id)
    assert due.due_on == date(2026, 5, 22)
    assert due.amount == Money("90.00")
    (quarterly,) = funded.ledger.hmrc_due(funded.account_id, quarterly=True)
    assert quarterly.due_on == date(2026, 7, 22)
    funded.do("pay_hmrc", amount="90.00")
    assert funded.ledger.hmrc_due(funded.account_id) == []


def test_a_retried_wage_run_says_again_which_compliance_alerts_hold(funded: Funded) -> None:
    funded.pa(rate="10.00")
    first = funded.wage_run(idempotency_key="run-1")
    again = funded.wage_run(idempotency_key="run-1")
    assert again.replayed
    below = {a.rule for a in first.alerts} & {"below_minimum_wage", "pay_inconsistent"}
    assert below
    assert below <= {a.rule for a in again.alerts}
