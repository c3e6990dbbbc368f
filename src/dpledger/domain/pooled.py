"""Pooled client accounts: one bank account holding the money of many managed accounts.

Many managed-account providers keep their clients' money in one **pooled client bank account**
with a sub-ledger per person (the "virtual wallet" model). Here that bank account is a
:class:`~dpledger.domain.bank.BankAccount` declared pooled (``PoolingConfigured``); each managed
account that names it or adds it (``BankAccountNamed`` / ``BankAccountAdded``) becomes a member
(``PoolMemberJoined``). Each booked line of its statements is **allocated** to one member, whose
managed account then records the payment with the very command a hand entry would run, or is
**held as unallocated** at the pooled level (a ``StatementLineBooked`` naming no managed account)
until a person allocates it (``LineAllocated``, with actor and reason).

How a line is allocated (:func:`allocate_line`), in order:

1. the provider's **allocation table** (:class:`~dpledger.domain.records.AllocationRule`: a
   pattern over the bank's text, the payer or the reference, naming a member);
2. the bank's text **names a member**: the managed account's id or the person's reference, as
   whole words (``DP-1002`` matches ``dp 1002`` but not ``DP-10021``);
3. the line **matches an expected payment** of exactly one member (a council payment or
   contribution due, an invoice, wages, HMRC or pension owed, money recorded by hand): the
   application asks each member's matching rules
   (:func:`~dpledger.domain.reconciliation.match_line`);
4. otherwise it is **held**, and so is a line two rules (or two members) claim: the reason says
   which.

**Client money never pays for another client.** A line paying money out for a member is
allocated only when the member's own money covers it, in the pool and in their account; else it
is held, with the member and the shortfall in its reason, and allocating it later is refused the
same way. **The pool adds up**: the pool's balance (the sum of its lines) always equals the sum
of the members' shares plus the unallocated money (:func:`check_pool`, on every event and in
``verify``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dpledger.domain.bank import BankAccount, BankBook, line_index_key
from dpledger.domain.bounds import MAX_NAME, MAX_TEXT, check_identifier, check_text
from dpledger.domain.errors import ValidationError
from dpledger.domain.events import BankAccountEvent, money_in
from dpledger.domain.money import Money
from dpledger.domain.records import AllocationRule, UnallocatedLine

if TYPE_CHECKING:
    from dpledger.domain.reconciliation import BankLine

RULE_FIELDS = ("text", "payer", "reference")
"""What an allocation rule's pattern may be matched against."""

MAX_RULES = 10_000
"""An allocation table holds at most this many rules (a row per member, with room to spare)."""

MAX_NAME_WORDS = 6
"""Account ids and person references are looked for in the bank's text up to this many words
long (``DP 1002``, ``Northshire ref 12 345``)."""

_NOT_TEXT = re.compile(r"[^0-9a-z]+")


class PoolError(ValueError):
    """The pool no longer adds up: a bug, never a user's mistake (the event is not recorded)."""


# ---------------------------------------------------------------------------- rules
@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def check_rules(rules: Iterable[Mapping[str, Any] | AllocationRule]) -> list[AllocationRule]:
    """The allocation table ``rules`` checked: each names an account, a field of
    :data:`RULE_FIELDS` and a pattern that compiles. Raises :class:`ValidationError` naming the
    rule (``rules[2].pattern``) and the fix."""
    checked: list[AllocationRule] = []
    for index, raw in enumerate(rules):
        where = f"rules[{index}]"
        if isinstance(raw, AllocationRule):
            data: Mapping[str, Any] = {
                "account_id": raw.account_id,
                "pattern": raw.pattern,
                "field": raw.field,
            }
        elif isinstance(raw, Mapping):
            data = raw
        else:
            raise ValidationError(
                f"must be a table with account_id, pattern and field, got {raw!r}",
                field=where,
                fix='write each rule as {account_id = "DP-1", pattern = "SMITH J", '
                'field = "payer"}',
            )
        unknown = sorted(set(data) - {"account_id", "pattern", "field"})
        if unknown:
            raise ValidationError(
                f"unknown key(s) {', '.join(unknown)}",
                field=where,
                fix="a rule has account_id, pattern and (optionally) field",
            )
        account_id = check_identifier(data.get("account_id"), f"{where}.account_id")
        pattern = check_text(data.get("pattern"), f"{where}.pattern", limit=MAX_NAME)
        if not pattern.strip():
            raise ValidationError(
                "must not be blank", field=f"{where}.pattern", fix="give a regular expression"
            )
        try:
            _compiled(pattern)
        except re.error as bad:
            raise ValidationError(
                f"{pattern!r} is not a regular expression: {bad}",
                field=f"{where}.pattern",
                fix="escape special characters (for example '\\.' for a full stop), or write "
                "the words to look for",
            ) from bad
        kind = data.get("field", "text")
        if kind not in RULE_FIELDS:
            raise ValidationError(
                f"{kind!r} is not one of {', '.join(RULE_FIELDS)}",
                field=f"{where}.field",
                fix="match the bank's whole text, the payer, or the reference",
            )
        checked.append(AllocationRule(account_id, pattern, str(kind)))
    if len(checked) > MAX_RULES:
        raise ValidationError(
            f"{len(checked)} rules is more than {MAX_RULES}",
            field="rules",
            fix="name members by their reference in the bank's text instead of one rule each",
        )
    return checked


def _rule_text(rule: AllocationRule, line: BankLine) -> str:
    if rule.field == "payer":
        return line.counterparty or line.description
    if rule.field == "reference":
        return " ".join(p for p in (line.bank_reference, line.end_to_end_id) if p)
    parts = (line.description, line.counterparty, line.bank_reference, line.end_to_end_id)
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------------------- allocation
@dataclass(frozen=True, slots=True)
class Allocation:
    """To whom a pooled line belongs (``None``: held as unallocated), and why."""

    account_id: str | None
    reason: str
    how: str
    """``"rule"``, ``"named"``, ``"expected"``, ``"held"`` or ``"person"``."""


def _words(text: str) -> str:
    return " ".join(_NOT_TEXT.sub(" ", text.casefold()).split())


class MemberNames:
    """Each member's account id and person reference, as whole words, to find in a line's text
    in time independent of how many members there are."""

    def __init__(self, members: Mapping[str, str]) -> None:
        self.by_words: dict[str, set[str]] = {}
        for account_id, person_ref in members.items():
            for name in (account_id, person_ref):
                words = _words(name)
                if words and len(words.split()) <= MAX_NAME_WORDS:
                    self.by_words.setdefault(words, set()).add(account_id)

    def named_in(self, text: str) -> set[str]:
        """The members whose id or reference ``text`` (lower case words) names."""
        words = text.split()
        found: set[str] = set()
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_NAME_WORDS, len(words)) + 1):
                hit = self.by_words.get(" ".join(words[start:end]))
                if hit:
                    found |= hit
        return found


def allocate_line(
    book: BankBook,
    line: BankLine,
    names: MemberNames,
    expected: Callable[[], Mapping[str, str]],
) -> Allocation:
    """Whose money ``line`` of the pooled account ``book`` is (see the module's rules).

    ``expected`` lists, when called, the members the line matches an expected payment of, each
    with that match's reason (only called when neither the table nor the text decides).
    """
    return allocation_by_table_or_text(book, line, names) or allocation_by_expected(expected())


def allocation_by_table_or_text(
    book: BankBook, line: BankLine, names: MemberNames
) -> Allocation | None:
    """Rules 1 and 2: the allocation table, then a member named in the bank's text (``None``:
    neither decides). Depends on the line and the pool's settings only."""
    claimed: dict[str, int] = {}
    for number, rule in enumerate(book.rules, start=1):
        if rule.account_id in book.members and _compiled(rule.pattern).search(
            _rule_text(rule, line)
        ):
            claimed.setdefault(rule.account_id, number)
    if len(claimed) == 1:
        (account_id, number), *_ = claimed.items()
        rule = book.rules[number - 1]
        return Allocation(
            account_id,
            f"allocation rule {number} ({rule.field} matches {rule.pattern!r}) names {account_id}",
            "rule",
        )
    if len(claimed) > 1:
        return _held(
            "allocation rules "
            + ", ".join(f"{n} ({a})" for a, n in sorted(claimed.items(), key=lambda x: x[1]))
            + " all match it"
        )
    named = sorted(names.named_in(line.text))
    if len(named) == 1:
        return Allocation(
            named[0], f"the bank's text names {named[0]} (account id or reference)", "named"
        )
    if len(named) > 1:
        return _held(f"the bank's text names {', '.join(named)}")
    return None


def allocation_by_expected(fits: Mapping[str, str]) -> Allocation:
    """Rule 3: the one member whose expected payment the line matches (``fits``: member to the
    match's reason), else held."""
    if len(fits) == 1:
        (account_id, why), *_ = fits.items()
        return Allocation(account_id, f"expected by {account_id}: {why}", "expected")
    if len(fits) > 1:
        return _held(f"it fits expected payments of {', '.join(sorted(fits))}")
    return _held("no allocation rule, member's reference or expected payment matches it")


def _held(why: str) -> Allocation:
    return Allocation(
        None, f"held as unallocated: {why}; allocate it to the member it is for", "held"
    )


def check_pool(book: BankBook) -> None:
    """Raise :class:`PoolError` unless the pool's balance is the members' shares plus the
    unallocated money, and the unallocated lines add up to the unallocated money."""
    allocated = book.allocated()
    held = sum(u.remaining.pence for u in book.unallocated.values())
    if book.balance != allocated + book.unallocated_total or held != book.unallocated_total:
        raise PoolError(
            f"pooled account {book.key} does not add up: balance {Money(book.balance)}, "
            f"members' shares {Money(allocated)}, unallocated {Money(book.unallocated_total)} "
            f"(held lines {Money(held)})"
        )


def member_share(bank: BankAccount, account_id: str) -> Money:
    """The part of the pool's balance that is ``account_id``'s money."""
    return Money(bank.book.shares.get(account_id, 0))


def unallocated_lines(bank: BankAccount) -> list[UnallocatedLine]:
    """The pool's lines still (partly) held, oldest first."""
    return sorted(bank.book.unallocated.values(), key=lambda u: (u.booking_date, u.key))


def part_key(line_key: str, number: int) -> str:
    """The key of the ``number``-th part of a held line allocated to a member: what the member's
    money event is keyed by (``bank:<part key>``), so each allocation is recorded once."""
    return f"{line_key}/{number}"


# ---------------------------------------------------------------------------- events
class PoolingConfigured(BankAccountEvent):
    """The bank account is a pooled client account called ``name``, allocating its lines by
    ``rules`` (the whole table, replacing any earlier one)."""

    name: str
    rules: list[Any]
    """The allocation table, as ``{"account_id", "pattern", "field"}`` rows."""

    def evolve(self, bank: BankAccount) -> None:
        """Pooled, with its table; the accounts its lines already moved money for are
        members."""
        book = bank.book
        book.pooled = True
        book.name = self.name
        book.rules = [AllocationRule(r["account_id"], r["pattern"], r["field"]) for r in self.rules]
        for holder in book.holders:
            book.members.setdefault(holder, holder)

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``pooled client account "Clients" with 3 allocation rules``."""
        rules = details.get("rules") or []
        return f"pooled client account {details.get('name')!r} with {len(rules)} allocation rules"


class PoolMemberJoined(BankAccountEvent):
    """A managed account's money is held in the pool from ``effective_date``."""

    account_id: str
    person_ref: str

    def evolve(self, bank: BankAccount) -> None:
        """One more member."""
        bank.book.members[self.account_id] = self.person_ref

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``DP-1 (person P-77) joined the pool``."""
        return f"{details.get('account_id')} (person {details.get('person_ref')}) joined the pool"


class LineAllocated(BankAccountEvent):
    """A person allocated ``amount`` of held line ``line_key`` to ``account_id``; the member's
    event ``event_version`` recorded the money (keyed ``bank:<part_key>``)."""

    line_key: str
    part_key: str
    account_id: str
    amount: Money
    event_version: int
    event_type: str
    match: str

    def evolve(self, bank: BankAccount) -> None:
        """The money moves from the unallocated lines to the member's share."""
        book = bank.book
        held = book.unallocated[self.line_key]
        remaining = held.remaining - self.amount
        book.move(None, -self.amount.pence)
        book.move(self.account_id, self.amount.pence)
        if remaining.pence == 0:
            del book.unallocated[self.line_key]
        else:
            book.unallocated[self.line_key] = UnallocatedLine(
                **{
                    **{f: getattr(held, f) for f in held.__dataclass_fields__},
                    "remaining": remaining,
                    "allocations": held.allocations + 1,
                }
            )
        if self.account_id not in book.holders:
            book.holders.append(self.account_id)

    def claims(self) -> dict[str, str | None]:
        """The part's key (and the request's idempotency key)."""
        return {**super().claims(), line_index_key(self.part_key): None}

    @classmethod
    def describe(cls, details: Mapping[str, Any]) -> str:
        """``£12.00 of line X allocated to DP-1 (event 7)``."""
        return (
            f"{money_in(details)} of line {details.get('line_key')} allocated to "
            f"{details.get('account_id')} (event {details.get('event_version')})"
        )


def configure_pooling(
    bank: BankAccount, name: str, rules: Sequence[AllocationRule], day: Any, actor: str
) -> None:
    """Declare ``bank`` pooled (or change its name or table); unchanged settings record
    nothing."""
    name = check_text(name, "name", limit=MAX_NAME)
    rows = [{"account_id": r.account_id, "pattern": r.pattern, "field": r.field} for r in rules]
    book = bank.book
    if book.pooled and book.name == name and list(book.rules) == list(rules):
        return
    bank.record(
        PoolingConfigured,
        effective_date=day,
        actor=actor,
        reason=check_text(f"{len(rows)} allocation rules", "reason", limit=MAX_TEXT),
        name=name,
        rules=rows,
    )
