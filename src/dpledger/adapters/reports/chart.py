"""The bank balance over the period as an SVG chart, for the HTML report.

Drawn with matplotlib's object API (a ``Figure`` on an SVG canvas), never pyplot, so it neither
needs nor changes the host's backend or global figure state; every setting is made inside an
``rc_context``. The output is deterministic: the same sheet gives the same bytes, run after run.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import escape
from typing import Any

from dpledger.domain.money import Money
from dpledger.projections.oversight import Warning
from dpledger.reporting.statement import Statement

try:
    from matplotlib import dates as mdates
    from matplotlib import rc_context
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the balance chart needs matplotlib: install dpledger[reports]") from exc

BALANCE_COLOUR = "#1f5fa8"
"""The bank balance line (tests look for it in screenshots)."""
CONTINGENCY_COLOUR = "#b35900"
WARNING_COLOUR = "#c62828"
CLEARED_COLOUR = "#6b6b6b"

SVG_ID = "balance-chart"
TITLE_ID = "balance-chart-title"
DESC_ID = "balance-chart-desc"

# Typed loosely: matplotlib's stubs list every rc key as a Literal, and older ones do not.
_RC: dict[Any, Any] = {
    # A fixed salt and no embedded date make the SVG byte-for-byte repeatable.
    "svg.hashsalt": "dpledger-balance-chart",
    # Text stays text: selectable, searchable, and drawn in the page's own fonts.
    "svg.fonttype": "none",
    "svg.id": SVG_ID,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": "#222222",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
}


def balance_chart_svg(sheet: Statement) -> str:
    """The bank balance of ``sheet`` over its period as an ``<svg>`` element (text).

    A step line of the end-of-day balance (:attr:`Statement.balance_points`), the contingency
    the account may keep as a dashed step line (:attr:`Statement.contingency_changes`, carried
    to the period's end), and a marker on the balance line for each warning raised in the
    period, numbered ``W1``, ``W2``... in the order they were raised (:func:`numbered_warnings`;
    filled red: still in force at the end; hollow grey: cleared); each marker's ``<title>``
    names the rule and its state.
    The root carries ``role="img"`` and a ``<title>``/``<desc>`` for screen readers.

    The result starts at ``<svg`` (no XML declaration or doctype), so it can be inlined in HTML
    as it is, or written to a ``.svg`` file. It scales to its container's width.
    """
    points = sheet.balance_points
    contingency = _contingency_steps(sheet)
    with rc_context(_RC):
        figure = Figure(figsize=(8.0, 3.2), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        # Pence become float pounds here only, for positions on the plot: never for a figure
        # anyone reads (tick labels are rounded to whole pounds).
        days = [_x(day) for day, _ in points]
        pounds = [float(m.pence) / 100 for _, m in points]
        axes.step(
            days,
            pounds,
            where="post",
            color=BALANCE_COLOUR,
            linewidth=2.0,
            label="Bank balance",
            marker="o" if len(points) == 1 else None,
            clip_on=len(points) > 1,  # a lone point on the axis would be cut in half
            zorder=3,
        )
        axes.fill_between(days, pounds, step="post", color=BALANCE_COLOUR, alpha=0.08, lw=0)
        axes.step(
            [_x(day) for day, _ in contingency],
            [float(m.pence) / 100 for _, m in contingency],  # positions only, as above
            where="post",
            color=CONTINGENCY_COLOUR,
            linewidth=1.5,
            linestyle=(0, (5, 3)),
            label="Contingency",
            zorder=2,
        )
        axes.axhline(0, color="#999999", linewidth=0.8, zorder=1)
        _warning_markers(axes, sheet, points)
        _axes_limits(axes, sheet, points, contingency)
        _format_axes(axes, sheet)
        figure.legend(loc="outside lower center", ncols=4, frameon=False, fontsize=8.5)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": "dpledger"})
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]
    # The RDF block says only "made by matplotlib" and is full of namespace URLs; and the
    # stylesheet's "*" would reach the whole page once the SVG is inline in HTML.
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = svg.replace('<style type="text/css">*{', f'<style type="text/css">#{SVG_ID} *{{', 1)
    return _accessible(svg, sheet)


def _x(day: date) -> float:
    # Matplotlib's own date numbers (its epoch may be the host's choice), as typed floats.
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _contingency_steps(sheet: Statement) -> list[tuple[date, Money]]:
    steps = list(sheet.contingency_changes) or [(sheet.start, sheet.contingency)]
    if steps[-1][0] < sheet.end:
        steps.append((sheet.end, steps[-1][1]))
    return steps


def _balance_on(points: list[tuple[date, Money]], day: date) -> Money:
    # End-of-day balance: the last point on or before the day (the opening before the first).
    balance = points[0][1]
    for point_day, amount in points:
        if point_day > day:
            break
        balance = amount
    return balance


def numbered_warnings(sheet: Statement) -> list[tuple[int, Warning]]:
    """The sheet's warnings in the order they were raised, numbered from 1: ``W1`` on the chart
    is row 1 of the report's warnings table."""
    ordered = sorted(sheet.warnings, key=lambda w: (w.raised_on, w.raised_version, w.rule))
    return list(enumerate(ordered, start=1))


def _warning_markers(axes: Axes, sheet: Statement, points: list[tuple[date, Money]]) -> None:
    legend_done = {"in force": False, "cleared": False}
    by_day: dict[date, list[tuple[int, Warning]]] = {}
    for number, warning in numbered_warnings(sheet):
        day = min(max(warning.raised_on, sheet.start), sheet.end)
        by_day.setdefault(day, []).append((number, warning))
        cleared = warning.cleared_on is not None
        kind = "cleared" if cleared else "in force"
        (marker,) = axes.plot(
            [_x(day)],
            [float(_balance_on(points, day).pence) / 100],  # a position on the plot only
            linestyle="none",
            marker="o" if cleared else "v",
            markersize=8 if cleared else 9,
            markerfacecolor="white" if cleared else WARNING_COLOUR,
            markeredgecolor=CLEARED_COLOUR if cleared else WARNING_COLOUR,
            markeredgewidth=1.6,
            label="_nolegend_" if legend_done[kind] else f"Warning {kind}",
            zorder=4,
        )
        legend_done[kind] = True
        marker.set_gid(f"warning-{number}")
    # One label per day ("W1, W2"), raised a step when the previous label is close, so that
    # warnings days apart do not print over each other.
    near = max(1, (sheet.end - sheet.start).days // 30)
    previous: date | None = None
    level = 0
    for day, group in sorted(by_day.items()):
        level = level + 1 if previous is not None and (day - previous).days <= near else 0
        previous = day
        in_force = any(w.cleared_on is None for _, w in group)
        axes.annotate(
            ", ".join(f"W{number}" for number, _ in group),
            (_x(day), float(_balance_on(points, day).pence) / 100),  # a position only
            xytext=(0, 8 + 9 * (level % 3)),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=WARNING_COLOUR if in_force else CLEARED_COLOUR,
            # A white ground keeps the label readable where it crosses the balance line.
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            zorder=5,
        )


def _axes_limits(
    axes: Axes,
    sheet: Statement,
    points: list[tuple[date, Money]],
    contingency: list[tuple[date, Money]],
) -> None:
    if sheet.start == sheet.end:
        # A one-day period: give the day some room, or matplotlib warns of a singular axis.
        axes.set_xlim(_x(sheet.start - timedelta(days=1)), _x(sheet.end + timedelta(days=1)))
    else:
        axes.set_xlim(_x(sheet.start), _x(sheet.end))
    pence = [m.pence for _, m in points] + [m.pence for _, m in contingency]
    low, high = min(0, *pence), max(0, *pence)
    if low == high:
        high = low + 10_000  # all zero: show £0 to £100 rather than a degenerate axis
    room = (high - low) * 0.12
    axes.set_ylim((low - (room if low < 0 else 0)) / 100, (high + room) / 100)


def _format_axes(axes: Axes, sheet: Statement) -> None:
    if (sheet.end - sheet.start).days < 14:
        # Short periods: whole days, never the hours AutoDateLocator would choose.
        axes.xaxis.set_major_locator(mdates.DayLocator())  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=9)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        formatter = mdates.ConciseDateFormatter(locator, show_offset=True)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(formatter)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axes.yaxis.set_major_formatter(FuncFormatter(_pounds_tick))
    axes.set_ylabel("Bank balance")
    axes.grid(axis="y", color="#e3e3e3", linewidth=0.8)
    axes.set_axisbelow(True)


def _pounds_tick(value: float, _position: object) -> str:
    # A tick label, not a figure: whole pounds are enough, and -0 must not show as "-£0".
    rounded = round(value)
    sign = "-" if rounded < 0 else ""
    return f"{sign}£{abs(rounded):,}"


def _accessible(svg: str, sheet: Statement) -> str:
    """Add role, title and description to the root, and a tooltip to each warning marker."""
    title = f"Bank balance of {sheet.account_id}, {sheet.start} to {sheet.end}"
    desc = _description(sheet)
    root_end = svg.index(">")
    svg = svg[:root_end] + f' role="img" aria-labelledby="{TITLE_ID} {DESC_ID}"' + svg[root_end:]
    head = svg.index(">") + 1
    svg = (
        svg[:head]
        + f'\n <title id="{TITLE_ID}">{escape(title)}</title>'
        + f'\n <desc id="{DESC_ID}">{escape(desc)}</desc>'
        + svg[head:]
    )
    for number, warning in numbered_warnings(sheet):
        group = f'<g id="warning-{number}">'
        svg = svg.replace(
            group, f"{group}\n   <title>{escape(_warning_tooltip(number, warning))}</title>", 1
        )
    return svg


def _warning_tooltip(number: int, warning: Warning) -> str:
    state = f"cleared {warning.cleared_on}" if warning.cleared_on else "still in force"
    subject = f" {warning.subject}" if warning.subject else ""
    return f"W{number} {warning.rule}{subject}, raised {warning.raised_on} ({state})"


def _description(sheet: Statement) -> str:
    points = sheet.balance_points
    lowest_day, lowest = min(points, key=lambda p: (p[1].pence, p[0]))
    highest_day, highest = max(points, key=lambda p: (p[1].pence, p[0]))
    in_force = sum(1 for w in sheet.warnings if w.cleared_on is None)
    return (
        f"Step chart of the bank balance from {sheet.opening} at the start of {sheet.start} "
        f"to {sheet.closing} at the end of {sheet.end}; lowest {lowest} on {lowest_day}, "
        f"highest {highest} on {highest_day}. The dashed line is the contingency the account "
        f"may keep ({sheet.contingency} at the end). {len(sheet.warnings)} warning(s) raised "
        f"in the period, {in_force} still in force, marked on the line."
    )
