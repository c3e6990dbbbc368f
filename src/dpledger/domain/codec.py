"""Plain data for dataclasses: how an account's state becomes a snapshot and back.

:func:`encoder` and :func:`decoder` compile, once per type, functions that turn a dataclass (and
the values it holds: ``Money``, dates, enums, ``Decimal``, lists, tuples, dicts, optionals, nested
dataclasses) into JSON-ready lists, strings and integers, positionally, and back. A snapshot
decodes with the C JSON parser and one call per record, with no per-value type tags; the same
value always encodes to the same data, which is what a snapshot's state digest relies on.

Money is kept as integer pence (dpledger keeps GBP only), dates as ISO text, ``Decimal`` as text.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from dpledger.domain.money import GBP, Money

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

PLAIN = "plain"
"""``Annotated[T, PLAIN]`` marks a field already held as JSON data (rows of ints and text): it is
stored and read as it is, with no work per value. Big, hot parts of a state are kept so."""


def encode(obj: Any) -> Any:
    """``obj`` (a dataclass instance) as plain data."""
    kind: Any = type(obj)
    return encoder(kind)(obj)


def decode(cls: type[Any], data: Any) -> Any:
    """An instance of ``cls`` from :func:`encode`'s data."""
    kind: Any = cls
    return decoder(kind)(data)


@cache
def encoder(hint: Any) -> Encode:
    """The function that encodes values of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _same if PLAIN in args[1:] else encoder(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [encoder(a) for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"only optional unions are supported, not {hint}")
        one = inner[0]
        return lambda v: None if v is None else one(v)
    if origin in (list, tuple):
        item = encoder(args[0])
        return lambda v: [item(x) for x in v]
    if origin is dict:
        value = encoder(args[1])
        return lambda v: {k: value(x) for k, x in v.items()}
    if hint is Money:
        return _encode_money
    if hint is date:
        return _encode_date
    if hint is Decimal:
        return str
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _encode_enum
    if hint in (int, str, bool, Any) or hint is type(None):
        return _same
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        names = [f.name for f in dataclasses.fields(hint)]
        hints = typing.get_type_hints(hint, include_extras=True)
        parts = [(n, encoder(hints[n])) for n in names]
        if hasattr(hint, "stored_fields"):
            return lambda v: _trailing_unset_dropped(v, parts)
        return lambda v: [fn(getattr(v, n)) for n, fn in parts]
    raise TypeError(f"no plain-data encoding for {hint!r}")


@cache
def decoder(hint: Any) -> Decode:
    """The function that decodes values of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _same if PLAIN in args[1:] else decoder(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [decoder(a) for a in args if a is not type(None)]
        one = inner[0]
        return lambda v: None if v is None else one(v)
    if origin is list:
        item = decoder(args[0])
        return lambda v: [item(x) for x in v]
    if origin is tuple:
        item = decoder(args[0])
        return lambda v: tuple(item(x) for x in v)
    if origin is dict:
        value = decoder(args[1])
        return lambda v: {k: value(x) for k, x in v.items()}
    if hint is Money:
        return _decode_money
    if hint is date:
        return date.fromisoformat
    if hint is Decimal:
        return Decimal
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint in (int, str, bool, Any) or hint is type(None):
        return _same
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, include_extras=True)
        fields = list(dataclasses.fields(hint))
        parts = [decoder(hints[f.name]) for f in fields]
        cls: Any = hint

        # A record with fields added later (AccountPolicy) may be stored without them.
        shortest = len([f for f in fields if f.default is dataclasses.MISSING])
        if not hasattr(hint, "stored_fields"):
            shortest = len(parts)

        def build(v: list[Any]) -> Any:
            if not shortest <= len(v) <= len(parts):
                raise ValueError(f"{cls.__name__} has {len(parts)} fields, not {len(v)}")
            return cls(*[fn(x) for fn, x in zip(parts[: len(v)], v, strict=True)])

        return build
    raise TypeError(f"no plain-data decoding for {hint!r}")


def _trailing_unset_dropped(value: Any, parts: list[tuple[str, Encode]]) -> list[Any]:
    """A record's fields in order, without the trailing ones its ``stored_fields`` leaves out
    (fields added later, at their defaults), so it encodes as it did before they existed."""
    stored = value.stored_fields()
    kept = len(parts)
    while kept and parts[kept - 1][0] not in stored:
        kept -= 1
    return [fn(getattr(value, name)) for name, fn in parts[:kept]]


def _same(value: Any) -> Any:
    return value


def _encode_money(value: Money) -> int:
    if value.currency != GBP:
        raise ValueError(f"an account keeps GBP only, not {value.currency}")
    return value.pence


def _decode_money(value: int) -> Money:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not a number of pence")
    return Money(value)


def _encode_date(value: date) -> str:
    return value.isoformat()


def _encode_enum(value: Enum) -> Any:
    return value.value
