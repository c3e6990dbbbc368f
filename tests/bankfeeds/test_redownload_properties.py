"""A statement downloaded again must give the lines it shares with the first download the same
de-duplication keys, whatever the bank tidied in between.

Each test takes a real-format file from ``../shared/data/bankfeeds``, applies what banks really do
between two downloads of the same days (tidy descriptions, shift running balances because a late
line arrived, list lines in another order, move the statement window), parses both through
:func:`parse_bytes`, and compares the keys. A genuine second identical line on the same day must
get a key of its own. The tests skip when the shared samples are absent.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dpledger.adapters.bankfeeds import (
    BUILTIN_CSV_MAPPINGS,
    BankStatement,
    BankTransaction,
    parse_bytes,
)

pytestmark = pytest.mark.bankfeeds

# --- description tidying, as banks do it between downloads ---------------------------------------

_WORDS = ("REF", "FPS", "PAYMENT", "GB", "ONLINE", "12345", "LONDON")


@st.composite
def tidy(draw: st.DrawFn) -> Callable[[str], str]:
    """One way a bank rewrites a line's text: case, spacing, truncation, or words added."""
    kind = draw(st.sampled_from(["upper", "lower", "title", "spaces", "cut", "words", "same"]))
    words = " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3)))
    keep = draw(st.integers(min_value=1, max_value=30))
    before = draw(st.booleans())

    def apply(text: str) -> str:
        if not text.strip():
            return text
        if kind == "upper":
            return text.upper()
        if kind == "lower":
            return text.lower()
        if kind == "title":
            return text.title()
        if kind == "spaces":
            return "  " + re.sub(r" +", "   ", text) + " "
        if kind == "cut":
            return text[: max(1, min(keep, len(text) - 1))]
        if kind == "words":
            return f"{words} {text}" if before else f"{text} {words}"
        return text

    return apply


def keys(statements: list[BankStatement]) -> list[str]:
    return [t.dedup_key for s in statements for t in s.transactions]


def lines(statements: list[BankStatement]) -> list[BankTransaction]:
    return [t for s in statements for t in s.transactions]


def line_number(transaction: BankTransaction) -> int:
    found = re.match(r"line (\d+)", transaction.source_location)
    assert found, transaction.source_location
    return int(found[1])


# --- CSV exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvSample:
    """Where a sample's columns are (0-based): the text, the amount(s) and the running balance."""

    name: str
    text: tuple[int, ...]
    amounts: tuple[int, ...]
    balance: int | None = None
    mapping: str | None = None
    encoding: str = "utf-8"
    copies_ok: bool = True  # False when a row carries a unique id a copy would repeat


CSV_SAMPLES = [
    CsvSample("ofxstatement-lloyds__sample-statement.csv", (4,), (5, 6), 7),
    CsvSample("countinghouse__natwest.csv", (2,), (3,), 4),
    CsvSample("countinghouse__starling.csv", (1, 2), (4,), 5),
    CsvSample("countinghouse__barclays.csv", (5,), (3,)),
    CsvSample("countinghouse__amex.csv", (1, 4), (2,)),
    CsvSample(
        "nationwide-transaction-parser__test-statement.csv", (1, 2), (3, 4), 5, None, "latin-1"
    ),
    CsvSample("nationwide-transaction-parser__test-midata.csv", (1, 2), (3,), 4, None, "latin-1"),
    CsvSample("bank2ynab__MS_JANE_SMITH_01-12-2019_14-12-2019.csv", (1,), (2,)),
    CsvSample("countinghouse__hsbc.csv", (1,), (2,), None, "hsbc"),
    CsvSample("countinghouse__monzo.csv", (4, 14), (7,), copies_ok=False),
]


@dataclass(frozen=True)
class CsvRow:
    cells: tuple[str, ...]
    day: date | None  # the booking date the parser read from the original row
    quoted: bool


@dataclass(frozen=True)
class CsvFile:
    """A sample split into the lines around its transaction rows and the rows themselves."""

    sample: CsvSample
    bom: bytes
    before: str
    rows: tuple[CsvRow, ...]
    after: str
    newline: str

    def render(self) -> bytes:
        out = io.StringIO()
        quoted = csv.writer(out, lineterminator=self.newline, quoting=csv.QUOTE_ALL)
        plain = csv.writer(out, lineterminator=self.newline)
        for row in self.rows:
            (quoted if row.quoted else plain).writerow(row.cells)
        text = self.before + out.getvalue() + self.after
        return self.bom + text.encode(self.sample.encoding)

    def parse(self) -> list[BankStatement]:
        return parse_csv_sample(self.render(), self.sample)

    def with_rows(self, rows: list[CsvRow]) -> CsvFile:
        return replace(self, rows=tuple(rows))


def parse_csv_sample(data: bytes, sample: CsvSample) -> list[BankStatement]:
    mapping = BUILTIN_CSV_MAPPINGS[sample.mapping] if sample.mapping else None
    return parse_bytes(data, filename=sample.name, csv_mapping=mapping)


def load_csv(samples_dir: Path, sample: CsvSample) -> CsvFile:
    data = (samples_dir / "csv" / sample.name).read_bytes()
    statements = parse_csv_sample(data, sample)
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    physical = data[len(bom) :].decode(sample.encoding).splitlines(keepends=True)
    days = {line_number(t): t.booking_date for t in lines(statements)}
    first, last = min(days), max(days)
    assert set(days) == set(range(first, last + 1)), "transaction rows are contiguous"
    rows = [
        CsvRow(tuple(next(csv.reader([physical[n - 1]]))), days[n], physical[n - 1][:1] == '"')
        for n in range(first, last + 1)
    ]
    newline = "\r\n" if physical[first - 1].endswith("\r\n") else "\n"
    return CsvFile(
        sample, bom, "".join(physical[: first - 1]), tuple(rows), "".join(physical[last:]), newline
    )


_MONEY = re.compile(r"^(?P<sign>[+-]?\s*)(?P<pound>£?)(?P<number>\d[\d,]*(?:\.\d+)?)$")


def money_text(text: str, change: Callable[[Decimal], Decimal]) -> str:
    """``text`` (``"-£2.00"``, ``"1,000.00"``, ``"+£5.00"``) with its signed value changed, written
    the same way."""
    found = _MONEY.match(text.strip().strip("'"))
    assert found, text
    sign = -1 if "-" in found["sign"] else 1
    value = change(sign * Decimal(found["number"].replace(",", "")))
    mark = "-" if value < 0 else ("+" if "+" in found["sign"] else "")
    return f"{mark}{found['pound']}{abs(value):.2f}"


def amount_cell(row: CsvRow, sample: CsvSample) -> int:
    return next(i for i in sample.amounts if row.cells[i].strip())


def with_cell(row: CsvRow, index: int, value: str) -> CsvRow:
    cells = list(row.cells)
    cells[index] = value
    return replace(row, cells=tuple(cells))


def shift_balances(rows: list[CsvRow], sample: CsvSample, day: date, pence: int) -> list[CsvRow]:
    """A late line of ``pence`` on ``day`` moves every running balance from that day on."""
    if sample.balance is None:
        return rows
    index = sample.balance
    return [
        with_cell(r, index, money_text(r.cells[index], lambda v: v + Decimal(pence) / 100))
        if r.day is not None and r.day >= day and r.cells[index].strip()
        else r
        for r in rows
    ]


def csv_files(samples_dir: Path) -> list[CsvFile]:
    return [load_csv(samples_dir, sample) for sample in CSV_SAMPLES]


@pytest.fixture(scope="module")
def csv_originals(samples_dir: Path) -> dict[str, CsvFile]:
    return {f.sample.name: f for f in csv_files(samples_dir)}


csv_names = st.sampled_from([s.name for s in CSV_SAMPLES])


def test_rendering_an_unchanged_csv_sample_gives_the_same_lines(
    csv_originals: dict[str, CsvFile], samples_dir: Path
) -> None:
    # The harness itself: rendering the split file again must parse exactly as the sample does.
    for original in csv_originals.values():
        data = (samples_dir / "csv" / original.sample.name).read_bytes()
        assert keys(original.parse()) == keys(parse_csv_sample(data, original.sample))
        assert len(original.rows) == len(keys(original.parse())) > 0


@given(name=csv_names, data=st.data())
def test_tidied_csv_descriptions_keep_every_key(
    csv_originals: dict[str, CsvFile], name: str, data: st.DataObject
) -> None:
    original = csv_originals[name]
    rows = []
    for row in original.rows:
        for index in original.sample.text:
            row = with_cell(row, index, data.draw(tidy())(row.cells[index]))
        rows.append(row)
    assert keys(original.with_rows(rows).parse()) == keys(original.parse())


@given(name=csv_names, data=st.data())
def test_a_late_same_day_line_moves_balances_but_no_key(
    csv_originals: dict[str, CsvFile], name: str, data: st.DataObject
) -> None:
    original = csv_originals[name]
    sample = original.sample
    dated = [i for i, r in enumerate(original.rows) if r.day is not None]
    source = original.rows[data.draw(st.sampled_from(dated))]
    cell = amount_cell(source, sample)
    bump = data.draw(st.integers(min_value=1, max_value=50000))
    late = with_cell(
        source,
        cell,
        money_text(source.cells[cell], lambda v: v + Decimal(bump if v > 0 else -bump) / 100),
    )
    if not sample.copies_ok:
        late = with_cell(late, 0, f"{late.cells[0]}-late")
    late = replace(
        late, cells=tuple(c if i not in sample.text else "LATE" for i, c in enumerate(late.cells))
    )
    assert late.day is not None
    signed = parse_csv_sample_line(original, late)
    rows = shift_balances(list(original.rows), sample, late.day, signed)
    rows.insert(data.draw(st.integers(min_value=0, max_value=len(rows))), late)

    before, after = Counter(keys(original.parse())), Counter(keys(original.with_rows(rows).parse()))
    assert not before - after  # every line of the first download keeps its key
    assert sum((after - before).values()) == 1  # and the late line has one of its own


def parse_csv_sample_line(original: CsvFile, row: CsvRow) -> int:
    """The signed pence of ``row`` as the parser reads it (amex and card signs differ)."""
    [statement] = original.with_rows([row]).parse()
    [line] = statement.transactions
    return line.signed_pence


@given(name=csv_names, data=st.data())
def test_reordered_csv_lines_keep_every_key(
    csv_originals: dict[str, CsvFile], name: str, data: st.DataObject
) -> None:
    original = csv_originals[name]
    shuffled = data.draw(st.permutations(original.rows))
    assert Counter(keys(original.with_rows(list(shuffled)).parse())) == Counter(
        keys(original.parse())
    )


@given(name=csv_names, data=st.data())
def test_an_overlapping_csv_window_gives_the_shared_days_the_same_keys(
    csv_originals: dict[str, CsvFile], name: str, data: st.DataObject
) -> None:
    original = csv_originals[name]
    days = sorted({r.day for r in original.rows if r.day is not None})
    a, b, c, d = sorted(data.draw(st.lists(st.sampled_from(days), min_size=4, max_size=4)))
    first, second = (a, c), (b, d)  # overlap: b..c

    def window(start: date, end: date) -> list[BankTransaction]:
        kept = [r for r in original.rows if r.day is None or start <= r.day <= end]
        return lines(original.with_rows(kept).parse()) if kept else []

    def shared(found: list[BankTransaction]) -> Counter[str]:
        return Counter(t.dedup_key for t in found if t.booking_date and b <= t.booking_date <= c)

    assert shared(window(*first)) == shared(window(*second))
    assert shared(window(*first))  # the overlap holds lines


@given(name=csv_names, data=st.data())
def test_a_genuine_second_identical_line_gets_its_own_key(
    csv_originals: dict[str, CsvFile], name: str, data: st.DataObject
) -> None:
    original = csv_originals[name]
    sample = original.sample
    if not sample.copies_ok:
        return  # each Monzo row has its own transaction id: no two rows are identical
    dated = [i for i, r in enumerate(original.rows) if r.day is not None]
    where = data.draw(st.sampled_from(dated))
    twin = original.rows[where]
    assert twin.day is not None
    rows = shift_balances(
        list(original.rows), sample, twin.day, parse_csv_sample_line(original, twin)
    )
    rows.insert(where + data.draw(st.sampled_from([0, 1])), twin)

    before, after = Counter(keys(original.parse())), Counter(keys(original.with_rows(rows).parse()))
    assert not before - after
    assert sum((after - before).values()) == 1
    assert len(set(keys(original.with_rows(rows).parse()))) == len(rows)


# --- MT940 ---------------------------------------------------------------------------------------

MT940_SAMPLES = [
    "libmt94x__ming-ing-provided-example-multiple-messages.txt",
    "qoomon-banking-swift__valid-mt940.txt",
    "wolph-mt940__betterplace__sepa_mt9401.sta",
    "wolph-mt940__cmxl__mt940.sta",
    "wolph-mt940__jejik__abnamro.sta",
    "wolph-mt940__jejik__postfinance.sta",
    "wolph-mt940__jejik__rabobank.sta",
    "wolph-mt940__sberbank__171011_01234945.sta",
]
_TAG = re.compile(r"^:(\d{2}[A-Z]?):")


def mt940_blocks(text: str) -> list[list[str] | str]:
    """The file as plain lines and, for each statement line, its ``:61:`` and ``:86:`` lines."""
    out: list[list[str] | str] = []
    block: list[str] | None = None
    for line in text.splitlines(keepends=True):
        tag = _TAG.match(line)
        if tag and tag[1] == "61":
            block = [line]
            out.append(block)
        elif block is not None and (not tag or tag[1] == "86") and not line.startswith("-"):
            block.append(line)
        else:
            block = None
            out.append(line)
    return out


def parse_mt940_text(name: str, parts: list[list[str] | str]) -> list[BankStatement]:
    text = "".join("".join(p) if isinstance(p, list) else p for p in parts)
    return parse_bytes(text.encode(), filename=name, format="mt940")


@pytest.fixture(scope="module")
def mt940_originals(samples_dir: Path) -> dict[str, list[list[str] | str]]:
    return {
        name: mt940_blocks((samples_dir / "mt940" / name).read_bytes().decode())
        for name in MT940_SAMPLES
    }


@given(name=st.sampled_from(MT940_SAMPLES), data=st.data())
def test_tidied_mt940_narrative_keeps_every_key(
    mt940_originals: dict[str, list[list[str] | str]], name: str, data: st.DataObject
) -> None:
    parts = mt940_originals[name]
    tidied: list[list[str] | str] = []
    for part in parts:
        if not isinstance(part, list):
            tidied.append(part)
            continue
        change = data.draw(tidy())
        block, narrative = [part[0]], False
        for line in part[1:]:
            ending = line[len(line.rstrip("\r\n")) :]
            narrative = line.startswith(":86:") or (narrative and not _TAG.match(line))
            if line.startswith(":86:"):
                line = ":86:" + change(line[4:].rstrip("\r\n")).strip() + ending
            elif narrative and line.strip():
                line = change(line.rstrip("\r\n")).strip() + ending
            block.append(line)
        tidied.append(block)
    assert keys(parse_mt940_text(name, tidied)) == keys(parse_mt940_text(name, parts))


@given(name=st.sampled_from(MT940_SAMPLES), data=st.data())
def test_reordered_mt940_lines_keep_every_key(
    mt940_originals: dict[str, list[list[str] | str]], name: str, data: st.DataObject
) -> None:
    parts = mt940_originals[name]
    # Shuffle each run of consecutive statement lines (one statement's lines).
    shuffled: list[list[str] | str] = []
    run: list[list[str]] = []
    for part in [*parts, ""]:
        if isinstance(part, list):
            run.append(part)
            continue
        shuffled.extend(data.draw(st.permutations(run)))
        run = []
        shuffled.append(part)
    assert Counter(keys(parse_mt940_text(name, shuffled))) == Counter(
        keys(parse_mt940_text(name, parts))
    )


@given(name=st.sampled_from(MT940_SAMPLES), data=st.data())
def test_an_identical_mt940_line_gets_its_own_key(
    mt940_originals: dict[str, list[list[str] | str]], name: str, data: st.DataObject
) -> None:
    parts = mt940_originals[name]
    where = data.draw(st.sampled_from([i for i, p in enumerate(parts) if isinstance(p, list)]))
    doubled = [*parts[: where + 1], parts[where], *parts[where + 1 :]]
    before = Counter(keys(parse_mt940_text(name, parts)))
    after = Counter(keys(parse_mt940_text(name, doubled)))
    assert not before - after
    assert sum((after - before).values()) == 1


# --- camt.053, OFX and Open Banking: text and order ----------------------------------------------

CAMT_SAMPLES = [
    "camt_parser-rb__valid_example_v4.xml",
    "camt_parser-rb__valid_example_with_datetime.xml",
    "genkgo-camt__camt053.v2.all-balance-types.xml",
    "genkgo-camt__camt053.v2.five.decimals.xml",
    "genkgo-camt__camt053.v2.multi.statement.xml",
    "iso20022js__goldman_sachs__camt_053_uk_v2_1.xml",
    "iso20022js__ing__example_camt.xml",
]
OFX_SAMPLES = [
    "asgrim-ofxparser__ofx-multiple-accounts-xml.ofx",
    "asgrim-ofxparser__ofxdata-oneline.ofx",
    "countinghouse__statement.ofx",
    "ofxparse__checking.ofx",
]
_CAMT_TEXT = re.compile(r"(<(?:\w+:)?(?:Ustrd|AddtlNtryInf|AddtlTxInf|Nm)>)([^<]+)(</)")
_CAMT_ENTRY = re.compile(r"<(?:\w+:)?Ntry>.*?</(?:\w+:)?Ntry>", re.DOTALL)
_OFX_TEXT = re.compile(r"(<(?:NAME|MEMO)>)([^<\r\n]+)()")
_OFX_ENTRY = re.compile(r"<STMTTRN>.*?</STMTTRN>", re.DOTALL)


def shuffle_runs(text: str, pattern: re.Pattern[str], data: st.DataObject) -> str:
    """``text`` with each run of adjacent ``pattern`` matches (one statement's entries) in a
    drawn order; what lies between runs stays where it is."""
    gaps = pattern.split(text)
    out = [gaps[0]]
    entries: list[str] = []
    between: list[str] = []
    for entry, gap in zip(pattern.findall(text), gaps[1:], strict=True):
        entries.append(entry)
        between.append(gap)
        if gap.strip():  # text other than spacing ends the run
            for moved, after in zip(data.draw(st.permutations(entries)), between, strict=True):
                out += [moved, after]
            entries, between = [], []
    for moved, after in zip(data.draw(st.permutations(entries)), between, strict=True):
        out += [moved, after]
    return "".join(out)


def retext(pattern: re.Pattern[str], text: str, change: Callable[[str], str]) -> str:
    def one(found: re.Match[str]) -> str:
        new = change(html.unescape(found[2]))
        return found[1] + new.replace("&", "&amp;").replace("<", "&lt;") + found[3]

    return pattern.sub(one, text)


@pytest.mark.parametrize(
    ("folder", "names", "text", "entry"),
    [
        ("camt053", CAMT_SAMPLES, _CAMT_TEXT, _CAMT_ENTRY),
        ("ofx", OFX_SAMPLES, _OFX_TEXT, _OFX_ENTRY),
    ],
    ids=["camt053", "ofx"],
)
@given(data=st.data())
def test_tidied_and_reordered_entries_keep_every_key(
    samples_dir: Path,
    folder: str,
    names: list[str],
    text: re.Pattern[str],
    entry: re.Pattern[str],
    data: st.DataObject,
) -> None:
    name = data.draw(st.sampled_from(names))
    original = (samples_dir / folder / name).read_bytes().decode()
    expected = keys(parse_bytes(original.encode(), filename=name))
    tidied = retext(text, original, data.draw(tidy()))
    assert keys(parse_bytes(tidied.encode(), filename=name)) == expected
    reordered = shuffle_runs(original, entry, data)
    assert Counter(keys(parse_bytes(reordered.encode(), filename=name))) == Counter(expected)


OPEN_BANKING = "obuk-docs__v3.1.11__get-transactions-bulk-response.json"


@given(data=st.data())
def test_open_banking_lines_without_an_id_keep_their_keys(
    samples_dir: Path, data: st.DataObject
) -> None:
    # The samples carry TransactionIds; without them the lines are keyed by their day, which
    # must not move when the text, the running balance or the order does.
    body = json.loads((samples_dir / "openbanking" / OPEN_BANKING).read_bytes())
    entries: list[dict[str, Any]] = body["Data"]["Transaction"]
    for entry in entries:
        del entry["TransactionId"]
    expected = keys(parse_bytes(json.dumps(body).encode(), filename=OPEN_BANKING))
    assert all(k.startswith("day:") for k in expected)

    shift = Decimal(data.draw(st.integers(min_value=1, max_value=10**6))) / 100
    for entry in entries:
        entry["TransactionInformation"] = data.draw(tidy())(entry["TransactionInformation"])
        entry["Balance"]["Amount"]["Amount"] = str(
            Decimal(entry["Balance"]["Amount"]["Amount"]) + shift
        )
    body["Data"]["Transaction"] = data.draw(st.permutations(entries))
    changed = keys(parse_bytes(json.dumps(body).encode(), filename=OPEN_BANKING))
    assert Counter(changed) == Counter(expected)

    twin = data.draw(st.sampled_from(entries))
    body["Data"]["Transaction"] = [*entries, dict(twin)]
    doubled = keys(parse_bytes(json.dumps(body).encode(), filename=OPEN_BANKING))
    assert len(set(doubled)) == len(doubled) == len(expected) + 1
