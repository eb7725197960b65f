"""`POST /stripe/webhook` verifies Stripe's signature over the raw body with the stripe library,
and refuses a timestamp more than 300 s old or more than 60 s ahead (the eight cases of the
issue); an event that passes is stored once by its id."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import pytest
from sqlalchemy import text

from tests.payments.conftest import WEBHOOK_SECRET


def _event() -> dict[str, Any]:
    return {
        "id": "evt_sig_" + secrets.token_hex(8),
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_x", "object": "checkout.session", "metadata": {}}},
    }


def _mac(secret: str, stamp: int, payload: bytes) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()


def _case(name: str, payload: bytes) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    good = _mac(WEBHOOK_SECRET, now, payload)
    headers = {
        "valid": f"t={now},v1={good}",
        "wrong_secret": f"t={now},v1={_mac('whsec_other', now, payload)}",
        "tampered_body": f"t={now},v1={good}",
        "timestamp_301_s_old": f"t={now - 301},v1={_mac(WEBHOOK_SECRET, now - 301, payload)}",
        "timestamp_120_s_ahead": f"t={now + 120},v1={_mac(WEBHOOK_SECRET, now + 120, payload)}",
        "two_signatures_one_valid": f"t={now},v1={'0' * 64},v1={good}",
        "unknown_scheme": f"t={now},v0={good}",
    }
    body = (
        payload.replace(b"checkout.session.completed", b"checkout.session.expired")
        if name == "tampered_body"
        else payload
    )
    if name == "missing_header":
        return body, {"Content-Type": "application/json"}
    return body, {"Stripe-Signature": headers[name], "Content-Type": "application/json"}


CASES = {
    "valid": 200,
    "wrong_secret": 400,
    "tampered_body": 400,
    "missing_header": 400,
    "timestamp_301_s_old": 400,
    "timestamp_120_s_ahead": 400,
    "two_signatures_one_valid": 200,
    "unknown_scheme": 400,
}


@pytest.mark.parametrize("name", list(CASES))
async def test_signature_case(pay: Any, db: Any, name: str) -> None:
    event = _event()
    payload = json.dumps(event).encode()
    body, headers = _case(name, payload)
    answer = await pay.post("/stripe/webhook", content=body, headers=headers)
    assert answer.status_code == CASES[name], answer.text
    stored = (
        await db.execute(text("SELECT count(*) FROM stripe_events WHERE id = :id"), {"id": event["id"]})
    ).scalar()
    assert stored == (1 if CASES[name] == 200 else 0)
    if CASES[name] == 400:
        assert answer.json()["code"] == "validation_error"


async def test_a_repeated_event_is_acknowledged_and_stored_once(pay: Any, db: Any) -> None:
    event = _event()
    payload = json.dumps(event).encode()
    for _ in range(3):
        now = int(time.time())
        headers = {"Stripe-Signature": f"t={now},v1={_mac(WEBHOOK_SECRET, now, payload)}"}
        assert (await pay.post("/stripe/webhook", content=payload, headers=headers)).status_code == 200
    stored = (
        await db.execute(text("SELECT count(*) FROM stripe_events WHERE id = :id"), {"id": event["id"]})
    ).scalar()
    assert stored == 1


@pytest.mark.parametrize("signature", [None, "t=1,v1=" + "0" * 64])
async def test_a_body_that_is_not_utf8_is_refused_with_a_400(pay: Any, signature: str | None) -> None:
    """The stripe library decodes the body before it looks at the header: bytes that are not
    UTF-8 (anyone may post them) were a 500."""
    headers = {"Stripe-Signature": signature} if signature else {}
    answer = await pay.post("/stripe/webhook", content=b'{"id": "evt_\xff\xfe"}', headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "validation_error"
