"""A person's own store orders, as "My store orders" lists them: those waiting for pickup, all of
them (they hold points and expire within days), and the earlier ones a page at a time with their
count."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.store.models import StoreItem, StoreOrder
from app.store.services import OrderRow


def _held_or_not(held: bool) -> ColumnElement[bool]:
    return StoreOrder.status == "held" if held else StoreOrder.status != "held"


async def orders_of_user(
    session: AsyncSession, user_id: int, *, held: bool, limit: int | None = None, offset: int = 0
) -> list[OrderRow]:
    """A person's orders, newest first: those waiting for pickup (`held`), or the earlier ones (a
    page of them: `limit` and `offset`, counted by `count_orders_of_user`)."""
    stmt = (
        select(StoreOrder, StoreItem.name, User.display_name)
        .join(StoreItem, StoreItem.id == StoreOrder.item_id)
        .join(User, User.id == StoreOrder.user_id)
        .where(StoreOrder.user_id == user_id, _held_or_not(held))
        .order_by(StoreOrder.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [OrderRow(o, n, r) for o, n, r in (await session.execute(stmt)).all()]


async def count_orders_of_user(session: AsyncSession, user_id: int, *, held: bool) -> int:
    stmt = (
        select(func.count()).select_from(StoreOrder).where(StoreOrder.user_id == user_id, _held_or_not(held))
    )
    return int(await session.scalar(stmt) or 0)
