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


def plural_unit(singular: str, plural: str) -> tuple[str, str]:
    """Marks a count's two English forms for extraction (ngettext); translated where shown."""
    return singular, plural


# Every count shown with its unit, in its English forms: "1 point", "2 points". The zh_Hans
# catalog has one form for any number (Plural-Forms: nplurals=1).
UNITS: dict[str, tuple[str, str]] = {
    "points": plural_unit("%(num)s point", "%(num)s points"),
    "hours": plural_unit("%(num)s hour", "%(num)s hours"),
    "minutes": plural_unit("%(num)s minute", "%(num)s minutes"),
    "days": plural_unit("%(num)s day", "%(num)s days"),
    "people": plural_unit("%(num)s person", "%(num)s people"),
    "households": plural_unit("%(num)s household", "%(num)s households"),
    "vouchers": plural_unit("%(num)s voucher", "%(num)s vouchers"),
    "orders": plural_unit("%(num)s order", "%(num)s orders"),
    "items": plural_unit("%(num)s item", "%(num)s items"),
    "times": plural_unit("%(num)s time", "%(num)s times"),
}


def unit_text(lang: str, num: int, unit: str) -> str:
    """A count with its unit in `lang`, in the form its number takes: unit_text("en", 1, "points")
    is "1 point"."""
    singular, plural = UNITS[unit]
    return translations(lang).ngettext(singular, plural, num) % {"num": num}


def units_for(request: Any) -> Callable[[int, str], str]:
    """`{{ units(offer.points_price, "points") }}` on every page, in the request's language."""
    lang = request_lang(request)

    def units(num: int, unit: str) -> str:
        return unit_text(lang, num, unit)

    return units
