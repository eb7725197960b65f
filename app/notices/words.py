"""What a notice says, in the reader's language. A notice stores its kind and parameters, never a
sentence; the package that emits a kind registers, at import, its label (for the settings page)
and how to put one into words, so this seam names no domain:

    @words.kind("event_reminder", lazy("Event reminders"))
    def _reminder(params, _):
        return _("Tomorrow: %(title)s", title=params["title"]), _("Starts at %(time)s", ...)

The inbox, the unread list and `GET /api/v1/me/notifications` all go through `render`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.i18n import lazy

Gettext = Callable[..., str]
# (params, gettext) -> (title, body)
Renderer = Callable[[dict[str, Any], Gettext], tuple[str, str]]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # msgid: what the settings page calls this kind
    render: Renderer
    order: int = 100


_KINDS: dict[str, Kind] = {}


def kind(name: str, label: str, *, order: int = 100) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        _KINDS[name] = Kind(name, label, renderer, order)
        return renderer

    return register


def kinds() -> list[Kind]:
    """Every kind registered so far, in the settings page's order."""
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.name))


def known(name: str) -> bool:
    return name in _KINDS


def render(name: str, params: dict[str, Any] | None, gettext: Gettext) -> tuple[str, str]:
    """A notice's title and body in the reader's language. A kind no package registers, or
    parameters of an older shape, still give a line rather than an error page."""
    entry = _KINDS.get(name)
    if entry is not None:
        try:
            return entry.render(params or {}, gettext)
        except (KeyError, TypeError, ValueError):
            pass
    return gettext(lazy("Notice")), ""


@kind("test", lazy("Test messages from the administrator"), order=900)
def _test(params: dict[str, Any], gettext: Gettext) -> tuple[str, str]:
    return gettext(lazy("Test notice")), gettext(lazy("The community's notices reach this address."))
