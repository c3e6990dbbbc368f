"""SWIFT MT940/MT942: the shared samples and hand-made edge cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dpledger.adapters.bankfeeds import (
    BankFileError,
    BankFormat,
    Direction,
    EntryStatus,
    parse_file,
    parse_mt940,
)


def mt940(
    *lines: str, opening: str = "C240331GBP1000,00", closing: str = "C240405GBP880,00"
) -> bytes:
    """A GBP MT940 message with ``lines`` (``:61:``/``:86:`` tags) between its balances."""
    return "\n".join(
        [
            ":20:STMT240405",
            ":25:30995012345678",
            ":28C:42/1",
            f":60F:{opening}",
            *lines,
            f":62F:{closing}",
            "-",
            "",
        ]
    ).encode()


# --- the shared samples -------------------------------------------------------------------------

# file -> (transactions per statement, currency, account, first line
#          (booking date, pence, direction, status), reversals in the file)
IMPORTED = {
    "libmt94x__ming-ing-provided-example-multiple-messages.txt": (
        [1, 1],
        "EUR",
        "NL20INGB0001234567",  # :25: writes the currency after the IBAN
        (date(2014, 1, 3), 1500, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
    "qoomon-banking-swift__valid-mt940.txt": (
        [3],
        "USD",
        "6-9412771",
        (date(2003, 12, 9), 88000, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
    "wolph-mt940__betterplace__sepa_mt9401.sta": (
        [7, 2, 5, 3, 5, 1, 4, 4, 8, 3, 6, 6, 6, 3, 1, 5, 5, 2, 1, 3, 4, 7, 3, 1, 1, 1],
        "EUR",
        "50880050/0194774600888",
        (date(2007, 9, 4), 30000, Direction.CREDIT, EntryStatus.BOOKED),
        2,
    ),
    "wolph-mt940__cmxl__mt940.sta": (
        [11, 2, 3],
        "DEM",
        "45050050/76198810",
        (date(2013, 10, 17), 680000, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
    "wolph-mt940__jejik__abnamro.sta": (
        [8, 2],
        "EUR",
        "517852257",
        (date(2011, 5, 24), 900, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
    "wolph-mt940__jejik__postfinance.sta": (
        [2, 2],
        "CHF",
        "123456789",
        (date(2013, 12, 9), 7970, Direction.CREDIT, EntryStatus.BOOKED),
        0,
    ),
    "wolph-mt940__jejik__rabobank.sta": (
        [1, 0, 2, 2],
        "EUR",
        "1291.99.348EUR",
        (date(2011, 5, 27), 121328, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
    "wolph-mt940__mBank__mt942.sta": (
        [3],
        "PLN",
        "PL29114010810000267002001002",
        (date(2017, 1, 19), 1, Direction.CREDIT, EntryStatus.PENDING),
        0,
    ),
    "wolph-mt940__sberbank__171011_01234945.sta": (
        [3],
        "HUF",
        "1966315302010001",
        (date(2017, 10, 11), 240200, Direction.DEBIT, EntryStatus.BOOKED),
        0,
    ),
}

# file -> (words the reason must contain, location)
REFUSED = {
    "wolph-mt940__betterplace__sepa_snippet_broken.sta": (
        "tag :25: appears a second time",
        "line 6 (:25:)",
    ),
    "wolph-mt940__self-provided__february_30.sta": (
        "day is out of range for month",
        "line 6 (:61:)",
    ),
    "wolph-mt940__self-provided__raiffeisen-cmi.sta": ("not valid utf-8", "line 7, column 11"),
}


@pytest.mark.bankfeeds
def test_every_mt940_sample_has_an_expectation(samples_dir: Path) -> None:
    names = {p.name for p in (samples_dir / "mt940").iterdir()}
    assert names == set(IMPORTED) | set(REFUSED)


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_mt940_sample_imports(samples_dir: Path, name: str) -> None:
    counts, currency, account, first_line, reversals = IMPORTED[name]
    statements = parse_file(samples_dir / "mt940" / name)
    assert [len(s.transactions) for s in statements] == counts
    assert statements[0].currency == currency
    assert statements[0].format is BankFormat.MT940
    assert statements[0].account_id == account
    first = statements[0].transactions[0]
    assert (first.booking_date, first.amount.pence, first.direction, first.status) == first_line
    assert sum(t.is_reversal for s in statements for t in s.transactions) == reversals


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_mt940_sample_is_refused(samples_dir: Path, name: str) -> None:
    words, location = REFUSED[name]
    with pytest.raises(BankFileError) as refused:
        parse_file(samples_dir / "mt940" / name)
    assert words in refused.value.reason
    assert refused.value.location == location


@pytest.mark.bankfeeds
def test_reversals_in_betterplace(samples_dir: Path) -> None:
    statements = parse_file(samples_dir / "mt940" / "wolph-mt940__betterplace__sepa_mt9401.sta")
    reversals = [t for s in statements for t in s.transactions if t.is_reversal]
    # RC: a reversed credit takes the money back out.
    assert [(t.direction, t.amount.pence) for t in reversals] == [
        (Direction.DEBIT, 20488),
        (Direction.DEBIT, 20488),
    ]
    # With RC read as a debit, every one of the 26 statements adds up.
    differences = [s.unexplained_difference() for s in statements]
    assert all(d is not None and d.is_zero() for d in differences)


@pytest.mark.bankfeeds
def test_balances_are_signed(samples_dir: Path) -> None:
    statements = parse_file(samples_dir / "mt940" / "wolph-mt940__betterplace__sepa_mt9401.sta")
    opening = statements[0].opening_balance
    assert opening is not None
    assert (opening.kind, opening.date, opening.balance.pence) == (
        ":60F:",
        date(2007, 9, 3),
        -123471836,
    )


@pytest.mark.bankfeeds
def test_statement_level_86_is_not_a_line_description(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "mt940" / "qoomon-banking-swift__valid-mt940.txt")
    assert "summary" not in statement.transactions[-1].description
    keys = [t.dedup_key for t in statement.transactions]
    assert len(set(keys)) == 3


@pytest.mark.bankfeeds
def test_local_code_page_must_be_named(samples_dir: Path) -> None:
    data = (samples_dir / "mt940" / "wolph-mt940__self-provided__raiffeisen-cmi.sta").read_bytes()
    [statement] = parse_mt940(data, filename="raiffeisen.sta", encoding="cp852")
    assert len(statement.transactions) == 7
    assert statement.transactions[0].description.startswith("Csoportos átutalás")
    assert statement.currency == "HUF"


# --- hand-made edge cases -----------------------------------------------------------------------


def test_gbp_statement_with_reversals() -> None:
    data = mt940(
        ":61:2404010401D120,00NTRFPAWAGES//BR1",
        ":86:PA WAGES J BLOGGS",
        ":61:2404020402RD120,00NRTINONREF//BR2",
        ":86:RETURNED PAYMENT",
        ":61:2404030403RC50,00NRTINONREF//BR3",
        closing="C240405GBP950,00",
    )
    [statement] = parse_mt940(data, filename="uk.sta")
    wages, returned, clawback = statement.transactions
    assert (wages.direction, wages.is_reversal, wages.description) == (
        Direction.DEBIT,
        False,
        "PA WAGES J BLOGGS",
    )
    assert (returned.direction, returned.is_reversal) == (Direction.CREDIT, True)
    assert (clawback.direction, clawback.is_reversal) == (Direction.DEBIT, True)
    # The bank reference is kept but is no key: some banks number it per statement.
    assert wages.bank_reference == "BR1"
    assert wages.dedup_key == "day:2024-04-01:debit:12000:GBP#0"
    assert wages.earlier_keys == ("ref:BR1",)
    assert returned.dedup_key == "day:2024-04-02:credit:12000:GBP:reversal#0"
    assert wages.end_to_end_id == "PAWAGES"
    assert returned.end_to_end_id is None  # NONREF
    assert statement.statement_id == "STMT240405/42/1"
    unexplained = statement.unexplained_difference()
    assert unexplained is not None
    assert unexplained.pence == 0


def test_entry_date_is_the_booking_date() -> None:
    [statement] = parse_mt940(mt940(":61:2403300401D1,00NTRFNONREF"), filename="x")
    line = statement.transactions[0]
    assert (line.value_date, line.booking_date) == (date(2024, 3, 30), date(2024, 4, 1))


def test_identical_lines_both_survive() -> None:
    line = ":61:2404050405D80,00NTRFNONREF"
    [statement] = parse_mt940(mt940(line, ":86:WAGES", line, ":86:WAGES"), filename="x")
    first, second = statement.transactions
    assert (first.ordinal, second.ordinal) == (0, 1)
    assert first.dedup_key != second.dedup_key


def test_third_decimal_place_is_refused() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_mt940(mt940(":61:2404010401D12,345NTRFNONREF"), filename="x")
    assert refused.value.location == "line 5 (:61:)"
    assert "more than two decimal places" in refused.value.reason


def test_bad_date_names_its_line() -> None:
    data = mt940(":61:2404010401D1,00NTRFNONREF", ":86:OK", ":61:2404310431D1,00NTRFNONREF")
    with pytest.raises(BankFileError) as refused:
        parse_mt940(data, filename="x")
    assert refused.value.location == "line 7 (:61:)"


def test_missing_closing_balance_is_refused() -> None:
    data = b":20:X\n:25:1\n:28C:1\n:60F:C240331GBP1,00\n:61:2404010401D1,00NTRFNONREF\n"
    with pytest.raises(BankFileError, match="no closing balance"):
        parse_mt940(data, filename="x")


def test_truncated_file_is_refused() -> None:
    data = mt940(":61:2404010401D1,00NTRFNONREF")
    with pytest.raises(BankFileError):
        parse_mt940(data[: data.index(b":61:") + 12], filename="x")


def test_balance_in_another_currency_is_refused() -> None:
    with pytest.raises(BankFileError, match="EUR"):
        parse_mt940(mt940(closing="C240405EUR880,00"), filename="x")


def test_malformed_balance_is_refused() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_mt940(mt940(opening="C240331GBP1.000,00"), filename="x")
    assert refused.value.location == "line 4 (:60F:)"


def test_line_before_opening_balance_is_refused() -> None:
    data = b":20:X\n:25:1\n:61:2404010401D1,00NTRFNONREF\n:60F:C240331GBP1,00\n:62F:C1,00\n"
    with pytest.raises(BankFileError, match="before the opening balance"):
        parse_mt940(data, filename="x")


def test_mt942_lines_are_pending_and_totals_are_checked() -> None:
    body = [
        ":20:INTRADAY",
        ":25:30995012345678",
        ":28C:1/1",
        ":34F:GBP0,",
        ":13D:2404051200+0100",
        ":61:2404050405C600,00NTRFNONREF//X1",
        ":86:COUNCIL DP",
        ":90D:0GBP0,",
        ":90C:1GBP600,00",
        "-",
    ]
    [statement] = parse_mt940("\n".join(body).encode(), filename="x.942")
    assert statement.transactions[0].status is EntryStatus.PENDING
    assert statement.opening_balance is None
    wrong = "\n".join(body).replace(":90C:1GBP600,00", ":90C:2GBP600,00").encode()
    with pytest.raises(BankFileError) as refused:
        parse_mt940(wrong, filename="x.942")
    assert refused.value.location == "line 9 (:90C:)"


def test_swift_envelope_and_crlf() -> None:
    text = "{1:F01BANKGB2LAXXX0000000000}{2:O940}{4:\r\n" + mt940(
        ":61:2404010401C5,00NTRFNONREF"
    ).decode().replace("\n", "\r\n").replace("-\r\n", "-}{5:{CHK:ABC}}\r\n")
    [statement] = parse_mt940(text.encode(), filename="x")
    assert statement.transactions[0].amount.pence == 500


def test_not_mt940_is_refused() -> None:
    with pytest.raises(BankFileError, match="no statement"):
        parse_mt940(b"hello\nworld\n", filename="x")
