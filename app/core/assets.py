"""The static files' addresses: each carries its content's version (`/static/app.css?v=1a2b3c4d`),
so that a browser keeps the file for a year without asking again, and a new file is a new address.

A resident's phone on a slow network would otherwise revalidate every stylesheet and script on
every page. The versions are computed once, when the process starts (a deployment restarts it);
templates name a file through the `static` global (`{{ static('app.css') }}`), never by hand."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/static/"
# A versioned address never changes its bytes: kept for a year, never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
# An address without the version (or with an old one) may change at the next deployment.
SHORT = "public, max-age=300"


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


class StaticAssets:
    """The files under one directory and their versions (8 hex digits of the content's SHA-256)."""

    def __init__(self, directory: Path) -> None:
        self.versions = {
            path.relative_to(directory).as_posix(): version_of(path.read_bytes())
            for path in sorted(directory.rglob("*"))
            if path.is_file()
        }

    def url(self, name: str) -> str:
        """The file's versioned address; an unknown name fails the page (a typo shows in tests)."""
        return f"{PREFIX}{name}?v={self.versions[name]}"

    def cache_control(self, path: str, query: bytes) -> str:
        """What a static answer tells the browser: a year for the current version's address."""
        name = path.removeprefix(PREFIX)
        asked = parse_qs(query.decode("latin-1")).get("v", [None])[0]
        return IMMUTABLE if asked is not None and asked == self.versions.get(name) else SHORT

    def caching(self, app: ASGIApp) -> ASGIApp:
        """Middleware for the static files' router: its successful answers carry cache_control."""

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            value = self.cache_control(scope["path"], scope.get("query_string", b""))

            async def send_with_cache_control(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    MutableScopeHeaders.from_message(message)["cache-control"] = value
                await send(message)

            await app(scope, receive, send_with_cache_control)

        return middleware
