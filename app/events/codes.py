"""Event kiosk codes (DESIGN.md §5) and certificate verification tokens.

kiosk code:   JE1-<event id>-<I|O>-<window>-<mac>   rotating every 15 s, accepted for at most 30 s
certificate:  <user id>-<community id>-<mac>         static; links to the public verification page

Both are HMACs under keys derived from the app secret, one key per purpose, so a code of one
kind can never be passed off as another. The community is inside the MAC (not the text), so an
event code cannot be replayed as another community's.
"""

from __future__ import annotations

import base64
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.core import rotating
from app.core.fields import parse_id, parse_int, same_secret
from app.core.rotating import window_of
from app.core.security import sign
from app.core.settings import get_settings

PREFIX = "JE1"
MAC_LENGTH = 16
ACTIONS = {"checkin": "I", "checkout": "O"}
ACTION_OF = {v: k for k, v in ACTIONS.items()}


@lru_cache(maxsize=8)
def purpose_key(secret_key: str, purpose: str) -> bytes:
    return sign(secret_key, f"jinlin/key/{purpose}/v1")


def _mac(secret_key: str, community_id: int, event_id: int, action: str, window: int) -> str:
    digest = sign(
        purpose_key(secret_key, "event-kiosk"), f"{PREFIX}|{community_id}|{event_id}|{action}|{window}"
    )
    return base64.b32encode(digest).decode()[:MAC_LENGTH]


def kiosk_code(
    secret_key: str, community_id: int, event_id: int, action: str, at: datetime
) -> tuple[str, int]:
    letter = ACTIONS[action]
    window = window_of(at)
    return (
        f"{PREFIX}-{event_id}-{letter}-{window}-{_mac(secret_key, community_id, event_id, letter, window)}",
        window,
    )


@dataclass(frozen=True)
class KioskCode:
    event_id: int
    action: str  # "checkin" | "checkout"
    window: int
    mac: str


def parse(code: str) -> KioskCode | None:
    parts = code.strip().upper().split("-")
    if len(parts) != 5 or parts[0] != PREFIX:
        return None
    _prefix, event, letter, window, mac = parts
    event_id, window_no = parse_id(event), parse_int(window, 0, 10**12)
    if event_id is None or window_no is None or letter not in ACTION_OF or len(mac) != MAC_LENGTH:
        return None
    return KioskCode(event_id, ACTION_OF[letter], window_no, mac)


def check(parsed: KioskCode, secret_key: str, community_id: int, at: datetime) -> str | None:
    """None when valid, else a reason code. Valid in the current and the previous window."""
    expected = _mac(secret_key, community_id, parsed.event_id, ACTIONS[parsed.action], parsed.window)
    if not same_secret(expected, parsed.mac):
        return "code_invalid"
    return rotating.refusal(parsed.window, at)


# ---------------------------------------------------------------- certificates


def certificate_token(secret_key: str, user_id: int, community_id: int) -> str:
    digest = sign(purpose_key(secret_key, "certificate"), f"{user_id}|{community_id}")
    return f"{user_id}-{community_id}-{base64.b32encode(digest).decode()[:20]}"


def read_certificate_token(secret_key: str, token: str) -> tuple[int, int] | None:
    parts = token.strip().upper().split("-")
    if len(parts) != 3:
        return None
    user_id, community_id = parse_id(parts[0]), parse_id(parts[1])
    if user_id is None or community_id is None:
        return None
    if not same_secret(certificate_token(secret_key, user_id, community_id).upper(), token.strip().upper()):
        return None
    return user_id, community_id


# The app secret for the scan handlers, set per request by the scan controllers (a handler's
# signature carries no settings); falls back to the process settings.
current_secret: ContextVar[str | None] = ContextVar("jinlin_events_secret", default=None)


def secret() -> str:
    value = current_secret.get()
    if value:
        return value
    return get_settings().secret_key
