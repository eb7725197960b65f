"""Demo items of the love supermarket (爱心超市) in the community service centre: the everyday
goods residents exchange their points for ("小礼品" in the seed reports), each with a picture
drawn at seed time (app.store.demo_photos). Idempotent: an item is added once by name and gets
its picture once; later runs change nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership
from app.core.authz import Actor
from app.store import demo_photos, photos, services
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
