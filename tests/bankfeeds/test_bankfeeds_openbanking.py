"""UK Open Banking OBReadTransaction6: the shared samples and hand-made edge cases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dpledger.adapters.bankfeeds import (
    BankFileError,
    BankFormat,
    Direction,
    EntryStatus,
    parse_file,
    parse_open_banking,
)


def line(**changes: Any) -> dict[str, Any]:
    """One v3.1 transaction, changed by ``changes`` (a value of ``None`` removes the key)."""
    transaction: dict[str, Any] = {
        "AccountId": "acc-1",
        "TransactionId": "tx-1",
        "TransactionReference": "WAGES APRIL",
        "Amount": {"Amount": "145.00", "Currency": "GBP"},
        "CreditDebitIndicator": "Debit",
        "Status": "Booked",
        "BookingDateTime": "2024-04-05T09:00:00+01:00",
        "TransactionInformation": "PA WAGES",
        "CreditorAccount": {"Name": "J Bloggs"},
    }
    transaction.update(changes)
    return {k: v for k, v in transaction.items() if v is not None}


def response(*transactions: dict[str, Any]) -> bytes:
    """A transactions response body."""
    return json.dumps({"Data": {"Transaction": list(transactions)}, "Links": {}}).encode()


# --- the shared samples -------------------------------------------------------------------------

SAMPLE_DIR = "openbanking"

# file -> (transactions per account, first line (date, pence, direction, key), closing pence)
IMPORTED = {
    "obuk-docs__v3.1.11__get-account-transactions-response.json": (
        {"22289": 1},
        (date(2017, 4, 5), 1000, Direction.CREDIT, "id:123"),
        23000,
    ),
    "obuk-docs__v3.1.11__get-transactions-bulk-response.json": (
        {"22289": 1, "31820": 1},
        (date(2017, 4, 5), 1000, Direction.CREDIT, "id:123"),
        23000,
    ),
}

# file -> (words the reason must contain, location)
REFUSED = {
    "obuk-docs__v3.1.11__get-accounts-response.json": ("accounts response", "field /Data/Account"),
    "obuk-docs__v3.1.11__get-balances-response.json": (
        "balances response",
        "field /Data/Balance",
    ),
    "obuk-docs__v3.1.11__get-statements-response.json": (
        "statements response",
        "field /Data/Statement",
    ),
    "obuk-docs__v4.0__get-balances-response.json": (
        "Expecting property name",
        "line 10, column 9",
    ),
    "obuk-docs__v4.0__get-transactions-bulk-response.json": (
        "raw control character",
        "line 118, column 30",
    ),
}


@pytest.mark.bankfeeds
def test_every_open_banking_sample_has_an_expectation(samples_dir: Path) -> None:
    names = {p.name for p in (samples_dir / SAMPLE_DIR).iterdir()}
    assert names == set(IMPORTED) | set(REFUSED)


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_open_banking_sample_imports(samples_dir: Path, name: str) -> None:
    counts, first_line, closing = IMPORTED[name]
    statements = parse_file(samples_dir / SAMPLE_DIR / name)
    assert {s.account_id: len(s.transactions) for s in statements} == counts
    assert statements[0].format is BankFormat.OPEN_BANKING
    first = statements[0].transactions[0]
    assert (first.booking_date, first.amount.pence, first.direction, first.dedup_key) == first_line
    assert statements[0].closing_balance is not None
    assert statements[0].closing_balance.balance.pence == closing


@pytest.mark.bankfeeds
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_open_banking_sample_is_refused(samples_dir: Path, name: str) -> None:
    words, location = REFUSED[name]
    with pytest.raises(BankFileError) as refused:
        parse_file(samples_dir / SAMPLE_DIR / name)
    assert words in refused.value.reason
    assert refused.value.location == location


@pytest.mark.bankfeeds
def test_debit_running_balance_is_negative(samples_dir: Path) -> None:
    name = "obuk-docs__v3.1.11__get-transactions-bulk-response.json"
    _, gas = parse_file(samples_dir / SAMPLE_DIR / name)
    [line] = gas.transactions
    assert (line.direction, line.amount.pence) == (Direction.DEBIT, 10000)
    assert line.running_balance is not None
    assert line.running_balance.pence == -5736
    assert line.end_to_end_id == "Ref 124"  # TransactionReference: kept, not used as the key


@pytest.mark.bankfeeds
def test_v4_bulk_response_once_the_raw_tab_is_removed(samples_dir: Path) -> None:
    data = samples_dir / SAMPLE_DIR / "obuk-docs__v4.0__get-transactions-bulk-response.json"
    fixed = data.read_bytes().replace(b'"\tVISA"', b'"VISA"')
    first, second = parse_open_banking(fixed, filename="v4.json")
    assert first.transactions[0].status is EntryStatus.BOOKED  # "BOOK"
    assert first.transactions[0].counterparty == "Mr Juniper"  # DebtorAccount.Name of a credit
    assert first.transactions[0].running_balance is not None  # Type "ITBD"
    assert second.transactions[0].direction is Direction.DEBIT


# --- hand-made edge cases -----------------------------------------------------------------------


def test_pending_v31_and_v4_are_kept_as_pending() -> None:
    data = response(
        line(Status="Pending", TransactionId=None),
        line(Status="PDNG", TransactionId=None, CreditDebitIndicator="DBIT"),
        line(Status="Booked"),
    )
    [statement] = parse_open_banking(data, filename="x.json")
    pending_1, pending_2, booked = statement.transactions
    assert (pending_1.status, pending_2.status, booked.status) == (
        EntryStatus.PENDING,
        EntryStatus.PENDING,
        EntryStatus.BOOKED,
    )
    assert pending_2.direction is Direction.DEBIT
    # Identical pending lines without a TransactionId still get distinct keys.
    assert pending_1.dedup_key.endswith("#0")
    assert pending_2.dedup_key.endswith("#1")
    assert booked.dedup_key == "id:tx-1"
    assert booked.counterparty == "J Bloggs"


def test_v4_credit_indicator_and_status() -> None:
    [statement] = parse_open_banking(
        response(line(Status="BOOK", CreditDebitIndicator="CRDT")), filename="x.json"
    )
    assert statement.transactions[0].direction is Direction.CREDIT


def test_rejected_transaction_is_skipped_and_listed() -> None:
    [statement] = parse_open_banking(
        response(line(Status="Rejected", TransactionId="r"), line()), filename="x.json"
    )
    assert len(statement.transactions) == 1
    assert [s.location for s in statement.skipped] == ["field /Data/Transaction/0"]


def test_third_decimal_place_is_refused() -> None:
    amount = {"Amount": "145.005", "Currency": "GBP"}
    with pytest.raises(BankFileError) as refused:
        parse_open_banking(response(line(), line(Amount=amount)), filename="x.json")
    assert refused.value.location == "field /Data/Transaction/1/Amount/Amount"
    assert "more than two decimal places" in refused.value.reason


def test_amount_must_be_a_string() -> None:
    with pytest.raises(BankFileError, match="non-empty string") as refused:
        parse_open_banking(
            b'{"Data": {"Transaction": [{"AccountId": "a", "Status": "Booked",'
            b' "Amount": {"Amount": 10.5, "Currency": "GBP"}}]}}',
            filename="x.json",
        )
    assert refused.value.location == "field /Data/Transaction/0/Amount/Amount"


def test_negative_amount_is_refused() -> None:
    amount = {"Amount": "-1.00", "Currency": "GBP"}
    with pytest.raises(BankFileError, match="not an unsigned amount"):
        parse_open_banking(response(line(Amount=amount)), filename="x.json")


def test_missing_booking_date_names_the_field() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_open_banking(response(line(), line(BookingDateTime=None)), filename="x.json")
    assert refused.value.location == "field /Data/Transaction/1/BookingDateTime"


def test_bad_booking_date_is_refused() -> None:
    with pytest.raises(BankFileError, match="not a valid date"):
        parse_open_banking(response(line(BookingDateTime="2024-02-30T10:00:00Z")), filename="x")


def test_unknown_indicator_is_refused() -> None:
    with pytest.raises(BankFileError, match="not Credit or Debit"):
        parse_open_banking(response(line(CreditDebitIndicator="In")), filename="x.json")


def test_duplicate_key_is_refused() -> None:
    data = b'{"Data": {"Transaction": [], "Transaction": []}}'
    with pytest.raises(BankFileError, match="appears twice"):
        parse_open_banking(data, filename="x.json")


def test_truncated_json_is_refused_with_line_and_column() -> None:
    data = response(line())
    with pytest.raises(BankFileError) as refused:
        parse_open_banking(data[:-20], filename="x.json")
    assert refused.value.location is not None
    assert refused.value.location.startswith("line 1, column")


def test_wrong_encoding_is_refused() -> None:
    data = response(line(TransactionInformation="CAFE")).replace(b"CAFE", b"CAF\xc9")
    with pytest.raises(BankFileError, match="not valid utf-8"):
        parse_open_banking(data, filename="x.json")


def test_nan_is_refused() -> None:
    with pytest.raises(BankFileError, match="NaN"):
        parse_open_banking(b'{"Data": {"Transaction": [], "x": NaN}}', filename="x.json")


def test_not_open_banking_is_refused() -> None:
    with pytest.raises(BankFileError, match='no "Data" object'):
        parse_open_banking(b"[1, 2]", filename="x.json")


def test_empty_response_gives_no_statements() -> None:
    assert parse_open_banking(response(), filename="x.json") == []


def test_account_with_only_rejected_lines_keeps_them_listed() -> None:
    [statement] = parse_open_banking(response(line(Status="RJCT")), filename="x.json")
    assert statement.transactions == ()
    assert statement.currency == "GBP"
    assert len(statement.skipped) == 1
