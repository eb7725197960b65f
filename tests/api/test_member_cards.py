"""Member codes through the API and the pages: rotation, the 30 s limit, revocation, printed
cards and the A4 sheet for a building; QR images decode to the exact code."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.places import services as places
from tests.api.helpers import post_form, session_of
from tests.conftest import count, login, unique_phone
from tests.events.conftest import make_event, scan
from tests.qrtools import decode_svg

PRINTED_RE = re.compile(r"^JC1-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{28}$")


@pytest.fixture
def moved_clock():
    yield clock
    clock.reset()


async def _resolve(engine, code: str) -> int | str:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        try:
            return await member_cards.resolve_member_code(await connection_of(s), code)
        except DomainError as exc:
            return exc.code


def _card_images(html: str) -> list[str]:
    """Codes in the printed page's QR images (SVG data URIs), decoded by zxing-cpp."""
    found = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    return [decode_svg(base64.b64decode(item).decode()) for item in found]


async def test_phone_code_is_accepted_for_at_most_30_seconds(client, factory, engine, moved_clock):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    card = (await client.get("/api/v1/me/card", headers=person.headers)).json()
    assert await _resolve(engine, card["code"]) == person.user_id
    moved_clock.advance(timedelta(seconds=15))
    rotated = (await client.get("/api/v1/me/card", headers=person.headers)).json()
    assert rotated["code"] != card["code"]
    # The previous window still counts (a scan right at the change works)...
    assert await _resolve(engine, card["code"]) == person.user_id
    assert await _resolve(engine, rotated["code"]) == person.user_id
    # ...but never more than 30 s after the code's window began.
    moved_clock.advance(timedelta(seconds=15))
    assert await _resolve(engine, card["code"]) == "code_expired"
    assert await _resolve(engine, rotated["code"]) == person.user_id


async def test_a_phone_code_from_the_future_is_refused(client, factory, engine, moved_clock):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    moved_clock.advance(timedelta(seconds=15))
    future = (await client.get("/api/v1/me/card", headers=person.headers)).json()["code"]
    moved_clock.advance(timedelta(seconds=-15))
    assert await _resolve(engine, future) == "code_invalid"


async def test_card_expiry_is_the_end_of_the_window(client, factory, moved_clock):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    card = (await client.get("/api/v1/me/card", headers=person.headers)).json()
    expires = datetime.fromisoformat(card["expires_at"])
    assert timedelta(0) < expires - clock.now() <= timedelta(seconds=15)


async def test_a_tampered_mac_is_refused(client, factory, engine):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    code = (await client.get("/api/v1/me/card", headers=person.headers)).json()["code"]
    last = code[-1]
    tampered = code[:-1] + ("A" if last != "A" else "B")
    assert await _resolve(engine, tampered) == "code_invalid"
    assert await _resolve(engine, "JM1-NOSUCHCARD-1-AAAAAAAAAAAAAAAA") == "code_invalid"
    assert await _resolve(engine, "not a code") == "code_invalid"


async def test_the_phone_qr_image_decodes_to_the_code(client, factory):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    code = (await client.get("/api/v1/me/card", headers=person.headers)).json()["code"]
    svg = await client.get("/api/v1/me/card.svg", headers=person.headers)
    assert svg.headers["cache-control"] == "no-store"
    # Both were made in the same 15 s window unless the test straddled a boundary.
    again = (await client.get("/api/v1/me/card", headers=person.headers)).json()["code"]
    assert decode_svg(svg.text) in {code, again}


async def test_printed_card_code_is_random_anonymous_and_decodes_from_the_page(client, factory, engine, db):
    tenant = await factory.tenant()
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    await session_of(client, tenant.admin)
    page = await post_form(client, f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/card")
    assert page.status_code == 200, page.text
    codes = _card_images(page.text)
    assert len(codes) == 1
    code = codes[0]
    assert PRINTED_RE.match(code)
    # Nothing personal inside: no id, no name; the code is only a lookup key.
    assert "杨" not in code and f"-{elder.user_id}-" not in code
    assert await _resolve(engine, code) == elder.user_id
    # Printing again shows the same card.
    again = await post_form(client, f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/card")
    assert _card_images(again.text) == [code]
    assert "杨依伯" in again.text


async def test_reissuing_a_printed_card_revokes_the_old_one(client, factory, engine):
    tenant = await factory.tenant()
    elder = await factory.person(tenant, name="刘阿婆", phone=None)
    await session_of(client, tenant.admin)
    url = f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/card"
    old = _card_images((await post_form(client, url)).text)[0]
    new = _card_images((await post_form(client, url, {"reissue": "1", "confirm": "1"})).text)[0]
    assert new != old and PRINTED_RE.match(new)
    assert await _resolve(engine, old) == "code_invalid"
    assert await _resolve(engine, new) == elder.user_id


async def test_revoking_cards_stops_the_printed_card_and_old_phone_codes(client, factory, engine):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    # A resident with a phone number but no password: a printed card, and a phone card too.
    enrolled = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"display_name": "方阿姨", "phone": unique_phone()},
        headers=admin.headers,
    )
    user_id = enrolled.json()["user_id"]
    await session_of(client, tenant.admin)
    printed = _card_images(
        (await post_form(client, f"/admin/c/{tenant.community_id}/residents/{user_id}/card")).text
    )[0]
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        phone_code, _expires = await member_cards.phone_card_code(s, user_id)
    revoked = await post_form(
        client,
        f"/admin/c/{tenant.community_id}/residents/{user_id}",
        {"action": "revoke_cards", "confirm": "1"},
    )
    assert revoked.status_code == 303
    assert await _resolve(engine, printed) == "code_invalid"
    assert await _resolve(engine, phone_code) == "code_invalid"
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        fresh, _expires = await member_cards.phone_card_code(s, user_id)
    assert await _resolve(engine, fresh) == user_id


async def test_no_printed_card_for_a_phone_login_or_for_staff_and_admins(client, factory, engine, db):
    tenant = await factory.tenant()
    with_phone = await factory.person(tenant, name="手机用户")
    staff = await factory.person(tenant, name="柜台", roles=["staff", "resident"], phone=None)
    await session_of(client, tenant.admin)
    for person in (with_phone, staff, tenant.admin):
        page = f"/admin/c/{tenant.community_id}/residents/{person.user_id}"
        detail = await client.get(page)
        assert detail.status_code == 200 and f"{page}/card" not in detail.text
        refused = await post_form(client, f"{page}/card")
        assert refused.status_code == 422 and "只发给不用手机登录的居民" in refused.text
        assert "member-card" not in refused.text
    printed = await count(
        db,
        "SELECT count(*) FROM member_cards WHERE kind = 'printed' AND user_id = ANY(:ids)",
        ids=[with_phone.user_id, staff.user_id, tenant.admin.user_id],
    )
    assert printed == 0


async def test_a_building_sheet_has_one_card_per_resident(client, factory, engine, db):
    tenant = await factory.tenant()
    people = [await factory.person(tenant, name=f"住户{i}", phone=None) for i in range(3)]
    outsider = await factory.person(tenant, name="别楼住户", phone=None)
    admin = await login(client, tenant.admin)
    # Who never gets a card from the sheet: a phone login, staff, an admin, and an account that
    # also belongs to another community.
    elsewhere = await factory.tenant()
    shared = await factory.person(elsewhere, name="外社区居民")
    enrolled = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"display_name": "外社区居民", "phone": shared.phone},
        headers=admin.headers,
    )
    assert enrolled.status_code == 201
    left_out = [
        await factory.person(tenant, name="手机住户"),
        await factory.person(tenant, name="楼里员工", roles=["staff", "resident"], phone=None),
        await factory.person(tenant, name="楼里管理员", roles=["admin"], phone=None),
        shared,
    ]
    actor = Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        compound = await places.save_compound(s, actor, tenant.community_id, name="光复新村")
        building = await places.save_building(
            s, actor, tenant.community_id, compound_id=compound.id, name="4号楼"
        )
        other = await places.save_building(
            s, actor, tenant.community_id, compound_id=compound.id, name="5号楼"
        )
        for i, person in enumerate(people):
            await s.execute(
                text("UPDATE memberships SET compound_id=:c, building_id=:b, room=:r WHERE user_id=:u"),
                {"c": compound.id, "b": building.id, "r": f"{i + 1}01", "u": person.user_id},
            )
        await s.execute(
            text("UPDATE memberships SET compound_id=:c, building_id=:b WHERE user_id=:u"),
            {"c": compound.id, "b": other.id, "u": outsider.user_id},
        )
        for person in left_out:
            await s.execute(
                text(
                    "UPDATE memberships SET compound_id=:c, building_id=:b "
                    "WHERE user_id=:u AND community_id=:cid"
                ),
                {"c": compound.id, "b": building.id, "u": person.user_id, "cid": tenant.community_id},
            )
    await session_of(client, tenant.admin)
    sheet = await post_form(client, f"/admin/c/{tenant.community_id}/buildings/{building.id}/cards")
    assert sheet.status_code == 200, sheet.text
    assert sheet.text.count('class="member-card"') == 3
    codes = _card_images(sheet.text)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert sorted([await _resolve(engine, c) for c in codes]) == sorted(p.user_id for p in people)
    assert "别楼住户" not in sheet.text and "print.css" in sheet.text
    assert not any(person.display_name in sheet.text for person in left_out)
    assert "本页未包含：4 位" in sheet.text
    # Printing the sheet again reuses the same cards.
    again = await post_form(client, f"/admin/c/{tenant.community_id}/buildings/{building.id}/cards")
    assert sorted(_card_images(again.text)) == sorted(codes)


TYPED_RE = re.compile(
    r'class="typed-code">(JC1-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{5})<'
)


async def test_the_printed_card_has_a_typed_code_that_the_scanner_accepts(client, factory, engine):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    await session_of(client, tenant.admin)
    url = f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/card"
    page = await post_form(client, url)
    typed = TYPED_RE.findall(page.text)
    assert len(typed) == 1 and "手动输入码" in page.text
    code = typed[0]
    assert await _resolve(engine, code) == elder.user_id
    # However the counter types it: lower case, full-width, spaces around the dashes.
    variants = [code.lower(), code.replace("-", " - "), code.translate(str.maketrans("JC1-", "ＪＣ１－"))]
    for variant in variants:
        assert await _resolve(engine, variant) == elder.user_id, variant
    # The scanner's typed field and the API accept it as they accept the QR.
    client.cookies.clear()
    event_id = await make_event(client, admin, tenant.community_id, signup_required=False)
    checked_in = await scan(client, admin, variants[1], event_id=event_id, action="checkin")
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["result"] == "checked_in" and checked_in.json()["user_id"] == elder.user_id
    # A new card retires the old typed code with the old QR; a made-up one matches nothing.
    await session_of(client, tenant.admin)
    again = await post_form(client, url, {"reissue": "1", "confirm": "1"})
    new_code = TYPED_RE.findall(again.text)[0]
    assert new_code != code
    assert await _resolve(engine, code) == "code_invalid"
    assert await _resolve(engine, new_code) == elder.user_id
    assert await _resolve(engine, "JC1-22222-22222") == "code_invalid"


async def test_a_card_code_typed_without_dashes_finds_the_resident_for_a_grid_worker(client, factory):
    """Typed on a phone's keyboard, the card's code comes with spaces or nothing between its groups."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    grid = await factory.person(tenant, roles=["grid_worker"], name="林网格")
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    await session_of(client, tenant.admin)
    card = await post_form(client, f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/card")
    code = TYPED_RE.findall(card.text)[0]
    await session_of(client, grid)
    for typed in (code.replace("-", " "), code.replace("-", "").lower()):
        found = await post_form(client, f"/circle/c/{tenant.community_id}/for-resident", {"code": typed})
        assert found.status_code == 200, typed
        assert f'data-resident="{elder.user_id}"' in found.text and "杨依伯" in found.text
    # The scanner's typed field at an event reads it the same way.
    client.cookies.clear()
    event_id = await make_event(client, admin, tenant.community_id, signup_required=False)
    checked_in = await scan(client, admin, code.replace("-", ""), event_id=event_id, action="checkin")
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["user_id"] == elder.user_id


async def test_a_building_sheet_is_for_those_without_a_phone_after_an_import(client, factory, engine, db):
    """Residents imported from a list have a phone number and no password yet, so each may hold a
    printed card: the building's sheet made one for every one of them (800 a building after an
    import of 2,000 households) where it is printed for the few without a phone. A card printed
    from a resident's own page stays on the sheet."""
    tenant = await factory.tenant()
    elder = await factory.person(tenant, name="无手机老人", phone=None)
    imported = await factory.person(tenant, name="导入住户")
    carded = await factory.person(tenant, name="持卡住户")
    actor = Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        compound = await places.save_compound(s, actor, tenant.community_id, name="光复新村")
        building = await places.save_building(
            s, actor, tenant.community_id, compound_id=compound.id, name="1号楼"
        )
        await s.execute(
            text("UPDATE users SET password_hash = NULL WHERE id = ANY(:ids)"),
            {"ids": [imported.user_id, carded.user_id]},
        )
        await s.execute(
            text("UPDATE memberships SET compound_id = :c, building_id = :b WHERE user_id = ANY(:ids)"),
            {"c": compound.id, "b": building.id, "ids": [elder.user_id, imported.user_id, carded.user_id]},
        )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await member_cards.printed_card_for(s, actor, tenant.community_id, carded.user_id)
    await session_of(client, tenant.admin)
    sheet = await post_form(client, f"/admin/c/{tenant.community_id}/buildings/{building.id}/cards")
    assert sheet.status_code == 200, sheet.text
    assert sheet.text.count('class="member-card"') == 2
    assert "无手机老人" in sheet.text and "持卡住户" in sheet.text and "导入住户" not in sheet.text
    assert "本页未包含：1 位" in sheet.text
    printed = await count(
        db, "SELECT count(*) FROM member_cards WHERE kind = 'printed' AND user_id = :u", u=imported.user_id
    )
    assert printed == 0
