"""The one small hierarchy of errors dpledger raises.

Every error says what went wrong and what to do about it, and carries the account id where there is
one, so a council system can show it or route it without parsing the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # money.py imports this module; the annotation alone needs Money
    from dpledger.domain.money import Money


class DpledgerError(Exception):
    """Base of every error dpledger raises on purpose.

    ``account_id`` is the account concerned (``None`` when there is none); ``fix`` says what the
    caller should do.
    """

    def __init__(self, message: str, *, account_id: str | None = None, fix: str = "") -> None:
        self.message = message
        self.account_id = account_id
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message if self.account_id is None else f"[{self.account_id}] {self.message}"
        return f"{text}. Fix: {self.fix}" if self.fix else text

    def for_account(self, account_id: str) -> DpledgerError:
        """Name ``account_id`` on an error raised before the account was known; returns self."""
        if self.account_id is None:
            self.account_id = account_id
            self.args = (self._render(),)
        return self


class ValidationError(DpledgerError, ValueError):
    """Bad input: a field is missing, malformed or out of range. ``field`` names it."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        account_id: str | None = None,
        fix: str = "",
    ) -> None:
        self.field = field
        if field is not None:
            message = f"{field}: {message}"
        super().__init__(message, account_id=account_id, fix=fix)


class MoneyError(ValidationError):
    """A value cannot be an exact amount of money (a float, a third decimal place, NaN, ...)."""


class CurrencyMismatch(MoneyError):
    """Arithmetic or comparison between two different currencies."""


class RuleViolation(DpledgerError):
    """A well-formed command that the account's rules refuse. Nothing was recorded."""


class AccountNotFound(RuleViolation):
    """No account has this id."""


class AccountAlreadyExists(RuleViolation):
    """An account with this id exists with different details."""


class AccountClosed(RuleViolation):
    """The account is closed: it accepts no new money movements."""


class InsufficientFunds(RuleViolation):
    """A payment (or a reversal) would take the bank balance below zero.

    ``shortfall`` is the amount of money missing; ``balance`` the money available for it: the lowest
    bank balance from the payment's effective date on (a payment cannot spend money that arrives
    later, nor money that later payments already spent).
    """

    def __init__(
        self,
        message: str,
        *,
        shortfall: Money,
        balance: Money,
        account_id: str | None = None,
        fix: str = "",
    ) -> None:
        self.shortfall = shortfall
        self.balance = balance
        super().__init__(message, account_id=account_id, fix=fix)


class DuplicateInvoice(RuleViolation):
    """The agency has already sent an invoice with this number."""


class DuplicateWageRun(RuleViolation):
    """A wage run for this personal assistant and period is already recorded."""


class InvoiceTotalMismatch(RuleViolation):
    """An invoice's total differs from hours x rate by more than a penny."""


class WageRunDoesNotBalance(RuleViolation):
    """A wage run's net pay is not gross pay minus the employee's deductions."""


class Overpayment(RuleViolation):
    """A payment is more than is owed to that payee."""


class InvalidTransition(RuleViolation):
    """The command does not apply in the current state (paying a disputed invoice, resuming an
    account that is not suspended, correcting an event twice, ...)."""


class UnknownParty(RuleViolation):
    """The agency, personal assistant, invoice or suspense item named is not on the account."""


class SurplusExceeded(RuleViolation):
    """A recoupment asks for more than the account's surplus."""


class IdempotencyConflict(RuleViolation):
    """The idempotency key was used before with a different command or payload."""


class ConflictError(DpledgerError):
    """Another writer changed the account at the same time. Nothing was recorded; safe to retry."""


class StoreError(DpledgerError):
    """The event store could not be opened or used (bad URL, server down, unreadable file)."""


class BankFileError(DpledgerError):
    """A bank statement file cannot be imported. Nothing from it was imported.

    ``file`` is the file's name or path, ``location`` the line, row or element where the problem
    is (``None`` when it concerns the whole file), ``reason`` why it was refused.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        location: str | None = None,
        account_id: str | None = None,
        fix: str = "",
    ) -> None:
        self.file = file
        self.location = location
        self.reason = reason
        where = file if location is None else f"{file}, {location}"
        super().__init__(f"{where}: {reason}", account_id=account_id, fix=fix)


class HistoryFileError(ValidationError):
    """A history file cannot be imported; nothing from it was imported.

    ``file`` names the file, ``line`` the 1-based line where the problem is (``None`` when it
    concerns the whole file), ``reason`` why it was refused.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        line: int | None = None,
        account_id: str | None = None,
        fix: str = "",
    ) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = file if line is None else f"{file}, line {line}"
        super().__init__(f"{where}: {reason}", account_id=account_id, fix=fix)


class CreditExceedsInvoice(RuleViolation):
    """A credit note takes off more than is left on its invoice."""
