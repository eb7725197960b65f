"""Importing residents: the dry run reports each bad row (in the reader's language) and writes
nothing; the import makes the good rows' residents and memberships; a second run of the same
file changes nothing; a phone known in another community joins without any takeover; CSV and
.xlsx, in either language's header; roles as the importer may give them; cards for residents
without a phone; a bad file gets a friendly page."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.security import verify_password
from app.core.uploads import TableFile, sniff_table
from app.imports import files
from tests.api.helpers import post_form, session_of
from tests.conftest import Factory, count, login
from tests.imports.conftest import (
    Place,
    checked,
    counts,
    csv_file,
    imported,
    phones,
    upload,
    xlsx_file,
)

ZH = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]
EN = ["phone", "name", "compound", "building", "roles", "no_phone"]


async def _members(engine: Any, cid: int) -> int:
    async with async_sessionmaker(engine)() as s:
        return await count(s, "SELECT count(*) FROM memberships WHERE community_id = :c", c=cid)


async def test_bad_rows_are_reported_good_rows_imported_and_a_second_run_changes_nothing(
    client: Any, engine: Any, place: Place
) -> None:
    cid = place.cid
    good = phones(3)
    rows = [
        [good[0], "张三", place.compound, "1号楼", "居民", ""],
        [good[1], "李四", place.compound, "2号楼", "志愿者、网格员", ""],
        ["", "王奶奶", place.compound, "1号楼", "", "是"],
        ["12345", "坏号码", place.compound, "1号楼", "", ""],  # row 5: bad phone
        [good[2], "", "没有这个小区", "", "", ""],  # row 6: no name, unknown compound
        [good[0], "张三重复", place.compound, "1号楼", "", ""],  # row 7: phone twice (with row 2)
        ["", "没手机没标记", place.compound, "", "", ""],  # row 8: no phone, no_phone not set
        [phones(1)[0], "赵六", place.compound, "9号楼", "园丁", ""],  # row 9: unknown building and role
    ]
    before = await _members(engine, cid)
    run_id, page = await checked(client, cid, csv_file(ZH, rows))
    # The dry run: counts and a report per row, and nothing written.
    assert counts(page) == {"created": 2, "joined": 0, "unchanged": 0, "rejected": 6}
    for row in (2, 5, 6, 7, 8, 9):
        assert f'data-row="{row}"' in page, row
    assert 'data-row="3"' not in page and 'data-row="4"' not in page
    assert await _members(engine, cid) == before
    async with async_sessionmaker(engine)() as s:
        assert await count(s, "SELECT count(*) FROM users WHERE phone = ANY(:p)", p=good) == 0
    # The report in English says the same per row.
    client.cookies.set("lang", "en")
    english = await client.get(f"/admin/c/{cid}/imports/{run_id}")
    client.cookies.delete("lang")
    assert "This community has no compound of this name." in english.text
    assert "The same phone number is in row 7 too." in english.text
    assert "Unknown role." in english.text
    # The rejected rows as CSV, each with what is wrong.
    report = await client.get(f"/admin/c/{cid}/imports/{run_id}/rejected.csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert [int(line[0]) for line in lines[1:]] == [2, 5, 6, 7, 8, 9]

    # Only rows 3 and 4 are imported (row 2 shares its phone with row 7: both are refused).
    done = await imported(client, engine, cid, run_id)
    assert counts(done) == {"created": 2, "joined": 0, "unchanged": 0, "rejected": 6}
    assert await _members(engine, cid) == before + 2
    async with async_sessionmaker(engine)() as s:
        li = (
            await s.execute(
                text(
                    "SELECT u.display_name, u.password_hash, m.roles, m.compound_id, m.building_id "
                    "FROM users u JOIN memberships m ON m.user_id = u.id "
                    "WHERE u.phone = :p AND m.community_id = :c"
                ),
                {"p": good[1], "c": cid},
            )
        ).one()
        assert li.display_name == "李四" and li.password_hash is None
        assert sorted(li.roles) == ["grid_worker", "volunteer"]
        assert (li.compound_id, li.building_id) == (place.compound_id, place.building_ids[1])
        grandma = (
            await s.execute(
                text(
                    "SELECT u.phone, m.building_id FROM users u JOIN memberships m ON m.user_id = u.id "
                    "WHERE m.community_id = :c AND u.display_name = '王奶奶'"
                ),
                {"c": cid},
            )
        ).one()
        assert grandma.phone is None and grandma.building_id == place.building_ids[0]
        # Audited: the file checked, confirmed, imported with its counts, and each person added.
        actions = dict(
            (
                await s.execute(
                    text(
                        "SELECT action, count(*) FROM audit_entries WHERE community_id = :c "
                        "AND (target = :t OR data->>'import' = :i) GROUP BY action"
                    ),
                    {"c": cid, "t": f"import:{run_id}", "i": str(run_id)},
                )
            ).all()
        )
        assert actions == {
            "residents.import_checked": 1,
            "residents.import_confirmed": 1,
            "residents.imported": 1,
            "resident.imported": 2,
        }
        done_entry = (
            await s.execute(
                text(
                    "SELECT actor_id, data FROM audit_entries "
                    "WHERE action = 'residents.imported' AND target = :t"
                ),
                {"t": f"import:{run_id}"},
            )
        ).one()
        assert done_entry.actor_id == place.tenant.admin.user_id
        assert done_entry.data["created"] == 2 and done_entry.data["rejected"] == 6
        assert done_entry.data["file"] == "residents.csv"

    # The same file again: everything good is unchanged, nothing is added.
    again_id, again = await checked(client, cid, csv_file(ZH, rows))
    assert counts(again) == {"created": 0, "joined": 0, "unchanged": 2, "rejected": 6}
    done_again = await imported(client, engine, cid, again_id)
    assert counts(done_again) == {"created": 0, "joined": 0, "unchanged": 2, "rejected": 6}
    assert await _members(engine, cid) == before + 2
    # A confirmed run cannot be confirmed again.
    twice = await post_form(client, f"/admin/c/{cid}/imports/{again_id}/start", {"confirm": "1"})
    assert twice.status_code == 409


async def test_a_phone_of_another_community_joins_without_takeover(
    client: Any, engine: Any, factory: Factory, place: Place
) -> None:
    other = await factory.tenant()
    elsewhere = await factory.person(other, name="原来的名字")
    cid = place.cid
    run_id, page = await checked(
        client,
        cid,
        xlsx_file(EN, [[elsewhere.phone, "新名字", place.compound, "1号楼", "volunteer", None]]),
        "x.xlsx",
    )
    assert counts(page) == {"created": 0, "joined": 1, "unchanged": 0, "rejected": 0}
    done = await imported(client, engine, cid, run_id)
    assert counts(done)["joined"] == 1
    async with async_sessionmaker(engine)() as s:
        user = (
            await s.execute(
                text("SELECT display_name, password_hash FROM users WHERE id = :u"), {"u": elsewhere.user_id}
            )
        ).one()
        assert user.display_name == "原来的名字"
        assert verify_password(user.password_hash, elsewhere.password) or verify_password(
            elsewhere.password, user.password_hash
        )
        roles = (
            await s.execute(
                text("SELECT community_id, roles FROM memberships WHERE user_id = :u ORDER BY community_id"),
                {"u": elsewhere.user_id},
            )
        ).all()
        assert {(r.community_id, tuple(r.roles)) for r in roles} == {
            (other.community_id, ("resident",)),
            (cid, ("volunteer",)),
        }
    # The person still logs in with their own password.
    await login(client, elsewhere)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("header", [ZH, EN, ["Phone", "Name", "Compound", "Building", "Roles", "No phone"]])
async def test_csv_and_xlsx_with_either_languages_header(
    client: Any, engine: Any, place: Place, fmt: str, header: list[str]
) -> None:
    numbers = phones(2)
    # Excel keeps a phone typed into a cell as a number.
    rows: list[list[Any]] = [
        [int(numbers[0]) if fmt == "xlsx" else numbers[0], "甲", place.compound, "1号楼", "", ""],
        [numbers[1], "乙", place.compound, "", "resident", "no"],
        [None if fmt == "xlsx" else "", "丙", place.compound, "2号楼", "", "yes"],
    ]
    body = xlsx_file(header, rows) if fmt == "xlsx" else csv_file(header, rows)
    # The name says nothing: the bytes are sniffed.
    run_id, page = await checked(client, place.cid, body, "名单.dat")
    assert counts(page) == {"created": 3, "joined": 0, "unchanged": 0, "rejected": 0}
    await imported(client, engine, place.cid, run_id)
    async with async_sessionmaker(engine)() as s:
        assert await count(s, "SELECT count(*) FROM users WHERE phone = ANY(:p)", p=numbers) == 2


async def test_roles_the_importer_may_not_give_are_rejected(
    client: Any, engine: Any, factory: Factory, place: Place
) -> None:
    cid = place.cid
    numbers = phones(4)
    rows = [
        [numbers[0], "甲", "", "", "admin", ""],
        [numbers[1], "乙", "", "", "街道管理员", ""],  # a street role: never by import
        ["", "丙", "", "", "工作人员", "是"],  # staff need a phone
        [numbers[2], "丁", "", "", "resident", ""],
    ]
    _run, page = await checked(client, cid, csv_file(ZH, rows))
    assert counts(page) == {"created": 2, "joined": 0, "unchanged": 0, "rejected": 2}
    # Staff enrol residents only, by import too.
    staff = await factory.person(place.tenant, roles=["resident", "staff"], name="工作人员")
    await session_of(client, staff)
    _run, page = await checked(client, cid, csv_file(ZH, rows + [[numbers[3], "戊", "", "", "志愿者", ""]]))
    assert counts(page) == {"created": 1, "joined": 0, "unchanged": 0, "rejected": 4}
    assert "您不能通过导入授予此角色" in page or 'data-row="6"' in page
    # A resident may not import at all.
    resident = await factory.person(place.tenant, name="居民")
    await session_of(client, resident)
    assert (await client.get(f"/admin/c/{cid}/imports")).status_code == 403
    assert (await upload(client, cid, csv_file(ZH, rows))).status_code == 403


async def test_new_residents_without_a_phone_get_printable_cards(
    client: Any, engine: Any, place: Place
) -> None:
    cid = place.cid
    rows = [["", f"老人{i}", place.compound, "1号楼", "", "是"] for i in range(3)]
    rows.append([phones(1)[0], "有手机", place.compound, "1号楼", "", ""])
    run_id, _page = await checked(client, cid, csv_file(ZH, rows))
    done = await imported(client, engine, cid, run_id)
    assert f"/admin/c/{cid}/imports/{run_id}/cards" in done
    sheet = await post_form(client, f"/admin/c/{cid}/imports/{run_id}/cards")
    assert sheet.status_code == 200, sheet.text[:500]
    assert sheet.text.count('class="member-card"') == 3
    for i in range(3):
        assert f"老人{i}" in sheet.text
    async with async_sessionmaker(engine)() as s:
        assert (
            await count(
                s,
                "SELECT count(*) FROM member_cards c JOIN users u ON u.id = c.user_id "
                "WHERE u.display_name LIKE '老人%' AND c.kind = 'printed' AND c.revoked_at IS NULL "
                "AND u.id IN (SELECT user_id FROM memberships WHERE community_id = :c)",
                c=cid,
            )
            == 3
        )


def _damaged_workbook() -> bytes:
    """A workbook whose sheet is cut off half way: it opens, and breaks only as it is read."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH)
    sheet.append(["13800000001", "张三", "", "", "居民", ""])
    whole = io.BytesIO()
    book.save(whole)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(whole.getvalue())) as source, zipfile.ZipFile(out, "w") as damaged:
        for info in source.infolist():
            data = source.read(info.filename)
            damaged.writestr(info, data[: len(data) // 2] if info.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_damaged_workbook(), "无法把文件读成表格"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "xls"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "CSV"),
        (b"PK\x03\x04not a zip at all", "CSV"),
        ("名字,地址\n张三,一号\n".encode(), "手机"),
        ("手机号,姓名\n".encode(), "没有"),
        (b"", ""),
    ],
)
async def test_a_bad_file_gets_a_friendly_page(client: Any, place: Place, body: bytes, says: str) -> None:
    answer = await upload(client, place.cid, body, "residents.csv")
    assert answer.status_code == 422, answer.text[:500]
    assert 'class="alert"' in answer.text and says in answer.text
    assert 'name="file"' in answer.text  # the form again


async def test_the_sample_files_read_back_as_they_are(client: Any, engine: Any, place: Place) -> None:
    """The sample (in Chinese, and in English) is itself a file the import reads: its rows are
    refused only for the sample's compound, which this community does not have."""
    for lang in ("zh", "en"):
        client.cookies.set("lang", lang)
        for fmt in ("csv", "xlsx"):
            sample = await client.get(f"/admin/c/{place.cid}/imports/sample/residents.{fmt}")
            assert sample.status_code == 200
            _run, page = await checked(client, place.cid, sample.content, f"sample.{fmt}")
            assert sum(counts(page).values()) == 3
    client.cookies.delete("lang")


@pytest.mark.parametrize("size", [5 * 1024 * 1024 + 1, 7 * 1024 * 1024])
async def test_a_file_over_five_megabytes_is_refused_with_the_form_again(
    client: Any, engine: Any, place: Place, size: int
) -> None:
    """Just over the file's limit (read and refused), and over the form's (the request read to
    its end, its text fields kept, the file dropped): both answer the form with the limit."""
    line = "13800000000,张三,,,,\n"
    body = ("手机号,姓名,小区,楼栋,角色,无手机\n" + line * (size // len(line.encode()) + 1)).encode()
    assert len(body) > size - 1
    before = await _members(engine, place.cid)
    answer = await upload(client, place.cid, body)
    assert answer.status_code in (413, 422), answer.text[:300]
    assert "最大 5 MB" in answer.text and 'name="file"' in answer.text
    assert await _members(engine, place.cid) == before


def test_a_workbook_with_a_cell_far_off_is_read_in_moments() -> None:
    """A few kB whose one cell sits in the sheet's last column, 5,000 rows down: every row was
    read as wide as that column (16,384 cells), 80 million cells for two residents, a worker's CPU
    held for a minute. Rows are read as far as the import's columns; the far cell is no resident."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH)
    sheet.append(["13800000001", "张三", "", "", "居民", ""])
    sheet.append(["13800000002", "李四", "", "", "居民", "", "beside the columns"])
    sheet.cell(row=5_000, column=16_384, value="far off")
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    assert len(data) < 10_000
    started = time.process_time()
    header, rows = files.table(TableFile(sniff_table(data), data, "residents.xlsx"))
    took = time.process_time() - started
    assert [(no, cells[:2]) for no, cells in rows] == [
        (2, ["13800000001", "张三"]),
        (3, ["13800000002", "李四"]),
    ]
    assert not header.missing
    assert took < 2.0, took
