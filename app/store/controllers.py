"""The love supermarket: JSON API (API.md) and pages for residents, counter staff and admins."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.hotlane import HotRoute
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.web import client_address, error_message, fast_db, form_data, optional_int, render
from app.places.models import Community
from app.store import orders, photos, placing, rules, services
from app.store import scan_handlers as _scan_handlers  # noqa: F401 - registers JP1, digits, member@counter
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


def home_links(actor: Actor, community_id: int) -> list[tuple[str, str]]:
    links = [
        (f"/store/c/{community_id}", lazy("Love supermarket")),
        ("/store/me/orders", lazy("My store orders")),
    ]
    if actor.has(community_id, "admin", "staff"):
        links += [
            (f"/store/admin/c/{community_id}", lazy("Store: items and stock")),
            (f"/store/admin/c/{community_id}/orders", lazy("Store: orders and pickups")),
            ("/scan?context=counter", lazy("Counter scanner")),
        ]
    return links


def _photo_url(item: StoreItem) -> str | None:
    return f"/store/photos/{item.photo_id}" if item.photo_id else None


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
        photo_url=_photo_url(item),
    )


async def _place(request: Request, actor: Actor, **kwargs: Any) -> placing.PlacedOrder:
    """Places an order on a fastdb connection of its own (the service keeps it all or nothing);
    if a concurrent twin with the same key committed first, answers with that one."""
    db = fast_db(request)
    try:
        async with db.autocommit() as tx:
            return await placing.place_order(tx, actor, known=request.app.state["order_facts"], **kwargs)
    except placing.DuplicateOrder as twin:
        async with db.autocommit() as tx:
            return await placing.find_by_key(
                tx, twin.user_id, twin.key, kwargs["item_id"], kwargs["quantity"]
            )


# ---------------------------------------------------------------- API


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


async def order_answer(request: Request, actor: Actor, data: OrderIn) -> tuple[int, OrderPlaced]:
    """`POST /api/v1/orders`, on either lane (app.core.hotlane): 201 for a new order, 200 for
    the one an earlier request with the same key placed."""
    placed = await _place(
        request,
        actor,
        item_id=data.item_id,
        quantity=data.quantity,
        idempotency_key=data.idempotency_key,
        for_user_id=data.user_id,
        address=client_address(request),
    )
    body = OrderPlaced(
        id=placed.id, status=placed.status, points=placed.points, pickup_code=placed.pickup_code
    )
    return (201 if placed.created else 200), body


@post("/api/v1/orders", tags=["spending"], status_code=201)
async def api_order(data: JSONBody[OrderIn], actor: Actor, request: Request) -> Response[OrderPlaced]:
    status, body = await order_answer(request, actor, data)
    return Response(body, status_code=status)


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


# ---------------------------------------------------------------- resident pages


async def _shelf_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    community = await db_session.get(Community, community_id)
    shelves, wallet = await services.shelf(db_session, actor, community_id)
    return render(
        request,
        "store/shelf.html",
        status_code=status_code,
        community=community,
        shelves=shelves,
        wallet=wallet,
        error=error,
        order_key=secrets.token_urlsafe(16),
        is_staff=actor.has(community_id, "admin", "staff"),
    )


@get("/store/c/{community_id:int}", include_in_schema=False)
async def shelf_page(request: Request, community_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _shelf_page(request, db_session, actor, community_id)


@post("/store/c/{community_id:int}/order", include_in_schema=False)
async def shelf_order(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        item_id = optional_int(form.get("item_id"))
        quantity = optional_int(form.get("quantity")) or 1
        if item_id is None:
            raise Invalid(field="item_id")
        item = await db_session.get(StoreItem, item_id)
        if item is None or item.community_id != community_id:
            raise NotFound()
        placed = await _place(
            request,
            actor,
            item_id=item_id,
            quantity=quantity,
            idempotency_key=form.get("key") or secrets.token_urlsafe(16),
            address=client_address(request),
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        return await _shelf_page(
            request, db_session, actor, community_id, error_message(request, exc), exc.status_code
        )
    return Redirect(f"/store/orders/{placed.id}", status_code=303)


async def _order_context(db_session: AsyncSession, actor: Actor, order_id: int) -> dict[str, Any]:
    order = await orders.order_for(db_session, actor, order_id)
    item = await db_session.get(StoreItem, order.item_id)
    resident = await db_session.get(User, order.user_id)
    community = await db_session.get(Community, order.community_id)
    return {
        "order": order,
        "item": item,
        "resident": resident,
        "community": community,
        "is_owner": order.user_id == actor.user_id,
        "is_staff": actor.has(order.community_id, "admin", "staff"),
        "pickup_code": rules.pickup_code(order.pickup_secret) if order.status == "held" else None,
        "status_label": services.STATUS_LABELS[order.status],
        "expires_local": order.expires_at.astimezone(rules.CHINA).strftime("%Y-%m-%d %H:%M"),
    }


@get("/store/orders/{order_id:int}", include_in_schema=False)
async def order_page(request: Request, order_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    ctx = await _order_context(db_session, actor, order_id)
    if ctx["pickup_code"]:
        await orders.order_qr_svg(db_session, ctx["order"])
    return render(request, "store/order.html", **ctx)


@get("/store/orders/{order_id:int}/qr.svg", include_in_schema=False)
async def order_qr(order_id: int, actor: Actor, db_session: AsyncSession) -> Response:
    order = await orders.order_for(db_session, actor, order_id)
    if order.status != "held":
        raise NotFound()
    svg = await orders.order_qr_svg(db_session, order)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, no-store"})


@post("/store/orders/{order_id:int}/cancel", include_in_schema=False)
async def order_cancel(
    request: Request, order_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await orders.cancel_order(
            db_session, actor, order_id, reason=form.get("reason", ""), address=client_address(request)
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        ctx = await _order_context(db_session, actor, order_id)
        return render(
            request, "store/order.html", status_code=exc.status_code, error=error_message(request, exc), **ctx
        )
    target = form.get("next") or f"/store/orders/{order_id}"
    if not target.startswith("/store/"):
        target = f"/store/orders/{order_id}"
    return Redirect(target, status_code=303)


@get("/store/me/orders", include_in_schema=False)
async def my_orders(request: Request, actor: Actor, db_session: AsyncSession) -> Template:
    rows = await services.orders_of_user(db_session, actor.user_id)
    return render(
        request,
        "store/my_orders.html",
        open_rows=[r for r in rows if r.order.status == "held"],
        done_rows=[r for r in rows if r.order.status != "held"],
        labels=services.STATUS_LABELS,
        local=_local,
    )


def _local(at: datetime | None) -> str:
    return at.astimezone(rules.CHINA).strftime("%Y-%m-%d %H:%M") if at else ""


# ---------------------------------------------------------------- counter


def _hand_over_response(request: Request, template_vars: dict[str, Any], status_code: int = 200) -> Template:
    if request.headers.get("hx-request"):
        # htmx swaps 200 answers only; the words and the icon carry a refusal.
        return render(request, "store/_handover_result.html", **template_vars)
    return render(request, "store/handover.html", status_code=status_code, **template_vars)


@post("/store/orders/{order_id:int}/hand-over", include_in_schema=False)
async def hand_over(request: Request, order_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    form = await form_data(request)
    try:
        pickup = await orders.hand_over(
            db_session, actor, order_id, scan_key=form.get("key") or None, address=client_address(request)
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        return _hand_over_response(
            request, {"ok": False, "code": exc.code, "detail": error_message(request, exc)}, exc.status_code
        )
    return _hand_over_response(request, {"ok": True, "pickup": pickup})


async def _counter_context(
    db_session: AsyncSession, actor: Actor, community_id: int, user_id: int
) -> dict[str, Any]:
    actor.require(community_id, "admin", "staff")
    membership = await db_session.scalar(
        select(Membership).where(Membership.community_id == community_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound()
    resident = await db_session.get(User, user_id)
    shelves, wallet = await services.shelf(db_session, actor, community_id, user_id=user_id)
    return {
        "community": await db_session.get(Community, community_id),
        "resident": resident,
        "shelves": shelves,
        "wallet": wallet,
        "order_key": secrets.token_urlsafe(16),
    }


@get("/store/c/{community_id:int}/counter/{user_id:int}", include_in_schema=False)
async def counter_page(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    ctx = await _counter_context(db_session, actor, community_id, user_id)
    return render(request, "store/counter.html", error=None, **ctx)


@post("/store/c/{community_id:int}/counter/{user_id:int}", include_in_schema=False)
async def counter_order(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        item_id = optional_int(form.get("item_id"))
        if item_id is None:
            raise Invalid(field="item_id")
        item = await db_session.get(StoreItem, item_id)
        if item is None or item.community_id != community_id:
            raise NotFound()
        placed = await _place(
            request,
            actor,
            item_id=item_id,
            quantity=optional_int(form.get("quantity")) or 1,
            idempotency_key=form.get("key") or secrets.token_urlsafe(16),
            for_user_id=user_id,
            address=client_address(request),
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        ctx = await _counter_context(db_session, actor, community_id, user_id)
        return render(
            request,
            "store/counter.html",
            status_code=exc.status_code,
            error=error_message(request, exc),
            **ctx,
        )
    return Redirect(f"/store/orders/{placed.id}", status_code=303)


# ---------------------------------------------------------------- admin pages


async def _admin_community(db_session: AsyncSession, actor: Actor, community_id: int) -> Community:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    actor.require(community_id, "admin", "staff")
    return community


@get("/store/admin/c/{community_id:int}", include_in_schema=False)
async def admin_items(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, saved: str = ""
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    settings = await services.store_settings(db_session, community_id)
    _ = gettext_for(request)
    return render(
        request,
        "store/admin_items.html",
        community=community,
        items=await services.items_of(db_session, community_id),
        settings=settings,
        is_admin=actor.has(community_id, "admin"),
        notice=_("Saved.") if saved else None,
        error=None,
    )


@post("/store/admin/c/{community_id:int}/settings", include_in_schema=False)
async def admin_settings(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.save_settings(
            db_session,
            actor,
            community_id,
            pickup_days=optional_int(form.get("pickup_days")) or 0,
            low_stock=optional_int(form.get("low_stock")) if form.get("low_stock") else -1,  # type: ignore[arg-type]
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        community = await _admin_community(db_session, actor, community_id)
        return render(
            request,
            "store/admin_items.html",
            status_code=exc.status_code,
            community=community,
            items=await services.items_of(db_session, community_id),
            settings=await services.store_settings(db_session, community_id),
            is_admin=actor.has(community_id, "admin"),
            notice=None,
            error=error_message(request, exc),
        )
    return Redirect(f"/store/admin/c/{community_id}?saved=1", status_code=303)


def _item_input(form: dict[str, str]) -> services.ItemInput:
    def number(name: str, default: int | None = None) -> int | None:
        value = form.get(name, "").strip()
        if value == "":
            return default
        parsed = optional_int(value)
        if parsed is None:
            raise Invalid(lazy("Please enter whole numbers."), field=name)
        return parsed

    return services.ItemInput(
        name=form.get("name", ""),
        points_price=number("points_price", 0) or 0,
        stock=number("stock", 0) or 0,
        per_resident_limit=number("per_resident_limit"),
        description=form.get("description", ""),
        category=form.get("category", ""),
        active=form.get("active") in ("1", "on", "true"),
        display_order=number("display_order", 0) or 0,
    )


@get("/store/admin/c/{community_id:int}/items/new", include_in_schema=False)
async def item_new(request: Request, community_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    return render(request, "store/item_new.html", community=community, form={"active": "1"}, error=None)


@post("/store/admin/c/{community_id:int}/items", include_in_schema=False)
async def item_create(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        item = await services.create_item(
            db_session, actor, community_id, _item_input(form), address=client_address(request)
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        community = await _admin_community(db_session, actor, community_id)
        return render(
            request,
            "store/item_new.html",
            status_code=exc.status_code,
            community=community,
            form=form,
            error=error_message(request, exc),
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item.id}?saved=1", status_code=303)


async def _item_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    item = await services.item_for_staff(db_session, actor, community_id, item_id)
    moves = await services.stock_history(db_session, item_id)
    names = {}
    actor_ids = {m.actor_id for m in moves if m.actor_id}
    if actor_ids:
        names = dict(
            (await db_session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids)))).all()
        )
    return render(
        request,
        "store/item.html",
        status_code=status_code,
        community=community,
        item=item,
        moves=moves,
        names=names,
        move_labels=services.MOVE_LABELS,
        local=_local,
        photo_url=_photo_url(item),
        error=error,
        notice=notice,
    )


@get("/store/admin/c/{community_id:int}/items/{item_id:int}", include_in_schema=False)
async def item_page(
    request: Request, community_id: int, item_id: int, actor: Actor, db_session: AsyncSession, saved: str = ""
) -> Template:
    notice = gettext_for(request)("Saved.") if saved else None
    return await _item_page(request, db_session, actor, community_id, item_id, notice=notice)


@post("/store/admin/c/{community_id:int}/items/{item_id:int}", include_in_schema=False)
async def item_update(
    request: Request, community_id: int, item_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    action = form.get("action", "details")
    address = client_address(request)
    try:
        if action in ("hide", "show"):
            await services.set_active(db_session, actor, community_id, item_id, action == "show", address)
        elif action == "stock":
            quantity = optional_int(form.get("quantity"))
            if quantity is None:
                raise Invalid(lazy("Please enter a quantity other than zero."), field="quantity")
            await services.move_stock(
                db_session,
                actor,
                community_id,
                item_id,
                kind=form.get("kind", ""),
                quantity=quantity,
                partner=form.get("partner", ""),
                reason=form.get("reason", ""),
                address=address,
            )
        else:
            await services.update_item(db_session, actor, community_id, item_id, _item_input(form), address)
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        return await _item_page(
            request,
            db_session,
            actor,
            community_id,
            item_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item_id}?saved=1", status_code=303)


@post(
    "/store/admin/c/{community_id:int}/items/{item_id:int}/photo",
    include_in_schema=False,
    request_max_body_size=photos.MAX_BYTES + 64 * 1024,
)
async def item_photo(
    request: Request,
    community_id: int,
    item_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
) -> Template | Redirect:
    await services.item_for_staff(db_session, actor, community_id, item_id)
    form = await request.form()
    upload = form.get("photo")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid(lazy("Please choose a photo to upload."), field="photo")
        raw = await upload.read(photos.MAX_BYTES + 1)
        await photos.save_photo(
            db_session,
            actor,
            community_id,
            item_id,
            raw,
            settings.uploads_dir,
            address=client_address(request),
        )
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        await db_session.rollback()
        return await _item_page(
            request,
            db_session,
            actor,
            community_id,
            item_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item_id}?saved=1", status_code=303)


@get("/store/photos/{photo_id:int}", include_in_schema=False)
async def photo(photo_id: int, actor: Actor, db_session: AsyncSession, settings: Settings) -> Response:
    record = await services.photo_of(db_session, photo_id)
    if not actor.is_member(record.community_id) and not actor.has(record.community_id, "street_admin"):
        raise NotFound()
    path = photos.photo_path(settings.uploads_dir, record.filename)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound() from exc
    return Response(
        data,
        media_type=record.content_type,
        headers={
            "x-content-type-options": "nosniff",
            "content-disposition": "inline",
            "cache-control": "private, max-age=86400",
        },
    )


@get("/store/admin/c/{community_id:int}/orders", include_in_schema=False)
async def admin_orders(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    settings = await services.store_settings(db_session, community_id)
    items = await services.items_of(db_session, community_id)
    return render(
        request,
        "store/admin_orders.html",
        community=community,
        open_rows=await services.orders_of_community(db_session, actor, community_id, status="held"),
        today_rows=await services.orders_of_community(
            db_session, actor, community_id, picked_up_since=rules.day_start(clock.now())
        ),
        low=[i for i in items if i.active and i.stock <= settings.low_stock],
        local=_local,
        now=clock.now(),
    )


def _month(value: str) -> datetime:
    now = clock.now().astimezone(rules.CHINA)
    if not value:
        return rules.month_start(now)
    try:
        parsed = datetime.strptime(value, "%Y-%m").replace(tzinfo=rules.CHINA)
    except ValueError as exc:
        raise Invalid(lazy("Please choose a month like 2026-03."), field="month") from exc
    return parsed


@get("/store/admin/c/{community_id:int}/report", include_in_schema=False)
async def report_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str = ""
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    start = _month(month)
    rows = await services.monthly_report(db_session, actor, community_id, start)
    return render(request, "store/report.html", community=community, rows=rows, month=start.strftime("%Y-%m"))


CSV_HEADER = (
    lazy("Item"),
    lazy("Ordered"),
    lazy("Picked up"),
    lazy("Cancelled"),
    lazy("Expired"),
    lazy("Points spent"),
    lazy("Restocked"),
    lazy("Donated"),
    lazy("Stock now"),
)


@get("/store/admin/c/{community_id:int}/report.csv", include_in_schema=False)
async def report_csv(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str = ""
) -> Response:
    await _admin_community(db_session, actor, community_id)
    start = _month(month)
    rows = await services.monthly_report(db_session, actor, community_id, start)
    _ = gettext_for(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(h) for h in CSV_HEADER])
    for r in rows:
        name = r.name
        if name[:1] in ("=", "+", "-", "@", "\t", "\r"):
            name = "'" + name  # a spreadsheet must not run an item name as a formula
        writer.writerow(
            [
                name,
                r.ordered,
                r.picked_up,
                r.cancelled,
                r.expired,
                r.points_spent,
                r.restocked,
                r.donated,
                r.stock,
            ]
        )
    filename = f"store-{community_id}-{start.strftime('%Y-%m')}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


route_handlers = [
    api_items,
    api_create_item,
    api_order,
    api_cancel,
    api_get_order,
    shelf_page,
    shelf_order,
    order_page,
    order_qr,
    order_cancel,
    my_orders,
    hand_over,
    counter_page,
    counter_order,
    admin_items,
    admin_settings,
    item_new,
    item_create,
    item_page,
    item_update,
    item_photo,
    photo,
    admin_orders,
    report_page,
    report_csv,
]
hot_routes = {("POST", "/api/v1/orders"): HotRoute(OrderIn, order_answer)}
