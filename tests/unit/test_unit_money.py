"""Money: exact pence, refused inputs with reasons, currency safety, formatting, properties."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger import Money
from dpledger.errors import CurrencyMismatch, DpledgerError, MoneyError, ValidationError

# Realistic, yet far beyond any Direct Payment: up to £10 trillion either way.
PENCE = st.integers(min_value=-(10**15), max_value=10**15)
MONEY = PENCE.map(Money)


# ---------------------------------------------------------------------------- construction
@pytest.mark.parametrize(
    ("amount", "pence"),
    [
        ("12.34", 1234),
        ("0.5", 50),
        ("0.05", 5),
        ("7", 700),
        ("£7", 700),
        ("£1234.56", 123456),
        ("-0.50", -50),
        ("-£5.00", -500),
        ("+£5.5", 550),
        ("  3.10  ", 310),
        ("-0", 0),
        ("0.00", 0),
        (1234, 1234),
        (-1, -1),
        (0, 0),
        (10**14, 10**14),
        (Decimal("12.34"), 1234),
        (Decimal("-12.3"), -1230),
        (Decimal("12"), 1200),
        (Decimal("1.230"), 123),  # a trailing zero is not a third decimal place
        (Decimal("1E+2"), 10000),
        (Decimal("-0.00"), 0),
    ],
)
def test_money_is_built_from_str_int_pence_and_decimal(amount: object, pence: int) -> None:
    money = Money(amount)  # type: ignore[arg-type]
    assert money.pence == pence
    assert type(money.pence) is int
    assert money.currency == "GBP"


def test_money_amount_is_an_exact_two_place_decimal() -> None:
    assert Money(1234).amount == Decimal("12.34")
    assert str(Money(1200).amount) == "12.00"
    assert str(Money(-5).amount) == "-0.05"
    assert Money.zero() == Money(0)
    assert Money.zero("EUR") == Money(0, "EUR")


def test_money_predicates() -> None:
    assert Money(0).is_zero()
    assert not Money(0).is_positive()
    assert not Money(0).is_negative()
    assert Money(1).is_positive()
    assert not Money(1).is_zero()
    assert Money(-1).is_negative()
    assert not Money(-1).is_positive()


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (0.1, "floats are not exact"),
        (12.0, "floats are not exact"),
        (float("nan"), "floats are not exact"),
        (float("inf"), "floats are not exact"),
        (float("-inf"), "floats are not exact"),
        ("12.345", "at most two decimal places"),
        ("0.001", "at most two decimal places"),
        ("12.340", "at most two decimal places"),
        (Decimal("12.345"), "more than two decimal places"),
        (Decimal("0.001"), "more than two decimal places"),
        (Decimal("-0.005"), "more than two decimal places"),
        (Decimal("NaN"), "not a finite amount"),
        (Decimal("sNaN"), "not a finite amount"),
        (Decimal("Infinity"), "not a finite amount"),
        (Decimal("-Infinity"), "not a finite amount"),
        (True, "a bool is not an amount"),
        (False, "a bool is not an amount"),
        ("NaN", "is not an amount of money"),
        ("inf", "is not an amount of money"),
        ("", "is not an amount of money"),
        ("abc", "is not an amount of money"),
        ("1,234.56", "is not an amount of money"),
        ("1.", "is not an amount of money"),
        (".5", "is not an amount of money"),
        ("1e3", "is not an amount of money"),
        ("£-5", "is not an amount of money"),
        ("12.34 GBP", "is not an amount of money"),
        ("--1", "is not an amount of money"),
        (None, "cannot make money from NoneType"),
        ([1], "cannot make money from list"),
        (Fraction(1, 3), "cannot make money from Fraction"),
    ],
)
def test_money_refuses_inexact_or_garbage_amounts_saying_why(amount: object, why: str) -> None:
    with pytest.raises(MoneyError) as caught:
        Money(amount)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, ValidationError)
    assert isinstance(error, DpledgerError)
    assert isinstance(error, ValueError)
    assert error.field == "amount"
    assert why in str(error)
    assert str(error).startswith("amount: ")


def test_float_refusal_says_what_to_pass_instead() -> None:
    with pytest.raises(MoneyError) as caught:
        Money(0.1)  # type: ignore[arg-type]
    assert "0.1" in caught.value.message
    assert "'12.34'" in caught.value.fix
    assert "Decimal" in caught.value.fix


def test_third_decimal_place_refusal_says_money_is_never_rounded() -> None:
    with pytest.raises(MoneyError) as caught:
        Money(Decimal("1.005"))
    assert "never rounds money silently" in str(caught.value)
    assert caught.value.fix.startswith("round it yourself")


@pytest.mark.parametrize("currency", ["gbp", "GB", "GBPX", "", "G1P", 826, None, "£££"])
def test_money_refuses_bad_currency_codes(currency: object) -> None:
    with pytest.raises(MoneyError) as caught:
        Money(100, currency)  # type: ignore[arg-type]
    assert caught.value.field == "currency"
    assert "three-letter ISO 4217 code" in str(caught.value)
    assert caught.value.fix == "use an upper-case code such as 'GBP'"


def test_money_accepts_other_iso_currencies() -> None:
    assert Money("1.00", "EUR").currency == "EUR"
    assert Money("1.00", "EUR") != Money("1.00")


# ---------------------------------------------------------------------------- arithmetic
def test_arithmetic_is_exact() -> None:
    assert Money("0.10") + Money("0.20") == Money("0.30")
    assert Money("1.00") - Money("0.01") == Money("0.99")
    assert Money("0.01") - Money("0.02") == Money("-0.01")
    assert Money("2.50") * 3 == Money("7.50")
    assert 3 * Money("2.50") == Money("7.50")
    assert -Money("2.50") == Money("-2.50")
    assert abs(Money("-2.50")) == Money("2.50")
    assert (Money(5, "EUR") + Money(6, "EUR")).currency == "EUR"


@pytest.mark.parametrize("factor", [1.5, Decimal("2"), True, "2", Fraction(1, 2)])
def test_money_multiplies_by_whole_ints_only(factor: object) -> None:
    with pytest.raises(TypeError):
        Money(100) * factor  # type: ignore[operator]


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge"],
)
def test_arithmetic_and_comparison_refuse_mixed_currencies(operation: object) -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        operation(Money(100), Money(100, "EUR"))  # type: ignore[operator]
    assert isinstance(caught.value, MoneyError)
    assert "GBP and EUR" in str(caught.value)
    assert "never mixes currencies" in caught.value.fix


def test_money_does_not_add_or_compare_with_plain_numbers() -> None:
    with pytest.raises(TypeError, match="cannot add Money and int"):
        Money(100) + 1  # type: ignore[operator]
    with pytest.raises(TypeError, match="cannot compare Money and int"):
        Money(100) < 1  # type: ignore[operator]  # noqa: B015
    assert Money(0) != 0
    assert Money(100) != Decimal("1.00")


def test_comparisons() -> None:
    assert Money("1.00") < Money("1.01") <= Money("1.01") < Money("2")
    assert Money("2") > Money("-2") >= Money("-2")
    assert max(Money(3), Money(7), Money(5)) == Money(7)
    assert sorted([Money(3), Money(-7), Money(5)]) == [Money(-7), Money(3), Money(5)]


# ---------------------------------------------------------------------------- formatting
@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money("1234.56"), "£1,234.56"),
        (Money(0), "£0.00"),
        (Money(5), "£0.05"),
        (Money(-1), "-£0.01"),
        (Money("-1234.56"), "-£1,234.56"),
        (Money("1234567.8"), "£1,234,567.80"),
        (Money(100), "£1.00"),
        (Money(5, "USD"), "USD 0.05"),
        (Money("-1000", "EUR"), "-EUR 1,000.00"),
    ],
)
def test_str_formats_pounds_with_thousands_and_sign(money: Money, text: str) -> None:
    assert str(money) == text


def test_repr_names_amount_and_currency() -> None:
    assert repr(Money("-1234.5")) == "Money('-1234.50', 'GBP')"
    assert repr(Money(7, "EUR")) == "Money('0.07', 'EUR')"


# ---------------------------------------------------------------------------- value object
def test_equal_money_hashes_equal() -> None:
    assert Money("1.00") == Money(100) == Money(Decimal("1"))
    assert hash(Money("1.00")) == hash(Money(100)) == hash(Money(Decimal("1")))
    assert len({Money("1.00"), Money(100), Money(Decimal("1.0")), Money(100, "EUR")}) == 2
    assert {Money(100): "a"}[Money("1")] == "a"


def test_money_is_immutable() -> None:
    money = Money(100)
    with pytest.raises(AttributeError, match="immutable"):
        money._pence = 5  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        money.note = "x"  # type: ignore[attr-defined]
    assert not hasattr(money, "__dict__")
    assert money.pence == 100


def test_money_attributes_cannot_be_deleted() -> None:
    money = Money(100)
    with pytest.raises(AttributeError, match="immutable"):
        del money._pence
    assert money.pence == 100


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_money_pickles_exactly(protocol: int) -> None:
    for money in (Money("-1234.56"), Money(0), Money(7, "EUR")):
        again = pickle.loads(pickle.dumps(money, protocol=protocol))
        assert again == money
        assert again.currency == money.currency
        assert type(again) is Money


def test_money_copies() -> None:
    money = Money("12.34", "EUR")
    assert copy.copy(money) == money
    assert copy.deepcopy(money) == money


# ---------------------------------------------------------------------------- properties
@given(MONEY)
def test_money_round_trips_through_its_amount(money: Money) -> None:
    assert Money(str(money.amount)) == money
    assert Money(money.amount) == money


@given(PENCE)
def test_str_parses_back_to_the_same_money(pence: int) -> None:
    money = Money(pence)
    text = str(money).replace(",", "")
    assert Money(text) == money


@given(MONEY)
def test_repr_round_trips(money: Money) -> None:
    assert eval(repr(money), {"Money": Money}) == money


@given(MONEY, MONEY, MONEY)
def test_addition_is_associative_and_commutative(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert a - b == -(b - a)
    assert a + Money(0) == a


@given(PENCE, PENCE, st.integers(min_value=-1000, max_value=1000))
def test_arithmetic_is_exact_integer_arithmetic(a: int, b: int, k: int) -> None:
    assert (Money(a) + Money(b)).pence == a + b
    assert (Money(a) - Money(b)).pence == a - b
    assert (Money(a) * k).pence == a * k
    assert (Money(a) < Money(b)) is (a < b)
    assert (Money(a) == Money(b)) is (a == b)


@given(
    st.decimals(
        min_value=Decimal("-1e13"),
        max_value=Decimal("1e13"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_decimal_with_two_places_round_trips(value: Decimal) -> None:
    money = Money(value)
    assert money.amount == value
    assert money.pence == int(value * 100)
    assert Money(str(value)) == money


@given(
    st.integers(min_value=-(10**16), max_value=10**16).filter(lambda n: n % 10 != 0),
    st.text(alphabet="0123456789", max_size=6),
)
def test_decimal_with_a_nonzero_third_place_is_refused(thousandths: int, tail: str) -> None:
    sign = "-" if thousandths < 0 else ""
    pounds, fraction = divmod(abs(thousandths), 1000)
    text = f"{sign}{pounds}.{fraction:03d}{tail}"
    assert text.split(".")[1][2] != "0"
    with pytest.raises(MoneyError, match="more than two decimal places"):
        Money(Decimal(text))
    with pytest.raises(MoneyError, match="at most two decimal places"):
        Money(text)


@given(PENCE, st.integers(min_value=1, max_value=9))
def test_a_third_decimal_digit_in_a_string_is_refused(pence: int, digit: int) -> None:
    text = f"{Money(pence).amount}{digit}"
    with pytest.raises(MoneyError, match="at most two decimal places"):
        Money(text)


# ---------------------------------------------------------------------------- absurd sizes
def test_a_third_decimal_place_is_refused_even_in_a_very_long_decimal() -> None:
    value = Decimal("12345678901234567890123456.785")
    try:
        money = Money(value)
    except MoneyError:
        return
    raise AssertionError(f"{value} was accepted as {money.pence} pence")


def test_amount_of_a_very_large_int_is_exact() -> None:
    money = Money(10**28)
    assert money.amount == Decimal(10**26)
    assert repr(money) == f"Money('{10**26}.00', 'GBP')"
