"""Importing bank statements into a managed account through the Ledger API.

The account ``DP-1`` is opened on 2026-04-06 with a budget of £100.00 a week gross and £20.00 a
week contribution (net basis, four-weekly): £320.00 council payments due every 28 days from
2026-04-06, £80.00 contributions. The statements are written by the small builders here (a
Lloyds CSV export and camt.053), so each test shows the lines it imports.

The money is recorded on the managed account by the same commands a hand entry runs; the lines,
pending lines and stated balances are on the bank account the statement names (its own
aggregate: :func:`bank_of`). The first identified statement names that bank account on the
managed account (``BankAccountNamed``, version 3 here), before the lines' events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dpledger import Ledger, LedgerAccount, Money
from dpledger.adapters import keyindex
from dpledger.application.session import Session
from dpledger.domain.account import account_uuid
from dpledger.domain.bank import BankAccount, bank_account_uuid
from dpledger.domain.keys import AWAITING_PREFIX, awaiting_key
from dpledger.domain.records import OutgoingStatus, SuspenseStatus
from dpledger.errors import BankFileError, IdempotencyConflict, InvalidTransition

ACCOUNT = "DP-1"
ACTOR = "importer-1"
OPENED = "2026-04-06"
LLOYDS = "30-99-50 12345678"
"""The bank account of :func:`lloyds_csv`'s rows."""
NATWEST = "60-16-13 31926819"
"""The bank account of :func:`camt`'s statements (the IBAN GB29NWBK60161331926819)."""


# ----------------------------------------------------------------------------- builders
def lloyds_csv(rows: Sequence[tuple[str, str, int, int | None]]) -> bytes:
    """A Lloyds export: rows of (ISO date, description, signed pence, running balance pence)."""
    out = [
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance"
    ]
    for day, text, pence, balance in rows:
        y, m, d = day.split("-")
        debit = f"{-pence / 100:.2f}" if pence < 0 else ""
        credit = f"{pence / 100:.2f}" if pence > 0 else ""
        bal = "" if balance is None else f"{balance / 100:.2f}"
        out.append(f"{d}/{m}/{y},FPI,'30-99-50,12345678,{text},{debit},{credit},{bal}")
    return ("\n".join(out) + "\n").encode()


@dataclass(frozen=True)
class Entry:
    """One camt.053 entry: signed pence, booking date, and the rest."""

    pence: int
    day: str
    ref: str | None = None
    text: str = "PAYMENT"
    status: str = "BOOK"
    reversal: bool = False


def _amount(pence: int) -> str:
    return f"{abs(pence) // 100}.{abs(pence) % 100:02d}"


def camt(
    entries: Sequence[Entry],
    *,
    opening: tuple[int, str] | None = None,
    closing: tuple[int, str] | None = None,
    stmt_id: str = "S-1",
) -> bytes:
    """A camt.053.001.08 statement with ``entries`` and optional (pence, date) balances."""

    def balance(code: str, pence: int, day: str) -> str:
        side = "CRDT" if pence >= 0 else "DBIT"
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="GBP">{_amount(pence)}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<Dt><Dt>{day}</Dt></Dt></Bal>"
        )

    parts = []
    if opening is not None:
        parts.append(balance("OPBD", *opening))
    if closing is not None:
        parts.append(balance("CLBD", *closing))
    for e in entries:
        side = "CRDT" if e.pence > 0 else "DBIT"
        booked = f"<BookgDt><Dt>{e.day}</Dt></BookgDt>" if e.status == "BOOK" else ""
        value = f"<ValDt><Dt>{e.day}</Dt></ValDt>"
        ref = f"<AcctSvcrRef>{e.ref}</AcctSvcrRef>" if e.ref else ""
        rvsl = "<RvslInd>true</RvslInd>" if e.reversal else ""
        parts.append(
            f'<Ntry><Amt Ccy="GBP">{_amount(e.pence)}</Amt><CdtDbtInd>{side}</CdtDbtInd>{rvsl}'
            f"<Sts><Cd>{e.status}</Cd></Sts>{booked}{value}{ref}"
            f"<AddtlNtryInf>{e.text}</AddtlNtryInf></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>T</MsgId><CreDtTm>2026-04-06T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{stmt_id}</Id><Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id>"
        f"<Ccy>GBP</Ccy></Acct>{''.join(parts)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def open_account(
    ledger: Ledger, account_id: str = ACCOUNT, opened: str = OPENED, **policy: Any
) -> None:
    """Open the account with its budget (see the module docstring)."""
    ledger.open_account(
        account_id,
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date=opened,
        actor=ACTOR,
        policy=policy or None,
    )
    ledger.agree_budget(
        account_id,
        weekly_gross="100.00",
        weekly_contribution="20.00",
        effective_date=opened,
        actor=ACTOR,
    )


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as the_ledger:
        open_account(the_ledger)
        yield the_ledger


def version(ledger: Ledger) -> int:
    return ledger.account(ACCOUNT).version


def bank_of(ledger: Ledger, account_id: str = ACCOUNT) -> BankAccount:
    """The bank account the account's money is held in, as stored."""
    key = ledger.account(account_id).bank_account
    assert key is not None, "the account has named no bank account"
    bank = Session(ledger.application).bank(key)
    assert bank is not None, f"bank account {key} is not stored"
    return bank


def bank_events(ledger: Ledger, key: str) -> list[Any]:
    """Every stored event of the bank account ``key``."""
    return list(ledger.application.events.get(bank_account_uuid(key)))


APRIL = [
    ("2026-04-06", "KENT CC DIRECT PAYMENT", 32000, 32000),
    ("2026-04-07", "SO P77 CONTRIBUTION", 8000, 40000),
    ("2026-04-08", "PA WAGES", -8000, 32000),
    ("2026-04-08", "PA WAGES", -8000, 24000),
    ("2026-04-09", "REFUND ACME", 1234, 25234),
]


# ----------------------------------------------------------------------------- matching
def test_a_statement_is_matched_line_by_line_with_reasons(ledger: Ledger, write: Any) -> None:
    report = ledger.import_bank_file(ACCOUNT, write("april.csv", lloyds_csv(APRIL)), actor=ACTOR)

    matches = [(line.booking_date.isoformat(), line.match) for line in report.recorded]  # type: ignore[union-attr]
    assert matches == [
        ("2026-04-06", "council_payment"),
        ("2026-04-07", "contribution"),
        ("2026-04-08", "unexpected_outgoing"),
        ("2026-04-08", "unexpected_outgoing"),
        ("2026-04-09", "unexpected_income"),
    ]
    reasons = [line.reason for line in report.recorded]
    assert "council payment due 2026-04-06 (£80.00/week x 4 weeks)" in reasons[0]
    assert "4 week(s) of the £20.00 weekly contribution" in reasons[1]
    assert "held as an unexpected outgoing" in reasons[2]
    assert "held in suspense as unexpected income" in reasons[4]
    state = ledger.account(ACCOUNT)
    assert state.balances[LedgerAccount.BANK] == Money("252.34")
    assert state.balances[LedgerAccount.COUNCIL_INCOME] == Money("-320.00")
    assert state.balances[LedgerAccount.CONTRIBUTION_INCOME] == Money("-80.00")
    assert state.balances[LedgerAccount.SUSPENSE] == Money("-12.34")
    assert state.balances[LedgerAccount.UNEXPLAINED_OUTGOING] == Money("160.00")
    held = ledger.unexplained_outgoings(ACCOUNT)
    assert sorted(held) == ["U6", "U7"]  # versions 6 and 7: BankAccountNamed is version 3
    assert all(item.status is OutgoingStatus.HELD for item in held.values())
    assert {item.description for item in held.values()} == {"PA WAGES"}
    # the statement named the bank account, before the lines' events
    events = ledger.events(ACCOUNT)
    assert type(events[2]).__name__ == "BankAccountNamed"
    assert ledger.account(ACCOUNT).bank_account == LLOYDS
    # the reason is stored on the event itself, for auditors
    assert "council payment due" in str(events[3].reason)
    assert str(events[3].command_key) == "bank:day:2026-04-06:credit:32000:GBP#0"
    # the bank account holds each line, naming the account's event that recorded its money
    bank = bank_of(ledger)
    assert report.bank_account == LLOYDS
    assert sorted((r.version, r.account_id) for r in bank.recent_lines()) == [
        (v, ACCOUNT) for v in range(4, 9)
    ]


def test_the_same_file_twice_records_nothing_new(ledger: Ledger, write: Any) -> None:
    path = write("april.csv", lloyds_csv(APRIL))
    first = ledger.import_bank_file(ACCOUNT, path, actor=ACTOR)
    before = ledger.load(ACCOUNT)

    again = ledger.import_bank_file(ACCOUNT, path, actor="someone-else")

    assert not first.nothing_new
    assert again.nothing_new
    assert len(again.already_imported) == 5
    assert "Nothing new" in again.render()
    assert ledger.load(ACCOUNT) == before
    # nothing on the bank account either
    assert again.bank_version_after == again.bank_version_before == first.bank_version_after
    assert len(bank_events(ledger, LLOYDS)) == first.bank_version_after


def test_overlapping_statements_import_each_line_once(ledger: Ledger, write: Any) -> None:
    ledger.import_bank_file(ACCOUNT, write("a.csv", lloyds_csv(APRIL[:4])), actor=ACTOR)
    report = ledger.import_bank_file(ACCOUNT, write("b.csv", lloyds_csv(APRIL[2:])), actor=ACTOR)

    assert len(report.already_imported) == 2
    assert len(report.recorded) == 1
    assert ledger.bank_balance(ACCOUNT) == Money("252.34")
    assert len(bank_of(ledger).recent_lines()) == 5


def test_two_identical_wage_payments_on_one_day_both_survive(ledger: Ledger, write: Any) -> None:
    same = [("2026-04-08", "PA WAGES", -8000, None), ("2026-04-08", "PA WAGES", -8000, None)]
    ledger.import_bank_file(ACCOUNT, write("a.csv", lloyds_csv(same)), actor=ACTOR)
    ledger.import_bank_file(ACCOUNT, write("again.csv", lloyds_csv(same)), actor=ACTOR)

    lines = bank_of(ledger).recent_lines()
    assert len(lines) == 2
    assert sorted(line.key[-2:] for line in lines) == ["#0", "#1"]
    assert ledger.bank_balance(ACCOUNT) == Money("-160.00")  # the bank is the truth


# ----------------------------------------------------------------------------- all or nothing
def test_a_malformed_file_is_refused_naming_the_line_and_nothing_is_recorded(
    ledger: Ledger, write: Any
) -> None:
    rows = [(f"2026-04-{6 + i:02d}", f"LINE {i}", 100 + i, None) for i in range(12)]
    text = lloyds_csv(rows).decode().splitlines()
    text[9] = text[9].replace("1.08", "1.0x8")  # the 9th data row, line 10 of the file
    before = version(ledger)

    with pytest.raises(BankFileError) as refused:
        ledger.import_bank_file(ACCOUNT, write("bad.csv", "\n".join(text).encode()), actor=ACTOR)

    assert refused.value.file == "bad.csv"
    assert str(refused.value.location).startswith("line 10")
    assert version(ledger) == before


def test_a_file_whose_tenth_line_conflicts_is_refused_whole(ledger: Ledger, write: Any) -> None:
    ledger.import_bank_file(
        ACCOUNT, write("first.xml", camt([Entry(5000, "2026-04-10", ref="R-10")])), actor=ACTOR
    )
    before = ledger.load(ACCOUNT)
    entries = [Entry(100 + i, f"2026-04-{11 + i:02d}", ref=f"N-{i}") for i in range(9)]
    entries.append(Entry(5001, "2026-04-10", ref="R-10"))  # the same reference, another amount

    with pytest.raises(IdempotencyConflict) as refused:
        ledger.import_bank_file(ACCOUNT, write("second.xml", camt(entries)), actor=ACTOR)

    assert "second.xml" in str(refused.value)
    assert "Ntry[10]" in str(refused.value)
    assert ledger.load(ACCOUNT) == before


def test_a_file_in_another_currency_or_for_two_bank_accounts_is_refused(
    ledger: Ledger, write: Any
) -> None:
    two = lloyds_csv(APRIL[:1]) + b"06/04/2026,FPI,'30-99-51,87654321,X,,1.00,\n"
    with pytest.raises(BankFileError, match="2 bank accounts"):
        ledger.import_bank_file(ACCOUNT, write("two.csv", two), actor=ACTOR)
    report = ledger.import_bank_file(
        ACCOUNT, write("two.csv", two), actor=ACTOR, bank_account="30-99-50 12345678"
    )
    assert len(report.recorded) == 1
    euro = camt([Entry(100, "2026-04-07")]).replace(b'Ccy="GBP"', b'Ccy="EUR"')
    euro = euro.replace(b"<Ccy>GBP</Ccy>", b"<Ccy>EUR</Ccy>")
    with pytest.raises(BankFileError, match="in EUR"):
        ledger.import_bank_file(ACCOUNT, write("eur.xml", euro), actor=ACTOR)


# ----------------------------------------------------------------------------- money out
def _agency_invoices(ledger: Ledger, *numbers: str, total: str = "200.00") -> None:
    day = {"effective_date": OPENED, "actor": ACTOR}
    ledger.receive_council_payment(ACCOUNT, amount="1000.00", **day)
    ledger.register_agency(ACCOUNT, agency_id="AG-1", name="Care Co", **day)
    for number in numbers:
        ledger.receive_invoice(
            ACCOUNT,
            agency_id="AG-1",
            invoice_number=number,
            period_start=OPENED,
            period_end="2026-04-12",
            hours="10",
            rate=str(Money(total).amount / 10),
            total=total,
            **day,
        )
        ledger.approve_invoice(ACCOUNT, agency_id="AG-1", invoice_number=number, **day)


def test_a_debit_pays_the_invoice_its_text_names(ledger: Ledger, write: Any) -> None:
    _agency_invoices(ledger, "INV-1", "INV-2")
    data = camt([Entry(-20000, "2026-04-14", ref="D1", text="CARE CO INV-2")])

    report = ledger.import_bank_file(ACCOUNT, write("d.xml", data), actor=ACTOR)

    (line,) = report.recorded
    assert line.event_type == "InvoicePaid"
    assert "pays invoice INV-2" in line.reason
    assert "names the invoice number and agency name" in line.reason
    assert "2 liabilities owed £200.00, the bank's text decided" in line.reason
    state = ledger.account(ACCOUNT)
    assert state.invoices["AG-1/INV-2"].status.value == "paid"
    assert state.invoices["AG-1/INV-1"].status.value == "approved"


def test_a_debit_confirms_a_payment_recorded_by_hand(ledger: Ledger, write: Any) -> None:
    _agency_invoices(ledger, "INV-1")
    paid = ledger.pay_invoice(
        ACCOUNT,
        agency_id="AG-1",
        invoice_number="INV-1",
        amount="200.00",
        bank_reference="BACS-77",
        effective_date="2026-04-13",
        actor=ACTOR,
    )
    data = camt([Entry(-20000, "2026-04-15", ref="D1", text="BACS-77 CARE CO")])

    report = ledger.import_bank_file(ACCOUNT, write("d.xml", data), actor=ACTOR)

    (line,) = report.recorded
    assert line.match == "confirms"
    assert line.event_type == "BankLineConfirmed"
    assert f"confirms InvoicePaid (event {paid.version})" in line.reason
    assert "2 day(s) apart" in line.reason
    assert "reference 'BACS-77' matches" in line.reason
    assert ledger.bank_balance(ACCOUNT) == Money("800.00")  # nothing posted twice
    record = bank_of(ledger).line("ref:D1")
    assert record is not None
    assert record.target_version == paid.version
    assert record.version == line.version
    # confirmed: no longer among the movements a bank line could still confirm
    awaiting = keyindex.lookup_prefix(
        ledger.application.recorder, account_uuid(ACCOUNT), AWAITING_PREFIX
    )
    assert awaiting_key(paid.version) not in awaiting


def test_wages_hmrc_and_pension_are_matched_from_the_bank(ledger: Ledger, write: Any) -> None:
    day = {"effective_date": OPENED, "actor": ACTOR}
    ledger.receive_council_payment(ACCOUNT, amount="1000.00", **day)
    ledger.register_personal_assistant(ACCOUNT, pa_id="PA-1", hourly_rate="12.71", **day)
    ledger.record_wage_run(
        ACCOUNT,
        pa_id="PA-1",
        period_start=OPENED,
        period_end="2026-04-12",
        hours="39.34",
        gross="500.00",
        paye="40.00",
        employee_ni="20.00",
        employer_ni="30.00",
        employee_pension="25.00",
        employer_pension="15.00",
        net="415.00",
        **day,
    )
    data = camt(
        [
            Entry(-41500, "2026-04-13", ref="W", text="PA-1 WAGES"),
            Entry(-9000, "2026-04-22", ref="H", text="HMRC CUMBERNAULD"),
            Entry(-4000, "2026-04-23", ref="P", text="NEST PENSIONS"),
        ]
    )

    report = ledger.import_bank_file(ACCOUNT, write("out.xml", data), actor=ACTOR)

    assert [line.event_type for line in report.recorded] == [
        "NetWagesPaid",
        "HmrcPaid",
        "PensionPaid",
    ]
    assert "net wages owed to PA-1" in report.recorded[0].reason
    assert "the bank's text says HMRC" in report.recorded[1].reason
    assert ledger.account(ACCOUNT).unpaid_liabilities == Money(0)


# ----------------------------------------------------------------------------- pending, reversal
def test_a_pending_line_is_remembered_then_replaced_by_its_booked_line(
    ledger: Ledger, write: Any
) -> None:
    pending = camt([Entry(-6000, "2026-04-08", text="CARD SHOP", status="PDNG")])
    report = ledger.import_bank_file(ACCOUNT, write("p.xml", pending), actor=ACTOR)
    assert report.pending_changed
    assert not report.nothing_new
    assert [line.status for line in report.lines] == ["pending"]
    (noted,) = bank_of(ledger).pending.values()
    assert (noted.amount, noted.description) == (Money("-60.00"), "CARD SHOP")
    assert ledger.bank_balance(ACCOUNT) == Money(0)  # pending lines post nothing
    again = ledger.import_bank_file(ACCOUNT, write("p.xml", pending), actor=ACTOR)
    assert again.nothing_new
    assert not again.pending_changed

    booked = camt([Entry(-6000, "2026-04-09", ref="B-1", text="CARD SHOP")])
    ledger.import_bank_file(ACCOUNT, write("b.xml", booked), actor=ACTOR)

    assert dict(bank_of(ledger).pending) == {}
    assert ledger.bank_balance(ACCOUNT) == Money("-60.00")
    # the older pending file again changes nothing: the booked line settled it
    assert ledger.import_bank_file(ACCOUNT, write("p.xml", pending), actor=ACTOR).nothing_new


def test_a_later_statement_replaces_pending_lines_only_for_the_days_it_covers(
    ledger: Ledger, write: Any
) -> None:
    seen = camt(
        [
            Entry(-6000, "2026-04-08", text="CARD SHOP", status="PDNG"),
            Entry(-700, "2026-04-12", text="CAFE", status="PDNG"),
        ]
    )
    ledger.import_bank_file(ACCOUNT, write("p.xml", seen), actor=ACTOR)
    assert sorted(p.description for p in bank_of(ledger).pending.values()) == ["CAFE", "CARD SHOP"]

    # booked lines from 2026-04-10 on: the bank would list CAFE if it were still pending, but
    # this statement says nothing of 2026-04-08
    later = camt([Entry(-100, "2026-04-10", ref="F1"), Entry(-200, "2026-04-14", ref="F2")])
    report = ledger.import_bank_file(ACCOUNT, write("later.xml", later), actor=ACTOR)
    assert report.pending_changed
    assert [p.description for p in bank_of(ledger).pending.values()] == ["CARD SHOP"]
    assert ledger.import_bank_file(ACCOUNT, write("later.xml", later), actor=ACTOR).nothing_new
    assert ledger.import_bank_file(ACCOUNT, write("p.xml", seen), actor=ACTOR).nothing_new

    # a later statement that lists pending lines lists all there are: it replaces the set
    newest = camt([Entry(-50, "2026-04-20", text="BUS", status="PDNG")])
    assert ledger.import_bank_file(ACCOUNT, write("n.xml", newest), actor=ACTOR).pending_changed
    assert [p.description for p in bank_of(ledger).pending.values()] == ["BUS"]
    assert bank_of(ledger).book.pending_as_of.isoformat() == "2026-04-20"  # type: ignore[union-attr]


def test_a_bank_reversal_reverses_the_original_line(ledger: Ledger, write: Any) -> None:
    out = camt([Entry(-2000, "2026-04-08", ref="DD-1", text="DIRECT DEBIT GYM")])
    first = ledger.import_bank_file(ACCOUNT, write("o.xml", out), actor=ACTOR)
    item = first.recorded[0].item_id
    back = camt([Entry(2000, "2026-04-09", ref="DD-1R", text="RETURNED DD", reversal=True)])

    report = ledger.import_bank_file(ACCOUNT, write("r.xml", back), actor=ACTOR)

    (line,) = report.recorded
    assert line.event_type == "EntryCorrected"
    assert "the bank reversed line ref:DD-1" in line.reason
    account = ledger.load(ACCOUNT)
    assert account.bank_balance == Money(0)
    assert item is not None
    assert account.unexplained_outgoings[item].status is OutgoingStatus.REVERSED
    original = bank_of(ledger).line("ref:DD-1")
    assert original is not None
    assert original.reversed_by == line.version
    assert account.balance(LedgerAccount.UNEXPLAINED_OUTGOING) == Money(0)


def test_a_reversal_without_its_original_is_held_in_suspense(ledger: Ledger, write: Any) -> None:
    back = camt([Entry(2001, "2026-04-09", ref="X", text="RETURNED DD", reversal=True)])
    (line,) = ledger.import_bank_file(ACCOUNT, write("r.xml", back), actor=ACTOR).recorded
    assert line.match == "unexpected_income"
    assert line.reason.startswith("a bank reversal whose original line is not in the ledger")


def test_a_line_older_than_the_reversal_window_is_still_never_imported_twice(write: Any) -> None:
    old = write("old.xml", camt([Entry(-2001, "2024-01-10", ref="DD-1", text="GYM")]))
    with Ledger.in_memory() as ledger:
        open_account(ledger, opened="2024-01-01")
        ledger.import_bank_file(ACCOUNT, old, actor=ACTOR)
        new = camt([Entry(-500, "2025-06-01", ref="N-1", text="FEE")])
        ledger.import_bank_file(ACCOUNT, write("new.xml", new), actor=ACTOR)
        # DD-1 is 508 days older than N-1: the bank account keeps only the recent window
        assert [r.key for r in bank_of(ledger).recent_lines()] == ["ref:N-1"]

        again = ledger.import_bank_file(ACCOUNT, old, actor=ACTOR)
        assert again.nothing_new
        (line,) = again.lines  # its event: 1 opened, 2 budget, 3 bank account named, 4 it
        assert (line.status, line.version, line.reason) == (
            "already imported",
            4,
            "recorded before (event 4)",
        )
        changed = camt([Entry(-2002, "2024-01-10", ref="DD-1", text="GYM")])
        with pytest.raises(IdempotencyConflict, match="bank line ref:DD-1 was imported before"):
            ledger.import_bank_file(ACCOUNT, write("changed.xml", changed), actor=ACTOR)
        # a reversal so late is left to a person
        back = camt([Entry(2001, "2025-06-02", ref="DD-1R", text="RETURNED DD", reversal=True)])
        (line,) = ledger.import_bank_file(ACCOUNT, write("r.xml", back), actor=ACTOR).recorded
        assert line.match == "unexpected_income"
        assert "booked more than 400 days before the latest line" in line.reason


# ----------------------------------------------------------------------------- assertions
def test_statement_balances_are_assertions_and_differences_are_breaks(
    ledger: Ledger, write: Any
) -> None:
    data = camt(
        [Entry(32000, "2026-04-06", ref="C1", text="KENT CC")],
        opening=(0, "2026-04-06"),
        closing=(32500, "2026-04-06"),  # the bank says £5.00 more than the lines explain
    )

    report = ledger.import_bank_file(ACCOUNT, write("s.xml", data), actor=ACTOR)

    assert [b.status for b in report.balances] == ["skipped", "recorded"]  # opening: day before
    (found,) = report.breaks
    assert found.asserted == Money("325.00")
    assert found.ledger == Money("320.00")
    assert found.difference == Money("5.00")
    assert "BREAK 2026-04-06" in report.render()
    account = ledger.load(ACCOUNT)
    assert account.bank_balance_on(found.effective_date) == Money("320.00")
    stated = [e for e in bank_events(ledger, NATWEST) if type(e).__name__ == "BankBalanceStated"]
    assert [(e.effective_date.isoformat(), e.balance) for e in stated] == [
        ("2026-04-06", Money("325.00"))
    ]
    # the same file again states nothing new
    assert ledger.import_bank_file(ACCOUNT, write("s.xml", data), actor=ACTOR).nothing_new
    # the missing £5.00 arrives as a back-dated entry: the break goes away by itself
    ledger.receive_unexpected_income(
        ACCOUNT, amount="5.00", description="interest", effective_date=OPENED, actor=ACTOR
    )
    assert ledger.reconciliation_breaks(ACCOUNT) == []


def test_an_opening_balance_is_the_end_of_the_day_before(ledger: Ledger, write: Any) -> None:
    first = camt([Entry(32000, "2026-04-06", ref="C1")], closing=(32000, "2026-04-06"))
    second = camt(
        [Entry(-1000, "2026-04-07", ref="D1")],
        opening=(32000, "2026-04-07"),
        closing=(31000, "2026-04-07"),
    )
    ledger.import_bank_file(ACCOUNT, write("1.xml", first), actor=ACTOR)
    report = ledger.import_bank_file(ACCOUNT, write("2.xml", second), actor=ACTOR)
    assert [b.effective_date.isoformat() for b in report.balances] == [
        "2026-04-06",
        "2026-04-07",
    ]
    assert report.balances[0].status == "already imported"  # the same fact as 1.xml's closing
    assert report.breaks == ()


# ----------------------------------------------------------------------------- resolving
def test_unexplained_outgoings_are_classified_recovered_or_accepted(
    ledger: Ledger, write: Any
) -> None:
    rows = [
        ("2026-04-08", "INSURER", -3000, None),
        ("2026-04-09", "MISTAKE", -4001, None),
        ("2026-04-10", "BANK FEE", -500, None),
        ("2026-04-11", "MISTAKE RETURNED", 4001, None),
    ]
    report = ledger.import_bank_file(ACCOUNT, write("o.csv", lloyds_csv(rows)), actor=ACTOR)
    insurer, mistake, fee, returned = (line.item_id for line in report.recorded)
    assert insurer
    assert mistake
    assert fee
    assert returned
    day = {"effective_date": "2026-04-12", "actor": ACTOR}

    ledger.classify_unexpected_outgoing(ACCOUNT, item_id=insurer, category="insurance", **day)
    ledger.recover_unexpected_outgoing(ACCOUNT, item_id=mistake, income_item_id=returned, **day)
    accepted = ledger.accept_unexpected_outgoing(
        ACCOUNT, item_id=fee, reason="bank charge, not recoverable", **day
    )

    account = ledger.load(ACCOUNT)
    statuses = {k: v.status for k, v in account.unexplained_outgoings.items()}
    assert statuses == {
        insurer: OutgoingStatus.CLASSIFIED,
        mistake: OutgoingStatus.RECOVERED,
        fee: OutgoingStatus.ACCEPTED,
    }
    assert account.suspense_items[returned].status is SuspenseStatus.CLASSIFIED
    assert account.balance(LedgerAccount.UNEXPLAINED_OUTGOING) == Money(0)
    assert account.balance(LedgerAccount.SUSPENSE) == Money(0)
    assert account.balance(LedgerAccount.INSURANCE) == Money("30.00")
    assert account.balance(LedgerAccount.UNRECOVERED_OUTGOINGS) == Money("5.00")
    with pytest.raises(InvalidTransition):
        ledger.accept_unexpected_outgoing(ACCOUNT, item_id=fee, reason="again", **day)
    # a resolution can be corrected: the item is held again
    ledger.correct(ACCOUNT, version=accepted.version, reason="the bank refunds fees", **day)
    assert ledger.load(ACCOUNT).unexplained_outgoings[fee].status is OutgoingStatus.HELD


# ----------------------------------------------------------------------------- stores
def _round_trip(url: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.xml"
    path.write_bytes(
        camt(
            [
                Entry(32000, "2026-04-06", ref="C1", text="KENT CC"),
                Entry(-2000, "2026-04-08", ref="D1", text="GYM"),
                Entry(2000, "2026-04-09", ref="D1R", text="RETURNED", reversal=True),
                Entry(1234, "2026-04-09", ref="U1", text="REFUND"),
                Entry(-999, "2026-04-10", ref="U2", text="FEE"),
                Entry(-500, "2026-04-11", text="CARD", status="PDNG"),
            ],
            closing=(31000, "2026-04-11"),
        )
    )
    with Ledger(url) as first:
        open_account(first)
        first.import_bank_file(ACCOUNT, path, actor=ACTOR)
        written = first.events(ACCOUNT)
        bank_written = bank_events(first, NATWEST)
        state = first.load(ACCOUNT)
        bank = bank_of(first)
        breaks = first.reconciliation_breaks(ACCOUNT)
    with Ledger(url) as second:
        assert second.events(ACCOUNT) == written
        assert bank_events(second, NATWEST) == bank_written
        again = second.load(ACCOUNT)
        assert again.unexplained_outgoings == state.unexplained_outgoings
        assert again.funds == state.funds
        assert bank_of(second).book == bank.book
        assert second.reconciliation_breaks(ACCOUNT) == breaks
        assert [b.difference for b in breaks] == [Money("-12.35")]  # 310.00 - 322.35
        assert second.import_bank_file(ACCOUNT, path, actor=ACTOR).nothing_new
    assert {"BankAccountNamed", "EntryCorrected", "UnexpectedOutgoingRecorded"} <= {
        type(e).__name__ for e in written
    }
    assert {type(e).__name__ for e in bank_written} == {
        "BankAccountOpened",
        "StatementLineBooked",
        "BankBalanceStated",
        "PendingBankLinesNoted",
    }


def test_bank_fed_events_round_trip_through_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path)


@pytest.mark.postgres
def test_bank_fed_events_round_trip_through_postgres(tmp_path: Path) -> None:
    import os
    import uuid

    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    schema = f"dpledger_import_{uuid.uuid4().hex[:10]}"
    try:
        _round_trip(f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}", tmp_path)
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
            c.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_snapshots_hold_the_reconciliation_state(tmp_path: Path) -> None:
    # 120 lines in one file cross the 50-event snapshots of both aggregates; loading from them
    # must give the same state as replaying every event.
    rows = [
        (f"2026-{4 + i // 28:02d}-{1 + i % 28:02d}", f"FEE {i}", -(i + 1), None) for i in range(120)
    ]
    path = tmp_path / "many.csv"
    path.write_bytes(lloyds_csv([r for r in rows if r[0] >= OPENED]))
    url = f"sqlite:///{tmp_path / 'snap.sqlite'}"
    with Ledger(url) as first:
        open_account(first)
        first.import_bank_file(ACCOUNT, path, actor=ACTOR)
        events = first.events(ACCOUNT)
        assert len(events) > 100
        state = first.load(ACCOUNT)
        bank = bank_of(first)
        assert bank.version > 100
    with Ledger(url) as second:
        app = second.application
        snapshots = app.snapshots
        assert snapshots is not None
        (latest,) = snapshots.get(bank_account_uuid(LLOYDS), desc=True, limit=1)
        assert latest.originator_version == bank.version  # taken when the save crossed 50
        again = second.load(ACCOUNT)
        assert again.unexplained_outgoings == state.unexplained_outgoings
        loaded = bank_of(second)
        assert loaded.book == bank.book
        assert loaded.dump() == bank.dump()
        replayed = app.repository.get(bank_account_uuid(LLOYDS), projector_func=None)
        assert replayed.book == bank.book
