"""What only shows on a page as drawn: words that fit their boxes, lists that keep off their
card's edge. Measured in headless Chromium at a phone's width (390 px)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in
from tests.browser.test_every_page import MEASURE

pytestmark = pytest.mark.browser

# Each word in the boxes a selector finds, and whether it sits whole on one line inside its box (a
# word the box cut in two, or one running out of it, fails).
WORDS_WHOLE = """
(selector) => [...document.querySelectorAll(selector)].flatMap((el) => {
  const box = el.getBoundingClientRect();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const out = [];
  while (walker.nextNode()) {
    const text = walker.currentNode;
    for (const m of text.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(text, m.index);
      range.setEnd(text, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const inside = rects.every((r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5);
      out.push([m[0], rects.length === 1 && inside]);
    }
  }
  return out;
})
"""


def _page(browser: Any, world: World, lang: str, elder: bool) -> tuple[Any, Any]:
    host = world.url.split("//", 1)[1].split(":")[0]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"},
            {"name": ELDER_COOKIE, "value": "1" if elder else "0", "domain": host, "path": "/"},
        ]
    )
    return context, context.new_page()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_home_pages_tiles_hold_their_english_words_whole(world: World, browser: Any, elder: bool) -> None:
    """On a phone in English, "Love supermarket", "My vouchers" and "Certificate" ran out of their
    tiles (four a row, made for two Chinese characters a line); three a row still cut "supermarket"
    in two on a 360 px phone and "Certificate" on a 320 px one, as did four a row on a desktop in
    长辈版."""
    context, page = _page(browser, world, "en", elder)
    try:
        log_in(page, world, "resident")
        page.goto(world.url + "/")
        for width in (320, 360, 390, 720, 1280):
            page.set_viewport_size({"width": width, "height": 844})
            words = page.evaluate(WORDS_WHOLE, ".tiles a.tile")
            assert len(words) >= 8
            assert [word for word, whole in words if not whole] == [], width
    finally:
        context.close()


def test_the_events_list_keeps_off_its_cards_edge(world: World, browser: Any) -> None:
    """The events list is a menu drawn as a card: its titles touched the card's border."""
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "resident")
        page.goto(f"{world.url}/c/{world.values['community_id']}/events")
        card = page.locator("ul.menu.card").bounding_box()
        first = page.locator("ul.menu.card li a").first.bounding_box()
        assert card and first
        assert first["x"] - card["x"] >= 12, (card, first)
    finally:
        context.close()


def test_the_join_code_stays_on_one_line_in_large_english(world: World, browser: Any) -> None:
    """In 长辈版 English the join code broke in two (JUNM / EN88) at the end of its sentence."""
    context, page = _page(browser, world, "en", True)
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/places")
        lines = page.evaluate(
            """() => {
                 const range = document.createRange();
                 range.selectNodeContents(document.querySelector('.code-text.whole'));
                 return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
               }"""
        )
        assert lines == 1
    finally:
        context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_digits_read_out_at_the_counter_are_as_large_as_the_title(
    world: World, browser: Any, elder: bool
) -> None:
    """The 8 digits of a pickup code and of a voucher, which a resident reads out to the staff or
    the provider, were body text: 24 px in 长辈版 under a 40 px title, less than the words above."""
    context, page = _page(browser, world, "zh", elder)
    try:
        log_in(page, world, "resident")
        for path in (
            f"/store/orders/{world.values['order_id']}",
            f"/circle/vouchers/{world.values['voucher_id']}",
        ):
            page.goto(world.url + path)
            digits, title, lines = page.evaluate(
                """() => {
                     const el = document.querySelector('[data-digits]');
                     const range = document.createRange();
                     range.selectNodeContents(el);
                     return [parseFloat(getComputedStyle(el).fontSize),
                             parseFloat(getComputedStyle(document.querySelector('h1')).fontSize),
                             new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
                   }"""
            )
            assert digits >= title and lines == 1, (path, digits, title, lines)
    finally:
        context.close()


def test_the_walls_thanked_units_sit_close_in_large_text(world: World, browser: Any) -> None:
    """In 长辈版 the wall's row of thanked units took a paragraph's spacing under each tag, so
    five names filled a phone's screen with gaps."""
    context, page = _page(browser, world, "zh", True)
    try:
        page.goto(f"{world.url}/c/{world.values['community_id']}/wall")
        rows = page.evaluate(
            """() => [...document.querySelectorAll('.thanks li')].map((li) => {
                 const r = li.getBoundingClientRect();
                 return [Math.round(r.top), Math.round(r.height)];
               })"""
        )
        assert len(rows) >= 3
        tops = sorted({top for top, _h in rows})
        height = max(h for _t, h in rows)
        assert len(tops) >= 2 and all(b - a <= height + 16 for a, b in zip(tops, tops[1:], strict=False)), (
            tops,
            height,
        )
    finally:
        context.close()


def test_a_home_panels_list_starts_clear_of_its_figures(world: World, browser: Any) -> None:
    """The partner unit's wishes on its member's home page: the first wish's title touched the
    bottom of the figures' boxes above it."""
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "volunteer")  # a member of the world's partner unit
        page.goto(world.url + "/")
        gaps = page.evaluate(
            """() => [...document.querySelectorAll('.panel .stats + .menu')].map((menu) =>
                 menu.getBoundingClientRect().top
                 - menu.previousElementSibling.getBoundingClientRect().bottom)"""
        )
        assert gaps and min(gaps) >= 8, gaps
    finally:
        context.close()


def test_the_dashboards_figures_keep_their_english_names_whole_in_large_text(
    world: World, browser: Any
) -> None:
    """In 长辈版 English the dashboard's boxes were too narrow for "supermarket" and "Attendance"."""
    context, page = _page(browser, world, "en", True)
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/dashboard")
        words = page.evaluate(WORDS_WHOLE, ".stats .stat")
        assert len(words) >= 20
        assert [word for word, whole in words if not whole] == []
    finally:
        context.close()


def test_the_kiosks_instructions_are_large_on_a_wall_screen(world: World, browser: Any) -> None:
    """On a wide screen read from a few steps away the kiosk said what to do in 16 px text."""
    host = world.url.split("//", 1)[1].split(":")[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": LANG_COOKIE, "value": "zh", "domain": host, "path": "/"}])
    page = context.new_page()
    try:
        log_in(page, world, "volunteer")
        page.goto(f"{world.url}/events/{world.values['open_event_id']}/kiosk?action=checkin")
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.kiosk-hint')).fontSize)")
        assert size >= 24
    finally:
        context.close()


def test_the_service_circles_categories_sit_side_by_side_on_a_phone(world: World, browser: Any) -> None:
    """Six categories were six full-width buttons, a phone's whole first screen before any service."""
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "resident")
        page.goto(f"{world.url}/circle/c/{world.values['community_id']}")
        boxes = [b for b in (a.bounding_box() for a in page.locator("nav.choices a").all()) if b]
        assert len(boxes) >= 4
        rows = {round(b["y"]) for b in boxes}
        assert len(rows) <= len(boxes) // 2, rows
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_list_table_fills_its_card_on_a_desktop_and_stacks_on_a_phone(
    world: World, browser: Any, width: int
) -> None:
    """Drawn as a block on a desktop, the residents' table ended its rows short of its white
    background; on a phone its rows are still a stacked list."""
    context, page = _page(browser, world, "zh", False)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/residents")
        sizes = page.evaluate(
            """() => {
                 const table = document.querySelector('table.list');
                 const box = table.parentElement.getBoundingClientRect();
                 const style = getComputedStyle(table.parentElement);
                 const inner = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
                   - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
                 const row = table.querySelector('tbody tr').getBoundingClientRect();
                 return {
                   inner, table: table.getBoundingClientRect().width, row: row.width,
                   display: getComputedStyle(table.querySelector('tbody tr')).display,
                   scroll: document.documentElement.scrollWidth, window: window.innerWidth,
                 };
               }"""
        )
        assert abs(sizes["row"] - sizes["inner"]) <= 1, sizes
        assert abs(sizes["table"] - sizes["inner"]) <= 1, sizes
        assert sizes["display"] == ("table-row" if width > 560 else "block"), sizes
        assert sizes["scroll"] <= sizes["window"], sizes
        if width > 560:
            # A name (a link, 44 px high) starts level with the phone beside it, not lower.
            tops = page.evaluate(
                """() => {
                     const cells = document.querySelector('table.list tbody tr').cells;
                     const top = (cell) => {
                       const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                       while (walker.nextNode() && !walker.currentNode.textContent.trim());
                       const range = document.createRange();
                       range.selectNodeContents(walker.currentNode);
                       return range.getClientRects()[0].top;
                     };
                     return [top(cells[0]), top(cells[1])];
                   }"""
            )
            assert abs(tops[0] - tops[1]) <= 2, tops
    finally:
        context.close()


def test_tables_stay_inside_their_cards_in_large_text_on_a_desktop(world: World, browser: Any) -> None:
    """In 长辈版 at a desktop's width the funding goal's contributions (when, source, amount, name,
    status and its Refund… button) ran past their card and scrolled sideways, as did the ledger's
    transfers and the dashboard's figures in English: there a table is a stacked list."""
    context, page = _page(browser, world, "en", True)
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        log_in(page, world, "admin")
        cid = world.values["community_id"]
        page.goto(f"{world.url}/payments/admin/c/{cid}")
        goals = page.eval_on_selector_all(
            "a[href*='/payments/admin/wish/'], a[href*='/payments/admin/project/']",
            "links => [...new Set(links.map((a) => a.getAttribute('href')))]",
        )
        assert goals, "the funding page lists the goals"
        for path in [*goals, f"/admin/c/{cid}/ledger", f"/admin/c/{cid}/dashboard"]:
            page.goto(world.url + path)
            boxes = page.evaluate(
                """() => [...document.querySelectorAll('table.list')].map((t) => {
                     const box = t.parentElement;
                     return [box.scrollWidth, box.clientWidth];
                   })"""
            )
            assert boxes, path
            assert [b for b in boxes if b[0] > b[1] + 1] == [], (path, boxes)
    finally:
        context.close()


def test_a_claimed_hours_decision_takes_its_cards_width(world: World, browser: Any) -> None:
    """On the approvals page, the form deciding a volunteer's claimed hours shrank to its fields'
    width in the list's row, narrower than the card (the honour hours' form below filled it)."""
    cid = world.values["community_id"]
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "volunteer")
        page.goto(f"{world.url}/c/{cid}/hours")
        page.fill("#what", "帮独居老人买菜")
        page.fill("#hours", "1")
        page.click(f"form[action='/c/{cid}/hours/claims'] button")
        page.wait_for_load_state()
    finally:
        context.close()
    # In Chinese: the English sentences were long enough to stretch the form to the row.
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{cid}/approvals")
        widths = page.evaluate(
            """() => [...document.querySelectorAll('input[name=claim_id]')].map((i) => {
                 const form = i.closest('form'), row = form.closest('li');
                 return [form.getBoundingClientRect().width, row.getBoundingClientRect().width];
               })"""
        )
        assert widths, "the volunteer's claim waits for approval"
        assert all(abs(form - row) <= 1 for form, row in widths), widths
    finally:
        context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_daily_pages_fit_a_320_px_phone(world: World, browser: Any, elder: bool) -> None:
    """The every-page walk runs at 390 px; on a 320 px phone the love supermarket's 320 px item
    photos pushed the page sideways. The pages a resident uses every day, at 320 px, with a
    photo uploaded for the item the resident ordered."""
    cid = world.values["community_id"]
    context, page = _page(browser, world, "zh", elder)
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/store/admin/c/{cid}/items/{world.values['item_id']}")
        picture = io.BytesIO()
        Image.new("RGB", (640, 480), (200, 120, 40)).save(picture, "PNG")
        page.set_input_files(
            "#photo", {"name": "item.png", "mimeType": "image/png", "buffer": picture.getvalue()}
        )
        page.click("form[action$='/photo'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("img.store-photo").count() == 1
    finally:
        context.close()
    context, page = _page(browser, world, "zh", elder)
    try:
        page.set_viewport_size({"width": 320, "height": 700})
        log_in(page, world, "resident")
        wide = []
        for path in (
            "/",
            f"/store/c/{cid}",
            f"/store/orders/{world.values['order_id']}",
            f"/circle/c/{cid}",
            f"/circle/offers/{world.values['offer_id']}",
            f"/circle/vouchers/{world.values['voucher_id']}",
            f"/c/{cid}/events",
            f"/events/{world.values['event_id']}",
            f"/c/{cid}/wishes",
            "/wallet",
            "/me/card",
            "/scan",
        ):
            page.goto(world.url + path)
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                wide.append((path, width))
        assert wide == []
    finally:
        context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_scanner_card_opens_on_its_button_and_the_camera_fits_it(
    world: World, browser: Any, elder: bool
) -> None:
    """The scanner card began with its empty status line, a blank band above the button (50 px
    in 长辈版); and the camera's picture, a video of the stream's own size, ran past a phone's
    window (a 1280×720 stream stands in for the camera here)."""
    context, page = _page(browser, world, "zh", elder)
    try:
        log_in(page, world, "resident")
        page.goto(world.url + "/scan")
        gap = page.evaluate(
            """() => {
                 const card = document.querySelector('.scanner');
                 const button = card.querySelector('[data-scanner-start]');
                 const pad = parseFloat(getComputedStyle(card).paddingTop);
                 return button.getBoundingClientRect().top - card.getBoundingClientRect().top - pad;
               }"""
        )
        assert gap <= 8, gap
        sizes = page.evaluate(
            """async () => {
                 const canvas = document.createElement('canvas');
                 canvas.width = 1280; canvas.height = 720;
                 canvas.getContext('2d').fillRect(0, 0, 10, 10);
                 const video = document.querySelector('.scanner-video');
                 video.srcObject = canvas.captureStream();
                 video.hidden = false;
                 await video.play();
                 await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
                 const card = document.querySelector('.scanner').getBoundingClientRect();
                 return { video: video.getBoundingClientRect().right, card: card.right,
                          page: document.documentElement.scrollWidth, window: window.innerWidth };
               }"""
        )
        assert sizes["video"] <= sizes["card"] and sizes["page"] <= sizes["window"], sizes
    finally:
        context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_a_cards_content_starts_and_ends_at_its_padding(world: World, browser: Any, elder: bool) -> None:
    """An event's card began with a blank band (its tags' paragraph kept its top margin) and
    wish cards ended with one (a last paragraph's bottom margin, 50 px in 长辈版)."""
    context, page = _page(browser, world, "zh", elder)
    try:
        log_in(page, world, "resident")
        cid = world.values["community_id"]
        bands = []
        for path in (f"/events/{world.values['event_id']}", f"/c/{cid}/wish-pool", f"/circle/c/{cid}"):
            page.goto(world.url + path)
            bands += page.evaluate(
                """(path) => [...document.querySelectorAll('.page .card')].flatMap((card) => {
                     const kids = [...card.children].filter((k) => k.getBoundingClientRect().height > 0);
                     if (!kids.length) return [];
                     const box = card.getBoundingClientRect(), s = getComputedStyle(card);
                     const top = kids[0].getBoundingClientRect().top - box.top - parseFloat(s.paddingTop)
                       - parseFloat(s.borderTopWidth);
                     const bottom = box.bottom - parseFloat(s.paddingBottom) - parseFloat(s.borderBottomWidth)
                       - Math.max(...kids.map((k) => k.getBoundingClientRect().bottom));
                     const band = [path, card.className, Math.round(top), Math.round(bottom)];
                     return top > 1 || bottom > 1 ? [band] : [];
                   })""",
                path,
            )
        assert bands == []
    finally:
        context.close()


def test_the_shelf_takes_about_half_a_screen_an_item(world: World, browser: Any) -> None:
    """Each item's photo on the love supermarket's shelf was as wide as the card and as tall, so a
    resident scrolled a whole screen (844 px) per item; a photo now sits beside the item's name
    (the demo's items have photos; the resident can afford them, so each card has its order form)."""
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "resident")
        page.goto(f"{world.url}/store/c/{world.values['community_id']}")
        page.wait_for_load_state("load")
        photos = page.evaluate(
            "[...document.querySelectorAll('.store-item img.store-photo')]"
            ".map((img) => img.getBoundingClientRect().height)"
        )
        cards = page.evaluate(
            "[...document.querySelectorAll('.store-item')].map((el) => el.getBoundingClientRect().height)"
        )
    finally:
        context.close()
    assert len(photos) >= 3, photos
    assert all(60 <= h <= 100 for h in photos), photos
    assert all(h <= 844 * 0.6 for h in cards), cards


def test_the_voucher_typed_at_the_shop_is_in_sight_when_it_comes(world: World, browser: Any) -> None:
    """In 长辈版 on a phone the shop's answer to a voucher's typed digits (whose voucher, which
    service, the button that redeems it) came above the form, and focusing the emptied field for
    the next code scrolled the answer's top, who it is for, off the screen."""
    context, page = _page(browser, world, "zh", True)
    try:
        log_in(page, world, "resident")
        page.goto(f"{world.url}/circle/vouchers/{world.values['voucher_id']}")
        digits = page.inner_text("[data-digits]")
    finally:
        context.close()
    context, page = _page(browser, world, "zh", True)
    try:
        log_in(page, world, "provider")
        page.goto(f"{world.url}/circle/shop/{world.values['provider_id']}")
        page.fill("#code", digits)
        page.click("form[data-scan-form] button[type=submit]")
        page.wait_for_selector("#scan-result [data-result=voucher_ready]")
        page.wait_for_timeout(100)
        top = page.evaluate("document.getElementById('scan-result').getBoundingClientRect().top")
        focused = page.evaluate("document.activeElement && document.activeElement.id")
    finally:
        context.close()
    assert 0 <= top < 844 / 2, top
    assert focused == "code"  # the next voucher's digits can be typed at once


def test_a_month_on_a_button_stays_on_one_line_on_a_desk(world: World, browser: Any) -> None:
    """On a desk the monthly statements' six month buttons shrank to share one row and each month
    broke in two ("2026-" above "10"). Measured with the every-page walk's own checks, whose cut
    figures now include a link's or button's number or date."""
    context, page = _page(browser, world, "zh", False)
    try:
        page.set_viewport_size({"width": 1280, "height": 844})
        log_in(page, world, "admin")
        page.goto(f"{world.url}/circle/admin/c/{world.values['community_id']}/statements")
        months = page.locator("nav[aria-label] a.button").count()
        found = page.evaluate(MEASURE, False)
    finally:
        context.close()
    assert months >= 6
    assert found["cut"] == []


def test_a_partner_units_progress_reads_as_a_share_on_the_chart(world: World, browser: Any) -> None:
    """The street's ranking of partner units drew bare numbers beside each unit (龙湖物业 50): a
    count of what? Each bar now says 50%, as its table's column does."""
    context, page = _page(browser, world, "zh", False)
    try:
        log_in(page, world, "street_admin")
        page.goto(f"{world.url}/street/{world.values['street_id']}/dashboard")
        page.wait_for_selector("[data-chart][data-drawn]")
        labels = page.evaluate(
            """() => [...document.querySelectorAll('[data-chart][data-drawn]')].map((el) => {
                const d = JSON.parse(el.getAttribute('data-chart'));
                const series = echarts.getInstanceByDom(el).getOption().series || [];
                return [d.unit, series.map((s) => s.label && s.label.formatter)];
            })"""
        )
        shares = [formatters for unit, formatters in labels if unit == "%"]
        assert shares and all(f == ["{c}%"] for f in shares), labels
        assert all("{c}%" not in f for unit, f in labels if unit != "%"), labels
    finally:
        context.close()


@pytest.mark.parametrize("elder", [False, True])
def test_a_person_pickers_parts_stand_one_under_another(world: World, browser: Any, elder: bool) -> None:
    """The award form's picker of a person (templates/_person_picker.html) sat in a box of its own
    inside the form, out of the form's column: its Find button and the Person label above the list
    of people stood side by side on one line, the label reading as the button's."""
    context, page = _page(browser, world, "en", elder)
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/ledger")
        find = page.locator("[data-picker] button[name=find]").bounding_box()
        label = page.locator("[data-picker] label[for=user_id]").bounding_box()
        people = page.locator("[data-picker] select").bounding_box()
        assert find and label and people
        assert label["y"] >= find["y"] + find["height"] - 1, (find, label)
        assert people["y"] >= label["y"] + label["height"] - 1, (label, people)
    finally:
        context.close()
