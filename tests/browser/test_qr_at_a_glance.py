"""Every QR code the app shows scans at a glance from a phone: on a phone (390 px) and a desktop
(1280 px), standard and 长辈版, in Chinese and English, each code is at least 200 CSS px (the
kiosk's, read from a few steps away, at least 320), square, whole on the screen (nothing covers
or clips it) and inside its box, its typed fallback readable beside it, and a real decoder reads
it from a screenshot of the screen as the person sees it (one device pixel a CSS pixel, the code
scrolled into view).
The printed member card is measured on paper (print media): a module at least 0.5 mm.
Screenshots go to test-artifacts/qr/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in
from tests.qrtools import decode_image

pytestmark = pytest.mark.browser

VIEWPORTS = {390: 844, 1280: 800}
MODES = ("standard", "elder")
LANGS = ("zh", "en")
MIN_SIDE = 200  # CSS px: a phone held at arm's length reads it at once
KIOSK_MIN_SIDE = 320


@dataclass(frozen=True)
class Shown:
    name: str
    role: str
    path: str  # with {placeholders} from the world's values
    qr: str  # the <img> of the code
    fallback: str  # what a person types or reads when the camera fails
    prefix: str  # what the decoded text starts with
    min_side: int = MIN_SIDE
    same_as_fallback: bool = False  # the fallback is the code's text itself


SHOWN = [
    Shown(
        "kiosk",
        "volunteer",
        "/events/{open_event_id}/kiosk",
        "img[data-kiosk-qr]",
        "[data-kiosk-code]",
        "JE1",
        KIOSK_MIN_SIDE,
        True,
    ),
    Shown(
        "member-code",
        "resident",
        "/me/card",
        "[data-member-code] img.qr",
        "[data-code-text]",
        "JM1",
        same_as_fallback=True,
    ),
    Shown("pickup", "resident", "/store/orders/{order_id}", "img[data-pickup-qr]", "[data-digits]", "JP1-"),
    Shown(
        "voucher",
        "resident",
        "/circle/vouchers/{voucher_id}",
        "img[data-voucher-qr]",
        "[data-digits]",
        "JV1-",
    ),
    Shown(
        "wish-delivery",
        "volunteer",
        "/wishes/{claimed_wish_id}",
        "img[data-delivery-qr]",
        "[data-code-text]",
        "JW1-",
        same_as_fallback=True,
    ),
    Shown(
        "certificate",
        "resident",
        "/c/{community_id}/certificate",
        "img[data-certificate-qr]",
        "[data-verify-url]",
        "http",
        240,  # an address makes a dense code: larger than the rest's floor
    ),
]

# Scrolls the code and its fallback, together, to the middle of the screen (as a person would
# before holding the phone out), unless the page opens with both in view.
SCROLL = """([qrSel, fallbackSel]) => {
  const a = document.querySelector(qrSel).getBoundingClientRect();
  const b = document.querySelector(fallbackSel).getBoundingClientRect();
  const top = Math.min(a.top, b.top), bottom = Math.max(a.bottom, b.bottom);
  if (top >= 0 && bottom <= window.innerHeight) return;
  window.scrollBy(0, top - Math.max(0, (window.innerHeight - (bottom - top)) / 2));
}"""

# The language, mode and width the loaded page has.
LOOKS = """() => [document.documentElement.lang, document.body.classList.contains('elder'),
  window.innerWidth]"""

# How the code and its fallback sit on the screen.
MEASURE = """([qrSel, fallbackSel]) => {
  const img = document.querySelector(qrSel);
  const text = document.querySelector(fallbackSel);
  const r = img.getBoundingClientRect();
  const t = text.getBoundingClientRect();
  const inset = 2;
  const corners = [[r.left + inset, r.top + inset], [r.right - inset, r.top + inset],
                   [r.left + inset, r.bottom - inset], [r.right - inset, r.bottom - inset],
                   [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
  const covered = corners.filter(([x, y]) => document.elementFromPoint(x, y) !== img).length;
  let clipped = false;
  for (let el = img.parentElement; el && el !== document.body; el = el.parentElement) {
    const s = getComputedStyle(el);
    if (s.overflow !== 'visible' || s.overflowX !== 'visible') {
      const b = el.getBoundingClientRect();
      const out = r.left < b.left - 0.5 || r.right > b.right + 0.5
        || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5;
      if (out) clipped = true;
    }
  }
  // The code sits inside its box's padding: a code wider than its box ran over the box's border
  // (the wish's delivery code, in its card on a phone).
  const box = img.parentElement.getBoundingClientRect(), bs = getComputedStyle(img.parentElement);
  const spills = r.left < box.left + parseFloat(bs.borderLeftWidth) + parseFloat(bs.paddingLeft) - 0.5
    || r.right > box.right - parseFloat(bs.borderRightWidth) - parseFloat(bs.paddingRight) + 0.5;
  return {
    width: r.width, height: r.height, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
    natural: img.naturalWidth, covered, clipped, spills,
    viewW: document.documentElement.clientWidth, viewH: window.innerHeight,
    pageW: document.documentElement.scrollWidth,
    scrollY: window.scrollY,
    text: text.innerText.trim(), textVisible: t.width > 0 && t.height > 0,
    textInside: t.left >= -0.5 && t.right <= document.documentElement.clientWidth + 0.5
      && t.top >= -0.5 && t.bottom <= window.innerHeight + 0.5,
    textOverflows: text.scrollWidth > text.clientWidth + 1,
    fontSize: parseFloat(getComputedStyle(text).fontSize),
  };
}"""


def _claimed_wish(world: World) -> int:
    """A wish the resident posted, the admin published and the volunteer claimed: its delivery
    code is on the volunteer's page of it."""
    with httpx.Client(base_url=world.url, timeout=30) as http:
        auth = {}
        for role in ("resident", "admin", "volunteer"):
            answer = http.post(
                "/api/v1/auth/token", json={"phone": world.phones[role], "password": world.password}
            )
            assert answer.status_code == 200, answer.text
            auth[role] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        cid = world.values["community_id"]
        wish = http.post(
            f"/api/v1/communities/{cid}/wishes",
            headers=auth["resident"],
            json={"title": "帮忙换一个水龙头", "description": "厨房的水龙头一直滴水"},
        )
        assert wish.status_code == 201, wish.text
        wish_id = int(wish.json()["id"])
        for role, path, body in (
            ("admin", f"/api/v1/wishes/{wish_id}/review", {"decision": "publish"}),
            ("volunteer", f"/api/v1/wishes/{wish_id}/claim", {}),
        ):
            answer = http.post(path, headers=auth[role], json=body)
            assert answer.status_code == 200, answer.text
    return wish_id


@pytest.fixture(scope="module")
def values(world: World) -> dict[str, Any]:
    return {**world.values, "claimed_wish_id": _claimed_wish(world)}


@pytest.fixture
def pages(browser: Any, world: World) -> Iterator[Any]:
    """The page of a signed-in context of the role and language (its browser's locale too), set
    for (width, mode) before each load: one device pixel a CSS pixel, so a screenshot is what the
    screen shows, not a sharper copy. The mode's cookie and the window's size change between
    loads (the loaded page shows which it got), instead of a context and a sign-in for each."""
    contexts: dict[tuple[str, str], Any] = {}

    def open_page(role: str, width: int, mode: str, lang: str) -> Any:
        context = contexts.get((role, lang))
        if context is None:
            context = contexts[role, lang] = browser.new_context(
                viewport={"width": width, "height": VIEWPORTS[width]},
                locale="zh-CN" if lang == "zh" else "en-GB",
                device_scale_factor=1,
            )
            log_in(context.new_page(), world, role)
        host = urlsplit(world.url).hostname
        context.add_cookies(
            [
                {"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"},
                {"name": ELDER_COOKIE, "value": "1" if mode == "elder" else "0", "domain": host, "path": "/"},
            ]
        )
        page = context.pages[0]
        page.set_viewport_size({"width": width, "height": VIEWPORTS[width]})
        return page

    yield open_page
    for context in contexts.values():
        context.close()


def _problems(shown: Shown, m: dict[str, Any], elder: bool) -> list[str]:
    problems = []
    if min(m["width"], m["height"]) < shown.min_side:
        problems.append(f"{m['width']:.0f}×{m['height']:.0f} px, under {shown.min_side}")
    if abs(m["width"] - m["height"]) > 1:
        problems.append(f"not square: {m['width']:.0f}×{m['height']:.0f}")
    if m["left"] < -0.5 or m["right"] > m["viewW"] + 0.5 or m["top"] < -0.5 or m["bottom"] > m["viewH"] + 0.5:
        problems.append(
            f"not whole on the screen: {m['left']:.0f},{m['top']:.0f} – {m['right']:.0f},{m['bottom']:.0f}"
        )
    if m["covered"] or m["clipped"]:
        problems.append(f"covered at {m['covered']} of 5 points, clipped: {m['clipped']}")
    if m["spills"]:
        problems.append(f"wider than its box: {m['left']:.0f} – {m['right']:.0f}")
    if m["pageW"] > m["viewW"] + 1:
        problems.append(f"the page is wider than the screen: {m['pageW']} > {m['viewW']}")
    if not (m["textVisible"] and m["textInside"]) or m["textOverflows"]:
        problems.append(f"fallback text not on the screen with the code, or cut: {m}")
    if m["fontSize"] < (18 if elder else 14):
        problems.append(f"fallback text {m['fontSize']} px")
    if shown.min_side == KIOSK_MIN_SIDE and m["scrollY"] > 0:
        problems.append("the kiosk's code is not whole on its first screen")
    return problems


def _decode_screen(page: Any, path: Any) -> str:
    """Decodes the code from a screenshot of the screen (the viewport, not the element alone)."""
    shot = page.screenshot(path=str(path))
    assert Image.open(io.BytesIO(shot)).width == page.viewport_size["width"]
    return decode_image(shot)


@pytest.mark.parametrize("shown", SHOWN, ids=[s.name for s in SHOWN])
def test_every_qr_scans_at_a_glance(
    shown: Shown, pages: Any, values: dict[str, Any], world: World, artifacts
) -> None:
    shots = artifacts / "qr"
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    for lang in LANGS:
        for mode in MODES:
            for width in VIEWPORTS:
                page = pages(shown.role, width, mode, lang)
                page.goto(world.url + shown.path.format(**values))
                looks = page.evaluate(LOOKS)
                assert looks == ["zh-Hans" if lang == "zh" else "en", mode == "elder", width], looks
                qr = page.locator(shown.qr)
                qr.wait_for()
                loaded = f"(q => q.complete && q.naturalWidth > 0)(document.querySelector({shown.qr!r}))"
                page.wait_for_function(loaded)
                page.evaluate(SCROLL, [shown.qr, shown.fallback])
                m = page.evaluate(MEASURE, [shown.qr, shown.fallback])
                where = f"{shown.name} {width}px {mode} {lang}"
                problems += [f"{where}: {p}" for p in _problems(shown, m, mode == "elder")]
                # A rotating code may turn while it is measured: the text beside it before the
                # screenshot (with its image loaded) or after it is the one the image shows.
                page.wait_for_function(loaded)
                before = page.locator(shown.fallback).inner_text().strip()
                text = _decode_screen(page, shots / f"{shown.name}-{width}-{mode}-{lang}.png")
                after = page.locator(shown.fallback).inner_text().strip()
                if not text.startswith(shown.prefix):
                    problems.append(f"{where}: decoded {text!r}")
                if shown.same_as_fallback and text not in {before, after}:
                    problems.append(f"{where}: decoded {text!r}, shown {before!r} then {after!r}")
    assert not problems, "\n".join(problems)


# On paper a module of 0.5 mm reads from a phone held 15 – 30 cm away; the printed card's code
# and the code to type under it must be whole on the card (a card is cut out along its border).
PRINTED = """() => {
  const card = document.querySelector('.member-card');
  const img = card.querySelector('img');
  const typed = card.querySelector('.typed-code');
  const svg = atob(img.src.split(',')[1]);
  const side = Number(/viewBox="0 0 (\\d+) /.exec(svg)[1]);
  const r = img.getBoundingClientRect(), c = card.getBoundingClientRect(), t = typed.getBoundingClientRect();
  const inside = (b) => b.left >= c.left && b.right <= c.right && b.top >= c.top && b.bottom <= c.bottom;
  return {mm: r.width * 25.4 / 96, modules: side, square: Math.abs(r.width - r.height) < 1,
          qrInside: inside(r), typedInside: inside(t),
          typedPt: parseFloat(getComputedStyle(typed).fontSize) * 0.75};
}"""


def test_the_printed_member_card_scans_on_paper(browser: Any, world: World, artifacts) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/residents")
        page.click("a:text-is('杨依伯')")
        page.wait_for_load_state()
        page.locator("form[action$='/card'] button[type=submit]").first.click()
        page.wait_for_load_state()
        for media in ("screen", "print"):
            page.emulate_media(media=media)
            m = page.evaluate(PRINTED)
            assert m["square"] and m["qrInside"] and m["typedInside"], m
            assert m["mm"] / m["modules"] >= 0.5, m
            assert m["typedPt"] >= 9, m
            shot = page.locator(".member-card").first.screenshot(
                path=str(artifacts / "qr" / f"printed-card-{media}.png")
            )
            assert decode_image(shot).startswith("JC1-")
    finally:
        context.close()
