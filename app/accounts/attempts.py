"""Attempt limits: logins per phone number and per client address, wrong join codes per address,
a kiosk's password per organiser. Each attempt is counted before the check it guards, in a unit
of work of its own (app.core.uow.Database.unit_of_work) that commits whether the check then
passes or not; a refused check's rollback of the request leaves the attempt counted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.rules import phone_or_none, phone_separators_removed
from app.core import clock
from app.core.settings import Settings
from app.core.uow import Connection, Sql

# One statement per attempt: the upsert takes the counter row's lock, so simultaneous attempts
# for one key are counted one after the other. An attempt past the limit locks the key for a
# window; attempts while locked change nothing. Returns whether this attempt may go on.
_CLAIM = Sql(
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
_RELEASE = Sql(
    "UPDATE attempt_counters SET attempts = attempts - 1 "
    "WHERE key = :key AND attempts > 0 AND locked_until IS NULL"
)
_FORGET = Sql("DELETE FROM attempt_counters WHERE key = :key")

# Wrong join codes from one address within the login window before registration is refused.
JOIN_CODE_LIMIT = 20

Db = Connection | AsyncSession  # a unit of work of its own, or the request's session


def phone_key(phone: str | None) -> str:
    # A number that is no mobile number has no account; it is still counted, as typed.
    return "phone:" + (phone_or_none(phone) or phone_separators_removed(phone or "")[:20])


def address_key(address: str) -> str:
    return "address:" + address[:64]


def join_key(address: str) -> str:
    return "join:" + address[:64]


def password_key(user_id: int) -> str:
    """A signed-in person's guesses of their current password (changing it)."""
    return f"password:{user_id}"


def lock_window(settings: Settings) -> timedelta:
    """How long a key's attempts are counted and, once past its limit, how long it stays locked
    at most: a refusal's Retry-After and the wait its sentence names."""
    return timedelta(minutes=settings.login_window_minutes)


async def claim_attempt(db: Db, settings: Settings, key: str, limit: int) -> bool:
    """Counts one attempt for `key`; False when the key is locked (this attempt must stop).
    Run it in a unit of work of its own, committed before the check it guards, so a failed
    check's rollback keeps it counted."""
    now = clock.now()
    window = lock_window(settings)
    allowed = await _CLAIM.fetchval(
        db, {"key": key, "now": now, "since": now - window, "until": now + window, "limit": limit}
    )
    return bool(allowed)


async def release_attempt(db: Db, key: str) -> None:
    await _RELEASE.execute(db, {"key": key})


async def forget(db: Db, key: str) -> None:
    await _FORGET.execute(db, {"key": key})


async def claim_login(db: Db, settings: Settings, phone: str, address: str) -> bool:
    """A login attempt takes its place for the phone number, then for the client address,
    before the password is checked; False (refused) once either is locked: an attempt the
    address refuses gives the phone's place back, since it never reached the check."""
    phone_place = phone_key(phone)
    if not await claim_attempt(db, settings, phone_place, settings.login_max_failures_per_phone):
        return False
    if not await claim_attempt(db, settings, address_key(address), settings.login_max_failures_per_address):
        await release_attempt(db, phone_place)
        return False
    return True
