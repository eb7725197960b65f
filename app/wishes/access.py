"""What every micro-wish use case starts from: load the wish's row, hide it from whoever may not
see it, tell whether the actor claimed it, the community's wish settings, and the refusal of a step
the wish's status does not allow.

Organisations are asked about through app.core.organisations, which the assembly fills with the
partners' answers (the domains never import each other)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import organisations
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.wishes import rules

DEFAULT_POINTS = 20
DEFAULT_STALE_DAYS = 14

NOT_BENEFICIARY_CLAIM = lazy("You cannot claim your own wish.")
NOT_CLAIMANT = lazy("Only whoever claimed this wish may do this.")
NAME_ORGANISATION = lazy("Choose an organisation you act for, or claim as a volunteer.")

WISH_COLUMNS = (
    "w.id, w.community_id, w.title, w.kind, w.description, w.status, w.beneficiary_id, w.posted_by, "
    "w.consent_note, w.review_note, w.claimed_by, w.claimed_organisation_id, w.claimed_at, "
    "w.delivered_at, w.thanks_note, w.thanks_photo, w.thanked_at, w.funding_goal_cents, "
    "funding_total('wish', w.id) AS funded_cents, w.created_at, b.display_name AS beneficiary_name, "
    "c.display_name AS claimant_name, COALESCE(cp.name, '') AS compound"
)
# The beneficiary's compound (where the helper goes) is shown to whoever sees the wish; their
# membership here holds it (one per user and community).
FROM = (
    "FROM wishes w JOIN users b ON b.id = w.beneficiary_id LEFT JOIN users c ON c.id = w.claimed_by "
    "LEFT JOIN memberships bm ON bm.user_id = w.beneficiary_id AND bm.community_id = w.community_id "
    "LEFT JOIN compounds cp ON cp.id = bm.compound_id "
)
_ONE = Sql(f"SELECT {WISH_COLUMNS} {FROM} WHERE w.id = :id")  # noqa: S608
_SETTINGS = Sql(
    "SELECT COALESCE((SELECT points FROM wish_settings WHERE community_id = :c), :points) AS points, "
    "COALESCE((SELECT stale_days FROM wish_settings WHERE community_id = :c), :days) AS stale_days"
)


async def load(db: AsyncSession | Connection, wish_id: int) -> Any:
    row = await _ONE.fetchrow(db, {"id": wish_id})
    if row is None:
        raise NotFound()
    return row


async def units_acting_in(
    session: AsyncSession, user_id: int, community_id: int
) -> list[organisations.OrganisationRef]:
    """The partner units the user acts for that may act in the community now: those that claim
    its wishes as a unit. A provider of the service circle only is no such unit (API.md: a
    partner unit claims wishes), though it may act there."""
    return [
        org
        for org in await organisations.of_user(session, user_id)
        if "partner" in org.kinds and await organisations.may_act_in(session, org.id, community_id)
    ]


async def guard(session: AsyncSession, actor: Actor, row: Any) -> None:
    """Whoever may not see a wish is told nothing of it (404): the community's members see its
    wishes (and are refused a step they may not take with 403); a member of a partner unit that
    may act in the community sees the wishes in the pool; nobody else sees any."""
    community_id = int(row["community_id"])
    if actor.is_member(community_id):
        return
    if row["status"] in rules.IN_POOL:
        if await units_acting_in(session, actor.user_id, community_id):
            return
    raise NotFound()


async def is_claimant(session: AsyncSession, actor: Actor, row: Any) -> bool:
    if row["claimed_by"] is None:
        return False
    org = row["claimed_organisation_id"]
    if org is not None:
        return await organisations.is_member(session, int(org), actor.user_id)
    return bool(row["claimed_by"] == actor.user_id)


async def settings_of(db: AsyncSession | Connection, community_id: int) -> tuple[int, int]:
    """The community's wish points and its number of days before a claim goes stale."""
    row = await _SETTINGS.one(db, {"c": community_id, "points": DEFAULT_POINTS, "days": DEFAULT_STALE_DAYS})
    return int(row["points"]), int(row["stale_days"])


def refuse(step: str, status: str) -> DomainError:
    code = rules.refusal(step, status) or "conflict"
    return DomainError(code, 409)
