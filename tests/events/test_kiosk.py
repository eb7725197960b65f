"""The public kiosk screen is locked: no menu, no log-out, no way to the event's names or to
cancelling it; leaving asks for the organiser's password."""

from __future__ import annotations

from tests.api.helpers import post_form
from tests.events.conftest import make_event


async def test_kiosk_screen_has_no_way_out_but_the_password(client, site):
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    page = (await client.get(f"/events/{event_id}/kiosk?action=checkin", headers=admin.headers)).text
    assert "/logout" not in page and f'href="/events/{event_id}"' not in page
    assert "/cancel" not in page and 'href="/"' not in page and "topbar" not in page
    assert f'action="/events/{event_id}/kiosk/leave"' in page and 'type="password"' in page

    wrong = await post_form(
        client,
        f"/events/{event_id}/kiosk/leave",
        {"password": "not-it", "action": "checkout"},
        headers=admin.headers,
    )
    assert wrong.status_code == 403 and "data-kiosk" in wrong.text and 'role="alert"' in wrong.text
    assert "Scan to check out" in wrong.text or "扫码签退" in wrong.text
    right = await post_form(
        client, f"/events/{event_id}/kiosk/leave", {"password": admin.password}, headers=admin.headers
    )
    assert right.status_code == 303 and right.headers["location"] == f"/events/{event_id}"


async def test_guessing_the_kiosk_password_is_limited(client, site):
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    codes = []
    for _ in range(12):
        r = await post_form(
            client, f"/events/{event_id}/kiosk/leave", {"password": "guess"}, headers=admin.headers
        )
        codes.append(r.status_code)
    assert codes[:10] == [403] * 10 and codes[-1] == 429
    # Even the right password waits now.
    late = await post_form(
        client, f"/events/{event_id}/kiosk/leave", {"password": admin.password}, headers=admin.headers
    )
    assert late.status_code == 429


async def test_the_kiosk_names_the_button_residents_tap_as_their_home_page_does(client, site):
    """In English the kiosk told residents to tap “Scan a code”, a button no page has: their
    home page's tile is “Scan” (扫一扫 in Chinese, as the kiosk says)."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    for lang, tile in (("en", "Scan"), ("zh-CN", "扫一扫")):
        home = (await client.get("/", headers={**alice.headers, "Accept-Language": lang})).text
        assert f"<span>{tile}</span></a>" in home
        kiosk = await client.get(
            f"/events/{event_id}/kiosk?action=checkin", headers={**admin.headers, "Accept-Language": lang}
        )
        assert f"“{tile}”" in kiosk.text, lang
