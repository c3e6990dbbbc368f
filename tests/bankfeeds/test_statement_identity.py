"""Which bank account a statement is of: every parser exposes the account its format names, in the
one spelling :func:`~dpledger.domain.bankids.bank_key` gives a UK account or an IBAN.

The import compares this identifier with the bank account a managed account's money is held in,
so a statement must name its account whenever the file does, and two spellings of one account
must come out the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dpledger.adapters.bankfeeds import (
    BUILTIN_CSV_MAPPINGS,
    BankStatement,
    parse_bytes,
    parse_file,
)
from dpledger.domain.bankids import bank_key
from dpledger.domain.errors import ValidationError

# What each sample names as its account (one entry per statement), read from the file by eye:
# camt.053 Acct/Id/IBAN (else Othr/Id), MT940 :25:, OFX BANKID + ACCTID, Open Banking AccountId,
# CSV sort code and account columns. A GB IBAN is its sort code and account number.
NAMED = {
    "camt053/camt_parser-rb__valid_example_v4.xml": ["CH0309000000250090342"],
    "camt053/camt_parser-rb__valid_example_with_datetime.xml": ["11111111"],
    "camt053/genkgo-camt__camt053.v2.all-balance-types.xml": ["CH2801234000123456789"],
    "camt053/genkgo-camt__camt053.v2.five.decimals.xml": ["NL26VAYB8060476890"],
    "camt053/genkgo-camt__camt053.v2.multi.statement.xml": ["NL26VAYB8060476890"] * 2,
    "camt053/genkgo-camt__camt53.only-Dt-with-DtTm.xml": ["20-20-15 55555555"],
    "camt053/iso20022js__goldman_sachs__camt_053_uk_v2_1.xml": ["60000635", "04-29-62 50000970"],
    "camt053/iso20022js__ing__example_camt.xml": ["NL08INGB0000001234"],
    "mt940/libmt94x__ming-ing-provided-example-multiple-messages.txt": ["NL20INGB0001234567"] * 2,
    "mt940/qoomon-banking-swift__valid-mt940.txt": ["6-9412771"],
    "mt940/wolph-mt940__cmxl__mt940.sta": [
        "45050050/76198810",
        "10020030/1234567",
        "BPHKPLPK/320000546101",
    ],
    "mt940/wolph-mt940__jejik__abnamro.sta": ["517852257"] * 2,
    "mt940/wolph-mt940__jejik__postfinance.sta": ["123456789"] * 2,
    "mt940/wolph-mt940__mBank__mt942.sta": ["PL29114010810000267002001002"],
    "mt940/wolph-mt940__sberbank__171011_01234945.sta": ["1966315302010001"],
    "ofx/asgrim-ofxparser__ofx-multiple-accounts-xml.ofx": [
        "87-54-00 54658222458596",
        "87-54-00 546582659855",
        "49-29-00 21252344525548",
    ],
    "ofx/asgrim-ofxparser__ofxdata-credit-card.ofx": ["1234567891234567"],
    "ofx/countinghouse__statement.ofx": ["00-00-00 12349876"],
    "ofx/ofxparse__suncorp.ofx": ["SUNCORP 123456789"],
    "openbanking/obuk-docs__v3.1.11__get-account-transactions-response.json": ["22289"],
    "openbanking/obuk-docs__v3.1.11__get-transactions-bulk-response.json": ["22289", "31820"],
    "csv/ofxstatement-lloyds__sample-statement.csv": ["99-88-74 1515152252"],
    "csv/countinghouse__natwest.csv": ["60-00-00 12345678"],
    "csv/countinghouse__barclays.csv": ["20-00-00 12345678"],
}

# Exports that carry no account identifier at all (or only a masked one, "****12345").
UNNAMED = [
    "csv/countinghouse__starling.csv",
    "csv/countinghouse__monzo.csv",
    "csv/countinghouse__amex.csv",
    "csv/nationwide-transaction-parser__test-statement.csv",
    "csv/nationwide-transaction-parser__test-midata.csv",
    "csv/bank2ynab__MS_JANE_SMITH_01-12-2019_14-12-2019.csv",
]


def parse_sample(samples_dir: Path, name: str) -> list[BankStatement]:
    path = samples_dir / name
    if name.startswith("mt940/"):
        return parse_file(path, "mt940")
    return parse_file(path)


def is_uk_or_iban(identifier: str) -> bool:
    """Whether :func:`bank_key` reads ``identifier`` as a UK account or an IBAN."""
    try:
        key = bank_key(identifier)
    except ValidationError:
        return False
    return bool(re.fullmatch(r"\d{2}-\d{2}-\d{2} \d{8,10}|[A-Z]{2}\d{2}[A-Z0-9]{10,30}", key))


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_sample_names_its_account(samples_dir: Path, name: str) -> None:
    statements = parse_sample(samples_dir, name)
    assert [s.account_id for s in statements] == NAMED[name]
    for statement in statements:
        assert statement.account_id is not None
        if is_uk_or_iban(statement.account_id):
            assert statement.account_id == bank_key(statement.account_id)


@pytest.mark.bankfeeds
def test_every_uk_account_or_iban_in_the_samples_is_in_its_key_spelling(
    samples_dir: Path,
) -> None:
    checked = 0
    for folder in ("camt053", "mt940", "ofx", "openbanking", "csv"):
        for path in sorted((samples_dir / folder).iterdir()):
            name = f"{folder}/{path.name}"
            try:
                if "hsbc" in name:
                    statements = parse_file(path, csv_mapping=BUILTIN_CSV_MAPPINGS["hsbc"])
                else:
                    statements = parse_sample(samples_dir, name)
            except Exception:  # refused samples are the other tests' business
                continue
            for statement in statements:
                if statement.account_id and is_uk_or_iban(statement.account_id):
                    assert statement.account_id == bank_key(statement.account_id), name
                    checked += 1
    assert checked >= 15  # the samples hold 15 UK accounts and IBANs: none was skipped


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", UNNAMED)
def test_exports_without_an_account_name_none(samples_dir: Path, name: str) -> None:
    assert {s.account_id for s in parse_sample(samples_dir, name)} == {None}


@pytest.mark.bankfeeds
def test_gb_iban_and_mt940_iban_with_currency_are_written_as_their_key(samples_dir: Path) -> None:
    camt = (samples_dir / "camt053" / "genkgo-camt__camt53.only-Dt-with-DtTm.xml").read_bytes()
    assert b"<IBAN>GB33BUKB20201555555555</IBAN>" in camt
    name = "mt940/libmt94x__ming-ing-provided-example-multiple-messages.txt"
    assert b":25:NL20INGB0001234567EUR" in (samples_dir / name).read_bytes()
    assert parse_sample(samples_dir, name)[0].account_id == "NL20INGB0001234567"


# --- hand-made: each format's ways of writing a UK account ---------------------------------------


def mt940(account: str, currency: str = "GBP") -> bytes:
    return "\n".join(
        [
            ":20:STMT1",
            f":25:{account}",
            ":28C:1/1",
            f":60F:C240401{currency}100,00",
            ":61:2404020402D10,00NTRFNONREF",
            ":86:PA WAGES",
            f":62F:C240402{currency}90,00",
            "-",
            "",
        ]
    ).encode()


@pytest.mark.parametrize(
    ("written", "currency", "account"),
    [
        ("30995012345678", "GBP", "30-99-50 12345678"),  # UK banks run the two together
        ("30995012345678GBP", "GBP", "30-99-50 12345678"),
        ("309950/12345678", "GBP", "30-99-50 12345678"),
        ("30-99-50 12345678", "GBP", "30-99-50 12345678"),
        ("GB29NWBK60161331926819", "GBP", "60-16-13 31926819"),
        ("GB29NWBK60161331926819GBP", "GBP", "60-16-13 31926819"),
        ("NL91ABNA0417164300EUR", "EUR", "NL91ABNA0417164300"),
        ("30995012345678", "EUR", "30995012345678"),  # not a UK account in a euro statement
        ("GB28NWBK60161331926819", "GBP", "GB28NWBK60161331926819"),  # wrong check digits
        ("1291.99.348EUR", "EUR", "1291.99.348EUR"),
    ],
)
def test_mt940_account(written: str, currency: str, account: str) -> None:
    [statement] = parse_bytes(mt940(written, currency), filename="x.sta", format="mt940")
    assert statement.account_id == account


def ofx(bank_id: str, account: str) -> bytes:
    return f"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240405
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0
<SEVERITY>INFO</STATUS><STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>{bank_id}<ACCTID>{account}
<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20240401<DTEND>20240405
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240402<TRNAMT>-10.00<FITID>F1<NAME>PA WAGES</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>90.00<DTASOF>20240405</LEDGERBAL></STMTRS></STMTTRNRS>
</BANKMSGSRSV1></OFX>
""".encode()


@pytest.mark.parametrize(
    ("bank_id", "number", "account"),
    [
        ("309950", "12345678", "30-99-50 12345678"),
        ("30-99-50", "12345678", "30-99-50 12345678"),
        ("309950", "1234567", "30-99-50 01234567"),  # numbers are padded to 8 digits
        ("", "GB29NWBK60161331926819", "60-16-13 31926819"),
        ("SUNCORP", "123456789", "SUNCORP 123456789"),
    ],
)
def test_ofx_account(bank_id: str, number: str, account: str) -> None:
    [statement] = parse_bytes(ofx(bank_id, number), filename="x.ofx")
    assert statement.account_id == account


def test_open_banking_account_id_is_kept_as_the_bank_gives_it() -> None:
    body = {
        "Data": {
            "Transaction": [
                {
                    "AccountId": "acc-22289",
                    "TransactionId": "t1",
                    "CreditDebitIndicator": "Credit",
                    "Status": "Booked",
                    "BookingDateTime": "2024-04-02T10:00:00+00:00",
                    "Amount": {"Amount": "10.00", "Currency": "GBP"},
                }
            ]
        }
    }
    [statement] = parse_bytes(json.dumps(body).encode(), filename="tx.json")
    assert statement.account_id == "acc-22289"


def test_camt_othr_id_is_used_when_there_is_no_iban(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "camt053_v08_gbp.xml").read_bytes()
    assert b"<IBAN>GB29NWBK60161331926819</IBAN>" in data
    [by_iban] = parse_bytes(data, filename="a.xml")
    other = data.replace(
        b"<IBAN>GB29NWBK60161331926819</IBAN>", b"<Othr><Id>601613 31926819</Id></Othr>"
    )
    [by_other] = parse_bytes(other, filename="b.xml")
    assert by_iban.account_id == by_other.account_id == "60-16-13 31926819"
