"""The ledger as a ledger-cli journal, which ``ledger`` and ``hledger`` both read.

:func:`to_journal` writes one transaction per event that has postings, dated at its effective
date, with the same account names as the beancount export
(:func:`dpledger.adapters.interchange.beancount.beancount_account`), so ``ledger bal`` and
``hledger bal`` sum dpledger's postings on their own: each balance they print must equal
dpledger's to the penny (``benchmarks/bench_council.py`` and ``tests/interchange`` check it).

A pure text writer, like the beancount one: it never runs either tool.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dpledger.adapters.interchange.beancount import beancount_account
from dpledger.domain.events import AccountEvent

COMMODITY = "GBP"


def _amount(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d} {COMMODITY}"


def _payee(event: AccountEvent) -> str:
    # Narration is free text in a journal; kept to the event's type and version so a line
    # never holds a character either tool reads as syntax (";", "|", "(", a tab, a newline).
    return f"{type(event).__name__} v{event.originator_version}"


def to_journal(histories: Iterable[tuple[str, Sequence[AccountEvent]]]) -> str:
    """The accounts' histories as the text of a ledger-cli journal.

    ``histories`` are ``(account id, that account's events in version order)`` pairs, as for
    :func:`~dpledger.adapters.interchange.beancount.to_beancount`. Events without postings are
    left out; amounts are debit-positive, in pence written as pounds with two decimals.

    Raises ``ValueError`` if an account id appears twice.
    """
    seen: set[str] = set()
    out = [
        "; The dpledger ledger as a ledger-cli journal (ledger and hledger read it).",
        "; One transaction per dpledger event that has postings, at its effective date.",
        "",
    ]
    for account_id, events in histories:
        if account_id in seen:
            raise ValueError("an account id appears more than once in the histories")
        seen.add(account_id)
        names: dict[object, str] = {}
        for event in events:
            lines = list(event.postings)
            if not lines:
                continue
            out.append(f"{event.effective_date.isoformat()} * {_payee(event)}")
            for line in lines:
                name = names.get(line.account)
                if name is None:
                    name = names[line.account] = beancount_account(account_id, line.account)
                out.append(f"    {name}  {_amount(line.amount.pence)}")
            out.append("")
    return "\n".join(out)
