"""CSV layouts from TOML rules files (``load_csv_rules``): every option and every refusal."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from dpledger.adapters.bankfeeds import (
    AmountSign,
    BankFileError,
    CsvMapping,
    Direction,
    EntryStatus,
    csv_rules_from_text,
    load_csv_rules,
    parse_bytes,
    parse_csv,
    parse_file,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bankfeeds.md"
BASIC = '[columns]\ndate = "Date"\namount = "Amount"\n'
PLAIN_CSV = b"Date,Description,Amount\n01/04/2024,SHOP,-1.50\n02/04/2024,COUNCIL,20.00\n"


def rules(text: str, name: str = "bank.rules.toml") -> CsvMapping:
    """The mapping of rules ``text``."""
    return csv_rules_from_text(text, name)


def refusal(text: str) -> BankFileError:
    """The error the rules ``text`` are refused with."""
    with pytest.raises(BankFileError) as refused:
        rules(text)
    assert refused.value.file == "bank.rules.toml"
    return refused.value


def read(text: str, data: bytes, filename: str = "x.csv") -> list[tuple[object, ...]]:
    """(date, pence, direction, status) of each line of ``data`` read with rules ``text``."""
    [statement] = parse_csv(data, filename=filename, mapping=rules(text))
    return [(t.booking_date, t.amount.pence, t.direction, t.status) for t in statement.transactions]


# --- the documented example -----------------------------------------------------------------------


def test_the_docs_example_is_the_fixture(fixtures_dir: Path) -> None:
    section = DOCS.read_text(encoding="utf-8").split("### Custom CSV layouts (rules files)")[1]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    fixture = (fixtures_dir / "example_bs.rules.toml").read_text(encoding="utf-8")
    assert block[1] == fixture


def test_the_example_reads_its_export(fixtures_dir: Path) -> None:
    mapping = load_csv_rules(fixtures_dir / "example_bs.rules.toml")
    assert mapping.name == "Example Building Society"
    assert mapping.rules_file is not None
    assert mapping.rules_file.endswith("example_bs.rules.toml")
    [statement] = parse_file(fixtures_dir / "example_bs.csv", csv_mapping=mapping)
    assert statement.account_id == "30-99-50 12345678"
    council, wages, card = statement.transactions
    assert (council.booking_date, council.amount.pence, council.direction) == (
        date(2024, 4, 1),
        100000,
        Direction.CREDIT,
    )
    assert council.description == "COUNCIL – DP"  # cp1252's en dash
    assert (council.counterparty, council.transaction_type) == ("Anytown Council", "BGC")
    assert (wages.booking_date, wages.amount.pence, wages.direction) == (
        date(2024, 4, 2),
        25000,
        Direction.DEBIT,
    )
    assert wages.bank_reference == "R2"
    assert (card.status, card.booking_date, card.amount.pence) == (EntryStatus.PENDING, None, 1250)
    assert [line.source_location for line in statement.transactions] == [
        "line 4",
        "line 5",
        "line 6",
    ]
    assert statement.closing_balance is not None
    assert statement.closing_balance.balance.pence == 75000


def test_parse_bytes_takes_a_rules_mapping(fixtures_dir: Path) -> None:
    mapping = load_csv_rules(fixtures_dir / "example_bs.rules.toml")
    data = (fixtures_dir / "example_bs.csv").read_bytes()
    [statement] = parse_bytes(data, filename="upload.txt", csv_mapping=mapping)
    assert len(statement.transactions) == 3


# --- each option ----------------------------------------------------------------------------------


def test_minimal_rules_and_their_defaults() -> None:
    mapping = rules(BASIC)
    assert mapping.name == "bank.rules"
    assert (mapping.delimiter, mapping.currency, mapping.decimal_mark) == (",", "GBP", ".")
    assert mapping.date_formats == ("%d/%m/%Y",)
    assert read(BASIC, PLAIN_CSV) == [
        (date(2024, 4, 1), 150, Direction.DEBIT, EntryStatus.BOOKED),
        (date(2024, 4, 2), 2000, Direction.CREDIT, EntryStatus.BOOKED),
    ]


def test_name_separator_and_skip() -> None:
    text = 'name = "My bank"\nseparator = "\\t"\nskip = 1\n' + BASIC
    assert rules(text).name == "My bank"
    data = b"Exported 2024\nDate\tAmount\n01/04/2024\t-1.00\n"
    assert read(text, data) == [(date(2024, 4, 1), 100, Direction.DEBIT, EntryStatus.BOOKED)]


def test_no_header_row_with_positions() -> None:
    text = "header = false\ncolumn-count = 3\n[columns]\ndate = 1\ndescription = 2\namount = 3\n"
    mapping = rules(text)
    assert (mapping.has_header, mapping.column_count) == (False, 3)
    assert (mapping.date_column, mapping.description_columns, mapping.amount_column) == (0, (1,), 2)
    [statement] = parse_csv(b"01/04/2024,SHOP,-2.00\n", filename="x", mapping=mapping)
    assert statement.transactions[0].description == "SHOP"


def test_exact_header_refuses_another_header() -> None:
    text = 'exact-header = ["Date", "Description", "Amount"]\n' + BASIC
    assert len(read(text, PLAIN_CSV)) == 2
    with pytest.raises(BankFileError, match="no row has the columns"):
        parse_csv(PLAIN_CSV.replace(b"Description", b"Memo"), filename="x", mapping=rules(text))


def test_encoding_is_used_when_the_file_is_not_utf8() -> None:
    text = (
        'encoding = "iso-8859-1"\n[columns]\ndate = "Date"\namount = "Amount"\ndescription = "D"\n'
    )
    data = "Date,D,Amount\n01/04/2024,CAFÉ,-1.00\n".encode("iso-8859-1")
    [statement] = parse_csv(data, filename="x", mapping=rules(text))
    assert statement.transactions[0].description == "CAFÉ"


def test_fixed_account_and_account_columns() -> None:
    fixed = 'account = "GB33BUKB20201555555555"\n' + BASIC
    assert rules(fixed).account_id == "GB33BUKB20201555555555"
    [statement] = parse_csv(PLAIN_CSV, filename="x", mapping=rules(fixed))
    assert statement.account_id is not None
    columns = BASIC + 'sort-code = "Sort"\naccount = "Number"\n'
    data = b"Date,Sort,Number,Amount\n01/04/2024,309950,12345678,1.00\n"
    [statement] = parse_csv(data, filename="x", mapping=rules(columns))
    assert statement.account_id == "30-99-50 12345678"


def test_currency_and_currency_column() -> None:
    text = 'currency = "EUR"\n' + BASIC + 'currency = "Ccy"\n'
    mapping = rules(text)
    assert (mapping.currency, mapping.currency_column) == ("EUR", "Ccy")
    data = b"Date,Amount,Ccy\n01/04/2024,1.00,EUR\n02/04/2024,1.00,GBP\n"
    with pytest.raises(BankFileError) as refused:
        parse_csv(data, filename="x", mapping=mapping)
    assert refused.value.location == "line 3, column 'Ccy'"


def test_ignored_rows_by_prefix_and_by_pattern() -> None:
    text = "ignore-rows-starting-with = [\"Total\"]\nignore-rows-matching = ['^,*END']\n" + BASIC
    data = PLAIN_CSV + b"Total,,1.00\n,,END of file\n"
    assert len(read(text, data)) == 2
    with pytest.raises(BankFileError, match="not a date"):
        read(BASIC, data)


def test_dates_formats_and_pending() -> None:
    text = BASIC + '[dates]\nformats = ["%Y-%m-%d", "%d %b %Y"]\npending = ["Not yet"]\n'
    data = b"Date,Amount\n2024-04-01,1.00\n02 Apr 2024,1.00\nnot yet,1.00\n"
    assert [line[0] for line in read(text, data)] == [date(2024, 4, 1), date(2024, 4, 2), None]
    assert read(text, data)[2][3] is EntryStatus.PENDING
    assert rules(BASIC + '[dates]\nformats = "%d.%m.%Y"\n').date_formats == ("%d.%m.%Y",)


def test_sign_debit_positive() -> None:
    text = BASIC + '[amounts]\nsign = "debit-positive"\n'
    assert rules(text).amount_sign is AmountSign.DEBIT_POSITIVE
    assert [line[2] for line in read(text, PLAIN_CSV)] == [Direction.CREDIT, Direction.DEBIT]


def test_decimal_comma_with_thousands_points() -> None:
    text = 'separator = ";"\n' + BASIC + '[amounts]\ndecimal-mark = ","\n'
    data = b"Date;Amount\n01/04/2024;-1.234,56\n02/04/2024;7,5\n"
    assert [line[1] for line in read(text, data)] == [123456, 750]
    refused = text + "thousands-separators = false\n"
    with pytest.raises(BankFileError, match="thousands separator"):
        read(refused, data)


def test_split_amount_columns() -> None:
    text = '[columns]\ndate = "Date"\namount-in = "In"\namount-out = "Out"\n'
    data = b"Date,Out,In\n01/04/2024,2.00,\n02/04/2024,,3.00\n"
    assert [(line[1], line[2]) for line in read(text, data)] == [
        (200, Direction.DEBIT),
        (300, Direction.CREDIT),
    ]


def test_direction_column_with_credit_and_debit_flags() -> None:
    text = (
        BASIC + 'direction = "DC"\n[amounts]\ncredit-flags = ["C", "Credit"]\ndebit-flags = ["D"]\n'
    )
    data = b"Date,Amount,DC\n01/04/2024,1.00,D\n02/04/2024,2.00,credit\n03/04/2024,3.00,\n"
    assert [line[2] for line in read(text, data)] == [
        Direction.DEBIT,
        Direction.CREDIT,
        Direction.DEBIT,
    ]
    with pytest.raises(BankFileError) as refused:
        read(text, data.replace(b",D\n", b",X\n"))
    assert "'X' is not a credit flag (C, Credit) nor a debit flag (D)" in refused.value.reason


def test_text_columns_and_several_description_columns() -> None:
    text = (
        BASIC
        + 'description = ["Type", 2]\ncounterparty = "Payee"\ntype = "Type"\n'
        + 'reference = "Ref"\nid = "Id"\nbalance = "Bal"\n'
    )
    data = b"Date,Memo,Amount,Type,Payee,Ref,Id,Bal\n01/04/2024,WAGES,-5.00,FPO,J B,R9,T1,95.00\n"
    [statement] = parse_csv(data, filename="x", mapping=rules(text))
    [line] = statement.transactions
    assert line.description == "FPO WAGES"
    assert (line.counterparty, line.transaction_type, line.bank_reference) == ("J B", "FPO", "R9")
    assert line.bank_transaction_id == "T1"
    assert line.running_balance is not None
    assert line.running_balance.pence == 9500


def test_load_reads_a_file(write: Callable[[str, bytes], Path]) -> None:
    path = write("ebs.rules.toml", BASIC.encode())
    mapping = load_csv_rules(path)
    assert (mapping.name, mapping.rules_file) == ("ebs.rules", str(path))


# --- refusals of the rules file -------------------------------------------------------------------


def test_toml_syntax_error_names_line_and_column() -> None:
    error = refusal('name = "x"\n[columns]\ndate = Posted\n')
    assert error.location == "line 3, column 8"
    assert "not valid TOML" in error.reason
    assert "in quotes" in error.fix


@pytest.mark.parametrize(
    ("text", "location", "suggestion"),
    [
        ('seperator = ";"\n' + BASIC, "line 1, seperator", "'separator'"),
        (BASIC + "data = 2\n", "line 4, [columns] data", "'date'"),
        (
            BASIC + '[amounts]\ndecimal_mark = ","\n',
            "line 5, [amounts] decimal_mark",
            "'decimal-mark'",
        ),
        ('[column]\ndate = "D"\n', "line 1, [column]", "'columns'"),
    ],
)
def test_unknown_key_suggests_the_nearest(text: str, location: str, suggestion: str) -> None:
    error = refusal(text)
    assert error.location == location
    assert "unknown" in error.reason
    assert f"did you mean {suggestion}?" in error.fix


def test_dotted_keys_are_found_too() -> None:
    error = refusal('columns.date = "Date"\ncolumns.amount = "Amount"\ncolumns.dat = 1\n')
    assert error.location == "line 3, [columns] dat"


@pytest.mark.parametrize(
    ("date_format", "why"),
    [("%d/%m/%Q", "bad directive"), ("%d/%m", "does not read a whole date")],
)
def test_bad_date_format(date_format: str, why: str) -> None:
    error = refusal(BASIC + f'[dates]\nformats = ["%d/%m/%Y", "{date_format}"]\n')
    assert error.location == "line 5, [dates] formats"
    assert why in error.reason
    assert "%d" in error.fix


def test_bad_regular_expression() -> None:
    error = refusal("ignore-rows-matching = ['Total (']\n" + BASIC)
    assert error.location == "line 1, ignore-rows-matching"
    assert "'Total (' is not a regular expression" in error.reason
    assert "literal string" in error.fix


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ('skip = "1"\n' + BASIC, "line 1, skip", "whole number"),
        ("skip = -1\n" + BASIC, "line 1, skip", "whole number"),
        ('header = "no"\n' + BASIC, "line 1, header", "true or false"),
        ("name = 3\n" + BASIC, "line 1, name", "must be text"),
        ('encoding = "klingon"\n' + BASIC, "line 1, encoding", "unknown text encoding"),
        ('separator = ";;"\n' + BASIC, "line 1, separator", "one character"),
        ('currency = "£"\n' + BASIC, "line 1, currency", "ISO 4217"),
        ("exact-header = [1]\n" + BASIC, "line 1, exact-header", "list of texts"),
        ("columns = 3\n", "line 1, columns", "must be a table"),
        ('[columns]\ndate = 0\namount = "A"\n', "line 2, [columns] date", "position"),
        ('[columns]\ndate = true\namount = "A"\n', "line 2, [columns] date", "position"),
    ],
)
def test_wrong_types(text: str, location: str, words: str) -> None:
    error = refusal(text)
    assert error.location == location
    assert words in error.reason


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ('[columns]\namount = "A"\n', "line 1, [columns]", "no date column"),
        ('[columns]\ndate = "D"\n', "line 1, [columns]", "no amount column"),
        (BASIC + 'amount-in = "In"\n', "line 4, [columns] amount-in", "not both"),
        ('[columns]\ndate = "D"\namount-in = "In"\n', "line 3, [columns] amount-in", "amount-out"),
        (
            '[columns]\ndate = "D"\namount-in = "I"\namount-out = "O"\ndirection = "F"\n',
            "line 5, [columns] direction",
            "needs amount",
        ),
        (
            BASIC + '[amounts]\ncredit-flags = ["C"]\n',
            "line 5, [amounts] credit-flags",
            "direction",
        ),
        (
            BASIC + 'direction = "F"\n[amounts]\ncredit-flags = ["C"]\ndebit-flags = ["c"]\n',
            "line 7, [amounts] debit-flags",
            "both a credit flag and a debit flag",
        ),
        (BASIC + '[amounts]\nsign = "positive"\n', "line 5, [amounts] sign", "credit-positive"),
        (
            BASIC + 'direction = "F"\n[amounts]\nsign = "debit-positive"\n',
            "line 6, [amounts] sign",
            "without direction",
        ),
        (BASIC + '[amounts]\ndecimal-mark = "·"\n', "line 5, [amounts] decimal-mark", "'.' or ','"),
        ("header = false\n" + BASIC, "line 1, header", "column-count"),
        (
            "header = false\ncolumn-count = 2\n" + BASIC,
            "line 4, [columns] date",
            "header = false",
        ),
        (
            "header = false\ncolumn-count = 2\n[columns]\ndate = 1\namount = 3\n",
            "line 5, [columns] amount",
            "beyond column-count",
        ),
        (
            'header = false\ncolumn-count = 2\nexact-header = ["a", "b"]\n[columns]\ndate = 1\n',
            "line 3, exact-header",
            "header = false",
        ),
        ('account = "1"\n' + BASIC + 'account = "Acc"\n', "line 1, account", "account column"),
        (BASIC + 'sort-code = "S"\n', "line 4, [columns] sort-code", "account column"),
    ],
)
def test_layouts_that_cannot_work(text: str, location: str, words: str) -> None:
    error = refusal(text)
    assert error.location == location
    assert words in error.reason
    assert error.fix


def test_unreadable_and_non_utf8_rules_files(write: Callable[[str, bytes], Path]) -> None:
    with pytest.raises(BankFileError, match="cannot read the rules file"):
        load_csv_rules(write("x", b"").parent / "missing.toml")
    path = write("latin.toml", b'name = "Caf\xe9"\n' + BASIC.encode())
    with pytest.raises(BankFileError) as refused:
        load_csv_rules(path)
    assert (refused.value.location, refused.value.file) == ("line 1", str(path))


# --- refusals when a file is read with the rules --------------------------------------------------


def test_a_column_missing_from_the_header_names_the_rules_key() -> None:
    text = '[columns]\ndate = "Posted"\namount = "Amount"\n'
    with pytest.raises(BankFileError) as refused:
        parse_csv(PLAIN_CSV, filename="x.csv", mapping=rules(text))
    error = refused.value
    assert error.file == "x.csv"
    assert error.location == "line 1"
    assert "'Posted' ([columns] date in bank.rules.toml)" in error.reason
    assert "bank.rules.toml" in error.fix


def test_a_missing_column_after_skip_names_the_key_and_the_header() -> None:
    text = "skip = 1\n" + BASIC.replace('"Date"', '"Posted"')
    with pytest.raises(BankFileError) as refused:
        parse_csv(b"Exported\n" + PLAIN_CSV, filename="x.csv", mapping=rules(text))
    error = refused.value
    assert error.location == "line 2"
    assert "named by [columns] date in bank.rules.toml" in error.reason
    assert "'Date', 'Description', 'Amount'" in error.reason
    assert "skip counts the lines before the header row" in error.fix


def test_a_position_beyond_the_file_is_counted_from_one() -> None:
    text = '[columns]\ndate = "Date"\namount = 5\n'
    with pytest.raises(BankFileError) as refused:
        parse_csv(PLAIN_CSV, filename="x.csv", mapping=rules(text))
    assert "[columns] amount in bank.rules.toml is column 5, beyond the 3 columns" in (
        refused.value.reason
    )
