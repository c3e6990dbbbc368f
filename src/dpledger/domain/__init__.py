"""The pure domain of dpledger: money, the chart of accounts, events and the managed account.

Nothing here does I/O or imports an adapter.
"""
