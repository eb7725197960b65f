"""Every page of every role, in both modes (standard, 长辈版) and both languages, in headless
Chromium: no serious or critical axe-core finding anywhere, and in 长辈版 the MIIT elderly-friendly
figures (text ≥ 24 px, the largest ≥ 40 px, line height ≥ 1.3, targets ≥ 60×60, contrast ≥ 4.5:1);
the standard mode's targets reach 44×44; no page is wider than the window, and no figure's number
is cut in two or runs out of its box.

What runs where: every role opens every page it may open, and the missing page, in every mode
and language; each visit checks the answer (200, no redirect; the missing page 404), the page's
language and mode, the targets and the width (in 长辈版 the MIIT figures too), and no visit may
log a Content-Security-Policy refusal. axe-core, the dearest check (50 – 85 ms of CPU a run on
two pages measured, where their load cost about 45; see axe_findings), runs on every page in every mode and
language (by at least one of the roles that open it) and on every page of every role in at least
one mode and language: max(k, 4) runs on a page that k roles open, where every visit made 4k
(runs_axe says which). The visits that run axe take the screenshots too, so every
page is captured in every mode and language by a role that opens it, not on every visit (a
screenshot costs Chromium about 35 ms). Two roles' visits seldom load the same HTML (the footer
names the person): of the walks' 441 axe runs, 5 found a page and variant whose HTML, less its
CSRF token, a run had checked already, so none is skipped on that ground.

The pages come from the route table (GET routes that render a template), so a new page is
visited without touching this file; a path parameter nobody here knows fails the coverage test.
Each role visits the pages it may open (others answer 403/404 or send it to log in, checked
without a browser) plus a page that does not exist. The district is the demo's, with an event
the volunteer organises, the resident's sign-up and an order made here through the API.
The walk in Chinese is here, in English in test_every_page_en.py. Screenshots of each page's
first screen go to test-artifacts/every-page/<role>-<mode>-<lang>/, in the folder of the role whose
visit ran axe (at 390 px; a desktop's width with JINLIN_PAGE_WIDTH=1280; whole pages with
JINLIN_FULL_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import re
import typing
import weakref
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.response import Template

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import ROLES, World, log_in
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

# The walk's Chromium (tests.chromium) runs the pages' scripts and axe with V8's interpreter and
# its baseline compiler (Sparkplug) alone, not its optimising compilers (Maglev, TurboFan): a page
# lives for one visit and axe runs once on it, and the optimised code each document made again, for
# its own functions' fresh feedback, cost more than it saved; the interpreter's bytecode and
# Sparkplug's code are shared by a renderer's documents. The scripts do the same either way.
# Measured with the CPU recorder on this file, A/B alternated twice: 72.9 and 71.0 CPU-s against
# 81.7 and 78.5. The other browser files, shorter and with more of Playwright's own script in the
# page, cost more so (test_page_looks.py and test_qr_at_a_glance.py: 33.3 and 34.4 against 30.6
# and 30.6), and keep V8's defaults: a worker starts Chromium again after the walk.
CHROMIUM_EXTRA_ARGS = ("--js-flags=--max-opt=1",)
HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe.min.js"
MODES = ("standard", "elder")
LANGS = ("zh", "en")
MISSING = "/no-such-page"
# A phone by default; JINLIN_PAGE_WIDTH=1280 runs the same checks on a desktop's width.
WIDTH = int(os.environ.get("JINLIN_PAGE_WIDTH", "390"))
# The pages each role must at least reach: a broken permission shows up as a page gone missing.
AT_LEAST = {
    "anonymous": {"/", "/login", "/register", "/verify/{token:str}", "/c/{community_id:int}/wall"},
    "resident": {"/", "/wallet", "/c/{community_id:int}/events", "/store/me/orders", "/me/card", "/scan"},
    "volunteer": {"/", "/events/{event_id:int}", "/events/{event_id:int}/kiosk"},
    "grid_worker": {"/", "/admin/c/{community_id:int}/residents"},
    "staff": {"/", "/store/admin/c/{community_id:int}/orders", "/admin/c/{community_id:int}/events"},
    "admin": {
        "/",
        "/admin/c/{community_id:int}/ledger",
        "/admin/c/{community_id:int}/approvals",
        "/admin/c/{community_id:int}/dashboard",
        "/admin/c/{community_id:int}/wall",
    },
    "street_admin": {
        "/",
        "/street/{street_id:int}",
        "/street/{street_id:int}/dashboard",
        "/admin/c/{community_id:int}/places",
        "/admin/c/{community_id:int}/dashboard",
    },
    "partner": {"/", "/partners", "/partners/c/{community_id:int}/lists", "/c/{community_id:int}/wish-pool"},
    "provider": {"/", "/circle/shop/{provider_id:int}", "/circle/shop/{provider_id:int}/offers/new"},
}


def page_routes(app: Any) -> list[str]:
    """Paths of the GET routes whose handler renders a template (HTML pages)."""
    paths = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in (handler.http_methods or ()):
                continue
            annotation = handler.parsed_fn_signature.return_type.annotation
            if annotation is Template or Template in typing.get_args(annotation):
                paths.append(route.path)
    return sorted(set(paths))


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def fill(path: str, values: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(values[m.group(1)]), path)


# The pages each role may open (answer 200, not a redirect, 403 or 404), asked once per role without
# a browser: the same for both modes and languages, so the four browser runs of a role and the
# coverage test share it instead of asking the server for every page again.
_OPENS: dict[str, list[str]] = {}


def pages_opened_by(app: Any, world: World, role: str) -> list[str]:
    if role not in _OPENS:
        with httpx.Client(base_url=world.url, timeout=30) as http:
            if role != "anonymous":
                _form_login(http, world.phones[role], world.password)
            opens = []
            for path in page_routes(app):
                unknown = set(PARAM.findall(path)) - set(world.values)
                assert not unknown, f"{path}: add a value for {unknown} to the world fixture"
                if http.get(fill(path, world.values)).status_code == 200:
                    opens.append(path)
        _OPENS[role] = opens
    return _OPENS[role]


def openers(app: Any, world: World, path: str) -> list[str]:
    """The roles that open the page, in ROLES' order (everyone reaches the missing page)."""
    if path == MISSING:
        return list(ROLES)
    return [role for role in ROLES if path in pages_opened_by(app, world, role)]


def test_every_page_route_has_its_parameters_and_someone_who_opens_it(app: Any, world: World) -> None:
    """Coverage without a browser: each page's path fills from the test's data and answers 200
    to at least one role, so every page is visited by the test below."""
    opened: dict[str, list[str]] = {}
    for role in ROLES:
        for path in pages_opened_by(app, world, role):
            opened.setdefault(path, []).append(role)
    nobody = [path for path in page_routes(app) if path not in opened]
    assert nobody == [], f"pages no role could open: {nobody}"
    for role, paths in AT_LEAST.items():
        missing = [p for p in paths if role not in opened.get(p, [])]
        assert missing == [], f"{role} cannot open {missing}"


def _form_login(http: httpx.Client, phone: str, password: str) -> None:
    page = http.get("/login")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match, "the login page carries a CSRF token"
    answer = http.post(
        "/login",
        data={"phone": phone, "password": password, "_csrf_token": match.group(1), "next": "/"},
        headers={"X-CSRFToken": match.group(1)},
    )
    assert answer.status_code in (200, 303), answer.text[:500]


# What 长辈版 (and the standard mode's targets) must meet, measured in the page.
MEASURE = """
(elder) => {
  const minTarget = elder ? 60 : 44;
  // Each element's style is read once, and whether it and its ancestors are shown is known once
  // per element: the walks below ask for the same ancestors again and again.
  const styles = new Map();
  const style = (e) => {
    let s = styles.get(e);
    if (s === undefined) styles.set(e, (s = getComputedStyle(e)));
    return s;
  };
  const showns = new Map();
  const chainShown = (e) => {
    if (!e) return true;
    let v = showns.get(e);
    if (v === undefined) {
      const s = style(e);
      v = !(s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0)
        && chainShown(e.parentElement);
      showns.set(e, v);
    }
    return v;
  };
  const shown = (el) => {
    if (!chainShown(el)) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > -window.scrollY;
  };
  const rgba = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = style(e);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;
      const c = rgba(s.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
    return out;
  };
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (typeof el.className === 'string' && el.className.trim())
      s += '.' + el.className.trim().split(/\\s+/).join('.');
    const t = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30);
    return t ? `${s} "${t}"` : s;
  };
  const found = { small: [], lines: [], contrast: [], targets: [], largest: 0, overflow: null, cut: [],
    spills: [], shown: [document.documentElement.lang, document.querySelectorAll('body.elder').length] };
  // The text's figures are 长辈版's alone (the largest text too): the standard mode skips the walk.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const done = new Set();
  while (elder && walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || done.has(el)) continue;
    done.add(el);
    if (el.closest('script, style, noscript, template, option, [aria-hidden="true"]') || !shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if (!range.getClientRects().length) continue;
    const s = style(el);
    const size = parseFloat(s.fontSize);
    found.largest = Math.max(found.largest, size);
    if (size < 23.9) found.small.push(`${name(el)} ${size}px`);
    const line = s.lineHeight === 'normal' ? 1.2 * size : parseFloat(s.lineHeight);
    if (line / size < 1.295) found.lines.push(`${name(el)} ${(line / size).toFixed(2)}`);
    const fg = rgba(s.color), bg = background(el);
    if (fg && bg) {
      const f = fg[3] < 1 ? fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3])) : fg;
      const [a, b] = [lum(f), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) found.contrast.push(`${name(el)} ${ratio.toFixed(2)}:1`);
    }
  }
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el) || el.closest('[inert]')) continue;
    // A check box's or radio's target is its label when the label wraps it (clicking it toggles).
    const label = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label');
    const box = label || el;
    const r = box.getBoundingClientRect();
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5)
      found.targets.push(`${name(el)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  // A chart's words and numbers are drawn on a canvas the walk above cannot read: in 长辈版 the
  // sizes its ECharts options give the text it shows (axes, legend, the bars' numbers) count too.
  if (elder && typeof echarts !== 'undefined') {
    for (const el of document.querySelectorAll('[data-chart]')) {
      const chart = echarts.getInstanceByDom(el);
      if (!chart || !shown(el)) continue;
      const o = chart.getOption();
      const texts = [['text', o.textStyle]];
      for (const l of o.legend || []) if (l.show !== false) texts.push(['legend', l.textStyle]);
      for (const a of [...(o.xAxis || []), ...(o.yAxis || [])])
        if (a.show !== false && a.axisLabel && a.axisLabel.show !== false) texts.push(['axis', a.axisLabel]);
      for (const s of o.series || []) if (s.label && s.label.show) texts.push(['numbers', s.label]);
      for (const [what, style] of texts) {
        const size = style && style.fontSize;
        if (typeof size === 'number' && size < 23.9) found.small.push(`${name(el)} chart ${what} ${size}px`);
      }
    }
  }
  // A figure's number sits whole on one line inside its box ("461." above "6" is no number), and
  // so does a button's or link's number or date ("2026-" above "11" is no month).
  const numeric = new RegExp('^[0-9][0-9.,:/-]*$');
  for (const el of document.querySelectorAll('.stat strong, a, button')) {
    const figure = el.matches('.stat strong');
    if (!shown(el) || (!figure && !numeric.test(el.textContent.trim()))) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const box = (figure ? el.closest('.stat') : el).getBoundingClientRect();
    if (new Set(rects.map((r) => Math.round(r.top))).size > 1 || rects.some((r) => r.right > box.right + 0.5))
      found.cut.push(name(el));
  }
  // An image stays inside its box's padding: a QR code wider than its card ran over the card's
  // border on a phone.
  for (const img of document.querySelectorAll('main img')) {
    if (!shown(img) || !img.parentElement) continue;
    const r = img.getBoundingClientRect(), b = img.parentElement.getBoundingClientRect();
    const s = style(img.parentElement);
    const left = b.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft);
    const right = b.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight);
    if (r.width > 0 && (r.left < left - 0.5 || r.right > right + 0.5)) found.spills.push(name(img));
  }
  // Nothing pushes the page past the window: a wide table scrolls inside its own box.
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 0.5) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter((el) => shown(el) && el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 3).map(name);
    found.overflow = `${doc.scrollWidth}px > ${window.innerWidth}px: ${wide.join(', ')}`;
  }
  return found;
}
"""

AXE_SOURCE = AXE.read_text()
# axe's default rules (enabled, not experimental) that can find something serious or critical:
# axe gives each finding its rule's impact, so the rules of moderate or minor impact (region,
# landmark-*, heading-order, ...) cannot add to what the test fails on. Only violations are built.
AXE_RUN = """
async () => {
  const rules = axe._audit.rules
    .filter((r) => r.enabled && !r.tags.includes('experimental')
      && (!r.impact || r.impact === 'serious' || r.impact === 'critical'))
    .map((r) => r.id);
  const result = await axe.run(document, {
    resultTypes: ['violations'], runOnly: { type: 'rule', values: rules },
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at `
      + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
}
"""


# axe wrapped in a function that each document of a walk's page is given before its own scripts
# (by the page's DevTools session, so the CSP does not refuse it) and that only the visits running
# axe call: uncalled it costs a document nothing measurable, and Chromium compiles the same source
# once for all of them, where sending the half megabyte through Playwright's driver for each run
# cost Chromium, the driver and this process about 30 ms of CPU a run (below).
AXE_AT_HAND = "function __jinlinAxe() {\n" + AXE_SOURCE + "\n}"
CALL_AXE = "typeof __jinlinAxe === 'function' && (__jinlinAxe(), true)"

# Each page's DevTools session: the walk's pages' opened with the page (keep_axe_at_hand), any
# other's on its first axe run.
_RUNTIMES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def keep_axe_at_hand(page: Any) -> None:
    """Gives every document the page loads from now on AXE_AT_HAND, for axe_findings."""
    session = _RUNTIMES[page] = page.context.new_cdp_session(page)
    session.send("Page.enable")  # Chromium runs a session's scripts for new documents only with it
    session.send("Page.addScriptToEvaluateOnNewDocument", {"source": AXE_AT_HAND})


def axe_findings(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as loaded.

    axe is put into the page here, only where it runs: by calling AXE_AT_HAND where the document
    has it (keep_axe_at_hand), else compiled as a script through the page's DevTools session
    (rather than `page.evaluate`d, whose driver parses the half megabyte itself first: 131 – 132
    ms of CPU a run against 146 – 150). Measured with the CPU recorder on 20 loads and axe runs of
    the admin's events page and of the wallet: a load with its run cost 127 and 90 ms of CPU called
    at hand against 157 and 133 compiled; seven of the Chinese walks (the resident's in 长辈版, the
    staff's, the admin's and the street admin's), alternated twice: 46.8 and 50.2 CPU-s against
    48.9 and 53.9."""
    runtime = _RUNTIMES.get(page)
    if runtime is not None:
        if in_page(page, CALL_AXE) is True:
            return list(in_page(page, f"({AXE_RUN.strip()})()"))
    else:
        runtime = _RUNTIMES[page] = page.context.new_cdp_session(page)
    runtime.send("Runtime.enable")
    script = runtime.send(
        "Runtime.compileScript", {"expression": AXE_SOURCE, "sourceURL": AXE.name, "persistScript": True}
    )
    assert "exceptionDetails" not in script, script["exceptionDetails"]
    ran = runtime.send("Runtime.runScript", {"scriptId": script["scriptId"]})
    assert "exceptionDetails" not in ran, ran["exceptionDetails"]
    return list(in_page(page, f"({AXE_RUN.strip()})()"))


def in_page(page: Any, expression: str) -> Any:
    """The value of the expression (a promise's, once it settles) in the page's document, asked
    through the page's own DevTools session (keep_axe_at_hand, axe_findings), not `page.evaluate`:
    Playwright's evaluate first puts its own script into each new document and wraps the call and
    its answer in it. Measured by sampling the CPU of each process on the admin's 87 pages (the
    MEASURE script on each), A/B alternated twice: Chromium's renderer 2.21 CPU-s against 2.44 and
    Playwright's driver 0.37 against 0.48; the staff's, admin's and street admin's six Chinese walks
    with the CPU recorder, alternated twice: 34.5 and 34.4 CPU-s against 35.3 and 35.3."""
    answer = _RUNTIMES[page].send(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
    )
    assert "exceptionDetails" not in answer, answer["exceptionDetails"]
    return answer["result"].get("value")


VARIANTS = [(mode, lang) for lang in LANGS for mode in MODES]


def runs_axe(path: str, role: str, roles: list[str], mode: str, lang: str) -> bool:
    """Whether this role runs axe on this page in this variant (mode and language).

    axe is the walk's dearest check and finds the same things for two roles that see the same
    page, so it runs on every page (route) in every variant by at least one role, and on every
    page each role opens in at least one variant, in max(k, 4) runs for the k roles that open it:
    run j (j = 0, 1, ...) is role j mod k's in variant (j + h) mod 4, h spreading the pages over
    the variants (and so over the two files). Every other check runs everywhere."""
    v = VARIANTS.index((mode, lang))
    i, k = roles.index(role), len(roles)
    h = zlib.crc32(path.encode()) % len(VARIANTS)
    return any(j % k == i and (j + h) % len(VARIANTS) == v for j in range(max(k, len(VARIANTS))))


# The Chinese walk is here, the English one in test_every_page_en.py: the walk is the suite's
# longest, and as two files the test workers (`--dist loadfile`) share it.
@pytest.mark.parametrize("lang", LANGS[:1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible(app, world, browser, artifacts, role, mode, lang):
    walk_every_page(app, world, browser, artifacts, role, mode, lang)


# One browser context (its window, signed in) per role and language, kept from the role's walk in
# one mode to its walk in the other (the tests run in that order, mode after mode), the mode's
# cookie set anew: a context and its sign-in cost Chromium and the server about 0.2 CPU-s, and
# this opens 18 of the walks' 36. A walk that fails closes its context.
_KEPT: dict[str, Any] = {}


def _window(browser: Any, world: World, role: str, lang: str) -> tuple[Any, Any, list[str]]:
    """The role's context and page in the language (kept, or new), and the page's list of
    Content-Security-Policy refusals (emptied)."""
    if _KEPT.get("browser") is browser and _KEPT.get("key") == (role, lang):
        _KEPT["csp"].clear()
        return _KEPT["context"], _KEPT["page"], _KEPT["csp"]
    _forget_window()
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 844}, locale="zh-CN" if lang == "zh" else "en-GB"
    )
    host = world.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"}])
    page = context.new_page()
    keep_axe_at_hand(page)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        if role != "anonymous":
            log_in(page, world, role)
    except BaseException:
        context.close()
        raise
    _KEPT.update(browser=browser, key=(role, lang), context=context, page=page, csp=csp)
    return context, page, csp


def _forget_window() -> None:
    context = _KEPT.pop("context", None)
    _KEPT.clear()
    if context is not None and context.browser is not None and context.browser.is_connected():
        context.close()


def walk_every_page(
    app: Any, world: World, browser: Any, artifacts: Path, role: str, mode: str, lang: str
) -> None:
    elder = mode == "elder"
    context, page, csp = _window(browser, world, role, lang)
    host = world.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": ELDER_COOKIE, "value": "1" if elder else "0", "domain": host, "path": "/"}])
    shots = artifacts / "every-page" / f"{role}-{mode}-{lang}{'' if WIDTH == 390 else f'-{WIDTH}'}"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    visited: list[str] = []
    try:
        for path in [*pages_opened_by(app, world, role), MISSING]:
            url = fill(path, world.values)
            answer = page.goto(world.url + url)
            assert answer is not None
            assert answer.status == (404 if path == MISSING else 200), f"{url}: {answer.status}"
            assert answer.request.redirected_from is None, f"{url} sent {role} to {answer.url}"
            visited.append(path)
            # In the page's own script (a locator would put Playwright's selector engine into every
            # page), in one call with the page's language and mode, through the page's DevTools
            # session (in_page).
            figures = in_page(page, f"({MEASURE.strip()})({'true' if elder else 'false'})")
            shown = figures["shown"]
            assert shown == ["zh-Hans" if lang == "zh" else "en", 1 if elder else 0], shown
            # The screenshot goes with axe: every page in every variant, by a role that opens it.
            if runs_axe(path, role, openers(app, world, path), mode, lang):
                slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                screenshot(page, shots / f"{slug}.png")
                problems.extend(f"{url}: axe {finding}" for finding in axe_findings(page))
            if figures["overflow"]:
                problems.append(f"{url}: wider than the window: {figures['overflow']}")
            for figure in figures["cut"]:
                problems.append(f"{url}: a figure's number cut or out of its box: {figure}")
            for image in figures["spills"]:
                problems.append(f"{url}: an image wider than its box: {image}")
            for target in figures["targets"]:
                problems.append(f"{url}: target under {60 if elder else 44}px: {target}")
            if elder:
                if figures["largest"] < 40:
                    problems.append(f"{url}: largest text {figures['largest']}px < 40px")
                for kind in ("small", "lines", "contrast"):
                    problems.extend(f"{url}: {kind}: {item}" for item in figures[kind])
    except BaseException:
        _forget_window()
        raise
    assert AT_LEAST[role] <= {*visited}, f"{role} missed {AT_LEAST[role] - {*visited}}"
    assert csp == [], csp
    assert problems == [], f"{len(problems)} findings:\n" + "\n".join(problems)


def test_axe_runs_on_every_page_in_every_variant_and_for_every_role() -> None:
    """runs_axe's promise, for pages that one to all nine roles open: every variant has a role
    run axe and every role runs it in a variant, max(k, 4) runs in all (nine roles run it 9
    times on a page where they ran it 36 times)."""
    paths = ("/", "/wallet", "/admin/c/{community_id:int}/ledger", MISSING, *(f"/{n}" for n in range(40)))
    assert {zlib.crc32(path.encode()) % len(VARIANTS) for path in paths} == set(range(len(VARIANTS)))
    for k in range(1, len(ROLES) + 1):
        roles = list(ROLES[:k])
        for path in paths:
            for mode, lang in VARIANTS:
                assert any(runs_axe(path, r, roles, mode, lang) for r in roles), (path, k, mode, lang)
            for role in roles:
                assert any(runs_axe(path, role, roles, m, g) for m, g in VARIANTS), (path, k, role)
            runs = sum(runs_axe(path, r, roles, m, g) for r in roles for m, g in VARIANTS)
            assert runs == max(k, len(VARIANTS)), (path, k, runs)


BAD_PAGE = """<!doctype html><html><head><title>t</title></head><body>
<div><img src="x.png"><button></button><p style="color:#bbb;background:#fff">pale text</p>
<h1>x</h1><h4>skipped levels</h4><input type="text"></div></body></html>"""


def test_axe_findings_are_the_default_runs_serious_and_critical_ones(browser: Any) -> None:
    """A page with known faults: the walk's axe run (only the rules that can find something
    serious or critical) fails it on the same findings as axe's full default run, and the
    moderate ones (no main landmark, skipped heading level) fail neither."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(BAD_PAGE)
        found = axe_findings(page)
        everything = page.evaluate(
            """async () => (await axe.run(document)).violations.map((v) => [v.id, v.impact])"""
        )
    finally:
        context.close()
    serious = sorted(rule for rule, impact in everything if impact in ("serious", "critical"))
    assert sorted(f.split(" ", 1)[0] for f in found) == serious
    assert {"image-alt", "button-name", "color-contrast", "html-has-lang", "label"} <= set(serious)
    moderate = {rule for rule, impact in everything if impact in ("moderate", "minor")}
    assert {"landmark-one-main", "heading-order"} <= moderate
