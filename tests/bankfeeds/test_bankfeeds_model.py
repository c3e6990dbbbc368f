"""The normalised statement model: validation, signs, de-duplication keys and balances."""

from __future__ import annotations

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


def test_dedup_key_prefers_id_then_reference_then_fingerprint() -> None:
    assert transaction(bank_transaction_id="T1", bank_reference="R1").dedup_key == "id:T1"
    assert transaction(bank_reference="R1").dedup_key == "ref:R1"
    assert transaction().dedup_key.startswith("fp:")
    assert transaction().dedup_key.endswith("#0")


def test_fingerprint_covers_date_amount_direction_description_and_balance() -> None:
    base = transaction().fingerprint
    assert transaction(booking_date=date(2024, 4, 6)).fingerprint != base
    assert transaction(amount=Money(8001)).fingerprint != base
    assert transaction(direction=Direction.CREDIT).fingerprint != base
    assert transaction(description="PA WAGES 2").fingerprint != base
    assert transaction(running_balance=Money(100)).fingerprint != base
    assert transaction(source_location="line 99").fingerprint == base  # position is not identity


def test_statement_numbers_identical_lines_in_file_order() -> None:
    lines = statement(
        transaction(source_location="line 2"),
        transaction(source_location="line 3", bank_reference="R"),
        transaction(source_location="line 4"),
        transaction(source_location="line 5", bank_reference="R"),
    ).transactions
    assert [t.ordinal for t in lines] == [0, 0, 1, 1]
    keys = [t.dedup_key for t in lines]
    assert keys[1] == "ref:R"
    assert keys[3] == "ref:R#1"
    assert keys[0].endswith("#0")
    assert keys[2].endswith("#1")
    assert len(set(keys)) == 4


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
