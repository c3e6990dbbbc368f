"""UK bank CSV exports: the shared samples, the built-in mappings and hand-made edge cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from unittest import mock

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger.adapters.bankfeeds import (
    BUILTIN_CSV_MAPPINGS,
    AmountSign,
    BankFileError,
    BankFormat,
    CsvMapping,
    Direction,
    EntryStatus,
    csv_export,
    parse_csv,
    parse_file,
    reading,
)

LLOYDS_HEADER = (
    "Transaction Date,Transaction Type,Sort Code,Account Number,"
    "Transaction Description,Debit Amount,Credit Amount,Balance\n"
)


def lloyds(*rows: str) -> bytes:
    """A Lloyds-style export with ``rows`` after the header."""
    return (LLOYDS_HEADER + "".join(f"{row}\n" for row in rows)).encode()


# --- the shared samples -------------------------------------------------------------------------

# file -> (transactions, account, first line (date, pence, direction), closing balance pence)
IMPORTED = {
    "ofxstatement-lloyds__sample-statement.csv": (
        12,
        "99-88-74 1515152252",
        (date(2024, 1, 15), 899, Direction.DEBIT),
        None,  # its running balances do not chain (rows 5 and 6), so no balance is claimed
    ),
    "countinghouse__natwest.csv": (
        2,
        "60-00-00 12345678",
        (date(2026, 9, 1), 1234, Direction.DEBIT),
        300000,
    ),
    "countinghouse__starling.csv": (
        3,
        None,
        (date(2026, 9, 2), 1234, Direction.DEBIT),
        292766,
    ),
    "countinghouse__monzo.csv": (9, None, (date(2026, 9, 1), 450, Direction.DEBIT), None),
    "countinghouse__barclays.csv": (
        3,
        "20-00-00 12345678",
        (date(2026, 9, 5), 6000, Direction.DEBIT),
        None,
    ),
    "countinghouse__amex.csv": (2, None, (date(2026, 9, 2), 1234, Direction.DEBIT), None),
    "nationwide-transaction-parser__test-statement.csv": (
        6,
        None,
        (date(2025, 6, 13), 3000, Direction.DEBIT),
        10000,
    ),
    "nationwide-transaction-parser__test-midata.csv": (
        8,
        None,
        (date(2025, 7, 19), 5200, Direction.DEBIT),
        -200,
    ),
    "bank2ynab__MS_JANE_SMITH_01-12-2019_14-12-2019.csv": (
        13,
        None,
        (None, 6740, Direction.DEBIT),
        None,
    ),
}

# file -> (words the reason must contain, location)
REFUSED = {
    "nationwide-transaction-parser__bad-statement-1.csv": ("7 fields", "line 6"),
    "bank2ynab__CSV_A_20180414_112204.csv": ("not valid utf-8", "line 1, column 164"),
    "countinghouse__hsbc.csv": ("matches no known bank export", "line 1"),
}


@pytest.mark.bankfeeds
def test_every_csv_sample_has_an_expectation(samples_dir: Path) -> None:
    names = {p.name for p in (samples_dir / "csv").iterdir()}
    assert names == set(IMPORTED) | set(REFUSED)


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_csv_sample_imports(samples_dir: Path, name: str) -> None:
    count, account, (booked, pence, direction), closing = IMPORTED[name]
    [statement] = parse_file(samples_dir / "csv" / name)
    assert statement.format is BankFormat.CSV
    assert statement.currency == "GBP"
    assert len(statement.transactions) == count
    assert statement.account_id == account
    first = statement.transactions[0]
    assert (first.booking_date, first.amount.pence, first.direction) == (booked, pence, direction)
    if closing is None:
        assert statement.closing_balance is None
    else:
        assert statement.closing_balance is not None
        assert statement.closing_balance.balance.pence == closing
        difference = statement.unexplained_difference()
        assert difference is not None
        assert difference.is_zero()


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_csv_sample_is_refused(samples_dir: Path, name: str) -> None:
    words, location = REFUSED[name]
    with pytest.raises(BankFileError) as refused:
        parse_file(samples_dir / "csv" / name)
    assert words in refused.value.reason
    assert refused.value.location == location
    assert refused.value.file == name


@pytest.mark.bankfeeds
def test_lloyds_sample_details(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "csv" / "ofxstatement-lloyds__sample-statement.csv")
    salary = statement.transactions[3]
    assert salary.direction is Direction.CREDIT
    assert salary.amount.pence == 200000
    assert salary.transaction_type == "FPI"
    assert salary.running_balance is not None
    assert salary.running_balance.pence == 802949
    # No id: keyed by what a re-download cannot change; stores of earlier versions hold fp:.
    assert salary.dedup_key == "day:2023-12-01:credit:200000:GBP#0"
    assert salary.earlier_keys == (f"fp:{salary.legacy_fingerprint}#0",)
    assert salary.source_location == "line 5"


@pytest.mark.bankfeeds
def test_nationwide_latin1_pound_signs_and_negative_balance(samples_dir: Path) -> None:
    name = "nationwide-transaction-parser__test-midata.csv"
    [statement] = parse_file(samples_dir / "csv" / name)
    assert statement.transactions[0].running_balance is not None
    assert statement.transactions[0].running_balance.pence == -200  # "-£2.00"
    assert statement.opening_balance is not None
    assert statement.opening_balance.balance.pence == 12615  # newest-first file


@pytest.mark.bankfeeds
def test_starling_opening_balance_row_is_skipped_not_lost(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "csv" / "countinghouse__starling.csv")
    assert [s.location for s in statement.skipped] == ["line 2"]
    assert statement.opening_balance is not None
    assert statement.opening_balance.balance.pence == 100000


@pytest.mark.bankfeeds
def test_john_lewis_pending_and_credit_flag(samples_dir: Path) -> None:
    [statement] = parse_file(
        samples_dir / "csv" / "bank2ynab__MS_JANE_SMITH_01-12-2019_14-12-2019.csv"
    )
    statuses = [t.status for t in statement.transactions]
    assert statuses[:3] == [EntryStatus.PENDING] * 3
    assert statuses[3:] == [EntryStatus.BOOKED] * 10
    payment = statement.transactions[-1]
    assert (payment.direction, payment.amount.pence) == (Direction.CREDIT, 110000)
    assert statement.transactions[3].amount.pence == 118323  # "£1,183.23"
    assert statement.transactions[3].booking_date == date(2019, 12, 12)


@pytest.mark.bankfeeds
def test_monzo_uses_transaction_ids_and_account_currency(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "csv" / "countinghouse__monzo.csv")
    keys = [t.dedup_key for t in statement.transactions]
    assert keys[0] == "id:tx_0000A1"
    cafe = statement.transactions[6]
    assert cafe.amount.pence == 1240  # the GBP amount, not the local EUR 14.00
    assert cafe.counterparty == "Café de Flore"


@pytest.mark.bankfeeds
def test_amex_spending_is_positive_in_the_file(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "csv" / "countinghouse__amex.csv")
    spend, payment = statement.transactions
    assert spend.direction is Direction.DEBIT
    assert payment.direction is Direction.CREDIT
    # A CSV reference column is not a line identity: keyed by its day, the old key kept.
    assert payment.bank_reference == "AT262470001000010054321"
    assert payment.dedup_key == "day:2026-09-04:credit:50000:GBP#0"
    assert payment.earlier_keys == ("ref:AT262470001000010054321",)


@pytest.mark.bankfeeds
def test_hsbc_without_header_needs_the_named_mapping(samples_dir: Path) -> None:
    data = (samples_dir / "csv" / "countinghouse__hsbc.csv").read_bytes()
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="hsbc.csv")
    assert "BUILTIN_CSV_MAPPINGS['hsbc']" in refused.value.fix
    [statement] = parse_csv(data, filename="hsbc.csv", mapping=BUILTIN_CSV_MAPPINGS["hsbc"])
    assert [(t.amount.pence, t.direction) for t in statement.transactions] == [
        (1234, Direction.DEBIT),
        (200000, Direction.CREDIT),
    ]


# --- hand-made edge cases -----------------------------------------------------------------------


def test_lloyds_fixture_file(fixtures_dir: Path) -> None:
    [statement] = parse_file(fixtures_dir / "lloyds_small.csv")
    assert statement.account_id == "30-99-50 12345678"
    wages, council = statement.transactions
    assert (wages.booking_date, wages.amount.pence, wages.direction) == (
        date(2024, 4, 3),
        12000,
        Direction.DEBIT,
    )
    assert council.direction is Direction.CREDIT
    assert statement.opening_balance is not None
    assert statement.opening_balance.balance.pence == 0
    assert statement.closing_balance is not None
    assert statement.closing_balance.balance.pence == 88000


def test_nationwide_latin1_fixture_file(fixtures_dir: Path) -> None:
    [statement] = parse_file(fixtures_dir / "nationwide_latin1.csv")
    assert [t.amount.pence for t in statement.transactions] == [60000, 15450]
    assert statement.transactions[0].booking_date == date(2024, 4, 1)
    assert statement.transactions[1].description == "Payment to PA WAGES"


def test_dates_are_day_first() -> None:
    [statement] = parse_csv(lloyds("03/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,"), filename="x")
    assert statement.transactions[0].booking_date == date(2024, 4, 3)


def test_month_first_date_is_never_guessed() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_csv(lloyds("12/31/2024,DEB,'30-99-50,12345678,SHOP,1.00,,"), filename="x")
    assert refused.value.location == "line 2, column 'Transaction Date'"
    assert "'12/31/2024' is not a date" in refused.value.reason


def test_bad_date_names_its_line() -> None:
    data = lloyds(
        "01/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,",
        "02/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,",
        "31/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,",
    )
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="april.csv")
    assert refused.value.location == "line 4, column 'Transaction Date'"
    assert str(refused.value).startswith("april.csv, line 4")


def test_third_decimal_place_is_refused_not_rounded() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_csv(lloyds("01/04/2024,DEB,'30-99-50,12345678,SHOP,12.345,,"), filename="x")
    assert refused.value.location == "line 2, column 'Debit Amount'"
    assert "more than two decimal places" in refused.value.reason


def test_trailing_zero_third_decimal_is_exact() -> None:
    [statement] = parse_csv(lloyds("01/04/2024,DEB,'30-99-50,12345678,SHOP,12.340,,"), filename="x")
    assert statement.transactions[0].amount.pence == 1234


def test_two_identical_wage_payments_on_one_day_both_survive() -> None:
    data = (
        b"Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n"
        b"05/04/2024,J BLOGGS,WAGES,FASTER PAYMENT,-80.00,,,\n"
        b"05/04/2024,J BLOGGS,WAGES,FASTER PAYMENT,-80.00,,,\n"
    )
    [statement] = parse_csv(data, filename="starling.csv")
    first, second = statement.transactions
    assert (first.ordinal, second.ordinal) == (0, 1)
    assert first.base_key == second.base_key
    assert first.dedup_key.endswith("#0")
    assert second.dedup_key.endswith("#1")
    assert first.dedup_key != second.dedup_key


def test_unknown_column_set_is_refused_naming_the_columns() -> None:
    data = b"When,What,How much\n01/04/2024,SHOP,-1.00\n"
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="odd.csv")
    assert "'When', 'What', 'How much'" in refused.value.reason
    assert refused.value.location == "line 1"
    assert "CsvMapping" in refused.value.fix


def test_extra_column_is_an_unknown_header() -> None:
    data = lloyds("01/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,").replace(
        b"Balance\n", b"Balance,Category\n"
    )
    with pytest.raises(BankFileError, match="matches no known bank export"):
        parse_csv(data, filename="x")


def test_wrong_encoding_is_refused_with_its_line() -> None:
    data = lloyds("01/04/2024,DEB,'30-99-50,12345678,CAFE,1.00,,").replace(b"CAFE", b"CAF\xc9")
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="x.csv")
    assert refused.value.location == "line 2, column 38"
    assert "not valid utf-8" in refused.value.reason


def test_both_debit_and_credit_is_refused() -> None:
    with pytest.raises(BankFileError, match="both the debit and the credit"):
        parse_csv(lloyds("01/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,2.00,"), filename="x")


def test_neither_debit_nor_credit_is_refused() -> None:
    with pytest.raises(BankFileError, match="neither the debit nor the credit"):
        parse_csv(lloyds("01/04/2024,DEB,'30-99-50,12345678,SHOP,,,"), filename="x")


def test_unbalanced_quote_is_refused() -> None:
    with pytest.raises(BankFileError, match="malformed"):
        parse_csv(lloyds("01/04/2024,DEB,'30-99-50,12345678,\"SHOP,1.00,,"), filename="x")


def test_several_accounts_in_one_export_give_several_statements() -> None:
    data = lloyds(
        "01/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,",
        "01/04/2024,DEB,'30-99-50,87654321,SHOP,2.00,,",
    )
    statements = parse_csv(data, filename="x")
    assert [s.account_id for s in statements] == ["30-99-50 12345678", "30-99-50 87654321"]


def test_custom_mapping_for_another_bank() -> None:
    mapping = CsvMapping(
        name="Example Building Society",
        delimiter=";",
        encoding="cp1252",
        skip_lines=1,
        date_column="Posted",
        date_formats=("%d.%m.%Y", "%d/%m/%Y"),
        debit_column="Out",
        credit_column="In",
        description_columns=("Details",),
        balance_column="Balance",
        reference_column="Ref",
    )
    data = (
        "Export for account 1234\n"
        "Posted;Details;Out;In;Balance;Ref\n"
        "01.04.2024;COUNCIL – DP;;1,000.00;1,000.00;R1\n"
        "02/04/2024;PA WAGES;250.00;;750.00;R2\n"
    ).encode("cp1252")
    [statement] = parse_csv(data, filename="ebs.csv", mapping=mapping)
    council, wages = statement.transactions
    assert council.description == "COUNCIL – DP"
    assert (council.amount.pence, council.direction) == (100000, Direction.CREDIT)
    assert wages.booking_date == date(2024, 4, 2)
    assert wages.bank_reference == "R2"
    assert wages.dedup_key == "day:2024-04-02:debit:25000:GBP#0"
    assert wages.earlier_keys == ("ref:R2",)
    assert statement.closing_balance is not None
    assert statement.closing_balance.balance.pence == 75000


def test_custom_mapping_with_debit_positive_sign() -> None:
    mapping = CsvMapping(
        name="Card",
        date_column="Date",
        amount_column="Amount",
        amount_sign=AmountSign.DEBIT_POSITIVE,
        description_columns=("Description",),
    )
    data = b"Date,Description,Amount\n01/04/2024,SHOP,12.00\n02/04/2024,PAYMENT,-50.00\n"
    [statement] = parse_csv(data, filename="card.csv", mapping=mapping)
    assert [t.direction for t in statement.transactions] == [Direction.DEBIT, Direction.CREDIT]


def test_custom_mapping_missing_column_is_refused() -> None:
    mapping = CsvMapping(name="Bad", date_column="Date", amount_column="Amount")
    with pytest.raises(BankFileError, match="no row has the columns"):
        parse_csv(b"Date,Value\n01/04/2024,1.00\n", filename="x", mapping=mapping)


def test_mapping_must_say_where_the_amount_is() -> None:
    with pytest.raises(pydantic.ValidationError, match="amount_column"):
        CsvMapping(name="Bad", date_column="Date")
    with pytest.raises(pydantic.ValidationError, match="by position"):
        CsvMapping(
            name="Bad", has_header=False, column_count=2, date_column="Date", amount_column=1
        )


def test_file_without_rows_gives_an_empty_statement() -> None:
    [statement] = parse_csv(lloyds(), filename="x")
    assert statement.transactions == ()


def test_empty_file_is_refused() -> None:
    with pytest.raises(BankFileError, match="empty"):
        parse_csv(b"  \n", filename="x")


# --- the fast path (lines built without pydantic per line) ----------------------------------------

CELL_TEXT = st.lists(st.sampled_from([*"ab AB\t'é\u0301Ω-", "  ", "\u00a0"]), max_size=8).map(
    "".join
)
AMOUNT_TEXT = st.one_of(
    st.integers(-(10**9), 10**9).map(
        lambda p: f"{'-' if p < 0 else ''}{abs(p) // 100}.{abs(p) % 100:02d}"
    ),
    st.sampled_from(["£1,234.50", "-£2", "+3.5", "0.00", "-0.00", "12.340", " 7.00 ", "'4.00'"]),
)
ROW = st.tuples(
    st.sampled_from(["01/04/2024", "31/12/2023", "Pending", " 02/04/2024 "]),
    CELL_TEXT,
    AMOUNT_TEXT,
    st.one_of(st.just(""), AMOUNT_TEXT),
    CELL_TEXT,
    st.sampled_from(["", "CR", "cr"]),
)
FAST_MAPPING = CsvMapping(
    name="Fast",
    date_column="Date",
    pending_dates=("Pending",),
    amount_column="Amount",
    description_columns=("Memo", "Payee"),
    counterparty_column="Payee",
    type_column="Memo",
    balance_column="Balance",
    reference_column="Payee",
    id_column="Memo",
)


def test_the_fast_path_repeats_the_models_current_checks() -> None:
    # False means BankTransaction's validators or constraints changed: mirror the change in
    # csv_export._Reader._transaction and reading._REPEATED_VALIDATORS, then update the latter.
    assert reading.FAST_TRANSACTIONS


@given(rows=st.lists(ROW, max_size=6), flagged=st.booleans())
def test_fast_lines_equal_validated_lines(rows: list[tuple[str, ...]], flagged: bool) -> None:
    mapping = FAST_MAPPING.model_copy(update={"credit_flag_column": "Flag" if flagged else None})
    lines = [",".join(f'"{cell}"' for cell in row) for row in rows]
    data = ("Date,Memo,Amount,Balance,Payee,Flag\n" + "\n".join(lines) + "\n").encode()

    def outcome() -> object:
        try:
            statements = parse_csv(data, filename="x.csv", mapping=mapping)
        except BankFileError as exc:
            return str(exc)
        return [(s, [(t.model_fields_set, repr(t)) for t in s.transactions]) for s in statements]

    fast = outcome()
    with mock.patch.object(csv_export, "FAST_TRANSACTIONS", False):
        assert outcome() == fast


def test_the_first_problem_in_file_order_is_reported() -> None:
    data = lloyds(
        "31/04/2024,DEB,'30-99-50,12345678,SHOP,1.00,,",
        "01/04/2024,DEB,'30-99-50,12345678,\"SHOP,1.00,,",
    )
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="x")
    assert refused.value.location == "line 2, column 'Transaction Date'"
