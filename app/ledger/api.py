"""The ledger's JSON API (API.md: wallet, transfers, awards; plus admin deductions, holds and
reversals documented in docs/ledger.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from app.core import clock
from app.core.authz import Actor
from app.core.errors import Invalid, NotFound
from app.core.fields import PageLimit
from app.core.i18n import gettext_for, lazy
from app.core.uow import Connection, Sql, json_param
from app.core.web import SMALL_ANSWER, client_address
from app.ledger import admin, services
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

# ---------------------------------------------------------------- helpers


# The holds these routes post and void are the counter's own (made by `api_hold`): another
# domain's hold (a store order's, a voucher's) moves only with its order or voucher.
COUNTER_KIND = "counter"
_HOLD_COMMUNITY = Sql("SELECT community_id FROM ledger_holds WHERE id = :h AND kind = :kind")


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
    cid = admin.community_of(actor, community_id)
    w = await services.wallet(conn, cid, actor.user_id)
    return WalletOut(community_id=cid, balance=w.balance, held=w.held, available=w.available)


@get("/api/v1/me/transfers", tags=["me"])
async def api_transfers(
    request: Request,
    actor: Actor,
    conn: Connection,
    community_id: int | None = None,
    limit: PageLimit = 20,
    cursor: str | None = None,
) -> TransfersOut:
    cid = admin.community_of(actor, community_id)
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


@post(
    "/api/v1/communities/{community_id:int}/awards",
    tags=["community admin"],
    status_code=201,
    opt={SMALL_ANSWER: True},
)
async def api_award(
    community_id: int, data: JSONBody[AwardIn], actor: Actor, conn: Connection, request: Request
) -> Response[TransferCreated]:
    """One statement when the member has been awarded before (the kiosk-and-script case); the
    general path for a first award, a repeated key or a refusal."""
    actor.require(community_id, "admin")
    await _strict_points(request)
    reason = admin.reason_text(data.reason)
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
    async with conn.transaction():  # the transfer and its audit row
        await admin.require_member(conn, community_id, data.user_id)
        transfer_id, created = await services.award_ex(conn, **award)
        if created:
            await admin.audit_transfer(conn, "award", actor, community_id, transfer_id, address, **audit)
    return _created(TransferCreated(transfer_id=transfer_id), created)


@post("/api/v1/communities/{community_id:int}/deductions", tags=["community admin"], status_code=201)
async def api_deduct(
    community_id: int, data: JSONBody[AwardIn], actor: Actor, conn: Connection, request: Request
) -> Response[TransferCreated]:
    """Take points back from a member (a correction); 409 insufficient_points if not available."""
    actor.require(community_id, "admin")
    await _strict_points(request)
    reason = admin.reason_text(data.reason)
    key = _api_key(community_id, "deduct", data.idempotency_key)
    async with conn.transaction():  # the transfer and its audit row
        await admin.require_member(conn, community_id, data.user_id)
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
            await admin.audit_transfer(
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
    reason = admin.reason_text(data.reason)
    key = _api_key(community_id, "hold", data.idempotency_key)
    await admin.require_member(conn, community_id, data.user_id)
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
        kind=COUNTER_KIND,
        reference=f"user:{data.user_id}",
        memo=reason,
        actor_id=actor.user_id,
        idempotency_key=key,
        expires_at=expires,
    )
    return _created(HoldCreated(hold_id=hold_id), created)


async def _hold_in(conn: Connection, community_id: int, hold_id: int) -> None:
    found = await _HOLD_COMMUNITY.fetchval(conn, {"h": hold_id, "kind": COUNTER_KIND})
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
    await services.void_hold(conn, hold_id, actor_id=actor.user_id, reason=admin.reason_text(data.reason))
    return HoldVoided(hold_id=hold_id, status="voided")


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
    reversal_id, created = await admin.reverse(
        conn, actor, community_id, transfer_id, data.reason, key, client_address(request)
    )
    return _created(TransferCreated(transfer_id=reversal_id), created)


route_handlers = [
    api_wallet,
    api_transfers,
    api_award,
    api_deduct,
    api_hold,
    api_post_hold,
    api_void_hold,
    api_reverse,
]
