"""The base of the typed ``Ledger`` methods: each builds one command and executes it."""

from __future__ import annotations

from dpledger.application.session import Receipt
from dpledger.domain.commands import Command


class Executes:
    """Something that runs commands (the ``Ledger``); the typed methods' mixins build on it."""

    def execute(self, command: Command) -> Receipt:
        """Run one command and save what it recorded (see ``Ledger.execute``)."""
        raise NotImplementedError
