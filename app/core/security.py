"""Passwords, random secrets and security headers."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar.types import Message, Scope

# The hashing cost, chosen once per process by JINLIN_ARGON2: unset (or "strong") is the library's
# default, argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes), for every real
# deployment; "fast" (argon2id with 64 KiB and 1 pass) is for the tests only, where hundreds of
# logins would otherwise spend minutes of CPU. A stored hash records its own parameters, so a
# strong process still verifies a fast hash (and rehashes it at the next login).
ARGON2_PROFILES: dict[str, dict[str, Any]] = {
    "strong": {},
    "fast": {"time_cost": 1, "memory_cost": 64, "parallelism": 1},
}


def password_hasher(profile: str | None = None) -> PasswordHasher:
    if (profile or "strong") not in ARGON2_PROFILES:
        raise ValueError(f"JINLIN_ARGON2 must be one of {', '.join(ARGON2_PROFILES)}, not {profile!r}")
    return PasswordHasher(**ARGON2_PROFILES[profile or "strong"])


_hasher = password_hasher(os.environ.get("JINLIN_ARGON2") or None)

# Crockford-style alphabet without look-alikes (no 0/O, 1/I/L, U); 31 symbols.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, str | None]:
    """Returns (ok, new_hash) where new_hash is set when the parameters changed."""
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(stored):
        return True, _hasher.hash(password)
    return True, None


# A real hash to verify against when the phone is unknown, so timing does not tell.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def random_code(length: int) -> str:
    """`length` characters of CODE_ALPHABET, each uniform and independent of the others: the
    base-30 digits of one number drawn uniformly below 30 ** length. About one draw from the OS
    instead of one per character: a pickup code's 26 cost 3 µs instead of 20, on every order."""
    number = secrets.randbelow(len(CODE_ALPHABET) ** length)
    characters = []
    for _ in range(length):
        number, digit = divmod(number, len(CODE_ALPHABET))
        characters.append(CODE_ALPHABET[digit])
    return "".join(characters)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(key: str | bytes, message: str) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, message.encode(), hashlib.sha256).digest()


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    "cross-origin-opener-policy": "same-origin",
}


# As raw ASGI header pairs, made once: every response carries them.
_RAW = [(name.encode(), value.encode()) for name, value in HEADERS.items()]
_HSTS = (b"strict-transport-security", b"max-age=31536000")
_NAMES = frozenset(name for name, _ in [*_RAW, _HSTS])


# A page is not stored by the browser unless it says otherwise: Chrome's back and forward show
# any stored page however stale (a cancelled order still waiting with its pickup code), and after
# a logout, the previous person's pages on a shared phone. Files set their own (app.core.assets).
_NO_STORE = (b"cache-control", b"no-store")


def secured(headers: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
    """The response's headers with ours in place of any of the same name, and `no-store` on a page
    that says nothing of its caching (one pass, no parsing: this runs for every response, the
    scanners' included)."""
    kept = []
    page = told = False
    for pair in headers:
        name = pair[0].lower()
        if name in _NAMES:
            continue
        if name == b"content-type":
            page = pair[1].startswith(b"text/html")
        elif name == b"cache-control":
            told = True
        kept.append(pair)
    kept.extend(_RAW)
    if https:
        kept.append(_HSTS)
    if page and not told:
        kept.append(_NO_STORE)
    return kept


async def security_headers(message: Message, scope: Scope) -> None:
    """The app's before-send hook: every response's start carries the headers above. Litestar
    calls it on the one send it wraps for each request, outside the exception handlers, so the
    router's own answers (an unknown path, a method not allowed) carry them too, and no
    middleware layer of its own wraps each request's send."""
    if message["type"] == "http.response.start":
        message["headers"] = secured(list(message.get("headers") or ()), scope.get("scheme") == "https")
