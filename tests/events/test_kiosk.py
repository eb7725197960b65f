"""The public kiosk screen is locked: no menu, no log-out, no way to the event's names or to
cancelling it; leaving asks for the organiser's password."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from tests.api.helpers import loose_dates, post_form
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


async def test_a_kiosk_opened_before_check_in_says_when_it_opens_in_the_communitys_time(client, site):
    """A kiosk set up the evening before showed a code that every resident's scan was refused
    with: it shows, large, when check-in opens instead, and the code once it is open."""
    _tenant, admin, _alice, _bob = site
    day = (clock.now() + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    event_id = await make_event(
        client,
        admin,
        _tenant.community_id,
        starts_at=day.isoformat(),
        ends_at=(day + timedelta(hours=2)).isoformat(),
    )
    opens = clock.local(day - timedelta(hours=1), "Asia/Shanghai")
    assert opens.strftime("%H:%M") == "09:00"
    url = f"/events/{event_id}/kiosk?action=checkin"
    for language, words in (
        ("zh-CN", "起可以签到（活动开始前一小时）。"),
        ("en", "one hour before the event starts."),
    ):
        for elder in ("0", "1"):
            client.cookies.set("elder", elder)
            page = await client.get(url, headers={**admin.headers, "Accept-Language": language})
            assert ('class="kiosk elder' in page.text) == (elder == "1")
            # No code before it opens (every scan of it was refused), the opening time in its place.
            assert "data-kiosk-qr" not in page.text and "data-kiosk-code" not in page.text
            big = page.text[page.text.index("data-kiosk-opening-time>") :].split("</p>", 1)[0]
            assert '<span class="unbroken">09:00</span>' in big, big
            opening = page.text[page.text.index("data-kiosk-opens") :].split("</p>", 1)[0]
            assert words in opening and "09:00" in opening and str(opens.day) in opening, opening
            assert loose_dates(page.text) == []  # the date kept whole on a narrow line
    client.cookies.delete("elder")
    started = await make_event(client, admin, _tenant.community_id)
    page = await client.get(f"/events/{started}/kiosk?action=checkin", headers=admin.headers)
    assert "data-kiosk-opens" not in page.text and "data-kiosk-qr" in page.text


async def test_a_kiosk_left_open_after_the_event_says_check_in_is_closed(client, site):
    """A kiosk still open the day after its event showed a live code, and nothing said that every
    resident's check-in would be refused."""
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    url = f"/events/{event_id}/kiosk?action=checkin"
    assert "data-kiosk-ended" not in (await client.get(url, headers=admin.headers)).text
    clock.advance(timedelta(days=1))
    page = await client.get(url, headers=admin.headers)
    assert page.status_code == 200 and "data-kiosk-ended" in page.text
    assert "活动已结束，签到和签退都已关闭" in page.text
    # Past the end and grace the job has checked out whoever was still in (tests/events/test_ended_pages.py).
    checkout = await client.get(f"/events/{event_id}/kiosk?action=checkout", headers=admin.headers)
    assert "data-kiosk-ended" in checkout.text
