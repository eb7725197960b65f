"""A spreadsheet's cells are kept as the forms keep what a person typed (NFC,
app.core.fields.kept_form): a name typed with its accents apart (NFD, as some phones and Macs
write it) is stored NFC and found by the name as the admin types it, and a compound or building
written so is the community's own."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.imports.conftest import Place, checked, counts, csv_file, imported, phones, sql

EN = ["phone", "name", "compound", "building", "roles", "no_phone"]


async def test_a_name_and_places_typed_apart_import_as_the_forms_keep_them(
    client: Any, engine: Any, place: Place
) -> None:
    name = "José Müller 李"
    compound, building = "Résidence Hélène", "Bâtiment 1"
    compound_id = await sql(
        engine,
        "INSERT INTO compounds (community_id, name, address, households) VALUES (:c, :n, '', 0) RETURNING id",
        c=place.cid,
        n=compound,
    )
    building_id = await sql(
        engine,
        "INSERT INTO buildings (community_id, compound_id, name, leader_name) "
        "VALUES (:c, :p, :n, '') RETURNING id",
        c=place.cid,
        p=compound_id,
        n=building,
    )
    apart = [unicodedata.normalize("NFD", t) for t in (name, compound, building)]
    assert apart[0] != name and apart[1] != compound and apart[2] != building
    [phone] = phones(1)
    run_id, page = await checked(client, place.cid, csv_file(EN, [[phone, *apart, "", ""]]))
    assert counts(page) == {"created": 1, "joined": 0, "unchanged": 0, "rejected": 0}, page[:3000]
    await imported(client, engine, place.cid, run_id)

    async with async_sessionmaker(engine)() as s:
        stored = (
            await s.execute(
                text(
                    "SELECT u.display_name, m.compound_id, m.building_id FROM users u "
                    "JOIN memberships m ON m.user_id = u.id AND m.community_id = :c WHERE u.phone = :p"
                ),
                {"c": place.cid, "p": phone},
            )
        ).one()
    assert tuple(stored) == (name, compound_id, building_id)

    # Found by the name as typed on the admin's keyboard, and by the name typed apart too.
    for typed in (name, apart[0], "Müller"):
        found = await client.get(f"/admin/c/{place.cid}/residents", params={"q": typed})
        assert found.status_code == 200
        assert name in found.text and "共找到居民 1 位。" in found.text, typed
