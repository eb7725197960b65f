"""An admin imports residents in headless Chromium: uploads a file, reads the dry run's report
(a refused row and what is wrong with it), confirms, and watches the progress bar until the
import is done, then finds a new resident on the residents page. Screenshots of the pages at 390
and 1280 px, in Chinese and English, in the standard mode and 长辈版."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in

pytestmark = pytest.mark.browser


def _file() -> tuple[bytes, str]:
    base = secrets.randbelow(10**7)
    name = "导入居民" + secrets.token_hex(2)
    text = (
        "手机号,姓名,小区,楼栋,角色,无手机\n"
        f"1750{base:07d},{name},,,居民,\n"
        f"1750{base + 1:07d},导入志愿者,,,志愿者,\n"
        ",导入老人,,,,是\n"
        "12345,号码不对,,,,\n"
    )
    return ("\ufeff" + text).encode(), name


def test_an_admin_uploads_checks_confirms_and_sees_the_import_done(
    browser: Any, world: World, artifacts: Any
) -> None:
    shots = artifacts / "import"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    cid = world.values["community_id"]
    log_in(page, world, "admin")
    page.goto(world.url + "/")
    page.get_by_role("link", name="导入居民").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin/c/{cid}/imports")
    page.screenshot(path=str(shots / "upload-390-zh.png"), full_page=True)

    body, name = _file()
    page.set_input_files("#file", files=[{"name": "居民.csv", "mimeType": "text/csv", "buffer": body}])
    page.get_by_role("button", name="检查文件").click()
    page.wait_for_load_state()
    report = page.locator("[data-dry-run]")
    expect(report).to_be_visible()
    expect(report.locator('[data-count="created"]')).to_have_text("3")
    expect(report.locator('[data-count="rejected"]')).to_have_text("1")
    expect(page.locator('[data-rejected] tr[data-row="5"]')).to_contain_text("这不是11位的大陆手机号码")
    page.screenshot(path=str(shots / "dry-run-390-zh.png"), full_page=True)

    page.locator("details.confirm summary").click()
    page.locator("[data-confirm-import]").click()
    page.wait_for_load_state()
    expect(page.locator("#import-progress")).to_be_visible()
    page.screenshot(path=str(shots / "progress-390-zh.png"), full_page=True)
    # htmx renews the bar every second until the job (woken by the confirmation) is done.
    expect(page.locator("[data-import-done]")).to_be_visible(timeout=60_000)
    expect(page.locator('#import-progress [data-count="created"]')).to_have_text("3")
    page.screenshot(path=str(shots / "done-390-zh.png"), full_page=True)
    run_url = page.url

    page.goto(f"{world.url}/admin/c/{cid}/residents?q={name}")
    expect(page.locator("table.list")).to_contain_text(name)

    # The pages in English, 长辈版, and on a desktop.
    host = world.url.split("//", 1)[1].split(":")[0]
    # Each page loaded once a language and mode, at the window's width then, and captured again
    # with the window resized to the other (the next page loads at that width).
    widths = [390, 1280]
    for lang in ("zh", "en"):
        for elder in ("0", "1"):
            context.add_cookies(
                [
                    {"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"},
                    {"name": ELDER_COOKIE, "value": elder, "domain": host, "path": "/"},
                ]
            )
            for label, url in (("upload", f"{world.url}/admin/c/{cid}/imports"), ("done", run_url)):
                page.goto(url)
                mode = "elder" if elder == "1" else "standard"
                for width in widths:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.screenshot(path=str(shots / f"{label}-{width}-{lang}-{mode}.png"), full_page=True)
                widths.reverse()
    context.close()
