"""An auditor's round trip through the Python API: seal, export, replay elsewhere, report.

The provider records a month on its ledger; the auditor takes seals, receives the history as a
JSON Lines file, imports it into their own SQLite store, checks it against the seals, and
writes the audit sheet as text and as a self-contained HTML report.

    .venv/bin/python examples/05_audit.py [FOLDER]   # files go to FOLDER (default: a temp dir)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dpledger import Ledger
from dpledger.adapters.reports.html import render_html
from dpledger.reporting.text import render_statement

KEY = "held-by-the-council-audit-team"  # in real use: $DPLEDGER_SEAL_KEY, never in code
who = {"actor": "finance-officer-7"}


def provider_month(ledger: Ledger) -> None:
    """A month of one managed account: money in, an agency invoice paid, an unexpected credit."""
    ledger.open_account(
        "DP-9",
        person_ref="P-901",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        **who,
    )
    ledger.agree_budget(
        "DP-9",
        weekly_gross="250.00",
        weekly_contribution="25.00",
        effective_date="2026-04-06",
        **who,
    )
    ledger.receive_council_payment("DP-9", amount="900.00", effective_date="2026-04-06", **who)
    ledger.receive_contribution("DP-9", amount="100.00", effective_date="2026-04-09", **who)
    ledger.register_agency(
        "DP-9",
        agency_id="AG-7",
        name="Willow Care",
        hourly_rate="24.00",
        effective_date="2026-04-06",
        **who,
    )
    ledger.receive_invoice(
        "DP-9",
        agency_id="AG-7",
        invoice_number="W-31",
        period_start="2026-04-06",
        period_end="2026-04-19",
        hours="20",
        rate="24.00",
        total="480.00",
        effective_date="2026-04-20",
        **who,
    )
    ledger.approve_invoice(
        "DP-9", agency_id="AG-7", invoice_number="W-31", effective_date="2026-04-21", **who
    )
    ledger.pay_invoice(
        "DP-9",
        agency_id="AG-7",
        invoice_number="W-31",
        amount="480.00",
        effective_date="2026-04-24",
        **who,
    )
    ledger.receive_unexpected_income(
        "DP-9", amount="12.50", description="unknown credit", effective_date="2026-04-27", **who
    )


def main(folder: Path) -> int:
    history = folder / "DP-9.jsonl"
    with Ledger.in_memory(seal_key=KEY) as provider:
        provider_month(provider)
        seal = provider.seal("DP-9")
        provider.export_history(history, ["DP-9"])
    print(f"Exported {history.name}; sealed DP-9 at version {seal.version}")

    with Ledger.sqlite(folder / "auditor.sqlite", seal_key=KEY) as auditor:
        summary = auditor.import_history(history)
        print(
            f"Imported {summary.events_written} events; again: "
            f"{auditor.import_history(history).events_written} written"
        )
        report = auditor.verify(seals=[seal])
        print(f"Verified {report.events_checked} events against the seal: ok={report.ok}")
        sheet = auditor.statement("DP-9", "2026-04-01", "2026-04-30")
        print(render_statement(sheet).split("\nAT THE END")[0])
        html = folder / "DP-9-2026-04.html"
        html.write_text(render_html(sheet), encoding="utf-8")
        print(f"Wrote {html.name} ({html.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as temporary:
        sys.exit(main(Path(temporary)))
