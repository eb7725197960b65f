"""The love supermarket's admin pages: the catalogue (items, photos, restocks and corrections),
the store's settings, open orders and the monthly report with its CSV and Excel downloads (the
store's export, app.store.exports)."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import moving
from app.accounts.models import User
from app.core import clock, exports, fields, form_keys, paging, uploads
from app.core import photos as core_photos
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.figures import Scope
from app.core.i18n import gettext_for, lazy, ngettext_for
from app.core.rendering import currency_of
from app.core.settings import Settings
from app.core.web import (
    client_address,
    error_message,
    form_data,
    optional_int,
    refusal_words,
    render,
    reopen_form,
)
from app.places.models import Community
from app.store import exports as store_exports
from app.store import photos, services
from app.store.models import StoreItem, StoreOrder

OPEN_ORDERS_PAGE = 50
SAVED = {
    "settings": lazy("The store settings were saved."),
    "created": lazy("The item was added."),
    "details": lazy("The item's details were saved."),
    "stock": lazy("The stock change was saved."),
    "hide": lazy("The item is hidden from residents."),
    "show": lazy("The item is offered to residents again."),
    "photo": lazy("The photo was uploaded."),
}


def _saved(request: Request, saved: str) -> str | None:
    """The success line for what was just saved (green, ✓, in words)."""
    if not saved:
        return None
    return gettext_for(request)(SAVED.get(saved, lazy("Saved.")))


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
        notice=_saved(request, saved),
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
        await reopen_form(db_session, exc)
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
    return Redirect(f"/store/admin/c/{community_id}?saved=settings", status_code=303)


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


def _photo_error(request: Request, photo: str) -> str | None:
    return gettext_for(request)(core_photos.TOO_LARGE) if photo == "too_large" else None


@get("/store/admin/c/{community_id:int}/items/new", include_in_schema=False)
async def item_new(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, photo: str = ""
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    return render(
        request,
        "store/item_new.html",
        status_code=422 if photo == "too_large" else 200,
        community=community,
        form={"active": "1"},
        form_key=form_keys.new(),
        error=None,
        photo_error=_photo_error(request, photo),
        max_photo_bytes=core_photos.MAX_BYTES,
    )


@post(
    "/store/admin/c/{community_id:int}/items",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(photos.form_again)},
    middleware=[uploads.oversized_forms(photos.form_again)],
)
async def item_create(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    form = await form_data(request)
    try:
        raw = await uploads.read_photo(request)

        async def with_photo(item: StoreItem) -> None:
            # In the same transaction: a refused photo adds no item either.
            if raw is not None:
                await photos.save_photo(
                    db_session,
                    actor,
                    community_id,
                    item.id,
                    raw,
                    settings.uploads_dir,
                    client_address(request),
                )

        item = await services.create_item(
            db_session,
            actor,
            community_id,
            _item_input(form),
            address=client_address(request),
            form_key=form.get("key"),
            and_then=with_photo,
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        community = await _admin_community(db_session, actor, community_id)
        return render(
            request,
            "store/item_new.html",
            status_code=exc.status_code,
            community=community,
            form=form,
            **refusal_words(request, exc),
            max_photo_bytes=core_photos.MAX_BYTES,
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item.id}?saved=created", status_code=303)


async def _item_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    photo_error: str | None = None,
    refused: dict[str, str] | None = None,
) -> Template:
    """`refused`: the stock change or the details form an admin sent and was refused, shown again
    as typed with the reason beside it (`error`), the other forms as they are."""
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
        photo_url=photos.url_of(item.photo_id),
        max_photo_bytes=core_photos.MAX_BYTES,
        form_key=form_keys.new(),
        error=error,
        photo_error=photo_error,
        notice=notice,
        refused=refused or {},
    )


@get("/store/admin/c/{community_id:int}/items/{item_id:int}", include_in_schema=False)
async def item_page(
    request: Request,
    community_id: int,
    item_id: int,
    actor: Actor,
    db_session: AsyncSession,
    saved: str = "",
    photo: str = "",
) -> Template:
    return await _item_page(
        request,
        db_session,
        actor,
        community_id,
        item_id,
        notice=_saved(request, saved),
        photo_error=_photo_error(request, photo),
        status_code=422 if photo == "too_large" else 200,
    )


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
                form_key=form.get("key"),
            )
        else:
            action = "details"
            await services.update_item(db_session, actor, community_id, item_id, _item_input(form), address)
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _item_page(
            request,
            db_session,
            actor,
            community_id,
            item_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
            refused={**form, "action": action},
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item_id}?saved={action}", status_code=303)


@post(
    "/store/admin/c/{community_id:int}/items/{item_id:int}/photo",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(photos.form_again)},
    middleware=[uploads.oversized_forms(photos.form_again)],
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
    try:
        raw = await uploads.read_photo(request)
        if raw is None:
            raise Invalid(lazy("Please choose a photo to upload."), field="photo")
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
        await reopen_form(db_session, exc)
        said = refusal_words(request, exc)
        return await _item_page(
            request,
            db_session,
            actor,
            community_id,
            item_id,
            error=said["error"],
            photo_error=said["photo_error"],
            status_code=exc.status_code,
        )
    return Redirect(f"/store/admin/c/{community_id}/items/{item_id}?saved=photo", status_code=303)


@get("/store/admin/c/{community_id:int}/orders", include_in_schema=False)
async def admin_orders(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    cancelled: str = "",
    page: str = "",
    today: str = "",
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    # The open orders a page at a time, newest first: a community of 2,000 households may have
    # hundreds waiting, and the counter finds one by scanning its code, not by scrolling.
    open_total = await services.count_orders(db_session, actor, community_id, "held")
    open_page = paging.window(open_total, optional_int(page), OPEN_ORDERS_PAGE)
    # The day's hand-overs likewise, from midnight in the community's zone: a busy Saturday's
    # counter hands over more than a page holds.
    since = clock.day_start(clock.now(), community.time_zone)
    today_total = await services.count_orders(
        db_session, actor, community_id, "picked_up", picked_up_since=since
    )
    today_page = paging.window(today_total, optional_int(today), OPEN_ORDERS_PAGE)
    notice = None
    cancelled_id = optional_int(cancelled)
    gone = await db_session.get(StoreOrder, cancelled_id) if cancelled_id and cancelled_id < 2**63 else None
    if gone is not None and gone.community_id == community_id and gone.status == "cancelled":
        resident = await db_session.get(User, gone.user_id)
        ngettext = ngettext_for(request)
        notice = ngettext(
            "Order #%(id)s was cancelled; %(num)s point went back to %(name)s.",
            "Order #%(id)s was cancelled; %(num)s points went back to %(name)s.",
            gone.points,
            id=gone.id,
            name=resident.display_name if resident else "",
        )
    settings = await services.store_settings(db_session, community_id)
    items = await services.items_of(db_session, community_id)
    return render(
        request,
        "store/admin_orders.html",
        community=community,
        open_rows=await services.orders_of_community(
            db_session,
            actor,
            community_id,
            status="held",
            limit=OPEN_ORDERS_PAGE,
            offset=open_page.offset,
        ),
        open_total=open_total,
        page=open_page.number,
        pages=open_page.pages,
        today_rows=await services.orders_of_community(
            db_session,
            actor,
            community_id,
            picked_up_since=since,
            limit=OPEN_ORDERS_PAGE,
            offset=today_page.offset,
        ),
        today_total=today_total,
        today_page=today_page.number,
        today_pages=today_page.pages,
        low=[i for i in items if i.active and i.stock <= settings.low_stock],
        now=clock.now(),
        notice=notice,
        error=None,
    )


def _month(value: str, tz: str | None) -> datetime:
    """The first instant of the month asked for (this month when none), in the community's zone."""
    if not value:
        return clock.month_bounds(clock.month_of(clock.now(), tz), tz)[0]
    return clock.month_bounds(fields.month(value), tz)[0]


@get("/store/admin/c/{community_id:int}/report", include_in_schema=False)
async def report_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str = ""
) -> Template:
    community = await _admin_community(db_session, actor, community_id)
    error = None
    try:
        start = _month(month, community.time_zone)
    except Invalid as exc:
        # The report of this month, with the reason next to the month field.
        error, start = error_message(request, exc), _month("", community.time_zone)
    scope = Scope.of_month(community.id, start.date(), community.time_zone)
    # The page shows what its files hold: the store's export of the month, with its totals.
    rows = await store_exports.store_items(db_session, scope)
    return render(
        request,
        "store/report.html",
        status_code=422 if error else 200,
        community=community,
        columns=store_exports.COLUMNS,
        note=store_exports.NOTE,
        rows=rows,
        totals=[sum(row[i] for row in rows) for i in range(1, len(store_exports.COLUMNS))],
        month=clock.month_text(start),
        error=error,
    )


async def _report_file(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str, fmt: str
) -> Response[bytes]:
    """The month's report as the store's export (app.core.exports): one writer, one way of
    naming files and one audit entry for every export taken."""
    community = await _admin_community(db_session, actor, community_id)
    scope = Scope.of_month(community.id, _month(month, community.time_zone).date(), community.time_zone)
    found = exports.get(store_exports.NAME)
    return await exports.taken_file(
        db_session,
        actor=actor,
        export=found,
        scope=scope,
        fmt=fmt,
        rows=await found.fn(db_session, scope),
        gettext=gettext_for(request),
        currency=currency_of(request),
        address=client_address(request),
    )


@get("/store/admin/c/{community_id:int}/report.csv", include_in_schema=False)
async def report_csv(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str = ""
) -> Response[bytes]:
    return await _report_file(request, community_id, actor, db_session, month, "csv")


@get("/store/admin/c/{community_id:int}/report.xlsx", include_in_schema=False)
async def report_xlsx(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, month: str = ""
) -> Response[bytes]:
    return await _report_file(request, community_id, actor, db_session, month, "xlsx")


@moving.open_matter
async def open_orders(session: AsyncSession, community_id: int, user_id: int) -> moving.OpenMatter:
    """A resident's orders waiting for pickup, which counter staff cancel from the orders list
    (with a reason) before the resident is marked as moved away."""
    held = await session.scalar(
        select(func.count()).where(
            StoreOrder.community_id == community_id,
            StoreOrder.user_id == user_id,
            StoreOrder.status == "held",
        )
    )
    return moving.OpenMatter(
        int(held or 0),
        lazy("Store orders waiting for pickup: %(count)s"),
        f"/store/admin/c/{community_id}/orders",
    )


route_handlers = [
    admin_items,
    admin_settings,
    item_new,
    item_create,
    item_page,
    item_update,
    item_photo,
    admin_orders,
    report_page,
    report_csv,
    report_xlsx,
]
