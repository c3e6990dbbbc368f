"""Personal data in events: which fields hold it, and how the chain covers it once sealed.

With a data key configured (see :mod:`dpledger.adapters.datakeys`), every personal value of a new
event (:data:`PERSONAL`: person references, names, descriptions, bank references, actors,
reasons, statement sources, dates of birth; at any depth, so a correction's copy of the fields
it reverses and a statement's pending lines count too) is **sealed**: the store writes it
encrypted under the data key of the person it belongs to, and erasing that key (crypto-shredding)
makes it unreadable for ever while every figure stays.

The hash chain must still hold after erasure, so a sealed value enters the event's digest as a
**commitment** (:func:`commit`), not as itself: SHA-256 over a 128-bit random salt and the value.
The salt is stored only inside the ciphertext, so once the key is gone the commitment reveals
nothing (a name cannot be guessed back from it), yet ``verify`` recomputes every digest from what
is stored: the commitments, in clear in the stored token, and the other fields. While the key is
held, reading a sealed value also checks it against its commitment, so a ciphertext moved from
another event is caught.

This module is pure: it decides which values are personal, makes salts and commitments, and
marks a digest's body; the adapter holds the keys and does the encryption.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from dpledger.domain.errors import StoreError

PERSONAL = frozenset(
    {
        "person_ref",
        "actor",
        "reason",
        "description",
        "purpose",
        "bank_reference",
        "name",
        "source",
        "date_of_birth",
    }
)
"""Field names whose text (or date) is personal data, wherever they occur in an event."""

ERASED = "[erased]"
"""What a personal text reads as once its person's data key is erased."""

SEALS = "_seals"
"""The attribute under which an event keeps the seals of its personal values (in memory only)."""

TOKEN = "\x1fsealed:v1:"  # noqa: S105 - a marker, not a secret
"""How a sealed value begins where the store writes it (text never holds a control character,
see :mod:`dpledger.domain.bounds`, so no value a person typed can look like one)."""

MARK = "sealed:"
"""How a sealed value enters its event's digest: this prefix and its commitment."""

Path = tuple[str | int, ...]
"""Where a value is in an event: field names, mapping keys and list positions."""


@dataclass(frozen=True, slots=True)
class Seal:
    """One sealed value: its commitment (digested and stored in clear), its salt (``None`` once
    erased: only the ciphertext holds it) and its stored token (``None`` until first stored)."""

    commitment: str
    salt: str | None
    token: str | None = None


class DataKeyError(StoreError):
    """The data key is missing, malformed or not the one the store's keys were wrapped with: a
    key problem to fix, never evidence of tampering."""


_SEALING: ContextVar[bool] = ContextVar("dpledger_sealing", default=False)


def seal_personal(on: bool) -> None:
    """Have events made from now on, in this context, seal their personal values (the unit of
    work of a store with a data key sets it; one without sets it off)."""
    _SEALING.set(on)


def sealing() -> bool:
    """Whether events made now seal their personal values."""
    return _SEALING.get()


def kind_of(value: Any) -> str | None:
    """``"s"`` for text, ``"d"`` for a date, ``None`` for a value that is never sealed."""
    if isinstance(value, str) and value:
        return "s"
    if isinstance(value, date):
        return "d"
    return None


def plain(value: Any) -> str:
    """The value as the JSON text that is committed to and encrypted."""
    kind = kind_of(value)
    text = value.isoformat() if kind == "d" else value
    return json.dumps([kind, text], separators=(",", ":"))


def from_plain(text: str) -> Any:
    """The value back from :func:`plain`'s text."""
    kind, value = json.loads(text)
    return date.fromisoformat(value) if kind == "d" else str(value)


def erased(kind: str) -> Any:
    """What a value of this kind reads as once erased (text: :data:`ERASED`; a date: none)."""
    return ERASED if kind == "s" else None


def commit(salt: str, value: Any) -> str:
    """The commitment to a personal value: SHA-256 over the salt and the value."""
    text = f"dpledger-personal-v1\n{salt}\n{plain(value)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def personal_paths(fields: Mapping[str, Any]) -> Iterator[tuple[Path, Any]]:
    """Every personal value in ``fields`` (texts and dates under a :data:`PERSONAL` name, at
    any depth), with where it is."""
    for name, value in fields.items():
        yield from _walk((name,), name, value, 0)


def _walk(path: Path, name: object, value: Any, depth: int) -> Iterator[tuple[Path, Any]]:
    if name in PERSONAL and kind_of(value) is not None:
        yield path, value
        return
    if depth > 4 or isinstance(value, (str, int, date)) or value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk((*path, key), key, item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk((*path, index), None, item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk((*path, field.name), field.name, getattr(value, field.name), depth + 1)


def value_at(obj: Any, path: Path) -> Any:
    """The value at ``path`` in ``obj``."""
    for step in path:
        indexable = isinstance(obj, (Mapping, list, tuple))
        obj = obj[step] if indexable else getattr(obj, str(step))
    return obj


def replaced(obj: Any, path: Path, value: Any) -> Any:
    """A copy of ``obj`` with ``value`` at ``path`` (frozen records are rebuilt, not changed)."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(obj, Mapping):
        return {**obj, step: replaced(obj[step], rest, value)}
    if isinstance(obj, (list, tuple)):
        assert isinstance(step, int)
        items = list(obj)
        items[step] = replaced(items[step], rest, value)
        return items if isinstance(obj, list) else type(obj)(items)
    name = str(step)
    return dataclasses.replace(obj, **{name: replaced(getattr(obj, name), rest, value)})


def new_seals(fields: Mapping[str, Any]) -> dict[Path, Seal]:
    """Fresh seals (a random salt each) for every personal value of a new event's fields."""
    seals: dict[Path, Seal] = {}
    for path, value in personal_paths(fields):
        salt = secrets.token_hex(16)
        seals[path] = Seal(commit(salt, value), salt)
    return seals


def marked(body: Any, seals: Mapping[Path, Seal]) -> Any:
    """A digest's body (canonical data) with each sealed value replaced by its commitment."""
    for path, seal in seals.items():
        body = replaced(body, path, MARK + seal.commitment)
    return body


def marked_tokens(value: Any) -> Any:
    """Plain data as stored (an upcast event's written state) with each stored token replaced
    by its commitment, as the digest covers it."""
    if isinstance(value, str):
        return MARK + parse_token(value).commitment if value.startswith(TOKEN) else value
    if isinstance(value, Mapping):
        return {k: marked_tokens(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [marked_tokens(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Token:
    """A stored token's parts: the value's kind, whose key seals it and that key's id (a value
    sealed in another store, brought by a history file, names another), the commitment, the
    ciphertext (base64)."""

    kind: str
    owner: str
    key_id: str
    commitment: str
    ciphertext: str

    def text(self) -> str:
        """The token as stored."""
        parts = (self.kind, self.owner, self.key_id, self.commitment, self.ciphertext)
        return TOKEN + ":".join(parts)


def parse_token(text: str) -> Token:
    """The parts of a stored token; :class:`ValueError` if it is not one."""
    parts = text.removeprefix(TOKEN).split(":")
    if not text.startswith(TOKEN) or len(parts) != 5 or parts[0] not in ("s", "d"):
        raise ValueError("a sealed value is malformed")
    return Token(*parts)


def as_stored(event: Any, path: Path, value: Any) -> Any:
    """``value`` (at ``path`` in ``event``) as a read model should keep it: its stored token
    when it is sealed, so read models hold no personal value in clear either, else itself."""
    seal = event.__dict__.get(SEALS, {}).get(path)
    return value if seal is None or seal.token is None else seal.token


def details_as_stored(event: Any, details: Mapping[str, Any]) -> dict[str, Any]:
    """An event's own fields as a read model keeps them (see :func:`as_stored`): each sealed
    value among them as its stored token."""
    kept: Any = dict(details)
    for path, seal in event.__dict__.get(SEALS, {}).items():
        if path[0] in kept and seal.token is not None:
            kept = replaced(kept, path, seal.token)
    return dict(kept)


def attach(event: Any, seals: Mapping[Path, Seal] | None) -> None:
    """Keep ``seals`` on ``event`` (in memory: the store writes them, the digest uses them)."""
    if seals:
        event.__dict__[SEALS] = dict(seals)
