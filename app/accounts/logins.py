"""Logging in, registering and changing one's password, for the API and the pages alike. Each
attempt is counted in a unit of work of its own (app.core.uow.Database.unit_of_work), committed
before the password or the join code is checked, so that a refusal stays counted when the
request's transaction is rolled back: two units of work, neither committed by hand."""

from __future__ import annotations

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import attempts, own, services
from app.accounts.models import Membership, User
from app.core.errors import RateLimited
from app.core.settings import Settings
from app.core.web import client_address, database


async def login(
    request: Request, db_session: AsyncSession, settings: Settings, phone: str, password: str
) -> User:
    """The attempt is counted (and committed) before the password is checked: a failure stays
    counted when the request's transaction is rolled back."""
    address = client_address(request)
    async with database(request).unit_of_work() as counters:
        allowed = await attempts.claim_login(counters, settings, phone, address)
    if not allowed:
        raise RateLimited(attempts.lock_window(settings))
    return await services.authenticate(db_session, phone=phone, password=password, address=address)


async def register(
    request: Request, db_session: AsyncSession, settings: Settings, **values: str
) -> tuple[User, Membership]:
    """Wrong join codes, and phones that have an account (one answer: services.CannotRegister), are
    counted per client address; other refusals give their place back."""
    key = attempts.join_key(client_address(request))
    async with database(request).unit_of_work() as counters:
        allowed = await attempts.claim_attempt(counters, settings, key, attempts.JOIN_CODE_LIMIT)
    if not allowed:
        raise RateLimited(attempts.lock_window(settings))
    try:
        user, membership = await services.register(db_session, **values)
    except services.CannotRegister:
        raise
    except Exception:
        async with database(request).unit_of_work() as counters:
            await attempts.release_attempt(counters, key)
        raise
    await attempts.release_attempt(db_session, key)
    return user, membership


async def change_password(
    request: Request, db_session: AsyncSession, settings: Settings, user_id: int, current: str, new: str
) -> str:
    """The signed-in person's new password (own.change_own_password): wrong guesses of the
    current one are counted as a phone's failed logins are, so a session left open cannot be used
    to find it. Every session of the account ends; this browser gets a new one, whose token is
    returned."""
    key = attempts.password_key(user_id)
    address = client_address(request)
    async with database(request).unit_of_work() as counters:
        allowed = await attempts.claim_attempt(counters, settings, key, settings.login_max_failures_per_phone)
    if not allowed:
        raise RateLimited(attempts.lock_window(settings))
    await own.change_own_password(db_session, user_id, current, new, address)
    await attempts.forget(db_session, key)
    return await services.create_auth_session(db_session, settings, user_id, "cookie", address)
