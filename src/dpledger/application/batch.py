"""Running many commands: one unit of work, and one transaction, per account.

For bulk loads and migrations (a provider moving its clients' histories in). The commands of each
account run in the order given and are saved together, all or nothing for that account; the
other accounts' batches go on. Every command takes the path a single one takes (its idempotency
key, its decision), so a batch sent again records nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from dpledger.adapters.store import DpledgerApplication
from dpledger.application.retry import Retrying
from dpledger.application.session import Receipt, Session
from dpledger.domain.account import account_uuid
from dpledger.domain.commands import Command
from dpledger.domain.errors import DpledgerError, ValidationError
from dpledger.domain.events import command_index_key


@dataclass(frozen=True)
class BatchReport:
    """What ``Ledger.execute_many`` did: a receipt per command (``None`` for the commands of an
    account whose batch failed), and each failed account's error."""

    receipts: tuple[Receipt | None, ...]
    failed: Mapping[str, DpledgerError]
    events_recorded: int

    @property
    def ok(self) -> bool:
        """Whether every account's batch was recorded."""
        return not self.failed


def run_batch(
    app: DpledgerApplication,
    commands: Iterable[Command],
    *,
    progress: Callable[[int, int], None] | None = None,
    retrying: Retrying | None = None,
) -> BatchReport:
    """Run ``commands``, saving each account's in one transaction (see the module docstring).
    An account's batch that meets another writer's save is run again whole, as ``retrying``
    says (default: no retries)."""
    retrying = retrying if retrying is not None else Retrying(0)
    given = list(commands)
    groups: dict[str, list[tuple[int, Command]]] = {}
    for index, command in enumerate(given):
        if not isinstance(command, Command):
            raise ValidationError(
                f"item {index} is not a command: {command!r}",
                field="commands",
                fix="pass dpledger command objects",
            )
        groups.setdefault(command.account_id, []).append((index, command))
    receipts: list[Receipt | None] = [None] * len(given)
    failed: dict[str, DpledgerError] = {}
    recorded = 0
    for done, (account_id, items) in enumerate(groups.items(), start=1):
        try:
            results, saved = retrying.run(app, partial(_run_account, account_id, items))
        except DpledgerError as error:
            failed[account_id] = error.for_account(account_id)
        else:
            recorded += saved
            for index, receipt in results:
                receipts[index] = receipt
        if progress is not None:
            progress(done, len(groups))
    return BatchReport(tuple(receipts), failed, recorded)


def _run_account(
    account_id: str, items: list[tuple[int, Command]], session: Session
) -> tuple[list[tuple[int, Receipt]], int]:
    """One account's commands on ``session``, saved together: their receipts and the count."""
    account = session.account(account_id)
    facts = session.facts_for(account_uuid(account_id), account)
    keys = [command_index_key(c.idempotency_key) for _, c in items if c.idempotency_key]
    facts.prefetch(keys + [k for _, c in items for k in c.index_keys()])
    results = [(index, session.run(command)) for index, command in items]
    return results, session.save()
