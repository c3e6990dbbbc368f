"""One writer of the PostgreSQL load test (run as a process of its own by test_postgres_load).

Usage: ``python load_worker.py URL WORKER COMMANDS SEED START_AT``. It opens the ledger (at
``START_AT``, a wall-clock time shared by every worker, so they all open and write at once),
sends ``COMMANDS`` commands to the shared accounts, each with its own idempotency key, sends
some of them twice (a deliberate retry, which must be replayed), and prints one JSON line: every
command's outcome and the conflicts its ledger absorbed.
"""

from __future__ import annotations

import json
import random
import sys
import time

from dpledger import Ledger
from dpledger.errors import ConflictError, InsufficientFunds

ACCOUNTS = ("DP-LOAD-1", "DP-LOAD-2", "DP-LOAD-3")
DAY = {"effective_date": "2026-04-06", "actor": "load-test"}


def plan(worker: int, commands: int, seed: int) -> list[tuple[str, str, str, int]]:
    """The worker's commands: (key, account, kind, pence), from its own random stream."""
    rng = random.Random(seed * 1000 + worker)
    made = []
    for number in range(commands):
        kind = "in" if rng.random() < 0.5 else "out"
        pence = rng.randint(100, 5000) if kind == "in" else rng.randint(100, 9000)
        made.append((f"w{worker}-{number}", rng.choice(ACCOUNTS), kind, pence))
    return made


def send(ledger: Ledger, account: str, kind: str, pence: int, key: str) -> object:
    amount = f"{pence // 100}.{pence % 100:02d}"
    if kind == "in":
        return ledger.receive_contribution(account, amount=amount, idempotency_key=key, **DAY)
    return ledger.pay_care_plan_spend(
        account,
        category="insurance",
        amount=amount,
        description="load",
        idempotency_key=key,
        **DAY,
    )


def main(url: str, worker: int, commands: int, seed: int, start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    rng = random.Random(seed * 7919 + worker)
    outcomes: dict[str, str] = {}
    replays = retried_by_caller = 0
    with Ledger(url) as ledger:
        for key, account, kind, pence in plan(worker, commands, seed):
            sends = 2 if rng.random() < 0.05 else 1  # the same key sent twice: a retry
            for _ in range(sends):
                while True:
                    try:
                        receipt = send(ledger, account, kind, pence, key)
                    except InsufficientFunds:
                        outcomes[key] = "refused"
                    except ConflictError:
                        retried_by_caller += 1  # the library's attempts ran out: send it again
                        continue
                    else:
                        replayed = bool(getattr(receipt, "replayed", False))
                        if outcomes.get(key) == "recorded" and not replayed:
                            outcomes[key] = "doubled"  # a recorded command's retry must replay
                        outcomes.setdefault(key, "recorded")
                        if outcomes[key] == "refused":  # refused, then sent again: a new try
                            outcomes[key] = "recorded"
                        replays += replayed
                    break
        absorbed = ledger.retrying.conflicts_absorbed
    print(
        json.dumps(
            {
                "worker": worker,
                "outcomes": outcomes,
                "replays": replays,
                "absorbed": absorbed,
                "passed_on": retried_by_caller,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
