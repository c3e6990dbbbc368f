"""Exact money: integer pence and a currency.

``Money`` is the only way an amount enters dpledger. It refuses floats, a third decimal place, NaN
and infinity, and refuses to add, subtract or compare amounts in different currencies.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from dpledger.domain.errors import CurrencyMismatch, MoneyError

GBP: Final = "GBP"
_PENCE_PER_POUND: Final = 100
# ASCII digits only: str.isdigit-style matching would accept Arabic-Indic and full-width digits.
_AMOUNT = re.compile(r"^(?P<sign>[-+]?)£?(?P<pounds>[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Money:
    """An exact amount of money in minor units (pence for GBP).

    Build it from ``int`` pence, or from pounds as a ``str`` (``"12.34"``, ``"-0.50"``, ``"£7"``)
    or a ``Decimal`` with at most two decimal places::

        >>> Money(1234) == Money("12.34") == Money(Decimal("12.34"))
        True

    A ``float`` is refused (it cannot hold 0.10 exactly), as are a third decimal place, NaN and
    infinity: each raises :class:`~dpledger.errors.MoneyError` saying why.
    """

    __slots__ = ("_currency", "_pence")

    _pence: int
    _currency: str

    def __init__(self, amount: int | str | Decimal, currency: str = GBP) -> None:
        if currency != GBP and (not isinstance(currency, str) or not _CURRENCY.match(currency)):
            raise MoneyError(
                f"currency must be a three-letter ISO 4217 code, got {currency!r}",
                field="currency",
                fix="use an upper-case code such as 'GBP'",
            )
        # Most money is pence already (arithmetic, stored events): skip the parsing then.
        pence = amount if type(amount) is int else _to_pence(amount)
        object.__setattr__(self, "_pence", pence)
        object.__setattr__(self, "_currency", currency)

    @classmethod
    def zero(cls, currency: str = GBP) -> Money:
        """Nothing, in ``currency``."""
        return cls(0, currency)

    @property
    def pence(self) -> int:
        """The amount in minor units (pence), signed."""
        return self._pence

    @property
    def currency(self) -> str:
        """The ISO 4217 currency code."""
        return self._currency

    @property
    def amount(self) -> Decimal:
        """The amount in major units (pounds) as an exact ``Decimal`` with two places."""
        # Built from digits, not by division: exact for any size, whatever the decimal context.
        return Decimal(f"{self._pence}E-2")

    def is_zero(self) -> bool:
        """True when the amount is nothing."""
        return self._pence == 0

    def is_positive(self) -> bool:
        """True when the amount is above zero."""
        return self._pence > 0

    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self._pence < 0

    def _same_currency(self, other: Money, op: str) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other._currency != self._currency:
            raise CurrencyMismatch(
                f"cannot {op} {self._currency} and {other._currency}",
                fix="convert one amount first; dpledger never mixes currencies",
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other, "add")
        return Money(self._pence + other._pence, self._currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other, "subtract")
        return Money(self._pence - other._pence, self._currency)

    def __mul__(self, factor: int) -> Money:
        # Only whole multiples: a fractional product would need a rounding rule, which is the
        # caller's decision (see dpledger.domain.rules for hours x rate).
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self._pence * factor, self._currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self._pence, self._currency)

    def __abs__(self) -> Money:
        return Money(abs(self._pence), self._currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other, "compare")
        return self._pence < other._pence

    def __le__(self, other: Money) -> bool:
        self._same_currency(other, "compare")
        return self._pence <= other._pence

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other, "compare")
        return self._pence > other._pence

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other, "compare")
        return self._pence >= other._pence

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self._pence == other._pence and self._currency == other._currency

    def __hash__(self) -> int:
        return hash((self._pence, self._currency))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self._currency}')"

    def __str__(self) -> str:
        sign = "-" if self._pence < 0 else ""
        pounds, pence = divmod(abs(self._pence), _PENCE_PER_POUND)
        symbol = "£" if self._currency == GBP else f"{self._currency} "
        return f"{sign}{symbol}{pounds:,}.{pence:02d}"

    def __reduce__(self) -> tuple[type[Money], tuple[int, str]]:
        return (Money, (self._pence, self._currency))


def _to_pence(amount: object) -> int:
    if isinstance(amount, bool):
        raise MoneyError(
            "a bool is not an amount of money", field="amount", fix="pass int pence or a str"
        )
    if isinstance(amount, int):
        return amount
    if isinstance(amount, float):
        raise MoneyError(
            f"floats are not exact and are refused (got {amount!r})",
            field="amount",
            fix="pass a str such as '12.34', int pence such as 1234, or a Decimal",
        )
    if isinstance(amount, str):
        text = amount.strip()
        match = _AMOUNT.match(text)
        if match is None:
            raise MoneyError(
                f"{amount!r} is not an amount of money with at most two decimal places",
                field="amount",
                fix="write pounds and pence like '1234.56' (no commas, no third decimal place)",
            )
        pence = int(match["pounds"]) * _PENCE_PER_POUND + int((match["frac"] or "0").ljust(2, "0"))
        return -pence if match["sign"] == "-" else pence
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise MoneyError(
                f"{amount} is not a finite amount", field="amount", fix="pass a real amount"
            )
        # Exact rational arithmetic: Decimal multiplication would round in a 28-digit context.
        numerator, denominator = amount.as_integer_ratio()
        pence, remainder = divmod(numerator * _PENCE_PER_POUND, denominator)
        if remainder:
            raise MoneyError(
                f"{amount} has more than two decimal places; dpledger never rounds money silently",
                field="amount",
                fix="round it yourself, with the rounding rule that applies, before passing it",
            )
        return pence
    raise MoneyError(
        f"cannot make money from {type(amount).__name__}",
        field="amount",
        fix="pass a str such as '12.34', int pence, or a Decimal",
    )
