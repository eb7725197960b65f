"""Store fixtures: a community with an admin, counter staff and residents with points; after every
store test the ledger's invariants hold and every item's stock history adds up."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core import clock
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.ledger.verify import run_checks
from app.store.services import stock_mismatches
from tests.conftest import Factory, Person, Tenant, login

_touched: list[int] = []


@dataclass
class Shop:
    tenant: Tenant
    admin: Person
    staff: Person
    resident: Person

    @property
    def community_id(self) -> int:
        return self.tenant.community_id


async def give_points(engine: Any, community_id: int, user_id: int, points: int) -> None:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await ledger.award(
            await connection_of(s),
            community_id=community_id,
            user_id=user_id,
            points=points,
            kind="award",
            reference="test",
            memo="test points",
            actor_id=None,
            idempotency_key="test-award-" + secrets.token_hex(8),
        )


async def make_item(client: Any, shop: Shop, **fields: Any) -> int:
    body = {"name": "大米 5kg", "points_price": 50, "stock": 10, **fields}
    response = await client.post(
        f"/api/v1/communities/{shop.community_id}/items", json=body, headers=shop.admin.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def order(client: Any, person: Person, item_id: int, quantity: int = 1, key: str | None = None) -> Any:
    return await client.post(
        "/api/v1/orders",
        json={"item_id": item_id, "quantity": quantity, "idempotency_key": key or secrets.token_hex(8)},
        headers=person.headers,
    )


async def pickup_digits(client: Any, person: Person, order_id: int) -> str:
    """The 8 digits an order's pickup page shows its resident (typed at the counter instead of
    scanning the QR code)."""
    return str(
        (await client.get(f"/api/v1/orders/{order_id}", headers=person.headers)).json()["pickup_digits"]
    )


@pytest.fixture
async def shop(client: Any, factory: Factory, engine: Any) -> Shop:
    tenant = await factory.tenant()
    _touched.append(tenant.community_id)
    admin = await login(client, tenant.admin)
    staff = await login(client, await factory.person(tenant, roles=["staff"], name="柜台小陈"))
    resident = await login(client, await factory.person(tenant, name="郑美玉"))
    await give_points(engine, tenant.community_id, resident.user_id, 200)
    return Shop(tenant, admin, staff, resident)


async def ledger_problems(engine: Any, community_id: int) -> list[str]:
    """The ledger's own verify (what `jinlin ledger verify --community` runs)."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        checks = await run_checks(s, community_id)
    assert checks, "the ledger ran no checks"
    return [f"{c.name}: {p}" for c in checks for p in c.problems]


async def stock_problems(engine: Any, community_id: int) -> list[tuple[int, int, int]]:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        return await stock_mismatches(s, community_id)


def _in_own_thread(work: Any) -> Any:
    """Runs `await work()` on a fresh loop in another thread: the fixture serves async tests and the
    browser tests (whose thread holds Playwright's loop) alike."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(work())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.fixture(autouse=True)
def invariants_hold(database_url: str) -> Iterator[None]:
    """After every store test: the ledger verifies and stock histories add up."""
    _touched.clear()
    yield
    clock.reset()
    communities = list(_touched)

    async def check() -> list[Any]:
        engine = create_async_engine(database_url, pool_size=1)
        try:
            found: list[Any] = []
            for community_id in communities:
                found += await ledger_problems(engine, community_id)
                found += await stock_problems(engine, community_id)
            return found
        finally:
            await engine.dispose()

    assert _in_own_thread(check) == []


def touch(community_id: int) -> None:
    """Tests that make their own tenants register them for the after-test checks."""
    _touched.append(community_id)
