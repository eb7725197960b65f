"""Reading micro-wishes: the community's list, one wish, and the public pool, with names masked
for whoever may not see them and the steps each reader could take now (API.md "Micro-wishes")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import organisations, paging
from app.core.authz import CARE_ROLES, STAFF_ROLES, Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.uow import Connection, Sql
from app.wishes import rules
from app.wishes.access import FROM, WISH_COLUMNS, load, units_acting_in


@dataclass(frozen=True)
class Claimant:
    kind: str  # "organisation" | "user"
    id: int
    name: str


@dataclass
class WishView:
    id: int
    community_id: int
    title: str
    status: str
    description: str
    kind: str  # item | service
    # API.md: the beneficiary's name only for the community's staff and admins; in full for them
    # and for the wish's own side (its beneficiary, its poster), masked (杨**) for everyone else,
    # whoever claimed it too: they read the compound, and the community arranges the hand-over.
    beneficiary_name: str
    name_masked: bool
    beneficiary_is_me: bool
    compound: str  # the beneficiary's compound, for everyone who sees the wish
    on_behalf: bool
    funding_goal_cents: int | None
    funded_cents: int
    created_at: datetime
    claimed_by: Claimant | None = None
    claimed_by_me: bool = False
    review_note: str = ""
    thanks_note: str = ""
    thanks_photo: str = ""
    delivered_at: datetime | None = None
    may: set[str] = field(default_factory=set)


# Which wishes a reader sees (the one place of this rule): those in the pool (published, taken up,
# come true) to anyone who reads the community's wishes; one not (or not yet) in it to its
# beneficiary, its poster, and the community's care roles (grid workers, staff, admins).
SEEN = (
    f"(CAST(:care AS boolean) OR w.status IN {rules.IN_POOL_SQL} "
    "OR w.beneficiary_id = :me OR w.posted_by = :me)"
)
_OF_COMMUNITY = f"w.community_id = :c AND (CAST(:status AS varchar) IS NULL OR w.status = :status) AND {SEEN}"
_LIST = Sql(
    f"SELECT {WISH_COLUMNS} {FROM} WHERE {_OF_COMMUNITY} "  # noqa: S608
    "ORDER BY w.created_at DESC, w.id DESC LIMIT :limit OFFSET :offset"
)
_COUNT = Sql(f"SELECT count(*) FROM wishes w WHERE {_OF_COMMUNITY}")  # noqa: S608
_SEEN_ONE = Sql(f"SELECT EXISTS (SELECT 1 FROM wishes w WHERE w.id = :id AND {SEEN})")  # noqa: S608
# The API's list: the newest this many (the wishes page shows them a page at a time).
API_LISTED = 500
_ORG_NAMES = Sql("SELECT id, name FROM organisations WHERE id = ANY(:ids)")


# ---------------------------------------------------------------- who is this reader to a wish


@dataclass(frozen=True)
class Reader:
    """What the actor is to one community's wishes."""

    actor: Actor
    community_id: int
    organisation_ids: frozenset[int]  # organisations the actor acts for that may act here

    @property
    def staff(self) -> bool:
        return bool(self.actor.roles_in(self.community_id) & STAFF_ROLES)

    @property
    def care(self) -> bool:
        return bool(self.actor.roles_in(self.community_id) & CARE_ROLES)

    @property
    def member(self) -> bool:
        return self.actor.is_member(self.community_id)

    # every organisation the actor is a member of, acting here or not
    member_of: frozenset[int] = frozenset()
    # a volunteer here, or an in-service member (双报到) confirmed here: may claim as a person
    serves: bool = False

    def claimed_it(self, row: Any) -> bool:
        if row["claimed_by"] is None:
            return False
        org = row["claimed_organisation_id"]
        if org is not None:
            return org in self.member_of
        return bool(row["claimed_by"] == self.actor.user_id)


async def reader_for(session: AsyncSession, actor: Actor, community_id: int) -> Reader:
    """The reader; refused (403) unless a member of the community or of a partner unit that may
    act there."""
    mine = await organisations.of_user(session, actor.user_id)
    acting = frozenset(o.id for o in await units_acting_in(session, actor.user_id, community_id))
    serves = actor.has(community_id, "volunteer") or (
        actor.is_member(community_id) and await organisations.serves_in(session, actor.user_id, community_id)
    )
    reader = Reader(actor, community_id, acting, frozenset(o.id for o in mine), serves)
    if not reader.member and not acting:
        raise Forbidden()
    return reader


async def may_read(session: AsyncSession, actor: Actor, community_id: int) -> bool:
    """Whether the person may open the community's wishes' own pages (reader_for refuses no one
    else): the public pool links them only for such a reader, or for a visitor who may log in."""
    try:
        await reader_for(session, actor, community_id)
    except Forbidden:
        return False
    return True


def _seen_by(reader: Reader) -> dict[str, Any]:
    return {"care": reader.care, "me": reader.actor.user_id}


def _view(reader: Reader, row: Any, org_names: dict[int, str]) -> WishView:
    me = reader.actor.user_id
    claimed_by_me = reader.claimed_it(row)
    full_name = reader.staff or me in (row["beneficiary_id"], row["posted_by"])
    claimant = None
    if row["claimed_by"] is not None:
        org = row["claimed_organisation_id"]
        if org is not None:
            claimant = Claimant("organisation", int(org), org_names.get(int(org), ""))
        else:
            name = row["claimant_name"] or ""
            shown = name if (reader.staff or row["claimed_by"] == me) else rules.mask_name(name)
            claimant = Claimant("user", int(row["claimed_by"]), shown)
    view = WishView(
        id=int(row["id"]),
        community_id=int(row["community_id"]),
        title=row["title"],
        status=row["status"],
        description=row["description"],
        kind=row["kind"],
        beneficiary_name=row["beneficiary_name"] if full_name else rules.mask_name(row["beneficiary_name"]),
        name_masked=not full_name,
        beneficiary_is_me=row["beneficiary_id"] == me,
        compound=row["compound"],
        on_behalf=row["posted_by"] is not None and row["posted_by"] != row["beneficiary_id"],
        funding_goal_cents=row["funding_goal_cents"],
        funded_cents=int(row["funded_cents"]),
        created_at=row["created_at"],
        claimed_by=claimant,
        claimed_by_me=claimed_by_me,
        review_note=row["review_note"] if (reader.care or row["beneficiary_id"] == me) else "",
        thanks_note=row["thanks_note"],
        thanks_photo=row["thanks_photo"],
        delivered_at=row["delivered_at"],
    )
    view.may = _steps(reader, row, claimed_by_me)
    return view


def _steps(reader: Reader, row: Any, claimed_by_me: bool) -> set[str]:
    """The steps this reader could take now (for the pages' buttons; the services decide)."""
    status, steps = row["status"], set()
    admin = reader.actor.has(reader.community_id, "admin")
    is_beneficiary = row["beneficiary_id"] == reader.actor.user_id
    if status == "submitted" and admin:
        steps.add("review")
    if status == "published" and not is_beneficiary:
        if reader.organisation_ids or reader.serves:
            steps.add("claim")
    if status == "claimed" and (claimed_by_me or admin):
        steps.add("release")
    if status == "claimed" and claimed_by_me:
        steps.add("code")
    if status == "delivered" and not row["thanked_at"] and (is_beneficiary or reader.care):
        steps.add("thank")
    return steps


async def _org_names(db: AsyncSession | Connection, rows: list[Any]) -> dict[int, str]:
    ids = sorted({int(r["claimed_organisation_id"]) for r in rows if r["claimed_organisation_id"]})
    if not ids:
        return {}
    return {int(r["id"]): r["name"] for r in await _ORG_NAMES.fetch(db, {"ids": ids})}


async def list_wishes(
    session: AsyncSession, actor: Actor, community_id: int, status: str | None = None, page: int = 1
) -> tuple[list[WishView], bool]:
    """The community's wishes the actor sees (of one status or all), newest first, API_LISTED a
    page; and whether a next page holds more."""
    reader = await _list_reader(session, actor, community_id, status)
    views = await _listed(session, reader, status, API_LISTED + 1, (page - 1) * API_LISTED)
    return views[:API_LISTED], len(views) > API_LISTED


@dataclass
class WishesPage:
    wishes: list[WishView]
    total: int  # of the wishes the reader sees, on every page
    page: int
    pages: int


async def wishes_page(
    session: AsyncSession, actor: Actor, community_id: int, status: str | None, page: int, per_page: int
) -> WishesPage:
    """A page of the community's wishes the actor sees, newest first, with how many there are: a
    page past the last shows the last."""
    reader = await _list_reader(session, actor, community_id, status)
    total = int(
        await _COUNT.fetchval(session, {"c": community_id, "status": status, **_seen_by(reader)}) or 0
    )
    at = paging.window(total, page, per_page)
    return WishesPage(await _listed(session, reader, status, per_page, at.offset), total, at.number, at.pages)


async def _list_reader(session: AsyncSession, actor: Actor, community_id: int, status: str | None) -> Reader:
    if status is not None and status not in rules.STATUSES:
        raise Invalid(field="status")
    return await reader_for(session, actor, community_id)


async def _listed(
    session: AsyncSession, reader: Reader, status: str | None, limit: int, offset: int
) -> list[WishView]:
    params = {
        "c": reader.community_id,
        "status": status,
        "limit": limit,
        "offset": offset,
        **_seen_by(reader),
    }
    rows = await _LIST.fetch(session, params)
    names = await _org_names(session, rows)
    return [_view(reader, r, names) for r in rows]


async def get_wish(session: AsyncSession, actor: Actor, wish_id: int) -> WishView:
    row = await load(session, wish_id)
    try:
        reader = await reader_for(session, actor, int(row["community_id"]))
    except Forbidden:
        raise NotFound() from None
    if not await _SEEN_ONE.fetchval(session, {"id": wish_id, **_seen_by(reader)}):
        raise NotFound()
    return _view(reader, row, await _org_names(session, [row]))


@dataclass(frozen=True)
class PoolWish:
    """A wish as the public pool shows it: no name, no phone, nothing of the person."""

    id: int
    title: str
    description: str
    status: str
    kind: str
    # A funding goal and what its contributions add up to (app.payments), for the progress bar.
    funding_goal_cents: int | None = None
    funded_cents: int = 0


_IN_POOL = f"FROM wishes WHERE community_id = :c AND status IN {rules.IN_POOL_SQL} "  # noqa: S608
_POOL = Sql(
    "SELECT id, title, description, status, kind, funding_goal_cents, funding_total('wish', id) AS funded "
    f"{_IN_POOL}ORDER BY (status = 'published') DESC, created_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
_POOL_COUNT = Sql(f"SELECT count(*) {_IN_POOL}")  # noqa: S608


@dataclass
class PoolPage:
    wishes: list[PoolWish]
    total: int
    page: int
    pages: int


async def public_pool(
    session: AsyncSession, community_id: int, page: int = 1, per_page: int = 20
) -> PoolPage:
    """A page of the community's 邻+圆梦池 for anyone, with how many there are: the wishes in the
    pool first, then those already taken up or delivered, newest first, without any personal
    data. A page past the last shows the last."""
    total = int(await _POOL_COUNT.fetchval(session, {"c": community_id}) or 0)
    at = paging.window(total, page, per_page)
    rows = await _POOL.fetch(session, {"c": community_id, "limit": per_page, "offset": at.offset})
    wishes = [
        PoolWish(
            int(r["id"]),
            r["title"],
            r["description"],
            r["status"],
            r["kind"],
            r["funding_goal_cents"],
            int(r["funded"]),
        )
        for r in rows
    ]
    return PoolPage(wishes, total, at.number, at.pages)
