"""Demo items of the love supermarket (爱心超市) in the community service centre: the everyday
goods residents exchange their points for ("小礼品" in the seed reports), each with a picture
drawn at seed time (app.store.demo_photos), on the shelf since three months back, and a few
orders placed and picked up over the last two months (placed at 10:00, handed over at the counter
at 16:00 that day). Idempotent: an item is added once by name and gets its picture once, an order
has a fixed key; later runs change nothing."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.places.services import time_zone_of
from app.store import demo_photos, orders, photos, placing, services
from app.store.models import StoreItem

# The partner unit that donated goods: the provincial CDC joined Dongjie street's co-building
# (fuzhou-gulou-dongjie seed: "邀请省疾控中心等82家单位加入区域共建").
DONOR = "省疾控中心"

# (name, category, points, stock, monthly limit per resident, description)
ITEMS = [
    ("大米 5kg", "粮油", 80, 30, 2, "东北大米，每袋 5 公斤。"),
    ("食用油 1.8L", "粮油", 90, 20, 1, "花生调和油。"),
    ("洗衣液 2kg", "日用品", 50, 25, 2, "无磷配方。"),
    ("挂面 1kg", "粮油", 20, 40, 4, ""),
    ("牙膏牙刷套装", "日用品", 25, 30, 2, ""),
    ("抽纸 6包", "日用品", 30, 35, 2, ""),
    ("老花镜", "长者用品", 40, 10, 1, "+150 至 +300 度可选，到柜台试戴。"),
    ("保温杯", "小礼品", 60, 12, 1, ""),
    ("雨伞", "小礼品", 45, 0, 1, "补货中。"),
]

# (resident, item, quantity, months back, day of that month)
ORDERS = [
    ("郑美玉", "挂面 1kg", 1, 2, 15),
    ("黄志强", "抽纸 6包", 1, 2, 26),
    ("郑美玉", "牙膏牙刷套装", 1, 1, 10),
    ("李星", "洗衣液 2kg", 1, 1, 18),
    ("黄志强", "挂面 1kg", 1, 1, 27),
]
COUNTER = "陈晓梅"  # the staff member at the counter


async def _admin(session: AsyncSession, community_id: int) -> Actor | None:
    admin_id = await session.scalar(
        select(Membership.user_id)
        .where(Membership.community_id == community_id, Membership.roles.contains(["admin"]))
        .order_by(Membership.id)
        .limit(1)
    )
    if admin_id is None:
        return None
    return Actor(user_id=int(admin_id), display_name="", roles={community_id: frozenset({"admin"})})


async def seed(session: AsyncSession, community_id: int) -> None:
    admin = await _admin(session, community_id)
    if admin is None:
        return
    existing = set(
        (await session.scalars(select(StoreItem.name).where(StoreItem.community_id == community_id))).all()
    )
    zone = await time_zone_of(session, community_id)
    with clock.as_of(clock.months_back(3, 1, time(9), zone)):
        await _items(session, admin, community_id, existing)
    await _orders(session, community_id, zone)


async def _items(session: AsyncSession, admin: Actor, community_id: int, existing: set[str]) -> None:
    for order, (name, category, price, stock, limit, description) in enumerate(ITEMS):
        if name in existing:
            continue
        item = await services.create_item(
            session,
            admin,
            community_id,
            services.ItemInput(
                name=name,
                category=category,
                points_price=price,
                stock=stock,
                per_resident_limit=limit,
                description=description,
                display_order=order * 10,
            ),
        )
        if name.startswith("洗衣液"):
            await services.move_stock(
                session, admin, community_id, item.id, kind="donation", quantity=10, partner=DONOR
            )


async def _orders(session: AsyncSession, community_id: int, zone: str) -> None:
    people = dict(
        (
            await session.execute(
                select(User.display_name, User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.community_id == community_id)
            )
        ).all()
    )
    items = dict(
        (
            await session.execute(
                select(StoreItem.name, StoreItem.id).where(StoreItem.community_id == community_id)
            )
        ).all()
    )
    counter = people.get(COUNTER)
    if counter is None:
        return
    staff = Actor(int(counter), COUNTER, {community_id: frozenset({"staff"})})
    conn = await connection_of(session)
    for n, (resident, item, quantity, months, day) in enumerate(ORDERS):
        user_id, item_id = people.get(resident), items.get(item)
        if user_id is None or item_id is None:
            continue
        person = Actor(int(user_id), resident, {community_id: frozenset({"resident"})})
        try:
            with clock.as_of(clock.months_back(months, day, time(10), zone)):
                async with session.begin_nested():
                    placed = await placing.place_order(
                        conn, person, item_id=item_id, quantity=quantity, idempotency_key=f"demo-store-{n}"
                    )
        except DomainError:
            continue  # not enough points or stock in this demo: the order is left out
        if placed.status == "held":
            with clock.as_of(clock.months_back(months, day, time(16), zone)):
                async with session.begin_nested():
                    await orders.hand_over(conn, staff, placed.id)


async def seed_files(session: AsyncSession, community_id: int, uploads_dir: Path) -> None:
    """Pictures for the demo items that have none yet, stored like an admin's upload."""
    admin = await _admin(session, community_id)
    if admin is None:
        return
    categories = {name: category for name, category, *_rest in ITEMS}
    items = (
        await session.scalars(
            select(StoreItem).where(
                StoreItem.community_id == community_id,
                StoreItem.name.in_(list(categories)),
                StoreItem.photo_id.is_(None),
            )
        )
    ).all()
    for item in items:
        picture = demo_photos.picture(item.name, categories[item.name])
        if picture is not None:
            await photos.save_photo(session, admin, community_id, item.id, picture, uploads_dir)
