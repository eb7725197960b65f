"""A large community's members are read by name from an index, a page at a time: the residents
list, its filters and the people pickers (the award form, the honour hours', an event's
organisers, whom a wish is posted for, a sign-up for someone) read the page's rows in order from
`ix_memberships_community_name` (or the building's index) and count from an index, instead of
reading and sorting every member for each page (migration 0049). The plans are read from the
statements the pages send, on a community of 4,000 members made here in one statement, with
their values and as a plan made for any community (a generic plan). The name the index orders by
is the person's, kept by the database when a membership is made and when the person is renamed.
A search of the list or a picker by name or phone reads the few it finds from the indexes of the
names' and phones' characters and pairs of characters (migration 0051), not every member."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import people
from app.core import uow
from tests.api.helpers import csrf_token, session_of
from tests.conftest import _LOCK_WAITS, Factory, Tenant, login
from tests.events.conftest import make_event
from tests.plans import nodes

MEMBERS = 4000
BUILDINGS = 10
# A plan node that reads or sorts this many rows reads every member (or a good share of them).
MANY = 1000
# The members by name of a community, a compound, a building: a count may read them whole.
NAME_INDEXES = {
    "ix_memberships_community_name",
    "ix_memberships_compound_name",
    "ix_memberships_building_name",
}


@dataclass
class Large:
    tenant: Tenant
    compound_id: int
    building_id: int
    event_id: int
    name: str  # a member's, of two characters
    phone: str  # theirs


async def _sql(engine: Any, statement: str, **params: Any) -> Any:
    async with async_sessionmaker(engine)() as s, s.begin():
        return (await s.execute(text(statement), params)).scalars().all()


async def _outside_a_transaction(engine: Any, statement: str) -> None:
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(statement))


@pytest.fixture
async def large(client: Any, factory: Factory, engine: Any) -> AsyncIterator[Large]:
    tenant = await factory.tenant()
    cid = tenant.community_id
    [compound_id] = await _sql(
        engine,
        "INSERT INTO compounds (community_id, name, address, households) "
        "VALUES (:c, '大院', '', 0) RETURNING id",
        c=cid,
    )
    buildings = await _sql(
        engine,
        "INSERT INTO buildings (community_id, compound_id, name, leader_name) "
        "SELECT :c, :p, g || '号楼', '' FROM generate_series(1, :n) g RETURNING id",
        c=cid,
        p=compound_id,
        n=BUILDINGS,
    )
    # Nine times as many members of three other communities: in a street's or a district's
    # database a community is a share of the members, not all of them.
    others = [(await factory.tenant()).community_id for _ in range(3)]
    await _sql(
        engine,
        "WITH u AS (INSERT INTO users (display_name) "
        "  SELECT '邻居' || substr(md5(g::text), 1, 12) FROM generate_series(1, :n) g RETURNING id) "
        "INSERT INTO memberships (user_id, community_id, roles) "
        "SELECT u.id, (CAST(:cs AS bigint[]))[1 + u.id % 3], ARRAY['resident']::varchar[] FROM u "
        "RETURNING user_id",
        n=9 * MEMBERS,
        cs=others,
    )
    # Names whose order is not the ids' (md5), a volunteer in ten, spread over the buildings.
    made = await _sql(
        engine,
        "WITH u AS (INSERT INTO users (display_name) "
        "  SELECT '居民' || substr(md5(g::text), 1, 12) FROM generate_series(1, :n) g RETURNING id) "
        "INSERT INTO memberships (user_id, community_id, roles, compound_id, building_id, room) "
        "SELECT u.id, :c, CASE WHEN u.id % 10 = 0 THEN ARRAY['resident', 'volunteer'] "
        "  ELSE ARRAY['resident'] END::varchar[], :p, (CAST(:bs AS bigint[]))[1 + u.id % :b], '101' "
        "FROM u RETURNING user_id",
        n=MEMBERS,
        c=cid,
        p=compound_id,
        bs=buildings,
        b=BUILDINGS,
    )
    assert len(made) == MEMBERS
    # A phone for each (their ids' digits are their own), and one of them named as people are.
    await _sql(
        engine,
        "UPDATE users SET phone = '198' || lpad(id::text, 8, '0') WHERE id = ANY(CAST(:us AS bigint[])) "
        "RETURNING id",
        us=made,
    )
    [phone] = await _sql(
        engine, "UPDATE users SET display_name = '王芳' WHERE id = :u RETURNING phone", u=made[1234]
    )
    # As autovacuum leaves a table: its statistics current, its pages all visible.
    await _outside_a_transaction(engine, "VACUUM ANALYZE users, memberships")
    await login(client, tenant.admin)
    event_id = await make_event(client, tenant.admin, cid)
    await session_of(client, tenant.admin)
    try:
        yield Large(tenant, compound_id, buildings[3], event_id, "王芳", phone)
    finally:
        # The people stay (deleting 40,000 users checks every table that names a user): without
        # a membership they are nobody's.
        await _sql(
            engine,
            "DELETE FROM memberships WHERE community_id = ANY(CAST(:cs AS bigint[])) RETURNING id",
            cs=[cid, *others],
        )
        # Statistics of the members as the other tests left them, not of these 40,000.
        await _outside_a_transaction(engine, "ANALYZE memberships")


@contextmanager
def sent_with_values(app: Any) -> Iterator[list[tuple[str, Any]]]:
    """The statements the pages' sessions send while a block runs, with their values."""
    engine = app.state["db_config"].get_engine().sync_engine
    sent: list[tuple[str, Any]] = []

    def log(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", log)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", log)


def _literal(value: Any) -> str:
    """A value of the pages' statements as SQL (EXECUTE takes no parameters of its own)."""
    if isinstance(value, bool | int):
        return str(value).upper() if isinstance(value, bool) else str(value)
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(map(_literal, value)) + "]"
    return "'" + str(value).replace("'", "''") + "'"


async def _plans(db: AsyncSession, sent: list[tuple[str, Any]], generic: bool) -> list[dict[str, Any]]:
    """The executed plan of each statement in `sent` that reads the members (EXPLAIN ANALYZE),
    planned for its values or, `generic`, for any values (as a pooled connection may settle on
    after five runs of a prepared statement)."""
    conn = await uow.connection_of(db)
    await conn.execute("SET LOCAL plan_cache_mode = " + ("force_generic_plan" if generic else "auto"))
    plans = []
    for statement, parameters in sent:
        if statement.lstrip().upper().startswith("SELECT") and "memberships" in statement:
            values = list(parameters or ())
            if generic:
                await conn.execute("PREPARE members_read AS " + statement)
                literals = ", ".join(map(_literal, values))
                found = await conn.fetchval(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE members_read({literals})"
                )
            else:
                found = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, *values)
            if generic:
                await conn.execute("DEALLOCATE members_read")
            plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
            plans.append({"statement": statement, "plan": plan})
    await db.rollback()
    return plans


def _reads_a_page(found: dict[str, Any], searching: bool) -> list[str]:
    """What in a plan reads or sorts every member: a sequential scan of the members or people,
    a sort of many rows, a read of many members but for a count through the members' indexes;
    in a search, a read of many members, a count's too, and those its filter left out."""
    wrong = []
    counts = found["statement"].lstrip().startswith("SELECT count(")
    for node in nodes(found["plan"]):
        kind, table = node["Node Type"], node.get("Relation Name")
        # The rows a node gave; in a search, also those its filter (or a bitmap's recheck) left
        # out, which it read as well.
        counted = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck")
        read = sum(node.get(k, 0) for k in (counted if searching else counted[:1]))
        rows = read * node.get("Actual Loops", 1)
        if kind == "Seq Scan" and table in ("memberships", "users"):
            wrong.append(f"{kind} on {table}")
        if kind in ("Sort", "Incremental Sort") and any(
            child.get("Actual Rows", 0) >= MANY for child in node.get("Plans", [])
        ):
            wrong.append(f"{kind} of {node['Plans'][0].get('Actual Rows')} rows")
        if table == "memberships" and rows >= MANY:
            indexes = {n.get("Index Name") for n in nodes(node)}
            # A count of every member reads them all, by their names' index or from another index
            # alone (the members and their people, (user_id, community_id)): where the test's
            # community is most of the table, as in a whole run, the narrower index read whole
            # costs PostgreSQL less, and it did choose it for the wish form's count of the active.
            whole_count = counts and (indexes & NAME_INDEXES or kind == "Index Only Scan")
            if searching or not whole_count:
                wrong.append(f"{kind} of {rows} members")
    return wrong


PAGES = {
    "residents": "/admin/c/{c}/residents",
    "residents, page 3": "/admin/c/{c}/residents?page=3",
    "residents of a compound, page 2": "/admin/c/{c}/residents?compound={p}&page=2",
    "residents of a building": "/admin/c/{c}/residents?building={b}",
    "residents of a building, page 2": "/admin/c/{c}/residents?building={b}&page=2",
    "the award form": "/admin/c/{c}/ledger",
    "the award form, page 3": "/admin/c/{c}/ledger?people_page=3",
    "the honour hours' form": "/admin/c/{c}/approvals",
    "the honour hours' form, page 3": "/admin/c/{c}/approvals?people_page=3",
    "an event's organisers": "/admin/c/{c}/events/new",
    "whom a wish is posted for": "/c/{c}/wishes",
    "whom a wish is posted for, page 3": "/c/{c}/wishes?people_page=3",
    "a sign-up for someone": "/events/{e}/signup-for?q=居民a",
    "a sign-up for someone, page 3": "/events/{e}/signup-for?q=居民a&page=3",
    "residents found by a name of two characters": "/admin/c/{c}/residents?q={name}",
    "residents found by a tail of a phone": "/admin/c/{c}/residents?q={tail}",
    "residents found by a whole number with spaces": "/admin/c/{c}/residents?q={spaced}",
    "residents found by a whole number with dashes": "/admin/c/{c}/residents?q={dashed}",
    "the award form, found by name": "/admin/c/{c}/ledger?q={name}",
    "the honour hours' form, found by a tail of a phone": "/admin/c/{c}/approvals?q={tail}",
    "an event's organisers, found by name": "/admin/c/{c}/events/new?who={name}",
    "whom a wish is posted for, found by a tail of a phone": "/c/{c}/wishes?who={tail}",
    "a sign-up for someone, found by name": "/events/{e}/signup-for?q={name}",
}


async def test_a_large_communitys_member_lists_read_a_page_not_every_member(
    client: Any, app: Any, db: AsyncSession, large: Large
) -> None:
    cid = large.tenant.community_id
    phone = large.phone
    failures: dict[str, list[Any]] = {}
    for name, path in PAGES.items():
        with sent_with_values(app) as sent:
            page = await client.get(
                path.format(
                    c=cid,
                    p=large.compound_id,
                    b=large.building_id,
                    e=large.event_id,
                    name=large.name,
                    tail=phone[-5:],
                    spaced=f"{phone[:3]} {phone[3:7]} {phone[7:]}",
                    dashed=f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
                )
            )
        assert page.status_code == 200, (name, page.text[:500])
        if "found" in name and "organisers" not in name:  # the one found is no organiser
            assert large.name in page.text, name
        custom = await _plans(db, sent, generic=False)
        generic = await _plans(db, sent, generic=True)
        assert custom and len(custom) == len(generic), name
        assert any(re.search(r"\$\d", json.dumps(found["plan"])) for found in generic), name
        for with_values, for_any in zip(custom, generic, strict=True):
            checked = [("with values", with_values)]
            # PostgreSQL keeps a generic plan only while it costs no more than the plans made for
            # the values: one dearer (a count it would read whole, a compound's page it would
            # sort) is never the one run, and each run is planned for its values (checked above).
            # A compound's page is the test's whole community (its 4,000 members are all in the
            # one compound, where a real community has several): a plan made for any compound,
            # estimated for a compound of the average size, sorted them in whole runs as the
            # statistics fell (the members of every other test's compounds), so only its plans
            # for its values are checked, which walk the compound's index (migration 0051).
            if for_any["plan"]["Total Cost"] <= with_values["plan"]["Total Cost"] and "compound" not in name:
                checked.append(("generic", for_any))
            for kind, found in checked:
                wrong = _reads_a_page(found, searching="found" in name)
                if wrong:
                    failures.setdefault(f"{name} ({kind})", []).append((wrong, found["statement"]))
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)


async def test_a_renamed_person_is_listed_under_the_new_name_in_each_of_their_communities(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    for name in ("Bea", "Cai"):
        await factory.person(tenant, name=name)
    person = await factory.person(tenant, name="Abe")
    # Their membership of a second community, made straight in the table: the database names it.
    await _sql(
        engine,
        "INSERT INTO memberships (user_id, community_id, roles) VALUES (:u, :c, ARRAY['resident']) "
        "RETURNING display_name",
        u=person.user_id,
        c=other.community_id,
    )
    await session_of(client, person)
    token = await csrf_token(client, "/me/name")
    renamed = await client.post(
        "/me/name", data={"display_name": "Dan", "_csrf_token": token}, follow_redirects=False
    )
    assert renamed.status_code == 303, renamed.text[:500]
    kept = await _sql(
        engine,
        "SELECT display_name FROM memberships WHERE user_id = :u ORDER BY community_id",
        u=person.user_id,
    )
    assert kept == ["Dan", "Dan"]
    await session_of(client, tenant.admin)
    listed = (await client.get(f"/admin/c/{tenant.community_id}/residents")).text
    assert "Abe" not in listed
    assert listed.index("Bea") < listed.index("Cai") < listed.index("Dan")


async def test_a_person_renamed_while_joining_a_community_is_listed_there_under_the_new_name(
    factory: Factory, engine: Any
) -> None:
    """A membership made while its person is renamed (an admin enrolling a resident who changes
    their name at that moment) kept the old name: the membership's insert read the committed
    name, and the rename's update of the memberships did not see the uncommitted one. Each now
    waits for the other, whichever comes first."""
    tenant, other = await factory.tenant(), await factory.tenant()
    sessions = async_sessionmaker(engine)
    for first in ("membership", "rename"):
        person = await factory.person(tenant, name="Old")
        join = text(
            "INSERT INTO memberships (user_id, community_id, roles) VALUES (:u, :c, ARRAY['resident'])"
        )
        rename = text("UPDATE users SET display_name = :n WHERE id = :u")
        async with sessions() as one, sessions() as two:
            if first == "membership":
                await one.execute(join, {"u": person.user_id, "c": other.community_id})
                second = asyncio.create_task(two.execute(rename, {"n": "New", "u": person.user_id}))
            else:
                await one.execute(rename, {"n": "New", "u": person.user_id})
                second = asyncio.create_task(
                    two.execute(join, {"u": person.user_id, "c": other.community_id})
                )
            async with sessions() as watcher:
                for _ in range(40):  # the second statement either waits on the first or is done
                    if second.done() or await watcher.scalar(_LOCK_WAITS):
                        break
                    await watcher.rollback()
                    await asyncio.sleep(0.05)
            await one.commit()
            await second
            await two.commit()
        kept = await _sql(
            engine,
            "SELECT display_name FROM memberships WHERE user_id = :u ORDER BY community_id",
            u=person.user_id,
        )
        assert kept == ["New", "New"], first


NAMES = [
    "王芳",
    "王小芳",
    "Jiménez",
    "JIMÉNEZ",
    "İlker",
    "straße",
    "王_阿姨",
    "王x阿姨",
    "100%纯",
    "a\\b",
    "张 三",
]
WORDS = [
    "王",
    "芳",
    "王芳",
    "小芳",
    "jim",
    "ÉNEZ",
    "i",
    "İl",
    "ß",
    "SS",
    "_",
    "%",
    "\\",
    " ",
    "张 ",
    "x阿",
    "0%",
]
PHONES = ["13912345678", "19800001234"]
DIGITS = ["1", "12", "5678", "0000 1234", "139123456789", "３"]


async def test_the_index_of_characters_and_pairs_keeps_every_row_the_words_find(engine: Any) -> None:
    """Whatever has the words typed in it, case aside, has each of their characters and pairs
    (search_grams, migration 0051), so a search through that index finds what the words alone
    find: names and phones against words of one character and more, in any case, with a LIKE's
    wildcards, a backslash and spaces."""
    for stored, typed in ((NAMES, WORDS), (PHONES, DIGITS)):
        [pairs] = await _sql(
            engine,
            "SELECT json_build_array(count(*) FILTER (WHERE s ILIKE p), "
            "  count(*) FILTER (WHERE s ILIKE p AND search_grams(s) @> search_grams(w)), "
            "  count(*) FILTER (WHERE s ILIKE p AND NOT search_grams(s) @> search_grams(w)))::text "
            "FROM unnest(CAST(:stored AS text[])) s, "
            "  unnest(CAST(:typed AS text[]), CAST(:patterns AS text[])) AS t(w, p)",
            stored=stored,
            typed=typed,
            patterns=[people.containing(words) for words in typed],
        )
        found, through_the_index, missed = json.loads(pairs)
        assert found > 0 and through_the_index == found and missed == 0, (found, through_the_index)


async def test_the_event_forms_organisers_are_a_page_read_from_the_index_of_those_who_may_organise(
    client: Any, app: Any, db: AsyncSession, large: Large
) -> None:
    """The organisers' picker read the community's members by name until it had 201 volunteers,
    grid workers, staff or admins, reading past every resident on the way: with one member in
    ten a volunteer, some 2,000 of the 4,000 members for each form. It reads a page of them, and
    their count, from migration 0053's index of them; its search reads the few it finds."""
    cid = large.tenant.community_id
    paths = (
        f"/admin/c/{cid}/events/new",
        f"/events/{large.event_id}/edit",
        f"/admin/c/{cid}/events/new?who={large.name}",
    )
    failures: dict[str, list[Any]] = {}
    for path in paths:
        with sent_with_values(app) as sent:
            page = await client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        custom = await _plans(db, sent, generic=False)
        generic = await _plans(db, sent, generic=True)
        assert custom and len(custom) == len(generic), path
        for with_values, for_any in zip(custom, generic, strict=True):
            checked = [("with values", with_values)]
            if for_any["plan"]["Total Cost"] <= with_values["plan"]["Total Cost"]:
                checked.append(("generic", for_any))
            for kind, found in checked:
                # What a node's filter left out was read too: the residents passed over.
                wrong = _reads_a_page(found, searching=True)
                if wrong:
                    failures.setdefault(f"{path} ({kind})", []).append((wrong, found["statement"]))
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)
