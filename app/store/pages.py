"""The love supermarket's pages for residents and counter staff; the admin's are
app.store.admin_pages, the JSON API app.store.api."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import paging
from app.core import photos as core_photos
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import gettext_for, lazy, ngettext_for
from app.core.settings import Settings
from app.core.uow import connection_of
from app.core.web import client_address, error_message, form_data, optional_int, render, reopen_form
from app.ledger import admin as ledger_admin
from app.places.models import Community
from app.places.services import time_zones_of
from app.store import home as _home  # noqa: F401 - registers its share of the home page
from app.store import mine, orders, photos, placing, rules, services
from app.store.models import StoreItem

# ---------------------------------------------------------------- resident pages


async def _shelf_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    refusal: DomainError | None = None,
    sent: tuple[int, int] | None = None,
) -> Template:
    """The shelf; after a refused order, the refusal in words and the quantity sent (item, quantity)
    kept in its item's form."""
    community = await db_session.get(Community, community_id)
    shelves, wallet = await services.shelf(db_session, actor, community_id)
    if refusal is not None and sent is not None:
        refusal = _shelf_refusal(refusal, shelves, *sent)
    return render(
        request,
        "store/shelf.html",
        status_code=refusal.status_code if refusal is not None else 200,
        community=community,
        shelves=shelves,
        wallet=wallet,
        error=error_message(request, refusal) if refusal is not None else None,
        sent=sent,
        order_key=secrets.token_urlsafe(16),
        is_staff=actor.has(community_id, "admin", "staff"),
    )


def _shelf_refusal(
    exc: DomainError, shelves: list[services.ShelfView], item_id: int, quantity: int
) -> DomainError:
    """A resident's refused order said as theirs, with the item and the figures: 积分不足 at the top
    of the page named neither the item nor what it wanted."""
    shelf = next((s for s in shelves if s.item.id == item_id), None)
    if shelf is None:
        return exc
    words: dict[str, Any] = {"item": shelf.item.name, "qty": quantity}
    if exc.code == "insufficient_points":
        words.update(cost=quantity * shelf.item.points_price, num=shelf.available)
        detail = lazy("%(qty)s × %(item)s cost %(cost)s points; you have %(num)s to spend.")
    elif exc.code == "limit_reached" and shelf.left_this_month:
        words.update(left=shelf.left_this_month)
        detail = lazy("You can order %(left)s more of %(item)s this month.")
    else:
        return exc
    return DomainError(exc.code, exc.status_code, detail, words=words)


def _quantity(form: Any) -> int:
    """An order form's quantity: 1 when the field is left out; anything sent must be a whole number
    the store sells at once (a 0 or a word was ordered as 1)."""
    sent = str(form.get("quantity") or "").strip()
    return placing.check_quantity(optional_int(sent) if sent else 1)


@get("/store/c/{community_id:int}", include_in_schema=False)
async def shelf_page(request: Request, community_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _shelf_page(request, db_session, actor, community_id)


@post("/store/c/{community_id:int}/order", include_in_schema=False)
async def shelf_order(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    item: StoreItem | None = None
    sent: tuple[int, int] | None = None
    try:
        item_id = optional_int(form.get("item_id"))
        quantity = _quantity(form)
        if item_id is None:
            raise Invalid(field="item_id")
        sent = (item_id, quantity)
        item = await db_session.get(StoreItem, item_id)
        if item is None or item.community_id != community_id:
            raise NotFound()
        placed = await placing.place_order(
            await connection_of(db_session),
            actor,
            known=request.app.state["order_facts"],
            item_id=item_id,
            quantity=quantity,
            idempotency_key=form.get("key") or secrets.token_urlsafe(16),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _shelf_page(request, db_session, actor, community_id, exc, sent)
    return Redirect(f"/store/orders/{placed.id}?done=placed", status_code=303)


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
    }


def _order_notice(request: Request, ctx: dict[str, Any], done: str) -> str | None:
    """What the reader just did to this order, said as a success."""
    _ = gettext_for(request)
    order = ctx["order"]
    if done == "placed" and order.status == "held":
        if ctx["is_owner"]:
            return _("Order placed. Show the code below at the store counter.")
        return _("Order placed for %(name)s.", name=ctx["resident"].display_name)
    if done == "cancelled" and order.status == "cancelled":
        ngettext = ngettext_for(request)
        return ngettext(
            "Order cancelled. %(num)s point went back to the wallet.",
            "Order cancelled. %(num)s points went back to the wallet.",
            order.points,
        )
    return None


@get("/store/orders/{order_id:int}", include_in_schema=False)
async def order_page(
    request: Request, order_id: int, actor: Actor, db_session: AsyncSession, done: str = ""
) -> Template:
    ctx = await _order_context(db_session, actor, order_id)
    if ctx["pickup_code"]:
        await orders.order_qr_svg(db_session, ctx["order"])
    return render(request, "store/order.html", notice=_order_notice(request, ctx, done), **ctx)


@get("/store/orders/{order_id:int}/qr.svg", include_in_schema=False)
async def order_qr(order_id: int, actor: Actor, db_session: AsyncSession) -> Response:
    order = await orders.order_for(db_session, actor, order_id)
    if order.status != "held":
        raise NotFound()
    svg = await orders.order_qr_svg(db_session, order)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, no-store"})


def _back_to(next_path: str | None, order_id: int) -> str:
    """Where a cancel leads back to: the admin's open orders when it came from there, else the
    order itself (only our own paths, never another site)."""
    next_path = next_path or ""
    if (
        next_path.startswith("/store/admin/c/")
        and "?" not in next_path
        and "//" not in next_path
        and "\\" not in next_path
    ):
        return next_path
    return f"/store/orders/{order_id}"


async def _cancel_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    order_id: int,
    next_path: str | None,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template | Redirect:
    """The confirmation step before an order is cancelled: what goes back where, a reason
    (required when staff cancel a resident's order), and a way back that changes nothing."""
    ctx = await _order_context(db_session, actor, order_id)
    if ctx["order"].status != "held" and error is None:
        return Redirect(f"/store/orders/{order_id}", status_code=303)
    return render(
        request,
        "store/cancel.html",
        status_code=status_code,
        back=_back_to(next_path, order_id),
        next_path=next_path if _back_to(next_path, order_id) == next_path else "",
        reason=reason,
        error=error,
        **ctx,
    )


@get("/store/orders/{order_id:int}/cancel", include_in_schema=False)
async def order_cancel_confirm(
    request: Request, order_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    return await _cancel_page(request, db_session, actor, order_id, request.query_params.get("next", ""))


@post("/store/orders/{order_id:int}/cancel", include_in_schema=False)
async def order_cancel(
    request: Request, order_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    next_path = form.get("next") or ""
    if form.get("confirm") != "1":
        # One tap never cancels: without the confirmation step's answer, the step is shown.
        return await _cancel_page(request, db_session, actor, order_id, next_path, form.get("reason", ""))
    try:
        await orders.cancel_order(
            db_session, actor, order_id, reason=form.get("reason", ""), address=client_address(request)
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _cancel_page(
            request,
            db_session,
            actor,
            order_id,
            next_path,
            form.get("reason", ""),
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    back = _back_to(next_path, order_id)
    if back.startswith("/store/admin/"):
        return Redirect(f"{back}?cancelled={order_id}", status_code=303)
    return Redirect(f"/store/orders/{order_id}?done=cancelled", status_code=303)


# A person's earlier orders are listed this many a page; those waiting for pickup all (they
# hold points and expire within days).
MY_ORDERS_PAGE = 30


@get("/store/me/orders", include_in_schema=False)
async def my_orders(request: Request, actor: Actor, db_session: AsyncSession, page: str = "") -> Template:
    open_rows = await mine.orders_of_user(db_session, actor.user_id, held=True)
    done_total = await mine.count_orders_of_user(db_session, actor.user_id, held=False)
    at = paging.window(done_total, optional_int(page), MY_ORDERS_PAGE)
    done_rows = await mine.orders_of_user(
        db_session, actor.user_id, held=False, limit=MY_ORDERS_PAGE, offset=at.offset
    )
    # Each order's times in its own community's zone (a person may belong to several).
    zones = await time_zones_of(db_session, {r.order.community_id for r in open_rows + done_rows})
    return render(
        request,
        "store/my_orders.html",
        # The shop a person without open orders is sent to: their home community's.
        shop_community=ledger_admin.community_of(actor, None) if actor.roles else None,
        zones=zones,
        open_rows=open_rows,
        done_rows=done_rows,
        done_total=done_total,
        page=at.number,
        pages=at.pages,
        labels=services.STATUS_LABELS,
    )


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
            await connection_of(db_session),
            actor,
            order_id,
            scan_key=form.get("key") or None,
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
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


def _counter_refusal(
    exc: DomainError, ctx: dict[str, Any], item: StoreItem | None, quantity: int
) -> DomainError | None:
    """A refusal as staff ordering for a resident read it: whose limit or points, which item, and
    what to do next (the resident's own words, "you have reached...", are not theirs)."""
    if item is None:
        return None
    words = {"name": ctx["resident"].display_name, "item": item.name}
    if exc.code == "limit_reached":
        detail = lazy("%(name)s has reached this month's limit for %(item)s. Choose another item.")
    elif exc.code == "insufficient_points":
        words.update(num=ctx["wallet"].available, qty=quantity)
        detail = lazy(
            "%(name)s has %(num)s points to spend: not enough for %(qty)s × %(item)s. "
            "Choose fewer, or another item."
        )
    elif exc.code == "out_of_stock":
        detail = lazy("%(item)s is out of stock now. Choose another item.")
    else:
        return None
    return DomainError(exc.code, exc.status_code, detail, words=words)


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
    item: StoreItem | None = None
    try:
        item_id = optional_int(form.get("item_id"))
        if item_id is None:
            raise Invalid(field="item_id")
        item = await db_session.get(StoreItem, item_id)
        if item is None or item.community_id != community_id:
            raise NotFound()
        placed = await placing.place_order(
            await connection_of(db_session),
            actor,
            known=request.app.state["order_facts"],
            item_id=item_id,
            quantity=_quantity(form),
            idempotency_key=form.get("key") or secrets.token_urlsafe(16),
            for_user_id=user_id,
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        ctx = await _counter_context(db_session, actor, community_id, user_id)
        words = _counter_refusal(exc, ctx, item, optional_int(form.get("quantity")) or 1)
        return render(
            request,
            "store/counter.html",
            status_code=exc.status_code,
            error=error_message(request, words or exc),
            **ctx,
        )
    return Redirect(f"/store/orders/{placed.id}?done=placed", status_code=303)


# ---------------------------------------------------------------- item photos


@get("/store/photos/{photo_id:int}", include_in_schema=False)
async def photo(photo_id: int, actor: Actor, db_session: AsyncSession, settings: Settings) -> Response:
    record = await services.photo_of(db_session, photo_id)
    if not actor.is_member(record.community_id) and not actor.has(record.community_id, "street_admin"):
        raise NotFound()
    return core_photos.serve(photos.photo_path(settings.uploads_dir, record.filename), record.content_type)


route_handlers = [
    shelf_page,
    shelf_order,
    order_page,
    order_qr,
    order_cancel_confirm,
    order_cancel,
    my_orders,
    hand_over,
    counter_page,
    counter_order,
    photo,
]
