"""Wish delivery codes (DESIGN.md §5): the claimant's phone shows it, the beneficiary's side scans.

    JW1-<wish id>-<window>-<mac>     rotating every 15 s, accepted for at least 15 and at most 30 s

The MAC is an HMAC under a key of its own purpose, derived from the app secret, over the
community, the wish and the moment of the claim: a code of another kind can never pass for a
delivery code, and a code shown before a release is dead once someone claims the wish again."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.core import rotating
from app.core.fields import parse_id, parse_int, same_secret
from app.core.rotating import window_end, window_of
from app.core.security import sign

PREFIX = "JW1"
MAC_LENGTH = 16


@lru_cache(maxsize=8)
def _key(secret_key: str) -> bytes:
    return sign(secret_key, "jinlin/key/wish-delivery/v1")


def _mac(secret_key: str, community_id: int, wish_id: int, claimed_at: datetime, window: int) -> str:
    stamp = int(claimed_at.timestamp() * 1_000_000)
    digest = sign(_key(secret_key), f"{PREFIX}|{community_id}|{wish_id}|{stamp}|{window}")
    return base64.b32encode(digest).decode()[:MAC_LENGTH]


def delivery_code(
    secret_key: str, community_id: int, wish_id: int, claimed_at: datetime, at: datetime
) -> tuple[str, datetime]:
    """The code for now and when it stops being accepted (the end of the next window)."""
    window = window_of(at)
    code = f"{PREFIX}-{wish_id}-{window}-{_mac(secret_key, community_id, wish_id, claimed_at, window)}"
    return code, window_end(window + 1)


@dataclass(frozen=True)
class DeliveryCode:
    wish_id: int
    window: int
    mac: str


def parse(code: str) -> DeliveryCode | None:
    parts = code.strip().upper().split("-")
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    wish_id, window = parse_id(parts[1]), parse_int(parts[2], 0, 10**12)
    if wish_id is None or window is None or len(parts[3]) != MAC_LENGTH:
        return None
    return DeliveryCode(wish_id, window, parts[3])


def check(
    parsed: DeliveryCode, secret_key: str, community_id: int, claimed_at: datetime, at: datetime
) -> str | None:
    """None when the code is good now, else its reason code: valid in its window and the next."""
    expected = _mac(secret_key, community_id, parsed.wish_id, claimed_at, parsed.window)
    if not same_secret(expected, parsed.mac):
        return "code_invalid"
    return rotating.refusal(parsed.window, at)
