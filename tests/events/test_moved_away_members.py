"""A member who moved away (app.accounts.moving) is not someone staff may sign up for an event or
scan in or out of one: the sign-up-for search leaves them out, its form and the scan are refused
in words that name them, in API.md's error shape on the API."""

from __future__ import annotations

from datetime import timedelta

from app.accounts import member_cards, moving
from app.core import clock
from app.core.authz import Actor
from tests.api.helpers import post_form
from tests.conftest import login
from tests.events.conftest import make_event, scan


def admin_actor(tenant) -> Actor:
    return Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})


async def move_away(db, tenant, user_id: int) -> None:
    assert await moving.move_away(db, admin_actor(tenant), tenant.community_id, user_id)
    await db.commit()


async def test_staff_cannot_find_or_sign_up_a_member_who_moved_away(client, site, factory, db):
    """Before, the search listed the moved-away person and the form signed them up."""
    tenant, admin, _alice, _bob = site
    grid = await login(
        client, await factory.person(tenant, roles=["resident", "grid_worker"], name="网格员小林")
    )
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    card = await member_cards.printed_card_for(db, admin_actor(tenant), tenant.community_id, elder.user_id)
    await db.commit()
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    await move_away(db, tenant, elder.user_id)

    found = await client.get(f"/events/{event_id}/signup-for", params={"q": "杨依"}, headers=grid.headers)
    assert found.status_code == 200 and "杨依伯" not in found.text
    url = f"/events/{event_id}/signup-for"
    for form in ({"user_id": str(elder.user_id)}, {"code": card}):
        refused = await post_form(client, url, form, headers=grid.headers)
        assert refused.status_code == 403, refused.text
        assert "杨依伯已迁出本社区" in refused.text
    english = await post_form(
        client, url, {"user_id": str(elder.user_id)}, headers={**grid.headers, "Accept-Language": "en"}
    )
    assert "杨依伯 has moved away from this community" in english.text
    signups = await client.get(f"/events/{event_id}/signup-for", headers=grid.headers)
    assert "杨依伯" not in signups.text

    assert await moving.move_back(db, admin_actor(tenant), tenant.community_id, elder.user_id)
    await db.commit()
    found = await client.get(f"/events/{event_id}/signup-for", params={"q": "杨依"}, headers=grid.headers)
    assert "杨依伯" in found.text


async def test_a_member_who_moved_away_is_not_scanned_in_or_out(client, site, factory, db):
    """Before, the organiser's scan of the card checked the moved-away person in and out."""
    tenant, admin, _alice, _bob = site
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    card = await member_cards.printed_card_for(db, admin_actor(tenant), tenant.community_id, elder.user_id)
    await db.commit()
    event_id = await make_event(client, admin, tenant.community_id)
    checked_in = await scan(client, admin, card, event_id=event_id, action="checkin")
    assert checked_in.json()["result"] == "checked_in", checked_in.text
    await move_away(db, tenant, elder.user_id)
    clock.advance(timedelta(minutes=30))

    for action in ("checkout", "checkin"):
        refused = await scan(client, admin, card, event_id=event_id, action=action)
        body = refused.json()
        assert refused.status_code == 403 and body["code"] == "forbidden", refused.text
        assert set(body) >= {"status_code", "code", "detail"}
        assert "杨依伯" in body["detail"] and "迁出" in body["detail"]

    # The scanner page says so at a glance, in the elder mode too.
    form = {"code": card, "event_id": str(event_id), "action": "checkout"}
    for elder in (False, True):
        client.cookies.set("elder", "1" if elder else "0")
        page = await post_form(client, "/scan", form, headers=admin.headers)
        assert page.status_code == 403 and 'data-result="forbidden"' in page.text, page.text
        assert "杨依伯已迁出本社区" in page.text and ('class="elder' in page.text) == elder
    client.cookies.delete("elder")
