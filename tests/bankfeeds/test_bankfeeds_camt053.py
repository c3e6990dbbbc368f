"""ISO 20022 camt.053: the shared samples and hand-made edge cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dpledger.adapters.bankfeeds import (
    BankFileError,
    BankFormat,
    Direction,
    EntryStatus,
    parse_camt053,
    parse_file,
)


def camt(entries: str, *, version: str = "02", balances: str = "") -> bytes:
    """A one-statement GBP camt.053 document of ``version`` holding ``entries``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2024-04-06T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S</Id><Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id><Ccy>GBP</Ccy></Acct>
{balances}
{entries}
</Stmt></BkToCstmrStmt></Document>
""".encode()


def entry(amount: str = "12.34", *, ccy: str = "GBP", status: str = "<Sts>BOOK</Sts>") -> str:
    """One booked debit ``<Ntry>``."""
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>{status}'
        "<BookgDt><Dt>2024-04-05</Dt></BookgDt></Ntry>"
    )


# --- the shared samples -------------------------------------------------------------------------

# file -> (transactions per statement, currency, account, first line (date, pence, direction,
#          dedup key), (opening, closing) of the last statement in pence, reversals)
IMPORTED = {
    "camt_parser-rb__valid_example_v4.xml": (
        [13],
        "CHF",
        "CH0309000000250090342",
        (date(2016, 4, 30), 2400, Direction.DEBIT, "ref:20160401001027080060699001000107"),
        (32215216, 32268977),
        2,
    ),
    "camt_parser-rb__valid_example_with_datetime.xml": (
        [1],
        "USD",
        "11111111",
        (date(2023, 6, 21), 19586, Direction.CREDIT, None),
        (None, 60680),
        0,
    ),
    "genkgo-camt__camt053.v2.all-balance-types.xml": (
        [1],
        "EUR",
        "CH2801234000123456789",
        (date(2014, 12, 31), 885, Direction.CREDIT, None),
        (101, 404),
        0,
    ),
    "genkgo-camt__camt053.v2.five.decimals.xml": (
        [1],
        "EUR",
        "NL26VAYB8060476890",
        (date(2014, 12, 31), 885, Direction.CREDIT, None),
        (1815, 2705),
        0,
    ),
    "genkgo-camt__camt053.v2.multi.statement.xml": (
        [1, 1],
        "EUR",
        "NL26VAYB8060476890",
        (date(2014, 12, 31), 885, Direction.CREDIT, None),
        (2700, 2000),
        0,
    ),
    "genkgo-camt__camt53.only-Dt-with-DtTm.xml": (
        [0],
        "RON",
        "20-20-15 55555555",  # the IBAN GB33BUKB20201555555555, as bank_key writes it
        None,
        (544209, None),
        0,
    ),
    "iso20022js__goldman_sachs__camt_053_uk_v2_1.xml": (
        [0, 6],
        "GBP",
        "60000635",
        (date(2023, 10, 9), 10000, Direction.DEBIT, "ref:SPB2327886082710"),
        (33442521807, 33442512642),
        1,
    ),
    "iso20022js__ing__example_camt.xml": (
        [9],
        "EUR",
        "NL08INGB0000001234",
        (date(2014, 1, 3), 35000, Direction.CREDIT, "ref:59999208N9"),
        (100000, 160500),
        1,
    ),
}

# file -> (words the reason must contain, location)
REFUSED = {
    "genkgo-camt__camt053.v2.minimal.xml": (
        "amount in 'SEK' but the account is in EUR",
        "element /Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt (line 60)",
    ),
    "genkgo-camt__camt053.v8.xml": (
        "amount in 'SEK' but the account is in EUR",
        "element /Document/BkToCstmrStmt/Stmt[1]/Bal[2]/Amt (line 80)",
    ),
    "genkgo-camt__camt053.v2.wrong.xml": (
        "no statement (<Stmt>)",
        "element /Document/BkToCstmrStmt (line 3)",
    ),
}


@pytest.mark.bankfeeds
def test_every_camt_sample_has_an_expectation(samples_dir: Path) -> None:
    names = {p.name for p in (samples_dir / "camt053").iterdir()}
    assert names == set(IMPORTED) | set(REFUSED)


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_camt_sample_imports(samples_dir: Path, name: str) -> None:
    counts, currency, account, first_line, balances, reversals = IMPORTED[name]
    statements = parse_file(samples_dir / "camt053" / name)
    assert [len(s.transactions) for s in statements] == counts
    assert statements[0].format is BankFormat.CAMT053
    assert statements[0].currency == currency
    assert statements[0].account_id == account
    lines = [t for s in statements for t in s.transactions]
    if first_line is not None:
        booked, pence, direction, key = first_line
        first = lines[0]
        assert (first.booking_date, first.amount.pence, first.direction) == (
            booked,
            pence,
            direction,
        )
        if key is not None:
            assert first.dedup_key == key
    last = statements[-1]
    opening = last.opening_balance.balance.pence if last.opening_balance else None
    closing = last.closing_balance.balance.pence if last.closing_balance else None
    assert (opening, closing) == balances
    assert sum(t.is_reversal for t in lines) == reversals


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_camt_sample_is_refused(samples_dir: Path, name: str) -> None:
    words, location = REFUSED[name]
    with pytest.raises(BankFileError) as refused:
        parse_file(samples_dir / "camt053" / name)
    assert words in refused.value.reason
    assert refused.value.location == location


@pytest.mark.bankfeeds
def test_v8_status_and_datetime_once_its_balances_share_a_currency(samples_dir: Path) -> None:
    data = (samples_dir / "camt053" / "genkgo-camt__camt053.v8.xml").read_bytes()
    fixed = data.replace(b'Ccy="SEK"', b'Ccy="EUR"')
    [statement] = parse_camt053(fixed, filename="v8.xml")
    [line] = statement.transactions
    assert line.status is EntryStatus.BOOKED  # <Sts><Cd>BOOK</Cd></Sts>
    assert line.booking_date == date(2014, 12, 31)  # <DtTm>2014-12-31T13:15:00+01:00</DtTm>
    assert line.counterparty == "NAME NAME"  # <Dbtr><Pty><Nm>
    assert line.end_to_end_id == "MUELL/FINP/RA12345"
    assert line.dedup_key == "ref:AAAASESS-FP-CN_98765/01"
    assert statement.closing_balance is not None
    assert statement.closing_balance.balance.pence == -2700  # DBIT


@pytest.mark.bankfeeds
def test_goldman_sachs_reversal_and_fx(samples_dir: Path) -> None:
    name = "iso20022js__goldman_sachs__camt_053_uk_v2_1.xml"
    statements = parse_file(samples_dir / "camt053" / name)
    lines = statements[1].transactions
    [reversal] = [t for t in lines if t.is_reversal]
    assert (reversal.direction, reversal.amount.pence) == (Direction.CREDIT, 10000)
    assert reversal.value_date == date(2022, 10, 12)
    assert lines[3].amount.pence == 10000  # the entry's GBP amount, not the EUR instructed amount


@pytest.mark.bankfeeds
def test_postfinance_batches_are_one_line_per_entry(samples_dir: Path) -> None:
    [statement] = parse_file(samples_dir / "camt053" / "camt_parser-rb__valid_example_v4.xml")
    assert any("batch of" in t.description for t in statement.transactions)
    difference = statement.unexplained_difference()
    assert difference is not None
    assert difference.is_zero()


# --- hand-made edge cases -----------------------------------------------------------------------


def test_gbp_fixture_with_every_status(fixtures_dir: Path) -> None:
    [statement] = parse_file(fixtures_dir / "camt053_v08_gbp.xml")
    assert statement.account_id == "60-16-13 31926819"  # IBAN GB29NWBK60161331926819
    assert statement.statement_id == "STMT-2024-04-05"
    assert (statement.period_start, statement.period_end) == (date(2024, 4, 5), date(2024, 4, 5))
    assert statement.opening_balance is not None
    assert statement.opening_balance.balance.pence == -1000  # DBIT: overdrawn
    difference = statement.unexplained_difference()
    assert difference is not None
    assert difference.is_zero()
    council, wages_1, wages_2, returned, batch, pending, info = statement.transactions
    assert (council.counterparty, council.end_to_end_id) == ("Example Council", "DP-APR-2024")
    assert council.transaction_type == "PMNT/RCDT/ESCT"
    assert wages_1.end_to_end_id is None  # NOTPROVIDED
    assert (wages_1.ordinal, wages_2.ordinal) == (0, 1)
    assert wages_1.dedup_key != wages_2.dedup_key
    assert (returned.is_reversal, returned.direction) == (True, Direction.CREDIT)
    assert batch.description == "batch of 2 transactions"
    assert (pending.status, pending.booking_date) == (EntryStatus.PENDING, None)
    assert pending.value_date == date(2024, 4, 8)
    assert info.status is EntryStatus.INFO
    assert [s.location for s in statement.skipped] == [
        "element /Document/BkToCstmrStmt/Stmt[1]/Ntry[5] (line 91)"
    ]


@pytest.mark.parametrize("version", ["02", "04", "06", "08", "10", "13"])
def test_any_camt053_version_is_read(version: str) -> None:
    [statement] = parse_camt053(camt(entry(), version=version), filename="x.xml")
    assert statement.transactions[0].amount.pence == 1234


def test_third_decimal_place_is_refused() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_camt053(camt(entry() + entry("1.005")), filename="x.xml")
    assert refused.value.location == "element /Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt (line 6)"
    assert "more than two decimal places" in refused.value.reason


def test_entry_in_another_currency_is_refused() -> None:
    with pytest.raises(BankFileError, match="'EUR' but the account is in GBP"):
        parse_camt053(camt(entry(ccy="EUR")), filename="x.xml")


def test_unknown_status_is_refused() -> None:
    with pytest.raises(BankFileError, match="unknown entry status 'DONE'"):
        parse_camt053(camt(entry(status="<Sts>DONE</Sts>")), filename="x.xml")


def test_booked_entry_needs_a_booking_date() -> None:
    bare = '<Ntry><Amt Ccy="GBP">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>'
    with pytest.raises(BankFileError, match="booking date") as refused:
        parse_camt053(camt(bare), filename="x.xml")
    assert refused.value.location is not None
    assert "Ntry[1]" in refused.value.location


def test_bad_date_names_the_element() -> None:
    bad = entry().replace("2024-04-05", "2024-02-30")
    with pytest.raises(BankFileError) as refused:
        parse_camt053(camt(bad), filename="x.xml")
    assert refused.value.location == (
        "element /Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/BookgDt/Dt (line 6)"
    )


def test_truncated_xml_is_refused_with_its_line() -> None:
    data = camt(entry())
    with pytest.raises(BankFileError) as refused:
        parse_camt053(data[: data.index(b"<BookgDt>")], filename="x.xml")
    assert "malformed" in refused.value.reason
    assert refused.value.location is not None
    assert refused.value.location.startswith("line 6")


def test_wrong_encoding_is_refused() -> None:
    data = camt(entry()).replace(b"<MsgId>M</MsgId>", b"<MsgId>CAF\xc9</MsgId>")
    with pytest.raises(BankFileError) as refused:
        parse_camt053(data, filename="x.xml")
    assert refused.value.location is not None
    assert refused.value.location.startswith("line 3")


def test_doctype_and_entities_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>'
    )
    with pytest.raises(BankFileError, match="DOCTYPE"):
        parse_camt053(bomb, filename="x.xml")


def test_other_camt_message_is_refused() -> None:
    data = camt(entry()).replace(b"camt.053.001.02", b"camt.052.001.02")
    with pytest.raises(BankFileError, match=r"not a camt\.053 statement.*camt\.052"):
        parse_camt053(data, filename="x.xml")


def test_debit_balance_is_negative() -> None:
    balance = (
        '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="GBP">5.00</Amt>'
        "<CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2024-04-05</Dt></Dt></Bal>"
    )
    [statement] = parse_camt053(camt(entry(), balances=balance), filename="x.xml")
    assert statement.closing_balance is not None
    assert statement.closing_balance.balance.pence == -500
