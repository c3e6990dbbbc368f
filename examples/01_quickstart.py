"""Quickstart: one managed account on an in-memory ledger.

Open an account, agree the budget, receive the council's 4-weekly payment, pay an agency invoice,
and print the balances. Run it from the repository root:

    .venv/bin/python examples/01_quickstart.py
"""

from dpledger import Ledger, LedgerAccount

ACTOR = "example:finance-officer"

with Ledger.in_memory() as ledger:
    ledger.open_account(
        "DP-1",
        person_ref="P-77001",
        council="Northshire County Council",
        provider="Managed Account Service",
        effective_date="2025-04-07",
        actor=ACTOR,
    )
    # £420 a week, of which the person contributes £35: the council pays (420 - 35) x 4.
    ledger.agree_budget(
        "DP-1",
        weekly_gross="420.00",
        weekly_contribution="35.00",
        effective_date="2025-04-07",
        actor=ACTOR,
    )
    ledger.receive_council_payment(
        "DP-1", amount="1540.00", effective_date="2025-04-07", actor=ACTOR
    )
    ledger.receive_contribution("DP-1", amount="140.00", effective_date="2025-04-07", actor=ACTOR)

    # An agency invoices 60 hours at £25.80; the total must be hours x rate within a penny.
    ledger.register_agency(
        "DP-1",
        agency_id="AG-1",
        name="Brightwater Home Care Ltd",
        hourly_rate="25.80",
        effective_date="2025-04-07",
        actor=ACTOR,
    )
    invoice = {"agency_id": "AG-1", "invoice_number": "INV-0425"}
    ledger.receive_invoice(
        "DP-1",
        **invoice,
        period_start="2025-04-07",
        period_end="2025-04-30",
        hours="60",
        rate="25.80",
        total="1548.00",
        effective_date="2025-05-02",
        actor=ACTOR,
    )
    ledger.approve_invoice("DP-1", **invoice, effective_date="2025-05-02", actor=ACTOR)
    receipt = ledger.pay_invoice(
        "DP-1", **invoice, amount="1548.00", effective_date="2025-05-09", actor=ACTOR
    )

    print(f"Recorded {receipt.event_type} as event {receipt.version}; its postings:")
    for posting in receipt.postings:
        print(f"  {posting.account.value:<24} {posting.amount!s:>12}")

    print("\nBalances (debit positive, credit negative):")
    for account, balance in ledger.balances("DP-1").items():
        if not balance.is_zero():
            print(f"  {account.value:<24} {balance!s:>12}")

    state = ledger.account("DP-1")
    print(f"\nBank balance {state.bank_balance}, owed {state.unpaid_liabilities}")
    print(f"Surplus on 2025-05-09: {ledger.surplus('DP-1', '2025-05-09')}")
    assert state.balances[LedgerAccount.BANK] == ledger.bank_balance("DP-1")
