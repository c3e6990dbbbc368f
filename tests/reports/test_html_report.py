"""The HTML report's structure: every section and figure of the sheet, escaped, self-contained."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date

import lxml.html
import pytest
from lxml import etree

from dpledger.adapters.reports.chart import numbered_warnings
from dpledger.adapters.reports.html import SECTION_IDS, render_html
from dpledger.domain.money import Money
from dpledger.domain.records import ReconciliationBreak
from dpledger.reporting.statement import NOTHING_STATED, Statement
from dpledger.reporting.text import label

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def page(sheet: Statement) -> str:
    return render_html(sheet)


@pytest.fixture(scope="module")
def doc(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _cells(tr: lxml.html.HtmlElement) -> str:
    return " ".join(_text(td) for td in tr.iterchildren())


def _figure_rows(doc: lxml.html.HtmlElement, section: str) -> list[tuple[str, str]]:
    """(label, amount) of each row of a section's figures table that has an amount."""
    rows = []
    for tr in doc.get_element_by_id(section).iterfind(".//tbody/tr"):
        th, money = tr.find("th"), tr.find("td[@class]")
        if th is not None and money is not None and "money" in money.get("class", ""):
            rows.append((_text(th), _text(money)))
    return rows


def test_it_is_one_html5_document_with_every_section(page: str, doc: lxml.html.HtmlElement) -> None:
    assert page.startswith("<!DOCTYPE html>\n")
    assert doc.get("lang") == "en-GB"
    assert doc.find(".//meta[@charset]").get("charset") == "utf-8"
    ids = [el.get("id") for el in doc.iter() if el.get("id") in SECTION_IDS]
    assert ids == list(SECTION_IDS)
    assert doc.findtext(".//title") == "Audit sheet DP-1002, 2025-04-01 to 2026-03-31"


def test_the_header_shows_who_what_and_when(sheet: Statement, doc: lxml.html.HtmlElement) -> None:
    header = _text(doc.get_element_by_id("summary"))
    for fact in (
        sheet.account_id,
        sheet.person_ref,
        sheet.council,
        sheet.provider,
        f"{sheet.start} to {sheet.end}",
        sheet.status,
        "as known now",
        "2026-04-30 12:00:00 UTC",
    ):
        assert fact in header


def test_the_bank_table_has_every_figure_in_order(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    expected = [(f"Opening balance (start of {sheet.start})", str(sheet.opening))]
    expected += [(label(k), str(v)) for k, v in sheet.money_in.items()]
    expected.append(("Total money in", str(sheet.total_in)))
    expected += [(label(k), str(v)) for k, v in sheet.money_out.items()]
    expected.append(("Total money out", str(sheet.total_out)))
    expected.append((f"Closing balance (end of {sheet.end})", str(sheet.closing)))
    assert _figure_rows(doc, "bank") == expected
    check = doc.get_element_by_id("check")
    assert "ok" in check.get("class")
    assert f"{sheet.opening} + {sheet.total_in} − {sheet.total_out} = {sheet.closing}" in _text(
        check
    )


def test_a_sheet_that_does_not_add_up_is_shown_in_red(sheet: Statement) -> None:
    broken = dataclasses.replace(sheet, closing=sheet.closing + Money(1))
    check = lxml.html.document_fromstring(render_html(broken)).get_element_by_id("check")
    assert "fail" in check.get("class")
    assert "do not add up" in _text(check)
    assert ".check.fail { color: var(--bad)" in render_html(broken)


def test_the_position_at_the_end_has_every_figure(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    expected = [(label(k, "liability"), str(v)) for k, v in sheet.unpaid_liabilities.items()]
    expected.append(("Total unpaid liabilities", str(sheet.total_unpaid)))
    expected += [(label(k), str(v)) for k, v in sheet.held_in_suspense.items()]
    expected.append(("Contingency retained", str(sheet.contingency)))
    expected.append(("Surplus (closing − unpaid − contingency)", str(sheet.surplus)))
    assert _figure_rows(doc, "position") == expected


def test_the_budget_is_set_against_spend_for_the_period(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    check = sheet.budget
    assert check is not None
    heading = _text(doc.get_element_by_id("budget").find(".//h2"))
    assert f"{sheet.start} to {sheet.end}" in heading
    assert _figure_rows(doc, "budget") == [
        ("Budget for the period (weekly gross, pro-rated by day)", str(check.budget)),
        ("Spent from the bank (money out, less returns and unexplained)", str(check.spent)),
        ("Budget less spend", str(check.under_budget)),
        ("Contributions due for the period", str(check.contributions_due)),
        ("Contributions received (classified income too)", str(check.contributions_received)),
        ("Contributions due less received", str(check.contributions_short)),
    ]
    assert check.under_budget == check.budget - check.spent


def test_unexpected_items_show_their_resolution(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    rows = doc.get_element_by_id("unexpected").findall(".//tbody/tr")
    assert len(rows) == len(sheet.unexpected_items) >= 1
    for tr, item in zip(rows, sheet.unexpected_items, strict=True):
        text = _cells(tr)
        for part in (str(item.recorded_on), item.item_id, item.description, str(item.amount)):
            assert part in text
        assert item.status in text
        assert item.resolution in text


def test_warnings_are_numbered_as_on_the_chart(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    rows = doc.get_element_by_id("warnings").findall(".//tbody/tr")
    numbered = numbered_warnings(sheet)
    assert len(rows) == len(numbered) >= 1
    for tr, (number, warning) in zip(rows, numbered, strict=True):
        text = _cells(tr)
        assert text.startswith(f"W{number} {warning.raised_on}")
        assert warning.rule in text
        assert warning.explanation in text
        assert ("in force" in text) == (warning.cleared_on is None)


def test_reconciliation_breaks_and_their_absence(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    # The demo's DP-1002 sheet: no statement was imported, so nothing was reconciled.
    assert sheet.stated_balances == 0
    assert NOTHING_STATED in _text(doc.get_element_by_id("breaks"))
    assert "agreed" not in _text(doc.get_element_by_id("breaks"))
    brk = ReconciliationBreak(
        effective_date=date(2025, 9, 30),
        asserted=Money("1200.00"),
        ledger=Money("1250.00"),
        difference=Money("-50.00"),
        source="statement.csv",
        version=41,
    )
    page = render_html(dataclasses.replace(sheet, reconciliation_breaks=(brk,), stated_balances=3))
    text = _text(lxml.html.document_fromstring(page).get_element_by_id("breaks"))
    for part in ("2025-09-30", "£1,200.00", "£1,250.00", "-£50.00", "statement.csv", "41"):
        assert part in text
    assert "1 of 3 stated balances differs from the ledger." in text


def test_the_event_list_has_every_event_and_balance(
    sheet: Statement, doc: lxml.html.HtmlElement
) -> None:
    rows = doc.get_element_by_id("events").findall(".//tbody/tr")
    assert len(rows) == len(sheet.lines) > 50
    for tr, line in zip(rows, sheet.lines, strict=True):
        cells = [_text(td) for td in tr.findall("td")]
        assert cells == [
            str(line.effective_date),
            str(line.version),
            f"{line.recorded_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            line.event_type,
            line.description,
            line.actor,
            line.reason or "",
            "" if line.bank_change.is_zero() else str(line.bank_change),
            str(line.bank_after),
        ]
    assert cells[-1] == str(sheet.closing)


def test_the_footer_quotes_the_chain_head(sheet: Statement, doc: lxml.html.HtmlElement) -> None:
    footer = _text(doc.get_element_by_id("chain"))
    assert f"version {sheet.head_version}" in footer
    assert sheet.head_digest in footer
    assert "no seal key configured" in footer
    sealed = dataclasses.replace(sheet, head_mac="ab" * 32)
    assert "ab" * 32 in _text(
        lxml.html.document_fromstring(render_html(sealed)).get_element_by_id("chain")
    )


def test_the_chart_is_inline_svg_that_parses_as_xml(page: str, doc: lxml.html.HtmlElement) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) == 1
    root = etree.fromstring(svgs[0].encode())
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None
    assert doc.get_element_by_id("chart").find(".//figure") is not None


def test_nothing_outside_the_file_is_loaded(page: str, doc: lxml.html.HtmlElement) -> None:
    assert not doc.findall(".//link")
    assert not doc.findall(".//script")
    assert not doc.findall(".//iframe")
    assert not doc.findall(".//img")
    assert "@import" not in page
    assert not re.search(r"url\(\s*[^#\s]", page)  # only url(#clip) inside the chart
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)""", page)
    # The only URLs are XML namespace names, which are never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    csp = doc.find(".//meta[@http-equiv='Content-Security-Policy']")
    assert csp is not None
    assert "default-src 'none'" in csp.get("content")


def test_every_user_string_is_escaped(sheet: Statement) -> None:
    attack = '<script>alert("x")</script>'
    line = dataclasses.replace(sheet.lines[5], description=attack, reason=attack, actor=attack)
    warning = dataclasses.replace(sheet.warnings[0], explanation=attack, subject=attack)
    item = dataclasses.replace(sheet.unexpected_items[0], description=attack)
    hostile = dataclasses.replace(
        sheet,
        person_ref=attack,
        council=attack,
        provider=attack,
        lines=(*sheet.lines[:5], line, *sheet.lines[6:]),
        warnings=(warning, *sheet.warnings[1:]),
        unexpected_items=(item,),
    )
    page = render_html(hostile, title=attack)
    assert "<script" not in page
    doc = lxml.html.document_fromstring(page)
    assert not doc.findall(".//script")
    assert doc.findtext(".//title") == attack
    # Each one is shown as text, where it belongs.
    assert _text(doc.get_element_by_id("summary")).count(attack) == 4  # heading + 3 facts
    assert _text(doc.get_element_by_id("events")).count(attack) == 3
    assert attack in _text(doc.get_element_by_id("warnings"))
    assert attack in _text(doc.get_element_by_id("unexpected"))


def test_a_quiet_period_says_so(demo_sheets: dict[str, Statement]) -> None:
    doc = lxml.html.document_fromstring(render_html(demo_sheets["quiet"]))
    assert "No events in the period." in _text(doc.get_element_by_id("events"))
    assert "No warnings were raised" in _text(doc.get_element_by_id("warnings"))
    assert "No unexpected items" in _text(doc.get_element_by_id("unexpected"))


def test_money_is_right_aligned_in_tabular_numerals(page: str) -> None:
    css = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert css is not None
    rule = re.search(r"\.num, \.money \{([^}]*)\}", css.group(1))
    assert rule is not None
    assert "text-align: right" in rule.group(1)
    assert "font-variant-numeric: tabular-nums" in rule.group(1)


def test_the_same_sheet_gives_the_same_page(sheet: Statement, page: str) -> None:
    assert render_html(sheet) == page


def test_a_balance_the_bank_stated_is_named_as_its_bank_accounts_event(sheet: Statement) -> None:
    # A stated balance is an event of the bank account, not one of the account's versions: the
    # event list and the breaks say whose event it is.
    stated = dataclasses.replace(
        sheet.lines[-1],
        version=4,
        event_type="BankBalanceStated",
        description="bank stated £1,200.00 on 2025-09-30",
        bank_change=Money(0),
        bank_account="30-99-50 12345678",
    )
    brk = ReconciliationBreak(
        effective_date=date(2025, 9, 30),
        asserted=Money("1200.00"),
        ledger=Money("1250.00"),
        difference=Money("-50.00"),
        source="statement.csv",
        version=4,
        bank_account="30-99-50 12345678",
    )
    changed = dataclasses.replace(sheet, lines=(*sheet.lines, stated), reconciliation_breaks=(brk,))
    doc = lxml.html.document_fromstring(render_html(changed))
    last = doc.get_element_by_id("events").findall(".//tbody/tr")[-1]
    version = last.findall("td")[1]
    assert _text(version) == "bank"
    assert version.get("title") == "bank account 30-99-50 12345678 event 4"
    breaks = _text(doc.get_element_by_id("breaks"))
    assert "bank account 30-99-50 12345678 event 4" in breaks
