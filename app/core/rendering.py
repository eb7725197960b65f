"""A page: its template with what every page needs (the user, the language, elder mode,
gettext). Below app.core.web and app.core.errors, so that the error pages render like any other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.response import Template

from app.core.i18n import ELDER_COOKIE, gettext_for, ngettext_for, request_lang, units_for
from app.core.roles import ROLE_LABELS

# What a layer above adds to every page a signed-in person sees (the unread notices beside the
# inbox link): `async def hook(request, actor) -> dict`, registered by the assembly
# (app.asgi) and run before the handler (app.core.web.gather_page_facts), so that the base
# template needs no JavaScript and core names no layer above it.
PageFacts = Callable[[Request, Any], Awaitable[dict[str, Any]]]
PAGE_FACTS: list[PageFacts] = []
FACTS_KEY = "jinlin_page_facts"


def page_facts(hook: PageFacts) -> PageFacts:
    if hook not in PAGE_FACTS:
        PAGE_FACTS.append(hook)
    return hook


def currency_of(request: Request) -> str:
    """The currency money is taken in (`STRIPE_CURRENCY`), by which app.core.money names amounts."""
    return str(getattr(getattr(request.app.state, "settings", None), "stripe_currency", "cny"))


def page_context(request: Request) -> dict[str, Any]:
    actor = request.scope.get("jinlin_actor")  # app.core.authz.Actor, set by app.core.web
    lang = request_lang(request)
    _ = gettext_for(request)
    facts: dict[str, Any] = request.scope.get(FACTS_KEY) or {}  # type: ignore[assignment]
    return {
        "role_label": lambda role: _(ROLE_LABELS.get(str(role), str(role))),
        "lang": lang,
        "html_lang": "zh-Hans" if lang == "zh" else "en",
        "elder": request.cookies.get(ELDER_COOKIE) == "1",
        "actor": actor,
        "gettext": gettext_for(request),
        "ngettext": ngettext_for(request),
        # A count with its unit, singular or plural as its number needs (app.core.i18n.UNITS).
        "units": units_for(request),
        # The currency money is taken in (app.core.money names it on every page).
        "currency": currency_of(request),
        "current_path": request.url.path,
        "current_url": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **facts,
    }


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={**page_context(request), **context}, status_code=status_code)
