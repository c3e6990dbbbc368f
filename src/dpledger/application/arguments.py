"""What the typed ``Ledger`` methods accept, and the decorator that names the account in their
errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec, TypeVar

from dpledger.domain.errors import DpledgerError
from dpledger.domain.money import Money

MoneyLike = Money | str | int | Decimal
"""An amount: ``Money``, pounds as ``str`` or ``Decimal`` (at most 2 places), or ``int`` pence."""
DateLike = date | str
"""A calendar date, or an ISO ``YYYY-MM-DD`` string."""
HoursLike = Decimal | str | int
"""Hours: a ``Decimal``, ``str`` or ``int`` with at most 2 decimal places (never a float)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def names_account(
    method: Callable[Concatenate[Any, str, _P], _R],
) -> Callable[Concatenate[Any, str, _P], _R]:
    """Errors raised before the account was loaded (bad input) still name the account."""

    @functools.wraps(method)
    def wrapper(self: Any, account_id: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, account_id, *args, **kwargs)
        except DpledgerError as error:
            if isinstance(account_id, str):
                error.for_account(account_id)
            raise

    return wrapper
