"""Whom a form offers to choose among a community's people (the award form, the honour hours',
an event's organisers, the resident a wish is posted for): at most a number of them by name,
found by name or phone in a large community, and those already chosen wherever their names sort.
The one way for every such list.

A list of members is read in the order of the members' index by name (migration 0049):
`Membership.display_name` (the person's name, kept by the database) and then the user's id, the
order `User.display_name, User.id` gave, so a page's first rows come from the index instead of
a sort of every member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.accounts.services import found_by_name_or_phone

Columns = TypeVarTuple("Columns")

# A community's members by name, as every list of them shows them.
BY_NAME = (Membership.display_name, Membership.user_id)


@dataclass(frozen=True)
class Offered:
    rows: list[Any]  # the chosen first, then the others by name
    more: bool  # more were found than listed
    found_none: bool  # a search (`who`) found nobody


async def offered(
    session: AsyncSession,
    people: Select[*Columns],
    who: str,
    limit: int,
    chosen: Iterable[int] = (),
    chosen_among: Select[*Columns] | None = None,
) -> Offered:
    """At most `limit` of `people` (a select of `User.id` and more, from the community's
    `Membership` rows joined as the caller needs) by name, those found by name or phone when `who`
    is given; and, first, each of `chosen` not among them, looked up in `chosen_among` (by default
    `people`): past the list's end they had no box, and sending the form again would drop them."""
    found = people.where(found_by_name_or_phone(who)) if who else people
    rows = list((await session.execute(found.order_by(*BY_NAME).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    found_none = bool(who) and not rows
    listed = {row.id for row in rows}
    missing = [user_id for user_id in chosen if user_id not in listed]
    if missing:
        among = people if chosen_among is None else chosen_among
        rows[:0] = (await session.execute(among.where(User.id.in_(missing)).order_by(*BY_NAME))).all()
    return Offered(rows, more, found_none)
