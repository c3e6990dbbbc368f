"""Idempotency keys and the errors dpledger raises instead of recording a mistake.

1. A bank line imported twice with the same idempotency key records once; the retry returns the
   original receipt. The same key with a different amount is refused.
2. A payment the bank cannot cover raises InsufficientFunds, saying how much is missing.
3. An invoice number the agency used before raises DuplicateInvoice.

    .venv/bin/python examples/02_idempotency_and_errors.py
"""

from dpledger import Ledger
from dpledger.errors import DuplicateInvoice, IdempotencyConflict, InsufficientFunds

ACTOR = "example:bank-feed"

with Ledger.in_memory() as ledger:
    ledger.open_account(
        "DP-2",
        person_ref="P-77002",
        council="Northshire County Council",
        provider="Managed Account Service",
        effective_date="2025-04-07",
        actor=ACTOR,
    )
    ledger.agree_budget(
        "DP-2",
        weekly_gross="300",
        weekly_contribution="0",
        effective_date="2025-04-07",
        actor=ACTOR,
    )

    # 1. The same bank line, imported twice: the key is the bank's transaction id.
    line = {"amount": "1200.00", "effective_date": "2025-04-07", "actor": ACTOR}
    first = ledger.receive_council_payment("DP-2", **line, idempotency_key="bank:TX-0001")
    again = ledger.receive_council_payment("DP-2", **line, idempotency_key="bank:TX-0001")
    print(f"first import: event {first.version}, replayed={first.replayed}")
    print(f"second import: event {again.version}, replayed={again.replayed}")
    print(f"bank balance {ledger.bank_balance('DP-2')} (counted once)")
    try:
        ledger.receive_council_payment(
            "DP-2",
            amount="1300.00",
            effective_date="2025-04-07",
            actor=ACTOR,
            idempotency_key="bank:TX-0001",
        )
    except IdempotencyConflict as error:
        print(f"\nIdempotencyConflict: {error}")

    # 2. Never overdrawn: £1,500 of equipment with £1,200 in the bank.
    try:
        ledger.pay_care_plan_spend(
            "DP-2",
            category="other_care_plan",
            amount="1500.00",
            description="riser recliner chair",
            effective_date="2025-04-10",
            actor=ACTOR,
        )
    except InsufficientFunds as error:
        print(f"\nInsufficientFunds: short by {error.shortfall} (balance {error.balance})")
        print(f"  message: {error}")

    # 3. The agency sends invoice A-17 twice.
    ledger.register_agency(
        "DP-2", agency_id="AG-1", name="Meadowbank Care", effective_date="2025-04-07", actor=ACTOR
    )
    invoice = {
        "agency_id": "AG-1",
        "invoice_number": "A-17",
        "period_start": "2025-04-07",
        "period_end": "2025-04-30",
        "hours": "20",
        "rate": "27.10",
        "total": "542.00",
        "actor": ACTOR,
    }
    ledger.receive_invoice("DP-2", **invoice, effective_date="2025-05-02")
    try:
        ledger.receive_invoice("DP-2", **invoice, effective_date="2025-05-09")
    except DuplicateInvoice as error:
        print(f"\nDuplicateInvoice: {error.message}")
        print(f"  what to do: {error.fix}")

    print(f"\n{ledger.account('DP-2').version} events recorded; nothing refused was recorded.")
