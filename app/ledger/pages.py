"""The ledger's pages: the wallet and statement, the admin's ledger, its reversal and check; the
statement of a resident for staff is app.ledger.admin_pages, the JSON API app.ledger.api."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import people
from app.accounts.models import Membership, User
from app.core import clock, fields, organisations, paging
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import gettext_for, lazy
from app.core.uow import connection_of
from app.core.web import client_address, error_message, form_data, optional_int, render
from app.ledger import admin, expiry, services
from app.ledger import home as _home  # noqa: F401 - registers its share of the home page
from app.ledger.models import LedgerAccount
from app.ledger.verify import run_checks
from app.places.services import time_zone_of

# Keyed by the kinds transfers are written with (events' "event" and "hours", the store's
# "store_order", a counter hold's "counter"); a kind missing here shows as its raw code.
KIND_LABELS: dict[str, str] = {
    "award": lazy("Award"),
    "event": lazy("Event attendance"),
    "checkin": lazy("Event attendance"),
    "hours": lazy("Volunteer hours"),
    "store_order": lazy("Love supermarket"),
    "order": lazy("Love supermarket"),
    "counter": lazy("At the counter"),
    "service": lazy("Service circle"),
    "circle_voucher": lazy("Service circle"),
    "circle_settlement": lazy("Service circle settlement"),
    "correction": lazy("Correction"),
    "reversal": lazy("Reversal"),
    "expiry": lazy("Points expired"),
    "wish": lazy("Micro-wish"),
}


# ---------------------------------------------------------------- pages: resident


async def _community_name(db_session: AsyncSession, community_id: int) -> str:
    name = (
        await db_session.execute(text("SELECT name FROM communities WHERE id = :c"), {"c": community_id})
    ).scalar()
    return str(name or "")


@get("/wallet", include_in_schema=False)
async def wallet_page(
    request: Request, actor: Actor, db_session: AsyncSession, community_id: int | None = None
) -> Template:
    cid = admin.community_of(actor, community_id)
    conn = await connection_of(db_session)
    w = await services.wallet(conn, cid, actor.user_id)
    zone = await time_zone_of(db_session, cid)
    schedule = await expiry.expiry_schedule(conn, cid, actor.user_id, zone)
    soon = clock.now() + timedelta(days=31)
    months = await expiry.expiry_months(conn, cid)
    return render(
        request,
        "ledger/wallet.html",
        community_id=cid,
        community_name=await _community_name(db_session, cid),
        time_zone=zone,
        wallet=w,
        schedule=schedule,
        expiring_soon=[e for e in schedule if e.on <= soon],
        months=months,
    )


# A month of a resident's statement is counted and read a numbered page at a time.
STATEMENT_PAGE = 20


@get("/wallet/statement", include_in_schema=False)
async def statement_page(
    request: Request,
    actor: Actor,
    db_session: AsyncSession,
    community_id: int | None = None,
    cursor: str | None = None,
) -> Template:
    cid = admin.community_of(actor, community_id)
    conn = await connection_of(db_session)
    zone = await time_zone_of(db_session, cid)
    month = request.query_params.get("month", "").strip()[:20]
    first_day = clock.parse_month(month) if month else None
    context: dict[str, Any] = {
        "community_id": cid,
        "community_name": await _community_name(db_session, cid),
        "time_zone": zone,
        "kind_labels": KIND_LABELS,
        "month": "",
        "month_typed": month,  # kept in its field when it is not a month
        "this_month": clock.month_text(clock.today(zone)),
        "month_error": gettext_for(request)(fields.MONTH_WORDS) if month and first_day is None else None,
    }
    if first_day is not None:
        start, end = clock.month_bounds(first_day, zone)
        asked = optional_int(request.query_params.get("page"))
        total = await services.statement_in_month_count(conn, cid, actor.user_id, start, end)
        at = paging.window(total, asked, STATEMENT_PAGE)
        lines = await services.statement_in_month(
            conn, cid, actor.user_id, start, end, limit=STATEMENT_PAGE, offset=at.offset
        )
        return render(
            request,
            "ledger/statement.html",
            **{**context, "month": month},
            lines=lines,
            month_total=total,
            page=at.number,
            pages=at.pages,
            next_cursor=None,
            newest=True,
        )
    try:
        lines, next_before = await services.statement(
            conn, cid, actor.user_id, limit=STATEMENT_PAGE, before=cursor
        )
        newer = await services.statement_count(conn, cid, actor.user_id, newer_than=cursor) if cursor else 0
    except Invalid:
        # A mangled link: the first page.
        lines, next_before = await services.statement(conn, cid, actor.user_id, limit=STATEMENT_PAGE)
        cursor, newer = None, 0
    return render(
        request,
        "ledger/statement.html",
        **context,
        lines=lines,
        next_cursor=next_before,
        # which lines of how many the page shows, and the way back to the newest
        total=await services.statement_count(conn, cid, actor.user_id),
        first=newer + 1,
        newest=bool(cursor),
    )


# ---------------------------------------------------------------- pages: admin


_TRANSFER_LINES = (
    "SELECT t.id, t.amount, t.kind, t.memo, t.reason, t.created_at, t.reverses_id, u.display_name, "
    "(SELECT r.id FROM ledger_transfers r WHERE r.reverses_id = t.id) AS reversed_by, "
    "(da.user_id IS NOT NULL) AS from_wallet, (ca.kind = 'settled') AS final, "
    "da.kind AS debit_kind, da.organisation_id AS debit_organisation, "
    "ca.kind AS credit_kind, ca.organisation_id AS credit_organisation "
    "FROM ledger_transfers t "
    "JOIN ledger_accounts da ON da.id = t.debit_account_id "
    "JOIN ledger_accounts ca ON ca.id = t.credit_account_id "
    "LEFT JOIN users u ON u.id = COALESCE(ca.user_id, da.user_id) "
    "WHERE t.community_id = :c "
)


# A line between two accounts of no person (a provider's settlement) names them instead.
ACCOUNT_WORDS = {
    "issuing": lazy("the community's issuing account"),
    "store": lazy("the love supermarket's account"),
    "expiry": lazy("expired points"),
    "settled": lazy("the settled account"),
}


async def _people(request: Request, db_session: AsyncSession, lines: Any) -> dict[int, str]:
    """What each line's Person column says: the member whose wallet it moved, else its two
    accounts (a settlement: 老街理发（服务商）→已结算账户)."""
    _ = gettext_for(request)
    ids = {
        org
        for t in lines
        if not t.display_name
        for org in (t.debit_organisation, t.credit_organisation)
        if org is not None
    }
    providers = await organisations.providers(db_session, sorted(ids))

    def account(kind: str, organisation_id: int | None) -> str:
        if organisation_id is not None:
            ref = providers.get(organisation_id)
            return _("%(name)s (provider)", name=ref.name if ref else f"#{organisation_id}")
        return _(ACCOUNT_WORDS[kind]) if kind in ACCOUNT_WORDS else kind

    return {
        t.id: t.display_name
        or _(
            "%(debit)s → %(credit)s",
            debit=account(t.debit_kind, t.debit_organisation),
            credit=account(t.credit_kind, t.credit_organisation),
        )
        for t in lines
    }


# The award form lists its people this many a page, found by name or phone (a community of
# 2,000 households has thousands of members: templates/_person_picker.html).
PEOPLE_PAGE = 10


def _members_of(community_id: int) -> Select[int, str, str | None, int, str | None, str | None, str]:
    """The community's members with their points and where they live, for the award form."""
    return people.placed(
        select(
            User.id, User.display_name, User.phone, func.coalesce(LedgerAccount.balance, 0).label("balance")
        )
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            LedgerAccount,
            and_(LedgerAccount.community_id == Membership.community_id, LedgerAccount.user_id == User.id),
        )
    ).where(Membership.community_id == community_id)


async def _members(
    db_session: AsyncSession, community_id: int, q: str, chosen: int | None, page: int | None
) -> people.Paged:
    """The people the award form offers (app.accounts.people: a page of those found by name or
    phone, else of all by name), and the person chosen (from their own page, or before) apart."""
    return await people.paged(
        db_session,
        community_id,
        _members_of(community_id),
        q,
        page or 1,
        PEOPLE_PAGE,
        [] if chosen is None else [chosen],
    )


# The admin's ledger lists this many transfers a page, newest first; "older" pages on from the last
# one shown (a busy community makes thousands a day: a wrong award of last week must be in reach).
TRANSFERS_PAGE = 30
_OLDER = (
    "AND (t.created_at, t.id) < (SELECT b.created_at, b.id FROM ledger_transfers b "
    "WHERE b.id = :before AND b.community_id = :c) "
)
# A month's transfers (the admin's month filter), counted, a numbered page at a time: a bookkeeper
# reaches a month and sees how many it has and how far through them a page is.
_IN_MONTH = "AND t.created_at >= :start AND t.created_at < :end "
_COUNT_IN_MONTH = text(
    "SELECT count(*) FROM ledger_transfers t WHERE t.community_id = :c "
    "AND t.created_at >= :start AND t.created_at < :end"
)


async def _admin_context(
    request: Request,
    db_session: AsyncSession,
    community_id: int,
    q: str = "",
    chosen: int | None = None,
    before: int | None = None,
    month: str = "",
    page: int | None = None,
    people_page: int | None = None,
    searching: bool = False,
) -> dict[str, Any]:
    zone = await time_zone_of(db_session, community_id)
    context = {
        "community_id": community_id,
        "community_name": await _community_name(db_session, community_id),
        "time_zone": zone,
        "members": await _members(db_session, community_id, q, chosen, people_page),
        "searching": searching,
        "q": q,
        "chosen": chosen,
        "months": await expiry.expiry_months(await connection_of(db_session), community_id),
        "kind_labels": KIND_LABELS,
        "month": month,  # the month shown, "" for the newest transfers
        "month_typed": month,  # kept in its field when it is not a month
        "this_month": clock.month_text(clock.today(zone)),
        "month_error": None,
    }
    first = clock.parse_month(month) if month else None
    if month and first is None:
        context["month_error"] = gettext_for(request)(fields.MONTH_WORDS)
    if first is not None:
        start, end = clock.month_bounds(first, zone)
        span = {"c": community_id, "start": start, "end": end}
        total = int((await db_session.execute(_COUNT_IN_MONTH, span)).scalar_one())
        at = paging.window(total, page, TRANSFERS_PAGE)
        shown = (
            await db_session.execute(
                text(
                    _TRANSFER_LINES + _IN_MONTH + "ORDER BY t.created_at DESC, t.id DESC LIMIT :n OFFSET :o"
                ),
                {**span, "n": TRANSFERS_PAGE, "o": at.offset},
            )
        ).all()
        return {
            **context,
            "recent": shown,
            "before": None,
            "next_before": None,
            "people": await _people(request, db_session, shown),
            "month_total": total,
            "page": at.number,
            "pages": at.pages,
        }
    older = _OLDER if before is not None else ""
    rows = (
        await db_session.execute(
            text(_TRANSFER_LINES + older + "ORDER BY t.created_at DESC, t.id DESC LIMIT :n"),
            {
                "c": community_id,
                "n": TRANSFERS_PAGE + 1,
                **({"before": before} if before is not None else {}),
            },
        )
    ).all()
    recent = rows[:TRANSFERS_PAGE]
    return {
        **context,
        "month": "",
        "recent": recent,
        "before": before,
        "next_before": recent[-1].id if len(rows) > TRANSFERS_PAGE else None,
        "people": await _people(request, db_session, recent),
    }


def _done_notice(request: Request, done: str | None, transfer_id: int | None, recent: Any) -> str | None:
    """What the admin just did, in words: shown as a success (green, ✓), never as an alert."""
    _ = gettext_for(request)
    line = next((t for t in recent if t.id == transfer_id), None) if transfer_id else None
    name = (line.display_name or "") if line is not None else ""
    if done == "award" and line is not None:
        return _("Awarded %(points)s points to %(name)s.", points=line.amount, name=name)
    if done == "deduct" and line is not None:
        return _("Deducted %(points)s points from %(name)s.", points=line.amount, name=name)
    if done == "reverse" and line is not None and line.reverses_id:
        return _("Transfer #%(id)s was reversed.", id=line.reverses_id)
    if done == "expiry":
        return _("The expiry setting was saved.")
    if done in ("award", "deduct", "reverse"):
        return _("Done.")
    return None


@get("/admin/c/{community_id:int}/ledger", include_in_schema=False)
async def admin_ledger(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    actor.require(community_id, "admin")
    q = request.query_params.get("q", "").strip()[:50]
    context = await _admin_context(
        request,
        db_session,
        community_id,
        q,
        optional_int(request.query_params.get("user")),
        optional_int(request.query_params.get("before")),
        request.query_params.get("month", "").strip()[:20],
        optional_int(request.query_params.get("page")),
        optional_int(request.query_params.get("people_page")),
    )
    notice = _done_notice(
        request,
        request.query_params.get("done"),
        optional_int(request.query_params.get("t")),
        context["recent"],
    )
    return render(request, "ledger/admin.html", error=None, notice=notice, form={}, **context)


@post("/admin/c/{community_id:int}/ledger", include_in_schema=False)
async def admin_ledger_submit(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Response:
    actor.require(community_id, "admin")
    form = await form_data(request)
    action = form.get("action", "")
    # The form is sent to the page's address, its search in it: the people found stay listed
    # when the form comes back refused, and after it is done, beside the search's own words.
    searched = str(form.get("q", request.query_params.get("q", ""))).strip()[:50]
    if "find" in form or "people_page" in form:
        # The picker's Find or one of its pages: the form comes back with what was typed, nothing
        # done; a new search leaves the person chosen before for those it finds.
        return render(
            request,
            "ledger/admin.html",
            error=None,
            notice=None,
            form=form,
            **await _admin_context(
                request,
                db_session,
                community_id,
                searched,
                chosen=None if "find" in form else optional_int(form.get("user_id")),
                people_page=optional_int(form.get("people_page")),
                searching=True,
            ),
        )
    done_id: int | None = None
    reverse_form = False
    conn = await connection_of(db_session)
    try:
        if action in ("award", "deduct"):
            user_id = optional_int(form.get("user_id"))
            points = optional_int(form.get("points"))
            if user_id is None or points is None:
                raise Invalid(lazy("Choose a person and a whole number of points."))
            if points < 1:
                # -5 typed to take five away: the form has a button for that, which the ledger's
                # own refusal (a whole number from 1 up) does not say.
                raise Invalid(
                    lazy("Points are counted from 1 up: to take points away, enter how many and tap Deduct."),
                    field="points",
                )
            services.check_points(points)
            reason = admin.reason_text(form.get("reason", ""))
            await admin.require_member(conn, community_id, user_id)
            key = f"page:{community_id}:{action}:{form.get('nonce', '')}"
            if not form.get("nonce"):
                raise Invalid()
            if points >= services.ASKED_AGAIN and form.get("again") != "1":
                return render(
                    request,
                    "ledger/admin.html",
                    error=None,
                    notice=None,
                    form=form,
                    ask_again={"action": action, "points": points},
                    **await _admin_context(request, db_session, community_id, searched, chosen=user_id),
                )
            move = services.award_ex if action == "award" else services.deduct_ex
            transfer_id, created = await move(
                conn,
                community_id=community_id,
                user_id=user_id,
                points=points,
                kind="award" if action == "award" else "correction",
                reference=f"user:{user_id}",
                memo=reason,
                actor_id=actor.user_id,
                idempotency_key=key,
            )
            done_id = transfer_id
            if created:
                await admin.audit_transfer(
                    conn,
                    action,
                    actor,
                    community_id,
                    transfer_id,
                    client_address(request),
                    user_id=user_id,
                    points=points,
                    reason=reason,
                )
        elif action == "reverse":
            transfer_id_in = optional_int(form.get("transfer_id"))
            if transfer_id_in is None or not 0 < transfer_id_in < 2**63:
                raise Invalid()
            if form.get("confirm") != "1":
                # One tap never reverses: the confirmation step comes first.
                return Redirect(f"/admin/c/{community_id}/ledger/reverse/{transfer_id_in}", status_code=303)
            reverse_form = True
            done_id, _created_now = await admin.reverse(
                conn,
                actor,
                community_id,
                transfer_id_in,
                form.get("reason", ""),
                f"page:{community_id}:reverse:{transfer_id_in}",
                client_address(request),
            )
        elif action == "expiry":
            months = optional_int(form.get("months"))
            await expiry.set_expiry_months(conn, community_id, months or None, actor_id=actor.user_id)
        else:
            raise Invalid()
    except DomainError as exc:
        await db_session.rollback()
        if reverse_form:
            return await _reverse_page(
                request,
                db_session,
                community_id,
                int(form["transfer_id"]),
                reason=form.get("reason", ""),
                error=error_message(request, exc),
                status_code=exc.status_code,
            )
        return render(
            request,
            "ledger/admin.html",
            status_code=exc.status_code,
            error=error_message(request, exc),
            notice=None,
            form=form,
            **await _admin_context(
                request, db_session, community_id, searched, chosen=optional_int(form.get("user_id"))
            ),
        )
    done = f"/admin/c/{community_id}/ledger?done={action}"
    if searched:
        done += "&" + urlencode({"q": searched})
    return Redirect(done + (f"&t={done_id}" if done_id else ""), status_code=303)


async def _reverse_page(
    request: Request,
    db_session: AsyncSession,
    community_id: int,
    transfer_id: int,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    """The confirmation step of a reversal: the transfer in full, what reversing it does, and a
    reason that is required and kept in the audit log and on the statement."""
    line = (
        await db_session.execute(
            text(_TRANSFER_LINES + "AND t.id = :t"), {"c": community_id, "t": transfer_id}
        )
    ).first()
    if line is None:
        raise NotFound()
    return render(
        request,
        "ledger/reverse.html",
        status_code=status_code,
        community_id=community_id,
        community_name=await _community_name(db_session, community_id),
        time_zone=await time_zone_of(db_session, community_id),
        t=line,
        person=(await _people(request, db_session, [line]))[line.id],
        kind_labels=KIND_LABELS,
        reason=reason,
        error=error,
    )


@get("/admin/c/{community_id:int}/ledger/reverse/{transfer_id:int}", include_in_schema=False)
async def admin_reverse_confirm(
    request: Request, community_id: int, transfer_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    actor.require(community_id, "admin")
    return await _reverse_page(request, db_session, community_id, transfer_id)


@get("/admin/c/{community_id:int}/ledger/verify", include_in_schema=False)
async def admin_verify(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    actor.require(community_id, "admin")
    checks = await run_checks(db_session, community_id)
    return render(
        request,
        "ledger/verify.html",
        community_id=community_id,
        community_name=await _community_name(db_session, community_id),
        checks=checks,
        ok=all(c.ok for c in checks),
    )


route_handlers = [
    wallet_page,
    statement_page,
    admin_ledger,
    admin_ledger_submit,
    admin_reverse_confirm,
    admin_verify,
]
