"""An account with everything an audit sheet shows, recorded on a deterministic clock.

``DP-AUDIT`` (Kent County Council, SOLO) is opened on 2026-04-06 with £100.00 a week gross and
£20.00 a week contribution (8 weeks' contingency: £800.00). Over April and May 2026 it receives
council money and contributions, pays an agency invoice, holds unexpected income that is later
classified, imports a bank statement whose closing balance disagrees with the ledger (a
reconciliation break) and whose unknown debits become unexplained outgoings (one accepted, one
still held), and corrects a mistyped insurance payment. The clock is frozen: every event's
recorded time is 2026-06-01T09:00Z plus one minute per event, so digests, and the sheet, are the
same on every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dpledger import Ledger

ACCOUNT = "DP-AUDIT"
ACTOR = "officer-7"
GENERATED = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
CLOCK_START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def clock() -> Callable[[type], datetime]:
    """A create_timestamp replacement: :data:`CLOCK_START` plus one minute per event."""
    ticks = itertools.count()

    def tick(cls: type) -> datetime:
        return CLOCK_START + timedelta(minutes=next(ticks))

    return tick


def lloyds_csv(rows: list[tuple[str, str, int, int | None]]) -> bytes:
    """A Lloyds export: rows of (ISO date, description, signed pence, running balance pence)."""
    out = [
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance"
    ]
    for day, text, pence, balance in rows:
        y, m, d = day.split("-")
        debit = f"{-pence // 100}.{-pence % 100:02d}" if pence < 0 else ""
        credit = f"{pence // 100}.{pence % 100:02d}" if pence > 0 else ""
        bal = "" if balance is None else f"{balance // 100}.{balance % 100:02d}"
        out.append(f"{d}/{m}/{y},FPI,'30-99-50,12345678,{text},{debit},{credit},{bal}")
    return ("\n".join(out) + "\n").encode()


def record_scenario(ledger: Ledger, folder: Path) -> None:
    """Record the scenario of the module docstring on ``ledger``."""
    a, who = ACCOUNT, {"actor": ACTOR}
    ledger.open_account(
        a,
        person_ref="P-501",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        **who,
    )
    ledger.agree_budget(
        a, weekly_gross="100.00", weekly_contribution="20.00", effective_date="2026-04-06", **who
    )
    ledger.receive_council_payment(
        a,
        amount="320.00",
        period_start="2026-04-06",
        period_end="2026-05-03",
        effective_date="2026-04-06",
        bank_reference="KCC DP 0406",
        **who,
    )
    ledger.receive_contribution(a, amount="80.00", effective_date="2026-04-07", **who)
    ledger.register_agency(
        a,
        agency_id="AG-1",
        name="Oak Care",
        hourly_rate="25.00",
        effective_date="2026-04-06",
        **who,
    )
    ledger.receive_invoice(
        a,
        agency_id="AG-1",
        invoice_number="OC-100",
        period_start="2026-04-06",
        period_end="2026-04-19",
        hours="8",
        rate="25.00",
        total="200.00",
        effective_date="2026-04-20",
        **who,
    )
    ledger.approve_invoice(
        a, agency_id="AG-1", invoice_number="OC-100", effective_date="2026-04-21", **who
    )
    ledger.pay_invoice(
        a,
        agency_id="AG-1",
        invoice_number="OC-100",
        amount="200.00",
        effective_date="2026-04-24",
        bank_reference="OC-100",
        **who,
    )
    held = ledger.receive_unexpected_income(
        a, amount="45.00", description='DWP "adjustment"', effective_date="2026-04-27", **who
    )
    insurance = ledger.pay_care_plan_spend(
        a,
        category="insurance",
        amount="69.00",
        description="PA employer's liability insurance",
        effective_date="2026-04-28",
        **who,
    )
    ledger.correct(
        a,
        version=insurance.version,
        reason="keyed £69.00 instead of £60.00; re-entered",
        effective_date="2026-04-29",
        **who,
    )
    ledger.pay_care_plan_spend(
        a,
        category="insurance",
        amount="60.00",
        description="PA employer's liability insurance",
        effective_date="2026-04-28",
        **who,
    )
    ledger.receive_council_payment(
        a,
        amount="320.00",
        period_start="2026-05-04",
        period_end="2026-05-31",
        effective_date="2026-05-04",
        bank_reference="KCC DP 0504",
        **who,
    )
    assert held.item_id is not None
    ledger.classify_unexpected_income(
        a,
        item_id=held.item_id,
        classified_as="contribution",
        effective_date="2026-05-06",
        **who,
    )
    statement = folder / "may.csv"
    statement.write_bytes(
        lloyds_csv(
            [
                ("2026-05-08", "BANK CHARGE", -750, 49_250),
                ("2026-05-11", "UNKNOWN DD 4471", -1999, 47_251),  # the bank: £5.00 less
            ]
        )
    )
    report = ledger.import_bank_file(a, statement, **who)
    fee = report.recorded[0].item_id
    assert fee is not None
    ledger.accept_unexpected_outgoing(
        a, item_id=fee, reason="bank charge, not recoverable", effective_date="2026-05-12", **who
    )
