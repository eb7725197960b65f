"""Helpers for tests that drive the HTML pages like a browser: CSRF tokens and cookie logins."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from tests.conftest import Person

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
SESSION_COOKIE = "jl_session"


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


async def csrf_token(client: Any, path: str = "/login") -> str:
    """A valid form token (the GET also sets the CSRF cookie in the client's jar)."""
    response = await client.get(path)
    return csrf_from(response.text)


async def page_login(client: Any, person: Person, cookie_name: str = SESSION_COOKIE) -> str:
    """Logs in through the /login form; returns the session cookie's value."""
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={"phone": person.phone, "password": person.password, "next": "/", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    value = response.cookies.get(cookie_name)
    assert value, response.headers
    return str(value)


async def post_form(client: Any, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POSTs a form with a fresh, valid CSRF token, as the page's own form would."""
    token = await csrf_token(client, "/login")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False, **kwargs
    )


def set_cookies(headers: Any) -> list[str]:
    return [value for key, value in headers.multi_items() if key.lower() == "set-cookie"]


def cookie_header(value: str, name: str = SESSION_COOKIE) -> dict[str, str]:
    """Sends exactly this session cookie (an explicit Cookie header replaces the client's jar)."""
    return {"Cookie": f"{name}={value}"}


async def session_of(client: Any, person: Person) -> str:
    """Logs `person` in with a clean cookie jar and returns their session cookie's value.

    One AsyncTestClient per test (a second one would run the app on another event loop), so
    several people's browsers are kept apart by their cookie values."""
    client.cookies.clear()
    return await page_login(client, person)


def loose_dates(html: str, months: bool = False) -> list[str]:
    """The dates (2026-12-01) in a page's sentences, headings and list lines that are not marked
    whole (templates/_dates.html), which a narrow line may break at their dashes (2026-12- / 01);
    with `months`, the months (2026-12) too."""
    kept = re.sub(r'<span class="unbroken">.*?</span>', "", html, flags=re.S)
    day = r"(?<![\d-])(?:19|20)\d\d-[01]\d" + (r"(?:-[0-3]\d)?" if months else r"-[0-3]\d") + r"(?![\d-])"
    found: list[str] = []
    for element in re.finditer(r"<(p|li|h1|h2|h3)\b[^>]*>(.*?)</\1>", kept, flags=re.S):
        found += re.findall(day, re.sub(r"<[^>]+>", "", element.group(2)))
    return found


def words(html: str) -> str:
    """A page's text as read, without its markup (a date marked whole reads as it did)."""
    return re.sub(r"<[^>]+>", "", html)


class _MenuRows(HTMLParser):
    """The links of a page's menus (`ul.menu`), each with what it holds directly: its runs of
    text and its child elements (a visually hidden one apart, which takes no place)."""

    VOID = frozenset({"br", "img", "input", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[bool] = []  # each open list, whether it is a menu
        self.link: tuple[str, list[str]] | None = None
        self.depth = 0  # elements open inside the link
        self.rows: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.link is not None:
            if self.depth == 0 and "visually-hidden" not in classes:
                self.link[1].append(f"<{tag}>")
            self.depth += tag not in self.VOID
        elif tag == "ul":
            self.lists.append("menu" in classes)
        elif tag == "a" and any(self.lists):
            self.link, self.depth = (dict(attrs).get("href") or "", []), 0

    def handle_endtag(self, tag: str) -> None:
        if self.link is not None and tag == "a" and self.depth == 0:
            self.rows.append(self.link)
            self.link = None
        elif self.link is not None:
            self.depth -= tag not in self.VOID
        elif tag == "ul" and self.lists:
            self.lists.pop()

    def handle_data(self, data: str) -> None:
        if self.link is not None and self.depth == 0 and data.strip():
            self.link[1].append(data.strip())


def split_menu_rows(html: str) -> list[tuple[str, list[str]]]:
    """The menu links of a page that hold their words in more than one piece. A menu's link is a
    flex box edge to edge (app.css `.menu a`): each run of text and each element in it is laid
    out as a column of its own, so a line of words with a date or an amount marked up in it
    stood in narrow columns on a phone. A link's words are one run of text or one element."""
    rows = _MenuRows()
    rows.feed(html)
    return [(href, parts) for href, parts in rows.rows if len(parts) > 1]
