"""``Ledger.hmrc_due``: what HMRC is owed, by due date (the PAYE forecast)."""

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
