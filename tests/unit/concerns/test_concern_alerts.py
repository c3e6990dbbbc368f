"""Alerts at the ``Ledger``: a receipt carries the alerts its command raised, and only those."""

from __future__ import annotations

from typing import Any

from dpledger import LedgerAccount, Money


def test_a_receipt_carries_the_rate_alert_its_invoice_raised(funded: Any) -> None:
    funded.agency("AG-1", hourly_rate="20.00")
    receipt = funded.invoice("INV-7", hours="10", rate="22.50", total="225.00", approve=False)
    (alert,) = receipt.alerts
    assert (alert.rule, alert.subject) == ("rate_above_agreed", "AG-1/INV-7")
    assert alert.figures["overcharge"] == 2500
    assert "AG-1 Care (AG-1) invoice INV-7" in alert.message
    assert "an overcharge of £25.00" in alert.message
    # The alert still holds, but the next commands did not raise it.
    approved = funded.do("approve_invoice", agency_id="AG-1", invoice_number="INV-7")
    assert approved.alerts == ()
    second = funded.invoice("INV-8", hours="10", rate="20.00", total="200.00", approve=False)
    assert second.alerts == ()
    credited = funded.do(
        "receive_credit_note",
        agency_id="AG-1",
        invoice_number="INV-7",
        credit_note_number="CN-1",
        amount="25.00",
    )
    assert credited.alerts == ()
    assert funded.owed(LedgerAccount.AGENCY_PAYABLE) == Money("200.00")


def test_a_receipt_carries_the_care_plan_alerts_a_command_raised(funded: Any) -> None:
    plan = funded.do(
        "agree_care_plan",
        agency_hours_per_week="10",
        pa_hours_per_week="20",
        effective_date="2026-04-06",
    )
    assert plan.alerts == ()
    funded.agency("AG-1", hourly_rate="20.00")
    invoice = funded.invoice("INV-1", hours="12", rate="20.00", total="240.00", approve=False)
    assert [(a.rule, a.figures["excess_hours"]) for a in invoice.alerts] == [
        ("care_plan_exceeded", "2.00")
    ]
    funded.pa()
    run = funded.wage_run(hours="25")
    plan_alerts = [a for a in run.alerts if a.rule == "care_plan_exceeded"]  # not payroll's own
    assert [(a.rule, a.subject, a.figures["excess_hours"]) for a in plan_alerts] == [
        ("care_plan_exceeded", "pa:2026-04-06..2026-04-12", "5.00")
    ]
    # A bigger plan clears them; a smaller one brings back an alert for every period it no
    # longer covers.
    bigger = funded.do(
        "agree_care_plan",
        agency_hours_per_week="12",
        pa_hours_per_week="25",
        effective_date="2026-04-06",
    )
    assert bigger.alerts == ()
    tighter = funded.do(
        "agree_care_plan",
        agency_hours_per_week="11",
        pa_hours_per_week="24",
        effective_date="2026-04-06",
    )
    assert {a.subject for a in tighter.alerts} == {
        "agency:2026-04-06..2026-04-12",
        "pa:2026-04-06..2026-04-12",
    }


def test_executing_a_command_as_data_carries_its_alerts(funded: Any) -> None:
    from dpledger.commands import ReceiveInvoice, RegisterAgency

    ledger = funded.ledger
    ledger.execute(
        RegisterAgency.build(
            account_id="DP-1",
            agency_id="AG-1",
            name="Oak Care",
            hourly_rate="20.00",
            effective_date="2026-04-13",
            actor="officer-1",
        )
    )
    receipt = ledger.execute(
        ReceiveInvoice.build(
            account_id="DP-1",
            agency_id="AG-1",
            invoice_number="INV-1",
            period_start="2026-04-06",
            period_end="2026-04-12",
            hours="10",
            rate="21.00",
            total="210.00",
            effective_date="2026-04-13",
            actor="officer-1",
        )
    )
    assert [a.rule for a in receipt.alerts] == ["rate_above_agreed"]
