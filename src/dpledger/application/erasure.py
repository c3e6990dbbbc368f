"""Erasing a person at the end of their retention period (crypto-shredding).

On an encrypted store (see :mod:`dpledger.adapters.datakeys`) each person's personal values are
sealed under a data key of their own. Erasing the person deletes that key: their names,
references, descriptions and the actors and reasons of their account's events can never be read
again, by anyone, from the store or any backup of it taken afterwards with the key table, while
every event, posting and figure stays, and ``verify`` still passes (the chain covers commitments
to the personal values, not the values). The read models are rebuilt from the events, so they
show ``[erased]`` too. See docs/operations.md, "Erasure".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dpledger.domain.bounds import check_text
from dpledger.domain.errors import RuleViolation
from dpledger.domain.records import AccountStatus
from dpledger.log import get_logger

if TYPE_CHECKING:
    from dpledger.ledger import Ledger


def erase_person(ledger: Ledger, account_id: str, *, actor: str, reason: str) -> bool:
    """Erase the person of the closed account ``account_id``: delete their data key, drop the
    snapshots that held their data readable, and rebuild the read models. Returns ``False``
    if they were erased before (nothing changes). Refused, changing nothing, for an account that
    is not closed (:class:`RuleViolation`) or a store that is not encrypted
    (:class:`~dpledger.domain.personal.DataKeyError`)."""
    actor = check_text(actor, "actor")
    reason = check_text(reason, "reason")
    app = ledger.application
    state = ledger.account(account_id)
    if state.status is not AccountStatus.CLOSED:
        raise RuleViolation(
            f"the account is {state.status.value}; a person is erased only once their account"
            " is closed and its retention period has ended",
            account_id=account_id,
            fix="close the account first (close_account), then erase when retention ends",
        )
    erased = app.erase_personal_data(account_id, f"{reason} (by {actor})")
    if erased:
        ledger.rebuild_projections()
        # The account id only: what was erased is gone, and the log keeps no personal data.
        get_logger().info("person.erased", account_id=account_id)
    return erased
