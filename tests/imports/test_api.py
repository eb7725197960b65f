"""The imports' JSON API: the same dry run (nothing written), the import queued with
`dry_run: false` and followed to its end, a second confirmation refused, and only admins and staff
of the community may import."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.conftest import Factory, count, login
from tests.imports.conftest import Place, csv_file, phones, wait_done

HEADER = ["phone", "name", "compound", "building", "roles", "no_phone"]


def _body(rows: list[list[Any]], dry_run: bool = True) -> dict[str, Any]:
    return {
        "content_base64": base64.b64encode(csv_file(HEADER, rows)).decode(),
        "filename": "residents.csv",
        "dry_run": dry_run,
    }


async def test_the_api_checks_imports_and_reports_like_the_pages(
    client: Any, engine: Any, factory: Factory, place: Place
) -> None:
    cid = place.cid
    admin = await login(client, place.tenant.admin)
    numbers = phones(2)
    rows = [[numbers[0], "甲", place.compound, "1号楼", "volunteer", ""], ["123", "乙", "", "", "", ""]]
    dry = await client.post(f"/api/v1/communities/{cid}/imports", json=_body(rows), headers=admin.headers)
    assert dry.status_code == 201, dry.text
    answer = dry.json()
    assert answer["status"] == "checked"
    assert answer["counts"] == {"created": 1, "joined": 0, "unchanged": 0, "rejected": 1, "total": 2}
    assert answer["rejected_rows"] == [
        {"row": 3, "column": "phone", "code": "phone_invalid", "detail": "这不是11位的大陆手机号码。"}
    ]
    async with async_sessionmaker(engine)() as s:
        assert await count(s, "SELECT count(*) FROM users WHERE phone = :p", p=numbers[0]) == 0

    queued = await client.post(
        f"/api/v1/communities/{cid}/imports", json=_body(rows, dry_run=False), headers=admin.headers
    )
    assert queued.status_code == 201 and queued.json()["status"] == "queued", queued.text
    run_id = queued.json()["id"]
    await wait_done(engine, run_id)
    done = (await client.get(f"/api/v1/communities/{cid}/imports/{run_id}", headers=admin.headers)).json()
    assert done["status"] == "done" and done["done_rows"] == 2
    assert done["counts"] == {"created": 1, "joined": 0, "unchanged": 0, "rejected": 1, "total": 2}
    again = await client.post(f"/api/v1/communities/{cid}/imports/{run_id}/start", headers=admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_done"
    # The first, checked run queued later finds the person already here.
    started = await client.post(
        f"/api/v1/communities/{cid}/imports/{answer['id']}/start", headers=admin.headers
    )
    assert started.status_code == 200 and started.json()["status"] == "queued"
    await wait_done(engine, answer["id"])
    later = (
        await client.get(f"/api/v1/communities/{cid}/imports/{answer['id']}", headers=admin.headers)
    ).json()
    assert later["counts"]["unchanged"] == 1 and later["counts"]["created"] == 0

    bad = await client.post(
        f"/api/v1/communities/{cid}/imports",
        json={"content_base64": base64.b64encode(b"\xd0\xcf\x11\xe0" + bytes(600)).decode()},
        headers=admin.headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    resident = await login(client, await factory.person(place.tenant, name="居民"))
    refused = await client.post(
        f"/api/v1/communities/{cid}/imports", json=_body(rows), headers=resident.headers
    )
    assert refused.status_code == 403
    other = await factory.tenant()
    stranger = await login(client, other.admin)
    assert (
        await client.get(f"/api/v1/communities/{cid}/imports/{run_id}", headers=stranger.headers)
    ).status_code == 403
