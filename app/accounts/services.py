"""Accounts: registration, login, sessions, residents, roles and member cards."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import actor_cache, cards, rules
from app.accounts.actor_cache import TOUCH_EVERY, ActorCache
from app.accounts.models import (
    COMMUNITY_ROLES,
    AuthSession,
    MemberCard,
    Membership,
    StreetRole,
    User,
)
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.security import burn_password_check, hash_password, token_digest, verify_password
from app.core.settings import Settings
from app.core.uow import Connection, Database, Sql
from app.places.models import Building, Community, Compound
from app.places.services import community_for

# Mainland mobile numbers only: 11 digits, 13x to 19x.
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$", re.ASCII)
# Spaces and dashes people type between digit groups, and brackets around a prefix.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()]")
_COUNTRY_PREFIXES = ("+86", "0086", "86")


def phone_or_none(phone: str | None) -> str | None:
    """The one form a phone number is stored and looked up in, or None if it is not a mainland
    mobile number. NFKC first, so full-width digits from a Chinese IME become ASCII; other
    scripts' digits (Arabic-Indic, Devanagari) are not mapped by NFKC and are refused, so a
    look-alike of a known number is either that number or no number at all."""
    text = unicodedata.normalize("NFKC", phone or "")
    text = _PHONE_SEPARATORS.sub("", text)
    for prefix in _COUNTRY_PREFIXES:
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    return text if text.isascii() and MOBILE_RE.match(text) else None


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
    name = (name or "").strip()
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
    "WHERE m.user_id = s.user_id), '[]'::json) AS roles, "
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


class UnknownJoinCode(Invalid):
    def __init__(self) -> None:
        super().__init__(
            lazy("This join code is not known. Ask your community office for it."), field="join_code"
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
    if community is None:
        raise UnknownJoinCode()
    if await session.scalar(select(User.id).where(User.phone == phone)):
        raise DomainError("conflict", 409, lazy("This phone number is already registered. Please log in."))
    user = User(phone=phone, display_name=name, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
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


# ---------------------------------------------------------------- attempt limits

# One statement per attempt: the upsert takes the counter row's lock, so simultaneous attempts
# for one key are counted one after the other. An attempt past the limit locks the key for a
# window; attempts while locked change nothing. Returns whether this attempt may go on.
_CLAIM = text(
    "INSERT INTO attempt_counters AS c (key, attempts, started_at, locked_until) "
    "VALUES (:key, 1, :now, NULL) "
    "ON CONFLICT (key) DO UPDATE SET "
    "attempts = CASE WHEN c.locked_until > :now THEN c.attempts "
    "  WHEN c.started_at > :since THEN c.attempts + 1 ELSE 1 END, "
    "started_at = CASE WHEN c.locked_until > :now OR c.started_at > :since "
    "  THEN c.started_at ELSE :now END, "
    "locked_until = CASE WHEN c.locked_until > :now THEN c.locked_until "
    "  WHEN c.started_at > :since AND c.attempts + 1 > :limit THEN :until END "
    "RETURNING locked_until IS NULL AS allowed"
)
# A successful attempt gives its place back (an address shared by many people stays usable).
_RELEASE = text(
    "UPDATE attempt_counters SET attempts = attempts - 1 "
    "WHERE key = :key AND attempts > 0 AND locked_until IS NULL"
)
_FORGET = text("DELETE FROM attempt_counters WHERE key = :key")

# Wrong join codes from one address within the login window before registration is refused.
JOIN_CODE_LIMIT = 20


def phone_key(phone: str | None) -> str:
    # A number that is no mobile number has no account; it is still counted, as typed.
    return "phone:" + (phone_or_none(phone) or _PHONE_SEPARATORS.sub("", phone or "")[:20])


def address_key(address: str) -> str:
    return "address:" + address[:64]


def join_key(address: str) -> str:
    return "join:" + address[:64]


async def claim_attempt(session: AsyncSession, settings: Settings, key: str, limit: int) -> bool:
    """Counts one attempt for `key`; False when the key is locked (this attempt must stop).
    Run it in a transaction of its own, committed before the check it guards, so a failed
    check's rollback keeps it counted."""
    now = clock.now()
    window = timedelta(minutes=settings.login_window_minutes)
    allowed = await session.scalar(
        _CLAIM,
        {"key": key, "now": now, "since": now - window, "until": now + window, "limit": limit},
    )
    return bool(allowed)


async def release_attempt(session: AsyncSession, key: str) -> None:
    await session.execute(_RELEASE, {"key": key})


async def claim_login(session: AsyncSession, settings: Settings, phone: str, address: str) -> None:
    """A login attempt takes its place for the phone number, then for the client address,
    before the password is checked; refused with rate_limited once either is locked (an attempt
    the address refuses gives the phone's place back: it never reached the check)."""
    phone_place = phone_key(phone)
    if not await claim_attempt(session, settings, phone_place, settings.login_max_failures_per_phone):
        raise DomainError("rate_limited", 429)
    if not await claim_attempt(
        session, settings, address_key(address), settings.login_max_failures_per_address
    ):
        await release_attempt(session, phone_place)
        raise DomainError("rate_limited", 429)


async def authenticate(session: AsyncSession, *, phone: str, password: str, address: str) -> User:
    """Checks the password of a login attempt counted by `claim_login`. A success forgets the
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
    await session.execute(_FORGET, {"key": phone_key(phone)})
    await release_attempt(session, address_key(address))
    return user


async def create_auth_session(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    kind: str,
    address: str | None,
    replaces: str | None = None,
) -> str:
    """A fresh random token every time: whatever id the client held before login is discarded."""
    if replaces:
        await session.execute(delete(AuthSession).where(AuthSession.digest == token_digest(replaces)))
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
    session: AsyncSession, actor: Actor, community_id: int, data: ResidentInput, address: str | None = None
) -> User:
    """Enrols a person in the community (staff and admins only).

    A phone number that already has an account adds a membership only: the name and password
    given are not applied, and the community gets no power over that account (see
    `belongs_here_alone`). A new account is made otherwise, belonging to this community alone."""
    await community_for(session, actor, community_id, "admin", "staff")
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
        user = User(
            phone=phone,
            display_name=name,
            password_hash=hash_password(data.password) if data.password else None,
        )
        session.add(user)
        await session.flush()
        await issue_card(session, user.id, "phone")
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
    """Whether the account belongs to this community alone: its only membership is here and it
    holds no street role. Only then does the community manage the account itself (its name,
    password and cards); otherwise the community manages its membership only, so that adding a
    known phone number never hands another community's member (or admin) to this one."""
    elsewhere = await session.scalar(
        select(
            exists().where(Membership.user_id == user_id, Membership.community_id != community_id)
            | exists().where(StreetRole.user_id == user_id)
        )
    )
    return not elsewhere


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
    # A reset ends every session the person had.
    ended = await session.execute(
        delete(AuthSession).where(AuthSession.user_id == user.id).returning(AuthSession.digest)
    )
    if ended.first() is not None:
        actor_cache.sessions_ended(session, user.id)
    await audit.record(
        session,
        action="password.reset",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )


# ---------------------------------------------------------------- member cards


async def issue_card(session: AsyncSession, user_id: int, kind: str) -> MemberCard:
    """Issues a new card of this kind, revoking the one before it."""
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


async def phone_card_code(session: AsyncSession, user_id: int) -> tuple[str, datetime]:
    card = await active_card(session, user_id, "phone") or await issue_card(session, user_id, "phone")
    now = clock.now()
    code, window = cards.phone_code(card.public_id, card.secret, now)
    from datetime import UTC

    # Shown until the window ends; accepted for one more window after that.
    return code, datetime.fromtimestamp(cards.window_end(window), UTC)


def printed_card_allowed(user: User, membership: Membership) -> bool:
    return rules.may_hold_printed_card(
        has_phone=bool(user.phone), has_password=bool(user.password_hash), roles=membership.roles
    )


NO_PRINTED_CARD = lazy(
    "A printed card is only for a resident who does not log in with a phone, and never for staff or admins."
)


async def printed_card_for(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    reissue: bool = False,
    address: str | None = None,
) -> str:
    """The code of the resident's printed card (see `printed_card`)."""
    card = await printed_card(session, actor, community_id, user_id, reissue, address)
    return cards.printed_code(card.secret)


async def printed_card(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    reissue: bool = False,
    address: str | None = None,
) -> MemberCard:
    """The resident's printed card (issued on first use; `reissue` revokes the old one). Only for
    an account of this community alone that cannot log in with a phone, never staff or admins."""
    user, membership = await account_for(
        session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    if not printed_card_allowed(user, membership):
        raise Invalid(NO_PRINTED_CARD)
    card = None if reissue else await active_card(session, user_id, "printed")
    if card is None:
        card = await issue_card(session, user_id, "printed")
        await audit.record(
            session,
            action="card.printed_issued",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"user:{user_id}",
            address=address,
        )
    return card


async def printed_cards_for_building(
    session: AsyncSession, actor: Actor, community_id: int, building_id: int, address: str | None = None
) -> tuple[list[tuple[User, Membership, MemberCard]], int]:
    """The printed cards of a building's residents who may hold one (existing cards are reused),
    and how many residents were left out (they log in with a phone, are staff or admins, or
    their account also belongs elsewhere)."""
    await community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    rows = (
        await session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, Membership.building_id == building_id)
            .order_by(Membership.room, User.display_name, User.id)
        )
    ).all()
    sheet: list[tuple[User, Membership, MemberCard]] = []
    for user, membership in rows:
        if printed_card_allowed(user, membership) and await belongs_here_alone(
            session, community_id, user.id
        ):
            card = await printed_card(session, actor, community_id, user.id, address=address)
            sheet.append((user, membership, card))
    return sheet, len(rows) - len(sheet)


async def revoke_cards(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, address: str | None = None
) -> None:
    """Revokes the printed card and re-keys the phone card (old screenshots stop working)."""
    await account_for(session, actor, community_id, user_id, "admin", "staff", "grid_worker")
    await session.execute(
        update(MemberCard)
        .where(MemberCard.user_id == user_id, MemberCard.kind == "printed", MemberCard.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    await issue_card(session, user_id, "phone")
    await audit.record(
        session,
        action="card.revoked",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )


_PRINTED_CARD = Sql(
    "SELECT user_id, revoked_at FROM member_cards WHERE kind = 'printed' AND secret = :secret"
)
_TYPED_CARD = Sql(
    "SELECT user_id, revoked_at FROM member_cards WHERE kind = 'printed' AND public_id = :public_id"
)
_PHONE_CARD = Sql(
    "SELECT user_id, secret, revoked_at FROM member_cards WHERE kind = 'phone' AND public_id = :public_id"
)


async def resolve_member_code(conn: Connection, code: str) -> int:
    """The user id behind a member code, or a DomainError with code_invalid / code_expired."""
    parsed = cards.parse(code)
    if parsed is None:
        raise DomainError("code_invalid", 422)
    if parsed.kind in ("printed", "typed"):
        card = (
            await _PRINTED_CARD.fetchrow(conn, {"secret": parsed.secret})
            if parsed.kind == "printed"
            else await _TYPED_CARD.fetchrow(conn, {"public_id": parsed.public_id})
        )
        if card is None:
            raise DomainError("code_invalid", 422)
        if card["revoked_at"] is not None:
            raise DomainError(
                "code_invalid", 422, lazy("This card has been replaced. Please use the new card.")
            )
        return int(card["user_id"])
    card = await _PHONE_CARD.fetchrow(conn, {"public_id": parsed.public_id})
    if card is None:
        raise DomainError("code_invalid", 422)
    reason = cards.check_phone_code(parsed, card["secret"], clock.now())
    if reason is None and card["revoked_at"] is not None:
        reason = "code_invalid"
    if reason:
        raise DomainError(reason, 422)
    return int(card["user_id"])
