"""Imports fixtures: a community with a compound and two buildings, its admin's browser, and the
helpers that upload a file, confirm it and run the import job."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import jobs
from app.imports import jobs as _import_jobs  # noqa: F401 - registers make_imports
from app.imports.models import ImportRun
from tests.api.helpers import csrf_token, session_of
from tests.conftest import Factory, Tenant, unique

COUNT = re.compile(r'data-count="(\w+)">(\d+)<')


@dataclass
class Place:
    tenant: Tenant
    compound: str
    buildings: tuple[str, str]
    compound_id: int
    building_ids: tuple[int, int]

    @property
    def cid(self) -> int:
        return self.tenant.community_id


async def sql(engine: Any, statement: str, **params: Any) -> Any:
    async with async_sessionmaker(engine)() as s, s.begin():
        return (await s.execute(text(statement), params)).scalar()


@pytest.fixture
async def place(client: Any, factory: Factory, engine: Any) -> Place:
    tenant = await factory.tenant()
    compound = unique("联邦新城")
    compound_id = await sql(
        engine,
        "INSERT INTO compounds (community_id, name, address, households) VALUES (:c, :n, '', 0) RETURNING id",
        c=tenant.community_id,
        n=compound,
    )
    ids = []
    for name in ("1号楼", "2号楼"):
        ids.append(
            await sql(
                engine,
                "INSERT INTO buildings (community_id, compound_id, name, leader_name) "
                "VALUES (:c, :p, :n, '') RETURNING id",
                c=tenant.community_id,
                p=compound_id,
                n=name,
            )
        )
    await session_of(client, tenant.admin)
    return Place(tenant, compound, ("1号楼", "2号楼"), compound_id, (ids[0], ids[1]))


def csv_file(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_file(header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(client: Any, cid: int, body: bytes, filename: str = "residents.csv") -> Any:
    token = await csrf_token(client, f"/admin/c/{cid}/imports")
    return await client.post(
        f"/admin/c/{cid}/imports",
        data={"_csrf_token": token},
        files={"file": (filename, body, "application/octet-stream")},
        follow_redirects=False,
    )


async def checked(client: Any, cid: int, body: bytes, filename: str = "residents.csv") -> tuple[int, str]:
    """Uploads a file; the run's id and its dry-run page."""
    answer = await upload(client, cid, body, filename)
    assert answer.status_code == 303, answer.text[:2000]
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200, page.text[:2000]
    return int(answer.headers["location"].rsplit("/", 1)[1]), page.text


def counts(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in COUNT.findall(page)}


async def imported(client: Any, engine: Any, cid: int, run_id: int) -> str:
    """Confirms the run, runs the job until it is done; its page."""
    token = await csrf_token(client, f"/admin/c/{cid}/imports")
    answer = await client.post(
        f"/admin/c/{cid}/imports/{run_id}/start",
        data={"_csrf_token": token, "confirm": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    await wait_done(engine, run_id)
    page = await client.get(f"/admin/c/{cid}/imports/{run_id}")
    assert page.status_code == 200
    return str(page.text)


async def wait_done(engine: Any, run_id: int) -> None:
    """Runs the import job until the run is done (a served app on this database runs the same
    job, woken by the confirmation, and may have taken the run first: then this waits for it)."""
    for _ in range(600):
        await jobs.run_now(engine, "app.imports.jobs.make_imports")
        async with async_sessionmaker(engine)() as s:
            run = await s.get(ImportRun, run_id)
            assert run is not None and run.status != "failed"
            if run.status == "done":
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"import run {run_id} not done after two minutes")


def phones(n: int) -> list[str]:
    """n phone numbers nobody else uses (a random block of 177...)."""
    base = secrets.randbelow(10**8 - n)
    return [f"177{base + i:08d}" for i in range(n)]
