"""The love supermarket's JSON API (API.md): items, orders, their cancellation."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.uow import Connection
from app.core.web import SMALL_ANSWER, client_address
from app.store import orders, photos, placing, rules, services
from app.store.models import StoreItem
from app.store.schemas import (
    CancelIn,
    CancelOut,
    Created,
    ItemIn,
    ItemOut,
    ItemsOut,
    OrderIn,
    OrderOut,
    OrderPlaced,
)


def _item_out(item: StoreItem) -> ItemOut:
    return ItemOut(
        id=item.id,
        name=item.name,
        points_price=item.points_price,
        stock=item.stock,
        per_resident_limit=item.per_resident_limit,
        category=item.category,
        description=item.description,
        active=item.active,
        photo_url=photos.url_of(item.photo_id),
    )


@get("/api/v1/communities/{community_id:int}/items", tags=["spending"])
async def api_items(community_id: int, actor: Actor, db_session: AsyncSession) -> ItemsOut:
    items = await services.catalogue(db_session, actor, community_id)
    return ItemsOut(items=[_item_out(i) for i in items])


@post("/api/v1/communities/{community_id:int}/items", tags=["community admin"], status_code=201)
async def api_create_item(
    community_id: int, data: JSONBody[ItemIn], actor: Actor, db_session: AsyncSession, request: Request
) -> Created:
    item = await services.create_item(
        db_session,
        actor,
        community_id,
        services.ItemInput(
            name=data.name,
            points_price=data.points_price,
            stock=data.stock,
            per_resident_limit=data.per_resident_limit,
            description=data.description,
            category=data.category,
            active=data.active,
            display_order=data.display_order,
        ),
        address=client_address(request),
    )
    return Created(id=item.id)


@post("/api/v1/orders", tags=["spending"], status_code=201, opt={SMALL_ANSWER: True})
async def api_order(
    data: JSONBody[OrderIn], actor: Actor, request: Request, conn: Connection
) -> Response[OrderPlaced]:
    """201 for a new order, 200 for the one an earlier request with the same key placed."""
    placed = await placing.place_order(
        conn,
        actor,
        known=request.app.state["order_facts"],
        item_id=data.item_id,
        quantity=data.quantity,
        idempotency_key=data.idempotency_key,
        for_user_id=data.user_id,
        address=client_address(request),
    )
    body = OrderPlaced(
        id=placed.id, status=placed.status, points=placed.points, pickup_code=placed.pickup_code
    )
    return Response(body, status_code=201 if placed.created else 200)


@post("/api/v1/orders/{order_id:int}/cancel", tags=["spending"], status_code=200)
async def api_cancel(
    order_id: int,
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
    data: JSONBody[CancelIn | None] = None,
) -> CancelOut:
    order = await orders.cancel_order(
        db_session, actor, order_id, reason=data.reason if data else "", address=client_address(request)
    )
    return CancelOut(status=order.status)


@get("/api/v1/orders/{order_id:int}", tags=["spending"])
async def api_get_order(order_id: int, actor: Actor, db_session: AsyncSession) -> OrderOut:
    order = await orders.order_for(db_session, actor, order_id)
    held = order.status == "held"
    return OrderOut(
        id=order.id,
        status=order.status,
        points=int(order.points),
        item_id=order.item_id,
        quantity=order.quantity,
        pickup_code=rules.pickup_code(order.pickup_secret) if held else None,
        pickup_digits=order.pickup_digits if held else None,
        expires_at=order.expires_at.isoformat() if held else None,
    )


route_handlers = [
    api_items,
    api_create_item,
    api_order,
    api_cancel,
    api_get_order,
]
