"""A newcomer's donation in headless Chromium, on the demo district with the offline test Stripe
(as `make run` serves it with no Stripe key): the public wish pool → the wish's funding page →
the clearly labelled test-payment page → paid → the signed webhook goes through the real
verification, the server's job applies it, and the progress bar shows the gift by name; no
account anywhere. Screenshots at 390 and 1280 px, zh and en, the 长辈版 too."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from app.wishes import demo as wishes_demo
from tests.browser.conftest import World

pytestmark = pytest.mark.browser

TITLE = wishes_demo.FUNDED[0][0]


def _funded(page: Any) -> int:
    return int(page.locator(".funding").first.get_attribute("data-funded-cents"))


def test_a_donation_without_any_account_reaches_the_wish_progress_bar(
    browser: Any, world: World, artifacts: Any
) -> None:
    shots = artifacts / "donation"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    cid = world.values["community_id"]
    page.goto(f"{world.url}/c/{cid}/wish-pool")
    card = page.locator("section.card", has_text=TITLE)
    card.get_by_role("link", name="支持这个心愿").click()
    page.wait_for_load_state()
    assert "/fund/wish/" in page.url
    before = _funded(page)
    page.screenshot(path=str(shots / "fund-390-zh.png"), full_page=True)

    page.fill("#d-amount", "66")
    name = "路过的邻居" + str(int(time.time()) % 1000)
    page.fill("#d-name", name)
    page.check("input[name=show_name]")
    page.get_by_role("button", name="去付款").click()
    page.wait_for_load_state()
    assert "/offline-stripe/pay/cs_test_" in page.url
    expect(page.locator(".test-money")).to_contain_text("测试支付")
    expect(page.locator("body")).to_contain_text("66.00")
    page.screenshot(path=str(shots / "test-payment-390-zh.png"), full_page=True)

    page.get_by_role("button", name="付款（测试，不扣真钱）").click()
    page.wait_for_load_state()
    assert "paid=1" in page.url and "session_id=cs_test_" in page.url
    # The notice asks again by itself until the webhook has confirmed the payment: no reload.
    expect(page.locator("#paid-notice")).to_have_attribute("data-paid", "confirmed", timeout=30_000)
    expect(page.locator("#paid-notice")).to_contain_text("付款已确认")
    assert _funded(page) == before + 6_600  # the bar came with the notice
    page.screenshot(path=str(shots / "confirmed-390-zh.png"), full_page=True)
    deadline = time.monotonic() + 30
    while _funded(page) != before + 6_600 and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()
    assert _funded(page) == before + 6_600
    expect(page.locator(".funding")).to_contain_text(name)
    page.screenshot(path=str(shots / "funded-390-zh.png"), full_page=True)

    # The same page in English, in 长辈版, and on a desktop's width.
    host = world.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": LANG_COOKIE, "value": "en", "domain": host, "path": "/"}])
    page.reload()
    expect(page.locator(".funding")).to_contain_text("Online donations")
    page.screenshot(path=str(shots / "funded-390-en.png"), full_page=True)
    context.add_cookies([{"name": ELDER_COOKIE, "value": "1", "domain": host, "path": "/"}])
    page.reload()
    page.screenshot(path=str(shots / "funded-390-en-elder.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(shots / "funded-1280-en-elder.png"), full_page=True)
    context.close()
