"""Underlined words are links: a row of plain facts drawn like a link's row invited a tap that led
nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import World, log_in

pytestmark = pytest.mark.browser

UNDERLINED = """
(selector) => [...document.querySelectorAll(selector)].map((el) => [
  el.textContent.trim(), getComputedStyle(el).textDecorationLine.includes('underline'), !!el.closest('a'),
])
"""


def test_only_a_link_rows_words_are_underlined(world: World, browser: Any) -> None:
    """The results wall's stars (★★ Two-star volunteer), its honoured households and a partner
    unit's members and resources were underlined like the links of My vouchers beside them."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        cid = world.values["community_id"]
        page.goto(f"{world.url}/c/{cid}/wall")
        plain = page.evaluate(UNDERLINED, ".entry > :first-child")
        assert len(plain) >= 2, plain
        assert [text for text, underlined, link in plain if underlined and not link] == []
        log_in(page, world, "partner")
        page.goto(f"{world.url}/partners/o/{world.values['organisation_id']}")
        rows = page.evaluate(UNDERLINED, ".entry > :first-child")
        assert [text for text, underlined, link in rows if underlined and not link] == []
        log_in(page, world, "resident")
        page.goto(f"{world.url}/circle/me/vouchers")
        links = page.evaluate(UNDERLINED, ".entry > :first-child")
        assert links and all(underlined for _text, underlined, link in links if link), links
    finally:
        context.close()
