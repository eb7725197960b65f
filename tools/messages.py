"""Keep the zh_Hans catalogs in step with the code.

    uv run python tools/messages.py check            # every message has a translation and every
                                                     # translation a message, and Chinese uses
                                                     # full-width punctuation (a test runs it)
    uv run python tools/messages.py update DOMAIN    # add DOMAIN's new messages to DOMAIN.po (empty msgstr)

Messages are English in code and templates (`_()`, `gettext()`, `lazy()`, `_l()`); each domain
keeps its translations in app/locales/zh_Hans/LC_MESSAGES/<domain>.po, the shared parts
(core, accounts, places, base templates) in messages.po. Fill the empty msgstr entries by hand.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LC = ROOT / "app" / "locales" / "zh_Hans" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "lazy": None, "_l": None, "ngettext": (1, 2), "plural_unit": (1, 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}
# Domains whose templates live under another folder name (the scanner page is one page: `scan/`).
TEMPLATE_DIRS = {"scans": "scan"}


def extract(paths: list[Path]) -> dict[str, str]:
    """msgid -> first location."""
    return dict(_extracted(tuple(paths)))


@functools.cache
def _extracted(paths: tuple[Path, ...]) -> dict[str, str]:
    """Reading every source file costs about 0.8 CPU-s: a process that asks more than once (`check`
    asks twice, the tests four times) reads them once."""
    found: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            continue
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(path), METHODS, options_map=OPTIONS, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{path.relative_to(ROOT)}/{filename}:{lineno}")
    return found


def catalogs() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in sorted(LC.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_Hans_CN"):
                # A plural entry (msgid_plural) is known by its singular and its one Chinese form.
                msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
                string = message.string[0] if isinstance(message.string, (list, tuple)) else message.string
                if msgid and string:
                    merged[str(msgid)] = str(string)
    return merged


def untranslated() -> dict[str, str]:
    known = catalogs()
    everything = extract([ROOT / "app", ROOT / "templates"])
    return {msgid: where for msgid, where in everything.items() if msgid not in known}


def obsolete() -> dict[str, list[str]]:
    """Catalog file -> its msgids that no source uses any more (they only pile up: remove them)."""
    used = extract([ROOT / "app", ROOT / "templates"])
    found: dict[str, list[str]] = {}
    for po in sorted(LC.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_Hans_CN"):
                msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
                if msgid and msgid not in used:
                    found.setdefault(po.name, []).append(str(msgid))
    return found


# Half-width punctuation touching a Chinese character: Chinese text takes （），：；！？ (a
# placeholder's own brackets, %(name)s, are no punctuation).
HALF_WIDTH = re.compile(
    r"[\u4e00-\u9fff][,:;!?()]|[,:;!?()][\u4e00-\u9fff]|[\u4e00-\u9fff]\s[(]|[)]\s[\u4e00-\u9fff]"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def half_width() -> dict[str, str]:
    """msgid -> its translation, where the Chinese has half-width punctuation."""
    return {
        msgid: text for msgid, text in catalogs().items() if HALF_WIDTH.search(PLACEHOLDER.sub("x", text))
    }


def update(domain: str) -> int:
    target = LC / ("messages.po" if domain == "messages" else f"{domain}.po")
    if target.exists():
        with target.open("rb") as fh:
            catalog = read_po(fh, locale="zh_Hans_CN")
    else:
        catalog = Catalog(locale="zh_Hans_CN", project="jinlin")
    known = catalogs()
    paths = [ROOT / "app" / domain, ROOT / "templates" / TEMPLATE_DIRS.get(domain, domain)]
    added = 0
    for msgid, where in extract(paths).items():
        if msgid not in known and msgid not in catalog:
            catalog.add(msgid, "", locations=[(where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1]))])
            added += 1
    with target.open("wb") as fh:
        write_po(fh, catalog, width=100)
    print(f"{added} new message(s) in {target.relative_to(ROOT)}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "update":
        return update(argv[1])
    missing = untranslated()
    for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]):
        print(f"{where}: {msgid!r}")
    print(f"{len(missing)} untranslated message(s)")
    unused = obsolete()
    for po, msgids in unused.items():
        for msgid in msgids:
            print(f"{po}: {msgid!r} is used by no source any more")
    print(f"{sum(len(m) for m in unused.values())} obsolete message(s)")
    narrow = half_width()
    for msgid, text in narrow.items():
        print(f"{msgid!r}: half-width punctuation in the Chinese: {text!r}")
    print(f"{len(narrow)} translation(s) with half-width punctuation")
    return 1 if missing or unused or narrow else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
