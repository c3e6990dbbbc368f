"""The finance officer's commands: list the items held in suspense, and resolve one.

Money that matched nothing expected is held until a person explains it: unexpected income (a
refund, a mistaken transfer) and unexplained outgoings (a bank debit no payment explains), from
bank imports or entered by hand. ``held`` lists what is still held; ``resolve`` records what
became of one item, through the same commands as the ``Ledger``'s typed methods.
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import typer

from dpledger import Ledger
from dpledger.cli.app import app
from dpledger.cli.common import (
    EXIT_OK,
    JsonOption,
    StoreOption,
    ledger_on,
    out,
    parse_date,
    print_json,
    table,
)
from dpledger.commands import (
    AcceptUnexpectedOutgoing,
    ClassifyUnexpectedIncome,
    ClassifyUnexpectedOutgoing,
    KeepUnexpectedIncome,
    RecoverUnexpectedOutgoing,
    RefundUnexpectedIncome,
)
from dpledger.domain.chart import SpendCategory
from dpledger.domain.commands import Command
from dpledger.domain.money import Money
from dpledger.domain.suspense import INCOME_CLASSES
from dpledger.errors import UnknownParty, ValidationError
from dpledger.projections.audit import event_details

Kind = Literal["income", "outgoing"]
HELD = "held"
HELD_RULES = {"unexpected_income": "income", "unexpected_outgoing": "outgoing"}
"""The warning rules raised for each held item (one warning per item, its id as subject)."""
INCOME_ACTIONS = "--classify council|contribution, --refund or --keep"
OUTGOING_ACTIONS = "--classify-outgoing CATEGORY, --recover or --accept"


@dataclass(frozen=True, slots=True)
class SuspenseEntry:
    """One item of an account's suspense, either way, held or resolved recently."""

    account_id: str
    item_id: str
    kind: Kind
    day: date
    """When the money arrived or left the bank."""
    amount: Money
    description: str
    status: str
    """``held`` until resolved; then what became of it (``classified``, ``refunded``, ...)."""
    resolved_on: date | None

    def as_dict(self, on: date) -> dict[str, Any]:
        """The entry as JSON data, with its age in days at ``on``."""
        return {
            "account_id": self.account_id,
            "item_id": self.item_id,
            "kind": self.kind,
            "date": self.day.isoformat(),
            "amount_pence": self.amount.pence,
            "description": self.description,
            "age_days": (on - self.day).days,
        }

    def brief(self) -> str:
        """``S7 (income £12.34 on 2026-04-09: REFUND)``."""
        return f"{self.item_id} ({self.kind} {self.amount} on {self.day}: {self.description})"


def suspense_of(ledger: Ledger, account_id: str) -> dict[str, SuspenseEntry]:
    """Every suspense item the account keeps (held, or resolved within its recent window), by id,
    from the account's state (``Ledger.account`` and ``Ledger.unexplained_outgoings``)."""
    found: dict[str, SuspenseEntry] = {}
    for i in ledger.account(account_id).suspense_items.values():
        found[i.item_id] = SuspenseEntry(
            account_id,
            i.item_id,
            "income",
            i.received_on,
            i.amount,
            i.description,
            i.status.value,
            i.resolved_on,
        )
    for o in ledger.unexplained_outgoings(account_id).values():
        found[o.item_id] = SuspenseEntry(
            account_id,
            o.item_id,
            "outgoing",
            o.effective_date,
            o.amount,
            o.description,
            o.status.value,
            o.resolved_on,
        )
    return found


def held_items(ledger: Ledger, account_id: str | None = None) -> list[SuspenseEntry]:
    """The items still held, of one account or of every account, oldest first in each account.

    For the whole store the warnings read model names the accounts holding anything (it raises
    one warning per held item), so only those accounts are loaded, however many the store has.
    """
    if account_id is not None:
        accounts = [account_id]
    else:
        warned = ledger.warnings(active_only=True)
        accounts = sorted({w.account_id for w in warned if w.rule in HELD_RULES})
    held: list[SuspenseEntry] = []
    for name in accounts:
        entries = suspense_of(ledger, name).values()
        held += sorted((e for e in entries if e.status == HELD), key=lambda e: (e.day, e.item_id))
    return held


def _age(days: int) -> str:
    return "today" if days == 0 else f"{days} day{'' if days == 1 else 's'}"


# ----------------------------------------------------------------------------- held
@app.command(epilog="Examples: dpledger held  |  dpledger held DP-1001 --json")
def held(
    account_id: Annotated[
        str | None,
        typer.Argument(metavar="ACCOUNT", help="One account; default: all.", show_default=False),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="Count each item's age to this date. Default: today.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """The money held in suspense: unexpected income and unexplained outgoings not yet resolved.

    Items come from bank imports or are entered by hand. Lists each one still held: its account,
    item id, kind, date, amount, how long it has been held and its description. Resolve one with
    `dpledger resolve`.
    """
    day = parse_date(on, "--on") or date.today()
    with ledger_on(store) as ledger:
        items = held_items(ledger, account_id)
    if as_json:
        print_json(
            "held", {"account_id": account_id, "on": day, "items": [i.as_dict(day) for i in items]}
        )
        return EXIT_OK
    if not items:
        where = "the store" if account_id is None else account_id
        out.print(f"Nothing is held in suspense in {where}.", markup=False)
        return EXIT_OK
    grid = table(
        f"{len(items)} item(s) held in suspense, ages on {day}",
        *("account", "item", "kind", "date", "amount", "held for", "description"),
        right=("amount", "held for"),
        fold=True,
    )
    for i in items:
        grid.add_row(
            i.account_id,
            i.item_id,
            i.kind,
            str(i.day),
            str(i.amount),
            _age((day - i.day).days),
            i.description,
        )
    out.print(grid)
    return EXIT_OK


# ----------------------------------------------------------------------------- resolve
@dataclass(frozen=True, slots=True)
class _Action:
    option: str
    kind: Kind
    value: str | None = None


def _chosen(
    classify: str | None,
    refund: bool,
    keep: bool,
    classify_outgoing: str | None,
    recover: bool,
    accept: bool,
) -> _Action:
    """The one action given, its value checked; a usage error otherwise."""
    given = [
        a
        for a, chosen in (
            (_Action("--classify", "income", classify), classify is not None),
            (_Action("--refund", "income"), refund),
            (_Action("--keep", "income"), keep),
            (
                _Action("--classify-outgoing", "outgoing", classify_outgoing),
                classify_outgoing is not None,
            ),
            (_Action("--recover", "outgoing"), recover),
            (_Action("--accept", "outgoing"), accept),
        )
        if chosen
    ]
    if len(given) != 1:
        named = " and ".join(a.option for a in given)
        raise typer.BadParameter(
            f"give exactly one action{f', not {named}' if named else ''}: for income "
            f"{INCOME_ACTIONS}; for an outgoing {OUTGOING_ACTIONS}",
            param_hint="ACTION",
        )
    action = given[0]
    choices = list(INCOME_CLASSES) if action.option == "--classify" else []
    if action.option == "--classify-outgoing":
        choices = [c.value for c in SpendCategory]
    if choices and action.value not in choices:
        raise typer.BadParameter(
            f"{action.value!r} is not one of {', '.join(choices)}", param_hint=action.option
        )
    return action


def _command(
    action: _Action, item: SuspenseEntry, income_item: str | None, fields: dict[str, Any]
) -> Command:
    """The command the action stands for (the one the Ledger's typed method builds), with the
    reason kept whichever the action: auditors read it."""
    fields = {**fields, "item_id": item.item_id}
    match action.option:
        case "--classify":
            return ClassifyUnexpectedIncome.build(classified_as=action.value, **fields)
        case "--refund":
            return RefundUnexpectedIncome.build(**fields)
        case "--keep":
            return KeepUnexpectedIncome.build(**fields)
        case "--classify-outgoing":
            return ClassifyUnexpectedOutgoing.build(category=action.value, **fields)
        case "--recover":
            return RecoverUnexpectedOutgoing.build(income_item_id=income_item, **fields)
    return AcceptUnexpectedOutgoing.build(**fields)


def _find(ledger: Ledger, account_id: str, item_id: str, action: _Action) -> SuspenseEntry:
    """The item the action names; refused, listing the held items, if the account has none of
    that id, and refused, naming the actions that fit, if it is the other kind."""
    entries = suspense_of(ledger, account_id)
    item = entries.get(item_id)
    if item is None:
        held = [e for e in entries.values() if e.status == HELD]
        if not held:
            raise UnknownParty(
                f"no item {item_id!r} is held, and nothing is held in suspense",
                account_id=account_id,
                fix="check the account id; `dpledger held` lists every account's held items",
            )
        listed = "; ".join(e.brief() for e in sorted(held, key=lambda e: (e.day, e.item_id)))
        raise UnknownParty(
            f"no item {item_id!r} is held; held: {listed}",
            account_id=account_id,
            fix="name one of these items",
        )
    if item.kind != action.kind:
        what = "unexpected income" if item.kind == "income" else "an unexplained outgoing"
        fits = INCOME_ACTIONS if item.kind == "income" else OUTGOING_ACTIONS
        raise ValidationError(
            f"{item_id} is {what}, and {action.option} resolves "
            f"{'unexpected income' if action.kind == 'income' else 'an unexplained outgoing'}",
            field=action.option,
            account_id=account_id,
            fix=f"resolve {item_id} with {fits}",
        )
    return item


@app.command(
    epilog="Examples: dpledger resolve DP-1001 S12 --classify council --actor officer-7 --reason "
    "'council top-up, remittance 4471'  |  dpledger resolve DP-1001 U13 --accept --actor "
    "officer-7 --reason 'bank charge' --on 2026-04-30 --idempotency-key resolve-U13"
)
def resolve(
    account_id: Annotated[
        str, typer.Argument(metavar="ACCOUNT", help="The account id, e.g. DP-1001.")
    ],
    item_id: Annotated[
        str,
        typer.Argument(metavar="ITEM", help="The held item's id (`dpledger held`), e.g. S12, U13."),
    ],
    actor: Annotated[
        str, typer.Option("--actor", help="Who resolves it: a user id.", show_default=False)
    ],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why, briefly: auditors read it.", show_default=False),
    ],
    classify: Annotated[
        str | None,
        typer.Option(
            "--classify",
            metavar="CLASS",
            help=f"Income: it is {' or '.join(INCOME_CLASSES)} money.",
            show_default=False,
        ),
    ] = None,
    refund: Annotated[
        bool, typer.Option("--refund", help="Income: pay it back to whoever sent it.")
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Income: keep it in the account.")] = False,
    classify_outgoing: Annotated[
        str | None,
        typer.Option(
            "--classify-outgoing",
            metavar="CATEGORY",
            help="Outgoing: it is care-plan spend of this category ("
            f"{', '.join(c.value for c in SpendCategory)}).",
            show_default=False,
        ),
    ] = None,
    recover: Annotated[
        bool,
        typer.Option(
            "--recover", help="Outgoing: the money came back (into the bank, or --income-item)."
        ),
    ] = False,
    accept: Annotated[
        bool, typer.Option("--accept", help="Outgoing: spent and not recoverable.")
    ] = False,
    income_item: Annotated[
        str | None,
        typer.Option(
            "--income-item",
            metavar="ITEM",
            help="With --recover: the held unexpected income (same amount) it came back as.",
            show_default=False,
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="The resolution's effective date. Default: today (on a retry with "
            "--idempotency-key, the day the item was resolved).",
            show_default=False,
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            metavar="KEY",
            help="Repeating the command with this key records nothing new.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Resolve one held item: say what the money was, with exactly one action.

    Unexpected income: --classify council|contribution, --refund or --keep. An unexplained
    outgoing: --classify-outgoing CATEGORY, --recover or --accept. Prints the event recorded and
    its version; exit code 1 if it was refused (the message says the fix).
    """
    action = _chosen(classify, refund, keep, classify_outgoing, recover, accept)
    if income_item is not None and action.option != "--recover":
        raise typer.BadParameter("goes with --recover only", param_hint="--income-item")
    day = parse_date(on, "--on")
    with ledger_on(store) as ledger:
        item = _find(ledger, account_id, item_id, action)
        if day is None:
            # A retry a day later must repeat the first command exactly, its date too.
            retry = idempotency_key is not None and item.resolved_on is not None
            day = item.resolved_on if retry and item.resolved_on is not None else date.today()
        if day < item.day:
            raise ValidationError(
                f"{day} is before {item_id} was held ({item.day})",
                field="--on",
                account_id=account_id,
                fix=f"date the resolution on or after {item.day}",
            )
        fields: dict[str, Any] = {
            "account_id": account_id,
            "effective_date": day,
            "actor": actor,
            "reason": reason,
            "idempotency_key": idempotency_key,
        }
        receipt = ledger.execute(_command(action, item, income_item, fields))
    summary = type(receipt.event).describe(event_details(receipt.event))
    if as_json:
        print_json(
            "resolve",
            {
                "account_id": account_id,
                "item_id": item_id,
                "kind": item.kind,
                "action": action.option.removeprefix("--"),
                "value": action.value,
                "event": receipt.event_type,
                "version": receipt.version,
                "replayed": receipt.replayed,
                "effective_date": receipt.event.effective_date,
                "amount_pence": item.amount.pence,
                "summary": summary,
            },
        )
        return EXIT_OK
    done = "already recorded (a retry; nothing new)" if receipt.replayed else "recorded"
    out.print(
        f"{account_id}: {done} {receipt.event_type}, version {receipt.version}: {summary}",
        markup=False,
    )
    return EXIT_OK


@app.command(
    epilog="Example: DPLEDGER_DATA_KEY=... dpledger erase DP-1001 --actor dpo-2 --reason "
    "'retention period ended 2033-04-05'"
)
def erase(
    account_id: Annotated[
        str, typer.Argument(metavar="ACCOUNT", help="The closed account whose person to erase.")
    ],
    actor: Annotated[
        str, typer.Option("--actor", help="Who erases: a user id.", show_default=False)
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why now, e.g. the retention period that ended.", show_default=False
        ),
    ],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> int:
    """Erase a closed account's person on an encrypted store (crypto-shredding).

    Deletes the person's data key: their names, references, descriptions, actors and reasons can
    never be read again, while every figure stays and `dpledger verify` still passes
    (docs/operations.md, "Encryption at rest and erasure"). Needs the store's data key
    (DPLEDGER_DATA_KEY or DPLEDGER_DATA_KEY_FILE). Running it again changes nothing.
    """
    with ledger_on(store) as ledger:
        erased = ledger.erase_person(account_id, actor=actor, reason=reason)
    if as_json:
        print_json("erase", {"account_id": account_id, "erased": erased})
        return EXIT_OK
    if erased:
        out.print(
            f"{account_id}: the person's data key is deleted; personal fields read [erased]",
            markup=False,
        )
    else:
        out.print(f"{account_id}: the person was erased before; nothing changed")
    return EXIT_OK
