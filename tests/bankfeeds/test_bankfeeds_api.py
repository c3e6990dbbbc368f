"""The package entry points: format detection, ``parse_file`` and ``parse_bytes``."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

import dpledger.adapters.bankfeeds as bankfeeds
from dpledger.adapters.bankfeeds import (
    BUILTIN_CSV_MAPPINGS,
    BankFileError,
    BankFormat,
    detect_format,
    parse_bytes,
    parse_file,
)
from dpledger.errors import BankFileError as PublicBankFileError

STARLING = (
    b"Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n"
    b"05/04/2024,J BLOGGS,WAGES,FASTER PAYMENT,-80.00,920.00,,\n"
)


def test_bank_file_error_is_the_public_one() -> None:
    assert BankFileError is PublicBankFileError


@pytest.mark.bankfeeds
def test_every_sample_is_detected_by_its_content(samples_dir: Path) -> None:
    for folder in ("camt053", "mt940", "ofx", "openbanking"):
        for path in (samples_dir / folder).iterdir():
            assert detect_format(path.read_bytes()) == BankFormat(folder), path.name


@pytest.mark.bankfeeds
def test_csv_has_no_signature_so_the_extension_decides(samples_dir: Path) -> None:
    for path in (samples_dir / "csv").iterdir():
        assert detect_format(path.read_bytes()) is None, path.name
        assert detect_format(path.read_bytes(), path.name) is BankFormat.CSV


def test_unknown_content_without_extension_is_read_as_csv() -> None:
    [statement] = parse_bytes(STARLING, filename="download")
    assert statement.format is BankFormat.CSV


def test_explicit_format_skips_detection() -> None:
    with pytest.raises(BankFileError, match="no <OFX> element"):
        parse_bytes(STARLING, filename="x.csv", format="ofx")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(BankFileError, match="unknown format 'qif'"):
        parse_bytes(STARLING, filename="x.qif", format="qif")


def test_csv_mapping_means_csv() -> None:
    data = b"01/09/2026,TESCO,-12.34\n"
    [statement] = parse_bytes(data, filename="x.txt", csv_mapping=BUILTIN_CSV_MAPPINGS["hsbc"])
    assert statement.transactions[0].amount.pence == 1234
    with pytest.raises(BankFileError, match="CSV mapping"):
        parse_bytes(data, filename="x", format="mt940", csv_mapping=BUILTIN_CSV_MAPPINGS["hsbc"])


def test_utf16_export_with_byte_order_mark() -> None:
    data = codecs.BOM_UTF16_LE + STARLING.decode().encode("utf-16-le")
    [statement] = parse_bytes(data, filename="starling.csv")
    assert statement.transactions[0].running_balance is not None


def test_parse_file_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "starling.csv"
    path.write_bytes(STARLING)
    [statement] = parse_file(str(path))
    assert statement.source_file == "starling.csv"


def test_missing_file_is_a_bank_file_error(tmp_path: Path) -> None:
    with pytest.raises(BankFileError, match="cannot read the file") as refused:
        parse_file(tmp_path / "nowhere.csv")
    assert refused.value.file == "nowhere.csv"


def test_directory_is_a_bank_file_error(tmp_path: Path) -> None:
    with pytest.raises(BankFileError, match="cannot read the file"):
        parse_file(tmp_path)


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(STARLING)
    monkeypatch.setattr(bankfeeds, "MAX_FILE_BYTES", 10)
    with pytest.raises(BankFileError, match="more than the 10"):
        parse_file(path)


def test_error_message_names_file_location_reason_and_fix() -> None:
    with pytest.raises(BankFileError) as refused:
        parse_bytes(STARLING.replace(b"05/04/2024", b"05/13/2024"), filename="april.csv")
    text = str(refused.value)
    assert text.startswith("april.csv, line 2, column 'Date': '05/13/2024' is not a date")
