"""Commands as data, a batch, and the alerts a council wants to see.

1. Commands are plain data (``dpledger.commands``): build them, check them, send a batch with
   ``execute_many`` (one transaction per account, all or nothing per account). Every command
   carries an idempotency key, so sending the same batch again records nothing new.
2. An agency's agreed rate and the care plan are recorded; an invoice that bills above the rate,
   or more hours than the plan, is recorded with an alert naming the figures.
3. A credit note from the agency takes the overcharge off the invoice: the alert clears.

    .venv/bin/python examples/06_commands_and_alerts.py
"""

from datetime import date
from decimal import Decimal

from dpledger import Ledger, Money
from dpledger.commands import (
    AgreeBudget,
    AgreeCarePlan,
    Command,
    OpenAccount,
    ReceiveCouncilPayment,
    RegisterAgency,
)
from dpledger.errors import ValidationError

ACTOR = "example:finance-officer"
DAY = date(2026, 4, 6)

with Ledger.in_memory() as ledger:
    batch: list[Command] = []
    for n in (1, 2):
        account = f"DP-{n}"
        batch += [
            OpenAccount(
                account_id=account,
                idempotency_key=f"setup:{account}:OpenAccount",
                person_ref=f"P-7700{n}",
                council="Northshire County Council",
                provider="Managed Account Service",
                effective_date=DAY,
                actor=ACTOR,
            ),
            AgreeBudget(
                account_id=account,
                idempotency_key=f"setup:{account}:AgreeBudget",
                weekly_gross=Money("420.00"),
                weekly_contribution=Money("20.00"),
                effective_date=DAY,
                actor=ACTOR,
            ),
            ReceiveCouncilPayment(
                account_id=account,
                amount=Money("1600.00"),
                effective_date=DAY,
                actor=ACTOR,
                idempotency_key=f"bank:TX-{n}001",
            ),
            RegisterAgency(
                account_id=account,
                idempotency_key=f"setup:{account}:RegisterAgency",
                agency_id="AG-1",
                name="Oak Care",
                hourly_rate=Money("24.00"),
                effective_date=DAY,
                actor=ACTOR,
            ),
            AgreeCarePlan(
                account_id=account,
                idempotency_key=f"setup:{account}:AgreeCarePlan",
                agency_hours_per_week=Decimal("14"),
                pa_hours_per_week=Decimal("0"),
                effective_date=DAY,
                actor=ACTOR,
            ),
        ]
    report = ledger.execute_many(batch)
    print(f"Batch: {report.events_recorded} events recorded, all accounts ok: {report.ok}")
    again = ledger.execute_many(batch)
    replayed = sum(1 for r in again.receipts if r is not None and r.replayed)
    print(f"The same batch again: {again.events_recorded} events recorded, {replayed} replayed")

    try:
        ReceiveCouncilPayment(
            account_id="DP-1", amount=Money(10**12), effective_date=DAY, actor=ACTOR
        )
    except ValidationError as refused:
        print(f"Refused when built: {refused}")

    receipt = ledger.receive_invoice(
        "DP-1",
        agency_id="AG-1",
        invoice_number="OC-2604",
        period_start="2026-04-06",
        period_end="2026-04-19",
        hours="32",
        rate="26.50",
        total="848.00",
        effective_date="2026-04-20",
        actor=ACTOR,
    )
    for alert in receipt.alerts:
        print(f"Alert {alert.rule}: {alert.message}")

    ledger.receive_credit_note(
        "DP-1",
        agency_id="AG-1",
        invoice_number="OC-2604",
        credit_note_number="CN-17",
        amount="80.00",
        effective_date="2026-04-22",
        actor=ACTOR,
    )
    still = [w.rule for w in ledger.warnings("DP-1")]
    print(f"Warnings in force after the credit note: {still}")
