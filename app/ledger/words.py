"""What a transfer was for, in the reader's language. A transfer stores its kind and the kind's
parameters (`reason`, migration 0012), never a sentence; the domain that makes transfers of a
kind registers how to put them into words, so the ledger names no domain:

    @words.renders("store_order")
    def _order_words(reason, _):
        return _("%(item)s × %(quantity)d", item=reason["item"], quantity=reason["quantity"])

The pages show `{{ line|transfer_words }}` (the filter below, installed by app.asgi) and
`GET /api/v1/me/transfers` its `memo`, both through `words_for`. A transfer without a reason
(what an admin typed for an award or a reversal, or a row made before reasons were stored)
shows its memo as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from app.core.i18n import lazy

Gettext = Callable[..., str]
Renderer = Callable[[dict[str, Any], Gettext], str]

_RENDERERS: dict[str, Renderer] = {}


def renders(*kinds: str) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        for kind in kinds:
            _RENDERERS[kind] = renderer
        return renderer

    return register


def words_for(kind: str, reason: dict[str, Any] | None, memo: str, gettext: Gettext) -> str:
    renderer = _RENDERERS.get(kind)
    if reason is None or renderer is None:
        return memo
    try:
        return renderer(reason, gettext)
    except (KeyError, TypeError, ValueError):  # a reason of an older shape: what was typed
        return memo


@pass_context
def transfer_words(context: Context, line: Any) -> str:
    """`{{ line|transfer_words }}`: a transfer line (anything with kind, memo and reason) in the
    page's language."""
    return words_for(line.kind, getattr(line, "reason", None), line.memo, context["gettext"])


@pass_context
def duration_words(context: Context, minutes: int) -> str:
    """`{{ stay.minutes|duration }}`: a length of time as the statement says it (2 h 15 min), in the
    page's language; a bare count of minutes (135) had the reader do the sum."""
    return duration(minutes, context["gettext"])


def duration(minutes: int, gettext: Gettext) -> str:
    hours, mins = divmod(max(0, int(minutes)), 60)
    if hours and mins:
        return gettext(lazy("%(hours)d h %(minutes)d min"), hours=hours, minutes=mins)
    if hours:
        return gettext(lazy("%(hours)d h"), hours=hours)
    return gettext(lazy("%(minutes)d min"), minutes=mins)


@renders("expiry")
def _expiry_words(reason: dict[str, Any], gettext: Gettext) -> str:
    return gettext(lazy("Points earned before %(date)s expired"), date=reason["before"])
