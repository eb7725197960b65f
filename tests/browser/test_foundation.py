"""The foundation's main journey in headless Chromium: an admin logs in, creates a compound,
adds a resident and prints their card; the resident logs in and sees the home page in Chinese
and English, with large text on and off. Screenshots go to the test artifacts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
import shutil
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.demo import ensure_admin
from tests.conftest import ROOT, unique, unique_phone
from tests.qrtools import decode_image

pytestmark = pytest.mark.browser


def _make_admin(database_url: str) -> tuple[dict[str, int], str, str]:
    """A demo-like admin, made with the same helper as `jinlin admin create`."""
    phone, password = unique_phone(), "admin-" + secrets.token_hex(4)

    async def make() -> dict[str, int]:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                return await ensure_admin(
                    s,
                    phone=phone,
                    password=password,
                    community_name="军门社区",  # unique per street; the street is new
                    street_name=unique("东街街道"),
                    display_name="林书记",
                )
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop running in this thread: use another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result(), phone, password


def _log_in(page: Any, url: str, phone: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def test_admin_adds_a_resident_who_then_uses_the_app(live_server, browser, artifacts):
    ids, admin_phone, admin_password = _make_admin(live_server.env["DATABASE_URL"])
    cid = ids["community_id"]
    url = live_server.url
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        _log_in(page, url, admin_phone, admin_password)
        assert page.locator("h1").inner_text().startswith("您好")
        page.screenshot(path=str(artifacts / "foundation-01-admin-home.png"), full_page=True)

        # A compound, then a building in it.
        page.goto(f"{url}/admin/c/{cid}/places")
        page.fill("#new-compound-name", "联邦新城")
        page.fill("#new-compound-address", "东街街道联邦路")
        page.fill("#new-compound-households", "2443")
        page.locator("#new-compound-name").press("Enter")
        page.wait_for_load_state()
        assert page.locator("h2", has_text="联邦新城").count() == 1
        page.locator("details summary", has_text="添加楼栋").first.click()
        page.locator("input[id^='bn-']").first.fill("A1栋")
        page.locator("input[id^='bn-']").first.press("Enter")
        page.wait_for_load_state()
        assert page.locator(".menu a", has_text="A1栋").count() == 1
        page.screenshot(path=str(artifacts / "foundation-02-places.png"), full_page=True)

        # A resident with phone and password, living in that building.
        resident_phone, resident_password = unique_phone(), "resident-" + secrets.token_hex(3)
        page.goto(f"{url}/admin/c/{cid}/residents/new")
        page.fill("#display_name", "郑美玉")
        page.fill("#phone", resident_phone)
        page.fill("#password", resident_password)
        page.select_option("#compound_id", label="联邦新城")
        page.select_option("#building_id", label="联邦新城 · A1栋")
        page.fill("#room", "1202")
        page.screenshot(path=str(artifacts / "foundation-03-new-resident.png"), full_page=True)
        page.click("form[action$='/residents'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "郑美玉"
        assert page.locator(".notice").count() == 1
        page.screenshot(path=str(artifacts / "foundation-04-resident.png"), full_page=True)

        # She logs in with her phone, so she gets no printed card; her neighbour without a phone
        # does, and the printed page's QR decodes to a static JC1- code.
        assert page.locator("form[action$='/card']").count() == 0
        page.goto(f"{url}/admin/c/{cid}/residents/new")
        page.fill("#display_name", "杨依伯")
        page.select_option("#compound_id", label="联邦新城")
        page.select_option("#building_id", label="联邦新城 · A1栋")
        page.fill("#room", "1201")
        page.click("form[action$='/residents'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "杨依伯"
        page.click("form[action$='/card'] button[type=submit]")
        page.wait_for_load_state()
        card = page.locator(".member-card").first
        assert "杨依伯" in card.inner_text()
        assert re.fullmatch(r"JC1-\w{5}-\w{5}", card.locator(".typed-code").inner_text())
        code = decode_image(card.locator("img").screenshot())
        assert code.startswith("JC1-") and len(code) == 32
        page.screenshot(path=str(artifacts / "foundation-05-printed-card.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(artifacts / "foundation-06-printed-card-print-media.png"), full_page=True)
        page.emulate_media(media="screen")

        # The resident's own phone.
        phone_context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2
        )
        phone = phone_context.new_page()
        phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        try:
            _log_in(phone, url, resident_phone, resident_password)
            assert phone.locator("h1").inner_text() == "您好，郑美玉"
            assert phone.locator("html").get_attribute("lang") == "zh-Hans"
            assert "出示我的会员码" in phone.locator("main").inner_text()
            home_png = artifacts / "foundation-07-resident-home-zh.png"
            phone.screenshot(path=str(home_png))
            if os.environ.get("JINLIN_README_SCREENSHOT"):
                (ROOT / "docs").mkdir(exist_ok=True)
                shutil.copyfile(home_png, ROOT / "docs" / "screenshot-home.png")

            phone.click(".prefs button[name=lang]")
            phone.wait_for_load_state()
            assert phone.locator("h1").inner_text() == "Hello, 郑美玉"
            assert phone.locator("html").get_attribute("lang") == "en"
            phone.screenshot(path=str(artifacts / "foundation-08-resident-home-en.png"))

            normal_size = phone.locator("h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            phone.click(".prefs button[name=elder]")
            phone.wait_for_load_state()
            assert phone.locator("body.elder").count() == 1
            body_size = phone.locator("body").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            elder_h1 = phone.locator("h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert body_size >= 24 and elder_h1 >= 40 > normal_size
            phone.screenshot(path=str(artifacts / "foundation-09-resident-home-elder.png"))
            # Remembered on the next page, and switched off again.
            phone.goto(url + "/me/card")
            assert phone.locator("body.elder").count() == 1
            phone.wait_for_function(
                "document.querySelector('[data-code-text]').textContent.startsWith('JM1-')"
            )
            phone.screenshot(path=str(artifacts / "foundation-10-member-code-elder.png"))
            phone.click(".prefs button[name=elder]")
            phone.wait_for_load_state()
            assert phone.locator("body.elder").count() == 0
            assert phone.locator("h1").inner_text() == "My member code"
        finally:
            phone_context.close()
    finally:
        context.close()
    assert [e for e in errors if "Content Security Policy" in e] == []
