"""``dpledger held`` and ``dpledger resolve``: a finance officer's work on money held in suspense.

The store is recorded once through the Ledger API (items entered by hand and from an imported
bank statement), dated back from today so that the commands' default dates (today) apply; each
test that writes works on a copy. The commands run in this process through ``main(argv)``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from audit_scenario import lloyds_csv

from dpledger import Ledger, LedgerAccount
from dpledger.cli import main
from dpledger.domain.chart import SpendCategory
from dpledger.domain.suspense import INCOME_CLASSES

BASE = date.today() - timedelta(days=90)
WHO = {"actor": "officer-7"}
MAIN, OTHER, EMPTY = "DP-W1", "DP-W2", "DP-W3"


def day(offset: int) -> date:
    return BASE + timedelta(days=offset)


@dataclass(frozen=True)
class Store:
    """The recorded store and the item ids its receipts gave."""

    path: Path
    items: dict[str, str]


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DPLEDGER_STORE", raising=False)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("work")
    path = folder / "work.sqlite"
    items: dict[str, str] = {}
    with Ledger.sqlite(path) as ledger:
        for account in (MAIN, OTHER, EMPTY):
            ledger.open_account(
                account,
                person_ref=f"P-{account}",
                council="Kent County Council",
                provider="SOLO",
                effective_date=day(0),
                **WHO,
            )
            ledger.receive_council_payment(account, amount="500.00", effective_date=day(0), **WHO)

        def hold(name: str, account: str, kind: str, amount: str, text: str, on: int) -> None:
            method = (
                ledger.receive_unexpected_income
                if kind == "in"
                else ledger.record_unexplained_outgoing
            )
            receipt = method(
                account, amount=amount, description=text, effective_date=day(on), **WHO
            )
            assert receipt.item_id is not None
            items[name] = receipt.item_id

        hold("misdirected", MAIN, "in", "12.34", "MISDIRECTED TRANSFER", 9)
        hold("charge", MAIN, "out", "7.50", "BANK CHARGE", 8)
        hold("debit", MAIN, "out", "30.00", "DD 8812", 15)
        hold("returned", MAIN, "in", "30.00", "DD 8812 RETURNED", 16)
        hold("resolved", MAIN, "in", "45.00", 'DWP "adjustment"', 14)
        ledger.classify_unexpected_income(
            MAIN, item_id=items["resolved"], classified_as="council", effective_date=day(17), **WHO
        )
        hold("fee", OTHER, "out", "5.00", "FEE", 20)
        statement = folder / "statement.csv"
        statement.write_bytes(
            lloyds_csv(
                [
                    (day(12).isoformat(), "UNKNOWN DD 4471", -1999, None),
                    (day(13).isoformat(), "CREDIT 0099", 2500, None),
                ]
            )
        )
        report = ledger.import_bank_file(MAIN, statement, **WHO)
        debit, credit = (r.item_id for r in report.recorded)
        assert debit is not None
        assert credit is not None
        items["unknown_dd"], items["credit"] = debit, credit
    return Store(path, items)


@pytest.fixture
def store(recorded: Store, tmp_path: Path) -> Store:
    """A copy of the recorded store that a test may change."""
    target = tmp_path / "copy.sqlite"
    shutil.copy(recorded.path, target)
    return Store(target, recorded.items)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``dpledger ARGS`` in this process: the exit code, stdout and stderr."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def held_now(path: Path) -> list[tuple[str, str, str, date, int, str]]:
    """Every held item of the store as the Ledger's own queries give them, account by account:
    (account, item, kind, date, pence, description)."""
    found = []
    with Ledger.sqlite(path) as ledger:
        for account in ledger.account_ids():
            for i in ledger.account(account).suspense_items.values():
                if i.status.value == "held":
                    row = (account, i.item_id, "income", i.received_on, i.amount.pence)
                    found.append((*row, i.description))
            for o in ledger.unexplained_outgoings(account).values():
                if o.status.value == "held":
                    row = (account, o.item_id, "outgoing", o.effective_date, o.amount.pence)
                    found.append((*row, o.description))
    return found


def event_count(path: Path, account: str = MAIN) -> int:
    with Ledger.sqlite(path) as ledger:
        return len(ledger.events(account))


# ----------------------------------------------------------------------------- help, usage
@pytest.mark.parametrize("command", ["held", "resolve"])
def test_each_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, text, _ = run(capsys, command, "--help")
    assert code == 0
    assert "Example" in text
    assert f"Usage: dpledger {command}" in text


def test_the_commands_are_registered_on_the_installed_entry_point(recorded: Store) -> None:
    dpledger = Path(sys.executable).with_name("dpledger")
    done = subprocess.run(
        [str(dpledger), "held", MAIN, "--json", "--store", str(recorded.path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = {i["item_id"] for i in json.loads(done.stdout)["items"]}
    assert listed == {row[1] for row in held_now(recorded.path) if row[0] == MAIN}


# ----------------------------------------------------------------------------- held
def test_held_lists_every_held_item_of_the_store_as_the_ledger_knows_them(
    capsys: pytest.CaptureFixture[str], recorded: Store
) -> None:
    on = day(40)
    code, text, err = run(
        capsys, "held", "--on", on.isoformat(), "--json", "--store", str(recorded.path)
    )
    assert code == 0, err
    data = json.loads(text)
    assert data["on"] == on.isoformat()
    assert data["account_id"] is None
    listed = [
        (
            i["account_id"],
            i["item_id"],
            i["kind"],
            date.fromisoformat(i["date"]),
            i["amount_pence"],
            i["description"],
        )
        for i in data["items"]
    ]
    expected = held_now(recorded.path)
    assert sorted(listed) == sorted(expected)
    assert len(listed) == len(expected) == 7
    assert all(type(i["amount_pence"]) is int for i in data["items"])
    assert all(i["age_days"] == (on - date.fromisoformat(i["date"])).days for i in data["items"])
    # Resolved items and accounts holding nothing are not listed; each account oldest first.
    assert recorded.items["resolved"] not in {i["item_id"] for i in data["items"]}
    assert EMPTY not in {i["account_id"] for i in data["items"]}
    dates = [(i["account_id"], i["date"]) for i in data["items"]]
    assert dates == sorted(dates)


def test_held_of_one_account_prints_a_table_for_people(
    capsys: pytest.CaptureFixture[str], recorded: Store
) -> None:
    code, text, err = run(capsys, "held", OTHER, "--store", str(recorded.path))
    assert code == 0, err
    ((account, item, kind, on, pence, description),) = [
        row for row in held_now(recorded.path) if row[0] == OTHER
    ]
    line = next(line for line in text.splitlines() if item in line)
    assert account in line
    assert kind in line
    assert str(on) in line
    assert f"£{pence // 100}.{pence % 100:02d}" in line
    assert f"{(date.today() - on).days} days" in line  # the default: ages to today
    assert description in line
    assert MAIN not in text


def test_held_says_when_nothing_is_held(
    capsys: pytest.CaptureFixture[str], recorded: Store
) -> None:
    code, text, _ = run(capsys, "held", EMPTY, "--store", str(recorded.path))
    assert code == 0
    assert "Nothing is held" in text
    code, text, _ = run(capsys, "held", EMPTY, "--json", "--store", str(recorded.path))
    assert json.loads(text)["items"] == []


def test_held_refuses_an_unknown_account_a_missing_store_and_a_bad_date(
    capsys: pytest.CaptureFixture[str], recorded: Store, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "held", "DP-NOPE", "--store", str(recorded.path))
    assert code == 1
    assert "no such account" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "held", "--store", str(tmp_path / "nothing.sqlite"))
    assert code == 1
    assert "no dpledger store" in err
    assert not (tmp_path / "nothing.sqlite").exists()
    code, _, err = run(capsys, "held", "--on", "2026-02-30", "--store", str(recorded.path))
    assert code == 2
    assert "--on" in err


# ----------------------------------------------------------------------------- resolve
# action -> (the item it resolves, the event, the item's status after, the account the money
# goes to and the sign of its change: the postings each Ledger method documents).
ACTIONS: dict[str, tuple[tuple[str, ...], str, str, LedgerAccount, int]] = {
    "council": (
        ("misdirected", "--classify", "council"),
        "UnexpectedIncomeClassified",
        "classified",
        LedgerAccount.COUNCIL_INCOME,
        -1,
    ),
    "contribution": (
        ("misdirected", "--classify", "contribution"),
        "UnexpectedIncomeClassified",
        "classified",
        LedgerAccount.CONTRIBUTION_INCOME,
        -1,
    ),
    "refund": (
        ("credit", "--refund"),
        "UnexpectedIncomeRefunded",
        "refunded",
        LedgerAccount.BANK,
        -1,
    ),
    "keep": (
        ("misdirected", "--keep"),
        "UnexpectedIncomeKept",
        "kept",
        LedgerAccount.OTHER_INCOME,
        -1,
    ),
    "classify-outgoing": (
        ("charge", "--classify-outgoing", "insurance"),
        "UnexpectedOutgoingClassified",
        "classified",
        LedgerAccount.INSURANCE,
        1,
    ),
    "recover": (
        ("unknown_dd", "--recover"),
        "UnexpectedOutgoingRecovered",
        "recovered",
        LedgerAccount.BANK,
        1,
    ),
    "accept": (
        ("charge", "--accept"),
        "UnexpectedOutgoingAccepted",
        "accepted",
        LedgerAccount.UNRECOVERED_OUTGOINGS,
        1,
    ),
}


def _item(path: Path, account: str, item_id: str) -> tuple[str, int, str]:
    """(kind, pence, status) of an item, from the Ledger."""
    with Ledger.sqlite(path) as ledger:
        income = ledger.account(account).suspense_items
        if item_id in income:
            i = income[item_id]
            return "income", i.amount.pence, i.status.value
        o = ledger.unexplained_outgoings(account)[item_id]
        return "outgoing", o.amount.pence, o.status.value


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_records_its_event_as_the_ledger_method_would(
    capsys: pytest.CaptureFixture[str], store: Store, action: str
) -> None:
    (name, *option), event, status, target, sign = ACTIONS[action]
    item_id = store.items[name]
    kind, pence, before_status = _item(store.path, MAIN, item_id)
    assert before_status == "held"
    suspense = LedgerAccount.SUSPENSE if kind == "income" else LedgerAccount.UNEXPLAINED_OUTGOING
    with Ledger.sqlite(store.path) as ledger:
        before = ledger.balances(MAIN)
    on = day(30)
    reason = f"checked with the bank ({action})"
    code, text, err = run(
        capsys,
        "resolve",
        MAIN,
        item_id,
        *option,
        "--actor",
        "officer-9",
        "--reason",
        reason,
        "--on",
        on.isoformat(),
        "--store",
        str(store.path),
    )
    assert code == 0, err
    with Ledger.sqlite(store.path) as ledger:
        after = ledger.balances(MAIN)
        last = ledger.events(MAIN)[-1]
    assert type(last).__name__ == event
    assert f"recorded {event}, version {last.originator_version}" in text
    assert item_id in text
    assert (last.actor, last.reason, last.effective_date) == ("officer-9", reason, on)
    assert _item(store.path, MAIN, item_id)[2] == status
    # The held money left its suspense account for the account the action names.
    assert abs(after[suspense].pence) == abs(before[suspense].pence) - pence
    assert after[target].pence - before[target].pence == sign * pence
    code, text, _ = run(capsys, "held", MAIN, "--json", "--store", str(store.path))
    assert item_id not in {i["item_id"] for i in json.loads(text)["items"]}


def test_recover_with_the_income_it_came_back_as_resolves_both(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    debit, returned = store.items["debit"], store.items["returned"]
    with Ledger.sqlite(store.path) as ledger:
        bank = ledger.bank_balance(MAIN)
    args = ("resolve", MAIN, debit, "--recover", "--income-item", returned)
    code, _, err = run(
        capsys, *args, "--actor", "officer-9", "--reason", "DD returned", "--store", str(store.path)
    )
    assert code == 0, err
    assert _item(store.path, MAIN, debit)[2] == "recovered"
    assert _item(store.path, MAIN, returned)[2] == "classified"
    with Ledger.sqlite(store.path) as ledger:
        assert ledger.bank_balance(MAIN) == bank  # the money is already in the bank
        assert ledger.events(MAIN)[-1].effective_date == date.today()  # the default --on


def test_resolve_prints_json_with_integer_pence(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    item_id = store.items["fee"]
    code, text, err = run(
        capsys,
        "resolve",
        OTHER,
        item_id,
        "--classify-outgoing",
        "support_fees",
        "--actor",
        "officer-9",
        "--reason",
        "payroll bureau fee",
        "--on",
        day(25).isoformat(),
        "--json",
        "--store",
        str(store.path),
    )
    assert code == 0, err
    data = json.loads(text)
    with Ledger.sqlite(store.path) as ledger:
        last = ledger.events(OTHER)[-1]
    assert data["event"] == type(last).__name__ == "UnexpectedOutgoingClassified"
    assert data["version"] == last.originator_version
    assert data["replayed"] is False
    assert data["effective_date"] == day(25).isoformat()
    assert (data["account_id"], data["item_id"], data["kind"]) == (OTHER, item_id, "outgoing")
    assert (data["action"], data["value"]) == ("classify-outgoing", "support_fees")
    assert type(data["amount_pence"]) is int
    assert data["amount_pence"] == _item(store.path, OTHER, item_id)[1]


# ----------------------------------------------------------------------------- retries
def test_a_retry_with_the_same_key_records_nothing_new(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    item_id = store.items["misdirected"]
    command = ("resolve", MAIN, item_id, "--actor", "officer-9", "--reason", "council top-up")
    command += ("--store", str(store.path))
    keyed = (*command, "--classify", "council", "--idempotency-key", "resolve-1")
    first_code, first, err = run(capsys, *keyed, "--on", day(30).isoformat(), "--json")
    assert first_code == 0, err
    events = event_count(store.path)
    # Again, as given; then without --on (a retry on a later day repeats the day resolved).
    for again in (("--on", day(30).isoformat()), ()):
        code, text, err = run(capsys, *keyed, *again, "--json")
        assert code == 0, err
        assert json.loads(text)["replayed"] is True
        assert json.loads(text)["version"] == json.loads(first)["version"]
        assert event_count(store.path) == events
    code, text, _ = run(capsys, *keyed)
    assert code == 0
    assert "already recorded" in text
    # The same key for another resolution is refused; without a key a second one is refused.
    code, _, err = run(
        capsys, *command, "--classify", "contribution", "--idempotency-key", "resolve-1"
    )
    assert code == 1
    assert "resolve-1" in err
    assert "already used" in err
    code, _, err = run(capsys, *command, "--classify", "council")
    assert code == 1
    assert f"{item_id} was already classified" in err
    assert "Fix:" in err
    assert event_count(store.path) == events


# ----------------------------------------------------------------------------- refusals
def _resolve(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, str]:
    code, _, err = run(capsys, "resolve", *args, "--store", str(path))
    assert "Traceback" not in err
    return code, err


def test_an_action_that_does_not_fit_the_item_names_the_ones_that_do(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    events = event_count(store.path)
    who = ("--actor", "officer-9", "--reason", "why")
    outgoing, income = store.items["charge"], store.items["misdirected"]
    for item_id, option in (
        (outgoing, ("--refund",)),
        (outgoing, ("--keep",)),
        (outgoing, ("--classify", "council")),
        (income, ("--accept",)),
        (income, ("--recover",)),
        (income, ("--classify-outgoing", "insurance")),
    ):
        code, err = _resolve(capsys, store.path, MAIN, item_id, *option, *who)
        assert code == 1, option
        assert option[0] in err
        fits = ("--classify-outgoing", "--recover") if item_id == outgoing else ("--refund",)
        assert all(f in err.split("Fix:")[1] for f in fits), err
    assert event_count(store.path) == events


def test_an_unknown_item_lists_the_held_items_of_the_account(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    who = ("--actor", "officer-9", "--reason", "why")
    code, err = _resolve(capsys, store.path, MAIN, "S999", "--keep", *who)
    assert code == 1
    assert "S999" in err
    held = [row for row in held_now(store.path) if row[0] == MAIN]
    for _, item_id, kind, _, _, description in held:
        assert f"{item_id} ({kind} " in err
        assert description in err
    assert store.items["resolved"] not in err  # resolved: not offered
    code, err = _resolve(capsys, store.path, EMPTY, "S1", "--keep", *who)
    assert code == 1
    assert "nothing is held" in err
    assert "dpledger held" in err
    code, err = _resolve(capsys, store.path, "DP-NOPE", "S1", "--keep", *who)
    assert code == 1
    assert "no such account" in err


def test_a_resolution_dated_before_the_item_is_refused(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    item_id = store.items["charge"]  # held on day 8
    who = ("--actor", "officer-9", "--reason", "why")
    code, err = _resolve(
        capsys, store.path, MAIN, item_id, "--accept", *who, "--on", day(7).isoformat()
    )
    assert code == 1
    assert "--on" in err
    assert f"on or after {day(8)}" in err
    assert _item(store.path, MAIN, item_id)[2] == "held"


def test_a_blank_reason_and_a_refused_rule_are_refusals_with_their_fix(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    events = event_count(store.path)
    code, err = _resolve(
        capsys,
        store.path,
        MAIN,
        store.items["misdirected"],
        "--keep",
        "--actor",
        "o",
        "--reason",
        " ",
    )
    assert code == 1
    assert "reason" in err
    # The debit of £30.00 recovered by income of £25.00: the amounts must agree.
    code, err = _resolve(
        capsys,
        store.path,
        MAIN,
        store.items["debit"],
        "--recover",
        "--income-item",
        store.items["credit"],
        "--actor",
        "o",
        "--reason",
        "returned",
    )
    assert code == 1
    assert "Fix:" in err
    assert "same amount" in err
    assert event_count(store.path) == events


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((), "exactly one action"),
        (("--refund", "--keep"), "--refund and --keep"),
        (("--classify", "wages"), ", ".join(INCOME_CLASSES)),
        (("--classify-outgoing", "food"), ", ".join(c.value for c in SpendCategory)),
        (("--keep", "--income-item", "S2"), "--income-item"),
        (("--keep", "--on", "2026-13-01"), "--on"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(
    capsys: pytest.CaptureFixture[str], store: Store, args: tuple[str, ...], named: str
) -> None:
    who = ("--actor", "officer-9", "--reason", "why")
    code, err = _resolve(capsys, store.path, MAIN, store.items["misdirected"], *args, *who)
    assert code == 2
    assert named in err


@pytest.mark.parametrize("missing", ["--actor", "--reason"])
def test_actor_and_reason_are_required(
    capsys: pytest.CaptureFixture[str], store: Store, missing: str
) -> None:
    given = {"--actor": "officer-9", "--reason": "why"}
    del given[missing]
    flat = [x for pair in given.items() for x in pair]
    code, err = _resolve(capsys, store.path, MAIN, store.items["misdirected"], "--keep", *flat)
    assert code == 2
    assert missing in err
