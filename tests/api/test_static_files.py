"""Static files: pages name them by a versioned address that a browser keeps for a year (no
revalidation on every page); the version is the file's content, so new bytes are a new address."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.core.assets import IMMUTABLE, SHORT, StaticAssets
from tests.conftest import ROOT

STATIC = ROOT / "app" / "static"
VERSIONED = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{8})"')


def sha8(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


async def test_a_pages_stylesheet_and_scripts_carry_their_contents_version(client):
    page = await client.get("/login")
    assert page.status_code == 200
    found = dict(VERSIONED.findall(page.text))
    assert {"/static/app.css", "/static/app.js", "/static/vendor/htmx.min.js"} <= set(found)
    for url, version in found.items():
        assert version == sha8(STATIC / url.removeprefix("/static/")), url
    # Every static address on the page is a versioned one.
    assert len(re.findall(r'"/static/', page.text)) == len(found)


async def test_a_versioned_static_answer_is_kept_for_a_year_and_an_unversioned_one_briefly(client):
    page = await client.get("/login")
    url = next(u for u in re.findall(r'href="(/static/app\.css\?v=[0-9a-f]{8})"', page.text))
    versioned = await client.get(url)
    assert versioned.status_code == 200 and versioned.content == (STATIC / "app.css").read_bytes()
    assert versioned.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    # Without the version, or with one that is not the file's (a page from before a deployment),
    # the bytes may change: the browser keeps them a few minutes only.
    for other in ("/static/app.css", "/static/app.css?v=00000000", "/static/vendor/htmx.min.js"):
        answer = await client.get(other)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == SHORT, other
    js = await client.get(f"/static/vendor/htmx.min.js?v={sha8(STATIC / 'vendor' / 'htmx.min.js')}")
    assert js.headers["cache-control"] == IMMUTABLE
    missing = await client.get("/static/no-such-file.css?v=00000000")
    assert missing.status_code == 404 and "immutable" not in missing.headers.get("cache-control", "")


def test_the_version_changes_when_the_files_bytes_change(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "site.css").write_text("body { color: #111; }")
    (tmp_path / "vendor" / "lib.js").write_text("var a = 1;")
    before = StaticAssets(tmp_path)
    assert before.url("site.css") == f"/static/site.css?v={sha8(tmp_path / 'site.css')}"
    assert before.url("vendor/lib.js").startswith("/static/vendor/lib.js?v=")
    (tmp_path / "site.css").write_text("body { color: #222; }")
    after = StaticAssets(tmp_path)
    assert after.url("site.css") != before.url("site.css")
    assert after.url("vendor/lib.js") == before.url("vendor/lib.js")
    # The version is taken once, when the process starts: the running one keeps its own.
    assert before.cache_control("/static/site.css", f"v={before.versions['site.css']}".encode()) == IMMUTABLE
    assert after.cache_control("/static/site.css", f"v={before.versions['site.css']}".encode()) == SHORT
    with pytest.raises(KeyError):
        before.url("no-such.css")


def test_no_template_names_a_static_file_by_hand() -> None:
    """Through `static('...')` only, so that no address goes without its version."""
    by_hand = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for line in path.read_text().splitlines()
        if re.search(r"""["']/static/""", line)
    ]
    assert by_hand == []
