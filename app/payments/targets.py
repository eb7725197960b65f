"""Funding targets: what money can be given to. A domain registers a kind ("wish", "project")
with a lookup of one target and a list of a community's targets with a goal; the seam names no
domain. The rows keep their own `funding_goal_cents`; the funded total is the contributions'
sum (SQL function funding_total)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Target:
    kind: str
    id: int
    community_id: int
    title: str
    goal_cents: int | None
    # Whether anyone may see it and give to it without logging in (a published wish).
    public: bool = True
    # Whether it still takes donations: a wish that has come true takes no more, though its
    # funding page still shows who gave.
    taking: bool = True
    # The target's own page, for a link back.
    url: str | None = None
    # Its page for its community's members (its admins), where that is not `url`: a wish's public
    # link is the pool's page of many, where the admin's "open its page" landed among the others.
    # A street admin, who is no member, is still led to `url`.
    admin_url: str | None = None


Lookup = Callable[[AsyncSession, int], Awaitable[Target | None]]
Lister = Callable[[AsyncSession, int], Awaitable[list[Target]]]


@dataclass(frozen=True)
class TargetKind:
    name: str
    label: str  # msgid
    lookup: Lookup
    list_with_goal: Lister


_KINDS: dict[str, TargetKind] = {}


def register(name: str, label: str, lookup: Lookup, list_with_goal: Lister) -> None:
    _KINDS[name] = TargetKind(name, label, lookup, list_with_goal)


def kinds() -> dict[str, TargetKind]:
    return dict(_KINDS)


def kind(name: str) -> TargetKind | None:
    return _KINDS.get(name)


async def find(session: AsyncSession, kind_name: str, target_id: int) -> Target | None:
    registered = _KINDS.get(kind_name)
    if registered is None:
        return None
    return await registered.lookup(session, target_id)


async def with_goal(session: AsyncSession, community_id: int) -> list[Target]:
    """Every target of the community that has a funding goal, kind by kind."""
    found: list[Target] = []
    for registered in _KINDS.values():
        found.extend(await registered.list_with_goal(session, community_id))
    return found
