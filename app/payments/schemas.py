"""Request and answer bodies of the money API (API.md "Money (Stripe)")."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Text = Annotated[str, Meta(pattern=r"^[^\x00]*$")]


class DonationIn(msgspec.Struct):
    amount_cents: Annotated[int, Meta(ge=1, le=2**53 - 1)]
    idempotency_key: Annotated[str, Meta(pattern=r"^[^\x00]*\S[^\x00]*$", min_length=1, max_length=80)]
    display_name: Annotated[str, Meta(pattern=r"^[^\x00]*$", max_length=60)] | None = None


class DonationOut(msgspec.Struct):
    donation_id: int
    checkout_url: str


class WebhookOut(msgspec.Struct):
    received: bool
