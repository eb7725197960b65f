"""Residents without a phone take part through others: a grid worker scans their printed card for
any event of the community and signs them up; a refusal names the person scanned."""

from __future__ import annotations

import unicodedata

from app.accounts import member_cards
from app.core.authz import Actor
from tests.api.helpers import page_login, post_form
from tests.conftest import login
from tests.events.conftest import make_event, scan


def admin_actor(tenant) -> Actor:
    return Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})


async def printed_card(db, tenant, user_id: int) -> str:
    card = await member_cards.printed_card_for(db, admin_actor(tenant), tenant.community_id, user_id)
    await db.commit()
    return card


async def test_grid_worker_signs_up_a_card_holder_and_checks_them_in(client, site, factory, db):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    grid = await login(
        client, await factory.person(tenant, roles=["resident", "grid_worker"], name="网格员小林")
    )
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    card = await printed_card(db, tenant, elder.user_id)
    event_id = await make_event(client, admin, cid, signup_required=True)  # grid worker not an organiser

    # Not signed up yet: the scanner is told who, not "you".
    refused = await scan(client, grid, card, event_id=event_id, action="checkin")
    assert refused.status_code == 409 and refused.json()["code"] == "not_signed_up"
    assert "杨依伯" in refused.json()["detail"] and "您" not in refused.json()["detail"]

    detail = await client.get(f"/events/{event_id}", headers=grid.headers)
    assert f"/events/{event_id}/signup-for" in detail.text
    found = await client.get(f"/events/{event_id}/signup-for", params={"q": "杨依"}, headers=grid.headers)
    assert found.status_code == 200 and "杨依伯" in found.text
    signed = await post_form(
        client, f"/events/{event_id}/signup-for", {"user_id": str(elder.user_id)}, headers=grid.headers
    )
    assert signed.status_code == 200 and "杨依伯" in signed.text and 'role="status"' in signed.text

    checked_in = await scan(client, grid, card, event_id=event_id, action="checkin")
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["result"] == "checked_in" and checked_in.json()["display_name"] == "杨依伯"
    # Residents still cannot scan others, nor sign them up.
    assert (await scan(client, alice, card, event_id=event_id, action="checkout")).status_code == 403
    other = await post_form(
        client, f"/events/{event_id}/signup-for", {"user_id": str(elder.user_id)}, headers=alice.headers
    )
    assert other.status_code == 403


async def test_sign_up_by_card_code_and_not_across_communities(client, site, factory, db):
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    staff = await login(client, await factory.person(tenant, roles=["staff"], name="柜台小陈"))
    elder = await factory.person(tenant, name="刘阿婆", phone=None)
    card = await printed_card(db, tenant, elder.user_id)
    event_id = await make_event(client, admin, cid, signup_required=True)
    by_card = await post_form(client, f"/events/{event_id}/signup-for", {"code": card}, headers=staff.headers)
    assert by_card.status_code == 200 and "刘阿婆" in by_card.text
    assert (await scan(client, staff, card, event_id=event_id, action="checkin")).json()[
        "result"
    ] == "checked_in"
    bad = await post_form(
        client, f"/events/{event_id}/signup-for", {"code": "NOT-A-CARD"}, headers=staff.headers
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    # The code was typed: it is to be checked against the card, not "an invalid QR code".
    assert "输入的卡上编码不对，请对照会员卡核对后重新输入。" in bad.text and "二维码无效" not in bad.text

    other = await factory.tenant()
    stranger = await factory.person(other, name="外社区", phone=None)
    refused = await post_form(
        client, f"/events/{event_id}/signup-for", {"user_id": str(stranger.user_id)}, headers=staff.headers
    )
    assert refused.status_code == 422


async def test_a_refused_check_in_at_the_event_scanner_offers_to_sign_the_person_up_there(
    client, site, factory, db
):
    """At the morning cleanup, someone who turned up without signing up was refused at the
    organiser's scanner with no way on: the organiser left the scanner for the event page, the
    sign-up page and a search by name. The refusal now signs them up in one tap and leads back
    to the scanner, which says to scan them again."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    grid = await factory.person(tenant, roles=["resident", "grid_worker"], name="网格员小林")
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    card = await printed_card(db, tenant, elder.user_id)
    event_id = await make_event(client, admin, cid, signup_required=True)
    await page_login(client, grid)
    refused = await post_form(client, "/scan", {"code": card, "event_id": str(event_id), "action": "checkin"})
    assert refused.status_code == 409 and "杨依伯 还没有报名这个活动。" in refused.text
    form = refused.text.split("data-sign-up-here", 1)[1].split("</form>", 1)[0]
    assert f'name="user_id" value="{elder.user_id}"' in form and "现在为其报名" in form
    assert f'action="/events/{event_id}/signup-for"' in refused.text
    signed = await post_form(
        client, f"/events/{event_id}/signup-for", {"user_id": str(elder.user_id), "then": "scan"}
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/scan?event_id={event_id}&action=checkin&done=signed_up"
    back = await client.get(signed.headers["location"])
    assert back.status_code == 200 and "已报名。请再扫一次其会员码完成签到。" in back.text
    assert 'inputmode="text" required autofocus>' in back.text  # ready for the next scan
    checked_in = await post_form(
        client, "/scan", {"code": card, "event_id": str(event_id), "action": "checkin"}
    )
    assert checked_in.status_code == 200 and 'data-result="checked_in"' in checked_in.text
    # The scanner's own refusal (a resident scanning the screen) offers nothing of the kind.
    assert "data-sign-up-here" not in checked_in.text


async def test_the_api_names_whom_a_witnessed_check_in_was_refused_for(client, site, factory, db):
    """The JSON refusal carries the person's user_id beside its code and sentence, so a scanner
    app can sign them up too; one on the waiting list gets none (signing up again changes
    nothing)."""
    tenant, admin, _alice, _bob = site
    elder = await factory.person(tenant, name="刘阿婆", phone=None)
    card = await printed_card(db, tenant, elder.user_id)
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    refused = await scan(client, admin, card, event_id=event_id, action="checkin")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_signed_up" and refused.json()["user_id"] == elder.user_id


async def test_a_name_typed_with_its_accents_apart_finds_the_member_to_sign_up(client, site, factory):
    """The sign-up for someone finds a member by name as the residents list does, however the
    name's accents were typed (apart, NFD, as some phones and Macs write them): the names are
    kept NFC, and its search took the words as typed and found no one."""
    tenant, admin, _alice, _bob = site
    name = "Zoë Jiménez"
    person = await factory.person(tenant, name=name, phone=None)
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    apart = unicodedata.normalize("NFD", name)
    assert apart != name
    for typed in (name, apart, unicodedata.normalize("NFD", "Jiménez")):
        found = await client.get(f"/events/{event_id}/signup-for", params={"q": typed}, headers=admin.headers)
        assert found.status_code == 200
        assert f'name="user_id" value="{person.user_id}"' in found.text, ascii(typed)


async def test_a_search_of_people_takes_an_underscore_as_itself_on_both_pages(client, site, factory):
    """One rule for the pattern of a search of people (accounts.people.containing): the residents
    list dropped a typed `_` and found 王x阿姨 for 王_, where the sign-up for someone took it as itself."""
    tenant, admin, _alice, _bob = site
    await factory.person(tenant, name="王_阿姨", phone=None)
    await factory.person(tenant, name="王x阿姨", phone=None)
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    by_name = await client.get(f"/events/{event_id}/signup-for", params={"q": "王_"}, headers=admin.headers)
    assert "王_阿姨" in by_name.text and "王x阿姨" not in by_name.text
    listed = await client.get(
        f"/admin/c/{tenant.community_id}/residents", params={"q": "王_"}, headers=admin.headers
    )
    assert "王_阿姨" in listed.text and "王x阿姨" not in listed.text
