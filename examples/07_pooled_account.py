"""A pooled client account: one bank account holding two people's money.

1. A provider declares its client bank account pooled; two managed accounts join it by naming
   it, and an allocation table names the payer one person's contributions come from.
2. The bank's end-of-day statement (ISO 20022 camt.053, written here as a bank sends it) is
   imported: each booked line goes to the member whose money it is (the table, the person's
   reference in the bank's text, or a payment only one member expects), else it is held.
3. A person allocates the held line, saying why; the pool's position shows each member's share,
   what is unallocated, and whether the bank's stated balances agree with the ledger.

    .venv/bin/python examples/07_pooled_account.py [folder for the statement file]
"""

import sys
import tempfile
from datetime import date
from pathlib import Path

from dpledger import Ledger

ACTOR = "example:finance-officer"
POOL = "GB19NWBK60951120250407"  # the IBAN of sort code 60-95-11, account 20250407
OPENED, DAY = date(2026, 4, 1), date(2026, 4, 6)

# (booking date, signed pence, the bank's text, the payer or payee, the bank's reference)
ENTRIES = [
    ("2026-04-06", 132_000, "NORTHSHIRE CC DIRECT PAYMENT P-20001", "NORTHSHIRE CC", "VW0001"),
    ("2026-04-06", 130_000, "NORTHSHIRE CC DIRECT PAYMENT P-20002", "NORTHSHIRE CC", "VW0002"),
    ("2026-04-07", 6_000, "CONTRIBUTION", "A MORGAN", "VW0003"),  # the table: DP-2's payer
    ("2026-04-08", 8_000, "STANDING ORDER", "R PATEL", "VW0004"),  # 4 weeks of DP-1's £20
    # Names nobody, and £60.00 is 3 weeks of DP-1's contribution as well as 4 weeks of DP-2's.
    ("2026-04-09", 6_000, "MUM CARE MONEY", "S MORGAN", "VW0005"),
]
OPENING, CLOSING = 0, sum(pence for _, pence, *_ in ENTRIES)


def money(pence: int) -> str:
    """An amount as camt.053 writes it: unsigned, two decimals."""
    return f"{abs(pence) // 100}.{abs(pence) % 100:02d}"


def camt053() -> bytes:
    """The bank's statement of the pool for 6-12 April 2026, opening and closing balances
    included (the closing one is what the ledger will be reconciled against)."""
    balances = "".join(
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="GBP">{money(pence)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>"
        for code, pence, day in (("OPBD", OPENING, "2026-04-06"), ("CLBD", CLOSING, "2026-04-12"))
    )
    entries = "".join(
        f'<Ntry><Amt Ccy="GBP">{money(pence)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if pence > 0 else 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RltdPties><{'Dbtr' if pence > 0 else 'Cdtr'}><Nm>{party}</Nm>"
        f"</{'Dbtr' if pence > 0 else 'Cdtr'}></RltdPties>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for day, pence, text, party, ref in ENTRIES
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>VW-20260412</MsgId><CreDtTm>2026-04-13T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>VW-20260412</Id>"
        f"<Acct><Id><IBAN>{POOL}</IBAN></Id><Ccy>GBP</Ccy></Acct>{balances}{entries}"
        "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
statement = folder / "virtual-wallet-2026-04-12.xml"
statement.write_bytes(camt053())

with Ledger.in_memory() as ledger:
    # 1. The pool first (the provider's account was open before these two joined it), then its
    # members (each names it), then the table naming a member: rules name existing accounts.
    ledger.open_pooled_account(POOL, name="Virtual Wallet", opened_on=OPENED, actor=ACTOR)
    members = (("DP-1", "P-20001", "350.00", "20.00"), ("DP-2", "P-20002", "340.00", "15.00"))
    for account, person, gross, contribution in members:
        ledger.open_account(
            account,
            person_ref=person,
            council="Northshire County Council",
            provider="Virtual Wallet",
            effective_date=DAY,
            actor=ACTOR,
        )
        ledger.agree_budget(
            account,
            weekly_gross=gross,
            weekly_contribution=contribution,
            effective_date=DAY,
            actor=ACTOR,
        )
        ledger.name_bank_account(account, bank_account=POOL, effective_date=DAY, actor=ACTOR)
    rules = [{"account_id": "DP-2", "pattern": r"\bA\.? ?MORGAN\b", "field": "payer"}]
    ledger.open_pooled_account(
        POOL, name="Virtual Wallet", opened_on=OPENED, actor=ACTOR, rules=rules
    )

    # 2. The bank's statement: each line to its member, or held.
    report = ledger.import_pooled_file(statement, actor="bank-feed")
    print(f"Imported {statement.name}: {len(report.recorded)} lines")
    for line in report.lines:
        print(f"  {line.booking_date} {line.amount!s:>10}  {line.reason}")

    # 3. A person allocates the held line, saying why: it is recorded on DP-2 as the import
    # would have recorded it (a contribution).
    (held,) = ledger.unallocated(POOL)
    print(f"\nHeld: {held.remaining} on {held.booking_date} ({held.description})")
    allocation = ledger.allocate(
        POOL,
        held.key,
        "DP-2",
        actor=ACTOR,
        reason="Mrs Morgan's daughter paid her contribution this time (she phoned to say)",
        idempotency_key="allocate-VW0005",
    )
    recorded, left = allocation.receipt.event_type, allocation.remaining
    print(f"Allocated {allocation.amount} to {allocation.account_id} ({recorded}); held: {left}")

    position = ledger.pool_position(POOL)
    print(f"\nPool {position.name} ({position.bank_account}): {position.balance}")
    for account, share in position.shares.items():
        print(f"  {account} share {share} (its own ledger says {ledger.bank_balance(account)})")
    print(f"  unallocated {position.unallocated}; adds up: {position.adds_up}")
    print(f"Reconciliation: {position.reconciliation()}")
    # A member's own audit sheet compares no balance: the bank states the pool's, not theirs.
    sheet = ledger.statement("DP-1", DAY, "2026-04-12")
    print(f"DP-1's audit sheet: {sheet.reconciliation}")
