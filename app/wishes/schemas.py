"""Request and answer bodies of the micro-wishes API (API.md "Micro-wishes")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from app.core.fields import Id

Cents = Annotated[int, Meta(ge=1, le=2**53 - 1)]
Status = Literal["submitted", "published", "rejected", "claimed", "delivered"]
Kind = Literal["item", "service"]


class WishIn(msgspec.Struct):
    title: Annotated[str, Meta(pattern=r"^[^\x00]*[^\x00\s][^\x00]*$", min_length=1, max_length=100)]
    description: Annotated[str, Meta(pattern=r"^[^\x00]*$", max_length=2000)] = ""
    for_user_id: Id | None = None
    funding_goal_cents: Cents | None = None
    # Why the resident agreed to a wish posted on their behalf (who asked, when, how).
    consent_note: Annotated[str, Meta(pattern=r"^[^\x00]*$", max_length=500)] | None = None
    # An item (a wheelchair, a school bag) or a service (a repair, company to the hospital).
    kind: Kind = "item"


class WishCreated(msgspec.Struct):
    id: int
    status: str


class ReviewIn(msgspec.Struct):
    decision: Literal["publish", "reject"]
    note: Annotated[str, Meta(pattern=r"^[^\x00]*$", max_length=500)] | None = None


class ClaimIn(msgspec.Struct):
    organisation_id: Id | None = None


class ThanksIn(msgspec.Struct):
    note: Annotated[str, Meta(pattern=r"^[^\x00]*[^\x00\s][^\x00]*$", min_length=1, max_length=1000)]


class StatusOut(msgspec.Struct):
    status: str


class ClaimantOut(msgspec.Struct):
    kind: Literal["organisation", "user"]
    id: int
    name: str


class WishItem(msgspec.Struct, omit_defaults=True):
    id: int
    title: str
    status: str
    # The beneficiary's name: in full for the community's staff and admins, the beneficiary and
    # whoever posted it for them; masked (杨**) for everyone else, whoever claimed it too.
    beneficiary_name: str = ""
    claimed_by: ClaimantOut | None = None
    # The beneficiary's compound (小区), where the wish is to be delivered.
    compound: str = ""
    kind: str = ""


class WishesOut(msgspec.Struct):
    items: list[WishItem]
    # The page after this one (`?page=`), while older wishes remain; null on the last.
    next_page: int | None = None


class WishOut(msgspec.Struct):
    id: int
    title: str
    status: str
    description: str
    funded_cents: int
    funding_goal_cents: int | None = None
    beneficiary_name: str = ""
    claimed_by: ClaimantOut | None = None
    thanks_note: str = ""
    compound: str = ""
    kind: str = ""
    # Where the thank-you photo is served to whoever may see the wish (same session or token).
    thanks_photo_url: str | None = None


class CodeOut(msgspec.Struct):
    code: str
    expires_at: datetime


class ThanksOut(msgspec.Struct):
    status: str
