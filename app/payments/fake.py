"""The offline test Stripe: exactly the endpoints API.md "Money (Stripe)" lists, answered the way
Stripe answers them, so the real `stripe` library talks to it unchanged (tests, and the demo that
`make run` starts with no Stripe key). Its sessions are rows (every worker sees the same ones);
completing or cancelling one on the test-payment page sends a signed webhook to the app's
`/stripe/webhook`, through the same verification a real one goes through.

Its HTTP routes are in app.payments.api (the JSON endpoints) and app.payments.pages (the
test-payment page); they answer only while the app uses the offline test Stripe."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.uow import Connection, Sql, json_param
from app.payments.gateway import OFFLINE_PATH, PaymentConfig, sign

log = logging.getLogger("jinlin.payments.fake")

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


class FakeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": "invalid_request_error", "message": str(self)}
        if self.param:
            error["param"] = self.param
        return {"error": error}


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][unit_amount]=5`) as nested values."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        keys = [a or b for a, b in _KEY.findall(name)]
        node: Any = root
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            nxt: Any = value if last else ([] if keys[i + 1].isdigit() else {})
            if isinstance(node, list):
                index = int(key)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None or last:
                    node[index] = nxt
                node = node[index]
            else:
                if key not in node or last:
                    node[key] = nxt
                node = node[key]
    return root


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


_INSERT = Sql(
    "INSERT INTO offline_stripe_sessions (id, idempotency_key, body) "
    "VALUES (:id, :key, CAST(:body AS jsonb)) ON CONFLICT (idempotency_key) DO NOTHING RETURNING body"
)
_BY_KEY = Sql("SELECT body FROM offline_stripe_sessions WHERE idempotency_key = :key")
_ONE = Sql("SELECT body FROM offline_stripe_sessions WHERE id = :id FOR UPDATE")
_SAVE = Sql("UPDATE offline_stripe_sessions SET body = CAST(:body AS jsonb) WHERE id = :id")
_LIST = Sql(
    "SELECT body FROM offline_stripe_sessions WHERE (body->>'created')::bigint >= :since "
    "AND (CAST(:after AS varchar) IS NULL OR (created_at, id) < "
    "(SELECT created_at, id FROM offline_stripe_sessions WHERE id = :after)) "
    "ORDER BY created_at DESC, id DESC LIMIT :limit"
)
_BY_INTENT = Sql("SELECT id FROM offline_stripe_sessions WHERE body->>'payment_intent' = :pi FOR UPDATE")


def _int(params: dict[str, Any], *path: str) -> int:
    value: Any = params
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FakeError(400, f"Missing required param: {'.'.join(path)}.", ".".join(path)) from None


async def create_session(
    db: AsyncSession | Connection, config: PaymentConfig, params: dict[str, Any], key: str | None
) -> dict[str, Any]:
    if key:
        row = await _BY_KEY.fetchrow(db, {"key": key})
        if row is not None:
            return dict(row["body"])
    items = params.get("line_items") or []
    if not isinstance(items, list) or not items:
        raise FakeError(400, "Missing required param: line_items.", "line_items")
    amount = sum(
        _int(item, "price_data", "unit_amount") * _int(item, "quantity")
        for item in items
        if isinstance(item, dict)
    )
    for name in ("success_url", "cancel_url"):
        if not params.get(name):
            raise FakeError(400, f"Missing required param: {name}.", name)
    session_id = _id("cs")
    now = int(time.time())
    body = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount,
        "currency": str(items[0].get("price_data", {}).get("currency") or config.currency),
        "created": now,
        "expires_at": int(params.get("expires_at") or now + 24 * 3600),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "client_reference_id": params.get("client_reference_id"),
        "mode": params.get("mode", "payment"),
        "payment_intent": None,
        "payment_intent_metadata": dict((params.get("payment_intent_data") or {}).get("metadata") or {}),
        "payment_method_types": list(params.get("payment_method_types") or ["card"]),
        "payment_status": "unpaid",
        "status": "open",
        "success_url": params["success_url"],
        "cancel_url": params["cancel_url"],
        "url": f"{config.own_url}{OFFLINE_PATH}/pay/{session_id}",
        "amount_refunded": 0,
        # What is paid for, as Stripe's own page names it above the amount (its line items).
        "item_names": [
            str(item.get("price_data", {}).get("product_data", {}).get("name") or "")
            for item in items
            if isinstance(item, dict)
        ],
    }
    row = await _INSERT.fetchrow(db, {"id": session_id, "key": key, "body": json_param(body)})
    if row is None:  # the same key at the same moment: the first one's session
        again = await _BY_KEY.fetchrow(db, {"key": key})
        assert again is not None
        return dict(again["body"])
    return body


def success_target(body: dict[str, Any]) -> str:
    """Where the payer goes once paid: the success URL with {CHECKOUT_SESSION_ID} filled in, as
    Stripe fills it."""
    return str(body["success_url"]).replace("{CHECKOUT_SESSION_ID}", str(body["id"]))


async def get_session(db: AsyncSession | Connection, session_id: str) -> dict[str, Any]:
    row = await _ONE.fetchrow(db, {"id": session_id})
    if row is None:
        raise FakeError(404, f"No such checkout.session: '{session_id}'", "id")
    return dict(row["body"])


async def list_sessions(db: AsyncSession | Connection, params: dict[str, Any]) -> dict[str, Any]:
    created = params.get("created")
    since = _int(params, "created", "gte") if isinstance(created, dict) and "gte" in created else 0
    limit = max(1, min(100, int(params.get("limit") or 10)))
    rows = await _LIST.fetch(db, {"since": since, "after": params.get("starting_after"), "limit": limit + 1})
    data = [dict(r["body"]) for r in rows[:limit]]
    return {"object": "list", "url": "/v1/checkout/sessions", "has_more": len(rows) > limit, "data": data}


async def _save(db: AsyncSession | Connection, body: dict[str, Any]) -> None:
    await _SAVE.execute(db, {"id": body["id"], "body": json_param(body)})


async def complete(db: AsyncSession | Connection, session_id: str) -> dict[str, Any] | None:
    """The test payment succeeds: the checkout.session.completed event, or None when the session
    is no longer open."""
    body = await get_session(db, session_id)
    if body["status"] != "open":
        return None
    body.update(status="complete", payment_status="paid", payment_intent=_id("pi"))
    await _save(db, body)
    return event("checkout.session.completed", body)


async def expire(db: AsyncSession | Connection, session_id: str) -> dict[str, Any] | None:
    """The payer cancels (or the session runs out): the checkout.session.expired event."""
    body = await get_session(db, session_id)
    if body["status"] != "open":
        return None
    body.update(status="expired")
    await _save(db, body)
    return event("checkout.session.expired", body)


async def refund(
    db: AsyncSession | Connection, params: dict[str, Any], key: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """POST /v1/refunds of what is left of a payment, or of `amount` of it (a refund in part, as
    an admin may make in Stripe's dashboard): the refund, and the charge.refunded event carrying
    the charge's refunded total so far. A repeat with the same key answers the same refund and
    sends nothing; a payment refunded in full refuses another."""
    intent = str(params.get("payment_intent") or "")
    row = await _BY_INTENT.fetchrow(db, {"pi": intent}) if intent else None
    if row is None:
        raise FakeError(404, f"No such payment_intent: '{intent}'", "payment_intent")
    body = await get_session(db, row["id"])
    made = list(body.get("refunds") or ([body["refund"]] if body.get("refund") else []))
    for previous in made:
        if key and previous.get("idempotency_key") == key:
            return {k: v for k, v in previous.items() if k != "idempotency_key"}, None
    left = int(body["amount_total"]) - int(body.get("amount_refunded") or 0)
    if left <= 0:
        raise FakeError(400, f"Charge for {intent} has already been refunded.", "payment_intent")
    amount = _int(params, "amount") if params.get("amount") is not None else left
    if not 0 < amount <= left:
        raise FakeError(
            400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})", "amount"
        )
    refund_body = {
        "id": _id("re"),
        "object": "refund",
        "amount": amount,
        "currency": body["currency"],
        "payment_intent": intent,
        "status": "succeeded",
        "created": int(time.time()),
    }
    body["refund"] = {**refund_body, "idempotency_key": key}
    body["refunds"] = [*made, body["refund"]]
    body["amount_refunded"] = int(body.get("amount_refunded") or 0) + amount
    await _save(db, body)
    charge = {
        "id": "ch_" + intent.removeprefix("pi_"),
        "object": "charge",
        "amount": body["amount_total"],
        "amount_refunded": body["amount_refunded"],
        "currency": body["currency"],
        "payment_intent": intent,
        "refunded": body["amount_refunded"] == body["amount_total"],
        "metadata": body.get("payment_intent_metadata") or body.get("metadata") or {},
    }
    return refund_body, event("charge.refunded", charge)


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in obj.items() if k not in ("refund", "refunds", "payment_intent_metadata")}
    return {
        "id": _id("evt"),
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": shown},
    }


async def send(config: PaymentConfig, event_body: dict[str, Any]) -> int:
    """Posts the event, signed with the endpoint's secret, to the app's webhook, as Stripe would;
    the answer's status (the webhook's own checks decide)."""
    payload = json.dumps(event_body).encode()
    headers = {"Stripe-Signature": sign(payload, config.webhook_secret), "Content-Type": "application/json"}
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            answer = await client.post(config.own_url + "/stripe/webhook", content=payload, headers=headers)
    except httpx.HTTPError:
        log.exception("the offline test Stripe could not deliver %s", event_body["id"])
        return 0
    return answer.status_code
