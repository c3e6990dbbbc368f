"""The read side: balances at any date (as known then), warnings, a council's portfolio, verify.

Run from the repository root: ``python examples/04_oversight.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dpledger import Ledger

COUNCIL = "Fictional Borough Council"
WHO = {"actor": "officer-12"}

with Ledger.in_memory(seal_key=b"kept-by-the-audit-team") as ledger:
    for account_id in ("DP-1", "DP-2"):
        ledger.open_account(
            account_id,
            person_ref=f"P-{account_id}",
            council=COUNCIL,
            provider="Example Managed Accounts",
            effective_date="2026-04-06",
            **WHO,
        )
        ledger.agree_budget(
            account_id,
            weekly_gross="250.00",
            weekly_contribution="30.00",
            effective_date="2026-04-06",
            **WHO,
        )
        ledger.receive_council_payment(
            account_id, amount="880.00", effective_date="2026-04-06", **WHO
        )
        ledger.receive_contribution(account_id, amount="120.00", effective_date="2026-04-07", **WHO)
        ledger.register_agency(
            account_id, agency_id="AG-1", name="Riverside Care", effective_date="2026-04-06", **WHO
        )

    # DP-2 gets a late invoice: what did the ledger say about April before it was entered?
    before_the_invoice = datetime.now(UTC)
    time.sleep(0.01)
    ledger.receive_invoice(
        "DP-2",
        agency_id="AG-1",
        invoice_number="RC-0412",
        period_start="2026-04-06",
        period_end="2026-04-12",
        hours="36",
        rate="25.00",
        total="900.00",
        effective_date="2026-04-13",
        **WHO,
    )
    ledger.approve_invoice(
        "DP-2", agency_id="AG-1", invoice_number="RC-0412", effective_date="2026-04-13", **WHO
    )
    ledger.pay_invoice(
        "DP-2",
        agency_id="AG-1",
        invoice_number="RC-0412",
        amount="900.00",
        effective_date="2026-04-14",
        **WHO,
    )
    ledger.receive_unexpected_income(
        "DP-1", amount="45.00", description="DWP credit", effective_date="2026-04-15", **WHO
    )

    print("DP-2 bank on 30 April:", ledger.balance("DP-2", as_of="2026-04-30"))
    print(
        "  as known before the invoice:",
        ledger.balance("DP-2", as_of="2026-04-30", known_at=before_the_invoice),
    )
    april = ledger.period("DP-2", "2026-04-01", "2026-04-30")
    print(
        f"DP-2 April: opening {april.opening} + in {april.total_in} - out {april.total_out}"
        f" = closing {april.closing}"
    )
    print("Warnings in force:")
    for warning in ledger.warnings(council=COUNCIL):
        print(f"  {warning.account_id} {warning.rule}: {warning.explanation}")
    portfolio = ledger.portfolio(COUNCIL, on="2026-04-30")
    print(
        "Money held:", portfolio.money_held, "| surplus candidates:", portfolio.surplus_candidates
    )
    print("Reviews due:", [(r.account_id, r.due.isoformat()) for r in portfolio.reviews_due])
    seals = [ledger.seal(a) for a in ("DP-1", "DP-2")]
    print("Verified:", ledger.verify(seals=seals).ok)
