"""zh-Hans by default, English on request. Messages are written in English in the code and
templates; the zh_Hans catalog translates them. Catalogs are compiled in memory at start."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LANG = "zh"
LANGS = {"zh": "zh_Hans", "en": "en"}
LANG_COOKIE = "lang"
ELDER_COOKIE = "elder"


def lazy(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


@lru_cache(maxsize=4)
def translations(lang: str) -> _gettext.NullTranslations:
    if lang == "en":
        return _gettext.NullTranslations()
    # One catalog per domain (messages.po for the shared parts), merged here.
    merged: Translations | None = None
    for po in sorted((LOCALES_DIR / LANGS[lang] / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="zh_Hans_CN")
        buf = BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = Translations(buf)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or _gettext.NullTranslations()


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGS:
        return cookie  # type: ignore[return-value]
    if accept_language:
        ranked: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            piece = part.strip()
            if not piece:
                continue
            tag, _, q = piece.partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((weight, tag.strip().lower()))
        for _w, tag in sorted(ranked, key=lambda item: -item[0]):
            if tag.startswith("zh"):
                return "zh"
            if tag.startswith("en"):
                return "en"
    return DEFAULT_LANG


def request_lang(request: Any) -> str:
    cached = request.scope.get("jinlin_lang")
    if cached:
        return str(cached)
    lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    request.scope["jinlin_lang"] = lang
    return lang


def gettext_for(request: Any) -> Callable[..., str]:
    """gettext with Jinja's new-style keyword formatting: _("Hello, %(name)s", name=...)."""
    catalog = translations(request_lang(request))

    def gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    return gettext


def ngettext_for(request: Any) -> Callable[..., str]:
    catalog = translations(request_lang(request))

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        text = catalog.ngettext(singular, plural, num)
        return text % {"num": num, **variables}

    return ngettext
