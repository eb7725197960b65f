"""Pure decisions of the service circle: no database, testable in microseconds."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.core import clock
from app.core.i18n import lazy
from app.core.security import CODE_ALPHABET, random_code

VOUCHER_PREFIX = "JV1"
SECRET_LENGTH = 26  # 26 * log2(30) ≈ 127.6 bits, from the alphabet without look-alikes
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
WALK_M_PER_MINUTE = 80
CIRCLE_MINUTES = 15
MAX_POINTS = 1_000_000
MAX_CASH_CENTS = 10_000_000
MAX_QUOTA = 100_000
VOUCHER_DAYS_DEFAULT = 30
FEN_PER_POINT_DEFAULT = 10
FUNDS = ("public_finance", "party_dues", "social_support", "own_income")


# ---------------------------------------------------------------- distance


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def walk_minutes(distance_m: float) -> int:
    """Walking minutes at 80 m a minute, rounded up (a 1 m walk is a minute)."""
    return max(1, math.ceil(distance_m / WALK_M_PER_MINUTE)) if distance_m > 0 else 0


def within_circle(minutes: int | None) -> bool:
    return minutes is not None and minutes <= CIRCLE_MINUTES


@dataclass(frozen=True)
class Placed:
    """An offer with where its provider is, before it is sorted."""

    offer_id: int
    lat: float | None
    lng: float | None


def distances(
    origin: tuple[float, float] | None, offers: Sequence[Placed]
) -> dict[int, tuple[int | None, int | None]]:
    """offer id -> (distance in whole metres, walking minutes); (None, None) without a location."""
    out: dict[int, tuple[int | None, int | None]] = {}
    for offer in offers:
        if origin is None or offer.lat is None or offer.lng is None:
            out[offer.offer_id] = (None, None)
        else:
            metres = haversine_m(origin[0], origin[1], offer.lat, offer.lng)
            out[offer.offer_id] = (round(metres), walk_minutes(metres))
    return out


def nearest_first(ids: Sequence[int], measured: dict[int, tuple[int | None, int | None]]) -> list[int]:
    """Nearest first; offers without a distance last, in the order given."""
    order = {offer_id: i for i, offer_id in enumerate(ids)}
    return sorted(
        ids,
        key=lambda i: (measured[i][0] is None, measured[i][0] or 0, order[i]),
    )


# A coordinate as typed (after app.core.codes.typed_form): decimal degrees in ASCII digits.
DEGREES = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Both coordinates in one field, as a map shows them (26.08,119.30): each with its decimal point,
# so that one coordinate typed with a decimal comma (26,08) is not read as the pair (26, 8).
_PAIR = re.compile(r"([-+]?[0-9]*\.[0-9]+)\s*,\s*([-+]?[0-9]*\.[0-9]+)")


def coordinate_pair(typed: str) -> tuple[str, str] | None:
    """Both coordinates typed into one field (after app.core.codes.typed_form), or None."""
    found = _PAIR.fullmatch(typed)
    return (found[1], found[2]) if found else None


def check_location(lat: float | None, lng: float | None) -> str | None:
    """Why a location is refused (a reason code), or None: both or neither, within range."""
    if (lat is None) != (lng is None):
        return "both"
    if lat is None or lng is None:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng)) or not -90 <= lat <= 90 or not -180 <= lng <= 180:
        return "range"
    return None


# ---------------------------------------------------------------- codes


def new_secret() -> str:
    return random_code(SECRET_LENGTH)


def new_digits() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def voucher_code(secret: str) -> str:
    return f"{VOUCHER_PREFIX}-{secret}"


def parse_voucher_code(code: str) -> str | None:
    """The secret inside a voucher code, or None when the text is not one."""
    prefix, _, secret = code.strip().upper().partition("-")
    if prefix != VOUCHER_PREFIX or len(secret) != SECRET_LENGTH:
        return None
    if any(ch not in CODE_ALPHABET for ch in secret):
        return None
    return secret


def grouped_digits(digits: str) -> str:
    """8 digits as people read them aloud: "1234 5678"."""
    return f"{digits[:4]} {digits[4:]}"


# ---------------------------------------------------------------- months


def may_close(month: date, now: datetime, zone: str) -> bool:
    """Only a month that has ended can be closed: nothing can be redeemed in it any more."""
    return month < clock.month_of(now, zone)


def cash_due(points: int, fen_per_point: int) -> int:
    """The cash (in fen) due for points at the community's rate."""
    return points * fen_per_point


# ---------------------------------------------------------------- purchases and redemptions


def purchase_refusal(
    *,
    status: str,
    cash_cents: int,
    payments_on: bool,
    quota: int | None,
    sold_this_month: int,
    limit: int | None,
    mine_this_month: int,
    provider_may_act: bool = True,
) -> str | None:
    """Why a voucher cannot be bought now (a code of API.md, or "lapsed": the provider may no
    longer act in the offer's community, its agreement there over), or None when it can."""
    if status != "active":
        return "not_found"
    if not provider_may_act:
        return "lapsed"
    if cash_cents > 0 and not payments_on:
        return "payments_off"
    if left_this_month(quota, sold_this_month, limit, mine_this_month) == 0:
        return "limit_reached"
    return None


def left_this_month(
    quota: int | None, sold_this_month: int, limit: int | None, mine_this_month: int
) -> int | None:
    """How many more of an offer a resident may buy this month, under its quota for everyone and
    its limit for each resident; None when neither bounds it (0: a purchase is refused)."""
    left = [
        bound - count
        for bound, count in ((quota, sold_this_month), (limit, mine_this_month))
        if bound is not None
    ]
    return max(0, min(left)) if left else None


def redeem_refusal(status: str, expires_at: datetime, now: datetime) -> str | None:
    """Why a voucher cannot be redeemed now; None when it can."""
    if status == "redeemed":
        return "already_done"
    if status in ("cancelled", "awaiting_payment"):
        return "code_invalid"
    if status == "expired" or expires_at <= now:
        return "code_expired"
    return None


def cancel_refusal(status: str) -> str | None:
    if status in ("redeemed", "expired"):
        return "already_done"
    return None


def voucher_expiry(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


def check_stars(stars: object) -> int | None:
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        return None
    return stars


# ---------------------------------------------------------------- service categories


@dataclass(frozen=True)
class ServiceCategory:
    """How a provider's stored category is shown: `code` is the known category it is (None for
    text that matches none), `icon` the neutral picture beside an offer without a photo, and
    `label` an English msgid for a known category or the stored text as it is."""

    code: str | None
    icon: str
    label: str

    def words(self, gettext: Callable[[str], str]) -> str:
        """The words in the reader's language; text that is no known category stays as it is."""
        return gettext(self.label) if self.code else self.label


# code -> (English msgid, icon, keywords that older rows and API clients' free text carry),
# in the order the keywords are tried: the first category with a keyword in the text wins.
SERVICE_CATEGORIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "barber": (lazy("Barber"), "scissors", ("理发", "美发", "barber", "hair")),
    "housekeeping": (lazy("Housekeeping"), "broom", ("家政", "保洁", "clean", "housekeep")),
    "repair": (lazy("Repairs"), "wrench", ("维修", "物业", "水电", "repair", "property", "plumb")),
    "health": (lazy("Health"), "cross", ("医", "卫生", "健康", "medical", "health", "doctor")),
    "eldercare": (lazy("Elderly care"), "heart", ("养老", "老人", "elder", "care")),
    "other": (lazy("Other services"), "shop", ()),
}
UNKNOWN_ICON = "shop"


def service_category(stored: str | None) -> ServiceCategory:
    """A stored category, a known code or any text, as the pages show it."""
    text = (stored or "").strip()
    key = text.lower()
    if key in SERVICE_CATEGORIES:
        label, icon, _ = SERVICE_CATEGORIES[key]
        return ServiceCategory(key, icon, label)
    for code, (label, icon, keywords) in SERVICE_CATEGORIES.items():
        if any(word in key for word in keywords):
            return ServiceCategory(code, icon, label)
    return ServiceCategory(None, UNKNOWN_ICON, text)


def category_choices(current: str | None) -> list[str]:
    """What a provider's category may be set to on the admin's form: the known codes, and the
    stored text when it is none of them, empty included (so saving the form keeps it)."""
    codes = list(SERVICE_CATEGORIES)
    text = (current or "").strip()
    return codes if text in SERVICE_CATEGORIES else [*codes, text]
