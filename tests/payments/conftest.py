"""Money tests: a live `jinlin serve` (no Stripe key) on a data directory switched to the offline
test Stripe, as `jinlin demo` leaves it: the app under test calls its own fake through the real
`stripe` library over HTTP, and verifies webhooks signed with WEBHOOK_SECRET. Its job worker is
off: the tests apply stored events themselves (what the job does), in this process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import domains
from app.core.settings import Settings
from app.ledger.verify import run_checks
from app.payments import fake, gateway, stripe_events
from tests.conftest import SECRET, LiveServer, Person, login, start_server

# The money tests check the ledger with every check `jinlin ledger verify` runs (the vouchers'
# cash among them), not only those some other test happened to import first.
domains.load_checks()

WEBHOOK_SECRET = "whsec_test_" + "k" * 32


@pytest.fixture(scope="session")
def offline_stripe(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server with no Stripe key on a data directory switched to the offline test Stripe;
    its own job worker is off, so tests decide when events are applied."""
    data_dir = tmp_path_factory.mktemp("offline-stripe")
    (data_dir / gateway.OFFLINE_FILE).write_text(WEBHOOK_SECRET)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JINLIN_JOBS_IN_PROCESS", "0")
        patch.delenv("STRIPE_API_KEY", raising=False)
        server = start_server(database_url, data_dir, workers=1)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pay_settings(database_url: str, offline_stripe: LiveServer) -> Settings:
    """The server's settings, for calling its services from here (reconciliation, refunds)."""
    return Settings(
        database_url=database_url,
        data_dir=Path(offline_stripe.env["JINLIN_DATA_DIR"]),
        secret_key=SECRET,
        secure_cookies=False,
        run_jobs_in_process=False,
        own_url=offline_stripe.url,
    )


@pytest.fixture
async def pay(offline_stripe: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=offline_stripe.url, timeout=120) as c:
        yield c


def signed(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    return payload, {
        "Stripe-Signature": gateway.sign(payload, secret, timestamp),
        "Content-Type": "application/json",
    }


async def deliver(client: Any, event: dict[str, Any]) -> httpx.Response:
    payload, headers = signed(event)
    return await client.post("/stripe/webhook", content=payload, headers=headers)


async def apply_waiting(engine: Any) -> int:
    """What the job does: the stored events, applied in one transaction, again until no event is
    left unhandled. The session's other live server runs this job too, and a row it holds is
    skipped here (SKIP LOCKED), so without the wait a test could read the total before that
    server's transaction commits; and an event the offline test Stripe sends after its answer (a
    refund's) may be stored just after a run, which the next run applies."""
    applied = 0
    deadline = time.monotonic() + 30
    while True:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            async with s.begin():
                applied += await stripe_events.handle_waiting_events(s)
            left = await s.scalar(text("SELECT count(*) FROM stripe_events WHERE handled_at IS NULL"))
        if not left:
            return applied
        assert time.monotonic() < deadline, "stored Stripe events were left unhandled"
        await asyncio.sleep(0.05)


async def fake_step(engine: Any, action: str, session_id: str) -> dict[str, Any] | None:
    """The payer pays or cancels on the test-payment page: the event Stripe would send."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        return await (fake.complete if action == "pay" else fake.expire)(s, session_id)


async def fake_refund(engine: Any, session_id: str, amount: int | None = None) -> dict[str, Any] | None:
    """A refund made in Stripe's dashboard: of what is left, or of `amount` (in part)."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        body = await fake.get_session(s, session_id)
        params: dict[str, Any] = {"payment_intent": body["payment_intent"]}
        if amount is not None:
            params["amount"] = amount
        _refund, event = await fake.refund(s, params, None)
        return event


async def ledger_ok(db: AsyncSession, community_id: int) -> None:
    checks = await run_checks(db, community_id)
    assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]


@dataclass
class Goal:
    community_id: int
    admin: Person
    resident: Person
    wish_id: int
    goal_cents: int


async def wish_with_goal(client: Any, factory: Any, goal_cents: int = 50_000) -> Goal:
    """A published wish with a funding goal, its community's admin and a logged-in resident."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant, name="林秀英"))
    answer = await client.post(
        f"/api/v1/communities/{tenant.community_id}/wishes",
        json={"title": "楼道扶手", "description": "三楼扶手松了", "funding_goal_cents": goal_cents},
        headers=resident.headers,
    )
    assert answer.status_code == 201, answer.text
    wish_id = answer.json()["id"]
    review = await client.post(
        f"/api/v1/wishes/{wish_id}/review", json={"decision": "publish"}, headers=admin.headers
    )
    assert review.status_code == 200, review.text
    return Goal(tenant.community_id, admin, resident, wish_id, goal_cents)


async def donate(
    client: Any, goal: Goal, amount_cents: int, key: str, name: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"amount_cents": amount_cents, "idempotency_key": key}
    if name:
        body["display_name"] = name
    answer = await client.post(
        f"/api/v1/wishes/{goal.wish_id}/donations", json=body, headers=goal.resident.headers
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def session_of(checkout_url: str) -> str:
    return checkout_url.rstrip("/").rsplit("/", 1)[-1]


async def funded(client: Any, goal: Goal) -> int:
    answer = await client.get(f"/api/v1/wishes/{goal.wish_id}", headers=goal.resident.headers)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["funded_cents"])
