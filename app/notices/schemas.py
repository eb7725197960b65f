"""Bodies of the notices' JSON API (API.md, "Reports and notices")."""

from __future__ import annotations

import msgspec


class NoticeLine(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    created_at: str
    read: bool


class NoticesOut(msgspec.Struct):
    items: list[NoticeLine]


class ReadOut(msgspec.Struct):
    unread: int
