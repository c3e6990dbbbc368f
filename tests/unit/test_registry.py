"""The registry is complete: every event says how it changes its aggregate, whether a correction
may reverse it and how the audit sheet describes it; every command has a decision and a typed
``Ledger`` method that takes exactly its fields.

Each test names what is missing, so adding an event or a command without its parts fails here
with the class and the part to add (see "How to add an event" in ``docs/architecture.md``).
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from every_event import BANK_ACCOUNT, POOL, record_every_event

from conftest import open_funded
from dpledger import Ledger, Money
from dpledger.domain import registry
from dpledger.domain.bank import bank_account_uuid
from dpledger.domain.bankids import bank_key
from dpledger.domain.commands import DECISIONS, META_FIELDS, Command
from dpledger.domain.events import (
    EVENT_TYPES,
    AccountEvent,
    BankAccountEvent,
    Correctable,
    NotCorrectable,
)
from dpledger.projections.audit import event_details

LEGACY_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy" / "store_v0_1.sqlite"
LEGACY_EVENTS = {"BankBalanceAsserted", "PendingBankLinesSeen"}
"""0.1's statement events on the managed account itself: read from old stores, never recorded
now (their examples come from the checked-in 0.1 store)."""

METHOD_MAY_OMIT = {"reason"}
"""Fields a typed method may leave out: ``reason`` is optional on every command, and a typed
method takes it only where the command asks for one (``correct``, ``suspend``...). A command
that requires a reason must take it (checked below)."""

NAMING_FIELDS = (
    "agency_id",
    "invoice_number",
    "credit_note_number",
    "pa_id",
    "item_id",
    "income_item_id",
    "bank_account",
    "person_ref",
    "corrected_version",
    "matched_version",
    "key",
)
"""Fields that say which document or party an event is about: its description names them."""

EVENTS = sorted(registry.EVENT_CLASSES.items())
ACCOUNT_EVENTS = sorted(registry.ACCOUNT_EVENTS.items())
COMMANDS = sorted(registry.COMMANDS.items())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real recorded event of every kind: a busy account and its bank account today, and
    0.1's events on the managed account from the checked-in 0.1 store."""
    found: dict[str, Any] = {}
    with Ledger.in_memory() as ledger:
        record_every_event(open_funded(ledger))
        store = ledger.application.repository.event_store
        events = [
            *ledger.events("DP-1"),
            *store.get(bank_account_uuid(bank_key(BANK_ACCOUNT))),
            *store.get(bank_account_uuid(bank_key(POOL))),
        ]
        for event in events:
            found.setdefault(type(event).__name__, event)
    copy = tmp_path_factory.mktemp("legacy") / "store.sqlite"
    shutil.copyfile(LEGACY_STORE, copy)
    with Ledger.sqlite(copy) as old:
        for account_id in old.account_ids():
            for event in old.events(account_id):
                if type(event).__name__ in LEGACY_EVENTS:
                    found.setdefault(type(event).__name__, event)
    return found


# ---------------------------------------------------------------------------- events
def test_the_registry_holds_every_event_class_once() -> None:
    assert set(registry.ACCOUNT_EVENTS) <= set(registry.EVENT_CLASSES)
    for name, cls in EVENTS:
        assert cls.__name__ == name
        assert issubclass(cls, AccountEvent | BankAccountEvent), name
        assert f"dpledger.domain.events:{name}" == cls.TOPIC, f"{name} has an unstable topic"


def test_every_event_class_defined_is_in_the_registry() -> None:
    import dpledger.ledger  # noqa: F401  (everything the facade can record is imported)

    defined = {name for name, cls in EVENT_TYPES.items() if cls.__module__.startswith("dpledger.")}
    unknown = sorted(defined - set(registry.EVENT_CLASSES))
    assert not unknown, f"event classes outside the registry's concerns: {unknown}"


def test_every_event_kind_has_a_recorded_example(recorded: Mapping[str, Any]) -> None:
    missing = sorted(set(registry.EVENT_CLASSES) - set(recorded))
    assert not missing, f"no recorded example of {missing}: record one in tests/unit/every_event.py"


@pytest.mark.parametrize(("name", "cls"), EVENTS, ids=[name for name, _ in EVENTS])
def test_every_event_says_how_it_changes_its_aggregate(name: str, cls: type) -> None:
    assert "evolve" in cls.__dict__, f"{name} does not define its own evolve(account)"


@pytest.mark.parametrize(("name", "cls"), ACCOUNT_EVENTS, ids=[name for name, _ in ACCOUNT_EVENTS])
def test_every_account_event_says_whether_a_correction_may_reverse_it(
    name: str, cls: type[AccountEvent]
) -> None:
    assert "correction" in cls.__dict__, f"{name} does not set its own correction policy"
    policy = cls.correction
    assert isinstance(policy, Correctable | NotCorrectable), (
        f"{name}.correction is {policy!r}, not Correctable or NotCorrectable"
    )
    if isinstance(policy, NotCorrectable):
        assert policy.instead.strip(), f"{name} is not correctable but does not say what instead"
        assert len(policy.instead) >= 15, f"{name}'s 'instead' is too short to help"
    else:
        assert callable(policy.check), name
        assert callable(policy.undo), name
        assert callable(policy.releases), name


@pytest.mark.parametrize(("name", "cls"), EVENTS, ids=[name for name, _ in EVENTS])
def test_every_event_describes_itself_from_its_stored_details(
    name: str, cls: type, recorded: Mapping[str, Any]
) -> None:
    assert "describe" in cls.__dict__, f"{name} does not define its own describe(details)"
    event = recorded.get(name)
    if event is None:
        pytest.fail(f"no recorded example of {name}: record one in tests/unit/every_event.py")
    details = event_details(event)
    text = cls.describe(details)  # type: ignore[attr-defined]
    assert isinstance(text, str), f"{name}.describe returned {type(text).__name__}"
    assert text.strip() == text, f"{name}.describe gave {text!r}"
    assert len(text) >= 15, f"{name}.describe gave {text!r}"
    assert text != name, f"{name}.describe only names the class"
    for leak in ("None", "{", "pence", "Money("):
        assert leak not in text, f"{name}.describe leaks {leak!r}: {text!r}"
    amount = details.get("amount")
    if isinstance(amount, Mapping):
        money = str(Money(amount["pence"], amount["currency"]))
        assert money in text, f"{name}.describe does not state its amount {money}: {text!r}"
    for field in NAMING_FIELDS:
        value = details.get(field)
        if value is not None:
            assert str(value) in text, f"{name}.describe does not name its {field}: {text!r}"


def test_a_description_reads_the_same_from_a_history_file(recorded: Mapping[str, Any]) -> None:
    # Details pass through JSON (the audit view, history files); describing must not care.
    import json

    for name, event in sorted(recorded.items()):
        details = event_details(event)
        cls = registry.EVENT_CLASSES[name]
        assert cls.describe(json.loads(json.dumps(details))) == cls.describe(details), name


# ---------------------------------------------------------------------------- commands
def test_every_command_is_registered_by_its_method() -> None:
    for method, cls in COMMANDS:
        assert method, f"{cls.__name__} does not name its Ledger method"
        assert cls.method == method
    orphans = sorted(c.__name__ for c in DECISIONS if c not in set(registry.COMMANDS.values()))
    assert not orphans, f"decisions of commands the registry does not hold: {orphans}"


@pytest.mark.parametrize(("method", "cls"), COMMANDS, ids=[method for method, _ in COMMANDS])
def test_every_command_has_a_decision(method: str, cls: type[Command]) -> None:
    assert cls in DECISIONS, f"{cls.__name__} has no decision: decorate one with @decides"
    assert registry.decision_for(cls) is DECISIONS[cls]


def test_a_command_without_a_decision_is_named() -> None:
    class Unheard(Command):
        method = "unheard"

    with pytest.raises(TypeError, match="Unheard has no decision"):
        registry.decision_for(Unheard)


@pytest.mark.parametrize(("method", "cls"), COMMANDS, ids=[method for method, _ in COMMANDS])
def test_every_command_has_a_ledger_method_taking_its_fields(
    method: str, cls: type[Command]
) -> None:
    function = getattr(Ledger, method, None)
    assert callable(function), f"Ledger has no method {method} for {cls.__name__}"
    parameters = dict(inspect.signature(function).parameters)
    parameters.pop("self")
    first = next(iter(parameters))
    assert first == "account_id", f"Ledger.{method} does not take the account id first"
    taken = set(parameters)
    fields = set(cls.model_fields)
    missing = sorted(fields - taken - METHOD_MAY_OMIT)
    assert not missing, f"Ledger.{method} does not take {cls.__name__}'s fields {missing}"
    extra = sorted(taken - fields)
    assert not extra, f"Ledger.{method} takes {extra}, which {cls.__name__} does not have"
    for field in fields & METHOD_MAY_OMIT - taken:
        assert not cls.model_fields[field].is_required(), (
            f"{cls.__name__} requires {field} but Ledger.{method} does not take it"
        )
    for name in sorted(fields & taken):
        required = cls.model_fields[name].is_required()
        has_default = parameters[name].default is not inspect.Parameter.empty
        assert required != has_default, (
            f"Ledger.{method}({name}=...) is {'optional' if has_default else 'required'} but "
            f"{cls.__name__}.{name} is {'required' if required else 'optional'}"
        )


def test_every_command_carries_the_common_fields() -> None:
    for _, cls in COMMANDS:
        assert set(cls.model_fields) >= META_FIELDS, cls.__name__
