"""The work the crash test kills at random points (run as a process by test_faults).

Usage: ``python crash_worker.py URL FOLDER``. Batches (``execute_many``) open six accounts and
pay money in and out, then bank statement files (Lloyds CSV, written into FOLDER) are imported
into each account. Every command has an idempotency key and every import is of a whole file,
so running it again after a kill finishes the work without recording anything twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dpledger import Ledger
from dpledger.commands import OpenAccount, PayCarePlanSpend, ReceiveCouncilPayment
from dpledger.domain.commands import Command

ACCOUNTS = [f"DP-CRASH-{n}" for n in range(1, 7)]
DAY = {"effective_date": "2026-04-06", "actor": "crash-test"}


def batches() -> list[list[Command]]:
    """Three batches: opening, money in, money out (all accounts in each)."""
    opening: list[Command] = [
        OpenAccount.build(
            account_id=a,
            person_ref=f"P-{a}",
            council="Kent",
            provider="SOLO",
            idempotency_key=f"{a}:open",
            **DAY,
        )
        for a in ACCOUNTS
    ]
    money_in: list[Command] = [
        ReceiveCouncilPayment.build(
            account_id=a, amount=f"{100 + 10 * n}.00", idempotency_key=f"{a}:pay-{k}", **DAY
        )
        for n, a in enumerate(ACCOUNTS)
        for k in range(5)
    ]
    money_out: list[Command] = [
        PayCarePlanSpend.build(
            account_id=a,
            category="insurance",
            amount=f"{7 + n}.25",
            description="EL",
            idempotency_key=f"{a}:spend-{k}",
            **DAY,
        )
        for n, a in enumerate(ACCOUNTS)
        for k in range(4)
    ]
    return [opening, money_in, money_out]


def statement(number: int) -> bytes:
    """A Lloyds CSV of the account's bank lines (money in and out, days apart)."""
    out = [
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance"
    ]
    for day in range(1, 9):
        pence = (number * 131 + day * 977) % 5000 + 100
        debit, credit = ("", f"{pence / 100:.2f}") if day % 3 else (f"{pence / 100:.2f}", "")
        bank = f"'30-99-{50 + number},1234567{number}"
        out.append(f"{10 + day:02d}/04/2026,FPI,{bank},LINE {number}-{day},{debit},{credit},")
    return ("\n".join(out) + "\n").encode()


def main(url: str, folder: Path) -> None:
    with Ledger(url) as ledger:
        for batch in batches():
            report = ledger.execute_many(batch)
            assert report.ok, report.failed
        for number, account in enumerate(ACCOUNTS, start=1):
            path = folder / f"statement-{number}.csv"
            if not path.exists():
                partial = path.with_suffix(".partial")
                partial.write_bytes(statement(number))
                partial.replace(path)
            ledger.import_bank_file(account, path, actor="crash-test")
    print("done")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
