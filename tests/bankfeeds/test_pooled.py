"""Pooled client accounts: one bank account holding many people's money (issue 11).

Statements are Lloyds-style CSV exports (sort code and account columns name the pool) built
here, imported with ``Ledger.import_pooled_file``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dpledger import Ledger, Money
from dpledger.errors import (
    AccountNotFound,
    BankFileError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    ValidationError,
)

POOL = "30-99-50 12345678"
OPENED = "2026-04-06"
ACTOR = "finance-1"
Write = Callable[[str, bytes], Path]


def csv(rows: Sequence[tuple[str, str, int]], account: str = "12345678") -> bytes:
    """A Lloyds export of the pool: rows of (ISO date, description, signed pence)."""
    out = [
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance"
    ]
    for day, text, pence in rows:
        y, m, d = day.split("-")
        debit = f"{-pence // 100}.{-pence % 100:02d}" if pence < 0 else ""
        credit = f"{pence // 100}.{pence % 100:02d}" if pence > 0 else ""
        out.append(f"{d}/{m}/{y},FPI,'30-99-50,{account},{text},{debit},{credit},")
    return ("\n".join(out) + "\n").encode()


def member(ledger: Ledger, account_id: str, person_ref: str, weekly: str = "100.00") -> None:
    ledger.open_account(
        account_id,
        person_ref=person_ref,
        council="Kent County Council",
        provider="Virtual Wallet",
        effective_date=OPENED,
        actor=ACTOR,
    )
    ledger.agree_budget(
        account_id,
        weekly_gross=weekly,
        weekly_contribution="0.00",
        effective_date=OPENED,
        actor=ACTOR,
    )
    ledger.name_bank_account(account_id, bank_account=POOL, effective_date=OPENED, actor=ACTOR)


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as the_ledger:
        the_ledger.open_account(
            "DP-3",
            person_ref="NOT-IN-POOL",
            council="Kent County Council",
            provider="Virtual Wallet",
            effective_date=OPENED,
            actor=ACTOR,
        )
        the_ledger.open_pooled_account(POOL, name="Clients", opened_on=OPENED, actor=ACTOR)
        member(the_ledger, "DP-1", "KCC-1001")
        member(the_ledger, "DP-2", "KCC-2002", weekly="150.00")
        the_ledger.open_pooled_account(  # the table names members: declared once they exist
            POOL,
            name="Clients",
            opened_on=OPENED,
            actor=ACTOR,
            rules=[{"account_id": "DP-2", "pattern": r"\bJ\.? ?SMITH\b", "field": "payer"}],
        )
        yield the_ledger


def test_lines_are_allocated_by_reference_rule_and_expected_payment(
    ledger: Ledger, write: Write
) -> None:
    path = write(
        "pool.csv",
        csv(
            [
                ("2026-04-06", "KENT CC DP PAYMENT KCC-1001", 40_000),
                ("2026-04-06", "KENT CC DP PAYMENT", 60_000),  # DP-2's 4 weeks: expected
                ("2026-04-07", "J SMITH", 2_500),  # the rule names DP-2
                ("2026-04-08", "MYSTERY CREDIT", 1_234),
            ]
        ),
    )
    report = ledger.import_pooled_file(path, actor=ACTOR)
    by_text = {line.description: line for line in report.lines}
    assert by_text["KENT CC DP PAYMENT KCC-1001"].reason.startswith("DP-1: the bank's text names")
    assert by_text["KENT CC DP PAYMENT"].reason.startswith("DP-2: expected by DP-2")
    assert by_text["J SMITH"].reason.startswith("DP-2: allocation rule 1")
    assert by_text["MYSTERY CREDIT"].match == "unallocated"
    assert ledger.bank_balance("DP-1") == Money("400.00")
    assert ledger.bank_balance("DP-2") == Money("625.00")
    position = ledger.pool_position(POOL)
    assert position.balance == Money("1037.34")
    assert position.unallocated == Money("12.34")
    assert position.adds_up
    assert position.shares == {"DP-1": Money("400.00"), "DP-2": Money("625.00")}
    assert ledger.verify().ok
    again = ledger.import_pooled_file(path, actor=ACTOR)
    assert again.nothing_new
    assert {line.status for line in again.lines} == {"already imported"}


def test_client_money_never_pays_for_another_client(ledger: Ledger, write: Write) -> None:
    ledger.import_pooled_file(
        write("in.csv", csv([("2026-04-06", "KCC-2002 PAYMENT", 60_000)])), actor=ACTOR
    )
    report = ledger.import_pooled_file(
        write("out.csv", csv([("2026-04-09", "CARE AGENCY KCC-1001", -5_000)])), actor=ACTOR
    )
    (line,) = report.lines
    assert line.match == "unallocated"
    assert "DP-1" in line.reason
    assert "£50.00 short" in line.reason
    assert ledger.bank_balance("DP-1") == Money(0)
    (held,) = ledger.unallocated(POOL)
    with pytest.raises(InsufficientFunds) as refused:
        ledger.allocate(POOL, held.key, "DP-1", actor=ACTOR, reason="agency invoice")
    assert "DP-1" in str(refused.value)
    assert "£50.00" in str(refused.value)
    assert ledger.pool_position(POOL).unallocated == Money("-50.00")
    assert ledger.verify().ok


def test_a_person_allocates_a_held_line_in_parts(ledger: Ledger, write: Write) -> None:
    ledger.import_pooled_file(
        write("pool.csv", csv([("2026-04-08", "BACS KENT CC", 30_000)])), actor=ACTOR
    )
    (held,) = ledger.unallocated(POOL)
    first = ledger.allocate(
        POOL,
        held.key,
        "DP-1",
        amount="100.00",
        actor=ACTOR,
        reason="council remittance advice lists DP-1 for £100",
        idempotency_key="alloc-1",
    )
    assert first.remaining == Money("200.00")
    retry = ledger.allocate(
        POOL,
        held.key,
        "DP-1",
        amount="100.00",
        actor=ACTOR,
        reason="council remittance advice lists DP-1 for £100",
        idempotency_key="alloc-1",
    )
    assert retry.replayed
    assert retry.receipt.version == first.receipt.version
    with pytest.raises(IdempotencyConflict):
        ledger.allocate(POOL, held.key, "DP-2", actor=ACTOR, reason="x", idempotency_key="alloc-1")
    with pytest.raises(ValidationError, match=r"more than the £200\.00"):
        ledger.allocate(POOL, held.key, "DP-2", amount="250.00", actor=ACTOR, reason="x")
    with pytest.raises(AccountNotFound):
        ledger.allocate(POOL, held.key, "DP-9", actor=ACTOR, reason="x")
    with pytest.raises(InvalidTransition, match="holds no money in pool"):
        ledger.allocate(POOL, held.key, "DP-3", actor=ACTOR, reason="x")
    second = ledger.allocate(POOL, held.key, "DP-2", actor=ACTOR, reason="the rest is DP-2's")
    assert second.remaining == Money(0)
    assert ledger.unallocated(POOL) == []
    assert ledger.bank_balance("DP-1") == Money("100.00")
    assert ledger.bank_balance("DP-2") == Money("200.00")
    position = ledger.pool_position(POOL)
    assert position.unallocated == Money(0)
    assert position.adds_up
    assert ledger.verify().ok


def test_closed_accounts_take_no_allocation(ledger: Ledger, write: Write) -> None:
    ledger.import_pooled_file(
        write("pool.csv", csv([("2026-04-08", "BACS KENT CC", 30_000)])), actor=ACTOR
    )
    ledger.close_account("DP-1", effective_date="2026-04-09", actor=ACTOR)
    (held,) = ledger.unallocated(POOL)
    with pytest.raises(InvalidTransition, match="closed"):
        ledger.allocate(POOL, held.key, "DP-1", actor=ACTOR, reason="x")


def test_statements_of_unknown_or_unpooled_accounts_are_refused(
    ledger: Ledger, write: Write
) -> None:
    path = write("other.csv", csv([("2026-04-06", "X", 100)], account="87654321"))
    with pytest.raises(BankFileError, match="30-99-50 87654321 is not known") as refused:
        ledger.import_pooled_file(path, actor=ACTOR)
    assert "open_pooled_account" in refused.value.fix
    pool_file = write("pool.csv", csv([("2026-04-06", "KCC-1001", 100)]))
    with pytest.raises(BankFileError, match="pooled client account"):
        ledger.import_bank_file("DP-1", pool_file, actor=ACTOR)
    assert ledger.bank_balance("DP-1") == Money(0)


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"account_id": "DP-1", "pattern": "(unclosed"}], "rules[0].pattern"),
        ([{"account_id": "DP-1", "pattern": "x", "field": "colour"}], "rules[0].field"),
        ([{"account_id": "DP-404", "pattern": "x"}], "rules[0].account_id"),
        ([{"account_id": "DP-1", "pattern": "x", "colour": "red"}], "rules[0]"),
    ],
)
def test_a_bad_rules_table_is_refused_naming_the_rule(
    ledger: Ledger, rules: list[dict[str, Any]], field: str
) -> None:
    before = ledger.pool_position(POOL)
    with pytest.raises(ValidationError) as refused:
        ledger.open_pooled_account(POOL, name="Clients", opened_on=OPENED, actor=ACTOR, rules=rules)
    assert refused.value.field == field
    assert refused.value.fix
    assert ledger.pool_position(POOL).name == before.name


def test_a_person_can_hold_money_in_two_bank_accounts(ledger: Ledger) -> None:
    ledger.add_bank_account("DP-3", bank_account=POOL, effective_date=OPENED, actor=ACTOR)
    assert "DP-3" in ledger.pool_position(POOL).members
    with pytest.raises(InvalidTransition, match="already held"):
        ledger.add_bank_account("DP-3", bank_account=POOL, effective_date=OPENED, actor=ACTOR)


def test_a_pools_stated_balances_are_reconciled_with_the_pool_not_a_member(
    ledger: Ledger, write: Write
) -> None:
    assert "no bank balance was ever stated" in ledger.pool_position(POOL).reconciliation()
    rows = "\n".join(
        [
            "Transaction Date,Transaction Type,Sort Code,Account Number,"
            "Transaction Description,Debit Amount,Credit Amount,Balance",
            "06/04/2026,FPI,'30-99-50,12345678,KCC-1001 PAYMENT,,400.00,400.00",
            "07/04/2026,FPI,'30-99-50,12345678,KCC-2002 PAYMENT,,600.00,1000.00",
        ]
    )
    ledger.import_pooled_file(write("pool.csv", rows.encode()), actor=ACTOR)
    position = ledger.pool_position(POOL)
    # The opening balance is for the end of 5 April, before the pool opened: not recorded.
    assert [(s.day.isoformat(), s.agrees) for s in position.stated] == [("2026-04-07", True)]
    assert position.reconciliation().startswith("the bank and the ledger agree on the 1 stated")
    assert ledger.reconciliation_breaks("DP-1") == []
    assert ledger.reconciliation_breaks("DP-2") == []
    earlier = ledger.pool_position(POOL, on="2026-04-06")
    assert earlier.balance == Money("400.00")
    assert earlier.shares == {"DP-1": Money("400.00")}


def test_money_moves_between_a_persons_dedicated_account_and_the_pool(
    ledger: Ledger, write: Write
) -> None:
    dedicated = "60-16-13 31926819"
    ledger.open_account(
        "DP-4",
        person_ref="KCC-4004",
        council="Kent County Council",
        provider="Virtual Wallet",
        effective_date=OPENED,
        actor=ACTOR,
    )
    ledger.name_bank_account("DP-4", bank_account=dedicated, effective_date=OPENED, actor=ACTOR)
    ledger.add_bank_account("DP-4", bank_account=POOL, effective_date=OPENED, actor=ACTOR)
    ledger.receive_one_off_payment(
        "DP-4", amount="500.00", purpose="start-up", effective_date=OPENED, actor=ACTOR
    )
    with pytest.raises(InsufficientFunds, match=r"short by £100\.00 of the transfer"):
        ledger.transfer_between_bank_accounts(
            "DP-4",
            from_bank_account=POOL,
            to_bank_account=dedicated,
            amount="100.00",
            effective_date="2026-04-07",
            actor=ACTOR,
        )
    moved = ledger.transfer_between_bank_accounts(
        "DP-4",
        from_bank_account=dedicated,
        to_bank_account=POOL,
        amount="100.00",
        effective_date="2026-04-07",
        actor=ACTOR,
    )
    own = csv(
        [("2026-04-06", "COUNCIL ONE-OFF", 50_000), ("2026-04-08", "TO CLIENT ACCOUNT", -10_000)],
        account="31926819",
    ).replace(b"'30-99-50", b"'60-16-13")
    report = ledger.import_bank_file("DP-4", write("own.csv", own), actor=ACTOR)
    assert [line.match for line in report.recorded] == ["confirms", "transfer"]
    pool = ledger.import_pooled_file(
        write("pool.csv", csv([("2026-04-08", "FROM KCC-4004 OWN ACCOUNT", 10_000)])), actor=ACTOR
    )
    (line,) = pool.recorded
    assert line.match == "transfer"
    assert line.version == moved.version
    assert ledger.bank_balance("DP-4") == Money("500.00")
    assert ledger.pool_position(POOL).shares["DP-4"] == Money("100.00")
    again = ledger.import_pooled_file(
        write("pool2.csv", csv([("2026-04-09", "FROM KCC-4004 AGAIN", 10_000)])), actor=ACTOR
    )
    assert again.recorded[0].match == "unexpected_income"  # the transfer's leg is taken
    assert ledger.verify().ok
