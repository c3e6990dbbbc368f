"""A rebuild equals the incremental build, for random histories of several accounts.

The projection engine feeds every read model from one pass over the notification log when they
stand at the same position, and catches each model up on its own when they do not. Whichever
path runs, and however the work is cut into batches, the rows must be the same: built after every
command, rebuilt from scratch in one pass, and caught up model by model in an order that makes
every dependency wait for the per-model path.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpledger import Ledger
from dpledger.projections import oversight
from dpledger.projections.oversight import Oversight
from dpledger.testing.sequences import command_sequences

_HISTORIES = st.tuples(
    command_sequences(account_id="DP-1", max_steps=12),
    command_sequences(account_id="DP-2", max_steps=12),
    st.lists(st.booleans(), min_size=40, max_size=40),
)


def _interleaved(first: list[Any], second: list[Any], picks: list[bool]) -> list[Any]:
    """The two accounts' commands, each account's in its order, mixed as ``picks`` say."""
    merged, a, b = [], list(first), list(second)
    for pick in picks:
        source = a if (pick and a) or not b else b
        if source:
            merged.append(source.pop(0))
    return [*merged, *a, *b]


def _dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    engine = ledger.projections
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.store.transaction() as cur:
        for model in engine.models.values():
            for table in model.table_names:
                cur.execute(f"SELECT * FROM {table}")
                found[table] = sorted(tuple(r) for r in cur.fetchall())
    found["positions"] = sorted((name, engine.position(name)) for name in engine.models)
    return found


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(histories=_HISTORIES, batch_size=st.sampled_from((1, 3, 50, 2000)))
def test_a_rebuild_equals_the_incremental_build(
    histories: Any, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, picks = histories
    with Ledger.in_memory() as ledger:
        engine = ledger.projections
        for command in _interleaved(first, second, picks):
            ledger.execute(command)
            ledger.catch_up()  # after every command: the incremental build
        incremental = _dump(ledger)
        assert any(incremental[t] for t in ("dpv_lines", "dpv_portfolio"))

        engine.batch_size = batch_size
        ledger.rebuild_projections()  # one pass feeding every model
        assert _dump(ledger) == incremental

        engine.reset()
        for name in reversed(engine.order):  # dependants first: the per-model path
            engine.catch_up([name])
        assert _dump(ledger) == incremental

        # The oversight model rebuilt one account at a time (a pass over the log for each).
        with monkeypatch.context() as patch:
            patch.setattr(oversight, "ACCOUNTS_PER_PART", 1)
            assert engine.model(Oversight.name).partitions(10**9) == 2
            ledger.rebuild_projections()
        assert _dump(ledger) == incremental
