"""What auditors read: the audit sheet (statement) of an account for a period.

:mod:`dpledger.reporting.statement` composes it from the read side's answers; renderers for
HTML, spreadsheets and CSV live in :mod:`dpledger.adapters.reports`.
"""
