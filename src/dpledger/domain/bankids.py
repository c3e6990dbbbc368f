"""Which real bank account a statement or a caller names: one spelling per account.

Banks and files write the same account in many ways: ``30-99-50 12345678``, ``309950/12345678``,
the IBAN ``GB29 NWBK 6016 1331 9268 19`` (a UK IBAN holds the sort code and account number).
:func:`bank_key` gives each account one key, so that a statement for another account is
recognised as such however it is written.
"""

from __future__ import annotations

import re

from dpledger.domain.errors import ValidationError

_SORT_CODE_AND_NUMBER = re.compile(r"^(\d{2})[- ]?(\d{2})[- ]?(\d{2})[\s/-]+(\d{6,10})$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_OTHER = re.compile(r"^[A-Z0-9][A-Z0-9./:_-]{0,63}$")


def bank_key(identifier: str) -> str:
    """The one key of the bank account ``identifier`` names.

    A UK account (sort code and number, or a GB IBAN) is ``"30-99-50 12345678"`` (account numbers
    shorter than 8 digits are padded with zeros, as banks do); another IBAN is its compact
    upper-case form; any other identifier (an Open Banking account id, an MT940 account) is kept
    upper case without spaces. An IBAN followed by its account's currency code
    (``NL20INGB0001234567EUR``, as MT940 statements write it) is the IBAN. Raises
    :class:`ValidationError` for an IBAN whose check digits are wrong, or text that names no
    account.
    """
    text = " ".join(str(identifier).split())
    found = _SORT_CODE_AND_NUMBER.match(text)
    if found:
        return _uk(found[1] + found[2] + found[3], found[4])
    compact = re.sub(r"[\s-]", "", text).upper()
    if _IBAN.match(compact):
        if not _iban_checks(compact) and _iban_checks(compact[:-3]) and compact[-3:].isalpha():
            compact = compact[:-3]  # MT940's :25: often writes the currency after the IBAN
        if not _iban_checks(compact):
            raise ValidationError(
                f"{identifier!r} is not a valid IBAN (its check digits are wrong)",
                field="bank_account",
                fix="copy the IBAN from the statement again",
            )
        if compact.startswith("GB") and len(compact) == 22:
            return _uk(compact[8:14], compact[14:])
        return compact
    if not _OTHER.match(compact):
        raise ValidationError(
            f"{identifier!r} does not name a bank account",
            field="bank_account",
            fix="give the sort code and account number ('30-99-50 12345678') or the IBAN",
        )
    return compact


def _uk(sort_code: str, number: str) -> str:
    return f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]} {number.rjust(8, '0')}"


def _iban_checks(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1
