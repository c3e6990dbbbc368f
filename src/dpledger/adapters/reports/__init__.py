"""Human-facing renderings of the audit sheet (:class:`dpledger.reporting.statement.Statement`).

- :func:`~dpledger.adapters.reports.html.render_html`: one self-contained HTML file (inline CSS
  and an inline SVG chart; no scripts, fonts or links to anything outside the file).
- :func:`~dpledger.adapters.reports.chart.balance_chart_svg`: the bank balance chart as SVG.
- :func:`~dpledger.adapters.reports.spreadsheet.write_xlsx`,
  :func:`~dpledger.adapters.reports.spreadsheet.write_statement_csv` and
  :func:`~dpledger.adapters.reports.spreadsheet.write_events_csv`: the sheet and its event list
  for spreadsheets.

They need the ``reports`` extra (matplotlib, openpyxl). Each module imports what it needs itself,
so ``import dpledger.adapters.reports`` costs nothing and a missing extra fails only on use.
"""
