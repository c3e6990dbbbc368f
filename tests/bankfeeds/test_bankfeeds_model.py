"""The normalised statement model: validation, signs, de-duplication keys and balances."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from dpledger.adapters.bankfeeds import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
)
from dpledger.adapters.bankfeeds.model import (
    FieldError,
    balances_from_running,
    exact_money,
    parse_iso_date,
    uk_account,
)
from dpledger.domain.money import Money


def transaction(**changes: Any) -> BankTransaction:
    """A booked £80 debit, changed by ``changes``."""
    fields: dict[str, Any] = {
        "booking_date": date(2024, 4, 5),
        "amount": Money(8000),
        "direction": Direction.DEBIT,
        "description": "PA WAGES",
        "source_location": "line 2",
    }
    fields.update(changes)
    return BankTransaction(**fields)


def statement(*transactions: BankTransaction, **changes: Any) -> BankStatement:
    """A GBP CSV statement of ``transactions``."""
    fields: dict[str, Any] = {
        "source_file": "x.csv",
        "format": BankFormat.CSV,
        "currency": "GBP",
        "transactions": transactions,
    }
    fields.update(changes)
    return BankStatement(**fields)


def test_amount_is_unsigned_and_above_zero() -> None:
    with pytest.raises(pydantic.ValidationError, match="above zero"):
        transaction(amount=Money(-8000))
    with pytest.raises(pydantic.ValidationError, match="above zero"):
        transaction(amount=Money(0))


def test_signed_amount_follows_direction() -> None:
    assert transaction().signed_pence == -8000
    assert transaction(direction=Direction.CREDIT).signed_pence == 8000
    assert transaction().signed_amount == Money(-8000)


def test_booked_line_needs_a_date_pending_does_not() -> None:
    with pytest.raises(pydantic.ValidationError, match="booking date"):
        transaction(booking_date=None)
    assert transaction(booking_date=None, status=EntryStatus.PENDING).booking_date is None


def test_model_is_frozen() -> None:
    line = transaction()
    with pytest.raises(pydantic.ValidationError):
        line.description = "changed"


def test_text_is_tidied_and_blank_ids_are_none() -> None:
    line = transaction(description="  PA   WAGES\n", bank_reference="  ", counterparty="")
    assert line.description == "PA WAGES"
    assert line.bank_reference is None
    assert line.counterparty is None


def test_dedup_key_prefers_id_then_unique_reference_then_the_day() -> None:
    assert transaction(bank_transaction_id="T1", bank_reference="R1").dedup_key == "id:T1"
    assert transaction(bank_reference="R1", reference_is_unique=True).dedup_key == "ref:R1"
    # A reference the bank does not say is unique (a payer's, a CSV column) is not an identity.
    assert transaction(bank_reference="R1").dedup_key == "day:2024-04-05:debit:8000:GBP#0"
    assert transaction().dedup_key == "day:2024-04-05:debit:8000:GBP#0"


def test_day_key_is_date_direction_amount_currency_reversal_and_status_only() -> None:
    base = transaction().day_key
    assert transaction(booking_date=date(2024, 4, 6)).day_key != base
    assert transaction(amount=Money(8001)).day_key != base
    assert transaction(direction=Direction.CREDIT).day_key != base
    assert transaction(amount=Money(8000, "EUR")).day_key != base
    assert transaction(is_reversal=True).day_key == f"{base}:reversal"
    assert transaction(status=EntryStatus.PENDING).day_key == f"{base}:pending"
    assert transaction(status=EntryStatus.PENDING, booking_date=None).day_key == (
        "day:undated:debit:8000:GBP:pending"
    )
    # What banks change between downloads is not in it.
    assert transaction(description="pa wages ref 77").day_key == base
    assert transaction(running_balance=Money(100)).day_key == base
    assert transaction(counterparty="J SMITH", end_to_end_id="E2E").day_key == base
    assert transaction(value_date=date(2024, 4, 7), transaction_type="FPO").day_key == base
    assert transaction(bank_reference="R1").day_key == base


def test_legacy_fingerprint_covers_date_amount_direction_description_and_balance() -> None:
    base = transaction().legacy_fingerprint
    assert transaction(booking_date=date(2024, 4, 6)).legacy_fingerprint != base
    assert transaction(amount=Money(8001)).legacy_fingerprint != base
    assert transaction(direction=Direction.CREDIT).legacy_fingerprint != base
    assert transaction(description="PA WAGES 2").legacy_fingerprint != base
    assert transaction(running_balance=Money(100)).legacy_fingerprint != base
    assert transaction(source_location="line 99").legacy_fingerprint == base


def test_legacy_fingerprint_is_the_digest_earlier_versions_keyed_lines_by() -> None:
    # Stores written before the day: key hold exactly this digest, so its recipe must not drift:
    # SHA-256 of date, direction, pence, currency, case-folded text and balance, joined by US.
    line = transaction(running_balance=Money(-1234))
    recipe = "\x1f".join(("2024-04-05", "debit", "8000", "GBP", "pa wages", "-1234"))
    assert line.legacy_fingerprint == hashlib.sha256(recipe.encode()).hexdigest()[:32]
    assert line.legacy_base_key == f"fp:{line.legacy_fingerprint}"


def test_statement_numbers_identical_lines_in_file_order() -> None:
    lines = statement(
        transaction(source_location="line 2"),
        transaction(source_location="line 3", bank_reference="R", reference_is_unique=True),
        transaction(source_location="line 4", description="PA WAGES J SMITH"),
        transaction(source_location="line 5", bank_reference="R", reference_is_unique=True),
    ).transactions
    assert [t.ordinal for t in lines] == [0, 0, 1, 1]
    keys = [t.dedup_key for t in lines]
    assert keys == [
        "day:2024-04-05:debit:8000:GBP#0",
        "ref:R",
        "day:2024-04-05:debit:8000:GBP#1",
        "ref:R#1",
    ]
    # Earlier versions numbered by the fingerprint, which the description changed.
    assert [t.legacy_ordinal for t in lines] == [0, 0, 0, 1]


def test_earlier_keys_are_the_keys_earlier_versions_gave() -> None:
    lines = statement(
        transaction(source_location="line 2"),
        transaction(source_location="line 3"),
        transaction(source_location="line 4", bank_reference="P77"),
        transaction(source_location="line 5", bank_reference="P77"),
        transaction(source_location="line 6", bank_reference="F1", reference_is_unique=True),
        transaction(source_location="line 7", bank_transaction_id="T1"),
    ).transactions
    fingerprint = lines[0].legacy_fingerprint
    assert [t.earlier_keys for t in lines] == [
        (f"fp:{fingerprint}#0",),
        (f"fp:{fingerprint}#1",),
        ("ref:P77",),
        ("ref:P77#1",),
        (),  # ref:F1 then and now
        (),  # id:T1 then and now
    ]
    assert [t.dedup_key for t in lines[:4]] == [
        f"day:2024-04-05:debit:8000:GBP#{n}" for n in range(4)
    ]


def test_statement_refuses_mixed_currencies() -> None:
    with pytest.raises(pydantic.ValidationError, match="EUR"):
        statement(transaction(amount=Money(100, "EUR")))
    closing = BalanceAssertion(date=date(2024, 4, 5), balance=Money(1, "EUR"), kind="CLBD")
    with pytest.raises(pydantic.ValidationError, match="CLBD"):
        statement(closing_balance=closing)


def test_unexplained_difference() -> None:
    opening = BalanceAssertion(date=date(2024, 4, 4), balance=Money(10000), kind="OPBD")
    closing = BalanceAssertion(date=date(2024, 4, 5), balance=Money(2000), kind="CLBD")
    pending = transaction(status=EntryStatus.PENDING, amount=Money(99999))
    balanced = statement(transaction(), pending, opening_balance=opening, closing_balance=closing)
    assert balanced.booked_total() == Money(-8000)
    assert balanced.unexplained_difference() == Money(0)
    assert statement(transaction()).unexplained_difference() is None


def running(pence: int, balance: int, day: int = 5) -> BankTransaction:
    """A booked line of signed ``pence`` leaving ``balance``."""
    return transaction(
        amount=Money(abs(pence)),
        direction=Direction.CREDIT if pence > 0 else Direction.DEBIT,
        running_balance=Money(balance),
        booking_date=date(2024, 4, day),
    )


def test_balances_from_running_oldest_first() -> None:
    found = balances_from_running([running(1000, 1000, 1), running(-300, 700, 2)])
    assert found is not None
    opening, closing = found
    assert (opening.date, opening.balance, closing.date, closing.balance) == (
        date(2024, 4, 1),
        Money(0),
        date(2024, 4, 2),
        Money(700),
    )


def test_balances_from_running_newest_first() -> None:
    found = balances_from_running([running(-300, 700, 2), running(1000, 1000, 1)])
    assert found is not None
    assert (found[0].balance, found[1].balance) == (Money(0), Money(700))


def test_balances_from_running_uses_dates_when_both_orders_chain() -> None:
    # +10 then -10: either end could be the start; the dates say which.
    found = balances_from_running([running(-10, 100, 2), running(10, 110, 1)])
    assert found is not None
    assert (found[0].balance, found[1].balance) == (Money(100), Money(100))


def test_balances_from_running_never_guesses() -> None:
    assert balances_from_running([running(-300, 700), running(1000, 5)]) is None
    assert balances_from_running([transaction()]) is None
    assert balances_from_running([]) is None


def test_exact_money_refuses_rounding() -> None:
    assert exact_money(Decimal("18.150"), "EUR") == Money(1815, "EUR")
    with pytest.raises(FieldError, match="more than two decimal places"):
        exact_money(Decimal("12.345"), "GBP")
    with pytest.raises(FieldError, match="plausible"):
        exact_money(Decimal("1E+999999"), "GBP")


def test_parse_iso_date_keeps_the_written_date() -> None:
    assert parse_iso_date("2024-04-05T23:30:00-05:00") == date(2024, 4, 5)
    assert parse_iso_date("2025-07-24T06:10:29.000000000") == date(2025, 7, 24)
    with pytest.raises(FieldError):
        parse_iso_date("05/04/2024")


def test_uk_account() -> None:
    assert uk_account("SUNCORP", "123456789") == "SUNCORP 123456789"
    assert uk_account("309950", "12345678") == "30-99-50 12345678"
    assert uk_account("30 99 50", "12345678") == "30-99-50 12345678"
