"""Each trigger tells each person once: its job run twice (or the action tried twice) makes one
notice; the kinds a person turned off are not made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.uow import connection_of
from app.events import jobs as event_jobs
from app.ledger import expiry
from app.ledger import services as ledger
from app.notices import services as notices
from app.partners import jobs as partner_jobs
from app.store import jobs as store_jobs
from app.store import ready
from tests.api.helpers import post_form, session_of
from tests.conftest import count
from tests.events.conftest import make_event
from tests.store.conftest import Shop, give_points, make_item, order, shop  # noqa: F401 - the fixture


async def _job(engine: Any, job: Any) -> Any:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        return await job(s)


async def _notices(db: Any, user_id: int, kind: str) -> list[dict[str, Any]]:
    rows = await db.execute(
        text("SELECT kind, params, url FROM notices WHERE user_id = :u AND kind = :k ORDER BY id"),
        {"u": user_id, "k": kind},
    )
    return [dict(r._mapping) for r in rows]


async def _sign_up(client: Any, person: Any, event_id: int) -> None:
    answer = await client.post(f"/api/v1/events/{event_id}/signups", headers=person.headers)
    assert answer.status_code == 201, answer.text


async def test_an_event_reminder_comes_once_the_day_before_to_those_signed_up(client, site, engine, db):
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    soon = clock.now() + timedelta(hours=20)
    later = clock.now() + timedelta(days=3)
    tomorrow = await make_event(
        client,
        admin,
        cid,
        title="楼道清扫",
        place="3号楼",
        signup_required=True,
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=2)).isoformat(),
    )
    far = await make_event(
        client,
        admin,
        cid,
        title="重阳节",
        signup_required=True,
        starts_at=later.isoformat(),
        ends_at=(later + timedelta(hours=2)).isoformat(),
    )
    await _sign_up(client, alice, tomorrow)
    await _sign_up(client, alice, far)
    await _job(engine, event_jobs.send_event_reminders)
    await _job(engine, event_jobs.send_event_reminders)
    (reminder,) = await _notices(db, alice.user_id, "event_reminder")
    assert reminder["params"]["title"] == "楼道清扫" and reminder["url"] == f"/events/{tomorrow}"
    assert await _notices(db, bob.user_id, "event_reminder") == []

    listed = await client.get("/api/v1/me/notifications", headers=alice.headers)
    (item,) = [i for i in listed.json()["items"] if i["kind"] == "event_reminder"]
    assert item["title"] == "活动提醒：楼道清扫" and "3号楼" in item["body"]


async def test_a_cancelled_event_is_told_once_to_everyone_signed_up(client, site, engine, db):
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    start = clock.now() + timedelta(days=2)
    event_id = await make_event(
        client,
        admin,
        cid,
        title="义诊",
        signup_required=True,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    await _sign_up(client, alice, event_id)
    await session_of(client, admin)
    cancelled = await post_form(client, f"/events/{event_id}/cancel", {"reason": "医生临时有事"})
    assert cancelled.status_code == 303, cancelled.text
    again = await post_form(client, f"/events/{event_id}/cancel", {"reason": "再取消一次"})
    assert again.status_code != 303
    (notice,) = await _notices(db, alice.user_id, "event_cancelled")
    assert notice["params"]["reason"] == "医生临时有事"
    assert await _notices(db, bob.user_id, "event_cancelled") == []
    await session_of(client, alice)
    client.cookies.set("lang", "en")
    inbox = await client.get("/notices")
    assert "Cancelled: 义诊" in inbox.text and "医生临时有事" in inbox.text


async def test_points_expiring_within_30_days_are_told_once(engine, db, factory):
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    moved = timedelta(0)
    try:
        async with async_sessionmaker(engine)() as s, s.begin():
            conn = await connection_of(s)
            await ledger.award(
                conn,
                community_id=c,
                user_id=u,
                points=30,
                kind="award",
                reference="t",
                memo="六清",
                actor_id=None,
                idempotency_key=f"exp-{c}-1",
            )
            await expiry.set_expiry_months(conn, c, 4, actor_id=None)
        async with async_sessionmaker(engine)() as s, s.begin():
            assert await expiry.warn_expiring(await connection_of(s), community_id=c) == 0  # 4 months away
        clock.advance(timedelta(days=100))
        moved += timedelta(days=100)
        for _ in range(2):
            async with async_sessionmaker(engine)() as s, s.begin():
                await expiry.warn_expiring(await connection_of(s), community_id=c)
        (notice,) = await _notices(db, u, "points_expiring")
        assert notice["params"]["points"] == 30
    finally:
        clock.advance(-moved)


async def test_an_order_ready_is_told_once_and_a_kind_turned_off_is_not(client, shop: Shop, engine, db):  # noqa: F811
    item = await make_item(client, shop, name="挂面")
    placed = await order(client, shop.resident, item, 2)
    assert placed.status_code == 201, placed.text
    await _job(engine, store_jobs.tell_orders_ready)
    await _job(engine, store_jobs.tell_orders_ready)
    (notice,) = await _notices(db, shop.resident.user_id, "order_ready")
    assert notice["params"]["item"] == "挂面" and notice["params"]["quantity"] == 2
    listed = await client.get("/api/v1/me/notifications", headers=shop.resident.headers)
    assert "挂面 × 2" in [i["title"] for i in listed.json()["items"] if i["kind"] == "order_ready"][0]

    async with async_sessionmaker(engine)() as s, s.begin():
        await notices.choose(s, shop.staff.user_id, {"event_reminder"})
    await give_points(engine, shop.community_id, shop.staff.user_id, 100)
    assert (await order(client, shop.staff, item, 1)).status_code == 201
    await _job(engine, store_jobs.tell_orders_ready)
    assert await _notices(db, shop.staff.user_id, "order_ready") == []


async def test_orders_ready_past_a_full_batch_of_told_or_muted_ones_are_told(
    client,
    shop: Shop,  # noqa: F811
    engine,
    db,
    monkeypatch,
):
    """The job takes a bounded batch of held orders a run: orders already told, or of someone who
    turned the kind off, must not fill it for good, or every order after them is never told."""
    monkeypatch.setattr(ready, "BATCH", 2)
    item = await make_item(client, shop, name="酱油", points_price=10, stock=20)
    async with async_sessionmaker(engine)() as s, s.begin():
        await notices.choose(s, shop.staff.user_id, {"event_reminder"})
    await give_points(engine, shop.community_id, shop.staff.user_id, 100)
    for _ in range(2):  # a whole batch of orders whose buyer hears of none
        assert (await order(client, shop.staff, item, 1)).status_code == 201
    await _job(engine, store_jobs.tell_orders_ready)
    placed = []
    for _ in range(3):
        answer = await order(client, shop.resident, item, 1)
        assert answer.status_code == 201, answer.text
        placed.append(answer.json()["id"])
    for _ in range(6):  # more runs than it takes, whatever else the database holds
        await _job(engine, store_jobs.tell_orders_ready)
    told = await _notices(db, shop.resident.user_id, "order_ready")
    assert sorted(int(n["url"].rsplit("/", 1)[1]) for n in told) == sorted(placed)
    assert await _notices(db, shop.staff.user_id, "order_ready") == []


async def test_a_project_owner_hears_once_that_its_deadline_is_near(site, engine, db):
    tenant, _admin, alice, bob = site
    today = clock.today()
    ids = []
    for title, due, owner in (
        ("助老送餐", today + timedelta(days=2), alice),
        ("远期项目", today + timedelta(days=30), bob),
    ):
        row = await db.execute(
            text(
                "INSERT INTO projects (community_id, title, owner_user_id, due_on, status) "
                "VALUES (:c, :t, :o, :d, 'open') RETURNING id"
            ),
            {"c": tenant.community_id, "t": title, "o": owner.user_id, "d": due},
        )
        ids.append(row.scalar_one())
    await db.commit()
    await _job(engine, partner_jobs.tell_project_deadlines)
    await _job(engine, partner_jobs.tell_project_deadlines)
    (notice,) = await _notices(db, alice.user_id, "project_deadline")
    assert notice["url"] == f"/partners/projects/{ids[0]}"
    assert await _notices(db, bob.user_id, "project_deadline") == []
    assert (
        await count(db, "SELECT count(*) FROM notices WHERE key LIKE :k", k=f"project_deadline:{ids[0]}:%")
        == 1
    )
