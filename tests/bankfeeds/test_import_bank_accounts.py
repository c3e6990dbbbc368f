"""Which bank account a statement is of, and the boundary between it and the managed account.

A statement names its bank account; the managed account names the bank account its money is held
in. A statement of another bank account is refused, naming both, and records nothing on either
aggregate. The first identified statement that brings something new names the bank account.
(The builders and the account ``DP-1`` are those of ``test_import_ledger.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_import_ledger import (
    ACCOUNT,
    ACTOR,
    APRIL,
    LLOYDS,
    NATWEST,
    OPENED,
    Entry,
    bank_events,
    bank_of,
    camt,
    lloyds_csv,
    open_account,
)

from dpledger import Ledger, Money
from dpledger.adapters.bankfeeds import parse_bytes
from dpledger.application.bankimport import UNIDENTIFIED
from dpledger.errors import BankFileError


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as the_ledger:
        open_account(the_ledger)
        yield the_ledger


def stored_events(ledger: Ledger) -> int:
    """How many events the store holds, of every aggregate."""
    return len(ledger.application.recorder.select_notifications(start=1, limit=100_000))


def without_account(data: bytes) -> bytes:
    """A camt.053 statement that names no account (as some exports are)."""
    return data.replace(b"<Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id>", b"<Acct>")


def test_a_statement_of_another_bank_account_is_refused_naming_both(
    ledger: Ledger, write: Any
) -> None:
    ledger.import_bank_file(ACCOUNT, write("april.csv", lloyds_csv(APRIL[:2])), actor=ACTOR)
    before_account = ledger.events(ACCOUNT)
    before_bank = bank_events(ledger, LLOYDS)
    before_all = stored_events(ledger)
    other = camt([Entry(32000, "2026-04-20", ref="X1", text="KENT CC")], closing=(1, "2026-04-20"))

    with pytest.raises(BankFileError) as refused:
        ledger.import_bank_file(ACCOUNT, write("natwest.xml", other), actor=ACTOR)

    message = str(refused.value)
    assert f"this statement is of bank account {NATWEST}" in message
    assert f"the money of {ACCOUNT} is held in bank account {LLOYDS}" in message
    assert refused.value.file == "natwest.xml"
    assert "name_bank_account" in refused.value.fix
    # nothing recorded, on either aggregate (nor a new bank account opened)
    assert ledger.events(ACCOUNT) == before_account
    assert bank_events(ledger, LLOYDS) == before_bank
    assert bank_events(ledger, NATWEST) == []
    assert stored_events(ledger) == before_all


def test_a_statement_is_refused_when_the_account_named_another_bank_account_by_hand(
    write: Any,
) -> None:
    with Ledger.in_memory() as ledger:
        ledger.open_account(
            ACCOUNT,
            person_ref="P-77",
            council="Kent County Council",
            provider="SOLO",
            effective_date=OPENED,
            actor=ACTOR,
            bank_account="GB29 NWBK 6016 1331 9268 19",
        )
        assert ledger.account(ACCOUNT).bank_account == NATWEST
        before = stored_events(ledger)
        with pytest.raises(BankFileError, match=f"is held in bank account {NATWEST}"):
            ledger.import_bank_file(ACCOUNT, write("l.csv", lloyds_csv(APRIL[:1])), actor=ACTOR)
        assert stored_events(ledger) == before
        # the account's own statement, in another spelling of the same account, is imported
        report = ledger.import_bank_file(
            ACCOUNT, write("n.xml", camt([Entry(500, "2026-04-07", ref="N1")])), actor=ACTOR
        )
        assert report.bank_account == NATWEST
        assert [type(e).__name__ for e in ledger.events(ACCOUNT)][-1] == "UnexpectedIncomeReceived"
        assert "BankAccountNamed" not in [type(e).__name__ for e in ledger.events(ACCOUNT)[2:]]


def test_the_first_identified_statement_names_the_bank_account_once(
    ledger: Ledger, write: Any
) -> None:
    assert ledger.account(ACCOUNT).bank_account is None
    first = ledger.import_bank_file(ACCOUNT, write("a.csv", lloyds_csv(APRIL[:1])), actor=ACTOR)
    named = ledger.events(ACCOUNT)[2]
    assert type(named).__name__ == "BankAccountNamed"
    assert named.bank_account == LLOYDS  # type: ignore[attr-defined]
    assert named.effective_date.isoformat() == "2026-04-06"
    assert "named by the statement a.csv" in str(named.reason)
    assert first.version_before == 2
    assert first.version_after == 4  # named, then the council payment
    ledger.import_bank_file(ACCOUNT, write("b.csv", lloyds_csv(APRIL[1:3])), actor=ACTOR)
    kinds = [type(e).__name__ for e in ledger.events(ACCOUNT)]
    assert kinds.count("BankAccountNamed") == 1
    # every line of the bank account names the managed account and its event
    bank = bank_of(ledger)
    assert bank.book.holders == [ACCOUNT]
    assert sorted((r.version, r.account_id) for r in bank.recent_lines()) == [
        (4, ACCOUNT),
        (5, ACCOUNT),
        (6, ACCOUNT),
    ]
    assert type(bank_events(ledger, LLOYDS)[0]).__name__ == "BankAccountOpened"


def test_a_repeated_statement_that_brings_nothing_names_nothing(ledger: Ledger, write: Any) -> None:
    info = camt([Entry(500, "2026-04-07", status="INFO")])
    report = ledger.import_bank_file(ACCOUNT, write("info.xml", info), actor=ACTOR)
    assert report.nothing_new
    assert ledger.account(ACCOUNT).bank_account is None
    assert bank_events(ledger, NATWEST) == []


def test_statements_naming_no_account_go_to_the_named_one_or_are_held_apart(
    ledger: Ledger, write: Any
) -> None:
    anonymous = without_account(camt([Entry(-1234, "2026-04-08", ref="A1", text="SHOP")]))
    report = ledger.import_bank_file(ACCOUNT, write("anon.xml", anonymous), actor=ACTOR)
    assert report.bank_account == f"{UNIDENTIFIED}{ACCOUNT}"
    assert ledger.account(ACCOUNT).bank_account is None  # nothing to name it from
    # an identified statement names the account's bank account...
    named = camt([Entry(-500, "2026-04-09", ref="B1", text="FEE")])
    assert ledger.import_bank_file(ACCOUNT, write("named.xml", named), actor=ACTOR).recorded
    assert ledger.account(ACCOUNT).bank_account == NATWEST
    # ...and the anonymous file again is of that bank account now: its line, recorded before
    # on the account, is found there (by the account's bank:<key> idempotency key)
    again = ledger.import_bank_file(ACCOUNT, write("anon.xml", anonymous), actor=ACTOR)
    assert again.bank_account == NATWEST
    assert again.nothing_new
    (line,) = again.lines
    assert line.status == "already imported"
    assert ledger.bank_balance(ACCOUNT) == Money("-17.34")


def test_bank_account_picks_a_statement_in_any_spelling(ledger: Ledger, write: Any) -> None:
    two = lloyds_csv(APRIL[:1]) + b"06/04/2026,FPI,'30-99-51,87654321,X,,1.00,\n"
    report = ledger.import_bank_file(
        ACCOUNT, write("two.csv", two), actor=ACTOR, bank_account="309950/12345678"
    )
    assert report.bank_account == LLOYDS
    assert len(report.recorded) == 1
    with pytest.raises(BankFileError, match="no statement for bank account '11-11-11 11111111'"):
        ledger.import_bank_file(
            ACCOUNT, write("two.csv", two), actor=ACTOR, bank_account="11-11-11 11111111"
        )


def test_two_statements_of_one_account_in_two_spellings_are_one_bank_account(
    ledger: Ledger,
) -> None:
    iban = camt([Entry(700, "2026-04-07", ref="I1")], stmt_id="S-1")
    by_sort_code = iban.replace(
        b"<IBAN>GB29NWBK60161331926819</IBAN>", b"<Othr><Id>601613 31926819</Id></Othr>"
    ).replace(b"I1", b"I2")
    statements = [
        *parse_bytes(iban, filename="a.xml"),
        *parse_bytes(by_sort_code, filename="b.xml"),
    ]
    # The parsers already write both spellings as the one key (see test_statement_identity).
    assert [s.account_id for s in statements] == [NATWEST, NATWEST]

    report = ledger.import_statement(ACCOUNT, statements, actor=ACTOR)

    assert report.bank_account == NATWEST
    assert len(report.recorded) == 2


def test_a_statement_whose_account_is_not_a_valid_iban_is_refused(
    ledger: Ledger, write: Any
) -> None:
    wrong = camt([Entry(700, "2026-04-07", ref="I1")]).replace(
        b"GB29NWBK60161331926819", b"GB28NWBK60161331926819"
    )
    before = stored_events(ledger)
    with pytest.raises(BankFileError, match=r"names no bank account.*not a valid IBAN"):
        ledger.import_bank_file(ACCOUNT, write("wrong.xml", wrong), actor=ACTOR)
    assert stored_events(ledger) == before


def test_a_bank_line_is_the_bank_accounts_recorded_once_whichever_account_imports_it(
    ledger: Ledger, write: Any
) -> None:
    # Two managed accounts naming one bank account (the boundary a pooled client account will
    # use): a line moves one account's money, and is never recorded again through the other.
    open_account(ledger, "DP-2")
    ledger.name_bank_account(ACCOUNT, bank_account=LLOYDS, effective_date=OPENED, actor=ACTOR)
    ledger.name_bank_account("DP-2", bank_account=LLOYDS, effective_date=OPENED, actor=ACTOR)
    path = write("april.csv", lloyds_csv(APRIL[:1]))
    first = ledger.import_bank_file(ACCOUNT, path, actor=ACTOR)
    (recorded,) = first.recorded

    other = ledger.import_bank_file("DP-2", path, actor=ACTOR)

    assert other.nothing_new
    (line,) = other.lines
    assert line.status == "already imported"
    assert line.reason == f"recorded before ({ACCOUNT} event {recorded.version})"
    assert ledger.bank_balance("DP-2") == Money(0)
    assert bank_of(ledger, "DP-2").book.holders == [ACCOUNT]
