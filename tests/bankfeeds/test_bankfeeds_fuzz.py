"""Property tests: no input whatsoever makes a parser fail with anything but BankFileError.

Random bytes, random sequences of each format's own tokens, random Open Banking JSON, and the
real samples (and this suite's fixtures) with bytes flipped, inserted, deleted, duplicated or cut
off. When a parser does return, what it returns must satisfy the model's invariants.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dpledger.adapters.bankfeeds import (
    BankFileError,
    BankFormat,
    BankStatement,
    EntryStatus,
    parse_bytes,
)

HERE = Path(__file__).resolve().parent
SAMPLES_DIR = HERE.parents[1].parent / "shared" / "data" / "bankfeeds"


def _seeds() -> list[tuple[str, bytes]]:
    """Every sample file (when the shared folder is there) and every fixture, by name."""
    folders = [HERE / "fixtures"]
    if SAMPLES_DIR.is_dir():
        folders += [SAMPLES_DIR / f.value for f in BankFormat]
    return [
        (path.name, path.read_bytes())
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]


SEEDS = _seeds()
FORMATS = st.sampled_from([None, *BankFormat])


def parse_or_refuse(data: bytes, filename: str, format: BankFormat | None) -> None:
    """Parse ``data``; a BankFileError is fine, anything else fails the test."""
    try:
        statements = parse_bytes(data, filename=filename, format=format)
    except BankFileError as refused:
        refusal = refused
    else:
        for statement in statements:
            check_invariants(statement)
        return
    assert refusal.file == filename
    assert refusal.reason


def check_invariants(statement: BankStatement) -> None:
    """What every parsed statement guarantees."""
    keys = [t.dedup_key for t in statement.transactions]
    assert len(keys) == len(set(keys))
    for line in statement.transactions:
        assert line.amount.is_positive()
        assert line.currency == statement.currency
        assert line.source_location
        assert line.booking_date is not None or line.status is not EntryStatus.BOOKED


@given(data=st.binary(max_size=3000), format=FORMATS, name=st.sampled_from(["x", "x.csv"]))
def test_random_bytes(data: bytes, format: BankFormat | None, name: str) -> None:
    parse_or_refuse(data, name, format)


@st.composite
def mutated_seed(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed file with a few random byte-level mutations."""
    name, original = draw(st.sampled_from(SEEDS))
    data = bytearray(original)
    steps = draw(
        st.lists(st.tuples(st.integers(0, 4), st.integers(0), st.integers(0, 255)), max_size=6)
    )
    for kind, where, byte in steps:
        if not data:
            break
        at = where % len(data)
        if kind == 0:
            data[at] ^= byte or 1
        elif kind == 1:
            data.insert(at, byte)
        elif kind == 2:
            del data[at]
        elif kind == 3:
            del data[at:]
        else:
            data[at:at] = data[at : at + byte]
    return name, bytes(data)


@given(seed=mutated_seed(), format=st.sampled_from([None, None, *BankFormat]))
def test_mutated_samples(seed: tuple[str, bytes], format: BankFormat | None) -> None:
    name, data = seed
    parse_or_refuse(data, name, format)


MT940_TOKENS = [
    ":20:",
    ":25:",
    ":28C:",
    ":60F:",
    ":60M:",
    ":61:",
    ":86:",
    ":62F:",
    ":62M:",
    ":64:",
    ":NS:",
    ":34F:",
    ":13D:",
    ":90C:",
    ":90D:",
    "\n",
    "\r\n",
    "-",
    "-}",
    "{1:F01X}{4:",
    "C",
    "D",
    "RC",
    "RD",
    "GBP",
    "240405",
    "240230",
    "0405",
    "12,34",
    "1,",
    "0,",
    "12,345",
    "NTRF",
    "NONREF",
    "//",
    "REF",
    " ",
    "?20",
    "\x01",
    "\x03",
    "999",
]
OFX_TOKENS = [
    "OFXHEADER:100\n",
    "ENCODING:USASCII\n",
    "CHARSET:1252\n",
    "\n",
    "<OFX>",
    "</OFX>",
    "<STMTTRNRS>",
    "<STATUS>",
    "<CODE>",
    "0",
    "2000",
    "<SEVERITY>",
    "ERROR",
    "</STATUS>",
    "<STMTRS>",
    "</STMTRS>",
    "<CCSTMTRS>",
    "<CURDEF>",
    "GBP",
    "<BANKACCTFROM>",
    "<BANKID>",
    "<ACCTID>",
    "</BANKACCTFROM>",
    "<BANKTRANLIST>",
    "</BANKTRANLIST>",
    "<STMTTRN>",
    "</STMTTRN>",
    "<TRNTYPE>",
    "DEBIT",
    "<DTPOSTED>",
    "20240405",
    "20240230",
    "[+1:BST]",
    "<TRNAMT>",
    "-1.00",
    "1.005",
    "null",
    "<FITID>",
    "F1",
    "<NAME>",
    "&amp;",
    "<![CDATA[x]]>",
    "<LEDGERBAL>",
    "<BALAMT>",
    "<DTASOF>",
    "</LEDGERBAL>",
    "<INVSTMTRS>",
    "<?xml version='1.0'?>",
]
CAMT_TOKENS = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
    "</Document>",
    "<BkToCstmrStmt>",
    "</BkToCstmrStmt>",
    "<Stmt>",
    "</Stmt>",
    "<Acct><Ccy>GBP</Ccy></Acct>",
    "<Bal>",
    "</Bal>",
    "<Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>",
    "<Ntry>",
    "</Ntry>",
    '<Amt Ccy="GBP">',
    '<Amt Ccy="EUR">',
    "</Amt>",
    "1.00",
    "1.005",
    "-1",
    "<CdtDbtInd>",
    "</CdtDbtInd>",
    "CRDT",
    "DBIT",
    "<Sts>",
    "</Sts>",
    "<Cd>",
    "</Cd>",
    "BOOK",
    "PDNG",
    "INFO",
    "<RvslInd>true</RvslInd>",
    "<BookgDt>",
    "</BookgDt>",
    "<Dt>",
    "</Dt>",
    "<DtTm>",
    "</DtTm>",
    "2024-04-05",
    "2024-02-30",
    "2024-04-05T10:00:00Z",
    "<NtryDtls><TxDtls>",
    "</TxDtls></NtryDtls>",
    '<Ntry><Amt Ccy="GBP">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>',
    "<Sts>BOOK</Sts><BookgDt><Dt>2024-04-05</Dt></BookgDt></Ntry>",
    "&amp;",
    " ",
]
CSV_TOKENS = [
    "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
    "Debit Amount,Credit Amount,Balance\n",
    "Date, Type, Description, Value, Balance, Account Name, Account Number\n",
    "Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n",
    '"Date","Type","Merchant/Description","Debit/Credit","Balance"\n',
    "Date Processed,Description,Amount,\n",
    "05/04/2024",
    "31/02/2024",
    "Pending",
    ",",
    '"',
    "'",
    "\n",
    "\r\n",
    "-12.34",
    "£1,000.00",
    "+£5",
    "12.345",
    "CR",
    "30-99-50",
    "12345678",
    "Arranged Overdraft Limit",
    "x",
]


def token_text(tokens: list[str]) -> st.SearchStrategy[bytes]:
    """Byte strings made of a format's own tokens, so the parser gets past its first check."""
    return st.lists(st.sampled_from(tokens), max_size=60).map(lambda t: "".join(t).encode())


@given(data=token_text(MT940_TOKENS))
def test_mt940_token_soup(data: bytes) -> None:
    parse_or_refuse(data, "x.sta", BankFormat.MT940)


@given(data=token_text(OFX_TOKENS))
def test_ofx_token_soup(data: bytes) -> None:
    parse_or_refuse(data, "x.ofx", BankFormat.OFX)


@given(data=token_text(CAMT_TOKENS))
def test_camt_token_soup(data: bytes) -> None:
    parse_or_refuse(data, "x.xml", BankFormat.CAMT053)


@given(data=token_text(CSV_TOKENS))
def test_csv_token_soup(data: bytes) -> None:
    parse_or_refuse(data, "x.csv", BankFormat.CSV)


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["", "10.00", "1.005", "-1", "GBP", "Credit", "DBIT", "Booked", "PDNG"]),
    st.sampled_from(["2024-04-05T10:00:00Z", "2024-02-30", "Rejected", "x"]),
)
_AMOUNT = st.fixed_dictionaries(
    {}, optional={"Amount": _JSON_SCALARS, "Currency": st.sampled_from(["GBP", "EUR", "gbp", 1])}
)
_TRANSACTION = st.fixed_dictionaries(
    {},
    optional={
        "AccountId": st.sampled_from(["a", "b", "", 7]),
        "TransactionId": _JSON_SCALARS,
        "Amount": st.one_of(_AMOUNT, _JSON_SCALARS),
        "CreditDebitIndicator": _JSON_SCALARS,
        "Status": _JSON_SCALARS,
        "BookingDateTime": _JSON_SCALARS,
        "ValueDateTime": _JSON_SCALARS,
        "Balance": st.fixed_dictionaries(
            {}, optional={"Amount": _AMOUNT, "CreditDebitIndicator": _JSON_SCALARS}
        ),
        "CreditorAccount": st.fixed_dictionaries({}, optional={"Name": _JSON_SCALARS}),
    },
)


@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"Data": st.fixed_dictionaries({"Transaction": st.lists(_TRANSACTION, max_size=5)})}
        ),
        st.recursive(
            _JSON_SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
        ),
    )
)
def test_open_banking_json(body: Any) -> None:
    parse_or_refuse(json.dumps(body).encode(), "x.json", BankFormat.OPEN_BANKING)
