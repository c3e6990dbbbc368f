"""The balance chart: valid, accessible, repeatable SVG, whatever the balances look like."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date

import matplotlib
import pytest
from lxml import etree

from dpledger.adapters.reports.chart import (
    BALANCE_COLOUR,
    CONTINGENCY_COLOUR,
    WARNING_COLOUR,
    balance_chart_svg,
    numbered_warnings,
)
from dpledger.domain.money import Money
from dpledger.reporting.statement import Statement

SVG = "{http://www.w3.org/2000/svg}"


def _shifted(sheet: Statement, pence: int) -> Statement:
    """``sheet`` with every balance moved by ``pence`` (negative or zero balances)."""
    move = Money(pence)
    return dataclasses.replace(
        sheet,
        opening=sheet.opening + move,
        closing=sheet.closing + move,
        lines=tuple(
            dataclasses.replace(line, bank_after=line.bank_after + move) for line in sheet.lines
        ),
    )


def _parse(svg: str) -> etree._Element:
    assert svg.startswith("<svg"), svg[:80]
    return etree.fromstring(svg.encode())


def _draw(sheet: Statement) -> etree._Element:
    # Matplotlib warns (singular limits, empty legends...) where a chart would come out wrong.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return _parse(balance_chart_svg(sheet))


def test_the_chart_is_accessible_svg_with_every_line(sheet: Statement) -> None:
    root = _draw(sheet)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert sheet.account_id in (title.text or "")
    assert str(sheet.closing) in (desc.text or "")
    svg = etree.tostring(root, encoding="unicode")
    assert BALANCE_COLOUR in svg
    assert CONTINGENCY_COLOUR in svg
    assert (WARNING_COLOUR in svg) == any(w.cleared_on is None for w in sheet.warnings)
    assert "£" in svg  # the y axis is in pounds
    assert "http://" not in svg.replace("http://www.w3.org/", "")  # nothing to fetch


def test_each_warning_has_a_marker_with_its_rule_as_tooltip(
    demo_sheets: dict[str, Statement],
) -> None:
    sheet = demo_sheets["DP-1004"]
    assert sheet.warnings
    # Make sure of both kinds, and of two on one day, whatever the demo holds.
    first = sheet.warnings[0]
    extra = (
        dataclasses.replace(first, rule="made_up_in_force", cleared_on=None),
        dataclasses.replace(first, rule="made_up_cleared", cleared_on=sheet.end),
    )
    sheet = dataclasses.replace(sheet, warnings=(*sheet.warnings, *extra))
    root = _draw(sheet)
    numbered = numbered_warnings(sheet)
    assert len(numbered) == len(sheet.warnings)
    for number, warning in numbered:
        group = root.find(f".//{SVG}g[@id='warning-{number}']")
        assert group is not None, f"no marker for W{number}"
        tooltip = group.find(f"{SVG}title")
        assert tooltip is not None
        assert warning.rule in (tooltip.text or "")
        state = f"cleared {warning.cleared_on}" if warning.cleared_on else "still in force"
        assert state in (tooltip.text or "")
    labels = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert all(f"W{n}" in labels for n, _ in numbered)


def test_the_chart_is_the_same_every_time(sheet: Statement) -> None:
    assert balance_chart_svg(sheet) == balance_chart_svg(sheet)


def test_the_chart_leaves_the_hosts_matplotlib_settings_alone(sheet: Statement) -> None:
    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    balance_chart_svg(sheet)
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before


@pytest.mark.parametrize(
    "case",
    ["no events", "single day", "all zero", "negative", "warning outside the period"],
)
def test_awkward_sheets_still_draw(demo_sheets: dict[str, Statement], case: str) -> None:
    base = demo_sheets["DP-1002"]
    if case == "no events":
        sheet = demo_sheets["quiet"]
        assert not sheet.lines
    elif case == "single day":
        sheet = dataclasses.replace(
            base, start=date(2025, 6, 1), end=date(2025, 6, 1), lines=(), warnings=()
        )
        assert len(sheet.balance_points) == 1
    elif case == "all zero":
        sheet = dataclasses.replace(
            _shifted(base, -base.closing.pence),
            lines=(),
            opening=Money(0),
            closing=Money(0),
            contingency_changes=((base.start, Money(0)),),
            contingency=Money(0),
            warnings=(),
        )
    elif case == "negative":
        sheet = _shifted(base, -1_000_000)
        assert min(m for _, m in sheet.balance_points).is_negative()
    else:
        warning = dataclasses.replace(base.warnings[0], raised_on=date(2024, 1, 1))
        sheet = dataclasses.replace(base, warnings=(warning,))
    root = _draw(sheet)
    assert root.find(f"{SVG}title") is not None
    if case == "negative":
        labels = [t.text or "" for t in root.iter(f"{SVG}text")]
        assert any(label.startswith("-£") for label in labels), labels
