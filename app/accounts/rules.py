"""Pure decisions about accounts (no database)."""

from __future__ import annotations

from collections.abc import Iterable

# Roles whose holders act for others: their account must never be usable from a printed card.
NO_PRINTED_CARD_ROLES = frozenset({"staff", "admin"})


def may_hold_printed_card(*, has_phone: bool, has_password: bool, roles: Iterable[str]) -> bool:
    """A printed card is for a resident who cannot log in with a phone (no phone number or no
    password), and never for staff or admins: a card is a credential anyone holding it can use."""
    if NO_PRINTED_CARD_ROLES & set(roles):
        return False
    return not (has_phone and has_password)
