"""The audit sheet as plain text: what ``dpledger statement`` prints.

Fixed-width and deterministic (no terminal codes, no locale), so it can be diffed, archived and
golden-tested. Labels come from :data:`LABELS`, shared with the HTML and spreadsheet renderers.
Nothing is ever cut short: a label too long for its row keeps its own line, its amount on the
next, and each event's description comes last on its line, whole (bank references are evidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from dpledger.domain.money import Money
from dpledger.reporting.statement import Statement

LABELS: Mapping[str, str] = {
    "council": "Council Direct Payments",
    "contribution": "Person's contributions",
    "other": "Other income kept",
    "unexpected": "Unexpected income (held or resolved)",
    "agency_care": "Agency care",
    "pa_wages": "Personal assistants' net wages",
    "hmrc": "HMRC (PAYE and NI)",
    "pension": "Workplace pension",
    "returned_to_council": "Returned to the council",
    "insurance": "Insurance",
    "support_fees": "Support and payroll fees",
    "other_care_plan": "Other care-plan spend",
    "unexplained_outgoing": "Unexplained outgoings",
    "mixed": "Mixed (split across several lines)",
    "agency": "Agency invoices approved",
    "pa_net_wages": "Net wages owed",
    "council_payable": "Recoupment owed to the council",
    "unidentified_income": "Unexpected income held",
}
"""Human labels for the sheet's category keys (unknown keys are shown as they are)."""

WIDTH = 78


def label(key: str, group: str = "") -> str:
    """The human label of a category key (``council`` as a liability reads differently)."""
    if group == "liability" and key == "council":
        return LABELS["council_payable"]
    return LABELS.get(key, key.replace("_", " ").capitalize())


def event_reference(version: int, bank_account: str | None) -> str:
    """``event 17`` (of the account), or ``bank account 30-99-50 12345678 event 4``."""
    if bank_account is None:
        return f"event {version}"
    return f"bank account {bank_account} event {version}"


RECORDED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the sheet shows when an event was recorded: ISO 8601, UTC."""


def _row(text: str, amount: Money | str, indent: int = 2) -> str:
    value = str(amount)
    room = WIDTH - indent - len(value) - 1
    if len(text) <= room:
        return f"{' ' * indent}{text:<{room}} {value}"
    # Too long for one row: the whole text, then its amount right-aligned beneath it.
    return f"{' ' * indent}{text}\n{value:>{WIDTH}}"


def budget_lines(sheet: Statement) -> list[str]:
    """The budget section: the period's budget against spend, contributions due against
    received (empty when the sheet has no budget check)."""
    check = sheet.budget
    if check is None:
        return []
    return [
        "",
        f"BUDGET AND CONTRIBUTIONS, {check.start} to {check.end}",
        _row("Budget for the period (weekly gross, pro-rated by day)", check.budget),
        _row("Spent from the bank (money out, less returns and unexplained)", check.spent),
        _row("Budget less spend", check.under_budget),
        _row("Contributions due for the period", check.contributions_due),
        _row("Contributions received (classified income too)", check.contributions_received),
        _row("Contributions due less received", check.contributions_short),
    ]


def render_statement(sheet: Statement) -> str:
    """The audit sheet as fixed-width text."""
    known = (
        "as known now"
        if sheet.known_at is None
        else f"as known at {sheet.known_at:%Y-%m-%d %H:%M:%S %Z}"
    )
    out = [
        f"AUDIT SHEET {sheet.account_id}",
        f"Person {sheet.person_ref} · council {sheet.council} · provider {sheet.provider}",
        f"Period {sheet.start} to {sheet.end} · status at end: {sheet.status} · {known}",
        f"Generated {sheet.generated_at:%Y-%m-%d %H:%M:%S %Z}",
        "",
        "BANK",
        _row(f"Opening balance (start of {sheet.start})", sheet.opening),
        "  Money in",
    ]
    out += [_row(label(k), v, 4) for k, v in sheet.money_in.items()] or ["    (none)"]
    out.append(_row("Total money in", sheet.total_in))
    out.append("  Money out")
    out += [_row(label(k), v, 4) for k, v in sheet.money_out.items()] or ["    (none)"]
    out.append(_row("Total money out", sheet.total_out))
    out.append(_row(f"Closing balance (end of {sheet.end})", sheet.closing))
    check = "yes" if sheet.reconciles else "NO: the figures do not add up; run dpledger verify"
    out.append(_row("Opening + in - out = closing", check))
    out += ["", f"AT THE END OF {sheet.end}"]
    out += [_row(label(k, "liability"), v) for k, v in sheet.unpaid_liabilities.items()]
    out.append(_row("Total unpaid liabilities", sheet.total_unpaid))
    out += [_row(label(k), v) for k, v in sheet.held_in_suspense.items()]
    out.append(_row("Contingency retained", sheet.contingency))
    out.append(_row("Surplus (closing - unpaid - contingency)", sheet.surplus))
    out += budget_lines(sheet)

    out += ["", f"UNEXPECTED ITEMS ({len(sheet.unexpected_items)})"]
    for item in sheet.unexpected_items:
        status = item.status if not item.resolved_on else f"{item.status} {item.resolved_on}"
        out.append(
            _row(
                f"{item.recorded_on} {item.direction:<3} {item.item_id}: {item.description}",
                item.amount,
            )
        )
        out.append(f"      {status}{': ' + item.resolution if item.resolution else ''}")
    if not sheet.unexpected_items:
        out.append("  (none)")

    out += ["", f"RECONCILIATION BREAKS ({len(sheet.reconciliation_breaks)})"]
    out.append(f"  {sheet.reconciliation}")
    for brk in sheet.reconciliation_breaks:
        out.append(
            _row(
                f"{brk.effective_date} bank stated {brk.asserted}, ledger {brk.ledger}",
                brk.difference,
            )
        )
        out.append(f"      from {brk.source} ({event_reference(brk.version, brk.bank_account)})")

    out += ["", f"WARNINGS RAISED IN THE PERIOD ({len(sheet.warnings)})"]
    for warning in sheet.warnings:
        cleared = f"cleared {warning.cleared_on}" if warning.cleared_on else "still in force"
        out.append(
            f"  {warning.raised_on} {warning.rule} {warning.subject}".rstrip() + f" ({cleared})"
        )
        out.append(f"      {warning.explanation}")
    if not sheet.warnings:
        out.append("  (none)")

    out += ["", f"EVENTS ({len(sheet.lines)}, by effective date, with when each was recorded)"]
    out.append(
        f"  {'date':<10} {'ver':>4}  {'recorded':<20} {'bank':>11} {'balance':>11}  description"
    )
    for line in sheet.lines:
        change = "" if line.bank_change.is_zero() else str(line.bank_change)
        # A stated balance is its bank account's event, not one of the account's versions.
        version = "bank" if line.bank_account is not None else line.version
        recorded = line.recorded_at.astimezone(UTC).strftime(RECORDED_FORMAT)
        out.append(
            f"  {line.effective_date} {version:>4}  {recorded} {change:>11} "
            f"{line.bank_after!s:>11}  {line.description}"
        )
    out += ["", f"Chain head: version {sheet.head_version}, digest {sheet.head_digest}"]
    out.append(
        f"Seal HMAC: {sheet.head_mac}"
        if sheet.head_mac
        else "Seal HMAC: none (no seal key configured)"
    )
    return "\n".join(out) + "\n"
