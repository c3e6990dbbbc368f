"""OFX 1.x/2.x: the shared samples and hand-made edge cases."""

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
    parse_ofx,
)

SGML_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
    "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)


def sgml(*transactions: str, ledger: str = "<LEDGERBAL><BALAMT>880.00<DTASOF>20240705") -> str:
    """A UK bank's OFX 1.02 statement holding ``transactions``."""
    return (
        SGML_HEADER + "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20240705<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
        "<STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>309950<ACCTID>12345678"
        "<ACCTTYPE>CHECKING</BANKACCTFROM>\n"
        "<BANKTRANLIST><DTSTART>20240701<DTEND>20240705\n"
        + "\n".join(transactions)
        + "\n</BANKTRANLIST>\n"
        + ledger
        + "</LEDGERBAL>\n</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )


def trn(fitid: str, amount: str, posted: str = "20240701", name: str = "PA WAGES") -> str:
    """One ``<STMTTRN>``."""
    return (
        f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{posted}<TRNAMT>{amount}<FITID>{fitid}"
        f"<NAME>{name}</STMTTRN>"
    )


# --- the shared samples -------------------------------------------------------------------------

# file -> (statements' transaction counts, currency, account of the first statement with lines,
#          its first line (date, pence, direction, dedup key), its LEDGERBAL in pence)
IMPORTED = {
    "asgrim-ofxparser__ofx-multiple-accounts-xml.ofx": (
        [0, 2, 1],
        "GBP",
        "87-54-00 546582659855",
        (date(2014, 7, 17), 398, Direction.DEBIT, "ref:+201407170000001"),
        300025,
    ),
    "asgrim-ofxparser__ofxdata-credit-card.ofx": (
        [1],
        "GBP",
        "1234567891234567",
        (date(2016, 8, 23), 10000, Direction.DEBIT, "ref:ABCDEFGHIJ"),
        -50000,
    ),
    "asgrim-ofxparser__ofxdata-bb-two-stmtrs.ofx": (
        [0, 36],
        "BRL",
        "001 655000-2",
        (date(2017, 3, 1), 1331836, Direction.CREDIT, "ref:2017030101331836"),
        455528,
    ),
    "asgrim-ofxparser__ofxdata-oneline.ofx": (
        [8],
        "EUR",
        "XXXXX XXXXXXXXXXX",
        (date(2016, 7, 19), 155, Direction.DEBIT, "ref:PU3YMMLLQ9"),
        10000,
    ),
    "asgrim-ofxparser__ofxdata-memoWithAmpersand.ofx": (
        [16],
        "BRL",
        "99999999-9999-9999-9999-999999999999",
        (date(2018, 9, 13), 3330, Direction.DEBIT, "ref:5b4f6eea-9999-9999-9999-794a31c8f61b"),
        -73405,
    ),
    "countinghouse__statement.ofx": (
        [2],
        "GBP",
        "00-00-00 12349876",
        (date(2026, 9, 1), 1234, Direction.DEBIT, "ref:F1"),
        294000,
    ),
    "ofxparse__checking.ofx": (
        [3],
        "USD",
        "5472369148 1452687~7",
        (date(2011, 3, 31), 1, Direction.CREDIT, "ref:0000486"),
        10099,
    ),
    "ofxparse__suncorp.ofx": (
        [1],
        "AUD",
        "SUNCORP 123456789",
        (date(2013, 12, 15), 1685, Direction.DEBIT, "ref:1"),
        123412,
    ),
}

# file -> (words the reason must contain, location)
REFUSED = {
    "ofxparse__error_message.ofx": ("General Server Error", None),
    "ofxparse__fail_nice__date_missing.ofx": ("Missing Transaction Date", "line 33 (<STMTTRN>)"),
    "ofxparse__fail_nice__decimal_error.ofx": ("'$120'", "line 34 (<STMTTRN>)"),
    "ofxparse__fail_nice__empty_balance.ofx": ("Empty ledger balance", "line 19 (<STMTRS>)"),
}


@pytest.mark.bankfeeds
def test_every_ofx_sample_has_an_expectation(samples_dir: Path) -> None:
    names = {p.name for p in (samples_dir / "ofx").iterdir()}
    assert names == set(IMPORTED) | set(REFUSED)


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_ofx_sample_imports(samples_dir: Path, name: str) -> None:
    counts, currency, account, first_line, ledger = IMPORTED[name]
    statements = parse_file(samples_dir / "ofx" / name)
    assert [len(s.transactions) for s in statements] == counts
    statement = next(s for s in statements if s.transactions)
    assert statement.format is BankFormat.OFX
    assert statement.currency == currency
    assert statement.account_id == account
    first = statement.transactions[0]
    assert (first.booking_date, first.amount.pence, first.direction, first.dedup_key) == first_line
    assert first.status is EntryStatus.BOOKED
    assert statement.closing_balance is not None
    assert statement.closing_balance.kind == "LEDGERBAL"
    assert statement.closing_balance.balance.pence == ledger


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_ofx_sample_is_refused(samples_dir: Path, name: str) -> None:
    words, location = REFUSED[name]
    with pytest.raises(BankFileError) as refused:
        parse_file(samples_dir / "ofx" / name)
    assert words in refused.value.reason
    assert refused.value.location == location


@pytest.mark.bankfeeds
def test_windows_1252_text_is_decoded_as_the_header_says(samples_dir: Path) -> None:
    statements = parse_file(samples_dir / "ofx" / "asgrim-ofxparser__ofxdata-bb-two-stmtrs.ofx")
    assert "TED-CRÉDITO EM CONTA" in statements[1].transactions[0].description


@pytest.mark.bankfeeds
def test_entities_and_cdata(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "ofx" / "countinghouse__statement.ofx")
    assert statement.transactions[1].description == "ACME LTD SALARY & BONUS"
    [suncorp] = parse_file(samples_dir / "ofx" / "ofxparse__suncorp.ofx")
    assert suncorp.transactions[0].counterparty == "EFTPOS WDL HANDYWAY ALDI STORE"


# --- hand-made edge cases -----------------------------------------------------------------------


def test_uk_statement() -> None:
    data = sgml(trn("A1", "-120.00"), trn("A2", "1000.00", name="COUNCIL")).encode()
    [statement] = parse_ofx(data, filename="uk.ofx")
    assert statement.account_id == "30-99-50 12345678"
    assert statement.period_start == date(2024, 7, 1)
    assert statement.period_end == date(2024, 7, 5)
    wages, council = statement.transactions
    assert (wages.amount.pence, wages.direction, wages.signed_pence) == (
        12000,
        Direction.DEBIT,
        -12000,
    )
    assert council.direction is Direction.CREDIT
    assert wages.bank_reference == "A1"
    assert wages.bank_transaction_id is None
    assert wages.source_location == "line 15 (<STMTTRN>)"


def test_bst_timestamp_keeps_the_banks_date() -> None:
    # Midnight in London in July is 23:00 UTC the day before; the statement says 1 July.
    data = sgml(trn("A1", "-1.00", posted="20240701000000[+1:BST]")).encode()
    [statement] = parse_ofx(data, filename="bst.ofx")
    assert statement.transactions[0].booking_date == date(2024, 7, 1)


def test_third_decimal_place_is_refused() -> None:
    data = sgml(trn("A1", "-1.00"), trn("A2", "-12.345")).encode()
    with pytest.raises(BankFileError) as refused:
        parse_ofx(data, filename="x.ofx")
    assert refused.value.location == "line 16 (<STMTTRN>)"
    assert "more than two decimal places" in refused.value.reason


def test_impossible_date_is_refused() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_ofx(sgml(trn("A1", "-1.00", posted="20240231")).encode(), filename="x.ofx")
    assert refused.value.location == "line 15 (<STMTTRN>)"


def test_zero_amount_line_is_skipped_and_listed() -> None:
    [statement] = parse_ofx(sgml(trn("A1", "0.00"), trn("A2", "-1.00")).encode(), filename="x")
    assert len(statement.transactions) == 1
    assert [s.location for s in statement.skipped] == ["line 15 (<STMTTRN>)"]


def test_repeated_fitid_does_not_lose_a_line() -> None:
    [statement] = parse_ofx(sgml(trn("A1", "-80.00"), trn("A1", "-80.00")).encode(), filename="x")
    assert [t.dedup_key for t in statement.transactions] == ["ref:A1", "ref:A1#1"]


def test_utf8_ofx2_keeps_non_ascii_text() -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="211"?>\n'
        "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STMTRS><CURDEF>GBP</CURDEF>"
        "<BANKACCTFROM><BANKID>309950</BANKID><ACCTID>1</ACCTID></BANKACCTFROM>"
        "<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240701</DTPOSTED>"
        "<TRNAMT>-3.50</TRNAMT><FITID>X</FITID><NAME>Café Zoë</NAME></STMTTRN></BANKTRANLIST>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    ).encode()
    [statement] = parse_ofx(data, filename="x.ofx")
    assert statement.transactions[0].description == "Café Zoë"
    assert statement.closing_balance is None


def test_wrong_encoding_is_refused() -> None:
    data = sgml(trn("A1", "-1.00", name="CAFE")).replace("USASCII", "UTF-8").encode()
    with pytest.raises(BankFileError) as refused:
        parse_ofx(data.replace(b"CAFE", b"CAF\xc9"), filename="x.ofx")
    assert "not valid utf-8" in refused.value.reason
    assert refused.value.location is not None
    assert refused.value.location.startswith("line 15,")


def test_truncated_file_is_refused() -> None:
    data = sgml(trn("A1", "-1.00")).encode()
    with pytest.raises(BankFileError):
        parse_ofx(data[: data.index(b"<TRNAMT>") + 4], filename="x.ofx")


def test_not_ofx_is_refused() -> None:
    with pytest.raises(BankFileError, match="no <OFX> element"):
        parse_ofx(b"Date,Amount\n", filename="x.ofx")


def test_unsupported_charset_is_refused() -> None:
    data = sgml(trn("A1", "-1.00")).replace("CHARSET:1252", "CHARSET:EBCDIC").encode()
    with pytest.raises(BankFileError, match="CHARSET:EBCDIC"):
        parse_ofx(data, filename="x.ofx")
