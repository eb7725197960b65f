"""Accounts: registration, login, sessions, residents, roles and member cards."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import any_, delete, exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import actor_cache, attempts, cards
from app.accounts.actor_cache import TOUCH_EVERY, ActorCache
from app.accounts.models import (
    COMMUNITY_ROLES,
    AuthSession,
    MemberCard,
    Membership,
    StreetRole,
    User,
)
from app.accounts.rules import phone_or_none
from app.core import audit, clock, form_keys, organisations
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.security import burn_password_check, hash_password, token_digest, verify_password
from app.core.settings import Settings
from app.core.uow import Database, Sql
from app.places.models import Building, Community, Compound
from app.places.services import community_for


def normalise_phone(phone: str | None) -> str:
    normal = phone_or_none(phone)
    if normal is None:
        raise Invalid(lazy("Please enter a mainland mobile number of 11 digits."), field="phone")
    return normal


def check_password_strength(password: str) -> None:
    if len(password or "") < 8:
        raise Invalid(lazy("The password needs at least 8 characters."), field="password")
    if len(password) > 200:
        raise Invalid(lazy("The password is too long."), field="password")


def check_display_name(name: str) -> str:
    name = human_text(name, field="display_name").strip()
    if not name or len(name) > 50:
        raise Invalid(lazy("Please enter a name of 1 to 50 characters."), field="display_name")
    return name


def check_roles(roles: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(roles or ["resident"]))
    unknown = [r for r in chosen if r not in COMMUNITY_ROLES]
    if unknown or not chosen:
        raise Invalid(lazy("Unknown role."), field="roles")
    return chosen


# ---------------------------------------------------------------- actors


_ACTOR = Sql(
    "SELECT s.user_id, s.kind, s.expires_at, s.last_seen_at, u.display_name, u.is_active, "
    "COALESCE((SELECT json_agg(json_build_array(m.community_id, m.roles)) FROM memberships m "
    "WHERE m.user_id = s.user_id AND m.moved_away_at IS NULL), '[]'::json) AS roles, "
    "ARRAY(SELECT r.street_id FROM street_roles r WHERE r.user_id = s.user_id "
    "AND r.role = 'street_admin') AS street_ids, "
    "ARRAY(SELECT c.id FROM communities c JOIN street_roles r ON r.street_id = c.street_id "
    "WHERE r.user_id = s.user_id AND r.role = 'street_admin') AS street_communities "
    "FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = :digest"
)
_TOUCH_SESSION = Sql("UPDATE auth_sessions SET last_seen_at = :now WHERE digest = :digest")
_END_SESSION = Sql("DELETE FROM auth_sessions WHERE digest = :digest")


async def actor_for_token(
    database: Database, settings: Settings, token: str, kind: str, cache: ActorCache | None = None
) -> Actor | None:
    """The actor a bearer token or session cookie stands for, in one query (or none, from
    `cache`); None if the token is unknown, of the other kind, expired, idle too long, or its
    user is deactivated."""
    if not token or len(token) > 200:
        return None
    digest = token_digest(token)
    now = clock.now()
    if cache is not None and (actor := cache.actor(digest, kind, now)) is not None:
        return actor
    generation = cache.generation if cache is not None else 0
    async with database.connection() as db:
        row = await _ACTOR.fetchrow(db, {"digest": digest})
        if row is None or row["kind"] != kind:
            return None
        idle_limit = timedelta(minutes=settings.session_idle_minutes)
        if row["expires_at"] <= now or (kind == "cookie" and now - row["last_seen_at"] > idle_limit):
            await _END_SESSION.execute(db, {"digest": digest})
            return None
        if not row["is_active"]:
            return None
        touched_at = row["last_seen_at"]
        if now - touched_at > TOUCH_EVERY:
            await _TOUCH_SESSION.execute(db, {"digest": digest, "now": now})
            touched_at = now
    actor = Actor(
        user_id=row["user_id"],
        display_name=row["display_name"],
        roles={int(cid): frozenset(held) for cid, held in row["roles"]},
        street_communities=frozenset(row["street_communities"]),
        street_ids=frozenset(row["street_ids"]),
    )
    if cache is not None:
        cache.keep(generation, digest, kind, row["expires_at"], touched_at, actor)
    return actor


# ---------------------------------------------------------------- registration and login


class CannotRegister(Invalid):
    """A join code no community has, or a phone that already has an account: one answer for both,
    so that registering cannot tell anyone whether a number has an account; app.accounts.logins
    counts both towards the address's lock, as wrong join codes."""

    def __init__(self) -> None:
        super().__init__(
            lazy(
                "This join code and phone number cannot be registered. If the phone already has an "
                "account, log in; otherwise check the join code with your community office."
            )
        )


async def register(
    session: AsyncSession, *, phone: str, password: str, display_name: str, join_code: str
) -> tuple[User, Membership]:
    phone = normalise_phone(phone)
    check_password_strength(password)
    name = check_display_name(display_name)
    community = await session.scalar(
        select(Community).where(Community.join_code == (join_code or "").strip().upper())
    )
    if community is None or await session.scalar(select(User.id).where(User.phone == phone)):
        raise CannotRegister()
    user = User(phone=phone, display_name=name, password_hash=hash_password(password))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same number registered at the same moment (a double tap)
        raise CannotRegister() from exc
    membership = Membership(user_id=user.id, community_id=community.id, roles=["resident"])
    session.add(membership)
    await session.flush()
    await issue_card(session, user.id, "phone")
    await audit.record(
        session,
        action="user.registered",
        actor_id=user.id,
        community_id=community.id,
        target=f"user:{user.id}",
    )
    return user, membership


async def authenticate(session: AsyncSession, *, phone: str, password: str, address: str) -> User:
    """Checks the password of a login attempt counted by `attempts.claim_login`. A success forgets the
    phone's failures and gives the address its place back; a failure stays counted."""
    normal = phone_or_none(phone)
    user = await session.scalar(select(User).where(User.phone == normal)) if normal else None
    ok, new_hash = (False, None)
    if user is not None and user.password_hash and user.is_active:
        ok, new_hash = verify_password(user.password_hash, password or "")
    else:
        burn_password_check(password or "")
    if not ok or user is None:
        raise DomainError("invalid_credentials", 401)
    if new_hash:
        user.password_hash = new_hash
    await attempts.forget(session, attempts.phone_key(phone))
    await attempts.release_attempt(session, attempts.address_key(address))
    return user


async def create_auth_session(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    kind: str,
    address: str | None,
    replaces: str | None = None,
) -> str:
    """A fresh random token every time: whatever id the client held before login is discarded,
    and the response waits until every worker has been told (as logging out does)."""
    if replaces:
        await end_auth_session(session, replaces)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    lifetime = timedelta(hours=settings.session_absolute_hours) if kind == "cookie" else timedelta(days=90)
    session.add(
        AuthSession(
            digest=token_digest(token),
            user_id=user_id,
            kind=kind,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            address=(address or "")[:64],
        )
    )
    await session.flush()
    return token


async def end_auth_session(session: AsyncSession, token: str) -> None:
    """Its response waits until every worker has been told (app.accounts.actor_cache)."""
    digest = token_digest(token)
    ended = await session.execute(
        delete(AuthSession).where(AuthSession.digest == digest).returning(AuthSession.digest)
    )
    if ended.first() is not None:
        actor_cache.session_ended(session, digest)


async def end_every_session(session: AsyncSession, user_id: int) -> None:
    """Every session and token of the account ends (its password changed or reset: a thief's
    too); the response waits until every worker has been told (app.accounts.actor_cache)."""
    ended = await session.execute(
        delete(AuthSession).where(AuthSession.user_id == user_id).returning(AuthSession.digest)
    )
    if ended.first() is not None:
        actor_cache.sessions_ended(session, user_id)


# ---------------------------------------------------------------- residents and roles


async def communities_of_street(session: AsyncSession, street_id: int) -> list[tuple[Community, int]]:
    """A street's communities, each with how many members it has."""
    rows = (
        await session.execute(
            select(Community, func.count(Membership.id))
            .outerjoin(Membership, Membership.community_id == Community.id)
            .where(Community.street_id == street_id)
            .group_by(Community.id)
            .order_by(Community.name)
        )
    ).all()
    return list(rows)


@dataclass
class ResidentInput:
    display_name: str
    phone: str | None = None
    password: str | None = None
    roles: list[str] | None = None
    compound_id: int | None = None
    building_id: int | None = None
    room: str = ""


async def _check_place(session: AsyncSession, community_id: int, data: ResidentInput) -> None:
    if data.compound_id is not None:
        compound = await session.get(Compound, data.compound_id)
        if compound is None or compound.community_id != community_id:
            raise Invalid(lazy("Please choose a compound of this community."), field="compound_id")
    if data.building_id is not None:
        building = await session.get(Building, data.building_id)
        if building is None or building.community_id != community_id:
            raise Invalid(lazy("Please choose a building of this community."), field="building_id")
        if data.compound_id is None:
            data.compound_id = building.compound_id
        elif building.compound_id != data.compound_id:
            raise Invalid(lazy("The building is not in the chosen compound."), field="building_id")


async def add_resident(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ResidentInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
) -> User:
    """Enrols a person in the community (staff and admins only).

    A phone number that already has an account adds a membership only: the name and password
    given are not applied, and the community gets no power over that account (see
    `belongs_here_alone`). A new account is made otherwise, belonging to this community alone.
    `form_key` is the residents form's (app.core.form_keys): its second sending enrols nobody
    (a person without a phone was enrolled twice) and answers the first one's person."""
    await community_for(session, actor, community_id, "admin", "staff")
    key = form_keys.clean(form_key)
    find = form_keys.finder(session, Membership, "added_by", actor.user_id)

    async def enrolled(key: str) -> User | None:
        membership = await find(key)
        return None if membership is None else await session.get(User, membership.user_id)

    return await form_keys.once(
        session, key, enrolled, partial(_enrol, session, actor, community_id, data, address, key)
    )


async def new_account(session: AsyncSession, phone: str | None, name: str, password: str | None) -> User:
    """The account of a person someone else enrols (a community's staff, an organisation's admin),
    with its phone card; 409 conflict where the same new number was added at the same moment
    (a double tap, or another form)."""
    user = User(phone=phone, display_name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError("conflict", 409) from exc
    await issue_card(session, user.id, "phone")
    return user


async def _enrol(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ResidentInput,
    address: str | None,
    key: str | None,
) -> User:
    roles = check_roles(data.roles)
    if set(roles) - {"resident"} and not actor.has(community_id, "admin"):
        raise Forbidden(lazy("Only a community admin can give roles other than resident."))
    name = check_display_name(data.display_name)
    phone = normalise_phone(data.phone) if data.phone else None
    if data.password:
        check_password_strength(data.password)
        if phone is None:
            raise Invalid(lazy("A password needs a phone number to log in with."), field="phone")
    await _check_place(session, community_id, data)
    user = await session.scalar(select(User).where(User.phone == phone)) if phone else None
    existing = user is not None
    if user is None:
        user = await new_account(session, phone, name, data.password)
    elif await session.scalar(
        select(Membership.id).where(Membership.user_id == user.id, Membership.community_id == community_id)
    ):
        raise DomainError("conflict", 409, lazy("This person is already a member of the community."))
    session.add(
        Membership(
            user_id=user.id,
            community_id=community_id,
            roles=roles,
            compound_id=data.compound_id,
            building_id=data.building_id,
            room=data.room[:20],
            added_by=actor.user_id,
            form_key=key,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError("conflict", 409) from exc
    await audit.record(
        session,
        action="resident.added" if not existing else "membership.added",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user.id}",
        address=address,
        roles=roles,
    )
    return user


NOT_ALONE = lazy(
    "This person's account also belongs to another community. Only its holder can change its "
    "name, password or cards; here you manage the membership only."
)


async def belongs_here_alone(session: AsyncSession, community_id: int, user_id: int) -> bool:
    """Whether the account belongs to this community alone: its only membership is here, it
    holds no street role and acts for no organisation (app.core.organisations: a partner unit's
    or a provider's member claims wishes and redeems vouchers for it). Only then does the
    community manage the account itself (its name, password and cards); otherwise the community
    manages its membership only, so that adding a known phone number never hands another
    community's member (or admin), or an organisation's, to this one."""
    elsewhere = await session.scalar(
        select(
            exists().where(Membership.user_id == user_id, Membership.community_id != community_id)
            | exists().where(StreetRole.user_id == user_id)
        )
    )
    return not elsewhere and not await organisations.acts_for(session, user_id)


async def account_for(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, *roles: str
) -> tuple[User, Membership]:
    """A member whose account (not only membership) the actor may manage with one of `roles`."""
    user, membership = await membership_for(session, actor, community_id, user_id, *roles)
    if not await belongs_here_alone(session, community_id, user_id):
        raise Forbidden(NOT_ALONE)
    return user, membership


async def membership_for(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, *roles: str
) -> tuple[User, Membership]:
    await community_for(session, actor, community_id, *roles)
    membership = await session.scalar(
        select(Membership).where(Membership.community_id == community_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound()
    user = await session.get(User, user_id)
    assert user is not None
    return user, membership


async def set_roles(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    roles: list[str],
    address: str | None = None,
) -> Membership:
    _user, membership = await membership_for(session, actor, community_id, user_id, "admin")
    new_roles = check_roles(roles)
    if user_id == actor.user_id and "admin" not in new_roles:
        raise Invalid(lazy("You cannot remove your own admin role."))
    # The community's admins are locked, in one order, and read again: two admins taking each
    # other's role at the same moment take turns, and the second is no longer an admin.
    admins = await session.scalars(
        select(Membership.user_id)
        .where(Membership.community_id == community_id, literal("admin") == any_(Membership.roles))
        .order_by(Membership.id)
        .with_for_update()
    )
    if actor.user_id not in set(admins.all()):
        raise Forbidden()
    await session.refresh(membership)
    before = list(membership.roles)
    membership.roles = new_roles
    await session.flush()
    await audit.record(
        session,
        action="roles.changed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
        before=before,
        after=new_roles,
    )
    return membership


async def update_resident(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    data: ResidentInput,
    address: str | None = None,
) -> None:
    user, membership = await membership_for(
        session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    await _check_place(session, community_id, data)
    name = check_display_name(data.display_name)
    if name != user.display_name:
        if not await belongs_here_alone(session, community_id, user_id):
            raise Forbidden(NOT_ALONE)
        user.display_name = name
    membership.compound_id, membership.building_id, membership.room = (
        data.compound_id,
        data.building_id,
        data.room[:20],
    )
    await session.flush()
    await audit.record(
        session,
        action="resident.updated",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )


async def reset_password(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    password: str,
    address: str | None = None,
) -> None:
    user, _m = await account_for(session, actor, community_id, user_id, "admin")
    check_password_strength(password)
    if not user.phone:
        raise Invalid(lazy("This resident has no phone number to log in with."))
    user.password_hash = hash_password(password)
    await end_every_session(session, user.id)  # a reset ends every session the person had
    await audit.record(
        session,
        action="password.reset",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )


# ---------------------------------------------------------------- cards (the rest: app.accounts.member_cards)


async def lock_cards(session: AsyncSession, user_id: int) -> None:
    """Takes the user's cards for this transaction (their user row, locked as by an update of it):
    two requests issuing a card at once take turns, the second one seeing the first's card."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def issue_card(session: AsyncSession, user_id: int, kind: str) -> MemberCard:
    """Issues a new card of this kind, revoking the one before it (the user's cards locked first:
    two issued at once were two active cards, refused by their unique index)."""
    await lock_cards(session, user_id)
    await session.execute(
        update(MemberCard)
        .where(MemberCard.user_id == user_id, MemberCard.kind == kind, MemberCard.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    secret = secrets.token_urlsafe(32) if kind == "phone" else cards.new_printed_secret()
    card = MemberCard(public_id=cards.new_public_id(), user_id=user_id, kind=kind, secret=secret)
    session.add(card)
    await session.flush()
    return card


async def active_card(session: AsyncSession, user_id: int, kind: str) -> MemberCard | None:
    return await session.scalar(
        select(MemberCard).where(
            MemberCard.user_id == user_id, MemberCard.kind == kind, MemberCard.revoked_at.is_(None)
        )
    )
