"""Properties of importing: file order and repetition do not matter; damaged files change nothing.

- Any permutation and repetition of a set of overlapping statement files gives the same balances,
  bank lines, suspense items, unexplained outgoings and reconciliation breaks.
- No fuzzed file (random bytes, or a generated or real sample with bytes flipped, inserted or
  deleted) raises anything but ``BankFileError``, and a refused file leaves the account's version
  unchanged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_import_ledger import (
    ACCOUNT,
    ACTOR,
    OPENED,
    Entry,
    bank_events,
    bank_of,
    camt,
    lloyds_csv,
    open_account,
)

from dpledger import Ledger
from dpledger.errors import BankFileError

DAYS = [f"2026-04-{d:02d}" for d in range(6, 31)] + [f"2026-05-{d:02d}" for d in range(1, 21)]

# Lines that each rule can claim without ambiguity: council payments at their due dates
# (2026-04-06 and 2026-05-04, £320), whole weeks of contribution, odd amounts of unexpected
# income and outgoings (never whole weeks of the £20 contribution), and the £200 invoice payment.
COUNCIL = st.sampled_from([("2026-04-06", "KENT CC DP"), ("2026-05-05", "KENT CC DP")])


@st.composite
def statement_lines(draw: st.DrawFn) -> list[tuple[str, str, int]]:
    lines: list[tuple[str, str, int]] = [(day, text, 32000) for day, text in {draw(COUNCIL)}]
    for _ in range(draw(st.integers(0, 3))):
        lines.append((draw(st.sampled_from(DAYS)), "SO P77", 2000 * draw(st.integers(1, 4))))
    odd = st.integers(1, 200).map(lambda n: n * 100 + 37)
    for _ in range(draw(st.integers(0, 4))):
        text = draw(st.sampled_from(["REFUND", "TRANSFER", "GIFT"]))
        lines.append((draw(st.sampled_from(DAYS)), text, draw(odd)))
    for _ in range(draw(st.integers(0, 5))):
        text = draw(st.sampled_from(["CARD SHOP", "PA WAGES", "FEE"]))
        lines.append((draw(st.sampled_from(DAYS)), text, -draw(odd)))
    if draw(st.booleans()):
        lines.append((draw(st.sampled_from(DAYS)), "CARE CO INV-1", -20000))
    if draw(st.booleans()):  # two genuine identical lines on one day
        day = draw(st.sampled_from(DAYS))
        lines += [(day, "PA WAGES", -8037), (day, "PA WAGES", -8037)]
    return sorted(lines)


@st.composite
def files_and_order(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    """Overlapping whole-day windows of one account's lines, and an order with repeats."""
    lines = draw(statement_lines())
    running, rows = 0, []
    for day, text, pence in lines:
        running += pence
        rows.append((day, text, pence, running))
    cuts = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3)))
    # consecutive windows share their boundary day, so neighbouring files overlap
    windows = [(DAYS[0], cuts[0]), *itertools.pairwise(cuts), (cuts[-1], DAYS[-1])]
    as_camt = draw(st.booleans())
    files = []
    for start, end in windows:
        if as_camt:
            # camt keys are the bank's references: identical lines keep distinct references
            entries = [
                Entry(pence, day, ref=f"R{i}", text=text)
                for i, (day, text, pence, _) in enumerate(rows)
                if start <= day <= end
            ]
            files.append(camt(entries, stmt_id=f"{start}-{end}"))
        else:
            files.append(lloyds_csv([r for r in rows if start <= r[0] <= end]))
    order = draw(st.permutations(range(len(files))))
    repeats = draw(st.lists(st.sampled_from(range(len(files))), max_size=3))
    for index in repeats:
        order.insert(draw(st.integers(0, len(order))), index)
    return files, order


def _setup(ledger: Ledger) -> None:
    open_account(ledger)
    day = {"effective_date": OPENED, "actor": ACTOR}
    ledger.register_agency(ACCOUNT, agency_id="AG-1", name="Care Co", **day)
    ledger.receive_invoice(
        ACCOUNT,
        agency_id="AG-1",
        invoice_number="INV-1",
        period_start=OPENED,
        period_end="2026-04-12",
        hours="10",
        rate="20.00",
        total="200.00",
        **day,
    )
    ledger.approve_invoice(ACCOUNT, agency_id="AG-1", invoice_number="INV-1", **day)


def _outcome(ledger: Ledger) -> dict[str, Any]:
    account = ledger.load(ACCOUNT)
    bank = bank_of(ledger)
    stated = [e for e in bank_events(ledger, bank.key) if type(e).__name__ == "BankBalanceStated"]
    return {
        "balances": account.balances,
        "lines": {r.key: (r.booking_date, r.amount, r.event_type) for r in bank.recent_lines()},
        "pending": dict(bank.pending),
        "suspense": Counter(
            (i.received_on, i.amount, i.description, i.status)
            for i in account.suspense_items.values()
        ),
        "outgoings": Counter(
            (i.effective_date, i.amount, i.description, i.status)
            for i in account.unexplained_outgoings.values()
        ),
        "breaks": [
            (b.effective_date, b.asserted, b.difference)
            for b in ledger.reconciliation_breaks(ACCOUNT)
        ],
        "assertions": {(e.effective_date, e.balance) for e in stated},
        "invoices": {k: (i.status, i.paid) for k, i in account.invoices.items()},
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("import-properties")


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(files_and_order())
def test_any_order_and_repetition_of_files_gives_the_same_ledger(
    folder: Path, case: tuple[list[bytes], list[int]]
) -> None:
    files, order = case
    suffix = ".xml" if files[0].startswith(b"<?xml") else ".csv"
    paths = []
    for index, data in enumerate(files):
        path = folder / f"file{index}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    outcomes = []
    for sequence in (list(range(len(files))), order):
        with Ledger.in_memory() as ledger:
            _setup(ledger)
            for index in sequence:
                ledger.import_bank_file(ACCOUNT, paths[index], actor=ACTOR)
            outcomes.append(_outcome(ledger))
    assert outcomes[0] == outcomes[1]


# ----------------------------------------------------------------------------- fuzzing
@pytest.fixture(scope="module")
def fuzz_ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as ledger:
        open_account(ledger)
        yield ledger


def _import_or_refuse(ledger: Ledger, path: Path, format: str | None = None) -> None:
    """Import ``path``; a refusal must be a BankFileError that changed nothing."""
    before = ledger.load(ACCOUNT).version
    try:
        report = ledger.import_bank_file(ACCOUNT, path, actor=ACTOR, format=format)
    except BankFileError:
        assert ledger.load(ACCOUNT).version == before
    else:
        assert report.version_before == before
        assert ledger.load(ACCOUNT).version == report.version_after
        assert len(ledger.events(ACCOUNT)) == report.version_after


FORMATS = st.sampled_from([None, "csv", "ofx", "mt940", "camt053", "openbanking"])


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), format=FORMATS)
def test_random_bytes_are_imported_or_refused_whole(
    fuzz_ledger: Ledger, folder: Path, data: bytes, format: str | None
) -> None:
    path = folder / "random.bin"
    path.write_bytes(data)
    _import_or_refuse(fuzz_ledger, path, format)


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        byte = bytes([draw(st.integers(0, 255))])
        if action == "flip":
            data = data[:at] + byte + data[at + 1 :]
        elif action == "insert":
            data = (
                data[:at] + draw(st.sampled_from([byte, b"9", b"-", b",", b"<", b"\n"])) + data[at:]
            )
        elif action == "delete":
            data = data[:at] + data[at + 1 :]
        else:
            data = data[:at]
    return data


GENERATED = [
    ("g.csv", lloyds_csv([(d, "PA WAGES", -8037, None) for d in DAYS[:12]])),
    (
        "g.xml",
        camt(
            [Entry(32000, "2026-04-06", ref="C"), Entry(-500, "2026-04-08", status="PDNG")],
            opening=(0, "2026-04-06"),
            closing=(32000, "2026-04-06"),
        ),
    ),
]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_statements_are_imported_or_refused_whole(
    fuzz_ledger: Ledger, folder: Path, data: st.DataObject
) -> None:
    name, sample = data.draw(st.sampled_from(GENERATED))
    path = folder / name
    path.write_bytes(_mutate(sample, data.draw))
    _import_or_refuse(fuzz_ledger, path)


@pytest.mark.bankfeeds
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_real_samples_are_imported_or_refused_whole(
    samples_dir: Path, folder: Path, data: st.DataObject
) -> None:
    samples = sorted(p for p in samples_dir.rglob("*") if p.is_file() and p.suffix != ".md")
    sample = data.draw(st.sampled_from(samples))
    path = folder / sample.name
    path.write_bytes(_mutate(sample.read_bytes(), data.draw))
    with Ledger.in_memory() as ledger:
        open_account(ledger, opened="2000-01-01")  # before the samples' dates, so lines import
        _import_or_refuse(ledger, path)
