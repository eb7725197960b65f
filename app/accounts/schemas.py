from __future__ import annotations

import msgspec


class TokenRequest(msgspec.Struct):
    phone: str
    password: str


class UserBrief(msgspec.Struct):
    id: int
    display_name: str


class TokenResponse(msgspec.Struct):
    access_token: str
    user: UserBrief
    token_type: str = "bearer"


class RegisterRequest(msgspec.Struct):
    phone: str
    password: str
    display_name: str
    join_code: str


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
    display_name: str
    phone: str | None = None
    password: str | None = None
    roles: list[str] | None = None
    compound_id: int | None = None
    building_id: int | None = None


class ResidentCreated(msgspec.Struct):
    user_id: int


class RolesUpdate(msgspec.Struct):
    roles: list[str]
