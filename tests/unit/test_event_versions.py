"""Class versions and upcasting: old stored events read in today's shape, verified as written.

``Evolving`` is an event class (not one of dpledger's, so no store registers it) at class version
3: version 2 renamed ``note_text`` to ``note``, version 3 added ``source``. Events stored at each
version are read through the store's mapper: upcast to today's shape, their digests recomputed
from what was stored, and encoded again to exactly the stored bytes. Editing any of them, the
stored class version included, breaks its digest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from dpledger.adapters.store import DpledgerApplication
from dpledger.adapters.versions import NewerEventVersion, VersionedMapper
from dpledger.domain.chain import (
    AS_WRITTEN,
    GENESIS,
    chained,
    digest_of,
    event_digest,
    first_broken_link,
)
from dpledger.domain.commands import command_digest
from dpledger.domain.events import AccountEvent, check_upcasters
from dpledger.domain.suspense import RefundUnexpectedIncome, UnexpectedIncomeRefunded


class Evolving(Aggregate.Event):
    """v1: ``note_text``; v2: renamed ``note``; v3: ``source`` added."""

    class_version = 3
    note: str
    source: str | None
    previous_digest: str
    digest: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["note"] = state.pop("note_text")

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["source"] = None


TOPIC = get_topic(Evolving)
ID = uuid4()


@pytest.fixture(scope="module")
def mapper() -> VersionedMapper:
    with DpledgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}) as app:
        assert isinstance(app.mapper, VersionedMapper)
        return app.mapper


def stored_at(mapper: VersionedMapper, version: int, fields: dict[str, Any]) -> StoredEvent:
    """An ``Evolving`` event as a store written at class ``version`` held it (the digest over
    that state, with ``class_version`` when above 1, as the writer computed it)."""
    state: dict[str, Any] = {"timestamp": Evolving.create_timestamp(), **fields}
    state["previous_digest"] = GENESIS
    labelled = {"class_version": version} if version > 1 else {}
    whole = {**state, **labelled, "originator_id": ID, "originator_version": 1}
    state = {**state, "digest": digest_of("Evolving", whole), **labelled}  # eventsourcing's order
    return StoredEvent(ID, 1, TOPIC, mapper.transcoder.encode(state))


def link(event: Any) -> str | None:
    broken = first_broken_link("E", [(1, event)])
    return None if broken is None else broken.reason


@pytest.mark.parametrize(
    ("version", "fields", "source"),
    [
        (1, {"note_text": "first"}, None),
        (2, {"note": "first"}, None),
        (3, {"note": "first", "source": "bank"}, "bank"),
    ],
)
def test_an_event_of_any_stored_version_reads_in_todays_shape_and_verifies_as_written(
    mapper: VersionedMapper, version: int, fields: dict[str, Any], source: str | None
) -> None:
    stored = stored_at(mapper, version, fields)
    event: Any = mapper.to_domain_event(stored)
    assert (event.note, event.source) == ("first", source)
    assert (AS_WRITTEN in event.__dict__) == (version < 3)  # only an upcast one keeps it
    assert event_digest(event) == event.digest
    assert link(event) is None
    # encoded again: the bytes it was stored with, never today's shape
    assert mapper.to_stored_event(event).state == stored.state


def test_an_event_written_today_carries_its_class_version_in_state_and_digest(
    mapper: VersionedMapper,
) -> None:
    fields = chained(Evolving, {"note": "new", "source": None}, ID, 1, GENESIS)
    event = Evolving(originator_id=ID, originator_version=1, **fields)
    stored = mapper.to_stored_event(event)
    assert json.loads(stored.state)["class_version"] == 3
    assert event_digest(event) == event.digest
    again: Any = mapper.to_domain_event(stored)
    assert AS_WRITTEN not in again.__dict__
    assert again == event
    assert link(again) is None


def _value(state: dict[str, Any]) -> None:
    state["note_text"] = "second"


def _relabelled_newer(state: dict[str, Any]) -> None:
    state["note"] = state.pop("note_text")
    state["class_version"] = 2


def _relabelled_older(state: dict[str, Any]) -> None:
    state["note_text"] = state.pop("note")
    del state["class_version"]


def _added_field(state: dict[str, Any]) -> None:
    state["source"] = "bank"


@pytest.mark.parametrize(
    ("version", "fields", "edit"),
    [
        (1, {"note_text": "first"}, _value),
        (1, {"note_text": "first"}, _relabelled_newer),  # the same content, claimed as v2
        (2, {"note": "first"}, _relabelled_older),  # the same content, claimed as v1
        (3, {"note": "first", "source": None}, _added_field),  # today's shape
    ],
)
def test_editing_a_stored_event_of_any_version_breaks_its_digest(
    mapper: VersionedMapper,
    version: int,
    fields: dict[str, Any],
    edit: Callable[[dict[str, Any]], None],
) -> None:
    stored = stored_at(mapper, version, fields)
    state = json.loads(stored.state)
    edit(state)
    changed = StoredEvent(ID, 1, TOPIC, json.dumps(state, separators=(",", ":")).encode())
    event: Any = mapper.to_domain_event(changed)
    assert link(event) == "the event's content does not match its recorded digest"


def test_an_event_written_by_a_newer_dpledger_is_refused_saying_so(
    mapper: VersionedMapper,
) -> None:
    stored = stored_at(mapper, 4, {"note": "first", "source": None, "colour": "red"})
    with pytest.raises(NewerEventVersion, match=r"class version 4.*knows class version 3"):
        mapper.to_domain_event(stored)


def test_a_class_version_without_every_upcaster_is_refused_when_defined() -> None:
    class Skips:
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            pass

    with pytest.raises(TypeError, match="no static upcast_v2_v3"):
        check_upcasters(Skips)
    with pytest.raises(TypeError, match="no static upcast_v1_v2"):

        class MissingUpcaster(AccountEvent):  # defining it is what fails
            class_version = 2
            correction: ClassVar[Any] = None

    check_upcasters(Evolving)


# ----------------------------------------------------------------------------- the real one
def test_the_refund_is_at_class_version_2_with_an_upcaster_from_1() -> None:
    assert UnexpectedIncomeRefunded.class_version == 2
    state: dict[str, Any] = {"item_id": "S1"}
    UnexpectedIncomeRefunded.upcast_v1_v2(state)
    assert state == {"item_id": "S1", "bank_reference": None}


def test_a_refund_without_a_reference_keeps_the_digest_it_had_before_the_field() -> None:
    """The command gained ``bank_reference``; left unset, its digest is the one a retry sent
    before the upgrade was recorded with (the key is not reported as reused)."""
    common = {"account_id": "DP-1", "effective_date": "2026-04-20", "actor": "officer-1"}
    without = RefundUnexpectedIncome(item_id="S5", **common)
    before = command_digest(
        "refund_unexpected_income",
        {"item_id": "S5", "effective_date": without.effective_date, "actor": "officer-1"}
        | {"reason": None},
    )
    assert without.digest() == before
    with_reference = RefundUnexpectedIncome(item_id="S5", bank_reference="R-1", **common)
    assert with_reference.digest() != before


def test_a_uuid_id_is_kept_as_a_uuid(mapper: VersionedMapper) -> None:
    event: Any = mapper.to_domain_event(stored_at(mapper, 1, {"note_text": "x"}))
    assert isinstance(event.originator_id, UUID)
