"""Store fixtures for the integration tests: memory, a temporary SQLite file and PostgreSQL.

PostgreSQL tests use the real server at 127.0.0.1:5432 (database ``test``, user ``postgres``), each
in its own schema named for this test run, dropped afterwards. If the server cannot be reached the
tests are skipped, except under ``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dpledger import Ledger

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DB = "test"
PG_USER = "postgres"
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
_schemas = itertools.count(1)


def _connect(**kwargs: object) -> object:
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, dbname=PG_DB, user=PG_USER, connect_timeout=3, **kwargs
    )


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server's base URL, once it is known to answer; skip (or fail in CI) if not."""
    try:
        with _connect() as conn:  # type: ignore[attr-defined]
            conn.execute("SELECT 1")
    except Exception as exc:  # ImportError, psycopg.OperationalError, ...
        message = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


def drop_schema(schema: str) -> None:
    from psycopg import sql

    with _connect(autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def schema_exists(schema: str) -> bool:
    with _connect() as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return bool(row[0])


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A store URL on a fresh schema, unique to this test run and test; dropped afterwards."""
    schema = f"dpledger_test_{RUN_ID}_{next(_schemas)}"
    yield f"{postgres_server}?schema={schema}"
    drop_schema(schema)
    assert not schema_exists(schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dpledger.sqlite'}"


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store in turn."""
    if request.param == "memory":
        return "memory:"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def durable_url(request: pytest.FixtureRequest) -> str:
    """Each store that outlives its Ledger: a SQLite file, then PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def open_ledger() -> Iterator[Callable[[str], Ledger]]:
    """Open Ledgers on a URL; all are closed at the end of the test (before a schema drops)."""
    opened: list[Ledger] = []

    def opener(url: str) -> Ledger:
        ledger = Ledger(url)
        opened.append(ledger)
        return ledger

    yield opener
    for ledger in reversed(opened):
        ledger.close()


# ---------------------------------------------------------------------------- the short scenario
ACCOUNT = "DP-INT-1"
DAY = {"effective_date": "2026-04-06", "actor": "officer-1"}


def run_scenario(ledger: Ledger, account_id: str = ACCOUNT) -> None:
    """A short but varied account history: 19 events, bank £1,180.77 at the end.

    v1 open (monthly, 6 weeks' contingency, ends 2027-03-31); v2 budget £250/£30; v3 council
    £2,000 (key pay-1); v4 contribution £120; v5 agency; v6 INV-7 37.50h x £25 = £937.50; v7
    approve; v8 pay £500; v9 INV-8 2.25h x £25 = £56.25; v10 correct v9; v11 PA; v12 wage run
    gross £254.20, pensions £7.63 + £5.08, net £246.57; v13 pay net; v14 insurance £85; v15
    unexpected £12.34 (S15); v16 keep it; v17 correct v4; v18 suspend; v19 resume with backfill.
    """
    ledger.open_account(
        account_id,
        person_ref="P-77",
        council="Kent County Council",
        provider="SOLO",
        policy={
            "payment_basis": "net",
            "frequency": "monthly",
            "contingency_weeks": 6,
            "end_date": "2027-03-31",
        },
        **DAY,
    )
    ledger.agree_budget(account_id, weekly_gross="250.00", weekly_contribution="30.00", **DAY)
    ledger.receive_council_payment(
        account_id,
        amount="2000.00",
        period_start="2026-04-06",
        period_end="2026-05-03",
        bank_reference="BACS-1",
        idempotency_key="pay-1",
        **DAY,
    )
    ledger.receive_contribution(account_id, amount="120.00", **DAY)
    ledger.register_agency(account_id, agency_id="AG-1", name="Care Co", hourly_rate="25.00", **DAY)
    invoice = {
        "agency_id": "AG-1",
        "period_start": "2026-04-06",
        "period_end": "2026-04-12",
        "rate": "25.00",
    }
    ledger.receive_invoice(
        account_id, invoice_number="INV-7", hours="37.50", total="937.50", **invoice, **DAY
    )
    ledger.approve_invoice(account_id, agency_id="AG-1", invoice_number="INV-7", **DAY)
    ledger.pay_invoice(account_id, agency_id="AG-1", invoice_number="INV-7", amount="500.00", **DAY)
    ledger.receive_invoice(
        account_id, invoice_number="INV-8", hours="2.25", total="56.25", **invoice, **DAY
    )
    ledger.correct(account_id, version=9, reason="sent twice", **DAY)
    ledger.register_personal_assistant(account_id, pa_id="PA-1", hourly_rate="12.71", **DAY)
    ledger.record_wage_run(
        account_id,
        pa_id="PA-1",
        period_start="2026-04-06",
        period_end="2026-04-12",
        hours="20.00",
        gross="254.20",
        paye="0",
        employee_ni="0",
        employer_ni="0",
        employee_pension="7.63",
        employer_pension="5.08",
        net="246.57",
        **DAY,
    )
    ledger.pay_net_wages(account_id, pa_id="PA-1", amount="246.57", **DAY)
    ledger.pay_care_plan_spend(
        account_id, category="insurance", amount="85.00", description="EL cover", **DAY
    )
    item = ledger.receive_unexpected_income(
        account_id, amount="12.34", description="bank credit", **DAY
    ).event.item_id
    ledger.keep_unexpected_income(account_id, item_id=item, reason="bank interest", **DAY)
    ledger.correct(account_id, version=4, reason="contribution bounced", **DAY)
    ledger.suspend(account_id, reason="in hospital", **DAY)
    ledger.resume(account_id, backfill_ordered=True, **DAY)


@pytest.fixture
def scenario() -> Callable[..., None]:
    return run_scenario
