"""dpledger's year beside its peers: ``ledger``, ``hledger`` and ``bean-check`` on its exports.

:func:`export` writes the ledger-cli journal (which ``ledger`` and ``hledger`` read) and the
beancount file of every account, and returns dpledger's own balance of every ledger account (from
its ``ledger_lines`` projection, as known now, at the last effective date), under the names both
exports give them. :func:`ledger_balances` and :func:`hledger_balances` run the tools and read the
balance of every account they print; :func:`bean_check` loads the beancount file, whose balance
assertions are dpledger's figures at every month end, so a clean run is beancount agreeing to the
penny. :func:`disagreements` names every account whose balance differs.

Shared by ``bench_council.py`` and the test suite's peer cross-check.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dpledger import Ledger
from dpledger.adapters.interchange.beancount import beancount_account, to_beancount
from dpledger.adapters.interchange.journal import to_journal
from dpledger.domain.chart import LedgerAccount

_NUMBER = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")


@dataclass(frozen=True)
class Exported:
    """The exports' paths and dpledger's balances (pence, by exported account name)."""

    journal: Path
    beancount: Path
    balances: dict[str, int]
    events: int


def export(ledger: Ledger, folder: Path) -> Exported:
    """Write ``folder/year.journal`` and ``folder/year.beancount`` for every account; with
    dpledger's balances of every account now (its closing ones: every posting counts)."""
    folder.mkdir(parents=True, exist_ok=True)
    histories = [(a, ledger.events(a)) for a in ledger.account_ids()]
    journal = folder / "year.journal"
    journal.write_text(to_journal(histories), encoding="utf-8")
    bean = folder / "year.beancount"
    bean.write_text(to_beancount(histories), encoding="utf-8")
    balances: dict[str, int] = {}
    for account_id, _events in histories:
        for code, money in ledger.balances(account_id).items():
            balances[beancount_account(account_id, LedgerAccount(code))] = money.pence
    return Exported(journal, bean, balances, sum(len(e) for _a, e in histories))


def tool(name: str) -> str | None:
    """The path of a command-line tool, or ``None`` (bean-check may sit beside this Python)."""
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.exists() else None
    return found


def _pence(text: str) -> int:
    match = _NUMBER.search(text)
    if match is None:
        raise ValueError(f"no amount in {text!r}")
    return int(Decimal(match.group().replace(",", "")) * 100)


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - the peers' binaries, found on PATH
        argv, capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr[:2000]}")
    return done.stdout, seconds


def ledger_balances(journal: Path) -> tuple[dict[str, int], float]:
    """``ledger bal`` of every account (flat, zero ones too); its balances and seconds."""
    binary = tool("ledger")
    if binary is None:
        raise FileNotFoundError("ledger")
    out, seconds = _run(
        [
            binary,
            "-f",
            str(journal),
            "bal",
            "--flat",
            "--empty",
            "--no-total",
            "--balance-format",
            "%(account)\t%(display_total)\n",
        ]
    )
    found: dict[str, int] = {}
    for line in out.splitlines():
        if "\t" in line:
            name, amount = line.split("\t", 1)
            found[name.strip()] = _pence(amount) if amount.strip() not in ("", "0") else 0
    return found, seconds


def hledger_balances(journal: Path) -> tuple[dict[str, int], float]:
    """``hledger bal`` of every account (flat, zero ones too, as CSV); balances and seconds."""
    binary = tool("hledger")
    if binary is None:
        raise FileNotFoundError("hledger")
    out, seconds = _run(
        [binary, "-f", str(journal), "bal", "--flat", "--empty", "--no-total", "-O", "csv"]
    )
    found: dict[str, int] = {}
    for line in out.splitlines()[1:]:
        name, amount = (field.strip('"') for field in line.split('","', 1))
        found[name] = _pence(amount) if amount.strip('" ') not in ("", "0") else 0
    return found, seconds


def bean_check(path: Path) -> float:
    """``bean-check`` on the beancount file (no load cache); seconds. Raises if it finds errors."""
    binary = tool("bean-check")
    if binary is None:
        raise FileNotFoundError("bean-check")
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    out, seconds = _run([binary, str(path)], env=env)
    if out.strip():
        raise RuntimeError(f"bean-check found errors: {out[:2000]}")
    return seconds


def disagreements(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """Every account whose balance differs (an account a tool does not print counts as zero;
    so does an account dpledger has no posting on)."""
    names = set(expected) | set(found)
    return sorted(
        f"{name}: dpledger {expected.get(name, 0)}p, peer {found.get(name, 0)}p"
        for name in names
        if expected.get(name, 0) != found.get(name, 0)
    )
