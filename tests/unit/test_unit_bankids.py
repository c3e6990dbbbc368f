"""``bank_key``: one key per real bank account, however a statement or a caller writes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger.domain.bankids import bank_key
from dpledger.errors import ValidationError

NATWEST = "60-16-13 31926819"
"""The sort code and account number inside the IBAN GB29 NWBK 6016 1331 9268 19."""


@pytest.mark.parametrize(
    "spelling",
    [
        "60-16-13 31926819",
        "601613 31926819",
        "60 16 13 31926819",
        "601613/31926819",
        "60-16-13-31926819",
        "60-16-13   31926819",
        " 60-16-13 31926819 ",
        "GB29NWBK60161331926819",
        "GB29 NWBK 6016 1331 9268 19",
        "gb29 nwbk 6016 1331 9268 19",
        "GB29-NWBK-6016-1331-9268-19",
        "GB29NWBK60161331926819GBP",  # MT940 writes the currency after the IBAN
    ],
)
def test_every_spelling_of_a_uk_account_is_its_sort_code_and_number(spelling: str) -> None:
    assert bank_key(spelling) == NATWEST


def test_a_short_account_number_is_padded_as_banks_do() -> None:
    assert bank_key("30-99-50 1234567") == "30-99-50 01234567"
    assert bank_key("309950/123456") == "30-99-50 00123456"
    # a longer number (a building society roll number) is kept as it is
    assert bank_key("30-99-50 1234567890") == "30-99-50 1234567890"


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89370400440532013000", "DE89370400440532013000"),
        ("NL20INGB0001234567", "NL20INGB0001234567"),
        ("NL20INGB0001234567EUR", "NL20INGB0001234567"),
        ("IE29 AIBK 9311 5212 3456 78", "IE29AIBK93115212345678"),
    ],
)
def test_another_iban_is_its_compact_upper_case_form(spelling: str, key: str) -> None:
    assert bank_key(spelling) == key


def test_other_identifiers_are_kept_upper_case_without_spaces() -> None:
    assert bank_key("22289") == "22289"  # an Open Banking account id
    assert bank_key("acc 0012") == "ACC0012"
    assert bank_key("50880050/0194774600888") == "50880050/0194774600888"  # an MT940 :25:


@pytest.mark.parametrize(
    "wrong",
    [
        "GB28NWBK60161331926819",  # one check digit off
        "GB29NWBK60161331926818",  # one account digit off
        "GB29 NWBK 6016 1331 9268 91",  # two digits swapped
        "DE88370400440532013000",
    ],
)
def test_an_iban_whose_check_digits_are_wrong_is_refused(wrong: str) -> None:
    with pytest.raises(ValidationError, match="not a valid IBAN") as refused:
        bank_key(wrong)
    assert refused.value.field == "bank_account"


@pytest.mark.parametrize("text", ["", "   ", "~~~", "30-99-50 <script>", "a" * 80])
def test_text_that_names_no_account_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="does not name a bank account"):
        bank_key(text)


def _iban(sort_code: str, number: str) -> str:
    """The GB IBAN of a NatWest sort code and number, with its check digits worked out."""
    bban = f"NWBK{sort_code}{number}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    return f"GB{98 - int(digits) % 97:02d}{bban}"


@given(
    sort_code=st.text("0123456789", min_size=6, max_size=6),
    number=st.text("0123456789", min_size=8, max_size=8),
    separator=st.sampled_from([" ", "/", "-", "  "]),
)
def test_a_gb_iban_is_the_same_account_as_its_sort_code_and_number(
    sort_code: str, number: str, separator: str
) -> None:
    key = bank_key(_iban(sort_code, number))
    assert key == bank_key(f"{sort_code}{separator}{number}")
    assert key == f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]} {number}"
    assert bank_key(key) == key  # a key is its own key


@given(
    st.one_of(
        st.text(alphabet=st.sampled_from("0123456789 -/.ABCGNWKZabgz:_"), max_size=40),
        st.text(max_size=30),
    )
)
def test_a_key_is_its_own_key(text: str) -> None:
    # Whatever names an account, its key names the same account in the same spelling (so a key
    # stored on an account and a statement's spelling always compare equal).
    try:
        key = bank_key(text)
    except ValidationError:
        return
    assert bank_key(key) == key
