"""The ledger's JSON API (API.md: wallet, transfers, awards; plus admin deductions, holds and
reversals documented in docs/ledger.md) and pages: wallet, statement, admin ledger, check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Redirect, Template
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.audit import record
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import gettext_for, lazy
from app.core.uow import Connection, Sql, connection_of, json_param
from app.core.web import client_address, error_message, form_data, optional_int, render
from app.ledger import expiry, services
from app.ledger import home as _home  # noqa: F401 - registers its share of the home page
from app.ledger.schemas import (
    AwardIn,
    HoldCreated,
    HoldIn,
    HoldVoided,
    ReasonIn,
    TransferCreated,
    TransferLine,
    TransfersOut,
    WalletOut,
)
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
    "correction": lazy("Correction"),
    "reversal": lazy("Reversal"),
    "expiry": lazy("Points expired"),
    "wish": lazy("Micro-wish"),
}


# ---------------------------------------------------------------- helpers


def _community_of(actor: Actor, community_id: int | None) -> int:
    """The community a member asks about: the given one (must be a member) or their first."""
    if community_id is None:
        if not actor.roles:
            raise NotFound()
        return min(actor.roles)
    if not actor.is_member(community_id):
        raise Forbidden()
    return community_id


_MEMBER = Sql("SELECT 1 FROM memberships WHERE community_id = :c AND user_id = :u")
_HOLD_COMMUNITY = Sql("SELECT community_id FROM ledger_holds WHERE id = :h")
_TRANSFER_COMMUNITY = Sql("SELECT community_id FROM ledger_transfers WHERE id = :t")
_TRANSFER_BY_KEY = Sql("SELECT id FROM ledger_transfers WHERE idempotency_key = :k")


async def _require_member(conn: Connection, community_id: int, user_id: int) -> None:
    found = await _MEMBER.fetchval(conn, {"c": community_id, "u": user_id})
    if found is None:
        raise NotFound(lazy("This person is not a member of this community."))


async def _audit_transfer(
    db: Connection,
    what: str,
    actor: Actor,
    community_id: int,
    transfer_id: int,
    address: str | None,
    **data: Any,
) -> None:
    """The audit row of a transfer an admin made: `ledger.<what>` on `transfer:<id>`."""
    await record(
        db,
        action=f"ledger.{what}",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"transfer:{transfer_id}",
        address=address,
        **data,
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(lazy("Please give a reason."))
    if len(reason) > 500:
        raise Invalid(lazy("The reason must be at most 500 characters."))
    return reason


async def _strict_points(request: Request) -> None:
    """``points`` must be a JSON integer: msgspec's lax decoding would turn "10" into 10."""
    body = await request.json()
    points = body.get("points") if isinstance(body, dict) else None
    services.check_points(points)


def _api_key(community_id: int, what: str, key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 150:
        raise Invalid(lazy("The idempotency key must be 1 to 150 characters."))
    return f"api:{community_id}:{what}:{key}"


# ---------------------------------------------------------------- API: me


@get("/api/v1/me/wallet", tags=["me"])
async def api_wallet(actor: Actor, conn: Connection, community_id: int | None = None) -> WalletOut:
    cid = _community_of(actor, community_id)
    w = await services.wallet(conn, cid, actor.user_id)
    return WalletOut(community_id=cid, balance=w.balance, held=w.held, available=w.available)


@get("/api/v1/me/transfers", tags=["me"])
async def api_transfers(
    request: Request,
    actor: Actor,
    conn: Connection,
    community_id: int | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> TransfersOut:
    cid = _community_of(actor, community_id)
    if not 1 <= limit <= 100:
        raise Invalid(lazy("The limit must be between 1 and 100."))
    lines, next_before = await services.statement(conn, cid, actor.user_id, limit=limit, before=cursor)
    _ = gettext_for(request)
    return TransfersOut(
        items=[
            TransferLine(
                id=line.id,
                amount=line.amount,
                kind=line.kind,
                memo=line.words(_),
                reference=line.reference,
                created_at=line.created_at.isoformat(),
            )
            for line in lines
        ],
        next_cursor=next_before,
    )


# ---------------------------------------------------------------- API: community admin


def _created(body: Any, created: bool) -> Response:
    return Response(body, status_code=201 if created else 200)


@post("/api/v1/communities/{community_id:int}/awards", tags=["community admin"], status_code=201)
async def api_award(
    community_id: int, data: JSONBody[AwardIn], actor: Actor, conn: Connection, request: Request
) -> Response[TransferCreated]:
    """One statement when the member has been awarded before (the kiosk-and-script case); the
    general path for a first award, a repeated key or a refusal."""
    actor.require(community_id, "admin")
    await _strict_points(request)
    reason = _reason(data.reason)
    award: dict[str, Any] = {
        "community_id": community_id,
        "user_id": data.user_id,
        "points": data.points,
        "kind": "award",
        "reference": f"user:{data.user_id}",
        "memo": reason,
        "actor_id": actor.user_id,
        "idempotency_key": _api_key(community_id, "award", data.idempotency_key),
    }
    audit = {"user_id": data.user_id, "points": data.points, "reason": reason}
    address = client_address(request)
    note = services.AuditNote("ledger.award", address, json_param(audit))
    transfer_id = await services.award_in_one(conn, **award, audit=note)
    if transfer_id is not None:
        return _created(TransferCreated(transfer_id=transfer_id), True)
    await _require_member(conn, community_id, data.user_id)
    transfer_id, created = await services.award_ex(conn, **award)
    if created:
        await _audit_transfer(
            conn,
            "award",
            actor,
            community_id,
            transfer_id,
            address,
            **audit,
        )
    return _created(TransferCreated(transfer_id=transfer_id), created)


@post("/api/v1/communities/{community_id:int}/deductions", tags=["community admin"], status_code=201)
async def api_deduct(
    community_id: int, data: JSONBody[AwardIn], actor: Actor, conn: Connection, request: Request
) -> Response[TransferCreated]:
    """Take points back from a member (a correction); 409 insufficient_points if not available."""
    actor.require(community_id, "admin")
    await _strict_points(request)
    reason = _reason(data.reason)
    key = _api_key(community_id, "deduct", data.idempotency_key)
    await _require_member(conn, community_id, data.user_id)
    transfer_id, created = await services.deduct_ex(
        conn,
        community_id=community_id,
        user_id=data.user_id,
        points=data.points,
        kind="correction",
        reference=f"user:{data.user_id}",
        memo=reason,
        actor_id=actor.user_id,
        idempotency_key=key,
    )
    if created:
        await _audit_transfer(
            conn,
            "deduct",
            actor,
            community_id,
            transfer_id,
            client_address(request),
            user_id=data.user_id,
            points=data.points,
            reason=reason,
        )
    return _created(TransferCreated(transfer_id=transfer_id), created)


@post("/api/v1/communities/{community_id:int}/holds", tags=["community admin"], status_code=201)
async def api_hold(
    community_id: int, data: JSONBody[HoldIn], actor: Actor, conn: Connection, request: Request
) -> Response[HoldCreated]:
    """Counter staff reserve a member's points (two-phase: post or void it next)."""
    actor.require(community_id, "admin", "staff")
    await _strict_points(request)
    reason = _reason(data.reason)
    key = _api_key(community_id, "hold", data.idempotency_key)
    await _require_member(conn, community_id, data.user_id)
    expires = None
    if data.expires_in_seconds is not None:
        if not 1 <= data.expires_in_seconds <= 90 * 86400:
            raise Invalid(lazy("A hold can last from 1 second to 90 days."))
        expires = clock.now() + timedelta(seconds=data.expires_in_seconds)
    hold_id, created = await services.hold_ex(
        conn,
        community_id=community_id,
        user_id=data.user_id,
        points=data.points,
        kind="counter",
        reference=f"user:{data.user_id}",
        memo=reason,
        actor_id=actor.user_id,
        idempotency_key=key,
        expires_at=expires,
    )
    return _created(HoldCreated(hold_id=hold_id), created)


async def _hold_in(conn: Connection, community_id: int, hold_id: int) -> None:
    found = await _HOLD_COMMUNITY.fetchval(conn, {"h": hold_id})
    if found != community_id:
        raise NotFound()


@post(
    "/api/v1/communities/{community_id:int}/holds/{hold_id:int}/post",
    tags=["community admin"],
    status_code=200,
)
async def api_post_hold(community_id: int, hold_id: int, actor: Actor, conn: Connection) -> TransferCreated:
    actor.require(community_id, "admin", "staff")
    await _hold_in(conn, community_id, hold_id)
    return TransferCreated(transfer_id=await services.post_hold(conn, hold_id, actor_id=actor.user_id))


@post(
    "/api/v1/communities/{community_id:int}/holds/{hold_id:int}/void",
    tags=["community admin"],
    status_code=200,
)
async def api_void_hold(
    community_id: int, hold_id: int, data: JSONBody[ReasonIn], actor: Actor, conn: Connection
) -> HoldVoided:
    actor.require(community_id, "admin", "staff")
    await _hold_in(conn, community_id, hold_id)
    await services.void_hold(conn, hold_id, actor_id=actor.user_id, reason=_reason(data.reason))
    return HoldVoided(hold_id=hold_id, status="voided")


async def _reverse(
    conn: Connection,
    actor: Actor,
    community_id: int,
    transfer_id: int,
    reason: str,
    key: str,
    address: str,
) -> tuple[int, bool]:
    actor.require(community_id, "admin")
    reason = _reason(reason)
    found = await _TRANSFER_COMMUNITY.fetchval(conn, {"t": transfer_id})
    if found != community_id:
        raise NotFound()
    existing = await _TRANSFER_BY_KEY.fetchval(conn, {"k": key})
    reversal_id = await services.reverse(
        conn, transfer_id, actor_id=actor.user_id, reason=reason, idempotency_key=key
    )
    created = existing is None
    if created:
        await _audit_transfer(
            conn,
            "reverse",
            actor,
            community_id,
            transfer_id,
            address,
            reversal_id=reversal_id,
            reason=reason,
        )
    return reversal_id, created


@post(
    "/api/v1/communities/{community_id:int}/transfers/{transfer_id:int}/reverse",
    tags=["community admin"],
    status_code=201,
)
async def api_reverse(
    community_id: int,
    transfer_id: int,
    data: JSONBody[ReasonIn],
    actor: Actor,
    conn: Connection,
    request: Request,
) -> Response[TransferCreated]:
    key = _api_key(community_id, "reverse", data.idempotency_key or f"transfer:{transfer_id}")
    reversal_id, created = await _reverse(
        conn, actor, community_id, transfer_id, data.reason, key, client_address(request)
    )
    return _created(TransferCreated(transfer_id=reversal_id), created)


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
    cid = _community_of(actor, community_id)
    conn = await connection_of(db_session)
    w = await services.wallet(conn, cid, actor.user_id)
    schedule = await expiry.expiry_schedule(conn, cid, actor.user_id)
    soon = clock.now() + timedelta(days=31)
    months = await expiry.expiry_months(conn, cid)
    return render(
        request,
        "ledger/wallet.html",
        community_id=cid,
        community_name=await _community_name(db_session, cid),
        time_zone=await time_zone_of(db_session, cid),
        wallet=w,
        schedule=schedule,
        expiring_soon=[e for e in schedule if e.on <= soon],
        months=months,
    )


@get("/wallet/statement", include_in_schema=False)
async def statement_page(
    request: Request,
    actor: Actor,
    db_session: AsyncSession,
    community_id: int | None = None,
    cursor: str | None = None,
) -> Template:
    cid = _community_of(actor, community_id)
    conn = await connection_of(db_session)
    try:
        lines, next_before = await services.statement(conn, cid, actor.user_id, limit=20, before=cursor)
    except Invalid:
        # A mangled link: the first page.
        lines, next_before = await services.statement(conn, cid, actor.user_id, limit=20)
    return render(
        request,
        "ledger/statement.html",
        community_id=cid,
        community_name=await _community_name(db_session, cid),
        lines=lines,
        time_zone=await time_zone_of(db_session, cid),
        next_cursor=next_before,
        kind_labels=KIND_LABELS,
    )


# ---------------------------------------------------------------- pages: admin


_TRANSFER_LINES = (
    "SELECT t.id, t.amount, t.kind, t.memo, t.reason, t.created_at, t.reverses_id, u.display_name, "
    "(SELECT r.id FROM ledger_transfers r WHERE r.reverses_id = t.id) AS reversed_by, "
    "(da.user_id IS NOT NULL) AS from_wallet "
    "FROM ledger_transfers t "
    "JOIN ledger_accounts da ON da.id = t.debit_account_id "
    "JOIN ledger_accounts ca ON ca.id = t.credit_account_id "
    "LEFT JOIN users u ON u.id = COALESCE(ca.user_id, da.user_id) "
    "WHERE t.community_id = :c "
)


async def _admin_context(db_session: AsyncSession, community_id: int) -> dict[str, Any]:
    recent = (
        await db_session.execute(
            text(_TRANSFER_LINES + "ORDER BY t.created_at DESC, t.id DESC LIMIT 30"),
            {"c": community_id},
        )
    ).all()
    members = (
        await db_session.execute(
            text(
                "SELECT u.id, u.display_name, u.phone, COALESCE(a.balance, 0) AS balance "
                "FROM memberships m JOIN users u ON u.id = m.user_id "
                "LEFT JOIN ledger_accounts a ON a.community_id = m.community_id AND a.user_id = m.user_id "
                "WHERE m.community_id = :c ORDER BY u.display_name, u.id LIMIT 500"
            ),
            {"c": community_id},
        )
    ).all()
    return {
        "community_id": community_id,
        "community_name": await _community_name(db_session, community_id),
        "time_zone": await time_zone_of(db_session, community_id),
        "recent": recent,
        "members": members,
        "months": await expiry.expiry_months(await connection_of(db_session), community_id),
        "kind_labels": KIND_LABELS,
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
    context = await _admin_context(db_session, community_id)
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
    done_id: int | None = None
    reverse_form = False
    conn = await connection_of(db_session)
    try:
        if action in ("award", "deduct"):
            user_id = optional_int(form.get("user_id"))
            points = optional_int(form.get("points"))
            if user_id is None or points is None:
                raise Invalid(lazy("Choose a person and a whole number of points."))
            services.check_points(points)
            reason = _reason(form.get("reason", ""))
            await _require_member(conn, community_id, user_id)
            key = f"page:{community_id}:{action}:{form.get('nonce', '')}"
            if not form.get("nonce"):
                raise Invalid()
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
                await _audit_transfer(
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
            done_id, _created_now = await _reverse(
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
            **await _admin_context(db_session, community_id),
        )
    done = f"/admin/c/{community_id}/ledger?done={action}"
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
    api_wallet,
    api_transfers,
    api_award,
    api_deduct,
    api_hold,
    api_post_hold,
    api_void_hold,
    api_reverse,
    wallet_page,
    statement_page,
    admin_ledger,
    admin_ledger_submit,
    admin_reverse_confirm,
    admin_verify,
]
