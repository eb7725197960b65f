"""The store journey in headless Chromium on the live server: a resident orders rice and sees the
pickup QR; the test decodes the QR from a screenshot and types it into the staff's counter scanner
page; staff hand over; the order shows as picked up and the wallet shows the points spent.
Screenshots are kept in the artifacts directory."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import journey_admin, unique_phone
from tests.qrtools import decode_image
from tests.store.conftest import touch

pytestmark = pytest.mark.browser


def _admin(live_server) -> tuple[str, str, int]:
    return journey_admin(live_server)


def _log_in(page, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button")
    page.wait_for_url(f"{base}/")


def test_resident_orders_and_staff_hand_over_by_scanning_the_pickup_qr(
    live_server, browser, phone_page, artifacts
):
    base = live_server.url
    admin_phone, admin_password, community_id = _admin(live_server)
    touch(community_id)
    resident = (unique_phone(), "resident-" + secrets.token_hex(4))
    staff = (unique_phone(), "staff-" + secrets.token_hex(4))
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", json={"phone": admin_phone, "password": admin_password}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        made = http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": resident[0], "display_name": "郑美玉", "password": resident[1]},
        )
        assert made.status_code == 201, made.text
        resident_id = made.json()["user_id"]
        assert (
            http.post(
                f"/api/v1/communities/{community_id}/residents",
                headers=headers,
                json={"phone": staff[0], "display_name": "陈晓梅", "password": staff[1], "roles": ["staff"]},
            ).status_code
            == 201
        )
        award = http.post(
            f"/api/v1/communities/{community_id}/awards",
            headers=headers,
            json={"user_id": resident_id, "points": 200, "reason": "六清", "idempotency_key": "b1"},
        )
        assert award.status_code == 201, award.text
        item = http.post(
            f"/api/v1/communities/{community_id}/items",
            headers=headers,
            json={"name": "大米 5kg", "points_price": 80, "stock": 5},
        )
        assert item.status_code == 201, item.text
        item_id = item.json()["id"]

    # The resident orders on the phone and gets the pickup page.
    page = phone_page
    _log_in(page, base, *resident)
    page.goto(f"{base}/store/c/{community_id}")
    page.locator(f"section[data-item='{item_id}'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/store/orders/\d+\?done=placed$"))
    expect(page.locator(".notice")).to_be_visible()
    order_url = page.url.split("?")[0]
    qr = page.locator("img[data-pickup-qr]")
    expect(qr).to_be_visible()
    page.wait_for_function("document.querySelector('img[data-pickup-qr]').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "store-pickup-page.png"), full_page=True)
    code = decode_image(qr.screenshot())
    assert code.startswith("JP1-")

    # Counter staff type the decoded code into the scanner page and hand over.
    context = browser.new_context(viewport={"width": 800, "height": 1000}, locale="zh-CN")
    counter = context.new_page()
    try:
        _log_in(counter, base, *staff)
        counter.goto(f"{base}/scan?context=counter")
        counter.fill("#code", code)
        counter.locator("form[data-scan-form] button[type=submit]").click()
        ready = counter.locator("[data-result='pickup_ready']")
        expect(ready).to_be_visible()
        expect(ready).to_contain_text("郑美玉")
        expect(ready).to_contain_text("大米 5kg")
        counter.screenshot(path=str(artifacts / "store-counter-preview.png"), full_page=True)
        counter.locator("[data-hand-over]").click()
        expect(counter.locator("[data-result='picked_up']")).to_be_visible()
        counter.screenshot(path=str(artifacts / "store-counter-handed-over.png"), full_page=True)
    finally:
        context.close()

    # The resident sees the order picked up and the points spent.
    page.goto(order_url)
    expect(page.locator("[data-status='picked_up']")).to_be_visible()
    page.goto(f"{base}/wallet?community_id={community_id}")
    expect(page.locator("#balance")).to_have_text("120")
    expect(page.locator("#held")).to_have_text("0")
    page.screenshot(path=str(artifacts / "store-wallet-after-pickup.png"), full_page=True)


def test_an_oversized_photo_keeps_the_new_item_form_with_and_without_script(
    live_server, browser, artifacts, tmp_path
):
    """The photo's own limit (5 MB) and the request limit (12 MB), in a real browser against the
    real server: the form comes back with what was typed and the reason next to the photo field,
    never a network error or the generic error page."""
    base = live_server.url
    admin_phone, admin_password, community_id = _admin(live_server)
    touch(community_id)
    # Files on disk, which Chromium reads itself: as buffers, 38 MB went through Playwright's pipe
    # as base64.
    files = {}
    for label, size in (("6mb", 6), ("13mb", 13)):
        files[label] = tmp_path / f"photo-{label}.jpg"
        files[label].write_bytes(b"\xff\xd8\xff" + b"\x00" * (size * 1024 * 1024))
    for script in (True, False):
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=script
        )
        page = context.new_page()
        try:
            _log_in(page, base, admin_phone, admin_password)
            for label, photo in files.items():
                page.goto(f"{base}/store/admin/c/{community_id}/items/new")
                page.fill("#name", f"老花镜 {label}")
                page.fill("#points_price", "40")
                page.fill("#category", "长者用品")
                page.set_input_files("#photo", files=[photo])
                page.locator("form.card button[type=submit]").click()
                message = page.locator("#photo-message")
                expect(message).to_be_visible()
                expect(message).to_contain_text("照片太大")
                assert page.input_value("#name") == f"老花镜 {label}"
                assert page.input_value("#points_price") == "40"
                assert page.input_value("#category") == "长者用品"
                page.screenshot(
                    path=str(artifacts / f"store-photo-too-large-{label}-script{int(script)}.png"),
                    full_page=True,
                )
        finally:
            context.close()
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", json={"phone": admin_phone, "password": admin_password}
        ).json()
        items = http.get(
            f"/api/v1/communities/{community_id}/items",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()["items"]
    assert items == []  # nothing was half made


def test_counter_takes_digits_as_shown_and_cancelling_asks_first(live_server, browser, phone_page, artifacts):
    base = live_server.url
    admin_phone, admin_password, community_id = _admin(live_server)
    touch(community_id)
    resident = (unique_phone(), "resident-" + secrets.token_hex(4))
    staff = (unique_phone(), "staff-" + secrets.token_hex(4))
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", json={"phone": admin_phone, "password": admin_password}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        resident_id = http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": resident[0], "display_name": "黄志强", "password": resident[1]},
        ).json()["user_id"]
        http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": staff[0], "display_name": "陈晓梅", "password": staff[1], "roles": ["staff"]},
        )
        http.post(
            f"/api/v1/communities/{community_id}/awards",
            headers=headers,
            json={"user_id": resident_id, "points": 100, "reason": "六清", "idempotency_key": "b2"},
        )
        item_id = http.post(
            f"/api/v1/communities/{community_id}/items",
            headers=headers,
            json={"name": "抽纸 6包", "points_price": 30, "stock": 5},
        ).json()["id"]

    page = phone_page
    _log_in(page, base, *resident)
    orders = []
    for _ in range(2):
        page.goto(f"{base}/store/c/{community_id}")
        page.locator(f"section[data-item='{item_id}'] button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/store/orders/\d+\?done=placed$"))
        orders.append((page.url.split("?")[0], page.locator("[data-digits]").inner_text()))

    # Cancelling asks first; "keep" keeps it, "yes" cancels and says so in green.
    first_url, _ = orders[0]
    page.goto(first_url)
    page.locator("[data-cancel-order]").click()
    expect(page.locator("[data-confirm='cancel-order']")).to_be_visible()
    page.screenshot(path=str(artifacts / "store-cancel-confirm.png"), full_page=True)
    page.get_by_role("link", name="不取消，保留订单").click()
    expect(page.locator("[data-status='held']")).to_be_visible()
    page.locator("[data-cancel-order]").click()
    page.locator("[data-confirm-cancel]").click()
    expect(page.locator(".notice")).to_contain_text("订单已取消")
    expect(page.locator("[data-status='cancelled']")).to_be_visible()

    # The counter types the other order's digits as the phone shows them, in full-width digits.
    _, digits = orders[1]
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "　" for c in digits)
    context = browser.new_context(viewport={"width": 800, "height": 1000}, locale="zh-CN")
    counter = context.new_page()
    try:
        _log_in(counter, base, *staff)
        counter.goto(f"{base}/scan?context=counter")
        counter.fill("#code", typed)
        counter.locator("form[data-scan-form] button[type=submit]").click()
        expect(counter.locator("[data-result='pickup_ready']")).to_contain_text("黄志强")
        counter.locator("[data-hand-over]").click()
        expect(counter.locator("[data-result='picked_up']")).to_be_visible()
        counter.screenshot(path=str(artifacts / "store-counter-typed-digits.png"), full_page=True)
    finally:
        context.close()
