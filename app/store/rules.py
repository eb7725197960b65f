"""Pure decisions of the store: no database, testable in microseconds."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.core.security import CODE_ALPHABET, random_code

PICKUP_PREFIX = "JP1"
SECRET_LENGTH = 26  # 26 * log2(30) ≈ 127.6 bits, from the alphabet without look-alikes
MAX_QUANTITY = 20
MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000
LOW_STOCK_DEFAULT = 3
PICKUP_DAYS_DEFAULT = 7


def new_pickup_secret() -> str:
    return random_code(SECRET_LENGTH)


def new_pickup_digits() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def pickup_code(secret: str) -> str:
    return f"{PICKUP_PREFIX}-{secret}"


def parse_pickup_code(code: str) -> str | None:
    """The secret inside a pickup code, or None when the text is not one."""
    code = code.strip().upper()
    prefix, _, secret = code.partition("-")
    if prefix != PICKUP_PREFIX or len(secret) != SECRET_LENGTH:
        return None
    if any(ch not in CODE_ALPHABET for ch in secret):
        return None
    return secret


def pickup_refusal(status: str, expires_at: datetime, now: datetime) -> str | None:
    """Why a pickup code cannot be handed over now; None when it can."""
    if status == "picked_up":
        return "already_done"
    if status == "cancelled":
        return "code_invalid"
    if status == "expired" or expires_at <= now:
        return "code_expired"
    return None


def cancel_refusal(status: str) -> str | None:
    if status in ("picked_up", "expired"):
        return "already_done"
    return None


@dataclass(frozen=True)
class Shelf:
    """One item as a resident sees it."""

    id: int
    name: str
    points_price: int
    stock: int
    display_order: int
    affordable: bool

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


def browse_order(items: Sequence[Shelf]) -> list[Shelf]:
    """In stock first; then the admin's display order; then cheaper first."""
    return sorted(items, key=lambda s: (not s.in_stock, s.display_order, s.points_price, s.id))


def stock_after(stock: int, delta: int) -> int | None:
    """The stock after a move, or None if it would go below zero or absurdly high."""
    after = stock + delta
    if after < 0 or after > MAX_STOCK:
        return None
    return after
