"""Commands as data: what a caller asks a managed account to do, checked when it is built.

Each command is a frozen pydantic model: its types, bounds and lengths
(:mod:`dpledger.domain.bounds`) are checked as it is constructed, and a bad field raises
:class:`~dpledger.errors.ValidationError` naming the field. ``Ledger.execute(command)`` runs any
command; each typed ``Ledger`` method builds one and executes it, so the typed API and the data
API are the same path.

Every command carries ``account_id``, ``effective_date``, ``actor`` and optionally ``reason`` and
``idempotency_key``. The command's :meth:`~Command.digest` (a SHA-256 of its name and payload, money
in exact pence) is what an idempotency key is checked against.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

import pydantic
from pydantic import BaseModel, ConfigDict

from dpledger.domain.bounds import Day, Identifier, Key, Text
from dpledger.domain.errors import DpledgerError, ValidationError
from dpledger.domain.keys import Facts, NoFacts
from dpledger.domain.money import Money
from dpledger.domain.policy import AccountPolicy

META_FIELDS = frozenset({"account_id", "effective_date", "actor", "reason", "idempotency_key"})
"""The fields every command has; the rest are its payload."""


class Command(BaseModel):
    """What every command carries; subclasses add their own fields.

    ``method`` is the ``Ledger`` method that builds it (``"pay_invoice"``). Build one with keyword
    arguments; dates may be ``date`` or ISO text, amounts ``Money``, pounds text or ``int`` pence.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,
        revalidate_instances="never",
    )

    method: ClassVar[str] = ""
    """The ``Ledger`` method that builds this command, e.g. ``"pay_invoice"``."""
    raises_alerts: ClassVar[bool] = False
    """Whether its events can raise an alert (its receipt then lists the new ones)."""
    added_later: ClassVar[frozenset[str]] = frozenset()
    """Optional fields added after a release: in the digest only when set, so a command sent
    before the upgrade and retried after it, with the same idempotency key, keeps its digest."""

    account_id: Identifier
    """The managed account, as the caller names it (``DP-1001``)."""
    effective_date: Day
    """When it happened in the world (the bank date, the invoice date)."""
    actor: Text
    """Who did it: the user or system id (never a person's name)."""
    reason: Text | None = None
    """Why, where it matters (corrections, disputes, suspensions...)."""
    idempotency_key: Key | None = None
    """A caller-chosen key: repeating the command with it records nothing new."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise field_error(exc, data.get("account_id")) from None

    def payload(self) -> dict[str, Any]:
        """The command's own fields (not the ones every command has), for its digest."""
        later = type(self).added_later
        return {
            name: value
            for name in type(self).model_fields
            if name not in META_FIELDS
            and ((value := getattr(self, name)) is not None or name not in later)
        }

    def digest(self) -> str:
        """A stable digest of the command's name and payload, with when, who and why.

        Money is exact pence, dates ISO text, hours normalised; the same command always gives
        the same digest, in any process and any version of dpledger.
        """
        return command_digest(
            self.method,
            {
                **self.payload(),
                "effective_date": self.effective_date,
                "actor": self.actor,
                "reason": self.reason,
            },
        )

    def index_keys(self) -> tuple[str, ...]:
        """Keys of the account's key index its decision reads (duplicate numbers, ...)."""
        return ()

    @classmethod
    def build(cls, **fields: Any) -> Self:
        """The command of these fields, given loosely (amounts as text or pence, dates as ISO
        text), as the typed ``Ledger`` methods take them; a bad field raises ValidationError."""
        return cls(**fields)


def field_error(exc: pydantic.ValidationError, account_id: object = None) -> ValidationError:
    """A pydantic failure as dpledger's :class:`ValidationError`, naming the first bad field."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "command"
    inner = first.get("ctx", {}).get("error")
    if isinstance(inner, ValidationError) and inner.field and inner.field.startswith(f"{where}."):
        where = inner.field  # a nested field the inner check named (policy.contingency_weeks)
    if first.get("input", ...) is None and where == "reason":
        message, fix = "is required here", "say why, briefly; auditors read it"
    elif first.get("input", ...) is None and first["type"] != "missing":
        message, fix = "is required", f"pass {where}="
    elif isinstance(inner, DpledgerError):
        message, fix = inner.message.split(": ", 1)[-1], inner.fix
    elif first["type"] == "missing":
        message, fix = "is required", f"pass {where}="
    elif first["type"] == "extra_forbidden":
        message, fix = "is not a field of this command", "check the field's name"
    else:
        message, fix = first["msg"], ""
    others = len(errors) - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return ValidationError(
        message,
        field=where,
        account_id=account_id if isinstance(account_id, str) else None,
        fix=fix,
    )


def command_digest(command: str, payload: Mapping[str, Any]) -> str:
    """The SHA-256 of a command's name and payload in canonical JSON (exact money, ISO dates)."""
    text = json.dumps(
        {"command": command, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        default=_canonical,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    # The spelling of 0.1.0's digests, so a key used before an upgrade still matches after it.
    if isinstance(value, Money):
        return f"{value.currency}:{value.pence}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, AccountPolicy):
        return value.stored_fields()
    raise TypeError(f"cannot digest {type(value).__name__}")


@dataclass
class Context:
    """What one decision works with: the command, the facts it may look up, and whether the bank
    reports the money as already moved (``from_bank``: a statement line, which the never-overdrawn
    rule does not stop, since the bank is the truth)."""

    command: Command
    facts: Facts = field(default_factory=NoFacts)
    from_bank: bool = False
    _digest: str | None = field(default=None, repr=False)

    @property
    def effective_date(self) -> date:
        """When the command says it happened."""
        return self.command.effective_date

    @property
    def digest(self) -> str:
        """The command's digest (computed once)."""
        if self._digest is None:
            self._digest = self.command.digest()
        return self._digest


C = TypeVar("C", bound=Command)
Decide = Callable[[Any, Any, Context], None]

DECISIONS: dict[type[Command], Decide] = {}
"""Each command class's decision (filled by the concerns' ``@decides``)."""


def decides(command_class: type[C]) -> Callable[[Callable[[Any, C, Context], None]], Any]:
    """Register the decorated function as the decision of ``command_class``."""

    def register(fn: Callable[[Any, C, Context], None]) -> Callable[[Any, C, Context], None]:
        if command_class in DECISIONS:
            raise TypeError(f"{command_class.__name__} already has a decision")
        DECISIONS[command_class] = fn
        return fn

    return register
