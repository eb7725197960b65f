"""A large file is checked on statistics that count its rows: PostgreSQL plans the checks of the
staged rows from import_rows' statistics, and those gathered while the table held only small
files said a run has a row or two; the check of 10,000 rows then joined each row to every other
(minutes of the database's CPU, where a hash join takes a tenth of a second)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.imports.conftest import Place, checked, counts, csv_file, phones, sql

HEADER = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]
ROWS = 2_000


async def test_the_dry_run_counts_the_staged_rows_in_the_tables_statistics(
    client: Any, engine: Any, place: Place
) -> None:
    # The statistics as PostgreSQL last gathered them: the rows staged before this file.
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE import_rows"))
    before = await sql(engine, "SELECT count(*) FROM import_rows")
    rows = [
        [phone, f"居民{i}", place.compound, place.buildings[i % 2], "", ""]
        for i, phone in enumerate(phones(ROWS))
    ]
    _run_id, page = await checked(client, place.cid, csv_file(HEADER, rows))
    assert counts(page)["created"] == ROWS
    planned = await sql(engine, "SELECT reltuples FROM pg_class WHERE oid = 'import_rows'::regclass")
    assert planned >= before + ROWS, (before, planned)
