"""The write path between the ``Ledger`` facade and the domain: running commands (one, or a batch
per account) as units of work, receipts, and importing bank statements through the same commands
a person would send."""
