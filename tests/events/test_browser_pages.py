"""The events pages in headless Chromium: they fit a 390 px phone, in Chinese and English and in
长辈版, and the kiosk screen stays on the kiosk. Screenshots go to the artifacts directory."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import screenshot, unique_phone
from tests.events.test_browser_journey import _admin, _log_in

pytestmark = pytest.mark.browser


def _set_up(live_server) -> dict:
    base = live_server.url
    phone, password, community_id = _admin(live_server)
    resident_phone, resident_password = unique_phone(), "resident-" + secrets.token_hex(4)
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/api/v1/auth/token", json={"phone": phone, "password": password}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        made = http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": resident_phone, "display_name": "郑美玉", "password": resident_password},
        )
        assert made.status_code == 201, made.text
        # Within the hour, so check-in is open (an hour before the start) and the kiosk shows its
        # code: before that it shows, large, only the time it opens.
        start = datetime.now(UTC) + timedelta(minutes=30)
        event = http.post(
            f"/api/v1/communities/{community_id}/events",
            headers=headers,
            json={
                "title": "光复新村六清大扫除，楼道、绿化带和车棚",
                "category": "cleanup",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "capacity": 30,
                "points_per_attendance": 10,
                "points_per_hour": 20,
                "signup_required": True,
            },
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]
        signed = http.post(
            f"/api/v1/events/{event_id}/signups",
            headers={
                "Authorization": "Bearer "
                + http.post(
                    "/api/v1/auth/token", json={"phone": resident_phone, "password": resident_password}
                ).json()["access_token"]
            },
        )
        assert signed.status_code == 201, signed.text
    return {
        "base": base,
        "admin": (phone, password),
        "resident": (resident_phone, resident_password),
        "community_id": community_id,
        "event_id": event_id,
    }


def _width(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_event_pages_fit_phone_and_desktop(live_server, browser, artifacts, locale):
    """Each page at a phone's width and a desktop's, in one context per person and mode: loaded
    once, at the window's width then, and checked again with the window resized to the other (the
    next page loads at that width: each width has half the pages loaded at it)."""
    site = _set_up(live_server)
    base, cid, event_id = site["base"], site["community_id"], site["event_id"]
    tag = locale[:2]
    for who in ("admin", "resident"):
        for elder in (False, True):
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
            page = context.new_page()
            try:
                _log_in(page, base, *site[who])
                if elder:
                    context.add_cookies([{"name": "elder", "value": "1", "url": base}])
                paths = [f"/events/{event_id}", f"/c/{cid}/events", f"/c/{cid}/my-events", f"/c/{cid}/hours"]
                if who == "admin":
                    paths += [
                        # The confirmation of a new event, with its link written out in full.
                        f"/events/{event_id}?created=1",
                        f"/events/{event_id}/kiosk?action=checkin",
                        f"/events/{event_id}/signup-for?q=郑",
                        f"/events/{event_id}/cancel",
                        f"/admin/c/{cid}/events",
                        f"/admin/c/{cid}/events/new",
                    ]
                widths = [390, 1280]
                for path in paths:
                    page.goto(base + path)
                    name = path.strip("/").split("?")[0].replace("/", "-")
                    mode = "elder" if elder else "standard"
                    for width in widths:
                        page.set_viewport_size({"width": width, "height": 844})
                        screenshot(page, artifacts / f"events-{width}-{tag}-{who}-{mode}-{name}.png")
                        assert _width(page) <= width, (path, width, _width(page))
                    widths.reverse()
            finally:
                context.close()


def test_kiosk_back_button_stays_on_the_kiosk(live_server, browser, artifacts):
    site = _set_up(live_server)
    base, event_id = site["base"], site["event_id"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        _log_in(page, base, *site["admin"])
        page.goto(f"{base}/events/{event_id}")
        page.goto(f"{base}/events/{event_id}/kiosk?action=checkin")
        page.wait_for_selector("img[data-kiosk-qr]")
        page.screenshot(path=str(artifacts / "events-kiosk-desktop.png"), full_page=True)
        page.go_back()
        # Back on the kiosk, its page pushes the kiosk's entry again (static/kiosk.js): waited for
        # as that, not for a fixed time; a page that let go would have gone back to the event.
        page.wait_for_function("() => history.state !== null && history.state.kiosk === true")
        assert "/kiosk" in page.url
        page.click(".kiosk-leave summary")
        page.fill("#kiosk-password", site["admin"][1])
        page.click(".kiosk-leave form button")
        page.wait_for_url(f"{base}/events/{event_id}")
    finally:
        context.close()
