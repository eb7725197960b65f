"""An order is ready to pick up as soon as it is placed (its points held, its stock set aside):
the resident is told through app.notices, with until when (never the pickup code itself, which
stays on the resident's order page). A job
does it, so the order's hot path gains no statement; the notice's key tells each order once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.i18n import lazy
from app.notices import services as notices
from app.notices import words
from app.places.services import time_zone_of
from app.store.models import StoreItem, StoreOrder

# Orders placed within this window and still held are told of (a worker down for a while
# catches up; an order older than this has long been seen on the resident's orders page).
LOOK_BACK = timedelta(hours=6)
BATCH = 500


@words.kind("order_ready", lazy("Love supermarket orders ready to pick up"), order=30)
def _ready(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    until = clock.text(datetime.fromisoformat(params["expires_at"]), params.get("tz"), "datetime")
    return (
        gettext(
            lazy("Ready to pick up: %(item)s × %(quantity)d"),
            item=params["item"],
            quantity=params["quantity"],
        ),
        gettext(lazy("Show the pickup code of your order at the counter before %(until)s."), until=until),
    )


# The held orders not yet told of, and whose buyer has not turned the kind off: a batch of them
# is never filled by orders told on an earlier run.
_UNTOLD = text(
    notices.still_to_tell("store_orders.user_id", "order_ready", "'order_ready:' || store_orders.id")
)


async def tell_ready(session: AsyncSession) -> int:
    now = clock.now()
    rows = (
        await session.execute(
            select(StoreOrder, StoreItem.name)
            .join(StoreItem, StoreItem.id == StoreOrder.item_id)
            .where(StoreOrder.status == "held", StoreOrder.created_at > now - LOOK_BACK, _UNTOLD)
            .order_by(StoreOrder.id)
            .limit(BATCH)
        )
    ).all()
    zones: dict[int, str] = {}
    count = 0
    for order, name in rows:
        key = f"order_ready:{order.id}"
        if order.community_id not in zones:
            zones[order.community_id] = await time_zone_of(session, order.community_id)
        count += await notices.notify(
            session,
            user_id=order.user_id,
            community_id=order.community_id,
            kind="order_ready",
            key=key,
            url=f"/store/orders/{order.id}",
            item=name,
            quantity=order.quantity,
            expires_at=order.expires_at.isoformat(),
            tz=zones[order.community_id],
        )
    return count
