"""The check-in journey in headless Chromium on the live server (real clock):
the organiser's kiosk screen → the QR decoded from a screenshot → typed into the resident's
scanner page → the organiser scans the resident's member code for check-out → the resident's
wallet page shows the points. Screenshots are kept in the artifacts directory."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import journey_admin, unique_phone
from tests.qrtools import decode_image

pytestmark = pytest.mark.browser


def _admin(live_server) -> tuple[str, str, int]:
    return journey_admin(live_server)


def _log_in(page, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit], form[action='/login'] button")
    page.wait_for_url(f"{base}/")


def test_kiosk_scan_then_witnessed_check_out_puts_points_in_the_wallet(
    live_server, browser, phone_page, artifacts
):
    base = live_server.url
    admin_phone, admin_password, community_id = _admin(live_server)
    resident_phone, resident_password = unique_phone(), "resident-" + secrets.token_hex(4)
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", json={"phone": admin_phone, "password": admin_password}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        made = http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": resident_phone, "display_name": "郑美玉", "password": resident_password},
        )
        assert made.status_code == 201, made.text
        start = datetime.now(UTC) - timedelta(minutes=10)
        event = http.post(
            f"/api/v1/communities/{community_id}/events",
            headers=headers,
            json={
                "title": "光复新村六清大扫除",
                "category": "cleanup",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "capacity": 30,
                "points_per_attendance": 10,
                "points_per_hour": 20,
                "signup_required": False,
            },
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]

    organiser = browser.new_context(viewport={"width": 1024, "height": 1100}, locale="zh-CN")
    kiosk = organiser.new_page()
    try:
        _log_in(kiosk, base, admin_phone, admin_password)
        kiosk.goto(f"{base}/events/{event_id}/kiosk?action=checkin")
        kiosk.wait_for_selector("img[data-kiosk-qr]")
        kiosk.wait_for_load_state("load")
        shot = kiosk.screenshot(path=str(artifacts / "events-kiosk.png"), full_page=True)
        code = decode_image(shot)
        assert code.startswith(f"JE1-{event_id}-I-")
        assert kiosk.locator("[data-kiosk-code]").inner_text() == code

        # The resident's phone: the scanner page, typed-code path.
        _log_in(phone_page, base, resident_phone, resident_password)
        phone_page.goto(f"{base}/scan")
        phone_page.fill("#code", code)
        phone_page.click("[data-scan-form] button[type=submit]")
        phone_page.wait_for_selector("#scan-result [data-result=checked_in]")
        assert "签到成功" in phone_page.locator("#scan-result").inner_text()
        phone_page.screenshot(path=str(artifacts / "events-resident-checked-in.png"), full_page=True)

        # The kiosk's live count follows (polled every 5 s).
        expect(kiosk.locator("[data-kiosk-inside]")).to_have_text("1", timeout=15000)

        # The resident shows the member code; the organiser scans it for check-out.
        phone_page.goto(f"{base}/me/card")
        phone_page.wait_for_load_state("load")
        member_code = decode_image(phone_page.screenshot(path=str(artifacts / "events-member-code.png")))
        assert member_code.startswith("JM1-")
        scanner = organiser.new_page()
        scanner.goto(f"{base}/scan?event_id={event_id}&action=checkout")
        scanner.fill("#code", member_code)
        scanner.click("[data-scan-form] button[type=submit]")
        scanner.wait_for_selector("#scan-result [data-result=checked_out]")
        result = scanner.locator("#scan-result").inner_text()
        assert "签退成功" in result and "郑美玉" in result
        scanner.screenshot(path=str(artifacts / "events-organiser-checked-out.png"), full_page=True)
        # 10 for taking part + 20 an hour for the minute or two since the kiosk check-in.
        points = 10
        assert f"已存入 {points} 积分" in result

        phone_page.goto(f"{base}/wallet?community_id={community_id}")
        balance = int(phone_page.locator("#balance").inner_text())
        assert balance == points
        phone_page.screenshot(path=str(artifacts / "events-resident-wallet.png"), full_page=True)
        phone_page.goto(f"{base}/wallet/statement?community_id={community_id}")
        assert "光复新村六清大扫除" in phone_page.content()
    finally:
        organiser.close()
