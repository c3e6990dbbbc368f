"""The demo's setting: the council, its providers and policy, who acts, and the year's calendar.

Everything here is invented (the council, the providers) except the shape of the year: 13
four-weekly periods from Monday 7 April 2025, the way councils pay net Direct Payments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from dpledger import AccountPolicy

COUNCIL = "Northshire County Council"
"""A fictional council."""
KESTREL = "Kestrel Managed Accounts"
RIVERSIDE = "Riverside Independent Living CIC"
"""Two fictional managed-account providers."""

YEAR_START = date(2025, 4, 7)
"""A Monday: the first 4-weekly period and the first payroll period start here."""
YEAR_END = date(2026, 4, 5)
"""The Sunday that ends the 13th 4-weekly period (52 weeks after ``YEAR_START``)."""

OWN_BANK_ACCOUNT_IDS = ("DP-1001", "DP-1002", "DP-1003", "DP-1004", "DP-1005")
"""The five accounts whose money is in a bank account of their own (the report's table)."""
POOLED_ACCOUNT_IDS = ("DP-1006", "DP-1007")
"""The two accounts whose money is in the provider's pooled client account
(:mod:`dpledger.demo.pooled`)."""
DEMO_ACCOUNT_IDS = OWN_BANK_ACCOUNT_IDS + POOLED_ACCOUNT_IDS
"""Every account the demo records."""
ABOUT = {
    "DP-1001": "agency care, about 16 hours a week at £25.80, invoiced monthly",
    "DP-1002": "one PA at £13.00 an hour (NLW is £12.21), 30 then 35 hours a week; HMRC quarterly",
    "DP-1003": "two PAs; the council pays monthly in advance, pro rata by days; HMRC monthly",
    "DP-1004": "agency care at £27.10 an hour, using almost all of the budget",
    "DP-1005": "agency care, about 7 hours a week: family helps more, so money builds up",
}
"""What each demo account is, in a few words."""

NORTHSHIRE_POLICY = AccountPolicy(contingency_weeks=6, first_review_within_months=3)
"""The council's policy: net payments every 4 weeks, 6 weeks' contingency (Trafford keeps 6-8),
a first review within 3 months (Hartlepool). The monthly account overrides the frequency."""

# Who did what: bank lines come from the bank feed, decisions from people at the provider/council.
BANK_FEED = "bank-feed"
FINANCE = "provider:finance-officer"
PAYROLL = "provider:payroll-bureau"
SOCIAL_WORK = "council:dp-team"

# Stages within one day: money arrives first, then paperwork, then payments go out.
SETUP, IN, ADMIN, OUT = range(4)


# ----------------------------------------------------------------------------- calendars
def four_weekly_periods() -> Iterator[tuple[date, date]]:
    """The 13 four-week periods of the year, Monday to Sunday."""
    for k in range(13):
        start = YEAR_START + timedelta(days=28 * k)
        yield start, start + timedelta(days=27)


def calendar_months() -> Iterator[tuple[date, date]]:
    """The calendar months of the year (the first starts on ``YEAR_START``)."""
    start = YEAR_START
    while start <= YEAR_END:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        yield start, following - timedelta(days=1)
        start = following
