"""Whom a form offers to choose among a community's people (the award form, the honour hours',
an event's organisers, the resident a wish is posted for, a sign-up for someone): a page of them
by name, found by name or phone, with how many, and those already chosen apart wherever their
names sort (`paged`; templates/_person_picker.html shows it in a form). The one way for every
such list.

A list of members is read in the order of the members' index by name (migration 0049):
`Membership.display_name` (the person's name, kept by the database) and then the user's id, the
order `User.display_name, User.id` gave, so a page's first rows come from the index instead of
a sort of every member.

A search finds a member whose name or phone has the words typed in it (`ILIKE '%...%'`), through
GIN indexes of the names' and the phones' characters and pairs of characters, which the database
keeps beside them (migration 0051, `search_grams`): whatever has the words has all of their
characters and pairs, so the index reads the few that may match and the ILIKE keeps those that
do, the rows a search always found.
pg_trgm's trigrams would need three characters where a Chinese name has two or three, and the
embedded PostgreSQL does not ship it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import BigInteger, ColumnElement, Select, Text, and_, any_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts.models import Membership, User
from app.accounts.rules import phone_or_none
from app.core import paging
from app.core.codes import typed_form
from app.core.fields import kept_form
from app.places.models import Building, Compound

Columns = TypeVarTuple("Columns")

# A community's members by name, as every list of them shows them.
BY_NAME = (Membership.display_name, Membership.user_id)


def containing(query: str) -> str:
    """A LIKE pattern of what has `query` in it: `%`, `_` and `\\` typed are themselves, not a
    pattern's wildcards (every search of people by name reads its words through this)."""
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _grams(words: str) -> ColumnElement[list[str]]:
    """The characters and pairs of characters of the words typed, lowercased (migration 0051)."""
    return func.search_grams(words, type_=ARRAY(Text))


def _has(column: Any, grams: Any, query: str) -> ColumnElement[bool]:
    """`column` has `query` in it, case aside, found through the index of its `grams`."""
    return and_(grams.contains(_grams(query)), column.ilike(containing(query)))


def found_by_name(query: str) -> ColumnElement[bool]:
    """The members whose name has `query` in it. The words are taken NFC, as names are kept: a
    name typed with its accents apart finds the one stored."""
    return _has(Membership.display_name, Membership.name_grams, kept_form(query).strip())


def found_by_name_or_phone(community_id: int | Sequence[int], query: str) -> ColumnElement[bool]:
    """Whom a search by name or phone finds among a community's members (the residents list, the
    award form, the honour hours' form), or several communities' (a street's people, among whom
    its street admin appoints a community's admin): a name or a phone with `query` in it, or the holder of a
    whole number however it is typed ("139 1234 5678", full-width digits, +86). The community's
    phone holders found are gathered first, through the phones' index, into an array: `= ANY
    (array)` beside the name's condition lets the planner read both indexes and only the few
    found, or, for words nearly everyone has, the names in order until a page is full. A phone is
    searched for by the words read as typed values (NFKC, `typed_form`): a tail in full-width
    digits (０００５) finds the phones with 0005, as a whole number in them finds its holder."""
    query = kept_form(query).strip()
    digits = typed_form(query)
    holder = aliased(User, name="holder")
    held = aliased(Membership, name="held")
    phones = _has(holder.phone, holder.phone_grams, digits)
    phone = phone_or_none(query)
    if phone:
        phones = or_(phones, holder.phone == phone)
    holders = (
        select(holder.id)
        .join(held, held.user_id == holder.id)
        .where(
            held.community_id == community_id
            if isinstance(community_id, int)
            else held.community_id.in_(community_id),
            phones,
        )
    )
    if len(digits) == 1 and digits.isdigit():
        # Nearly every phone has any one digit: each member is looked up among the holders, hashed,
        # instead of compared with an array of most of the community.
        return or_(found_by_name(query), Membership.user_id.in_(holders))
    found = cast(holders.with_only_columns(func.array_agg(holder.id)).scalar_subquery(), ARRAY(BigInteger))
    return or_(found_by_name(query), Membership.user_id == any_(found))


def placed(people: Select[*Columns]) -> Select[*Columns, str | None, str | None, str]:
    """`people` (a select joining `Membership`) with each one's compound, building and room, the
    columns `compound`, `building` and `room`: a community of 2,000 households has many people of
    one name, and a picker tells them apart by where they live (`templates/_people.html`)."""
    return (
        people.add_columns(Compound.name.label("compound"), Building.name.label("building"), Membership.room)
        .outerjoin(Compound, Compound.id == Membership.compound_id)
        .outerjoin(Building, Building.id == Membership.building_id)
    )


@dataclass(frozen=True)
class Paged:
    chosen: list[Any]  # those already chosen, by name, wherever their names sort
    rows: list[Any]  # a page of the others, by name
    total: int  # of `people` (found by `who` when given), on every page
    page: int
    pages: int


async def paged(
    session: AsyncSession,
    community_id: int,
    people: Select[*Columns],
    who: str,
    page: int,
    per_page: int,
    chosen: Iterable[int] = (),
    chosen_among: Select[*Columns] | None = None,
) -> Paged:
    """A page of `people` (a select of `User.id` and more, from `community_id`'s `Membership`
    rows, its conditions on them) by name, found by name or phone when `who` is given, with how
    many there are: a picker of a large community that reads one page, not the members up to a
    number; and the `chosen`, looked up in `chosen_among` (by default `people`),
    apart, so that a page that does not list them keeps them (templates/_person_picker.html)."""
    found = people.where(found_by_name_or_phone(community_id, who)) if who else people
    # Counted among the members alone, by `people`'s conditions (on `Membership`; one on the user
    # asks through a subquery of their row): the joins that give a row its columns (the user,
    # their points, where they live) add no one, and with them the count read every user of
    # every community.
    counted = select(func.count()).select_from(Membership)
    if found.whereclause is not None:
        counted = counted.where(found.whereclause)
    total = int(await session.scalar(counted) or 0)
    at = paging.window(total, page, per_page)
    rows = list((await session.execute(found.order_by(*BY_NAME).limit(per_page).offset(at.offset))).all())
    picked = list(dict.fromkeys(chosen))
    among = people if chosen_among is None else chosen_among
    kept = (
        (await session.execute(among.where(User.id.in_(picked)).order_by(*BY_NAME))).all() if picked else []
    )
    return Paged(list(kept), rows, total, at.number, at.pages)
