"""Each role's home page on a phone (390 px) and a desktop (1280 px), standard and 长辈版, in
Chinese: nothing wider than the screen, the resident's icons in one grid, and screenshots to look
at. With JINLIN_DOCS_SCREENSHOTS=1 the phone shots are also written to docs/screenshots/
(home-<role>.png, home-<role>-elder.png)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in
from tests.conftest import ROOT, screenshot

pytestmark = pytest.mark.browser

HOME_ROLES = ("resident", "volunteer", "grid_worker", "staff", "admin", "street_admin", "partner", "provider")
# Rows of the resident's eight icons: on a phone two rows of four (长辈版: four rows of two, so
# the words stay large), on a desk one row (长辈版: two).
TILES = 8
ROWS = {(390, False): 2, (390, True): 4, (1280, False): 1, (1280, True): 2}


@pytest.mark.parametrize("role", HOME_ROLES)
def test_home_fits_phone_and_desktop_in_both_modes(
    world: World, browser: Any, artifacts: Any, role: str
) -> None:
    shots = artifacts / "homes"
    shots.mkdir(parents=True, exist_ok=True)
    docs = ROOT / "docs" / "screenshots"
    host = world.url.split("//", 1)[1].split(":")[0]
    # One context (one browser process for the page, one login): the mode's cookie changes between
    # the visits, each a fresh load of the home page, checked at the window's width then and again
    # with the window resized to the other (the next visit loads at that width).
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=1
    )
    context.add_cookies([{"name": LANG_COOKIE, "value": "zh", "domain": host, "path": "/"}])
    page = context.new_page()
    try:
        log_in(page, world, role)
        widths = [390, 1280]
        for elder in (False, True):
            context.add_cookies(
                [{"name": ELDER_COOKIE, "value": "1" if elder else "0", "domain": host, "path": "/"}]
            )
            page.goto(world.url + "/")
            for width in widths:
                page.set_viewport_size({"width": width, "height": 844})
                shown = page.evaluate("[document.querySelectorAll('body.elder').length, window.innerWidth]")
                assert shown == [1 if elder else 0, width], shown
                assert page.evaluate("document.documentElement.scrollWidth") <= width, "wider than the screen"
                if role == "resident":
                    tiles = page.locator(".tiles .tile")
                    assert tiles.count() == TILES
                    tops = {round(b["y"]) for b in (tiles.nth(i).bounding_box() for i in range(TILES))}
                    assert len(tops) == ROWS[(width, elder)]
                if role == "street_admin":
                    assert page.locator("a[href='/me/card']").count() == 0
                name = f"home-{role}{'-elder' if elder else ''}{'' if width == 390 else f'-{width}'}.png"
                screenshot(page, shots / name)
                if width == 390 and os.environ.get("JINLIN_DOCS_SCREENSHOTS"):
                    docs.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(shots / name, docs / name)
            widths.reverse()
    finally:
        context.close()


def test_a_table_on_a_phone_names_each_value_by_its_column(world: World, browser: Any) -> None:
    """On a phone a table's rows stack with the header row hidden: the street's member count, its
    admins and join code were bare values ("8", "JUNMEN88") with nothing saying what they are."""
    host = world.url.split("//", 1)[1].split(":")[0]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.add_cookies([{"name": LANG_COOKIE, "value": "zh", "domain": host, "path": "/"}])
    page = context.new_page()
    try:
        log_in(page, world, "street_admin")
        page.goto(f"{world.url}/street/{world.values['street_id']}")
        page.wait_for_load_state()
        shown = page.evaluate(
            """() => [...document.querySelector('table.list tbody tr').children].map(
                 (td) => getComputedStyle(td, '::before').content)"""
        )
        assert shown[1:] == ['"成员数："', '"管理员："', '"邀请码："'], shown
        assert shown[0] in ("none", "normal"), shown
    finally:
        context.close()
