"""Strategies for bank statement lines and whole statements, as the parsers produce them.

:func:`bank_transactions` gives one :class:`~dpledger.adapters.bankfeeds.BankTransaction`;
:func:`bank_statements` a :class:`~dpledger.adapters.bankfeeds.BankStatement` whose lines run in
date order, whose closing balance is its opening balance plus its booked lines (it adds up), and
whose balance never goes below zero unless ``overdrawn`` is allowed. Descriptions are a payee's
plain words; amounts shrink to whole pounds.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from dpledger.adapters.bankfeeds.model import (
    BalanceAssertion,
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
    EntryStatus,
)
from dpledger.domain.money import Money

ACCOUNT = "30-99-50 12345678"
"""The bank account statements are for unless told otherwise (sort code and number)."""
DESCRIPTIONS = (
    "TESTSHIRE CC DIRECT PAYMENT",
    "CONTRIBUTION P-1",
    "CARE AGENCY LTD INV",
    "PA WAGES",
    "HMRC PAYE",
    "NEST PENSION",
    "INSURANCE PREMIUM",
    "TRANSFER",
)


def _amounts(max_pence: int) -> st.SearchStrategy[Money]:
    """Amounts above zero that shrink to whole pounds."""
    pounds = st.integers(min_value=0, max_value=max(0, max_pence // 100 - 1))
    return st.builds(
        lambda whole, pence: Money(max(1, whole * 100 + pence)),
        pounds,
        st.integers(min_value=0, max_value=99),
    )


@st.composite
def bank_transactions(
    draw: st.DrawFn,
    *,
    start: date = date(2026, 4, 6),
    days: int = 28,
    max_pence: int = 200_000,
    direction: Direction | None = None,
    pending: bool = False,
    location: str = "line 1",
) -> BankTransaction:
    """One statement line between ``start`` and ``days`` later: a credit or debit (or the
    ``direction`` given), booked (or pending, if ``pending`` allows it), with a description, a
    counterparty and sometimes the bank's transaction id."""
    booked = not pending or draw(st.booleans())
    day = start + timedelta(days=draw(st.integers(min_value=0, max_value=days)))
    return BankTransaction(
        booking_date=day,
        value_date=day,
        amount=draw(_amounts(max_pence)),
        direction=direction if direction is not None else draw(st.sampled_from(Direction)),
        status=EntryStatus.BOOKED if booked else EntryStatus.PENDING,
        description=draw(st.sampled_from(DESCRIPTIONS)),
        counterparty=draw(st.none() | st.sampled_from(["Testshire CC", "Care Agency Ltd"])),
        bank_transaction_id=draw(st.none() | st.text("0123456789ABCDEF", min_size=8, max_size=8)),
        source_location=location,
    )


@st.composite
def bank_statements(
    draw: st.DrawFn,
    *,
    account: str = ACCOUNT,
    start: date = date(2026, 4, 6),
    days: int = 28,
    max_lines: int = 10,
    max_pence: int = 200_000,
    opening_pence: int | None = 0,
    overdrawn: bool = False,
    source_file: str = "statement.csv",
    bank_format: BankFormat = BankFormat.CSV,
) -> BankStatement:
    """A statement of ``account`` for ``days`` days from ``start``, with up to ``max_lines``
    booked lines in date order, each with a running balance; its opening balance is
    ``opening_pence`` (``None``: drawn) and its closing balance adds up. Without ``overdrawn``
    no debit takes the balance below zero. Transaction ids, when drawn, are unique."""
    opening = opening_pence
    if opening is None:
        opening = draw(
            st.integers(min_value=0 if not overdrawn else -max_pence, max_value=max_pence)
        )
    count = draw(st.integers(min_value=0, max_value=max_lines))
    offsets = sorted(draw(st.lists(st.integers(0, days), min_size=count, max_size=count)))
    balance = opening
    lines: list[BankTransaction] = []
    ids: set[str] = set()
    for number, offset in enumerate(offsets, start=1):
        day = start + timedelta(days=offset)
        line = draw(
            bank_transactions(start=day, days=0, max_pence=max_pence, location=f"line {number + 1}")
        )
        if line.direction is Direction.DEBIT and not overdrawn and line.amount.pence > balance:
            line = line.model_copy(update={"direction": Direction.CREDIT})
        if line.bank_transaction_id in ids:
            line = line.model_copy(update={"bank_transaction_id": None})
        if line.bank_transaction_id:
            ids.add(line.bank_transaction_id)
        balance += line.signed_pence
        lines.append(line.model_copy(update={"running_balance": Money(balance)}))
    end = start + timedelta(days=days)
    return BankStatement(
        source_file=source_file,
        format=bank_format,
        account_id=account,
        currency="GBP",
        opening_balance=BalanceAssertion(date=start, balance=Money(opening), kind="OPBD"),
        closing_balance=BalanceAssertion(date=end, balance=Money(balance), kind="CLBD"),
        period_start=start,
        period_end=end,
        transactions=tuple(lines),
    )
