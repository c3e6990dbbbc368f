"""Sealed personal values (domain/personal.py): the digest covers commitments, so it is the
same whether the values are held or erased, and changes when a value or a commitment does."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from dpledger.domain.chain import digest_of
from dpledger.domain.money import Money
from dpledger.domain.personal import (
    ERASED,
    MARK,
    commit,
    erased,
    from_plain,
    new_seals,
    personal_paths,
    plain,
    replaced,
    value_at,
)
from dpledger.domain.records import PendingBankLine

texts = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1)


@given(person=texts, description=texts, amount=st.integers(-(10**9), 10**9))
def test_the_digest_is_the_same_held_or_erased(person: str, description: str, amount: int) -> None:
    fields = {"person_ref": person, "description": description, "pence": amount}
    seals = new_seals(fields)
    assert set(seals) == {("person_ref",), ("description",)}
    held = digest_of("Event", fields, seals)
    gone = {**fields, "person_ref": ERASED, "description": ERASED}
    assert digest_of("Event", gone, seals) == held
    assert digest_of("Event", {**fields, "pence": amount + 1}, seals) != held  # figures count
    other = new_seals(fields)  # another salt: another commitment, another digest
    assert digest_of("Event", fields, other) != held


@given(value=texts, salt=st.text(min_size=1), other=texts)
def test_a_commitment_binds_its_value(value: str, salt: str, other: str) -> None:
    assert from_plain(plain(value)) == value
    assert (commit(salt, value) == commit(salt, other)) == (value == other)


def test_personal_values_are_found_at_any_depth() -> None:
    line = PendingBankLine(
        key="k", booking_date=date(2026, 4, 1), amount=Money(-500), description="PAYMENT X"
    )
    fields = {
        "actor": "officer",
        "reason": None,
        "corrected_fields": {"description": "shoes", "amount": 5, "bank_reference": None},
        "lines": [line],
        "date_of_birth": date(1950, 1, 2),
        "invoice_number": "INV-1",
    }
    found = dict(personal_paths(fields))
    assert found == {
        ("actor",): "officer",
        ("corrected_fields", "description"): "shoes",
        ("lines", 0, "description"): "PAYMENT X",
        ("date_of_birth",): date(1950, 1, 2),
    }
    changed = replaced(fields, ("lines", 0, "description"), MARK)
    assert value_at(changed, ("lines", 0, "description")) == MARK
    assert line.description == "PAYMENT X"  # a copy, not a change
    assert erased("d") is None
    assert from_plain(plain(date(1950, 1, 2))) == date(1950, 1, 2)
