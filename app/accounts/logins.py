"""Logging in and registering, for the API and the pages alike: each attempt is counted in a unit
of work of its own (app.core.web.own_session), so that a refusal stays counted when the request's
transaction is rolled back."""

from __future__ import annotations

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import services
from app.accounts.models import Membership, User
from app.core.errors import DomainError
from app.core.settings import Settings
from app.core.web import client_address, own_session


async def login(
    request: Request, db_session: AsyncSession, settings: Settings, phone: str, password: str
) -> User:
    """The attempt is counted (and committed) before the password is checked: a failure stays
    counted when the request's transaction is rolled back."""
    address = client_address(request)
    async with own_session(request) as counters:
        try:
            await services.claim_login(counters, settings, phone, address)
        except DomainError:
            await counters.commit()
            raise
    return await services.authenticate(db_session, phone=phone, password=password, address=address)


async def register(
    request: Request, db_session: AsyncSession, settings: Settings, **values: str
) -> tuple[User, Membership]:
    """Wrong join codes are counted per client address; other refusals give their place back."""
    key = services.join_key(client_address(request))
    async with own_session(request) as counters:
        allowed = await services.claim_attempt(counters, settings, key, services.JOIN_CODE_LIMIT)
    if not allowed:
        raise DomainError("rate_limited", 429)
    try:
        user, membership = await services.register(db_session, **values)
    except services.UnknownJoinCode:
        raise
    except Exception:
        async with own_session(request) as counters:
            await services.release_attempt(counters, key)
        raise
    await services.release_attempt(db_session, key)
    return user, membership
