"""10,000 rows in one file: the dry run's forecast and the import's outcome are the counts the
test made the file with, and the database holds exactly those residents and memberships; a
second check of the same file finds every good row unchanged. (The time is measured by
bench/import_bench.py, not asserted here.)"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.conftest import Factory, count
from tests.imports.conftest import Place, checked, counts, csv_file, imported, phones

ROWS = 10_000
HEADER = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]


async def test_ten_thousand_rows_are_imported_as_counted(
    client: Any, engine: Any, factory: Factory, place: Place
) -> None:
    cid = place.cid
    other = await factory.tenant()
    elsewhere = [await factory.person(other, name=f"外社区{i}") for i in range(30)]
    here = [await factory.person(place.tenant, name=f"本社区{i}") for i in range(20)]
    rows: list[list[Any]] = [[p.phone, "别的名字", place.compound, "1号楼", "", ""] for p in elsewhere]
    rows += [[p.phone, p.display_name, "", "", "", ""] for p in here]
    new_phones = phones(ROWS)
    expected = {"created": 0, "joined": len(elsewhere), "unchanged": len(here), "rejected": 0}
    without_phone = 0
    for i in range(ROWS - len(rows)):
        building = place.buildings[i % 2]
        if i % 100 == 99:
            rows.append(["12345", f"坏{i}", place.compound, building, "", ""])
            expected["rejected"] += 1
        elif i % 10 == 9:
            rows.append(["", f"老人{i}", place.compound, building, "", "是"])
            expected["created"] += 1
            without_phone += 1
        else:
            rows.append(
                [new_phones[i], f"居民{i}", place.compound, building, "志愿者" if i % 7 == 0 else "", ""]
            )
            expected["created"] += 1
    assert len(rows) == ROWS
    body = csv_file(HEADER, rows)
    async with async_sessionmaker(engine)() as s:
        before = await count(s, "SELECT count(*) FROM memberships WHERE community_id = :c", c=cid)

    started = time.perf_counter()
    run_id, page = await checked(client, cid, body)
    dry = time.perf_counter() - started
    assert counts(page) == expected
    started = time.perf_counter()
    done = await imported(client, engine, cid, run_id)
    took = time.perf_counter() - started
    print(f"{ROWS} rows: dry run {dry:.2f} s, import {took:.2f} s")
    assert counts(done) == expected

    async with async_sessionmaker(engine)() as s:
        members = await count(s, "SELECT count(*) FROM memberships WHERE community_id = :c", c=cid)
        assert members == before + expected["created"] + expected["joined"]
        made = new_phones[: ROWS - 50]
        assert (
            await count(
                s,
                "SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id AND m.community_id = :c "
                "WHERE u.phone = ANY(:p) AND u.password_hash IS NULL",
                c=cid,
                p=made,
            )
            == expected["created"] - without_phone
        )
        assert (
            await count(
                s,
                "SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id AND m.community_id = :c "
                "WHERE u.phone IS NULL AND u.display_name LIKE '老人%' AND m.building_id IS NOT NULL",
                c=cid,
            )
            == without_phone
        )
        volunteers = sum(1 for i in range(ROWS - 50) if i % 7 == 0 and i % 10 != 9 and i % 100 != 99)
        assert (
            await count(
                s,
                "SELECT count(*) FROM memberships "
                "WHERE community_id = :c AND roles = ARRAY['volunteer']::varchar[]",
                c=cid,
            )
            == volunteers
        )
        # Those of another community joined under their own names.
        assert (
            await count(
                s,
                "SELECT count(*) FROM users WHERE id = ANY(:u) AND display_name LIKE '外社区%'",
                u=[p.user_id for p in elsewhere],
            )
            == 30
        )
        assert (
            await count(
                s,
                "SELECT count(*) FROM audit_entries WHERE community_id = :c AND data->>'import' = :i",
                c=cid,
                i=str(run_id),
            )
            == expected["created"] + expected["joined"]
        )

    # The same file checked again: nothing new, every good row already here.
    _again, page = await checked(client, cid, body)
    assert counts(page) == {
        "created": 0,
        "joined": 0,
        "unchanged": ROWS - expected["rejected"],
        "rejected": expected["rejected"],
    }
