"""The audit sheet as one self-contained HTML file, for people to read, print and archive.

Everything is inside the file: the CSS is inline, the chart is inline SVG, and there is no script,
font, image or link to anything else; a Content-Security-Policy forbids loading any, so the file
looks the same offline, years later, and cannot call out. Every string that came from a user
(names, descriptions, reasons, actors) is HTML-escaped. The sections follow the text sheet
(:func:`dpledger.reporting.text.render_statement`) and use its labels.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from dpledger.adapters.reports.chart import balance_chart_svg, numbered_warnings
from dpledger.domain.money import Money
from dpledger.reporting.statement import Statement
from dpledger.reporting.text import event_reference, label

SECTION_IDS = (
    "summary",
    "bank",
    "position",
    "budget",
    "unexpected",
    "breaks",
    "warnings",
    "chart",
    "events",
    "chain",
)
"""The ``id`` of each section, in page order (tests and links use them)."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"

_CSS = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d4d4d4;
  --band: #f3f5f8; --bad: #b71c1c; --bad-bg: #fdecea; --good: #1b5e20; --good-bg: #e8f5e9; }
* { box-sizing: border-box; }
html { background: #fff; }
body { margin: 0 auto; padding: 24px 28px 40px; max-width: 58rem; color: var(--ink);
  font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; }
h2 { font-size: 1.1rem; margin: 1.8rem 0 .5rem; padding-bottom: .2rem;
  border-bottom: 2px solid var(--ink); break-after: avoid; }
h3 { font-size: .95rem; margin: 1rem 0 .3rem; }
p { margin: .3rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .25rem .5rem; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
td.text { overflow-wrap: anywhere; }
.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
/* The recorded time may fold at its space (date above time): the event list fits A4. */
.recorded { font-variant-numeric: tabular-nums; color: var(--muted); }
thead th { background: var(--band); border-bottom: 1px solid #9a9a9a; font-size: .85rem; }
tbody th { font-weight: normal; }
.num, .money { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;
  overflow-wrap: normal; }
.indent { padding-left: 1.6rem; }
tr.total th, tr.total td { font-weight: bold; border-top: 1px solid #9a9a9a; }
tr.sub th { font-weight: bold; background: var(--band); }
.neg { color: var(--bad); }
.muted, .none { color: var(--muted); }
.none { font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
  margin: .6rem 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.check { margin: .6rem 0 0; padding: .45rem .7rem; border-left: 4px solid; }
.check.ok { color: var(--good); background: var(--good-bg); }
.check.fail { color: var(--bad); background: var(--bad-bg); font-weight: bold; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .8rem;
  white-space: nowrap; }
.badge.inforce { color: #fff; background: var(--bad); }
.badge.cleared { color: var(--ink); background: #e6e6e6; }
.badge.held { color: #fff; background: #8a5a00; }
/* Wide tables scroll on their own on a narrow screen, rather than the whole page. */
.wide { overflow-x: auto; }
figure { margin: .4rem 0 0; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .2rem; }
table.events { font-size: .8rem; }
table.events th, table.events td { padding: .2rem .35rem; }
table.events td.type { font-size: .75rem; color: var(--muted); }
code { font: .8rem/1.3 "DejaVu Sans Mono", "Liberation Mono", monospace;
  overflow-wrap: anywhere; }
footer { margin-top: 2rem; padding-top: .6rem; border-top: 2px solid var(--ink);
  font-size: .85rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  thead { display: table-header-group; }
  tr, figure, .check { break-inside: avoid; }
  .badge { border: 1px solid #777; }
  .wide { overflow: visible; }
}
"""


def render_html(sheet: Statement, *, title: str | None = None) -> str:
    """The audit sheet as one complete, self-contained HTML5 document (text).

    ``title`` replaces the default ``Audit sheet ACCOUNT, START to END`` as the page title and
    heading. The page holds, in order: the header facts, the bank summary with the opening + in
    - out = closing check (red when it fails), the position at the end, the budget against
    spend, unexpected items, reconciliation breaks, warnings raised in the period (numbered as
    on the chart), the balance chart (inline SVG), the event list with when each event was
    recorded, and the chain head with its seal.
    """
    heading = title or f"Audit sheet {sheet.account_id}, {sheet.start} to {sheet.end}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="dpledger">',
        f"<title>{escape(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        *_summary(sheet, heading),
        *_bank(sheet),
        *_position(sheet),
        *_budget(sheet),
        *_unexpected(sheet),
        *_breaks(sheet),
        *_warnings(sheet),
        *_chart(sheet),
        *_events(sheet),
        *_chain(sheet),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _money(amount: Money) -> str:
    classes = "money neg" if amount.is_negative() else "money"
    return f'<td class="{classes}">{escape(str(amount))}</td>'


def _row(text: str, amount: Money, css: str = "", indent: bool = False) -> str:
    cls = f' class="{css}"' if css else ""
    th_cls = ' class="indent"' if indent else ""
    return f'<tr{cls}><th scope="row"{th_cls}>{escape(text)}</th>{_money(amount)}</tr>'


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "as known now (everything recorded)"
    return f"{moment:%Y-%m-%d %H:%M:%S %Z}".strip()


def _none_row(columns: int, text: str) -> str:
    return f'<tr><td colspan="{columns}" class="none">{escape(text)}</td></tr>'


def _summary(sheet: Statement, heading: str) -> list[str]:
    facts = [
        ("Account", sheet.account_id),
        ("Person", sheet.person_ref),
        ("Council", sheet.council),
        ("Provider", sheet.provider),
        ("Period", f"{sheet.start} to {sheet.end} (inclusive)"),
        ("Status at end", sheet.status),
        ("As known at", _when(sheet.known_at)),
        ("Generated", _when(sheet.generated_at)),
    ]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return [
        '<header id="summary">',
        f"<h1>{escape(heading)}</h1>",
        f'<dl class="facts">{rows}</dl>',
        "</header>",
    ]


def _bank(sheet: Statement) -> list[str]:
    rows = [_row(f"Opening balance (start of {sheet.start})", sheet.opening)]
    rows.append('<tr class="sub"><th scope="rowgroup" colspan="2">Money in</th></tr>')
    rows += [_row(label(k), v, indent=True) for k, v in sheet.money_in.items()] or [
        _none_row(2, "none")
    ]
    rows.append(_row("Total money in", sheet.total_in, "total"))
    rows.append('<tr class="sub"><th scope="rowgroup" colspan="2">Money out</th></tr>')
    rows += [_row(label(k), v, indent=True) for k, v in sheet.money_out.items()] or [
        _none_row(2, "none")
    ]
    rows.append(_row("Total money out", sheet.total_out, "total"))
    rows.append(_row(f"Closing balance (end of {sheet.end})", sheet.closing, "total"))
    computed = sheet.opening + sheet.total_in - sheet.total_out
    sums = f"{sheet.opening} + {sheet.total_in} − {sheet.total_out} = {computed}"
    if sheet.reconciles:
        check = (
            f'<p class="check ok" id="check">Opening + in − out = closing: {escape(sums)}, '
            "the closing balance. The figures add up.</p>"
        )
    else:
        check = (
            f'<p class="check fail" id="check">Opening + in − out = closing FAILS: '
            f"{escape(sums)}, but the closing balance is {escape(str(sheet.closing))}. "
            "The figures do not add up; run dpledger verify.</p>"
        )
    return [
        '<section id="bank">',
        "<h2>Bank</h2>",
        '<table class="figures">',
        '<thead><tr><th scope="col">Item</th><th scope="col" class="num">Amount</th></tr></thead>',
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        check,
        "</section>",
    ]


def _position(sheet: Statement) -> list[str]:
    rows = [
        _row(label(k, "liability"), v, indent=True) for k, v in sheet.unpaid_liabilities.items()
    ]
    rows.append(_row("Total unpaid liabilities", sheet.total_unpaid, "total"))
    rows += [_row(label(k), v) for k, v in sheet.held_in_suspense.items()]
    rows.append(_row("Contingency retained", sheet.contingency))
    rows.append(_row("Surplus (closing − unpaid − contingency)", sheet.surplus, "total"))
    return [
        '<section id="position">',
        f"<h2>At the end of {sheet.end}</h2>",
        '<table class="figures">',
        '<thead><tr><th scope="col">Item</th><th scope="col" class="num">Amount</th></tr></thead>',
        "<tbody>",
        '<tr class="sub"><th scope="rowgroup" colspan="2">Unpaid liabilities</th></tr>',
        *rows,
        "</tbody>",
        "</table>",
        "</section>",
    ]


def _budget(sheet: Statement) -> list[str]:
    """The period's budget against spend, contributions due against received."""
    check = sheet.budget
    if check is None:
        return []
    rows = [
        _row("Budget for the period (weekly gross, pro-rated by day)", check.budget),
        _row("Spent from the bank (money out, less returns and unexplained)", check.spent),
        _row("Budget less spend", check.under_budget, "total"),
        _row("Contributions due for the period", check.contributions_due),
        _row("Contributions received (classified income too)", check.contributions_received),
        _row("Contributions due less received", check.contributions_short, "total"),
    ]
    return [
        '<section id="budget">',
        f"<h2>Budget and contributions, {check.start} to {check.end}</h2>",
        '<table class="figures">',
        '<thead><tr><th scope="col">Item</th><th scope="col" class="num">Amount</th></tr></thead>',
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</section>",
    ]


def _unexpected(sheet: Statement) -> list[str]:
    rows = []
    for item in sheet.unexpected_items:
        badge = "held" if item.held else "cleared"
        resolved = f" on {item.resolved_on}" if item.resolved_on else ""
        resolution = f"{item.resolution}" if item.resolution else "not yet resolved"
        rows.append(
            "<tr>"
            f'<td class="date">{item.recorded_on}</td>'
            f"<td>{'in' if item.direction == 'in' else 'out'}</td>"
            f"<td>{escape(item.item_id)}</td>"
            f'<td class="text">{escape(item.description)}</td>'
            f"{_money(item.amount)}"
            f'<td class="text"><span class="badge {badge}">{escape(item.status)}</span>'
            f"{escape(resolved)}<br>{escape(resolution)}</td>"
            "</tr>"
        )
    return [
        '<section id="unexpected">',
        f"<h2>Unexpected items ({len(sheet.unexpected_items)})</h2>",
        '<div class="wide"><table>',
        "<thead><tr>"
        '<th scope="col">Recorded</th><th scope="col">In/out</th><th scope="col">Item</th>'
        '<th scope="col">Description</th><th scope="col" class="num">Amount</th>'
        '<th scope="col">Resolution</th>'
        "</tr></thead>",
        "<tbody>",
        *(rows or [_none_row(6, "No unexpected items in the period.")]),
        "</tbody>",
        "</table></div>",
        "</section>",
    ]


def _breaks(sheet: Statement) -> list[str]:
    rows = [
        "<tr>"
        f'<td class="date">{brk.effective_date}</td>'
        f"{_money(brk.asserted)}{_money(brk.ledger)}{_money(brk.difference)}"
        f'<td class="text">{escape(brk.source)}</td>'
        f'<td class="text">{escape(event_reference(brk.version, brk.bank_account))}</td>'
        "</tr>"
        for brk in sheet.reconciliation_breaks
    ]
    return [
        '<section id="breaks">',
        f"<h2>Reconciliation breaks ({len(sheet.reconciliation_breaks)})</h2>",
        # With breaks, say how many balances they were among; without, the empty row says it.
        *([f'<p id="reconciliation">{escape(sheet.reconciliation)}</p>'] if rows else []),
        '<div class="wide"><table>',
        "<thead><tr>"
        '<th scope="col">Date</th><th scope="col" class="num">Bank stated</th>'
        '<th scope="col" class="num">Ledger</th><th scope="col" class="num">Difference</th>'
        '<th scope="col">Source</th><th scope="col">Event</th>'
        "</tr></thead>",
        "<tbody>",
        *(rows or [_none_row(6, sheet.reconciliation)]),
        "</tbody>",
        "</table></div>",
        "</section>",
    ]


def _warnings(sheet: Statement) -> list[str]:
    rows = []
    for number, warning in numbered_warnings(sheet):
        if warning.cleared_on is None:
            state = '<span class="badge inforce">in force</span>'
        else:
            state = f'<span class="badge cleared">cleared</span> {warning.cleared_on}'
        rows.append(
            f'<tr id="w{number}">'
            f'<td class="num">W{number}</td>'
            f'<td class="date">{warning.raised_on}</td>'
            f"<td>{_breakable(warning.rule)}</td>"
            f'<td class="text">{escape(warning.subject)}</td>'
            f'<td class="date">{state}</td>'
            f'<td class="text">{escape(warning.explanation)}</td>'
            "</tr>"
        )
    return [
        '<section id="warnings">',
        f"<h2>Warnings raised in the period ({len(sheet.warnings)})</h2>",
        '<div class="wide"><table>',
        "<thead><tr>"
        '<th scope="col" class="num">#</th><th scope="col">Raised</th>'
        '<th scope="col">Rule</th><th scope="col">Subject</th><th scope="col">Status</th>'
        '<th scope="col">Explanation</th>'
        "</tr></thead>",
        "<tbody>",
        *(rows or [_none_row(6, "No warnings were raised in the period.")]),
        "</tbody>",
        "</table></div>",
        "</section>",
    ]


def _chart(sheet: Statement) -> list[str]:
    return [
        '<section id="chart">',
        "<h2>Bank balance over the period</h2>",
        "<figure>",
        balance_chart_svg(sheet),
        "<figcaption>End-of-day bank balance (solid) and the contingency the account may keep "
        "(dashed). Warnings are marked where they were raised, numbered as in the table above: "
        "red triangles are still in force, hollow circles were cleared.</figcaption>",
        "</figure>",
        "</section>",
    ]


def _version_cell(version: int, bank_account: str | None) -> str:
    # A stated balance is its bank account's event, not one of the account's versions.
    if bank_account is None:
        return f'<td class="num">{version}</td>'
    title = escape(event_reference(version, bank_account))
    return f'<td class="num" title="{title}">bank</td>'


def _events(sheet: Statement) -> list[str]:
    rows = []
    for line in sheet.lines:
        change = (
            '<td class="money"></td>' if line.bank_change.is_zero() else _money(line.bank_change)
        )
        rows.append(
            "<tr>"
            f'<td class="date">{line.effective_date}</td>'
            f"{_version_cell(line.version, line.bank_account)}"
            f'<td class="recorded">{_recorded(line.recorded_at)}</td>'
            f'<td class="type">{_breakable(line.event_type)}</td>'
            f'<td class="text">{escape(line.description)}</td>'
            f"<td>{_breakable(line.actor)}</td>"
            f'<td class="text">{escape(line.reason or "")}</td>'
            f"{change}"
            f"{_money(line.bank_after)}"
            "</tr>"
        )
    return [
        '<section id="events">',
        f"<h2>Events ({len(sheet.lines)}, by effective date)</h2>",
        '<div class="wide"><table class="events">',
        "<thead><tr>"
        '<th scope="col">Date</th><th scope="col" class="num">Ver</th>'
        '<th scope="col">Recorded (UTC)</th><th scope="col">Type</th>'
        '<th scope="col">Description</th>'
        '<th scope="col">Actor</th><th scope="col">Reason</th>'
        '<th scope="col" class="num">Bank</th><th scope="col" class="num">Balance</th>'
        "</tr></thead>",
        "<tbody>",
        *(rows or [_none_row(9, "No events in the period.")]),
        "</tbody>",
        "</table></div>",
        "</section>",
    ]


def _recorded(moment: datetime) -> str:
    """When an event was recorded, UTC, to the second: a late entry shows beside its date."""
    return escape(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))


def _breakable(name: str) -> str:
    # Names such as "UnexpectedOutgoingClassified", "review_overdue" or "council:dp-team" have
    # no break opportunity: allow one between their words rather than anywhere in them.
    text = escape(name)
    out = "".join(
        f"<wbr>{c}" if c.isupper() and i and text[i - 1].islower() else c
        for i, c in enumerate(text)
    )
    return out.replace("_", "_<wbr>").replace(":", ":<wbr>")


def _chain(sheet: Statement) -> list[str]:
    seal = (
        f"<code>{escape(sheet.head_mac)}</code>"
        if sheet.head_mac
        else '<span class="none">none (no seal key configured)</span>'
    )
    return [
        '<footer id="chain">',
        '<dl class="facts">',
        f"<dt>Chain head</dt><dd>version {sheet.head_version}</dd>",
        f"<dt>Digest</dt><dd><code>{escape(sheet.head_digest)}</code></dd>",
        f"<dt>Seal HMAC</dt><dd>{seal}</dd>",
        "</dl>",
        '<p class="muted">Quote the chain head to prove which records this sheet was made from; '
        "<code>dpledger verify</code> checks it.</p>",
        "</footer>",
    ]
