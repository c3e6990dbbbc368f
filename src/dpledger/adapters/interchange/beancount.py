"""The ledger as a beancount file, so that beancount can check dpledger's arithmetic on its own.

:func:`to_beancount` writes, for every dpledger account: an ``open`` directive for each ledger
account of the chart, one transaction per event that has postings (dated at its effective date),
and ``balance`` assertions of every ledger account at the end of each month (or of the days
given). Loading the file with beancount re-adds every posting and checks each assertion, so a file
that loads without errors is an independent proof that dpledger's balances are sums of its
postings, by effective date, whatever order the events were recorded in.

This is a pure text writer. It never imports beancount (GPL-2.0, a test-only dependency of an
Apache-2.0 library); the tests load its output with beancount's own loader.

Account names are ``<Root>:<account id>:<ledger account>``, e.g. ``Assets:DP-1001:Bank`` or
``Liabilities:DP-1001:Suspense:Unidentified``; see :func:`beancount_account` and
:func:`account_component` for the rules, which are injective (no two dpledger accounts share a
beancount account).

Events without postings (opening, budgets, registrations, reviews, bank confirmations, ...) say
nothing about balances and are left out; the ``dpledger-version`` metadata of the transactions
shows where they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from importlib import metadata
from typing import Final

from dpledger.domain.chart import LedgerAccount
from dpledger.domain.corrections import EntryCorrected
from dpledger.domain.events import AccountEvent

CURRENCY: Final = "GBP"
DEFAULT_TITLE: Final = "dpledger ledger"

_ROOTS: Final[Mapping[str, str]] = {
    "assets": "Assets",
    "income": "Income",  # income:returned_to_council (contra-income, debit balance) included
    "liabilities": "Liabilities",
    "expenses": "Expenses",
}
# Suspense is no beancount root, so each suspense account goes under the root of what it is.
# Unidentified income is money held for whoever sent it until it is classified or refunded: owed
# back, a liability (credit balance). An unexplained outgoing is money gone that may be recovered
# or explained: a claim, an asset (debit balance). The root only changes how reports present the
# sign; beancount's arithmetic is the same under any root.
_SUSPENSE_ROOTS: Final[Mapping[LedgerAccount, str]] = {
    LedgerAccount.SUSPENSE: "Liabilities",
    LedgerAccount.UNEXPLAINED_OUTGOING: "Assets",
}

_READABLE = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")
_ESCAPED = "X--"
"""The prefix of an escaped account id. A readable component never contains ``--``, so an
escaped one can never equal a readable one."""
_KEPT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

# Beancount strings take these backslash escapes; every other character may stand as it is.
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})

# Fields that say which document or item an event is about, in the order the narration gives
# them, with the words that introduce them.
_DETAILS: Final[tuple[tuple[str, str], ...]] = (
    ("agency_id", "agency "),
    ("invoice_number", "invoice "),
    ("pa_id", "PA "),
    ("item_id", "item "),
    ("income_item_id", "income item "),
    ("category", ""),
    ("classified_as", "as "),
    ("purpose", ""),
    ("description", ""),
)
_ACRONYMS: Final[Mapping[str, str]] = {"hmrc": "HMRC"}


# ------------------------------------------------------------------------------- account names
def account_component(account_id: str) -> str:
    """The beancount account-name component standing for the dpledger account ``account_id``.

    Beancount components match ``[A-Z0-9][A-Za-z0-9-]*``. An id of that form without ``--`` is
    used as it is (``DP-1001``). Any other id is escaped: ``X--`` followed by its UTF-8 bytes,
    ASCII letters and digits kept and every other byte written ``-HH`` (two upper-case hex
    digits), so ``dp.1001`` becomes ``X--dp-2E1001``. Readable components never contain ``--``
    and escaped ones always start with ``X--``, and the escape decodes uniquely, so the mapping is
    injective; :func:`account_id_from_component` inverts it.
    """
    if _READABLE.fullmatch(account_id) and "--" not in account_id:
        return account_id
    escaped = "".join(
        chr(byte) if byte in _KEPT_BYTES else f"-{byte:02X}" for byte in account_id.encode()
    )
    return _ESCAPED + escaped


def account_id_from_component(component: str) -> str:
    """The dpledger account id that :func:`account_component` maps to ``component``.

    Raises ``ValueError`` if no account id maps to it.
    """
    if not component.startswith(_ESCAPED):
        if _READABLE.fullmatch(component) and "--" not in component:
            return component
        raise ValueError(f"{component!r} is not a dpledger account component")
    data = bytearray()
    rest = component[len(_ESCAPED) :]
    at = 0
    while at < len(rest):
        char = rest[at]
        if char == "-" and re.fullmatch(r"[0-9A-F]{2}", rest[at + 1 : at + 3]):
            data.append(int(rest[at + 1 : at + 3], 16))
            at += 3
        elif char.isascii() and char.isalnum():
            data.append(ord(char))
            at += 1
        else:
            raise ValueError(f"{component!r} is not a dpledger account component")
    account_id = data.decode()  # UnicodeDecodeError is a ValueError
    if account_component(account_id) != component:  # e.g. a kept byte written as -HH
        raise ValueError(f"{component!r} is not a dpledger account component")
    return account_id


def beancount_account(account_id: str, ledger_account: LedgerAccount) -> str:
    """The beancount account holding ``ledger_account`` of the dpledger account ``account_id``.

    ``<Root>:<account component>:<Name>``: the root from the ledger account's kind (``assets:``
    under ``Assets`` and so on; ``suspense:unidentified`` under ``Liabilities`` and
    ``suspense:unexplained_outgoing`` under ``Assets``, as ``Suspense:<Name>``), the account id as
    :func:`account_component` writes it, and the code's name in CamelCase
    (``liabilities:pa_net_wages`` is ``Liabilities:DP-1001:PaNetWages``).
    """
    kind, name = ledger_account.value.split(":", 1)
    leaf = "".join(word[:1].upper() + word[1:] for word in name.split("_"))
    if kind == "suspense":
        root, leaf = _SUSPENSE_ROOTS[ledger_account], f"Suspense:{leaf}"
    else:
        root = _ROOTS[kind]
    return f"{root}:{account_component(account_id)}:{leaf}"


# ------------------------------------------------------------------------------------ the file
@dataclass(frozen=True)
class _History:
    account_id: str
    events: Sequence[AccountEvent]

    @property
    def opened(self) -> date:
        # The earliest effective date, not only the opening's: beancount refuses a posting
        # dated before its account's open directive, and back-dated entries happen.
        return min(event.effective_date for event in self.events)

    def balances_at(self, days: Sequence[date]) -> list[tuple[date, dict[LedgerAccount, int]]]:
        """The balance of every ledger account at the end of each of ``days`` (sorted), by
        effective date: every event counts, however late it was recorded."""
        lines = sorted(
            (event.effective_date, line.account, line.amount.pence)
            for event in self.events
            for line in event.postings
        )
        running = dict.fromkeys(LedgerAccount, 0)
        found: list[tuple[date, dict[LedgerAccount, int]]] = []
        at = 0
        for day in days:
            while at < len(lines) and lines[at][0] <= day:
                running[lines[at][1]] += lines[at][2]
                at += 1
            found.append((day, dict(running)))
        return found


def to_beancount(
    histories: Iterable[tuple[str, Sequence[AccountEvent]]],
    *,
    title: str | None = None,
    assert_at: Iterable[date] | None = None,
) -> str:
    """The accounts' histories as the text of a beancount file.

    ``histories`` are ``(account id, that account's events in version order)`` pairs, e.g.
    ``[(a, ledger.events(a)) for a in ledger.account_ids()]``; an account without events is left
    out. ``title`` is the file's ``option "title"`` (default ``"dpledger ledger"``).

    ``assert_at`` are the days D whose end-of-day balances are asserted, for every ledger account
    of every account opened by then, zero balances included (default: the last day of each month
    from the month of the earliest effective date to that of the latest). Beancount checks a
    ``balance`` at the start of its date, so the balance at the end of D is written on D + 1. The
    figures are sums of the postings effective on or before D, recorded at any time (the ledger as
    known now, like ``Ledger.balances_as_of``).

    Raises ``ValueError`` if an account id appears twice.
    """
    found = [_History(account_id, tuple(events)) for account_id, events in histories]
    found = [history for history in found if history.events]
    ids = [history.account_id for history in found]
    if len(set(ids)) != len(ids):
        raise ValueError("an account id appears more than once in the histories")
    if assert_at is not None:
        days = sorted(set(assert_at))
    elif found:
        effective = [event.effective_date for history in found for event in history.events]
        days = _month_ends(min(effective), max(effective))
    else:
        days = []

    out = [
        *_header(),
        f"option {_quote('title')} {_quote(DEFAULT_TITLE if title is None else title)}",
        f"option {_quote('operating_currency')} {_quote(CURRENCY)}",
        "",
    ]
    for history in found:
        out.extend(_account_text(history, days))
    return "\n".join(out)


def _month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from the month of ``first`` to the month of ``last``."""
    ends: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=31)).replace(day=1)
        ends.append(following - timedelta(days=1))
        month = following
    return ends


def _header() -> list[str]:
    # From the installed metadata, not `dpledger.__version__`: an adapter does not import the
    # package's facade (which may import this module).
    try:
        version = metadata.version("dpledger")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "(version unknown)"
    return [
        f"; The dpledger ledger as a beancount file, written by dpledger {version}.",
        "; One transaction per dpledger event that has postings, dated at its effective date;",
        "; events without postings are left out. Amounts are debit-positive, beancount's own",
        "; convention: income, liabilities and unidentified money normally show negative balances.",
        "; Each balance assertion states a balance, exactly (~ 0.00), at the end of the day before",
        "; its date, because beancount checks a balance at the start of its date.",
        "",
    ]


def _account_text(history: _History, days: Sequence[date]) -> list[str]:
    account_id = history.account_id
    names = {
        ledger_account: beancount_account(account_id, ledger_account)
        for ledger_account in LedgerAccount
    }
    out = [f"; ---- account {account_component(account_id)}", ""]
    opened = history.opened.isoformat()
    out.extend(f"{opened} open {names[a]} {CURRENCY}" for a in LedgerAccount)
    out.append("")
    for event in history.events:
        if event.postings:
            out.extend(_transaction(account_id, event, names))
            out.append("")
    asserted = [day for day in days if day >= history.opened]
    for day, balances in history.balances_at(asserted):
        written = (day + timedelta(days=1)).isoformat()
        # "~ 0.00": beancount's default tolerance on a balance is one unit of its last digit
        # (a penny either way); dpledger's balances are exact, so the assertions must be.
        out.extend(
            f"{written} balance {names[a]} {_amount(balances[a], exact=True)}"
            for a in LedgerAccount
        )
        out.append("")
    return out


def _transaction(
    account_id: str, event: AccountEvent, names: Mapping[LedgerAccount, str]
) -> list[str]:
    meta: list[tuple[str, str]] = [
        ("dpledger-account", _quote(account_id)),
        ("dpledger-version", str(event.originator_version)),
        ("dpledger-event", _quote(type(event).__name__)),
        ("recorded-at", _quote(event.timestamp.isoformat())),
        ("actor", _quote(event.actor)),
        ("digest", _quote(event.digest)),
    ]
    if event.reason is not None:
        meta.append(("reason", _quote(event.reason)))
    bank_reference = getattr(event, "bank_reference", None)
    if isinstance(bank_reference, str):
        meta.append(("bank-reference", _quote(bank_reference)))
    if isinstance(event, EntryCorrected):
        meta.append(("corrects-version", str(event.corrected_version)))
    return [
        f"{event.effective_date.isoformat()} * {_quote(_narration(event))}",
        *(f"  {key}: {value}" for key, value in meta),
        *(f"  {names[line.account]}  {_amount(line.amount.pence)}" for line in event.postings),
    ]


def _narration(event: AccountEvent) -> str:
    if isinstance(event, EntryCorrected):
        fields = event.corrected_fields
        what = f"reverses v{event.corrected_version} {_words(event.corrected_type, first=False)}"
        details = [what, *_details(lambda name: fields.get(name))]
    else:
        details = _details(lambda name: getattr(event, name, None))
    title = _words(type(event).__name__)
    return f"{title}: {'; '.join(details)}" if details else title


def _details(get: Callable[[str], object]) -> list[str]:
    found: list[str] = []
    for name, words in _DETAILS:
        value = get(name)
        if value is not None:
            found.append(words + str(value.value if isinstance(value, Enum) else value))
    return found


def _words(type_name: str, *, first: bool = True) -> str:
    """``CouncilPaymentReceived`` as ``Council payment received`` (``council payment received``
    when not ``first``)."""
    words = [_ACRONYMS.get(w.lower(), w.lower()) for w in re.findall(r"[A-Z][a-z0-9]*", type_name)]
    if not words:
        return type_name
    if first:
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _quote(text: str) -> str:
    """``text`` as a beancount string literal."""
    return '"' + text.translate(_STRING_ESCAPES) + '"'


def _amount(pence: int, *, exact: bool = False) -> str:
    """Exact decimal pounds from integer pence, e.g. ``-1234.56 GBP``; never a float. ``exact``
    adds a zero tolerance (``-1234.56 ~ 0.00 GBP``), for a balance assertion."""
    pounds, rest = divmod(abs(pence), 100)
    tolerance = " ~ 0.00" if exact else ""
    return f"{'-' if pence < 0 else ''}{pounds}.{rest:02d}{tolerance} {CURRENCY}"
