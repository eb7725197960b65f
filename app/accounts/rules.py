"""Pure decisions about accounts (no database)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.codes import typed_form

# Roles whose holders act for others: their account must never be usable from a printed card.
NO_PRINTED_CARD_ROLES = frozenset({"staff", "admin"})


def may_hold_printed_card(*, has_phone: bool, has_password: bool, roles: Iterable[str]) -> bool:
    """A printed card is for a resident who cannot log in with a phone (no phone number or no
    password), and never for staff or admins: a card is a credential anyone holding it can use."""
    if NO_PRINTED_CARD_ROLES & set(roles):
        return False
    return not (has_phone and has_password)


# Mainland mobile numbers only: 11 digits, 13x to 19x.
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$", re.ASCII)
# Spaces and dashes people type between digit groups, and brackets around a prefix.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()]")
_COUNTRY_PREFIXES = ("+86", "0086", "86")


def phone_or_none(phone: str | None) -> str | None:
    """The one form a phone number is stored and looked up in, or None if it is not a mainland
    mobile number. NFKC first, so full-width digits from a Chinese IME become ASCII; other
    scripts' digits (Arabic-Indic, Devanagari) are not mapped by NFKC and are refused, so a
    look-alike of a known number is either that number or no number at all."""
    text = typed_form(phone)
    text = _PHONE_SEPARATORS.sub("", text)
    for prefix in _COUNTRY_PREFIXES:
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    return text if text.isascii() and MOBILE_RE.match(text) else None


def phone_separators_removed(phone: str) -> str:
    """A phone number as typed, without the spaces, dashes and brackets between its digits."""
    return _PHONE_SEPARATORS.sub("", phone)
