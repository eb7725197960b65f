"""What the public results wall (成果晾晒, app.reports) shows beside its stories and totals,
gathered from the domains without naming them (as the home page's parts are, app.core.homes).

A domain registers a hook at import time:

    @wall.section
    async def honours(session, community_id) -> wall.Section | None: ...

and the wall calls every hook for the community shown. The wall is public and needs no login: a
section lists only what anyone may read (a household by its building and unit, a partner unit's
name, a count of volunteers with stars), never a resident's name or phone; the wall's test scans
the demo's page for every user's phone and name. Titles and notes are msgids, translated when the
page is drawn; entries are data shown as they are, except a detail given with its count, which is a
msgid too ("%(count)s volunteers"), so that a number is shown with its unit in the reader's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    text: str
    detail: str = ""
    count: int | None = None  # set when detail is a msgid with %(count)s
    # A msgid saying in words what a symbol of `text` means (★★: "Two-star volunteer"), shown beside
    # it: the stars alone said nothing to a screen reader, nor to a reader new to them.
    words: str = ""


@dataclass
class Section:
    key: str
    title: str  # msgid
    entries: list[Entry] = field(default_factory=list)
    note: str = ""  # msgid
    order: int = 100
    total: int | None = None  # how many there are, when `entries` are only the first of them


# (session, community_id) -> a section, or None when there is nothing to show.
Hook = Callable[[Any, int], Awaitable[Section | None]]
_HOOKS: list[Hook] = []


def section(fn: Hook) -> Hook:
    if fn not in _HOOKS:
        _HOOKS.append(fn)
    return fn


def forget(fn: Hook) -> None:
    """Tests only: takes a hook back."""
    if fn in _HOOKS:
        _HOOKS.remove(fn)


async def gather(session: Any, community_id: int) -> list[Section]:
    found = [await hook(session, community_id) for hook in _HOOKS]
    return sorted((s for s in found if s is not None and s.entries), key=lambda s: (s.order, s.key))
