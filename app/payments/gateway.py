"""The app's only way to Stripe: which Stripe (a real account, the demo's offline test Stripe,
or none), and the few calls API.md "Money (Stripe)" lists, through the `stripe` library.

- `STRIPE_API_KEY` set: that account, at `STRIPE_API_BASE` when set (a fake in tests), with
  `STRIPE_WEBHOOK_SECRET`; the offline test Stripe is never used.
- No key, and `jinlin demo` has switched the data directory to the offline test Stripe (the file
  `offline_stripe`, holding its generated webhook secret): the app's own fake (app.payments.fake)
  at `<own url>/offline-stripe`, and every payment page says that no real money moves.
- Otherwise payments are off (`payments_off`)."""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import stripe

from app.core.settings import Settings

OFFLINE_FILE = "offline_stripe"
OFFLINE_API_KEY = "sk_test_offline_jinlin"
OFFLINE_PATH = "/offline-stripe"
OFFLINE_METHODS = ("wechat_pay", "alipay", "card")
DEFAULT_OWN_URL = "http://127.0.0.1:8000"
# Webhooks: older than this (the library's check) or this far ahead (ours) is refused.
TOLERANCE_PAST = 300
TOLERANCE_FUTURE = 60
# A Checkout session lives this long (Stripe's minimum is 30 minutes).
SESSION_MINUTES = 30


class PaymentsOff(Exception):
    pass


class StripeFailed(Exception):
    """Stripe (or the fake) could not be reached or refused the call."""


class StripeRefused(StripeFailed):
    """Stripe answered and refused the call for what it asks (a 4xx other than 429: a charge
    already refunded, or disputed): asking again, later, gets the same answer."""


def _failed(exc: stripe.StripeError) -> StripeFailed:
    status = exc.http_status
    if isinstance(status, int) and 400 <= status < 500 and status != 429:
        return StripeRefused(str(exc))
    return StripeFailed(str(exc))


class BadSignature(Exception):
    pass


@dataclass(frozen=True)
class PaymentConfig:
    api_key: str
    webhook_secret: str
    api_base: str | None  # None: Stripe's own
    currency: str
    methods: tuple[str, ...]
    offline: bool
    own_url: str


def enable_offline(data_dir: Path) -> str:
    """Switches this data directory to the offline test Stripe (`jinlin demo` does when no key is
    set) and returns its webhook secret, generated once and kept."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / OFFLINE_FILE
    if not path.exists():
        path.write_text("whsec_offline_" + secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _offline_secret(data_dir: Path) -> str | None:
    try:
        return (data_dir / OFFLINE_FILE).read_text().strip() or None
    except OSError:
        return None


def config_for(settings: Settings) -> PaymentConfig | None:
    """Which Stripe this app uses, or None when payments are off."""
    own_url = settings.own_url or DEFAULT_OWN_URL
    if settings.stripe_api_key:
        if not settings.stripe_webhook_secret:
            return None
        return PaymentConfig(
            api_key=settings.stripe_api_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            currency=settings.stripe_currency,
            methods=settings.stripe_payment_methods,
            offline=False,
            own_url=own_url,
        )
    secret = _offline_secret(settings.data_dir)
    if secret is None:
        return None
    return PaymentConfig(
        api_key=OFFLINE_API_KEY,
        webhook_secret=secret,
        api_base=own_url + OFFLINE_PATH,
        currency=settings.stripe_currency,
        methods=OFFLINE_METHODS,
        offline=True,
        own_url=own_url,
    )


def require(settings: Settings) -> PaymentConfig:
    config = config_for(settings)
    if config is None:
        raise PaymentsOff()
    return config


def _client(config: PaymentConfig) -> stripe.StripeClient:
    # One client per call: calls are few, and an httpx client belongs to the event loop it
    # first ran on (a job worker's differs from the request's).
    base = {"api": config.api_base} if config.api_base else None
    return stripe.StripeClient(
        config.api_key,
        base_addresses=base,  # type: ignore[arg-type]
        http_client=stripe.HTTPXClient(timeout=20),
        max_network_retries=2,
    )


def idempotency_key(kind: str, row_id: int, created_at: datetime) -> str:
    """Derived from the app's own row: the same row always asks with the same key, and a row of a
    fresh database never meets an old row's key within Stripe's 24 hours."""
    return f"jinlin-{kind}-{row_id}-{int(created_at.timestamp())}"


def _plain(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else dict(value.to_dict(for_json=True))


async def create_checkout(
    config: PaymentConfig,
    *,
    kind: str,
    row_id: int,
    amount_cents: int,
    title: str,
    success_url: str,
    cancel_url: str,
    key: str,
) -> dict[str, Any]:
    """POST /v1/checkout/sessions for one payment row; the metadata names the row."""
    metadata = {"jinlin_kind": kind, "jinlin_id": str(row_id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": config.currency,
                    "unit_amount": amount_cents,
                    "product_data": {"name": title[:250] or kind},
                },
                "quantity": 1,
            }
        ],
        "payment_method_types": list(config.methods),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        # The charge carries them too, so that charge.refunded finds its row.
        "payment_intent_data": {"metadata": metadata},
        "client_reference_id": f"{kind}-{row_id}",
        "expires_at": int(time.time()) + SESSION_MINUTES * 60 + 60,
    }
    if "wechat_pay" in config.methods:
        params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    try:
        session = await _client(config).v1.checkout.sessions.create_async(
            params,  # type: ignore[arg-type]
            {"idempotency_key": key},
        )
    except stripe.StripeError as exc:
        raise StripeFailed(str(exc)) from exc
    return _plain(session)


async def retrieve_checkout(config: PaymentConfig, session_id: str) -> dict[str, Any]:
    try:
        session = await _client(config).v1.checkout.sessions.retrieve_async(session_id)
    except stripe.StripeError as exc:
        raise StripeFailed(str(exc)) from exc
    return _plain(session)


async def recent_checkouts(config: PaymentConfig, since: int) -> list[dict[str, Any]]:
    """GET /v1/checkout/sessions created since `since` (Unix time), every page of them."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"created": {"gte": since}, "limit": 100}
    client = _client(config)
    try:
        while True:
            page = _plain(await client.v1.checkout.sessions.list_async(params))  # type: ignore[arg-type]
            found.extend(page.get("data", []))
            if not page.get("has_more") or not page.get("data"):
                return found
            params["starting_after"] = page["data"][-1]["id"]
    except stripe.StripeError as exc:
        raise StripeFailed(str(exc)) from exc


async def refund(config: PaymentConfig, payment_intent: str, key: str) -> dict[str, Any]:
    """POST /v1/refunds of a whole payment."""
    try:
        answer = await _client(config).v1.refunds.create_async(
            {"payment_intent": payment_intent},
            {"idempotency_key": key},
        )
    except stripe.StripeError as exc:
        raise _failed(exc) from exc
    return _plain(answer)


def _timestamp(header: str) -> int | None:
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def verify_event(payload: bytes, header: str | None, secret: str, now: float | None = None) -> dict[str, Any]:
    """The event of a webhook whose `Stripe-Signature` verifies over the raw body with the
    endpoint's secret (the stripe library, which also refuses a timestamp more than 300 s old),
    and whose timestamp is at most 60 s ahead (the library does not look ahead)."""
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_PAST)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(str(exc)) from exc
    except UnicodeDecodeError as exc:  # the library decodes the body before it reads the header
        raise BadSignature("not UTF-8") from exc
    stamp = _timestamp(header or "")
    if stamp is None or stamp > (time.time() if now is None else now) + TOLERANCE_FUTURE:
        raise BadSignature("timestamp in the future")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise BadSignature("not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
        raise BadSignature("not an event")
    return event


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe makes it (the offline test Stripe signs with it)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, "sha256").hexdigest()
    return f"t={stamp},v1={mac}"
