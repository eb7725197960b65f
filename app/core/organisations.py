"""What a domain may ask about organisations (partner units, providers) without importing the
domain that keeps them. The assembly (app.domains) fills this seam with the organisations
domain's answers; a domain below it (micro-wishes, and later the service circle) only asks.

    await organisations.may_act_in(session, organisation_id, community_id) -> bool
    await organisations.is_member(session, organisation_id, user_id) -> bool
    await organisations.of_user(session, user_id) -> list[OrganisationRef]
    await organisations.serves_in(session, user_id, community_id) -> bool  (a confirmed 双报到)

Until it is filled (a process that never assembled the app) every answer is "no": nobody acts
for an organisation that nobody said exists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    name: str


MayAct = Callable[[AsyncSession, int, int], Awaitable[bool]]
IsMember = Callable[[AsyncSession, int, int], Awaitable[bool]]
OfUser = Callable[[AsyncSession, int], Awaitable[list[Any]]]
ServesIn = Callable[[AsyncSession, int, int], Awaitable[bool]]


@dataclass
class _Answers:
    may_act_in: MayAct | None = None
    is_member: IsMember | None = None
    of_user: OfUser | None = None
    serves_in: ServesIn | None = None


_answers = _Answers()


def provide(
    *, may_act_in: MayAct, is_member: IsMember, of_user: OfUser, serves_in: ServesIn | None = None
) -> None:
    """Called once by the assembly. `of_user` returns objects with `organisation_id` and `name`."""
    _answers.may_act_in = may_act_in
    _answers.is_member = is_member
    _answers.of_user = of_user
    _answers.serves_in = serves_in


async def may_act_in(session: AsyncSession, organisation_id: int, community_id: int) -> bool:
    if _answers.may_act_in is None:
        return False
    return await _answers.may_act_in(session, organisation_id, community_id)


async def is_member(session: AsyncSession, organisation_id: int, user_id: int) -> bool:
    if _answers.is_member is None:
        return False
    return await _answers.is_member(session, organisation_id, user_id)


async def of_user(session: AsyncSession, user_id: int) -> list[OrganisationRef]:
    if _answers.of_user is None:
        return []
    return [OrganisationRef(o.organisation_id, o.name) for o in await _answers.of_user(session, user_id)]


async def serves_in(session: AsyncSession, user_id: int, community_id: int) -> bool:
    """Whether the user is an in-service member (在职党员) whose registration with the community
    its admin confirmed: they serve there as a person, like a volunteer."""
    if _answers.serves_in is None:
        return False
    return await _answers.serves_in(session, user_id, community_id)
