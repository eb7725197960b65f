"""A micro-wish's whole journey in headless Chromium, each person in their own browser: the
resident posts it (in 长辈版), the admin publishes it, a partner unit's member claims it from the
unit's office page, the delivery QR is decoded from a screenshot (zxing-cpp) and scanned by the
resident on the scanner page, the resident thanks with a photo, and the unit's agreement shows
the wish delivered. Then 长辈版 checks aimed at the resident's wish pages: text and tap-target
sizes, and a delivery result a person understands at a glance, in words.
Screenshots go to test-artifacts/wish-journey/."""

from __future__ import annotations

import io
import secrets
from typing import Any

import httpx
import pytest
from PIL import Image

from app.core import clock
from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in
from tests.conftest import unique_phone
from tests.qrtools import decode_image

pytestmark = pytest.mark.browser

WIDTH = 390
WISHES_DELIVERED = "完成微心愿"
# 长辈版 (MIIT): body text at least 24 px, the headline at least 40 px, targets at least 60 × 60.
ELDER_MEASURE = """
() => {
  const shown = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const small = [];
  const texts = 'main p, main li, main label, main h1, main h2, main button, main a';
  for (const el of document.querySelectorAll(texts)) {
    if (!shown(el) || !el.textContent.trim()) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 24) small.push(`${el.tagName} ${size}px ${el.textContent.trim().slice(0, 20)}`);
  }
  const targets = [];
  const taps = 'main a[href], main button, main summary, main input, main textarea';
  for (const el of document.querySelectorAll(taps)) {
    if (!shown(el) || el.type === 'hidden') continue;
    // A check box's or radio's target is the label that wraps it (as in the every-page test).
    const label = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label');
    const r = (label || el).getBoundingClientRect();
    if (r.width < 59.5 || r.height < 59.5)
      targets.push(`${el.tagName} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const h1 = document.querySelector('main h1');
  return { small, targets, h1: h1 ? parseFloat(getComputedStyle(h1).fontSize) : 0 };
}
"""


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 360), (230, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def _context(browser: Any, world: World, *, elder: bool = False) -> Any:
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="zh-CN")
    host = world.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [
            {"name": LANG_COOKIE, "value": "zh", "domain": host, "path": "/"},
            {"name": ELDER_COOKIE, "value": "1" if elder else "0", "domain": host, "path": "/"},
        ]
    )
    return context


def _unit_with_agreement(world: World) -> tuple[dict[str, Any], str, str, int]:
    """A partner unit with this year's agreement (two wishes promised) and its member's login."""
    phone, password = unique_phone(), "unit-" + secrets.token_hex(4)
    with httpx.Client(base_url=world.url, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", json={"phone": world.phones["admin"], "password": world.password}
        )
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        cid = world.values["community_id"]
        unit = http.post(
            f"/api/v1/communities/{cid}/organisations",
            headers=admin,
            json={
                "name": "石竹卫生服务中心 " + secrets.token_hex(2),
                "kinds": ["partner"],
                "members": [{"phone": phone, "display_name": "郑医生", "password": password}],
            },
        )
        assert unit.status_code == 201, unit.text
        agreement = http.post(
            f"/api/v1/communities/{cid}/agreements",
            headers=admin,
            json={
                "organisation_id": unit.json()["id"],
                "year": clock.today().year,  # the community's year, not UTC's
                "commitments": {"wishes": 2},
            },
        )
        assert agreement.status_code == 201, agreement.text
    return unit.json(), phone, password, int(agreement.json()["id"])


def _log_in_as(page: Any, world: World, phone: str, password: str) -> None:
    page.goto(world.url + "/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_a_wish_from_posting_to_progress_on_the_agreement(world: World, browser: Any, artifacts: Any) -> None:
    shots = artifacts / "wish-journey"
    shots.mkdir(parents=True, exist_ok=True)
    url, cid = world.url, world.values["community_id"]
    unit, unit_phone, unit_password, agreement_id = _unit_with_agreement(world)
    title = "帮忙修好厨房的水龙头 " + secrets.token_hex(2)
    resident_ctx = _context(browser, world, elder=True)
    admin_ctx, unit_ctx = _context(browser, world), _context(browser, world)
    errors: list[str] = []
    try:
        resident, admin, member = resident_ctx.new_page(), admin_ctx.new_page(), unit_ctx.new_page()
        for page in (resident, admin, member):
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        # The resident posts (长辈版).
        log_in(resident, world, "resident")
        resident.goto(f"{url}/c/{cid}/wishes")
        resident.fill("#wish-title", title)
        resident.fill("#wish-description", "水龙头一直滴水，自己拧不动")
        resident.click(f"form[action='/c/{cid}/wishes'] button[type=submit]")
        resident.wait_for_load_state()
        assert "心愿已提交" in resident.content()
        card = resident.locator(f"[data-wish-status=submitted]:has(h2:text-is('{title}'))")
        wish_id = int(card.get_attribute("data-wish"))
        resident.screenshot(path=str(shots / "01-resident-posted-elder.png"), full_page=True)

        # The admin publishes, behind its confirmation.
        log_in(admin, world, "admin")
        admin.goto(f"{url}/wishes/{wish_id}")
        assert not admin.locator("button[value=publish]").is_visible()  # closed until asked
        admin.click("summary:has-text('发布…')")
        admin.click("button[value=publish]")
        admin.wait_for_load_state()
        assert "心愿已发布到心愿池" in admin.content()
        admin.screenshot(path=str(shots / "02-admin-published.png"), full_page=True)

        # The unit's member finds it on the office page and claims it for the unit.
        _log_in_as(member, world, unit_phone, unit_password)
        member.goto(f"{url}/partners/o/{unit['id']}")
        member.click(f"[data-open-wishes] a[href='/wishes/{wish_id}']")
        member.wait_for_load_state()
        member.click("button[name=organisation_id]")
        member.wait_for_load_state()
        assert "您已认领这个心愿" in member.content()
        member.reload()
        qr = member.locator("img[data-delivery-qr]")
        qr.wait_for()
        member.screenshot(path=str(shots / "03-unit-member-delivery-code.png"), full_page=True)
        code = decode_image(qr.screenshot())
        assert code.startswith("JW1-") and code == member.locator("[data-code-text]").inner_text()

        # The resident scans it on the scanner page (typed, as the camera would submit it).
        resident.goto(f"{url}/scan")
        resident.fill("#code", code)
        resident.click("form[data-scan-form] button[type=submit]")
        result = resident.locator("[data-result=delivered]")
        result.wait_for()
        assert "心愿已送达" in result.inner_text() and title in result.inner_text()
        assert "已确认送达，这个心愿已经实现了。" in result.inner_text()
        resident.screenshot(path=str(shots / "04-resident-scanned-elder.png"), full_page=True)
        heading = result.locator("h2")
        assert float(heading.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 30

        # Thanks with a photo, from the result's own link.
        result.locator("a").click()
        resident.wait_for_load_state()
        assert resident.url.endswith(f"/wishes/{wish_id}")
        assert "这个心愿已经实现了" in resident.locator("[data-wish-status=delivered]").inner_text()
        resident.fill("#thanks-note", "水龙头修好了，谢谢郑医生！")
        resident.set_input_files(
            "#photo", {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
        )
        resident.click("form[action$='/thanks'] button[type=submit]")
        resident.wait_for_load_state()
        assert "感谢已送出" in resident.content()
        photo = resident.locator("img[data-thanks-photo]")
        assert photo.evaluate("img => img.complete && img.naturalWidth") == 480
        resident.screenshot(path=str(shots / "05-resident-thanked-elder.png"), full_page=True)

        # The agreement counts it.
        member.goto(f"{url}/partners/agreements/{agreement_id}")
        row = member.locator("table.progress tbody tr", has_text=WISHES_DELIVERED)
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        assert cells[:3] == [WISHES_DELIVERED, "2", "1"], cells
        member.screenshot(path=str(shots / "06-agreement-progress.png"), full_page=True)
    finally:
        for context in (resident_ctx, admin_ctx, unit_ctx):
            context.close()
    assert errors == [], errors


def test_the_wish_pages_in_elder_mode_are_large_and_say_the_result_in_words(
    world: World, browser: Any, artifacts: Any
) -> None:
    shots = artifacts / "wish-journey"
    shots.mkdir(parents=True, exist_ok=True)
    url, cid = world.url, world.values["community_id"]
    context = _context(browser, world, elder=True)
    try:
        page = context.new_page()
        log_in(page, world, "resident")
        for path in (f"/c/{cid}/wishes", f"/wishes/{world.values['wish_id']}", f"/c/{cid}/wish-pool"):
            page.goto(url + path)
            page.wait_for_load_state()
            assert page.locator("body.elder").count() == 1
            for summary in page.locator("details.confirm > summary").all():
                summary.click()  # what a confirmation opens is measured too
            figures = page.evaluate(ELDER_MEASURE)
            assert figures["small"] == [], (path, figures["small"])
            assert figures["targets"] == [], (path, figures["targets"])
            assert figures["h1"] >= 40, (path, figures["h1"])
            slug = path.strip("/").replace("/", "-")
            page.screenshot(path=str(shots / f"elder-{slug}.png"), full_page=True)
        # A delivered wish says so in words, large, before anything else on its card.
        listed = f"/api/v1/communities/{cid}/wishes?status=delivered"
        delivered = page.evaluate(
            f"() => fetch('{listed}', {{credentials: 'same-origin'}})"
            ".then(r => r.json()).then(b => b.items.map(i => i.id))"
        )
        assert delivered, "the demo has a delivered wish the resident may see"
        page.goto(f"{url}/wishes/{delivered[0]}")
        status = page.locator("[data-wish-status=delivered] .result-big")
        assert status.inner_text().strip() == "这个心愿已经实现了。"
        assert float(status.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 30
        page.screenshot(path=str(shots / "elder-delivered-wish.png"), full_page=True)
    finally:
        context.close()
