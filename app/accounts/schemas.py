from __future__ import annotations

from typing import Literal

import msgspec

from app.accounts.models import COMMUNITY_ROLES
from app.core.fields import Filled, Id, Name, Text

# The roles a community gives, as the enum the API accepts.
Role = Literal[COMMUNITY_ROLES]  # type: ignore[valid-type]


class TokenRequest(msgspec.Struct):
    # Any text: a wrong or empty one is simply not a login (401), as API.md says.
    phone: Text
    password: Text


class UserBrief(msgspec.Struct):
    id: int
    display_name: str


class TokenResponse(msgspec.Struct):
    access_token: str
    user: UserBrief
    token_type: str = "bearer"


class RegisterRequest(msgspec.Struct):
    phone: Filled
    password: Filled
    display_name: Name
    join_code: Filled


class RegisterResponse(msgspec.Struct):
    user_id: int
    community_id: int


class MembershipOut(msgspec.Struct):
    community_id: int
    community_name: str
    roles: list[str]


class MeResponse(msgspec.Struct):
    id: int
    display_name: str
    memberships: list[MembershipOut]
    street_admin_of: list[int] = []


class CardResponse(msgspec.Struct):
    code: str
    expires_at: str


class ResidentCreate(msgspec.Struct):
    display_name: Name
    phone: Text | None = None
    password: Text | None = None
    roles: list[Role] | None = None
    compound_id: Id | None = None
    building_id: Id | None = None


class ResidentCreated(msgspec.Struct):
    user_id: int


class RolesUpdate(msgspec.Struct):
    roles: list[Role]


class AdminOut(msgspec.Struct):
    user_id: int
    display_name: str


class AdminsOut(msgspec.Struct):
    items: list[AdminOut]


class AdminAppoint(msgspec.Struct):
    """One of the street's people (`user_id`), or the holder of a phone number, registered with
    `display_name` (and `password`, to log in with) when the number has no account."""

    user_id: Id | None = None
    phone: Text | None = None
    display_name: Text | None = None
    password: Text | None = None


class AdminAppointed(msgspec.Struct):
    user_id: int
    # False when they already were its admin: nothing changed.
    appointed: bool


class MovedAwayOut(msgspec.Struct):
    """A resident's standing after a move away or back (app.accounts.moving): `changed` is false
    when they already stood so (a repeat changes nothing)."""

    user_id: int
    moved_away: bool
    changed: bool
