"""What a person finds first on the home page, gathered from the domains without naming them.

Each domain registers a hook at import time (as scan handlers register with app.scans.scanning):

    @homes.part
    async def home(session, actor, community) -> homes.HomePart: ...

and the home page (app.accounts.admin_pages) calls every hook for each community the person belongs
to. A hook reads its figures through its own domain's services and returns only what this
person may see there: a resident gets a balance, the next event and large icons; a volunteer
the events they organise; staff the counter and today's pickups; an admin today's figures.
Labels are msgids, translated when the page is drawn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.authz import Actor


@dataclass(frozen=True)
class Tile:
    """A large icon on the grid residents know from their phones' apps (活动, 扫一扫, 爱心超市)."""

    url: str
    label: str  # msgid
    icon: str  # an inline SVG symbol of templates/_icons.html
    order: int = 100


@dataclass(frozen=True)
class Figure:
    """A number shown large: a balance, today's check-ins, orders waiting."""

    label: str  # msgid
    value: int
    url: str | None = None
    attention: bool = False  # something waits for someone (said in words, not only in colour)
    order: int = 100
    icon: str = "points"  # beside a person's own figure (templates/_icons.html)
    # A level out of this many stars (volunteer stars): shown as stars, and said as `words`
    # (a msgid with %(num)s, and %(of)s for this many) to a screen reader; 0 for a plain number.
    stars_of: int = 0
    words: str = ""
    # msgid: what the number counts (人次, 单, 个), said under it on a panel of figures.
    unit: str = ""


@dataclass(frozen=True)
class Entry:
    """One line of a panel: data (an event's title), not a message."""

    title: str
    detail: str = ""
    url: str | None = None
    tag: str = ""  # msgid, e.g. "Signed up"
    # When given, the title is a msgid and these fill its placeholders ("%(year)s honour").
    words: dict[str, Any] | None = None
    # When it happens, shown before the detail with the day of the week in `zone` (the
    # community's time zone): 2026-12-02 周三 14:30 · 社区党群服务中心.
    when: datetime | None = None
    zone: str | None = None


@dataclass
class Panel:
    """A card of the home page; panels with the same key (e.g. "today") are merged."""

    key: str
    title: str  # msgid
    entries: list[Entry] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    empty: str = ""  # msgid shown when there is nothing to list
    more: tuple[str, str] | None = None  # (url, label msgid): where the whole list is
    action: tuple[str, str] | None = None  # (url, label msgid): the panel's main button
    order: int = 100
    # When given, these fill the title's placeholders ("Micro-wishes: %(unit)s").
    words: dict[str, Any] | None = None


@dataclass
class HomePart:
    """One domain's share of one community's home."""

    mine: list[Figure] = field(default_factory=list)  # the person's own figures (balance)
    next: list[Entry] = field(default_factory=list)  # what the person has coming up
    tiles: list[Tile] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, label msgid): the rest


# (session, actor, community): the community is app.places.models.Community (its id, time zone).
Hook = Callable[[Any, Actor, Any], Awaitable[HomePart]]
_HOOKS: list[Hook] = []


def part(fn: Hook) -> Hook:
    if fn not in _HOOKS:
        _HOOKS.append(fn)
    return fn


def merge(parts: list[HomePart]) -> HomePart:
    """The parts of one community's home in one, ordered; panels with one key become one."""
    whole = HomePart()
    panels: dict[str, Panel] = {}
    for p in parts:
        whole.mine += p.mine
        whole.next += p.next
        whole.tiles += p.tiles
        whole.links += p.links
        for panel in p.panels:
            if panel.key in panels:
                into = panels[panel.key]
                into.entries += panel.entries
                into.figures += panel.figures
                into.order = min(into.order, panel.order)
            else:
                panels[panel.key] = Panel(
                    panel.key,
                    panel.title,
                    list(panel.entries),
                    list(panel.figures),
                    panel.empty,
                    panel.more,
                    panel.action,
                    panel.order,
                    panel.words,
                )
    whole.mine.sort(key=lambda f: f.order)
    whole.tiles.sort(key=lambda t: t.order)
    whole.panels = sorted(panels.values(), key=lambda p: p.order)
    for panel in whole.panels:
        panel.figures.sort(key=lambda f: f.order)
    return whole


async def gather(session: Any, actor: Actor, community: Any) -> HomePart:
    return merge([await hook(session, actor, community) for hook in _HOOKS])


# (session, actor): panels about the person rather than one community (the organisations they act
# for), shown above the communities; a person who acts for an organisation but lives in no
# community of the app finds their work here.
AccountHook = Callable[[Any, Actor], Awaitable[list[Panel]]]
_ACCOUNT_HOOKS: list[AccountHook] = []


def account_part(fn: AccountHook) -> AccountHook:
    if fn not in _ACCOUNT_HOOKS:
        _ACCOUNT_HOOKS.append(fn)
    return fn


async def gather_account(session: Any, actor: Actor) -> list[Panel]:
    panels = [panel for hook in _ACCOUNT_HOOKS for panel in await hook(session, actor)]
    return sorted(panels, key=lambda p: p.order)


# The pages of a community open to anyone (its results wall, its wish pool): the welcome page lists
# them under each community for a visitor who is not signed in, and each of them links the others.
@dataclass(frozen=True)
class PublicPage:
    path: str  # with {community_id}
    label: str  # msgid
    order: int = 100


_PUBLIC: list[PublicPage] = []


def public_page(path: str, label: str, order: int = 100) -> None:
    page = PublicPage(path, label, order)
    if page not in _PUBLIC:
        _PUBLIC.append(page)


def public_pages(community_id: int) -> list[tuple[str, str]]:
    """(url, label msgid) of each page of the community open to anyone, in their order."""
    return [
        (p.path.format(community_id=community_id), p.label) for p in sorted(_PUBLIC, key=lambda p: p.order)
    ]


def other_public_pages(community_id: int, here: str) -> list[tuple[str, str]]:
    """The community's pages open to anyone but the one at `here`, linked at its foot."""
    return [(url, label) for url, label in public_pages(community_id) if url != here]
