"""A funded account that records every kind of event there is today (shared by the tests that
must see each kind at least once)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dpledger import Money

BANK_ACCOUNT = "30-99-50 12345678"
"""The bank account the busy account names (and its statement is of)."""
POOL = "20-00-00 55779911"
"""The pooled client account the busy account also holds money in."""


def record_every_event(f: Any) -> None:
    """Every command at least once on the funded account ``f``, a bank statement (a
    confirmation, unexplained lines both ways, a stated balance and a pending line), corrections,
    and the close: every kind of event a managed account or a bank account records today."""
    f.do("name_bank_account", bank_account=BANK_ACCOUNT, effective_date="2026-04-06")
    f.do("receive_one_off_payment", amount="300.00", purpose="hoist")
    f.do("demand_recoupment", amount="1.00")
    f.do("repay_recoupment", amount="1.00")
    f.do("agree_budget", weekly_gross="120", weekly_contribution="20", effective_date="2026-05-04")
    f.agency()
    f.invoice("INV-1")
    f.invoice("INV-2", approve=False)
    f.do("dispute_invoice", agency_id="AG-1", invoice_number="INV-2", reason="r")
    f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="120.00")
    f.do("agree_agency_rate", agency_id="AG-1", hourly_rate="20.00")
    f.invoice("INV-3")
    f.do(
        "receive_credit_note",
        agency_id="AG-1",
        invoice_number="INV-3",
        credit_note_number="CN-1",
        amount="50.00",
    )
    f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-3", amount="150.00")
    f.invoice("INV-4")
    f.invoice("INV-5")
    f.do("pay_remittance", agency_id="AG-1", payments={"INV-4": "200.00", "INV-5": "50.00"})
    f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-5", amount="150.00")
    f.do("agree_care_plan", agency_hours_per_week="40", pa_hours_per_week="40")
    f.pa()
    f.do("update_personal_assistant", pa_id="PA-1", date_of_birth="1990-05-01")
    f.wage_run()
    f.do("pay_net_wages", pa_id="PA-1", amount="415.00")
    f.do("claim_employment_allowance", amount="30.00")
    f.do("pay_hmrc", amount="60.00")
    f.do("pay_pension", amount="40.00")
    f.do("pay_care_plan_spend", category="support_fees", amount="45.00", description="payroll")
    held = f.do("record_unexplained_outgoing", amount="5.00", description="card fee").item_id
    f.do("accept_unexpected_outgoing", item_id=held, reason="bank's fee, not recoverable")
    kept = f.unexpected("10.00")
    f.do("keep_unexpected_income", item_id=kept, reason="interest")
    classified = f.unexpected("20.00")
    f.do("classify_unexpected_income", item_id=classified, classified_as="contribution")
    refunded = f.unexpected("30.00")
    f.do("refund_unexpected_income", item_id=refunded, bank_reference="REFUND-S")
    f.do("suspend", reason="hospital")
    f.do("resume")
    f.do("record_review")
    f.do("change_policy", contingency_weeks=6, frequency="monthly", reason="annual review")
    last = f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="80.00")
    f.do("correct", version=last.version, reason="entered in error")
    f.do("pay_invoice", agency_id="AG-1", invoice_number="INV-1", amount="80.00")
    bank_statement(f)
    pooled(f)
    f.do("close_account", effective_date="2026-05-10")


def bank_statement(f: Any) -> None:
    """The events only a bank statement records, and resolving its unexplained outgoings."""
    from dpledger.adapters.bankfeeds import (
        BalanceAssertion,
        BankFormat,
        BankStatement,
        BankTransaction,
        Direction,
    )
    from dpledger.domain.reconciliation import MatchKind

    def line(pence: int, ref: str, status: str = "booked") -> BankTransaction:
        return BankTransaction(
            booking_date=date(2026, 4, 14),
            amount=Money(abs(pence)),
            direction=Direction.CREDIT if pence > 0 else Direction.DEBIT,
            status=status,
            description=ref,
            bank_reference=ref,
            source_location=ref,
        )

    statement = BankStatement(
        source_file="busy.csv",
        format=BankFormat.CSV,
        currency="GBP",
        closing_balance=BalanceAssertion(date=date(2026, 4, 14), balance=Money(0), kind="CLBD"),
        transactions=(
            line(-4500, "PAYROLL FEE"),  # confirms the care-plan spend recorded by hand
            line(-701, "U-1"),
            line(-702, "U-2"),
            line(-703, "U-3"),
            line(702, "U-2 BACK"),
            line(-500, "CARD", status="pending"),
        ),
    )
    report = f.ledger.import_statement(f.account_id, statement, actor="importer")
    (fee,) = (x for x in report.recorded if x.description == "PAYROLL FEE")
    assert fee.match == MatchKind.CONFIRMS.value, report.render()
    first, second, third = sorted(
        (x.amount.pence, x.item_id) for x in report.items(MatchKind.UNEXPECTED_OUTGOING)
    )[::-1]  # -701, -702, -703 sorted descending
    (back,) = report.items(MatchKind.UNEXPECTED_INCOME)
    f.do("classify_unexpected_outgoing", item_id=first[1], category="insurance")
    f.do("recover_unexpected_outgoing", item_id=second[1], income_item_id=back.item_id)
    f.do("accept_unexpected_outgoing", item_id=third[1], reason="bank charge")


def pooled(f: Any) -> None:
    """The events of a pooled client account: declared, joined, a line allocated by the text,
    a held line allocated by a person, and a transfer between the account's bank accounts."""
    from dpledger.adapters.bankfeeds import BankFormat, BankStatement, BankTransaction, Direction

    f.ledger.open_pooled_account(POOL, name="Clients", opened_on="2026-04-06", actor="finance")
    f.do("add_bank_account", bank_account=POOL, effective_date="2026-04-15")

    def line(pence: int, text: str) -> BankTransaction:
        return BankTransaction(
            booking_date=date(2026, 4, 16),
            amount=Money(abs(pence)),
            direction=Direction.CREDIT if pence > 0 else Direction.DEBIT,
            description=text,
            source_location=text,
        )

    statement = BankStatement(
        source_file="pool.csv",
        format=BankFormat.CSV,
        currency="GBP",
        account_id=POOL,
        transactions=(line(1200, f"GIFT FOR {f.account_id}"), line(3400, "NAMES NOBODY")),
    )
    report = f.ledger.import_pooled_statement(statement, actor="importer")
    (held,) = f.ledger.unallocated(POOL)
    done = f.ledger.allocate(
        POOL, held.key, f.account_id, actor="finance", reason="the payer's letter"
    )
    for item in (*(x.item_id for x in report.recorded if x.item_id), done.receipt.item_id):
        f.do("keep_unexpected_income", item_id=item, reason="a gift for the person")
    f.do(
        "transfer_between_bank_accounts",
        from_bank_account=POOL,
        to_bank_account=BANK_ACCOUNT,
        amount="10.00",
    )
