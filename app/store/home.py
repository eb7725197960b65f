"""The love supermarket's share of the home page (app.core.homes): its icons for residents, the
counter and today's pickups for staff, open orders and low stock among an admin's figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, homes
from app.core.authz import Actor
from app.core.i18n import lazy
from app.store import services
from app.store.models import StoreItem, StoreOrder

WAITING_SHOWN = 5


async def low_stock_count(session: AsyncSession, community_id: int) -> int:
    """Items offered to residents whose stock is at or under the community's low-stock mark."""
    mark = (await services.store_settings(session, community_id)).low_stock
    found = await session.scalar(
        select(func.count())
        .select_from(StoreItem)
        .where(StoreItem.community_id == community_id, StoreItem.active, StoreItem.stock <= mark)
    )
    return int(found or 0)


async def open_order_count(session: AsyncSession, community_id: int) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(StoreOrder)
        .where(StoreOrder.community_id == community_id, StoreOrder.status == "held")
    )
    return int(found or 0)


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    part = homes.HomePart(
        tiles=[
            homes.Tile(f"/store/c/{cid}", lazy("Love supermarket"), "store", 30),
            homes.Tile("/store/me/orders", lazy("My orders"), "orders", 40),
        ]
    )
    if actor.has(cid, "admin", "staff"):
        waiting = await services.orders_of_community(session, actor, cid, status="held", limit=WAITING_SHOWN)
        today = clock.day_start(clock.now(), community.time_zone)
        picked = await services.count_orders(session, actor, cid, "picked_up", picked_up_since=today)
        part.panels.append(
            homes.Panel(
                "counter",
                lazy("Counter"),
                [
                    homes.Entry(
                        f"{row.item_name} × {row.order.quantity}",
                        row.resident,
                        f"/store/orders/{row.order.id}",
                    )
                    for row in waiting
                ],
                figures=[
                    homes.Figure(
                        lazy("Waiting for pickup"),
                        await open_order_count(session, cid),
                        order=10,
                        unit=lazy("orders"),
                    ),
                    homes.Figure(lazy("Picked up today"), picked, order=20, unit=lazy("orders")),
                ],
                empty=lazy("No orders are waiting for pickup."),
                more=(f"/store/admin/c/{cid}/orders", lazy("All orders and pickups")),
                action=("/scan?context=counter", lazy("Counter scanner")),
                order=30,
            )
        )
        part.links.append((f"/store/admin/c/{cid}", lazy("Store: items and stock")))
    if actor.has(cid, "admin"):
        part.panels.append(
            homes.Panel(
                "today",
                lazy("Today"),
                figures=[
                    homes.Figure(
                        lazy("Open orders"),
                        await open_order_count(session, cid),
                        f"/store/admin/c/{cid}/orders",
                        order=30,
                        unit=lazy("orders"),
                    ),
                    homes.Figure(
                        lazy("Items low on stock"),
                        low := await low_stock_count(session, cid),
                        f"/store/admin/c/{cid}",
                        attention=low > 0,
                        order=40,
                        unit=lazy("kinds"),
                    ),
                ],
                order=10,
            )
        )
    return part
