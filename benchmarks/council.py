"""A council's year of Direct Payment accounts, seeded, recorded through the ``Ledger`` API.

Presets (:data:`PRESETS`): ``coventry`` (793 accounts, one year), ``leicester`` (1,557 accounts,
one year), ``decade`` (one account, ten years), and small ones for tests and ``make bench-quick``.
Each account's year is about 300 events: the council's net payment every four weeks and the
person's contribution, a weekly agency invoice (received, approved, paid), one or two personal
assistants paid every four weeks (the wage run, the net wages, the payroll bureau's fee), HMRC and
the pension provider monthly, insurance monthly, now and then some unexpected income. About one
account in twenty spends more than it receives and runs low (its agency hours are cut so the bank
never goes below zero, which the ledger would refuse).

The generator keeps each account's bank balance by effective date itself, so every command it
makes is one the ledger accepts; :func:`record` sends them with ``execute_many`` in batches of
whole accounts and fails loudly if any account's batch is refused.

Run it on its own to build a store: ``python benchmarks/council.py coventry /tmp/coventry.sqlite``.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from dpledger import Ledger, Money, SpendCategory
from dpledger.commands import (
    AgreeBudget,
    ApproveInvoice,
    Command,
    OpenAccount,
    PayCarePlanSpend,
    PayHmrc,
    PayInvoice,
    PayNetWages,
    PayPension,
    ReceiveContribution,
    ReceiveCouncilPayment,
    ReceiveInvoice,
    ReceiveUnexpectedIncome,
    RecordWageRun,
    RegisterAgency,
    RegisterPersonalAssistant,
)
from dpledger.domain.payslip import payslip

YEAR_START = date(2025, 4, 7)
"""A Monday: the first day of the first four-weekly period of 2025/26."""
PAYROLL_FEE = Money(4500)


@dataclass(frozen=True)
class Preset:
    """How many accounts, over how many years."""

    name: str
    accounts: int
    years: int = 1
    council: str = "Benchshire"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("tiny", 4, council="Tinyshire"),
        Preset("small", 50, council="Smallshire"),
        Preset("quick", 150, council="Quickshire"),
        Preset("a400", 400, council="Leicester"),
        Preset("a800", 800, council="Leicester"),
        Preset("coventry", 793, council="Coventry"),
        Preset("leicester", 1557, council="Leicester"),
        Preset("decade", 1, years=10, council="Leicester"),
    )
}


def preset(name: str, accounts: int | None = None) -> Preset:
    """A preset by name (``accounts`` overrides its size)."""
    found = PRESETS[name]
    if accounts is not None:
        found = Preset(found.name, accounts, found.years, found.council)
    return found


def _pence(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class _Account:
    """One account's story, day by day, with its bank balance kept as the ledger keeps it."""

    def __init__(self, account_id: str, council: str, years: int, seed: int) -> None:
        self.id = account_id
        self.council = council
        self.days = 364 * years
        self.rng = random.Random(seed)  # noqa: S311 - seeded test data
        rng = self.rng
        self.gross = _pence(rng, 450_00, 950_00) // 100 * 100  # weekly budget, whole pounds
        self.contribution = rng.choice((0, 20_00, 40_00, 65_00))
        self.low = rng.random() < 0.05
        share = Decimal("1.04") if self.low else Decimal(rng.randint(80, 94)) / 100
        spend_weekly = _round(self.gross * share)  # what the care plan would spend a week
        self.pas = rng.choice((0, 1, 1, 2))
        self.pa_rate = Money(rng.choice((1300, 1350, 1400, 1500)))
        self.agency_rate = Money(rng.choice((2250, 2400, 2600, 2850)))
        pa_share = Decimal("0.5") if self.pas else Decimal(0)
        self.pa_hours = (
            Decimal(_round(spend_weekly * pa_share * 4 / self.pa_rate.pence / max(self.pas, 1)))
            if self.pas
            else Decimal(0)
        )
        self.agency_hours_wanted = Decimal(
            _round(spend_weekly * (1 - pa_share) * 4 / self.agency_rate.pence)
        ) / Decimal(4)
        self.bank = 0
        self.hmrc_owed = 0
        self.pension_owed = 0
        self.commands: list[Command] = []

    def add(self, command_class: type[Command], day: date, **fields: object) -> None:
        self.commands.append(
            command_class.build(account_id=self.id, effective_date=day, actor="bench", **fields)
        )

    def opening(self) -> list[Command]:
        """The commands of the account's first day, before its money moves."""
        first = YEAR_START
        self.add(
            OpenAccount,
            first,
            person_ref=f"P-{self.id}",
            council=self.council,
            provider="Bench Provider",
        )
        self.add(
            AgreeBudget,
            first,
            weekly_gross=Money(self.gross),
            weekly_contribution=Money(self.contribution),
        )
        self.add(RegisterAgency, first, agency_id="AG1", name="Care Agency", hourly_rate=None)
        for n in range(self.pas):
            self.add(RegisterPersonalAssistant, first, pa_id=f"PA{n + 1}", hourly_rate=self.pa_rate)
        return self.take()

    def days_between(self, start: int, stop: int) -> list[Command]:
        """The commands of the days ``start`` (inclusive) to ``stop`` (exclusive) of the story."""
        for offset in range(start, min(stop, self.days)):
            self.day(YEAR_START + timedelta(days=offset), offset)
        return self.take()

    def take(self) -> list[Command]:
        found, self.commands = self.commands, []
        return found

    def money_in(
        self, command_class: type[Command], day: date, pence: int, **fields: object
    ) -> None:
        if pence <= 0:
            return
        self.add(command_class, day, amount=Money(pence), **fields)
        self.bank += pence

    def day(self, day: date, offset: int) -> None:
        rng = self.rng
        key = f"{self.id}:{day.isoformat()}"
        if offset % 28 == 0:  # money in for the next four weeks
            council = 4 * (self.gross - self.contribution)
            self.money_in(
                ReceiveCouncilPayment,
                day,
                council,
                period_start=day,
                period_end=day + timedelta(days=27),
                bank_reference=f"COUNCIL DP {self.id}",
                idempotency_key=f"{key}:council",
            )
        if offset % 28 == 2:
            self.money_in(
                ReceiveContribution,
                day,
                4 * self.contribution,
                bank_reference=f"{self.id} CONTRIBUTION",
                idempotency_key=f"{key}:contribution",
            )
        if offset % 7 == 0 and offset > 0:
            self.agency_invoice(day, offset)
        if offset % 28 == 26 and self.pas:
            self.wage_runs(day)
        if day.day == 22:
            self.pay_hmrc_and_pension(day)
        if day.day == 1:
            self.spend(day, SpendCategory.INSURANCE, 1250 + rng.randint(0, 500), "insurance")
        if rng.random() < 3 / 364:
            self.money_in(
                ReceiveUnexpectedIncome,
                day,
                rng.randint(500, 15000),
                description="unidentified credit",
            )

    def spend(self, day: date, category: SpendCategory, pence: int, what: str) -> bool:
        if pence > self.bank:
            return False
        self.add(PayCarePlanSpend, day, category=category, amount=Money(pence), description=what)
        self.bank -= pence
        return True

    def agency_invoice(self, day: date, offset: int) -> None:
        # The week just worked, invoiced on the Monday, approved, paid on the Friday; a low
        # account's hours are cut to what its bank holds beyond what payroll still owes.
        wanted = self.agency_hours_wanted * Decimal(self.rng.randint(90, 110)) / 100
        hours = wanted.quantize(Decimal("0.25"))
        spare = self.bank - self.hmrc_owed - self.pension_owed - 8 * self.pa_reserve()
        affordable = Decimal(max(spare, 0)) / self.agency_rate.pence
        hours = min(hours, affordable.quantize(Decimal("0.25"), rounding="ROUND_DOWN"))
        if hours <= 0:
            return
        total = Money(_round(hours * self.agency_rate.pence))
        number = f"INV-{self.id}-{offset // 7:03d}"
        fields: dict[str, object] = {"agency_id": "AG1", "invoice_number": number}
        self.add(
            ReceiveInvoice,
            day,
            period_start=day - timedelta(days=7),
            period_end=day - timedelta(days=1),
            hours=hours,
            rate=self.agency_rate,
            total=total,
            **fields,
        )
        self.add(ApproveInvoice, day, **fields)
        self.add(PayInvoice, day + timedelta(days=4), amount=total, **fields)
        self.bank -= total.pence

    def pa_reserve(self) -> int:
        return 0 if not self.pas else _round(self.pa_hours * self.pa_rate.pence) // 8

    def wage_runs(self, day: date) -> None:
        start = day - timedelta(days=26)
        for n in range(self.pas):
            slip = payslip(self.pa_hours, self.pa_rate, (start, start + timedelta(days=27)))
            owed = slip.net.pence + slip.hmrc.pence + slip.pension.pence
            if owed > self.bank - self.hmrc_owed - self.pension_owed:
                continue  # not enough for this run: the PA's hours go unpaid this period
            pa = f"PA{n + 1}"
            self.add(
                RecordWageRun,
                day,
                pa_id=pa,
                period_start=start,
                period_end=start + timedelta(days=27),
                hours=slip.hours,
                gross=slip.gross,
                paye=slip.paye,
                employee_ni=slip.employee_ni,
                employer_ni=slip.employer_ni,
                employee_pension=slip.employee_pension,
                employer_pension=slip.employer_pension,
                net=slip.net,
            )
            self.add(PayNetWages, day, pa_id=pa, amount=slip.net, bank_reference=f"WAGES {pa}")
            self.bank -= slip.net.pence
            self.hmrc_owed += slip.hmrc.pence
            self.pension_owed += slip.pension.pence
        self.spend(day, SpendCategory.SUPPORT_FEES, PAYROLL_FEE.pence, "payroll run")

    def pay_hmrc_and_pension(self, day: date) -> None:
        if self.hmrc_owed:
            self.add(PayHmrc, day, amount=Money(self.hmrc_owed), bank_reference="HMRC PAYE")
            self.bank -= self.hmrc_owed
            self.hmrc_owed = 0
        if self.pension_owed:
            self.add(PayPension, day, amount=Money(self.pension_owed), bank_reference="PENSION")
            self.bank -= self.pension_owed
            self.pension_owed = 0


def account_ids(chosen: Preset) -> list[str]:
    """The preset's account ids."""
    return [f"DP-{n:05d}" for n in range(1, chosen.accounts + 1)]


PERIOD_DAYS = 28
"""The story is recorded four weeks at a time, every account's four weeks together (how a
provider migrating its books, or a nightly feed catching up, sends them)."""


def periods(chosen: Preset, seed: int = 2025) -> Iterator[list[list[Command]]]:
    """Each four-week period's commands, one list per account, in effective-date order
    (deterministic for a seed); the accounts' opening commands come with the first period."""
    accounts = [
        _Account(account_id, chosen.council, chosen.years, seed * 100_003 + n)
        for n, account_id in enumerate(account_ids(chosen))
    ]
    first = True
    for start in range(0, 364 * chosen.years, PERIOD_DAYS):
        yield [
            [*(a.opening() if first else ()), *a.days_between(start, start + PERIOD_DAYS)]
            for a in accounts
        ]
        first = False


def stories(chosen: Preset, seed: int = 2025) -> dict[str, list[Command]]:
    """Every account's whole story (for tests: small presets only)."""
    found: dict[str, list[Command]] = {a: [] for a in account_ids(chosen)}
    for period in periods(chosen, seed):
        for account_id, commands in zip(found, period, strict=True):
            commands_of = found[account_id]
            commands_of.extend(commands)
    return found


Progress = Callable[[int, int, int], None]
"""Called as ``progress(periods done, periods, commands so far)``."""


def record(
    ledger: Ledger,
    chosen: Preset,
    *,
    seed: int = 2025,
    accounts_per_batch: int = 200,
    progress: Progress | None = None,
) -> int:
    """Record the preset through ``ledger.execute_many``, period by period, in batches of
    ``accounts_per_batch`` accounts (one transaction per account and batch); return how many
    commands were recorded."""
    commands = 0
    total = -(-364 * chosen.years // PERIOD_DAYS)
    for done, period in enumerate(periods(chosen, seed), start=1):
        for at in range(0, len(period), accounts_per_batch):
            batch = [c for story in period[at : at + accounts_per_batch] for c in story]
            commands += _send(ledger, batch)
        if progress is not None:
            progress(done, total, commands)
    return commands


def _send(ledger: Ledger, batch: list[Command]) -> int:
    report = ledger.execute_many(batch)
    if not report.ok:
        failed = dict(report.failed)
        first = next(iter(failed.items()))
        raise RuntimeError(f"{len(failed)} accounts refused, e.g. {first}")
    return len(batch)


def print_progress(done: int, total: int, commands: int) -> None:
    """Progress on stderr."""
    print(f"  period {done}/{total}, {commands:,} commands", file=sys.stderr, flush=True)


def main() -> int:
    """``council.py PRESET PATH [ACCOUNTS]``: build a SQLite store of the preset."""
    name, path = sys.argv[1], Path(sys.argv[2])
    chosen = preset(name, int(sys.argv[3]) if len(sys.argv) > 3 else None)
    started = time.perf_counter()
    ledger = Ledger.sqlite(path)
    try:
        count = record(ledger, chosen, progress=print_progress)
    finally:
        ledger.close()
    print(f"{count:,} commands in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
