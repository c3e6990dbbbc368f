"""Bounds: what the write side refuses, and that the read side survives all it accepts.

Every bound refuses with a :class:`ValidationError` naming the field and saying what to do, and
the store is left exactly as it was. And whatever passes the bounds (amounts at the ceiling,
dates at both ends of the window, the longest printable text in any script) must be readable:
balances, statements, warnings, the portfolio, verification, beancount export and
reconciliation never fail on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpledger import Ledger, LedgerAccount, Money
from dpledger.commands import (
    AgreeBudget,
    AgreeCarePlan,
    ApproveInvoice,
    OpenAccount,
    PayCarePlanSpend,
    ReceiveCouncilPayment,
    ReceiveInvoice,
    ReceiveUnexpectedIncome,
    RecordReview,
    RecordWageRun,
    RegisterPersonalAssistant,
)
from dpledger.domain.bounds import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_HOURS,
    MAX_KEY,
    MAX_NAME,
    MAX_PENCE,
    MAX_REFERENCE,
    MAX_TEXT,
)
from dpledger.domain.commands import Command
from dpledger.errors import DpledgerError, ValidationError
from dpledger.reporting.text import render_statement

ACCOUNT = "DP-1"
ACTOR = "officer-1"
DAY = "2026-04-13"
BIDI_OVERRIDE = "\u202e"


@pytest.fixture
def funded(ledger: Ledger) -> Ledger:
    ledger.open_account(
        ACCOUNT,
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        effective_date="2026-04-06",
        actor=ACTOR,
    )
    ledger.receive_council_payment(ACCOUNT, amount="1000.00", effective_date=DAY, actor=ACTOR)
    ledger.register_agency(
        ACCOUNT, agency_id="AG-1", name="Oak Care", effective_date=DAY, actor=ACTOR
    )
    return ledger


def _store(ledger: Ledger) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: the notification log, the account's
    events and balances."""
    return (
        ledger.application.recorder.max_notification_id(),
        [e.digest for e in ledger.events(ACCOUNT)],
        ledger.balances(ACCOUNT),
    )


def pay(**fields: Any) -> Callable[[Ledger], Any]:
    values: dict[str, Any] = {"amount": "10.00", "effective_date": DAY, "actor": ACTOR}
    values.update(fields)
    return lambda ledger: ledger.receive_council_payment(ACCOUNT, **values)


def spend(**fields: Any) -> Callable[[Ledger], Any]:
    values: dict[str, Any] = {
        "category": "insurance",
        "amount": "10.00",
        "description": "employer's liability",
        "effective_date": DAY,
        "actor": ACTOR,
    }
    values.update(fields)
    return lambda ledger: ledger.pay_care_plan_spend(ACCOUNT, **values)


def invoice(**fields: Any) -> Callable[[Ledger], Any]:
    values: dict[str, Any] = {
        "agency_id": "AG-1",
        "invoice_number": "INV-1",
        "period_start": "2026-04-06",
        "period_end": "2026-04-12",
        "hours": "10",
        "rate": "20.00",
        "total": "200.00",
        "effective_date": DAY,
        "actor": ACTOR,
    }
    values.update(fields)
    return lambda ledger: ledger.receive_invoice(ACCOUNT, **values)


CEILING = "is above the ceiling of £10,000,000.00 for one amount"
CEILING_FIX = "check the amount (pence, not pounds?); no Direct Payment movement is that large"
INVISIBLE_FIX = "remove control characters, line breaks and direction marks"

BOUNDS = [
    pytest.param(pay(amount=2**63), "amount", CEILING, CEILING_FIX, id="2**63-pence"),
    pytest.param(
        pay(amount="100000000000000000000.00"), "amount", CEILING, CEILING_FIX, id="10**20-pounds"
    ),
    pytest.param(pay(amount=MAX_PENCE + 1), "amount", CEILING, CEILING_FIX, id="ceiling+1p"),
    pytest.param(
        invoice(rate=Money(MAX_PENCE + 1), total="1.00"), "rate", CEILING, CEILING_FIX, id="rate"
    ),
    pytest.param(
        pay(amount=1.5),
        "amount",
        "1.5 is not an amount of money",
        "pass Money, pounds as a str like '12.34' or a Decimal, or int pence",
        id="float-amount",
    ),
    pytest.param(
        pay(amount=Decimal("NaN")),
        "amount",
        "NaN is not a finite amount",
        "pass a real amount",
        id="nan-amount",
    ),
    pytest.param(
        invoice(hours=12.5),
        "hours",
        "12.5 is not exact",
        "pass a Decimal or a str like '12.5'",
        id="float-hours",
    ),
    pytest.param(
        invoice(hours=str(MAX_HOURS + 1)),
        "hours",
        "must be a number of hours from 0 to 8784",
        "pass hours as a Decimal or str such as '37.5'",
        id="hours-above-a-year",
    ),
    pytest.param(
        pay(effective_date="9999-12-31"),
        "effective_date",
        "9999-12-31 is outside the dates dpledger keeps (1997-04-01 to 2099-12-31)",
        "check the year: no plan runs past 2099-12-31",
        id="9999-12-31",
    ),
    pytest.param(
        pay(effective_date="1900-01-01"),
        "effective_date",
        "1900-01-01 is outside the dates dpledger keeps (1997-04-01 to 2099-12-31)",
        "check the year: no Direct Payment is older than April 1997",
        id="1900-01-01",
    ),
    pytest.param(
        invoice(period_end=date.max),
        "period_end",
        "is outside the dates dpledger keeps",
        "check the year",
        id="date.max-period",
    ),
    pytest.param(
        spend(description="x" * 1_000_000),
        "description",
        "is 1,000,000 characters long, more than 1,000",
        "shorten it; keep documents outside the ledger and refer to them",
        id="1MB-description",
    ),
    pytest.param(
        invoice(invoice_number="N" * (MAX_REFERENCE + 1)),
        "invoice_number",
        "is 141 characters long, more than 140",
        "shorten it",
        id="long-reference",
    ),
    pytest.param(
        spend(description="employer's\x00liability"),
        "description",
        r"contains U+0000 (control character), which would not print as written",
        INVISIBLE_FIX,
        id="NUL",
    ),
    pytest.param(
        spend(description="line one\nline two"),
        "description",
        "contains U+000A (control character)",
        INVISIBLE_FIX,
        id="newline",
    ),
    pytest.param(
        pay(bank_reference=f"KCC {BIDI_OVERRIDE}00.01£"),
        "bank_reference",
        "contains U+202E (right-to-left override)",
        INVISIBLE_FIX,
        id="U+202E-reference",
    ),
    pytest.param(
        pay(actor=f"officer{BIDI_OVERRIDE}-1"),
        "actor",
        "contains U+202E (right-to-left override)",
        INVISIBLE_FIX,
        id="U+202E-actor",
    ),
    pytest.param(
        spend(description="   "),
        "description",
        "must not be blank",
        "give a description",
        id="blank",
    ),
    pytest.param(
        pay(idempotency_key="retry-1\n"),
        "idempotency_key",
        "must be printable characters only (no newlines, tabs or control characters)",
        "use the bank's transaction id or your request id as it is printed",
        id="key-newline",
    ),
    pytest.param(
        pay(idempotency_key="k" * (MAX_KEY + 1)),
        "idempotency_key",
        "must be a non-blank string of at most 200 characters",
        "use the bank's transaction id",
        id="key-too-long",
    ),
    pytest.param(
        invoice(agency_id="AG-1\n"),
        "agency_id",
        "is not a valid id",
        "use 1-64 letters, digits",
        id="id-trailing-newline",
    ),
    pytest.param(
        lambda ledger: ledger.correct(
            ACCOUNT, version=0, reason="wrong", effective_date=DAY, actor=ACTOR
        ),
        "version",
        "must be a positive event version",
        "name an event version from the account's history (Ledger.events)",
        id="version-0",
    ),
]


@pytest.mark.parametrize(("attempt", "field", "message", "fix"), BOUNDS)
def test_each_bound_refuses_naming_the_field_and_the_fix_and_records_nothing(
    funded: Ledger, attempt: Callable[[Ledger], Any], field: str, message: str, fix: str
) -> None:
    before = _store(funded)
    with pytest.raises(ValidationError) as caught:
        attempt(funded)
    error = caught.value
    assert error.field == field
    assert message in error.message
    assert error.fix.startswith(fix)
    assert error.account_id == ACCOUNT
    assert _store(funded) == before


def test_a_newline_in_an_account_id_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        ledger.open_account(
            "DP-1\n",
            person_ref="P-77",
            council="Kent County Council",
            provider="SOLO",
            effective_date="2026-04-06",
            actor=ACTOR,
        )
    assert caught.value.field == "account_id"
    assert ledger.application.recorder.max_notification_id() in (None, 0)


def test_a_command_built_as_data_is_bounded_alike() -> None:
    with pytest.raises(ValidationError) as caught:
        ReceiveCouncilPayment(
            account_id=ACCOUNT, effective_date=DAY, actor=ACTOR, amount=Money(MAX_PENCE + 1)
        )
    assert (caught.value.field, caught.value.fix) == ("amount", CEILING_FIX)


def test_the_bounds_themselves_are_accepted(funded: Ledger) -> None:
    funded.receive_council_payment(ACCOUNT, amount=MAX_PENCE, effective_date=DAY, actor=ACTOR)
    funded.receive_council_payment(
        ACCOUNT, amount="1.00", effective_date=LATEST_DATE, actor=ACTOR, bank_reference="R" * 140
    )
    funded.pay_care_plan_spend(
        ACCOUNT,
        category="insurance",
        amount=MAX_PENCE,
        description="é" * MAX_TEXT,
        effective_date=DAY,
        actor=ACTOR,
        idempotency_key="k" * MAX_KEY,
    )
    assert funded.bank_balance(ACCOUNT) == Money("1001.00")


# ---------------------------------------------------------------------------- the read side
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PRINTABLE = st.characters(
    codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters=_BIDI
).filter(lambda ch: ch.isprintable())


def texts(limit: int) -> st.SearchStrategy[str]:
    """Printable text the bounds accept, often as long as they allow: no surrounding spaces
    (they are stripped), any script, symbols and marks."""
    edge = _PRINTABLE.filter(lambda ch: not ch.isspace())
    body = st.text(_PRINTABLE, min_size=0, max_size=max(0, limit - 2))
    longest = st.text(_PRINTABLE, min_size=limit - 2, max_size=limit - 2)
    return st.tuples(edge, st.one_of(body, longest), edge).map("".join)


identifiers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)
ends = st.sampled_from([EARLIEST_DATE, LATEST_DATE - timedelta(days=1), LATEST_DATE])
days = st.one_of(ends, st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE))
amounts = st.one_of(
    st.just(Money(MAX_PENCE)), st.just(Money(1)), st.integers(1, MAX_PENCE).map(Money)
)


@dataclass(frozen=True)
class Extremes:
    """An account opened on ``opened`` by commands at the edges of what the write side accepts."""

    opened: date
    council: str
    commands: tuple[Command, ...]


@st.composite
def extremes(draw: st.DrawFn) -> Extremes:
    # One text of each length limit, used for every field of that limit: four long texts are
    # as much as hypothesis may draw for one example.
    long_text, name, reference = (
        draw(texts(MAX_TEXT)),
        draw(texts(MAX_NAME)),
        draw(texts(MAX_REFERENCE)),
    )
    key = draw(texts(MAX_KEY - 2))
    opened = draw(ends)
    meta = {"account_id": ACCOUNT, "actor": long_text}

    def when() -> date:
        return max(opened, draw(days))

    hours = draw(st.sampled_from([MAX_HOURS, Decimal("0.01"), Decimal("37.5")]))
    rate = Money(min(MAX_PENCE, int(Decimal(MAX_PENCE) / hours)))
    total = Money(int((hours * rate.pence).to_integral_value()))
    start = when()
    end = draw(st.dates(min_value=start, max_value=LATEST_DATE))
    pa_id = draw(identifiers)
    gross = draw(amounts)
    commands: list[Command] = [
        OpenAccount(
            **meta,
            effective_date=opened,
            person_ref=draw(identifiers),
            council=name,
            provider=name,
            reason=long_text,
        ),
        AgreeBudget(
            **meta,
            effective_date=opened,
            weekly_gross=Money(MAX_PENCE),
            weekly_contribution=draw(amounts),
        ),
        AgreeCarePlan(
            **meta,
            effective_date=opened,
            agency_hours_per_week=draw(st.sampled_from(["0", "0.01", "168"])),
            pa_hours_per_week=draw(st.sampled_from(["0", "37.5", "168"])),
        ),
        *(
            ReceiveCouncilPayment(
                **meta,
                effective_date=when(),
                amount=draw(amounts),
                bank_reference=reference,
                idempotency_key=f"{key}-{n}",
            )
            for n in range(draw(st.integers(1, 3)))
        ),
        PayCarePlanSpend(
            **meta,
            effective_date=when(),
            category=draw(st.sampled_from(["insurance", "support_fees", "other_care_plan"])),
            amount=draw(amounts),
            description=long_text,
        ),
        ReceiveInvoice(
            **meta,
            effective_date=end,
            agency_id="AG-1",
            invoice_number=reference,
            period_start=start,
            period_end=end,
            hours=hours,
            rate=rate,
            total=total,
        ),
        ApproveInvoice(**meta, effective_date=end, agency_id="AG-1", invoice_number=reference),
        ReceiveUnexpectedIncome(
            **meta, effective_date=when(), amount=draw(amounts), description=long_text
        ),
        RegisterPersonalAssistant(
            **meta, effective_date=opened, pa_id=pa_id, hourly_rate=draw(amounts)
        ),
        RecordReview(**meta, effective_date=when(), reason=long_text),
        RecordWageRun(
            **meta,
            effective_date=end,
            pa_id=pa_id,
            period_start=start,
            period_end=end,
            hours=hours,
            gross=gross,
            paye=Money(0),
            employee_ni=Money(0),
            employer_ni=draw(st.sampled_from([Money(0), Money(MAX_PENCE)])),
            employee_pension=Money(0),
            employer_pension=Money(0),
            net=gross,
        ),
    ]
    return Extremes(opened, name, tuple(commands))


def _record(ledger: Ledger, scenario: Extremes) -> int:
    """Record what the write side accepts (a refused command is refused whole); returns how
    many commands were recorded."""
    recorded = 0
    for command in scenario.commands:
        if isinstance(command, ReceiveInvoice):
            ledger.register_agency(
                ACCOUNT,
                agency_id="AG-1",
                name=scenario.council,
                hourly_rate=command.rate,
                effective_date=scenario.opened,
                actor=ACTOR,
            )
        try:
            ledger.execute(command)
        except DpledgerError:
            continue
        recorded += 1
    return recorded


@pytest.fixture
def fresh_ledger() -> Iterator[Callable[[], Ledger]]:
    opened: list[Ledger] = []

    def make() -> Ledger:
        opened.append(Ledger.in_memory(seal_key=b"bounds-test-seal-key"))
        return opened[-1]

    yield make
    for ledger in opened:
        ledger.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=extremes())
def test_the_read_side_survives_anything_the_write_side_accepts(
    fresh_ledger: Callable[[], Ledger], scenario: Extremes
) -> None:
    ledger = fresh_ledger()
    assert _record(ledger, scenario) >= 1  # the opening is always accepted
    events = ledger.events(ACCOUNT)
    balances = ledger.balances(ACCOUNT)
    assert sum(b.pence for b in balances.values()) == 0
    for day in sorted({EARLIEST_DATE, LATEST_DATE, *(e.effective_date for e in events)}):
        ledger.balance(ACCOUNT, as_of=day)
        ledger.balances_as_of(ACCOUNT, day)
    assert ledger.balance(ACCOUNT, as_of=LATEST_DATE) == balances[LedgerAccount.BANK]
    statement = ledger.statement(ACCOUNT, EARLIEST_DATE, LATEST_DATE)
    assert render_statement(statement)
    ledger.statement(ACCOUNT, scenario.opened, scenario.opened)
    ledger.warnings(ACCOUNT, active_only=False)
    ledger.warnings()
    for on in (EARLIEST_DATE, LATEST_DATE):
        ledger.portfolio(scenario.council, on=on)
    assert ledger.verify().ok
    seal = ledger.seal(ACCOUNT)
    assert ledger.verify(ACCOUNT, seals=[seal]).ok
    assert ledger.export_beancount().strip()
    assert ledger.reconciliation_breaks(ACCOUNT) == []
