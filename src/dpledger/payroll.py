"""Payroll for personal assistants: UK rates by tax year, a gross-to-net payslip for the simple
cases, and the compliance checks every wage run passes through (see docs/payroll.md).

The public face of :mod:`dpledger.domain.rates`, :mod:`dpledger.domain.payslip` and
:mod:`dpledger.domain.compliance`.
"""

from dpledger.domain.payroll import HmrcDue, hmrc_due_date
from dpledger.domain.payslip import Payslip, payslip
from dpledger.domain.rates import RatesTable, RatesTableError, uk_rates

__all__ = [
    "HmrcDue",
    "Payslip",
    "RatesTable",
    "RatesTableError",
    "hmrc_due_date",
    "payslip",
    "uk_rates",
]
