"""A small store for the CLI evidence tests: the audit scenario's account and a pooled client
account with a line held for allocation (kept apart from the test modules so that none of them
imports another)."""

from __future__ import annotations

from pathlib import Path

from audit_scenario import record_scenario

from dpledger import Ledger

POOL = "40-11-22 33334444"
POOL_OPENED = "2026-04-06"
LONG_REFERENCE = (
    "NCC DP REMITTANCE 2026-04 BATCH 000123456789 PERSON P-501 PERIOD 2026-04-06 TO "
    "2026-05-03 ADVICE 77 END-OF-REFERENCE"
)
"""A bank reference longer than any column (116 characters) that ends in what matters."""
POOL_CSV = (
    "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
    "Debit Amount,Credit Amount,Balance\n"
    "06/04/2026,FPI,'40-11-22,33334444,KCC PAYMENT KCC-1001,,400.00,400.00\n"
    "08/04/2026,FPI,'40-11-22,33334444,BACS KENT CC,,300.00,700.00\n"
)


def record_evidence_store(path: Path, folder: Path) -> None:
    """The audit scenario (DP-AUDIT), a payment with :data:`LONG_REFERENCE`, and a pool of
    DP-1 and DP-2 whose statement leaves one line held."""
    with Ledger.sqlite(path) as ledger:
        record_scenario(ledger, folder)
        ledger.receive_council_payment(
            "DP-AUDIT",
            amount="1.00",
            effective_date="2026-05-20",
            bank_reference=LONG_REFERENCE,
            actor="officer-7",
        )
        ledger.open_pooled_account(
            POOL, name="Clients", opened_on=POOL_OPENED, actor="finance-1", rules=[]
        )
        for account_id, ref in (("DP-1", "KCC-1001"), ("DP-2", "KCC-2002")):
            ledger.open_account(
                account_id,
                person_ref=ref,
                council="Kent County Council",
                provider="Virtual Wallet",
                effective_date=POOL_OPENED,
                actor="setup",
            )
            ledger.name_bank_account(
                account_id, bank_account=POOL, effective_date=POOL_OPENED, actor="setup"
            )
        statement = folder / "pool.csv"
        statement.write_text(POOL_CSV)
        ledger.import_pooled_file(statement, actor="finance-1")
