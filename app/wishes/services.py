"""Micro-wishes' use cases (API.md "Micro-wishes"): post, review, claim, release, show the
delivery code, deliver (through the scan entry), thank, release stale claims, and read lists
with names masked for whoever may not see them.

Every step that moves a wish is one conditional UPDATE on the wish's row (`WHERE status = ...`),
so simultaneous requests serialise on that row: of twenty claims exactly one finds the wish
`published`; of two delivery scans exactly one finds it `claimed` and pays the points. Services
flush nothing themselves and never commit: the request's or the job's unit of work does.

Organisations are asked about through app.core.organisations, which the assembly fills with the
organisations domain's answers (the domains never import each other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock, organisations
from app.core.authz import CARE_ROLES, STAFF_ROLES, Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger import services as ledger
from app.ledger import words
from app.wishes import codes, rules

DEFAULT_POINTS = 20
DEFAULT_STALE_DAYS = 14

NOT_BENEFICIARY_CLAIM = lazy("You cannot claim your own wish.")
NOT_CLAIMANT = lazy("Only whoever claimed this wish may do this.")
NAME_ORGANISATION = lazy("Choose an organisation you act for, or claim as a volunteer.")
NOT_PUBLISHED = lazy("This wish is not open for claims.")


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
    beneficiary_name: str  # masked unless the reader may see it
    beneficiary_is_me: bool
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


_WISH_COLUMNS = (
    "w.id, w.community_id, w.title, w.description, w.status, w.beneficiary_id, w.posted_by, "
    "w.consent_note, w.review_note, w.claimed_by, w.claimed_organisation_id, w.claimed_at, "
    "w.delivered_at, w.thanks_note, w.thanks_photo, w.thanked_at, w.funding_goal_cents, "
    "w.funded_cents, w.created_at, b.display_name AS beneficiary_name, "
    "c.display_name AS claimant_name"
)
_FROM = "FROM wishes w JOIN users b ON b.id = w.beneficiary_id LEFT JOIN users c ON c.id = w.claimed_by "
_ONE = Sql(f"SELECT {_WISH_COLUMNS} {_FROM} WHERE w.id = :id")  # noqa: S608
_LIST = Sql(
    f"SELECT {_WISH_COLUMNS} {_FROM} WHERE w.community_id = :c "  # noqa: S608
    "AND (CAST(:status AS varchar) IS NULL OR w.status = :status) "
    "ORDER BY w.created_at DESC, w.id DESC LIMIT 500"
)
_ORG_NAMES = Sql("SELECT id, name FROM organisations WHERE id = ANY(:ids)")
_IS_MEMBER = Sql("SELECT roles FROM memberships WHERE community_id = :c AND user_id = :u")
_SETTINGS = Sql(
    "SELECT COALESCE((SELECT points FROM wish_settings WHERE community_id = :c), :points) AS points, "
    "COALESCE((SELECT stale_days FROM wish_settings WHERE community_id = :c), :days) AS stale_days"
)


def _kinds(roles: Any) -> frozenset[str]:
    return frozenset(roles or ())


async def _load(db: AsyncSession | Connection, wish_id: int) -> Any:
    row = await _ONE.fetchrow(db, {"id": wish_id})
    if row is None:
        raise NotFound()
    return row


async def _guard(session: AsyncSession, actor: Actor, row: Any) -> None:
    """Whoever may not see a wish is told nothing of it (404): the community's members see its
    wishes (and are refused a step they may not take with 403); a member of an organisation that
    may act in the community sees the wishes in the pool; nobody else sees any."""
    community_id = int(row["community_id"])
    if actor.is_member(community_id):
        return
    if row["status"] in ("published", "claimed", "delivered"):
        for org in await organisations.of_user(session, actor.user_id):
            if await organisations.may_act_in(session, org.id, community_id):
                return
    raise NotFound()


async def settings_of(db: AsyncSession | Connection, community_id: int) -> tuple[int, int]:
    row = await _SETTINGS.one(db, {"c": community_id, "points": DEFAULT_POINTS, "days": DEFAULT_STALE_DAYS})
    return int(row["points"]), int(row["stale_days"])


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

    def claimed_it(self, row: Any) -> bool:
        if row["claimed_by"] is None:
            return False
        org = row["claimed_organisation_id"]
        if org is not None:
            return org in self.member_of
        return bool(row["claimed_by"] == self.actor.user_id)


async def reader_for(session: AsyncSession, actor: Actor, community_id: int) -> Reader:
    """The reader; refused (403) unless a member of the community or of an organisation that
    may act there."""
    mine = await organisations.of_user(session, actor.user_id)
    acting = frozenset([o.id for o in mine if await organisations.may_act_in(session, o.id, community_id)])
    reader = Reader(actor, community_id, acting, frozenset(o.id for o in mine))
    if not reader.member and not acting:
        raise Forbidden()
    return reader


def _visible(reader: Reader, row: Any) -> bool:
    if row["status"] in ("published", "claimed", "delivered"):
        return True
    # A wish not (or not yet) in the pool: its beneficiary, its poster, and the community's
    # care roles (grid workers, staff, admins) see it.
    return reader.care or reader.actor.user_id in (row["beneficiary_id"], row["posted_by"])


def _view(reader: Reader, row: Any, org_names: dict[int, str]) -> WishView:
    me = reader.actor.user_id
    claimed_by_me = reader.claimed_it(row)
    full_name = reader.staff or claimed_by_me or me in (row["beneficiary_id"], row["posted_by"])
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
        beneficiary_name=row["beneficiary_name"] if full_name else rules.mask_name(row["beneficiary_name"]),
        beneficiary_is_me=row["beneficiary_id"] == me,
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
        if reader.organisation_ids or reader.actor.has(reader.community_id, "volunteer"):
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
    session: AsyncSession, actor: Actor, community_id: int, status: str | None = None
) -> list[WishView]:
    if status is not None and status not in rules.STATUSES:
        raise Invalid(field="status")
    reader = await reader_for(session, actor, community_id)
    rows = [
        r for r in await _LIST.fetch(session, {"c": community_id, "status": status}) if _visible(reader, r)
    ]
    names = await _org_names(session, rows)
    return [_view(reader, r, names) for r in rows]


async def get_wish(session: AsyncSession, actor: Actor, wish_id: int) -> WishView:
    row = await _load(session, wish_id)
    try:
        reader = await reader_for(session, actor, int(row["community_id"]))
    except Forbidden:
        raise NotFound() from None
    if not _visible(reader, row):
        raise NotFound()
    return _view(reader, row, await _org_names(session, [row]))


@dataclass(frozen=True)
class PoolWish:
    """A wish as the public pool shows it: no name, no phone, nothing of the person."""

    title: str
    description: str
    status: str


_POOL = Sql(
    "SELECT title, description, status FROM wishes WHERE community_id = :c "
    "AND status IN ('published', 'claimed', 'delivered') "
    "ORDER BY (status = 'published') DESC, created_at DESC, id DESC LIMIT 200"
)


async def public_pool(session: AsyncSession, community_id: int) -> list[PoolWish]:
    """The community's 邻+圆梦池 for anyone: the wishes in the pool, and those already taken up
    or delivered, without any personal data."""
    return [
        PoolWish(r["title"], r["description"], r["status"])
        for r in await _POOL.fetch(session, {"c": community_id})
    ]


# ---------------------------------------------------------------- posting and review

_POST = Sql(
    "INSERT INTO wishes (community_id, title, description, beneficiary_id, posted_by, consent_note, "
    "funding_goal_cents) VALUES (:c, :title, :description, :beneficiary, :poster, :consent, :goal) "
    "RETURNING id"
)


async def post_wish(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    title: str,
    description: str = "",
    for_user_id: int | None = None,
    consent_note: str = "",
    funding_goal_cents: int | None = None,
    address: str | None = None,
) -> int:
    """A resident posts for themself; a grid worker, staff or admin may post for one of the
    community's residents (recorded as posted on their behalf, with the consent note)."""
    if not actor.is_member(community_id):
        raise Forbidden()
    title, description, consent_note = title.strip(), description.strip(), consent_note.strip()
    if not title or len(title) > 100:
        raise Invalid(lazy("Give the wish a title of at most 100 characters."), field="title")
    if len(description) > 2000:
        raise Invalid(lazy("The description may have at most 2000 characters."), field="description")
    if len(consent_note) > 500:
        raise Invalid(field="consent_note")
    beneficiary = actor.user_id if for_user_id is None else for_user_id
    if beneficiary != actor.user_id:
        actor.require(community_id, *CARE_ROLES)
        if await _IS_MEMBER.fetchrow(session, {"c": community_id, "u": beneficiary}) is None:
            raise NotFound(lazy("This person is not a member of this community."))
    wish_id = int(
        await _POST.fetchval(
            session,
            {
                "c": community_id,
                "title": title,
                "description": description,
                "beneficiary": beneficiary,
                "poster": actor.user_id,
                "consent": consent_note,
                "goal": funding_goal_cents,
            },
        )
    )
    await audit.record(
        session,
        action="wish.post",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
        on_behalf_of=beneficiary if beneficiary != actor.user_id else None,
    )
    return wish_id


_REVIEW = Sql(
    "UPDATE wishes SET status = :to, review_note = :note, reviewed_by = :actor "
    "WHERE id = :id AND status = 'submitted' RETURNING id"
)


def _refuse(step: str, status: str) -> DomainError:
    code = rules.refusal(step, status) or "conflict"
    return DomainError(code, 409)


async def review(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    decision: str,
    note: str = "",
    address: str | None = None,
) -> str:
    row = await _load(session, wish_id)
    await _guard(session, actor, row)
    community_id = int(row["community_id"])
    actor.require(community_id, "admin")
    if decision not in ("publish", "reject"):
        raise Invalid(field="decision")
    if len(note) > 500:
        raise Invalid(field="note")
    to = "published" if decision == "publish" else "rejected"
    if (
        await _REVIEW.fetchval(
            session, {"to": to, "note": note.strip(), "actor": actor.user_id, "id": wish_id}
        )
        is None
    ):
        raise _refuse("review", (await _load(session, wish_id))["status"])
    await audit.record(
        session,
        action=f"wish.{decision}",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
    )
    return to


# ---------------------------------------------------------------- claim and release

_CLAIM = Sql(
    "UPDATE wishes SET status = 'claimed', claimed_by = :u, claimed_organisation_id = :org, "
    "claimed_at = :now WHERE id = :id AND status = 'published' RETURNING id"
)


async def claim(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    organisation_id: int | None = None,
    address: str | None = None,
) -> str:
    """By a member of an organisation that may act in the wish's community (naming it), or by a
    volunteer of that community (naming none); never by the beneficiary."""
    row = await _load(session, wish_id)
    await _guard(session, actor, row)
    community_id = int(row["community_id"])
    if organisation_id is not None:
        if not await organisations.is_member(session, organisation_id, actor.user_id):
            raise Forbidden()
        if not await organisations.may_act_in(session, organisation_id, community_id):
            raise Forbidden()
    elif not actor.has(community_id, "volunteer"):
        raise Forbidden(NAME_ORGANISATION)
    if row["beneficiary_id"] == actor.user_id:
        raise Forbidden(NOT_BENEFICIARY_CLAIM)
    done = await _CLAIM.fetchval(
        session, {"u": actor.user_id, "org": organisation_id, "now": clock.now(), "id": wish_id}
    )
    if done is None:
        raise _refuse("claim", (await _load(session, wish_id))["status"])
    await audit.record(
        session,
        action="wish.claim",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
        organisation_id=organisation_id,
    )
    return "claimed"


async def _is_claimant(session: AsyncSession, actor: Actor, row: Any) -> bool:
    if row["claimed_by"] is None:
        return False
    org = row["claimed_organisation_id"]
    if org is not None:
        return await organisations.is_member(session, int(org), actor.user_id)
    return bool(row["claimed_by"] == actor.user_id)


_RELEASE = Sql(
    "UPDATE wishes SET status = 'published', claimed_by = NULL, claimed_organisation_id = NULL, "
    "claimed_at = NULL WHERE id = :id AND status = 'claimed' AND claimed_at = :claimed_at RETURNING id"
)


async def release(session: AsyncSession, actor: Actor, wish_id: int, address: str | None = None) -> str:
    row = await _load(session, wish_id)
    await _guard(session, actor, row)
    community_id = int(row["community_id"])
    if not (await _is_claimant(session, actor, row) or actor.has(community_id, "admin")):
        raise Forbidden(NOT_CLAIMANT)
    if row["status"] != "claimed":
        raise _refuse("release", row["status"])
    if await _RELEASE.fetchval(session, {"id": wish_id, "claimed_at": row["claimed_at"]}) is None:
        raise _refuse("release", (await _load(session, wish_id))["status"])
    await audit.record(
        session,
        action="wish.release",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
    )
    return "published"


async def delivery_code(
    session: AsyncSession, actor: Actor, wish_id: int, secret_key: str
) -> tuple[str, datetime]:
    """The rotating code the claimant shows; only the claimant (the claiming user, or any member
    of the claiming organisation) gets it."""
    row = await _load(session, wish_id)
    if not await _is_claimant(session, actor, row):
        await _guard(session, actor, row)
        raise Forbidden(NOT_CLAIMANT)
    if row["status"] != "claimed":
        raise _refuse("deliver", row["status"])
    return codes.delivery_code(secret_key, int(row["community_id"]), wish_id, row["claimed_at"], clock.now())


# ---------------------------------------------------------------- delivery (a scan)


@words.renders("wish")
def _wish_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    return gettext(lazy("Micro-wish delivered: %(title)s"), title=reason["title"])


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


# ---------------------------------------------------------------- thanks

_THANK = Sql(
    "UPDATE wishes SET thanks_note = :note, thanks_photo = :photo, thanked_at = :now "
    "WHERE id = :id AND status = 'delivered' AND thanked_at IS NULL RETURNING id"
)


async def thank(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    note: str,
    photo: str = "",
    address: str | None = None,
) -> None:
    """The beneficiary, or the community's grid workers and staff for them, thank once."""
    row = await _load(session, wish_id)
    await _guard(session, actor, row)
    community_id = int(row["community_id"])
    if not (row["beneficiary_id"] == actor.user_id or actor.has(community_id, *CARE_ROLES)):
        raise Forbidden()
    note = note.strip()
    if not note or len(note) > 1000:
        raise Invalid(lazy("Write a thank-you note of at most 1000 characters."), field="note")
    if row["status"] != "delivered":
        raise _refuse("thank", row["status"])
    if row["thanked_at"] is not None:
        raise DomainError("already_done", 409)
    if (
        await _THANK.fetchval(session, {"note": note, "photo": photo, "now": clock.now(), "id": wish_id})
        is None
    ):
        raise DomainError("already_done", 409)
    await audit.record(
        session,
        action="wish.thank",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
    )


# ---------------------------------------------------------------- settings, stale claims, counts

_SET = Sql(
    "INSERT INTO wish_settings (community_id, points, stale_days) VALUES (:c, :points, :days) "
    "ON CONFLICT (community_id) DO UPDATE SET points = EXCLUDED.points, stale_days = EXCLUDED.stale_days"
)


async def set_settings(
    session: AsyncSession, actor: Actor, community_id: int, points: int, stale_days: int
) -> None:
    actor.require(community_id, "admin")
    if not 0 <= points <= 10_000:
        raise Invalid(field="points")
    if not 1 <= stale_days <= 365:
        raise Invalid(field="stale_days")
    await _SET.execute(session, {"c": community_id, "points": points, "days": stale_days})
    await audit.record(
        session,
        action="wish.settings",
        actor_id=actor.user_id,
        community_id=community_id,
        points=points,
        stale_days=stale_days,
    )


# Claims older than the community's number of days go back to the pool, a bounded batch a tick.
_STALE = Sql(
    "WITH stale AS (SELECT w.id FROM wishes w "
    "LEFT JOIN wish_settings s ON s.community_id = w.community_id "
    "WHERE w.status = 'claimed' AND w.claimed_at < CAST(:now AS timestamptz) "
    "- make_interval(days => COALESCE(s.stale_days, CAST(:days AS integer))) "
    "ORDER BY w.claimed_at LIMIT 500 FOR UPDATE OF w SKIP LOCKED) "
    "UPDATE wishes w SET status = 'published', claimed_by = NULL, claimed_organisation_id = NULL, "
    "claimed_at = NULL FROM stale WHERE w.id = stale.id "
    "RETURNING w.id, w.community_id, w.beneficiary_id"
)


async def release_stale_claims(session: AsyncSession, now: datetime | None = None) -> list[int]:
    rows = await _STALE.fetch(session, {"now": now or clock.now(), "days": DEFAULT_STALE_DAYS})
    for row in rows:
        await audit.record(
            session,
            action="wish.release_stale",
            actor_id=None,
            community_id=int(row["community_id"]),
            target=f"wish:{row['id']}",
        )
    return [int(r["id"]) for r in rows]


_DELIVERED = Sql(
    "SELECT count(*) FROM wishes WHERE community_id = :c AND status = 'delivered' "
    "AND delivered_at >= :start AND delivered_at < :end "
    "AND (claimed_organisation_id = :org OR (claimed_organisation_id IS NULL AND claimed_by = ANY(:users)))"
)


async def count_delivered(
    session: AsyncSession,
    *,
    organisation_id: int,
    community_id: int,
    start: datetime,
    end: datetime,
    user_ids: tuple[int, ...],
    **_: Any,
) -> int:
    """Wishes delivered in the community within [start, end) by the organisation, or by people
    whose work counts for it (its members and in-service registrants claiming as themselves)."""
    return int(
        await _DELIVERED.fetchval(
            session,
            {
                "c": community_id,
                "start": start,
                "end": end,
                "org": organisation_id,
                "users": list(user_ids),
            },
        )
    )
