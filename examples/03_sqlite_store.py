"""Events on disk: write an account to a SQLite file, close it, reopen it and read it back.

The file goes in a temporary folder, deleted afterwards (or in the folder given as the first
argument, and kept).

    .venv/bin/python examples/03_sqlite_store.py
"""

import sys
import tempfile
from pathlib import Path

from dpledger import Ledger

ACTOR = "example:finance-officer"


def write(path: Path) -> dict[str, str]:
    """Record a month of an account in the file at ``path``; return its balances as text."""
    with Ledger.sqlite(path) as ledger:
        ledger.open_account(
            "DP-3",
            person_ref="P-77003",
            council="Northshire County Council",
            provider="Managed Account Service",
            effective_date="2025-04-07",
            actor=ACTOR,
        )
        ledger.agree_budget(
            "DP-3",
            weekly_gross="520.00",
            weekly_contribution="40.00",
            effective_date="2025-04-07",
            actor=ACTOR,
        )
        ledger.receive_council_payment(
            "DP-3", amount="1920.00", effective_date="2025-04-07", actor=ACTOR
        )
        ledger.receive_contribution(
            "DP-3", amount="160.00", effective_date="2025-04-10", actor=ACTOR
        )
        ledger.pay_care_plan_spend(
            "DP-3",
            category="insurance",
            amount="96.50",
            description="employer's liability insurance",
            effective_date="2025-04-15",
            actor=ACTOR,
        )
        return {a.value: str(m) for a, m in ledger.balances("DP-3").items() if not m.is_zero()}


def read(path: Path) -> dict[str, str]:
    """Reopen the file and read the same account's balances (replayed from its events)."""
    with Ledger(f"sqlite:///{path}") as ledger:
        print(f"accounts in the file: {ledger.account_ids()}")
        for event in ledger.events("DP-3"):
            print(f"  {event.originator_version} {type(event).__name__:<24} {event.effective_date}")
        return {a.value: str(m) for a, m in ledger.balances("DP-3").items() if not m.is_zero()}


def main(folder: Path) -> int:
    """Write, reopen, compare."""
    store = folder / "example.sqlite"
    store.unlink(missing_ok=True)
    written = write(store)
    print(f"wrote {store}")
    reread = read(store)
    for code, balance in reread.items():
        print(f"  {code:<24} {balance:>10}")
    print("same balances after reopening:", written == reread)
    return 0 if written == reread else 1


if len(sys.argv) > 1:
    sys.exit(main(Path(sys.argv[1])))
with tempfile.TemporaryDirectory(prefix="dpledger-") as temporary:
    sys.exit(main(Path(temporary)))
