"""One person's account whose every personal value is a distinctive word, for the encryption
tests to look for in the raw store (:data:`PERSONAL_WORDS`), then closed so it can be erased."""

from __future__ import annotations

from pathlib import Path

from dpledger import Ledger

ACCOUNT = "DP-ENC"
OTHER = "DP-KEEP"
PERSONAL_WORDS = (
    "P-ZEPHYRINE",  # person reference
    "Hortensia",  # actor
    "Quillfeather",  # agency name
    "MARMADUKE",  # bank reference
    "Pemberton",  # description
    "Aloysius",  # a bank statement line's description
    "Ottoline",  # a reason (of a correction)
)
"""Personal values recorded for :data:`ACCOUNT`: none may be found in clear in the store."""
KEEP_WORD = "P-KEEPSAKE"
"""The other person's reference: still readable after :data:`ACCOUNT`'s person is erased."""


def _csv(rows: list[tuple[str, str, int, int]]) -> bytes:
    out = [
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance"
    ]
    for day, text, pence, balance in rows:
        y, m, d = day.split("-")
        debit = f"{-pence // 100}.{-pence % 100:02d}" if pence < 0 else ""
        credit = f"{pence // 100}.{pence % 100:02d}" if pence > 0 else ""
        bal = f"{balance // 100}.{balance % 100:02d}"
        out.append(f"{d}/{m}/{y},FPI,'30-99-50,12345678,{text},{debit},{credit},{bal}")
    return ("\n".join(out) + "\n").encode()


def record(ledger: Ledger, folder: Path, *, close: bool = True, reviews: int = 0) -> None:
    """Record the account (and another person's, kept), ``reviews`` reviews of each (50 make
    a snapshot), and close the first."""
    who = {"actor": "officer Hortensia"}
    a = ACCOUNT
    ledger.open_account(
        a,
        person_ref="P-ZEPHYRINE-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        **who,
    )
    ledger.open_account(
        OTHER,
        person_ref=KEEP_WORD,
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
        amount="400.00",
        period_start="2026-04-06",
        period_end="2026-05-03",
        effective_date="2026-04-06",
        bank_reference="MARMADUKE 0406",
        **who,
    )
    ledger.register_agency(
        a, agency_id="AG-1", name="Quillfeather Care", effective_date="2026-04-06", **who
    )
    ledger.receive_invoice(
        a,
        agency_id="AG-1",
        invoice_number="QC-100",
        period_start="2026-04-06",
        period_end="2026-04-19",
        hours="8",
        rate="25.00",
        total="200.00",
        effective_date="2026-04-20",
        **who,
    )
    ledger.approve_invoice(
        a, agency_id="AG-1", invoice_number="QC-100", effective_date="2026-04-21", **who
    )
    ledger.pay_invoice(
        a,
        agency_id="AG-1",
        invoice_number="QC-100",
        amount="200.00",
        effective_date="2026-04-24",
        bank_reference="MARMADUKE QC-100",
        **who,
    )
    spend = ledger.pay_care_plan_spend(
        a,
        category="insurance",
        amount="69.00",
        description="Pemberton liability insurance",
        effective_date="2026-04-28",
        **who,
    )
    ledger.correct(
        a,
        version=spend.version,
        reason="Ottoline keyed it twice",
        effective_date="2026-04-29",
        **who,
    )
    statement = folder / "may.csv"
    statement.write_bytes(_csv([("2026-05-08", "PAYMENT TO Aloysius", -750, 19_250)]))
    report = ledger.import_bank_file(a, statement, **who)
    fee = report.recorded[0].item_id
    assert fee is not None
    ledger.accept_unexpected_outgoing(
        a, item_id=fee, reason="not recoverable", effective_date="2026-05-12", **who
    )
    for _ in range(reviews):
        for account in (a, OTHER):
            ledger.record_review(account, effective_date="2026-05-20", **who)
    if close:
        ledger.close_account(a, effective_date="2026-05-31", reason="moved away", **who)
