"""The demo's five accounts, each a story told as steps on the :class:`~dpledger.demo.year.Year`,
and the council's reviews.

- DP-1001: agency care; a duplicate invoice refused, one disputed and re-issued, a benefit paid
  in by mistake and refunded, a council payment the bank feed delivers twice.
- DP-1002: one PA; a contribution paid short, a budget revised at review, a premium keyed twice
  and corrected.
- DP-1003: two PAs; the council pays monthly, pro rata by days; equipment from the care plan.
- DP-1004: agency care; suspended for a missing monitoring return, so one invoice waits for funds.
- DP-1005: agency care well under budget; surplus recouped at the review.

:data:`STORIES` is every story, in the order :func:`~dpledger.demo.report.build_demo` tells them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from dpledger import AccountPolicy, Money, PaymentFrequency, SpendCategory
from dpledger.demo.setting import (
    ADMIN,
    BANK_FEED,
    FINANCE,
    IN,
    KESTREL,
    NORTHSHIRE_POLICY,
    OUT,
    RIVERSIDE,
    SOCIAL_WORK,
    YEAR_START,
    calendar_months,
    four_weekly_periods,
)
from dpledger.demo.year import IdempotentRetry, RefusedInvoice, Year
from dpledger.errors import DuplicateInvoice
from dpledger.ledger import Receipt


# ----------------------------------------------------------------------------- council payments
def _four_weekly(gross: str, contribution: str) -> Money:
    """A net-basis council payment for 4 weeks: (gross - contribution) x 4."""
    return (Money(gross) - Money(contribution)) * 4


def _pro_rata(weekly: str, start: date, end: date) -> Money:
    """A monthly payment pro-rated by days, rounded half-up to the penny (£150 a week is
    £664.29 for 31 days)."""
    days = (end - start).days + 1
    pence = Decimal(Money(weekly).pence) * days / 7
    return Money(int(pence.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


# ----------------------------------------------------------------------------- the accounts
def _dp1001_agency_care(year: Year) -> None:
    """Agency care only. The agency sends an invoice twice (refused as a duplicate), bills too
    many hours once (disputed and re-issued), a benefit lands here by mistake (held, refunded),
    and the bank feed delivers one council payment twice (an idempotent no-op)."""
    acct, gross, contribution = "DP-1001", "455.00", "38.50"
    ledger, rate = year.ledger, Money("25.80")
    year.open_account(acct, "P-10231", KESTREL, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-BHC", "Brightwater Home Care Ltd", rate)
    commands: dict[date, Callable[[], Receipt]] = {}
    for start, end in four_weekly_periods():
        commands[start] = year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        year.contribution(start, acct, Money(contribution) * 4)

    # The bank feed is re-read the day after a council payment: same line, same key.
    first_day = date(2025, 6, 2)

    def import_again() -> None:
        key = f"{acct}:council:{first_day.isoformat()}"
        before = ledger.events(acct)
        original = next(e for e in before if e.command_key == key)
        retry = year.send(commands[first_day])
        year.retries.append(
            IdempotentRetry(
                account_id=acct,
                day=first_day + timedelta(days=1),
                key=key,
                first_version=original.originator_version,
                retry_version=retry.version,
                replayed=retry.replayed,
                events_before=len(before),
                events_after=ledger.account(acct).version,
            )
        )
        year.note(
            first_day + timedelta(days=1),
            acct,
            f"idempotent retry: the bank feed sent the {first_day} council payment again "
            f"with the same key; the ledger returned the original receipt (event "
            f"{retry.version}, replayed={retry.replayed}) and recorded nothing",
        )

    year.on(first_day + timedelta(days=1), IN, import_again)

    # The July invoice arrives a second time (a "reminder"): the ledger refuses a repeated number.
    def duplicate() -> None:
        day = date(2025, 8, 12)
        try:
            year.send(
                partial(
                    ledger.receive_invoice,
                    acct,
                    agency_id="AG-BHC",
                    invoice_number="BHC-2507",
                    period_start=date(2025, 7, 1),
                    period_end=date(2025, 7, 31),
                    hours="72",
                    rate=rate,
                    total=rate * 72,
                    effective_date=day,
                    actor=FINANCE,
                )
            )
        except DuplicateInvoice as refused:
            year.refused.append(RefusedInvoice(acct, day, "AG-BHC", "BHC-2507", refused.message))
            year.note(day, acct, f"duplicate invoice refused: {refused.message}")

    year.on(date(2025, 8, 12), ADMIN, duplicate)

    # October is billed at 82 hours; the visit log shows 70.5: disputed, then re-issued.
    def october(number: str, period: tuple[date, date], received: date) -> None:
        year.invoice(
            acct,
            "AG-BHC",
            number,
            period,
            Decimal(82),
            rate,
            received=received,
            approved=None,
            paid=None,
        )
        reason = "82 hours billed; the visit log shows 70.5"
        dispute = partial(
            ledger.dispute_invoice,
            acct,
            agency_id="AG-BHC",
            invoice_number=number,
            reason=reason,
            effective_date=received + timedelta(days=1),
            actor=FINANCE,
        )
        year.on(received + timedelta(days=1), ADMIN, partial(year.send, dispute))
        reissued = received + timedelta(days=8)
        total = year.invoice(
            acct,
            "AG-BHC",
            f"{number}R",
            period,
            Decimal("70.5"),
            rate,
            received=reissued,
            approved=reissued,
            paid=reissued + timedelta(days=7),
        )
        year.note(
            received + timedelta(days=1),
            acct,
            f"invoice {number} disputed ({reason}); re-issued as {number}R for {total}, "
            f"approved and paid {reissued + timedelta(days=7)}",
        )

    hours = ("56.5", "73", "70.5", "72", "69.5", "70", "-", "70", "74.5", "72", "64", "71.5")
    year.monthly_invoices(acct, "AG-BHC", "BHC", rate, hours, special={6: october})

    # A benefit paid to the wrong account: held in suspense, then sent back.
    arrived, refunded = date(2025, 6, 16), date(2025, 6, 27)
    item: list[str] = []

    def unexpected() -> None:
        receipt = year.send(
            partial(
                ledger.receive_unexpected_income,
                acct,
                amount="250.00",
                description="DWP credit, reference matches no expected payment",
                effective_date=arrived,
                actor=BANK_FEED,
                idempotency_key=f"{acct}:unexpected:{arrived.isoformat()}",
            )
        )
        assert receipt.item_id is not None
        item.append(receipt.item_id)

    def refund() -> None:
        year.send(
            partial(
                ledger.refund_unexpected_income,
                acct,
                item_id=item[0],
                reason="DWP confirmed it was paid to the wrong account",
                effective_date=refunded,
                actor=FINANCE,
            )
        )
        year.note(
            arrived,
            acct,
            f"unexpected income: £250.00 from DWP held in suspense (item {item[0]}); DWP "
            f"confirmed it was meant for another account; refunded {refunded}",
        )

    year.on(arrived, IN, unexpected)
    year.on(refunded, OUT, refund)


def _dp1002_one_pa(year: Year) -> None:
    """One PA, payroll every 4 weeks, HMRC quarterly. The person pays one contribution short
    (the rest arrives later from an unknown payer, classified as contribution), the review adds
    5 hours a week, and an insurance premium keyed twice is put right by a correction."""
    acct, contribution = "DP-1002", "60.00"
    ledger = year.ledger
    year.open_account(acct, "P-10232", KESTREL, NORTHSHIRE_POLICY, "480.00", contribution)
    revised = date(2025, 10, 20)
    year.agree_budget(revised, acct, "560.00", contribution)
    year.note(revised, acct, "review: 5 more PA hours a week; budget £480.00 -> £560.00 a week")
    short_period = date(2025, 6, 30)
    for start, end in four_weekly_periods():
        gross = "480.00" if start < revised else "560.00"
        year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        paid = Money("140.00") if start == short_period else Money(contribution) * 4
        year.contribution(start + timedelta(days=3), acct, paid)
    year.payroll(
        acct,
        (("PA-1", Money("13.00"), ((YEAR_START, "120"), (revised, "140"))),),
        hmrc_quarterly=True,
    )
    year.spend(
        date(2025, 4, 15),
        acct,
        SpendCategory.INSURANCE,
        Money("96.50"),
        "employer's liability insurance 2025/26",
    )

    # The same premium keyed again by hand; the weekly bank reconciliation finds it.
    keyed: list[Receipt] = []

    def key_again() -> None:
        keyed.append(
            year.send(
                partial(
                    ledger.pay_care_plan_spend,
                    acct,
                    category="insurance",
                    amount="96.50",
                    description="employer's liability insurance",
                    effective_date=date(2025, 4, 15),
                    actor=FINANCE,
                )
            )
        )

    def correct() -> None:
        fixed = year.send(
            partial(
                ledger.correct,
                acct,
                version=keyed[0].version,
                reason="premium entered twice; the bank statement shows one payment",
                effective_date=date(2025, 4, 22),
                actor=FINANCE,
            )
        )
        year.note(
            date(2025, 4, 22),
            acct,
            f"correction: the £96.50 insurance premium had been keyed twice; event "
            f"{fixed.version} reverses event {keyed[0].version} (events are never edited)",
        )

    year.on(date(2025, 4, 15), OUT, key_again)
    year.on(date(2025, 4, 22), ADMIN, correct)

    # The missing £100 arrives three weeks late from a payer reference nobody recognises.
    late = date(2025, 7, 24)
    item: list[str] = []

    def unknown_payer() -> None:
        receipt = year.send(
            partial(
                ledger.receive_unexpected_income,
                acct,
                amount="100.00",
                description="FASTER PAYMENT ref HOUSEHOLD 4471",
                effective_date=late,
                actor=BANK_FEED,
                idempotency_key=f"{acct}:unexpected:{late.isoformat()}",
            )
        )
        assert receipt.item_id is not None
        item.append(receipt.item_id)
        year.retry_held(late, acct, receipt.event_type)

    def classify() -> None:
        year.send(
            partial(
                ledger.classify_unexpected_income,
                acct,
                item_id=item[0],
                classified_as="contribution",
                effective_date=late + timedelta(days=4),
                actor=FINANCE,
            )
        )
        year.note(
            short_period + timedelta(days=3),
            acct,
            f"contribution short: £140.00 of £240.00; the £100.00 rest came {late} "
            f"from an unknown payer (held as {item[0]}), classified as contribution",
        )

    year.on(late, IN, unknown_payer)
    year.on(late + timedelta(days=4), ADMIN, classify)


def _dp1003_monthly_two_pas(year: Year) -> None:
    """Two PAs, the council pays monthly (pro-rated by days), HMRC monthly, nil contribution,
    and a one-off piece of equipment from the care plan."""
    acct, gross = "DP-1003", "760.00"
    policy = AccountPolicy(
        frequency=PaymentFrequency.MONTHLY,
        contingency_weeks=NORTHSHIRE_POLICY.contingency_weeks,
        first_review_within_months=NORTHSHIRE_POLICY.first_review_within_months,
    )
    year.open_account(acct, "P-10233", KESTREL, policy, gross, "0.00")
    for start, end in calendar_months():
        year.council_payment(start, acct, _pro_rata(gross, start, end), end)
    year.payroll(
        acct,
        (
            ("PA-1", Money("12.80"), ((YEAR_START, "112"),)),
            ("PA-2", Money("12.50"), ((YEAR_START, "80"),)),
        ),
        hmrc_quarterly=False,
    )
    year.spend(
        date(2025, 4, 10),
        acct,
        SpendCategory.INSURANCE,
        Money("112.00"),
        "employer's liability insurance 2025/26",
    )
    year.spend(
        date(2025, 9, 3),
        acct,
        SpendCategory.OTHER_CARE_PLAN,
        Money("385.00"),
        "shower chair (care plan item 4)",
    )


def _dp1004_suspended(year: Year) -> None:
    """Agency care. The council suspends payments for a missing monitoring return and withholds
    one payment; the next agency invoice cannot be paid until the council pays again."""
    acct, gross, contribution = "DP-1004", "380.00", "20.00"
    ledger, rate = year.ledger, Money("27.10")
    year.open_account(acct, "P-10234", RIVERSIDE, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-MBC", "Meadowbank Care", rate)
    suspended, resumed = date(2025, 11, 10), date(2025, 12, 8)
    withheld, withheld_on = Money(0), []
    for start, end in four_weekly_periods():
        amount = _four_weekly(gross, contribution)
        if suspended <= start < resumed:
            # The ledger records what the bank shows; the council paid nothing while suspended.
            withheld += amount
            withheld_on.append(f"{start}")
        else:
            year.council_payment(start, acct, amount, end)
        year.contribution(start, acct, Money(contribution) * 4)
    hours = ("48", "63", "61.5", "63", "61", "60", "62.5", "66", "62", "61", "56", "62")
    year.monthly_invoices(acct, "AG-MBC", "MBC", rate, hours)

    reason = "quarterly monitoring return (bank statements, timesheets) not received"
    suspend = partial(
        ledger.suspend, acct, reason=reason, effective_date=suspended, actor=SOCIAL_WORK
    )
    resume = partial(
        ledger.resume,
        acct,
        backfill_ordered=True,
        reason="monitoring return received; the withheld payment is to be made good",
        effective_date=resumed,
        actor=SOCIAL_WORK,
    )
    back_pay_day = resumed + timedelta(days=11)
    back_pay = partial(
        ledger.receive_one_off_payment,
        acct,
        amount=withheld,
        purpose="back-pay of the payment withheld while suspended",
        effective_date=back_pay_day,
        actor=BANK_FEED,
        idempotency_key=f"{acct}:one-off:{back_pay_day.isoformat()}",
    )
    year.on(suspended, ADMIN, partial(year.send, suspend))
    year.on(resumed, ADMIN, partial(year.send, resume))
    year.money_in(back_pay_day, acct, back_pay)
    year.note(
        suspended,
        acct,
        f"suspended: {reason}, so the council withheld the {', '.join(withheld_on)} payment; "
        f"resumed {resumed} with back-pay ordered ({withheld}, arrived {back_pay_day})",
    )


def _dp1005_recoupment(year: Year) -> None:
    """Agency care used well below the budget (family help more): at the review the council
    recoups surplus, never more than ``Ledger.surplus`` allows."""
    acct, gross, contribution = "DP-1005", "300.00", "15.00"
    ledger, rate = year.ledger, Money("27.10")
    year.open_account(acct, "P-10235", RIVERSIDE, NORTHSHIRE_POLICY, gross, contribution)
    year.register_agency(acct, "AG-MBC", "Meadowbank Care", rate)
    for start, end in four_weekly_periods():
        year.council_payment(start, acct, _four_weekly(gross, contribution), end)
        year.contribution(start, acct, Money(contribution) * 4)
    hours = ("22", "30", "28.5", "31", "26", "29", "30.5", "29", "33", "30", "27", "30")
    year.monthly_invoices(acct, "AG-MBC", "MBC", rate, hours)

    review, repaid = date(2026, 1, 14), date(2026, 1, 23)

    def recoup() -> None:
        surplus = ledger.surplus(acct, review)
        demand = Money(surplus.pence // 10_000 * 10_000)  # the council asks in whole £100s
        if demand.is_zero():
            return
        year.send(
            partial(
                ledger.demand_recoupment,
                acct,
                amount=demand,
                effective_date=review,
                actor=SOCIAL_WORK,
            )
        )
        repay = partial(
            ledger.repay_recoupment,
            acct,
            amount=demand,
            actor=FINANCE,
            bank_reference=f"NCC RECOUP {acct}",
            idempotency_key=f"{acct}:recoupment:{repaid.isoformat()}",
        )
        year.pay(repaid, acct, "recoupment", demand, repay)
        year.note(
            review,
            acct,
            f"recoupment at the review: surplus {surplus}; the council recouped {demand}, "
            f"repaid {repaid} (within 2 weeks)",
        )

    year.on(review, ADMIN, recoup)


def _reviews(year: Year) -> None:
    """The council's reviews (reg 7: the first within 3 months under Northshire's policy). DP-1004's
    first review was never held (the suspension took the social worker's time), so the portfolio
    shows it overdue; DP-1002 and DP-1005 were reviewed again when their plans changed."""
    reviews = (
        ("DP-1001", date(2025, 6, 30), "first review: agency care meets the outcomes"),
        ("DP-1002", date(2025, 6, 30), "first review: PA arrangement working"),
        ("DP-1003", date(2025, 7, 2), "first review: two PAs, monthly payments confirmed"),
        ("DP-1005", date(2025, 7, 1), "first review: family support growing, watch the surplus"),
        ("DP-1002", date(2025, 10, 20), "review: 5 more PA hours a week"),
        ("DP-1005", date(2026, 1, 14), "review: surplus recouped"),
    )
    for account_id, day, reason in reviews:
        review = partial(
            year.ledger.record_review,
            account_id,
            effective_date=day,
            actor=SOCIAL_WORK,
            reason=reason,
        )
        year.on(day, ADMIN, partial(year.send, review))


STORIES: tuple[Callable[[Year], None], ...] = (
    _dp1001_agency_care,
    _dp1002_one_pa,
    _dp1003_monthly_two_pas,
    _dp1004_suspended,
    _dp1005_recoupment,
    _reviews,
)
"""Every account's story and the reviews, each scheduling its steps on the year."""
