"""A payment recorded from a bank line is the payment a person enters by hand: one code path.

Property: for a random budget, invoice, payroll and bank line, importing the line records exactly
the event that entering the same payment by hand records (``Ledger.execute`` of the command a
person would send, with the same actor, reason and idempotency key): same type, own fields,
postings, effective date, actor, reason, command key and command digest, at the same version;
and the two ledgers end with the same balances. Only the bank account's own record of the line
is extra on the bank side.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dpledger import Ledger, Money
from dpledger.adapters.bankfeeds.model import (
    BankFormat,
    BankStatement,
    BankTransaction,
    Direction,
)
from dpledger.commands import (
    Command,
    PayHmrc,
    PayInvoice,
    PayNetWages,
    PayPension,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveUnexpectedIncome,
    RecordUnexplainedOutgoing,
)
from dpledger.domain.events import AccountEvent

ACCOUNT = "DP-SAME"
ACTOR = "clerk-7"
OPENED = date(2026, 4, 6)
IBAN = "GB29NWBK60161331926819"
KINDS = (
    "council_payment",
    "contribution",
    "invoice_payment",
    "net_wages",
    "hmrc",
    "pension",
    "unexpected_income",
    "unexpected_outgoing",
)
# What an event carries that is not what it says: where it is in its account's chain, and when
# it was written. Everything else must be identical.
NOT_COMPARED = frozenset({"originator_id", "timestamp", "previous_digest", "digest"})


@dataclass(frozen=True)
class Scenario:
    """An account's budget, an approved invoice, a wage run, and one bank line."""

    weekly_gross: int
    weekly_contribution: int
    invoice_total: int
    net: int
    paye: int
    employee_pension: int
    employer_pension: int
    kind: str
    line_day: date
    pence: int
    """The line's signed amount."""
    text: str
    reference: str | None


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    gross = draw(st.integers(5_000, 60_000))
    contribution = draw(st.integers(1, gross - 1))
    invoice_total = draw(st.integers(1_000, 200_000))
    paye = draw(st.integers(0, 20_000))
    employee_pension = draw(st.integers(0, 5_000))
    employer_pension = draw(st.integers(0, 5_000))
    net = draw(st.integers(1_000, 150_000))
    kind = draw(st.sampled_from(KINDS))
    share = 4 * (gross - contribution)
    if kind == "council_payment":
        # the second due date (the first is paid by the funding below), within the margin
        day = OPENED + timedelta(days=28 + draw(st.integers(-5, 5)))
    else:
        # well away from every due date (days 0, 28, 56...: margin 5), so no rule competes
        day = OPENED + timedelta(days=draw(st.integers(10, 18)))
    owed = {
        "invoice_payment": invoice_total,
        "net_wages": net,
        "hmrc": paye,
        "pension": employee_pension + employer_pension,
    }
    text, pence = "PAYMENT", 0
    if kind == "council_payment":
        pence, text = share, "KENT CC DIRECT PAYMENT"
    elif kind == "contribution":
        pence, text = contribution * draw(st.integers(1, 13)), "SO CONTRIBUTION"
    elif kind in owed:
        pence = -owed[kind]
        text = {
            "invoice_payment": "CARE CO INV-77",
            "net_wages": "PA-1 WAGES",
            "hmrc": "HMRC CUMBERNAULD",
            "pension": "NEST PENSIONS",
        }[kind]
    elif kind == "unexpected_income":
        pence, text = draw(st.integers(1, 500_000)), draw(st.sampled_from(["REFUND", "GIFT"]))
        if pence % contribution == 0 and pence // contribution <= 13:
            pence += 1  # not whole weeks of the contribution
    else:
        pence, text = -draw(st.integers(1, 500_000)), draw(st.sampled_from(["SHOP", "FEE"]))
        while -pence in owed.values():
            pence -= 1  # owed by no one
    if pence == 0:
        kind, pence, text = "unexpected_outgoing", -draw(st.integers(1, 99)), "FEE"
    reference = draw(st.one_of(st.none(), st.from_regex(r"[A-Z]{2,4}-[0-9]{1,6}", fullmatch=True)))
    return Scenario(
        gross,
        contribution,
        invoice_total,
        net,
        paye,
        employee_pension,
        employer_pension,
        kind,
        day,
        pence,
        text,
        reference,
    )


def set_up(ledger: Ledger, case: Scenario) -> None:
    """The same history on both ledgers: the account (its bank account named), budget, funds,
    an approved invoice and a wage run, all by hand on the opening day."""
    day = {"effective_date": OPENED, "actor": ACTOR}
    ledger.open_account(
        ACCOUNT,
        person_ref="P-7",
        council="Kent County Council",
        provider="SOLO",
        bank_account=IBAN,
        **day,
    )
    ledger.agree_budget(
        ACCOUNT,
        weekly_gross=Money(case.weekly_gross),
        weekly_contribution=Money(case.weekly_contribution),
        **day,
    )
    ledger.receive_council_payment(
        ACCOUNT,
        amount="9000000.00",  # funds every payment; no bank line is ever this much
        period_start=OPENED,
        period_end=OPENED + timedelta(days=27),
        **day,
    )
    ledger.register_agency(ACCOUNT, agency_id="AG-1", name="Care Co", **day)
    ledger.receive_invoice(
        ACCOUNT,
        agency_id="AG-1",
        invoice_number="INV-77",
        period_start=OPENED,
        period_end=OPENED + timedelta(days=6),
        hours="1",
        rate=Money(case.invoice_total),
        total=Money(case.invoice_total),
        **day,
    )
    ledger.approve_invoice(ACCOUNT, agency_id="AG-1", invoice_number="INV-77", **day)
    ledger.register_personal_assistant(ACCOUNT, pa_id="PA-1", hourly_rate="12.71", **day)
    gross = case.net + case.paye + case.employee_pension
    ledger.record_wage_run(
        ACCOUNT,
        pa_id="PA-1",
        period_start=OPENED,
        period_end=OPENED + timedelta(days=6),
        hours="10",
        gross=Money(gross),
        paye=Money(case.paye),
        employee_ni="0",
        employer_ni="0",
        employee_pension=Money(case.employee_pension),
        employer_pension=Money(case.employer_pension),
        net=Money(case.net),
        **day,
    )


def statement(case: Scenario) -> BankStatement:
    line = BankTransaction(
        booking_date=case.line_day,
        amount=Money(abs(case.pence)),
        direction=Direction.CREDIT if case.pence > 0 else Direction.DEBIT,
        description=case.text,
        bank_reference=case.reference,
        source_location="Ntry[1]",
    )
    return BankStatement(
        source_file="same.xml",
        format=BankFormat.CAMT053,
        account_id=IBAN,
        currency="GBP",
        transactions=(line,),
    )


def by_hand(case: Scenario, reason: str, key: str) -> Command:
    """The command a person would send for the line's payment, reading the statement."""
    meta: dict[str, Any] = {
        "account_id": ACCOUNT,
        "effective_date": case.line_day,
        "actor": ACTOR,
        "reason": reason,
        "idempotency_key": key,
    }
    amount = Money(abs(case.pence))
    paid = {"amount": amount, "bank_reference": case.reference, **meta}
    if case.kind == "council_payment":
        due = OPENED + timedelta(days=28)
        return ReceiveCouncilPayment.build(
            period_start=due, period_end=due + timedelta(days=27), **paid
        )
    if case.kind == "contribution":
        return ReceiveContribution.build(**paid)
    if case.kind == "invoice_payment":
        return PayInvoice.build(agency_id="AG-1", invoice_number="INV-77", **paid)
    if case.kind == "net_wages":
        return PayNetWages.build(pa_id="PA-1", **paid)
    if case.kind == "hmrc":
        return PayHmrc.build(**paid)
    if case.kind == "pension":
        return PayPension.build(**paid)
    if case.kind == "unexpected_income":
        return ReceiveUnexpectedIncome.build(amount=amount, description=case.text, **meta)
    return RecordUnexplainedOutgoing.build(amount=amount, description=case.text, **meta)


def said(event: AccountEvent) -> dict[str, Any]:
    """Everything the event says, but where it sits in the chain and when it was written."""
    return {f.name: getattr(event, f.name) for f in fields(event) if f.name not in NOT_COMPARED}


@given(scenarios())
def test_a_bank_line_records_the_event_a_hand_entry_records(case: Scenario) -> None:
    with Ledger.in_memory() as bank_side:
        set_up(bank_side, case)
        report = bank_side.import_statement(ACCOUNT, statement(case), actor=ACTOR)
        (line,) = report.recorded
        assert line.match == case.kind, line.reason
        from_bank = bank_side.events(ACCOUNT)
        bank_balances = bank_side.balances(ACCOUNT)
    with Ledger.in_memory() as hand_side:
        set_up(hand_side, case)
        receipt = hand_side.execute(by_hand(case, line.reason, f"bank:{line.key}"))
        by_hand_events = hand_side.events(ACCOUNT)
        hand_balances = hand_side.balances(ACCOUNT)

    assert receipt.version == line.version == len(from_bank) == len(by_hand_events)
    recorded, entered = from_bank[-1], by_hand_events[-1]
    assert type(recorded) is type(entered)
    assert said(recorded) == said(entered)
    assert recorded.postings == entered.postings
    assert recorded.command_key == entered.command_key == f"bank:{line.key}"
    # the histories before it are the same too (only when they were written differs)
    assert [said(e) for e in from_bank[:-1]] == [said(e) for e in by_hand_events[:-1]]
    assert bank_balances == hand_balances
