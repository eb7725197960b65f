"""The service circle's journey in headless Chromium on the live server: a resident finds the
nearest barber (walking minutes from their compound), buys a voucher after the confirmation and
sees its QR; the test decodes the QR from a screenshot and types it into the barber's shop page,
which shows who and what before the redeem button; the resident then rates the service and the
offer shows the stars. Screenshots are kept in the artifacts directory."""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import _admin_sql, journey_admin, unique, unique_phone
from tests.qrtools import decode_image

pytestmark = pytest.mark.browser


def _admin(live_server) -> tuple[str, str, int]:
    return journey_admin(live_server)


def _log_in(page, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button")
    page.wait_for_url(f"{base}/")


def test_resident_finds_the_nearest_barber_buys_and_the_shop_redeems_then_a_rating(
    live_server, browser, phone_page, artifacts
):
    base = live_server.url
    admin_phone, admin_password, community_id = _admin(live_server)
    resident = (unique_phone(), "resident-" + secrets.token_hex(4))
    barber = (unique_phone(), "barber-" + secrets.token_hex(4))
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
        award = http.post(
            f"/api/v1/communities/{community_id}/awards",
            headers=headers,
            json={"user_id": resident_id, "points": 100, "reason": "六清", "idempotency_key": "circle-b1"},
        )
        assert award.status_code == 201, award.text
        shops = {}
        for name, category, lat, lng, member in (
            ("老张理发店", "barber", 26.0859, 119.2979, barber),
            ("树人家政", "housekeeping", 26.0899, 119.3047, (unique_phone(), "x-" + secrets.token_hex(4))),
        ):
            org = http.post(
                f"/api/v1/communities/{community_id}/organisations",
                headers=headers,
                json={
                    "name": unique(name),
                    "kinds": ["provider"],
                    "category": category,
                    "lat": lat,
                    "lng": lng,
                    "members": [{"phone": member[0], "display_name": f"{name}店员", "password": member[1]}],
                },
            )
            assert org.status_code == 201, org.text
            shops[category] = org.json()["id"]
        offers = {}
        for category, title, points in (("barber", "理发", 15), ("housekeeping", "上门保洁", 30)):
            offer = http.post(
                f"/api/v1/organisations/{shops[category]}/offers",
                headers=headers,
                json={"name": title, "points_price": points},
            )
            assert offer.status_code == 201, offer.text
            offers[category] = offer.json()["id"]
    # The compound's location, straight into the database (Playwright's loop runs in this thread).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            _admin_sql,
            live_server.env["DATABASE_URL"],
            "INSERT INTO compounds (community_id, name, address, households, lat, lng, created_at) "
            f"VALUES ({community_id}, '石井新村', '', 0, 26.0852, 119.2968, now())",
            "UPDATE memberships SET compound_id = "
            f"(SELECT id FROM compounds WHERE community_id = {community_id}) "
            f"WHERE community_id = {community_id} AND user_id = {resident_id}",
        ).result()

    # The resident finds the barber first, 2 minutes' walk away, and buys after the confirmation.
    page = phone_page
    _log_in(page, base, *resident)
    page.goto(f"{base}/circle/c/{community_id}")
    cards = page.locator("section[data-offer]")
    expect(cards.first).to_have_attribute("data-offer", str(offers["barber"]))
    expect(cards.first).to_contain_text("15分钟内可达")
    page.screenshot(path=str(artifacts / "circle-nearest-first.png"), full_page=True)
    cards.first.locator("a.button").click()
    page.locator("[data-buy]").click()
    expect(page.locator("[data-confirm='buy-voucher']")).to_be_visible()
    page.locator("[data-confirm-buy]").click()
    page.wait_for_url(re.compile(r".*/circle/vouchers/\d+\?done=bought$"))
    voucher_url = page.url.split("?")[0]
    qr = page.locator("img[data-voucher-qr]")
    expect(qr).to_be_visible()
    page.wait_for_function("document.querySelector('img[data-voucher-qr]').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "circle-voucher.png"), full_page=True)
    code = decode_image(qr.screenshot())
    assert code.startswith("JV1-")

    # The barber's member types the decoded code into the shop page on a tablet and redeems it.
    context = browser.new_context(viewport={"width": 800, "height": 1000}, locale="zh-CN")
    shop = context.new_page()
    try:
        _log_in(shop, base, *barber)
        shop.goto(f"{base}/circle/shop/{shops['barber']}")
        shop.fill("#code", code)
        shop.locator("form[data-scan-form] button[type=submit]").click()
        ready = shop.locator("[data-result='voucher_ready']")
        expect(ready).to_be_visible()
        expect(ready).to_contain_text("郑美玉")
        expect(ready).to_contain_text("理发")
        shop.screenshot(path=str(artifacts / "circle-shop-preview.png"), full_page=True)
        shop.locator("[data-redeem]").click()
        expect(shop.locator("[data-result='redeemed']")).to_be_visible()
        # The day's list and the month's sums follow without reloading the page (they stayed as
        # they were before the redemption until the member reloaded it).
        expect(shop.locator("[data-today]")).to_contain_text("郑美玉")
        expect(shop.locator("[data-month] .stat").first).to_contain_text("1")
        expect(shop.locator("#shop-today")).to_have_count(1)
        # The swapped part keeps the page's space above its headings.
        expect(shop.locator("#shop-today > h2").first).to_have_css("margin-top", "24px")
        shop.screenshot(path=str(artifacts / "circle-shop-redeemed.png"), full_page=True)
        shop.reload()
        expect(shop.locator("[data-today]")).to_contain_text("郑美玉")
    finally:
        context.close()

    # The resident sees it used and rates it; the offer shows the stars.
    page.goto(voucher_url)
    expect(page.locator("[data-status='redeemed']")).to_be_visible()
    page.locator("input[name=stars][value='5']").check()
    page.fill("#note", "张师傅手艺好")
    page.locator("[data-rate]").click()
    expect(page.locator(".notice")).to_contain_text("感谢您的评价")
    page.goto(f"{base}/circle/offers/{offers['barber']}")
    expect(page.locator("[data-stars]")).to_have_attribute("data-stars", "5.0")
    page.screenshot(path=str(artifacts / "circle-offer-rated.png"), full_page=True)
