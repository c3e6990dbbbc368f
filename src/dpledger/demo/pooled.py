"""The demo's pooled client account: two managed accounts whose money is held in one bank account.

Kestrel keeps DP-1006's and DP-1007's money in its "Virtual Wallet client account", one real bank
account with a sub-ledger per person. Their money moves only through it: nothing is keyed by hand.
At the end of each 4-weekly period the bank sends an ISO 20022 **camt.053** statement of the pool
(:func:`camt053`: the IBAN, booked entries, and opening and closing booked balances that chain
from one statement to the next); the demo parses it as a bank file
(:func:`dpledger.adapters.bankfeeds.parse_bytes`) and imports it with
:meth:`~dpledger.Ledger.import_pooled_statement`, which gives each line to its member:

- council payments name the person's reference (``P-10236``): **the bank's text names** them;
- the agency's invoices (``OAKFIELD CARE LTD``) and DP-1007's contributions (payer
  ``A MORGAN``) match the provider's **allocation table**;
- DP-1006's standing order names nobody but is exactly 4 weeks of its contribution and of no one
  else's: it matches **an expected payment**;
- one contribution from a new payer (``S MORGAN``) names nobody and fits both members'
  contributions, so it is **held as unallocated** until a finance officer allocates it, with a
  reason.

Every statement's closing balance is stated to the ledger beside the pool's, so the report's
reconciliation line is backed by the balances the bank stated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from xml.sax.saxutils import escape

from dpledger import Ledger, Money
from dpledger.adapters.bankfeeds import parse_bytes
from dpledger.application.bankreport import ImportReport
from dpledger.demo.payroll import four_weekly_payslip, hmrc_due_date, next_month_22nd
from dpledger.demo.setting import (
    ADMIN,
    BANK_FEED,
    COUNCIL,
    FINANCE,
    KESTREL,
    NORTHSHIRE_POLICY,
    PAYROLL,
    SETUP,
    SOCIAL_WORK,
    YEAR_END,
    YEAR_START,
    calendar_months,
    four_weekly_periods,
)
from dpledger.demo.year import Year

POOL_IBAN = "GB19NWBK60951120250407"
"""The pooled client account's IBAN (sort code 60-95-11, account 20250407; invented)."""
POOL_NAME = "Virtual Wallet client account"
POOLED_ABOUT = {
    "DP-1006": "agency care from Oakfield Care, about 13 hours a week, invoiced monthly",
    "DP-1007": "one PA at £12.75 an hour, 22.5 hours a week; HMRC quarterly",
}
"""What each account in the pool is, in a few words."""

STATEMENT_DONE = 4
"""A stage after payments out: the bank's end-of-day statement is read last."""

_AGENCY, _AGENCY_NAME, _AGENCY_RATE = "AG-OAK", "Oakfield Care Ltd", Money("26.40")
_OAK_HOURS = ("52", "57", "55.5", "58", "54", "56", "57.5", "55", "58", "56", "51", "57")
_PA_RATE, _PA_HOURS = Money("12.75"), Decimal(90)
_HELD_DAY = date(2025, 9, 23)
"""The day a contribution arrives from a payer nobody has seen before."""
_RULES = (
    {"account_id": "DP-1006", "pattern": r"\bOAKFIELD\b", "field": "text"},
    {"account_id": "DP-1007", "pattern": r"\bA\.? ?MORGAN\b", "field": "payer"},
)
"""Kestrel's allocation table: the agency only DP-1006 uses, and DP-1007's payer."""


# ----------------------------------------------------------------------------- the bank's file
@dataclass(frozen=True, slots=True)
class PoolLine:
    """One entry of the pool's bank statement: signed pence (negative: money out)."""

    day: date
    pence: int
    text: str
    party: str
    ref: str


def _amount(pence: int) -> str:
    return f"{abs(pence) // 100}.{abs(pence) % 100:02d}"


def camt053(
    lines: list[PoolLine],
    *,
    iban: str,
    statement_id: str,
    period: tuple[date, date],
    opening_pence: int,
) -> bytes:
    """A camt.053.001.08 end-of-day statement of ``iban`` for ``period``: the booked ``lines``,
    the opening booked balance (``OPBD``, dated the first day) and the closing one (``CLBD``,
    the opening plus the lines), as a bank sends them."""
    start, end = period

    def balance(code: str, pence: int, day: date) -> str:
        side = "CRDT" if pence >= 0 else "DBIT"
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="GBP">{_amount(pence)}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
        )

    closing = opening_pence + sum(line.pence for line in lines)
    parts = [balance("OPBD", opening_pence, start), balance("CLBD", closing, end)]
    for line in sorted(lines, key=lambda item: (item.day, item.ref)):
        credit = line.pence > 0
        role = "Dbtr" if credit else "Cdtr"
        parts.append(
            f'<Ntry><Amt Ccy="GBP">{_amount(line.pence)}</Amt>'
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{line.day.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{line.day.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape(line.ref)}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>"
            f"{'RCDT' if credit else 'ICDT'}</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
            "</BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f"<RltdPties><{role}><Nm>{escape(line.party)}</Nm></{role}></RltdPties>"
            f"<RmtInf><Ustrd>{escape(line.text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(statement_id)}</MsgId>"
        f"<CreDtTm>{(end + timedelta(days=1)).isoformat()}T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(statement_id)}</Id>"
        f"<FrToDt><FrDtTm>{start.isoformat()}T00:00:00</FrDtTm>"
        f"<ToDtTm>{end.isoformat()}T23:59:59</ToDtTm></FrToDt>"
        f"<Acct><Id><IBAN>{escape(iban)}</IBAN></Id><Ccy>GBP</Ccy>"
        f"<Nm>{escape(POOL_NAME)}</Nm></Acct>"
        f"{''.join(parts)}</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


# ----------------------------------------------------------------------------- the pool's year
@dataclass
class PoolYear:
    """The pool's story on the demo :class:`~dpledger.demo.year.Year`: its members' paperwork,
    the lines the bank books, a statement imported at the end of each 4-weekly period, and the
    held line a person allocates.

    Its commands are counted apart from the five accounts' (an import records many events)."""

    year: Year
    lines: list[PoolLine] = field(default_factory=list)
    imports: list[ImportReport] = field(default_factory=list)
    commands: int = 0
    allocated: list[str] = field(default_factory=list)
    """What the person who allocated the held line decided, in words."""
    _closing: int = 0

    @property
    def ledger(self) -> Ledger:
        """The demo's ledger."""
        return self.year.ledger

    def send(self, command: Callable[[], object]) -> None:
        """Send one command to the ledger."""
        self.commands += 1
        command()

    def at(self, day: date, stage: int, command: Callable[[], object]) -> None:
        """Send ``command`` on ``day``."""
        self.year.on(day, stage, partial(self.send, command))

    def book(self, day: date, pence: int, text: str, party: str) -> None:
        """A line the bank will book on ``day`` (only days in the demo year happen)."""
        if YEAR_START <= day <= YEAR_END:
            ref = f"VW{day:%y%m%d}{len(self.lines) + 1:04d}"
            self.lines.append(PoolLine(day, pence, text, party, ref))

    # -- set-up
    def open(self) -> None:
        """Declare the pool, open its members (each naming it), then give the table: rules
        may only name accounts that exist."""
        ledger = self.ledger
        declare = partial(
            ledger.open_pooled_account,
            POOL_IBAN,
            name=POOL_NAME,
            opened_on=YEAR_START,
            actor=FINANCE,
        )
        self.at(YEAR_START, SETUP, declare)
        members = (
            ("DP-1006", "P-10236", "350.00", "20.00"),
            ("DP-1007", "P-10237", "340.00", "15.00"),
        )
        for account_id, person_ref, gross, contribution in members:
            opened = partial(
                ledger.open_account,
                account_id,
                person_ref=person_ref,
                council=COUNCIL,
                provider=KESTREL,
                policy=NORTHSHIRE_POLICY,
                effective_date=YEAR_START,
                actor=SOCIAL_WORK,
            )
            budget = partial(
                ledger.agree_budget,
                account_id,
                weekly_gross=gross,
                weekly_contribution=contribution,
                effective_date=YEAR_START,
                actor=SOCIAL_WORK,
            )
            named = partial(
                ledger.name_bank_account,
                account_id,
                bank_account=POOL_IBAN,
                effective_date=YEAR_START,
                actor=FINANCE,
            )
            for command in (opened, budget, named):
                self.at(YEAR_START, SETUP, command)
        agency = partial(
            ledger.register_agency,
            "DP-1006",
            agency_id=_AGENCY,
            name=_AGENCY_NAME,
            hourly_rate=_AGENCY_RATE,
            effective_date=YEAR_START,
            actor=FINANCE,
        )
        pa = partial(
            ledger.register_personal_assistant,
            "DP-1007",
            pa_id="PA-1",
            hourly_rate=_PA_RATE,
            effective_date=YEAR_START,
            actor=PAYROLL,
        )
        self.at(YEAR_START, SETUP, agency)
        self.at(YEAR_START, SETUP, pa)
        self.at(YEAR_START, SETUP, partial(declare, rules=_RULES))

    # -- money in
    def money_in(self) -> None:
        """Council payments (4-weekly in advance, naming the person) and contributions."""
        for start, _ in four_weekly_periods():
            for person_ref, net in (("P-10236", "330.00"), ("P-10237", "325.00")):
                text = f"NORTHSHIRE CC DIRECT PAYMENT {person_ref} {start:%d%m%y}"
                self.book(start, (Money(net) * 4).pence, text, "NORTHSHIRE CC")
            if start + timedelta(days=1) == _HELD_DAY:
                # Mrs Morgan's daughter pays this time, from her own account: it names nobody,
                # and £60.00 is 3 weeks of DP-1006's contribution as well as 4 of DP-1007's.
                self.book(_HELD_DAY, 6_000, "MUM CARE MONEY", "S MORGAN")
            else:
                self.book(start + timedelta(days=1), 6_000, "CONTRIBUTION", "A MORGAN")
            self.book(start + timedelta(days=2), 8_000, "STANDING ORDER", "R PATEL")

    # -- money out
    def agency_invoices(self) -> None:
        """DP-1006's monthly invoices: received on the 4th, approved the 5th, paid the 14th."""
        ledger = self.ledger
        for index, (start, end) in enumerate(calendar_months()):
            if end > YEAR_END:
                break
            number = f"OAK-{start:%y%m}"
            hours = Decimal(_OAK_HOURS[index])
            total = Money(
                int((hours * _AGENCY_RATE.pence).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            )
            received = min(end + timedelta(days=4), YEAR_END - timedelta(days=2))
            receive = partial(
                ledger.receive_invoice,
                "DP-1006",
                agency_id=_AGENCY,
                invoice_number=number,
                period_start=start,
                period_end=end,
                hours=hours,
                rate=_AGENCY_RATE,
                total=total,
                effective_date=received,
                actor=FINANCE,
            )
            approve = partial(
                ledger.approve_invoice,
                "DP-1006",
                agency_id=_AGENCY,
                invoice_number=number,
                effective_date=received + timedelta(days=1),
                actor=FINANCE,
            )
            self.at(received, ADMIN, receive)
            self.at(received + timedelta(days=1), ADMIN, approve)
            paid = end + timedelta(days=14)
            self.book(paid, -total.pence, f"INVOICE {number}", _AGENCY_NAME.upper())

    def payroll(self) -> None:
        """DP-1007's PA: wages 4-weekly in arrears, HMRC quarterly, the pension monthly."""
        ledger = self.ledger
        slip = four_weekly_payslip(_PA_HOURS, _PA_RATE)
        hmrc: dict[date, int] = {}
        pension: dict[date, int] = {}
        for start, end in four_weekly_periods():
            pay_day = end + timedelta(days=5)
            if pay_day > YEAR_END:
                continue
            run = partial(
                ledger.record_wage_run,
                "DP-1007",
                pa_id="PA-1",
                period_start=start,
                period_end=end,
                hours=slip.hours,
                gross=slip.gross,
                paye=slip.paye,
                employee_ni=slip.employee_ni,
                employer_ni=slip.employer_ni,
                employee_pension=slip.employee_pension,
                employer_pension=slip.employer_pension,
                net=slip.net,
                effective_date=pay_day,
                actor=PAYROLL,
            )
            self.at(pay_day, ADMIN, run)
            self.book(pay_day, -slip.net.pence, f"WAGES PA-1 DP-1007 {end:%d%m%y}", "PA-1")
            due = hmrc_due_date(pay_day, quarterly=True)
            hmrc[due] = hmrc.get(due, 0) + slip.hmrc.pence
            monthly = next_month_22nd(pay_day)
            pension[monthly] = pension.get(monthly, 0) + slip.pension.pence
        for day, pence in hmrc.items():
            self.book(day, -pence, "HMRC PAYE DP-1007", "HMRC")
        for day, pence in pension.items():
            self.book(day, -pence, "NEST PENSION DP-1007", "NEST")

    # -- the bank's statements, and the person who allocates
    def statements(self) -> None:
        """At the end of each 4-weekly period, read the bank's camt.053 statement of it."""
        for number, (start, end) in enumerate(four_weekly_periods(), start=1):
            self.year.on(end, STATEMENT_DONE, partial(self._import, number, start, end))

    def _import(self, number: int, start: date, end: date) -> None:
        lines = [line for line in self.lines if start <= line.day <= end]
        statement_id = f"VW-{end:%Y%m%d}"
        data = camt053(
            lines,
            iban=POOL_IBAN,
            statement_id=statement_id,
            period=(start, end),
            opening_pence=self._closing,
        )
        self._closing += sum(line.pence for line in lines)
        parsed = parse_bytes(data, filename=f"virtual-wallet-{number:02d}-{end:%Y%m%d}.xml")
        self.commands += 1
        self.imports.append(self.ledger.import_pooled_statement(parsed, actor=BANK_FEED))

    def allocate_held(self, day: date) -> None:
        """A finance officer allocates the line held since :data:`_HELD_DAY`, saying why."""

        def allocate() -> None:
            held = next(
                h for h in self.ledger.unallocated(POOL_IBAN) if h.booking_date == _HELD_DAY
            )
            reason = "Mrs Morgan's daughter paid it this time"
            self.commands += 1
            receipt = self.ledger.allocate(
                POOL_IBAN,
                held.key,
                "DP-1007",
                actor=FINANCE,
                reason=reason,
                idempotency_key=f"pool:allocate:{held.key}",
            )
            text = (
                f"pooled account: {held.remaining} from S MORGAN named nobody and fit both "
                f"members' contributions: held; allocated {day} to {receipt.account_id} by "
                f"{FINANCE}: {reason}"
            )
            self.allocated.append(text)
            self.year.note(_HELD_DAY, receipt.account_id, text)

        self.year.on(day, ADMIN, allocate)


def pooled_story(year: Year) -> PoolYear:
    """Schedule the pool's year on ``year`` and return it (read it after the year has run)."""
    pool = PoolYear(year)
    pool.open()
    pool.money_in()
    pool.agency_invoices()
    pool.payroll()
    pool.statements()
    # The statement holding the held line is read at the end of its period, 2025-10-19.
    pool.allocate_held(date(2025, 10, 20))
    return pool
