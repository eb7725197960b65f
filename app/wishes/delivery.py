"""Delivering a micro-wish: a delivery code the claimant shows, scanned by the beneficiary's side
through the one scan entry (app.wishes.scan_handlers). Two simultaneous scans find the wish
`claimed` once: exactly one delivers it and pays a volunteer's points, through the ledger with an
idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import audit, clock, organisations
from app.core.authz import CARE_ROLES, Actor
from app.core.errors import DomainError, Forbidden
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger import services as ledger
from app.wishes import codes, notifying
from app.wishes.access import settings_of

_DELIVER = Sql(
    "UPDATE wishes SET status = 'delivered', delivered_at = :now, delivered_scanned_by = :actor "
    "WHERE id = :id AND status = 'claimed' AND claimed_at = :claimed_at "
    "RETURNING claimed_by, claimed_organisation_id"
)
_PAID = Sql("UPDATE wishes SET points_paid = :points WHERE id = :id")
_FOR_SCAN = Sql(
    "SELECT id, community_id, title, status, beneficiary_id, claimed_by, claimed_organisation_id, "
    "claimed_at FROM wishes WHERE id = :id"
)


OWN_DELIVERY = lazy(
    "Whoever took up the wish cannot confirm its delivery: the person it is for, or their grid worker, does."
)


async def _delivered_it(conn: Connection, actor: Actor, row: Any) -> bool:
    """Whether the scanner is the claimant's side: the person who claimed it, or a member of the
    organisation that did. They do not confirm their own delivery (nor pay themselves its points)."""
    if row["claimed_by"] == actor.user_id:
        return True
    unit = row["claimed_organisation_id"]
    return unit is not None and int(unit) in await organisations.acts_for(conn, actor.user_id)


@dataclass(frozen=True)
class Delivered:
    wish_id: int
    community_id: int
    title: str
    points: int  # paid to a volunteer who claimed as a person; 0 otherwise


async def deliver(
    conn: Connection, actor: Actor, code: str, secret_key: str, address: str | None = None
) -> Delivered:
    """A delivery code scanned by the beneficiary, or by a grid worker, staff or admin of the
    wish's community. Anyone else is refused (403) and nothing changes. A replayed code finds
    the wish delivered (409 already_done); an old one is expired."""
    parsed = codes.parse(code)
    if parsed is None:
        raise DomainError("code_invalid", 422)
    row = await _FOR_SCAN.fetchrow(conn, {"id": parsed.wish_id})
    if row is None or row["claimed_at"] is None:
        raise DomainError("code_invalid", 422)
    community_id = int(row["community_id"])
    reason = codes.check(parsed, secret_key, community_id, row["claimed_at"], clock.now())
    if reason == "code_invalid":
        raise DomainError("code_invalid", 422)
    if not (row["beneficiary_id"] == actor.user_id or actor.has(community_id, *CARE_ROLES)):
        raise Forbidden(
            lazy("Only the person the wish is for, or their grid worker, can confirm its delivery.")
        )
    if row["beneficiary_id"] != actor.user_id and await _delivered_it(conn, actor, row):
        raise Forbidden(OWN_DELIVERY)
    if row["status"] == "delivered":
        raise DomainError("already_done", 409, lazy("This wish has already been delivered."))
    if reason is not None:
        raise DomainError(reason, 422)
    done = await _DELIVER.fetchrow(
        conn,
        {"now": clock.now(), "actor": actor.user_id, "id": parsed.wish_id, "claimed_at": row["claimed_at"]},
    )
    if done is None:
        raise DomainError("already_done", 409, lazy("This wish has already been delivered."))
    points = 0
    if done["claimed_organisation_id"] is None:
        points, _days = await settings_of(conn, community_id)
        if points > 0:
            await ledger.award(
                conn,
                community_id=community_id,
                user_id=int(done["claimed_by"]),
                points=points,
                kind="wish",
                reference=f"wish:{parsed.wish_id}",
                memo=row["title"],
                actor_id=actor.user_id,
                idempotency_key=f"wish-delivered:{parsed.wish_id}",
                reason={"title": row["title"]},
            )
            await _PAID.execute(conn, {"points": points, "id": parsed.wish_id})
    await notifying.delivered(conn, row, int(done["claimed_by"]), points)
    await audit.record(
        conn,
        action="wish.deliver",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{parsed.wish_id}",
        address=address,
        points=points,
    )
    return Delivered(parsed.wish_id, community_id, row["title"], points)
