"""Every page can be reached from the UI: each role of the every-page walk's district (and a
visitor who is not signed in) starts at its home page and follows what a person can follow, breadth
first: links (<a href>), GET forms as they are filled in when the page opens, and the redirects
they answer with. Each URL maps to its route pattern through Litestar's route table; a pattern is
visited at most twice per role (the world's own rows first: the events the volunteer organises, the
wish the resident posted), so the walk stays cheap.

Fails on every GET page route (not the JSON API, static files, the offline Stripe's API or
webhooks) that no role reaches, except the pages in REACHED_OTHERWISE, each with the way a person
gets there instead. Fails too on every link that answers 403, 404 or 5xx to the role shown it.
HTTP only: no browser; the district and the live server are the every-page walk's."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
from litestar.exceptions import MethodNotAllowedException, NotFoundException

from tests.browser.conftest import ROLES, World
from tests.browser.test_every_page import AT_LEAST, _form_login

# The pages no link leads to, each with what sends a person there instead and where the code says
# so: (reason, file, text the file holds), checked by test_each_reason_is_in_the_code.
REACHED_OTHERWISE: dict[str, tuple[str, str, str]] = {
    "/offline-stripe/pay/{checkout_session:str}": (
        "the offline test Stripe's Checkout, where a donation's form (payments.pages.wish_donate,"
        " project_donate) and a voucher with a cash part (circle.pages.buy_offer) redirect after"
        " their POST",
        "app/payments/pages.py",
        "return Redirect(donation.checkout_url, status_code=303)",
    ),
    "/store/c/{community_id:int}/counter/{user_id:int}": (
        "the counter's order for a resident, linked from the answer to a scan of their member code"
        " or printed card at the counter (store.scan_handlers renders it)",
        "templates/store/_scan_member.html",
        'href="/store/c/{{ cid }}/counter/{{ user_id }}"',
    ),
    "/verify/{token:str}": (
        "the address in the QR code printed on a volunteer's certificate, opened by whoever checks it",
        "app/events/pages.py",
        'url = str(request.base_url).rstrip("/") + f"/verify/{token}"',
    ),
    "/partners/o/{organisation_id:int}/members/{member_id:int}/admin": (
        "the question before a member is made an organisation's admin, linked from the members"
        " list beside each member who is not one (the world's organisation has one member, its admin)",
        "templates/partners/organisation.html",
        'href="/partners/o/{{ organisation.id }}/members/{{ user_id }}/admin"',
    ),
    "/payments/admin/payments/{payment_id:int}/ask-again": (
        "asking Stripe again for a refund it refused, linked from the money page's list of refused"
        " refunds, which is shown only while one is refused (the world has none)",
        "templates/payments/admin_goals.html",
        'href="/payments/admin/payments/{{ r.id }}/ask-again"',
    ),
    "/payments/admin/c/{community_id:int}/contributions.csv": (
        "the contributions' file's earlier address, kept for saved bookmarks: it redirects to the"
        " export the goals page links",
        "app/payments/admin_pages.py",
        'return Redirect(f"/admin/c/{community_id}/exports/{found.name}.{fmt}", status_code=303)',
    ),
    "/payments/admin/c/{community_id:int}/contributions.xlsx": (
        "the same earlier address of the contributions' file, as Excel",
        "app/payments/admin_pages.py",
        '"/payments/admin/c/{community_id:int}/contributions.xlsx"',
    ),
}

# The pages open to anyone that a visitor who is not signed in reaches from the welcome page.
PUBLIC = {
    "/c/{community_id:int}/wall",
    "/c/{community_id:int}/wish-pool",
    "/fund/wish/{wish_id:int}",
    "/login",
    "/register",
}
# GET routes that are not pages a person reaches by following the UI.
NOT_PAGES = ("/api/", "/static/", "/schema", "/offline-stripe/v1/", "/health", "/stripe/webhook")
# Visits of one route pattern per role.
PER_PATTERN = 2


def page_patterns(app: Any) -> list[str]:
    """The GET routes a browser is meant to open: those not in the API's schema, less NOT_PAGES."""
    out = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in (handler.http_methods or ()) or handler.include_in_schema:
                continue
            if not any(route.path.startswith(p) or route.path == p.rstrip("/") for p in NOT_PAGES):
                out.add(route.path)
    return sorted(out)


class _Links(HTMLParser):
    """The hrefs of a page's links (downloads too), its images' sources and the URLs its GET
    forms open as they stand."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.forms: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if (tag == "a" and "href" in a) or (tag == "img" and "src" in a):
            self.hrefs.append(a["href"] if tag == "a" else a["src"])
        elif tag == "form":
            method = a.get("method", "get").lower()
            self._form = (a.get("action", ""), []) if method == "get" else None
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form[1].append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select[1].append(value)
            if "selected" in a:
                self._select[2].append(value)
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form[1].append((a["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            if selected or options:
                self._form[1].append((name, (selected or options)[0]))
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            action, fields = self._form
            self.forms.append(action.split("?")[0] + ("?" + urlencode(fields) if fields else ""))
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None and self._form[1]:
            name, _old = self._form[1][-1]
            self._form[1][-1] = (name, data)


@dataclass
class Walk:
    """What one role's walk found: the route patterns reached and the links that fail."""

    reached: dict[str, str] = field(default_factory=dict)  # pattern -> first URL
    broken: list[str] = field(default_factory=list)
    visits: int = 0


class Routes:
    def __init__(self, app: Any, world: World) -> None:
        self.router = app.asgi_router
        self.pattern_of = {
            id(handler): route.path
            for route in app.routes
            for handler in getattr(route, "route_handlers", [])
        }
        self.values = world.values

    def match(self, path: str) -> tuple[str, bool] | None:
        """The route pattern of a path, and whether its parameters name the world's own rows (the
        event the volunteer organises, the resident's voucher...) or none at all."""
        try:
            _app, handler, _path, params, _template = self.router.handle_routing(path, "GET")
        except (NotFoundException, MethodNotAllowedException):
            return None
        own = all(str(value) in self.own_values(name) for name, value in params.items())
        return self.pattern_of[id(handler)], own

    def own_values(self, name: str) -> set[str]:
        """The world's rows a parameter may name: its own value and those of the same kind named
        apart (event_id: the event tomorrow and open_event_id, the one whose check-in is open)."""
        return {str(v) for key, v in self.values.items() if key == name or key.endswith("_" + name)}


def walk(routes: Routes, world: World, role: str, earlier: set[str]) -> Walk:
    """One role's walk. Of a pattern's URLs it opens the world's own rows' first, then those no
    earlier role opened (`earlier`, which it adds to), so the roles' few visits of a pattern see
    different rows (the wish delivered with a thank-you photo, not only the first in a list)."""
    found = Walk()
    base = urlsplit(world.url)
    seen: set[str] = {"/"}
    visits: dict[str, int] = {}
    own: deque[tuple[str, str]] = deque([("/", "(home)")])
    fresh: deque[tuple[str, str]] = deque()
    again: deque[tuple[str, str]] = deque()

    def next_link() -> tuple[str, str] | None:
        if own:
            return own.popleft()
        while fresh:
            item = fresh.popleft()
            if item[0] not in earlier:
                return item
            again.append(item)
        return again.popleft() if again else None

    with httpx.Client(base_url=world.url, timeout=30) as http:
        if role != "anonymous":
            _form_login(http, world.phones[role], world.password)
        while (item := next_link()) is not None:
            url, origin = item
            matched = routes.match(urlsplit(url).path)
            if matched is None:
                found.broken.append(f"{origin} -> {url}: no such route")
                continue
            pattern = matched[0]
            if visits.get(pattern, 0) >= PER_PATTERN:
                continue
            visits[pattern] = visits.get(pattern, 0) + 1
            found.visits += 1
            earlier.add(url)
            answer = http.get(url)
            if answer.status_code >= 400:
                found.broken.append(f"{origin} -> {url}: {answer.status_code}")
                continue
            found.reached.setdefault(pattern, url)
            if answer.is_redirect:
                targets = [answer.headers["location"]]
            elif answer.status_code == 200 and "text/html" in answer.headers.get("content-type", ""):
                parser = _Links()
                parser.feed(answer.text)
                targets = parser.hrefs + parser.forms
            else:
                continue
            for target in targets:
                link = urlsplit(urljoin(world.url + url, target.strip()))
                if link.scheme not in ("http", "https") or link.netloc != base.netloc:
                    continue
                if any(link.path.startswith(p) for p in NOT_PAGES):
                    continue
                href = link.path + ("?" + link.query if link.query else "")
                if href in seen:
                    continue
                seen.add(href)
                matched = routes.match(link.path)
                (own if matched is not None and matched[1] else fresh).append((href, url))
    return found


_WALKS: dict[str, Walk] = {}


def walks(app: Any, world: World) -> dict[str, Walk]:
    if not _WALKS:
        routes, earlier = Routes(app, world), set[str]()
        for role in ROLES:
            _WALKS[role] = walk(routes, world, role, earlier)
    return _WALKS


def test_every_page_is_reached_from_a_home_page(app: Any, world: World) -> None:
    found = walks(app, world)
    reached = {pattern for w in found.values() for pattern in w.reached}
    unreached = [p for p in page_patterns(app) if p not in reached and p not in REACHED_OTHERWISE]
    summary = {role: (len(w.reached), w.visits) for role, w in found.items()}
    assert unreached == [], f"pages no role reaches from its home page: {unreached} ({summary})"
    followed = [p for p in REACHED_OTHERWISE if p in reached]
    assert followed == [], f"REACHED_OTHERWISE lists pages a link reaches after all: {followed}"


def test_a_visitor_not_signed_in_reaches_the_public_pages(app: Any, world: World) -> None:
    missing = sorted(PUBLIC - set(walks(app, world)["anonymous"].reached))
    assert missing == [], f"a visitor does not reach {missing} from the welcome page"


def test_each_role_reaches_the_pages_it_must_open(app: Any, world: World) -> None:
    """The every-page walk's AT_LEAST (the pages each role must be able to open) are reached by
    that role itself, from its own home page, not only opened by typing their address."""
    found = walks(app, world)
    missing = {
        role: sorted(set(paths) - set(found[role].reached) - set(REACHED_OTHERWISE))
        for role, paths in AT_LEAST.items()
    }
    assert {role: paths for role, paths in missing.items() if paths} == {}


def test_no_link_fails_for_whom_it_is_shown(app: Any, world: World) -> None:
    broken = [f"{role}: {line}" for role, w in walks(app, world).items() for line in w.broken]
    assert broken == [], "links that fail:\n" + "\n".join(broken)


def test_each_reason_is_in_the_code() -> None:
    root = Path(__file__).resolve().parents[2]
    wrong = [
        pattern
        for pattern, (_reason, file, text) in REACHED_OTHERWISE.items()
        if text not in (root / file).read_text(encoding="utf-8")
    ]
    assert wrong == [], f"REACHED_OTHERWISE gives reasons the code no longer bears out: {wrong}"
