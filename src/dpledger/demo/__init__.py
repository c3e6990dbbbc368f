"""The ``dpledger demo``: a year of a fictional council's managed accounts, and a summary of it.

Five accounts hold their money in bank accounts of their own; two more (DP-1006 and DP-1007)
hold theirs in one pooled client account, whose real-format camt.053 statements are imported.

Everything here goes through the public :class:`~dpledger.Ledger` API, the way a council or
provider system would. The council, providers, agencies and people are invented; people appear only
by reference (``P-10231``) and personal assistants by id (``PA-1``). The year is deterministic: no
randomness and no clock, so every run records the same events and prints the same summary.

:func:`build_demo` records the year on a ledger and returns a :class:`DemoReport`; :func:`render`
turns the report into the plain-text summary the ``dpledger demo`` command prints.

The modules, by what a reader looks for:

- :mod:`.setting`: the council, providers, policy, who acts, and the year's calendar;
- :mod:`.payroll`: PA payslips (2025/26 tax, NI and pension) and HMRC and pension due dates;
- :mod:`.year`: the scheduler that runs every account's steps in date order, and the notable
  moments it collects (overdrafts prevented, invoices refused, retries, highlights);
- :mod:`.accounts`: each account's story and the council's reviews;
- :mod:`.pooled`: the pooled client account holding DP-1006's and DP-1007's money, its camt.053
  statements, and the line a person allocates;
- :mod:`.report`: :func:`build_demo`, :func:`summarise`, :func:`render` and the report types.
"""

from __future__ import annotations

from dpledger.demo.payroll import (
    BASIC_RATE,
    EMPLOYEE_NI_RATE,
    EMPLOYEE_NI_THRESHOLD,
    EMPLOYEE_PENSION_RATE,
    EMPLOYER_NI_RATE,
    EMPLOYER_NI_THRESHOLD,
    EMPLOYER_PENSION_RATE,
    NATIONAL_LIVING_WAGE,
    PAYROLL_FEE,
    PENSION_LOWER,
    PENSION_TRIGGER,
    PENSION_UPPER,
    PERSONAL_ALLOWANCE_PENCE,
    Payslip,
    four_weekly_payslip,
)
from dpledger.demo.pooled import POOL_IBAN, POOL_NAME, POOLED_ABOUT, PoolLine, camt053
from dpledger.demo.report import (
    MONEY_IN_ROWS,
    MONEY_OUT_ROWS,
    AccountSummary,
    DemoReport,
    PoolSummary,
    build_demo,
    render,
    summarise,
    summarise_pool,
)
from dpledger.demo.setting import (
    ABOUT,
    BANK_FEED,
    COUNCIL,
    DEMO_ACCOUNT_IDS,
    FINANCE,
    KESTREL,
    NORTHSHIRE_POLICY,
    OWN_BANK_ACCOUNT_IDS,
    PAYROLL,
    POOLED_ACCOUNT_IDS,
    RIVERSIDE,
    SOCIAL_WORK,
    YEAR_END,
    YEAR_START,
)
from dpledger.demo.year import Highlight, IdempotentRetry, PreventedOverdraft, RefusedInvoice

__all__ = [
    "ABOUT",
    "BANK_FEED",
    "BASIC_RATE",
    "COUNCIL",
    "DEMO_ACCOUNT_IDS",
    "EMPLOYEE_NI_RATE",
    "EMPLOYEE_NI_THRESHOLD",
    "EMPLOYEE_PENSION_RATE",
    "EMPLOYER_NI_RATE",
    "EMPLOYER_NI_THRESHOLD",
    "EMPLOYER_PENSION_RATE",
    "FINANCE",
    "KESTREL",
    "MONEY_IN_ROWS",
    "MONEY_OUT_ROWS",
    "NATIONAL_LIVING_WAGE",
    "NORTHSHIRE_POLICY",
    "OWN_BANK_ACCOUNT_IDS",
    "PAYROLL",
    "PAYROLL_FEE",
    "PENSION_LOWER",
    "PENSION_TRIGGER",
    "PENSION_UPPER",
    "PERSONAL_ALLOWANCE_PENCE",
    "POOLED_ABOUT",
    "POOLED_ACCOUNT_IDS",
    "POOL_IBAN",
    "POOL_NAME",
    "RIVERSIDE",
    "SOCIAL_WORK",
    "YEAR_END",
    "YEAR_START",
    "AccountSummary",
    "DemoReport",
    "Highlight",
    "IdempotentRetry",
    "Payslip",
    "PoolLine",
    "PoolSummary",
    "PreventedOverdraft",
    "RefusedInvoice",
    "build_demo",
    "camt053",
    "four_weekly_payslip",
    "render",
    "summarise",
    "summarise_pool",
]
