"""The Ledger's queries as at a date and as known at a time, read from the projections.

:class:`AsAtSide` is a mixin of :class:`dpledger.Ledger`, over its
:class:`~dpledger.readside.ReadSide`: balances, the bank balance, surplus, recoverable surplus,
contingency, paid in advance, available funds, missing payments, warnings and the portfolio, each
as at the end of a date (an effective date) and as known at ``known_at`` (a recorded time;
default now). They read the ledger lines and the account terms (:mod:`dpledger.projections.asat`),
never the aggregate, which holds today's state only; the figures come from the domain's own rule
functions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dpledger.application.arguments import DateLike
from dpledger.application.arguments import names_account as _names_account
from dpledger.domain.account import ManagedAccount
from dpledger.domain.bounds import check_identifier, to_day
from dpledger.domain.chart import LedgerAccount
from dpledger.domain.errors import AccountNotFound, ValidationError
from dpledger.domain.lifecycle import Terms
from dpledger.domain.money import Money
from dpledger.domain.reconciliation import MissingPayment, missing_payments
from dpledger.domain.surplus import contingency_in_force, recoverable_surplus_of, surplus_of
from dpledger.projections.asat import account_as_at, figures_as_at, portfolio_as_at, warnings_of
from dpledger.projections.asat import available_from as as_at_available_from
from dpledger.projections.balances import LedgerLines, balances_as_of
from dpledger.projections.oversight import (
    Oversight,
    Portfolio,
    PortfolioAccount,
    Warning,
    build_portfolio,
    portfolio_accounts,
    warnings_for,
)
from dpledger.projections.terms import AccountTerms, council_accounts
from dpledger.readside import ReadSide, _day, _moment


class AsAtSide(ReadSide):
    """The as-at queries, mixed into :class:`dpledger.Ledger`."""

    @_names_account
    def balances(
        self,
        account_id: str,
        on: DateLike | None = None,
        *,
        known_at: datetime | str | None = None,
    ) -> dict[LedgerAccount, Money]:
        """Every ledger account's balance (debit positive) at the end of ``on`` (default: every
        entry, whatever its date), as known at ``known_at`` (a recorded time; default now)."""
        day = date.max if on is None else to_day(on, "on")
        with self._as_at() as cur:
            self._require_known(cur, account_id)
            return balances_as_of(cur, account_id, day, _moment(known_at))

    @_names_account
    def bank_balance(
        self,
        account_id: str,
        on: DateLike | None = None,
        *,
        known_at: datetime | str | None = None,
    ) -> Money:
        """The client bank balance at the end of ``on`` (default: every entry), as known at
        ``known_at`` (default now)."""
        return self.balances(account_id, on, known_at=known_at)[LedgerAccount.BANK]

    @_names_account
    def surplus(
        self, account_id: str, on: DateLike, *, known_at: datetime | str | None = None
    ) -> Money:
        """Balance minus unpaid liabilities minus contingency at the end of ``on``, never
        negative, as known at ``known_at`` (default now)."""
        day = to_day(on, "on")
        return surplus_of(*self._figures_as_at(account_id, day, known_at), day)

    @_names_account
    def recoverable_surplus(
        self, account_id: str, on: DateLike, *, known_at: datetime | str | None = None
    ) -> Money:
        """The surplus the council may recoup at the end of ``on``: the whole surplus, or where
        the policy spends the contribution first, no more than the council money still unspent;
        as known at ``known_at`` (default now)."""
        day = to_day(on, "on")
        return recoverable_surplus_of(*self._figures_as_at(account_id, day, known_at), day)

    @_names_account
    def paid_in_advance(
        self,
        account_id: str,
        end_date: DateLike | None = None,
        *,
        on: DateLike | None = None,
        known_at: datetime | str | None = None,
    ) -> Money:
        """Council money paid for days after ``end_date`` (default: the policy's end date),
        returnable at the final reckoning: by the payments recorded with a date up to ``on``
        (default: every one), as known at ``known_at`` (default now)."""
        end = None if end_date is None else to_day(end_date, "end_date")
        day = date.max if on is None else to_day(on, "on")
        return self._account_as_at(account_id, day, known_at).paid_in_advance(end)

    @_names_account
    def contingency(
        self, account_id: str, on: DateLike, *, known_at: datetime | str | None = None
    ) -> Money:
        """The contingency the account may keep on ``on``: policy weeks x weekly gross budget,
        as the terms stood by ``on``, known at ``known_at`` (default now)."""
        day = to_day(on, "on")
        return contingency_in_force(self._figures_as_at(account_id, day, known_at)[1], day)

    @_names_account
    def available_from(
        self, account_id: str, on: DateLike, *, known_at: datetime | str | None = None
    ) -> Money:
        """The most that could be paid out on ``on`` without the bank going below zero then or
        on any later date, as known at ``known_at`` (default now)."""
        day, moment = to_day(on, "on"), _moment(known_at)
        with self._as_at() as cur:
            self._require_known(cur, account_id)
            return as_at_available_from(cur, account_id, day, moment)

    @_names_account
    def missing_payments(
        self, account_id: str, on: DateLike, *, known_at: datetime | str | None = None
    ) -> list[MissingPayment]:
        """Council payments and contributions expected but not received by ``on``: each due
        date plus ``policy.missing_payment_margin_days`` has passed without them (among those
        due within the recent window before ``on``), as known at ``known_at`` (default now)."""
        day = to_day(on, "on")
        return missing_payments(self._account_as_at(account_id, day, known_at), day)

    def _as_at(self) -> Any:
        """A cursor on the views with the ledger lines and account terms brought up to date."""
        self._engine.catch_up([LedgerLines.name, AccountTerms.name])
        return self._views.transaction()

    def _figures_as_at(
        self, account_id: str, day: date, known_at: datetime | str | None
    ) -> tuple[dict[LedgerAccount, Money], Terms]:
        """The balances at the end of ``day`` and the terms by then, as known at ``known_at``
        (:func:`dpledger.projections.asat.figures_as_at`)."""
        moment = _moment(known_at)
        with self._as_at() as cur:
            self._require_known(cur, account_id)
            return figures_as_at(cur, account_id, day, moment)

    def _account_as_at(
        self, account_id: str, day: date, known_at: datetime | str | None
    ) -> ManagedAccount:
        """The account as at the end of ``day``, as known at ``known_at``, from the projections
        (:func:`dpledger.projections.asat.account_as_at`)."""
        moment = _moment(known_at)
        with self._as_at() as cur:
            self._require_known(cur, account_id)
            return account_as_at(cur, account_id, day, moment).account

    def warnings(
        self,
        account_id: str | None = None,
        *,
        council: str | None = None,
        active_only: bool = True,
        on: date | str | None = None,
        known_at: datetime | str | None = None,
    ) -> list[Warning]:
        """Warnings in force (or every warning ever raised, with ``active_only=False``) for one
        account, one council, or the whole store: as the oversight model raised and cleared
        them (each account at its latest date), or with ``on`` as at the end of that date, as
        known at ``known_at`` (default now), the rules that hold by the date (missing payments,
        reviews overdue, ...) evaluated for it (:func:`~dpledger.projections.asat.warnings_of`).
        """
        if account_id is not None:
            check_identifier(account_id, "account_id")
        if on is None and known_at is None:
            with self._read(Oversight.name) as cur:
                return self._opened_warnings(
                    warnings_for(
                        cur, account_id=account_id, council=council, active_only=active_only
                    )
                )
        day = date.today() if on is None else _day(on, "on")
        with self._read_as_at() as cur:
            if account_id is not None:
                self._require_known(cur, account_id)
            found = warnings_of(cur, account_id, council, day, _moment(known_at), active_only)
        return self._opened_warnings(found)

    def portfolio(
        self,
        council: str,
        *,
        on: date | str | None = None,
        review_horizon_days: int = 30,
        known_at: datetime | str | None = None,
    ) -> Portfolio:
        """A council's oversight table: accounts in each warning state, surplus candidates,
        reviews due within ``review_horizon_days`` of ``on`` (default today), contribution
        shortfalls, spend by category and money held: each account's latest figures, or with
        ``on`` every figure as at the end of ``on``, as known at ``known_at`` (default now)."""
        day = date.today() if on is None else _day(on, "on")
        if not isinstance(council, str) or not council.strip():
            raise ValidationError("must name a council", field="council")
        name = council.strip()
        if on is None and known_at is None:
            with self._read(Oversight.name) as cur:
                rows = portfolio_accounts(cur, name)
        else:
            with self._read_as_at() as cur:
                rows = portfolio_as_at(cur, council_accounts(cur, name), day, _moment(known_at))
        return build_portfolio(rows, name, day, review_horizon_days)

    def portfolio_row(
        self,
        account_id: str,
        *,
        on: date | str | None = None,
        known_at: datetime | str | None = None,
    ) -> PortfolioAccount:
        """One account's row of its council's oversight table (:meth:`portfolio`): its latest
        figures, or with ``on`` every figure as at the end of ``on``, as known at ``known_at``.
        Raises :class:`AccountNotFound` for an unknown account, or one not open on ``on``."""
        check_identifier(account_id, "account_id")
        if on is None and known_at is None:
            with self._read(Oversight.name) as cur:
                rows = portfolio_accounts(cur, account_id=account_id)
        else:
            day = date.today() if on is None else _day(on, "on")
            with self._read_as_at() as cur:
                rows = portfolio_as_at(cur, [account_id], day, _moment(known_at))
        if not rows:
            raise AccountNotFound(
                "no such account" + ("" if on is None else f" open on {on}"),
                account_id=account_id,
                fix="open the account first, or ask about a date when it was open",
            )
        return rows[0]

    def _read_as_at(self) -> Any:
        """The views, with every read model an as-at query reads brought up to date."""
        self._engine.catch_up([LedgerLines.name, AccountTerms.name, Oversight.name])
        return self._views.transaction()

    def councils(self) -> list[str]:
        """Every council with an account in the store."""
        with self._read(AccountTerms.name) as cur:
            cur.execute("SELECT DISTINCT council FROM dpv_terms ORDER BY council")
            return [str(r[0]) for r in cur.fetchall()]
