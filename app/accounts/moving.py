"""A resident who moved away: an admin takes them off the community and, should they come back,
puts them back. Nothing is deleted: the membership stays, marked moved away (migration 0055),
with the person's ledger account and history; while it is marked the person holds no role there
(app.accounts.services._ACTOR reads only memberships not moved away), is not listed among the
residents by default and cannot sign up, order or buy a voucher there, nor be signed up or
scanned in or out of an event by staff (`refuse_moved_away`).

What the person still has open in the community (an order waiting for pickup, a voucher not
used) is settled first, through each domain's own cancel, whose points go back: the move is
refused while anything is open, and the confirmation lists it. Domains above accounts count
theirs through `open_matter`, so that this module names none of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, NotFound
from app.core.i18n import lazy
from app.places.services import community_for


@dataclass(frozen=True)
class OpenMatter:
    """What a domain still has open for a resident: how many, in words, and where an admin
    settles them."""

    count: int
    words: str  # lazy, with %(count)s
    href: str


OpenMatterHook = Callable[[AsyncSession, int, int], Awaitable["OpenMatter | None"]]
_OPEN_MATTERS: list[OpenMatterHook] = []


def open_matter(hook: OpenMatterHook) -> OpenMatterHook:
    """Registers `hook(session, community_id, user_id)`, which returns what the resident still
    has open in its domain (None, or a count of 0: nothing)."""
    _OPEN_MATTERS.append(hook)
    return hook


async def open_matters(session: AsyncSession, community_id: int, user_id: int) -> list[OpenMatter]:
    found = [await hook(session, community_id, user_id) for hook in _OPEN_MATTERS]
    return [matter for matter in found if matter is not None and matter.count > 0]


STILL_HERE: ColumnElement[bool] = Membership.moved_away_at.is_(None)
"""The memberships of those who have not moved away: whom staff may find to sign up or scan."""


def refuse_moved_away(name: str, moved_away_at: datetime | None) -> None:
    """Staff may not sign up, check in or check out a member who moved away: refused in words
    that name the person (API.md's `forbidden`)."""
    if moved_away_at is not None:
        raise Forbidden(
            lazy("%(name)s has moved away from this community and can no longer be signed up or checked in."),
            words={"name": name},
        )


TICK_TO_CONFIRM = lazy("Tick the box to confirm.")


class StillOpen(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "conflict",
            409,
            lazy(
                "This resident still has store orders or service vouchers open here. Cancel "
                "them first (listed on this page), then mark them as moved away."
            ),
        )


async def _locked(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int
) -> tuple[User, Membership]:
    """The membership, locked: two admins acting at once act one after the other, and the
    second sees what the first did."""
    await community_for(session, actor, community_id, "admin")
    membership = await session.scalar(
        select(Membership)
        .where(Membership.community_id == community_id, Membership.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if membership is None:
        raise NotFound()
    user = await session.get(User, user_id)
    assert user is not None
    return user, membership


async def move_away(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, address: str | None = None
) -> bool:
    """Marks the resident moved away (True), or finds them so already (False: nothing written,
    so a repeated or concurrent request is harmless). Refused for oneself and while anything is
    open. Points stay where they are: the ledger neither creates nor destroys any."""
    if user_id == actor.user_id:
        raise Forbidden(lazy("You cannot mark yourself as moved away."))
    _user, membership = await _locked(session, actor, community_id, user_id)
    if membership.moved_away_at is not None:
        return False
    if await open_matters(session, community_id, user_id):
        raise StillOpen()
    membership.moved_away_at = clock.now()
    membership.moved_away_by = actor.user_id
    await session.flush()
    await audit.record(
        session,
        action="resident.moved_away",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
        roles=list(membership.roles),
    )
    return True


async def move_back(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, address: str | None = None
) -> bool:
    """Clears the mark (True), or finds none (False, nothing written). The person's roles, place
    and points are as they were."""
    _user, membership = await _locked(session, actor, community_id, user_id)
    if membership.moved_away_at is None:
        return False
    membership.moved_away_at = None
    membership.moved_away_by = None
    await session.flush()
    await audit.record(
        session,
        action="resident.moved_back",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )
    return True
