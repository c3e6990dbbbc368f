"""Fixtures for the Ledger rule tests: an in-memory ledger and one funded managed account.

The funded account (``DP-1``) is opened on 2026-04-06 with the default policy (net basis, 8 weeks'
contingency), a budget of £100.00 a week gross with a £20.00 a week contribution, a council payment
of £1,000.00 and a contribution of £100.00: bank £1,100.00 at version 4, contingency £800.00,
surplus £300.00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dpledger import AccountState, Ledger, LedgerAccount, Money
from dpledger.ledger import Receipt

ACCOUNT = "DP-1"
ACTOR = "officer-1"
OPENED = "2026-04-06"
LATER = "2026-04-13"


@dataclass
class Funded:
    """The funded account ``DP-1`` on ``ledger``, with shortcuts for the usual set-ups."""

    ledger: Ledger
    account_id: str = ACCOUNT

    def state(self) -> AccountState:
        return self.ledger.account(self.account_id)

    @property
    def version(self) -> int:
        return self.state().version

    def bank(self) -> Money:
        return self.ledger.bank_balance(self.account_id)

    def owed(self, liability: LedgerAccount) -> Money:
        return self.state().owed(liability)

    def do(self, command: str, **kwargs: Any) -> Receipt:
        """Run a Ledger command on this account, filling in the actor and a default date."""
        kwargs.setdefault("actor", ACTOR)
        kwargs.setdefault("effective_date", LATER)
        return getattr(self.ledger, command)(self.account_id, **kwargs)

    def agency(self, agency_id: str = "AG-1", **kwargs: Any) -> Receipt:
        return self.do("register_agency", agency_id=agency_id, name=f"{agency_id} Care", **kwargs)

    def invoice(
        self,
        number: str = "INV-1",
        *,
        agency_id: str = "AG-1",
        hours: str = "10",
        rate: str = "20.00",
        total: str = "200.00",
        approve: bool = True,
    ) -> Receipt:
        """Receive (and by default approve) an invoice; returns the last receipt."""
        receipt = self.do(
            "receive_invoice",
            agency_id=agency_id,
            invoice_number=number,
            period_start="2026-04-06",
            period_end="2026-04-12",
            hours=hours,
            rate=rate,
            total=total,
        )
        if approve:
            receipt = self.do("approve_invoice", agency_id=agency_id, invoice_number=number)
        return receipt

    def pa(self, pa_id: str = "PA-1", rate: str = "12.71") -> Receipt:
        return self.do("register_personal_assistant", pa_id=pa_id, hourly_rate=rate)

    def wage_run(
        self,
        pa_id: str = "PA-1",
        *,
        period_start: str = "2026-04-06",
        period_end: str = "2026-04-12",
        **figures: Any,
    ) -> Receipt:
        """A wage run: by default gross £500, PAYE £40, employee NI £20, employer NI £30,
        employee pension £25, employer pension £15, so net £415, HMRC £90, pension £40."""
        values = {
            "hours": "39.34",
            "gross": "500.00",
            "paye": "40.00",
            "employee_ni": "20.00",
            "employer_ni": "30.00",
            "employee_pension": "25.00",
            "employer_pension": "15.00",
            "net": "415.00",
        }
        values.update(figures)
        return self.do(
            "record_wage_run",
            pa_id=pa_id,
            period_start=period_start,
            period_end=period_end,
            **values,
        )

    def unexpected(self, amount: str = "75.00", description: str = "unknown transfer") -> str:
        receipt = self.do("receive_unexpected_income", amount=amount, description=description)
        item_id = receipt.event.item_id
        assert isinstance(item_id, str)
        return item_id


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as the_ledger:
        yield the_ledger


def open_funded(ledger: Ledger, account_id: str = ACCOUNT, **policy: Any) -> Funded:
    ledger.open_account(
        account_id,
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date=OPENED,
        actor=ACTOR,
        policy=policy or None,
    )
    ledger.agree_budget(
        account_id,
        weekly_gross="100.00",
        weekly_contribution="20.00",
        effective_date=OPENED,
        actor=ACTOR,
    )
    ledger.receive_council_payment(account_id, amount="1000.00", effective_date=OPENED, actor=ACTOR)
    ledger.receive_contribution(account_id, amount="100.00", effective_date=OPENED, actor=ACTOR)
    return Funded(ledger, account_id)


@pytest.fixture
def make_funded(ledger: Ledger) -> Callable[..., Funded]:
    """Open another funded account: ``make_funded("DP-2", payment_basis="gross")``."""
    return lambda account_id=ACCOUNT, **policy: open_funded(ledger, account_id, **policy)


@pytest.fixture
def funded(ledger: Ledger) -> Funded:
    account = open_funded(ledger)
    assert account.version == 4
    assert account.bank() == Money("1100.00")
    return account
