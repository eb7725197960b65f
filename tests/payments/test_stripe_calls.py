"""What the app asks of Stripe (API.md, Money): only POST /v1/checkout/sessions, GET
/v1/checkout/sessions[/{id}] and POST /v1/refunds, through the `stripe` library at
STRIPE_API_BASE; a session carries metadata[jinlin_kind] and metadata[jinlin_id] and an
Idempotency-Key derived from its payment row. Seen here by a recording Stripe of the test's own,
which can also be down: a purchase sent again after Stripe failed is answered, not refused."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from app.asgi import create_app
from app.payments import gateway
from tests.circle.conftest import Circle, give_points, make_offer
from tests.circle.conftest import circle as circle  # the fixture
from tests.conftest import login


@dataclass
class Recorder:
    url: str = ""
    calls: list[tuple[str, str, str | None, dict[str, list[str]]]] = field(default_factory=list)
    down: bool = False


@pytest.fixture
def stripe_double() -> Iterator[Recorder]:
    recorder = Recorder()

    class Answer(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> dict[str, list[str]]:
            size = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(size).decode()) if size else {}
            path = urllib.parse.urlsplit(self.path).path
            recorder.calls.append((self.command, path, self.headers.get("Idempotency-Key"), form))
            return form

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            form = self._record()
            if recorder.down:
                self._answer(400, {"error": {"type": "api_error", "message": "Stripe is down."}})
                return
            if self.path.startswith("/v1/refunds"):
                self._answer(200, {"id": "re_1", "object": "refund", "status": "succeeded"})
                return
            number = len(recorder.calls)
            session = {
                "id": f"cs_test_{number}",
                "object": "checkout.session",
                "url": f"{recorder.url}/pay/cs_test_{number}",
                "status": "open",
                "payment_status": "unpaid",
                "metadata": {k[9:-1]: v[0] for k, v in form.items() if k.startswith("metadata[")},
            }
            self._answer(200, session)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._record()
            self._answer(200, {"object": "list", "data": [], "has_more": False})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


_STRIPE = {"stripe_api_key": "sk_test_" + "x" * 24, "stripe_webhook_secret": "whsec_" + "x" * 32}


def _paying(settings: Any, recorder: Recorder) -> Any:
    return create_app(replace(settings, **_STRIPE, stripe_api_base=recorder.url))


async def test_a_donation_asks_stripe_once_with_its_rows_key_and_metadata(
    settings, circle: Circle, stripe_double: Recorder, db
):
    async with AsyncTestClient(app=_paying(settings, stripe_double), base_url="http://testserver.local") as c:
        resident = await login(c, circle.resident)
        wish = await c.post(
            f"/api/v1/communities/{circle.community_id}/wishes",
            json={"title": "楼道扶手", "description": "三楼扶手松了", "funding_goal_cents": 50_000},
            headers=resident.headers,
        )
        review = await c.post(
            f"/api/v1/wishes/{wish.json()['id']}/review",
            json={"decision": "publish"},
            headers=circle.admin.headers,
        )
        assert review.status_code == 200, review.text
        body = {"amount_cents": 12_000, "idempotency_key": "gift-1"}
        path = f"/api/v1/wishes/{wish.json()['id']}/donations"
        given = await c.post(path, json=body, headers=resident.headers)
        assert given.status_code == 201, given.text
        again = await c.post(path, json=body, headers=resident.headers)
        assert again.status_code in (200, 201) and again.json() == given.json()
    donation = given.json()["donation_id"]
    created = (
        await db.execute(text("SELECT created_at FROM payments WHERE id = :p"), {"p": donation})
    ).scalar_one()
    [(method, where, key, form)] = stripe_double.calls
    assert (method, where) == ("POST", "/v1/checkout/sessions")
    assert key == gateway.idempotency_key("donation", donation, created)
    assert form["metadata[jinlin_kind]"] == ["donation"] and form["metadata[jinlin_id]"] == [str(donation)]
    assert given.json()["checkout_url"] == f"{stripe_double.url}/pay/cs_test_1"
    # Reconciling and refunding reach the other two endpoints, and nothing else.
    config = gateway.config_for(replace(settings, **_STRIPE, stripe_api_base=stripe_double.url))
    assert config is not None
    await gateway.retrieve_checkout(config, "cs_test_1")
    await gateway.recent_checkouts(config, 0)
    await gateway.refund(config, "pi_test_1", "jinlin-refund-1-1")
    assert [(method, where, key) for method, where, key, _form in stripe_double.calls[1:]] == [
        ("GET", "/v1/checkout/sessions/cs_test_1", None),
        ("GET", "/v1/checkout/sessions", None),
        ("POST", "/v1/refunds", "jinlin-refund-1-1"),
    ]


async def test_a_voucher_bought_again_after_stripe_failed_is_answered_with_its_checkout(
    client, settings, circle: Circle, stripe_double: Recorder, engine, db
):
    """A purchase refused because Stripe failed (503 payments_off: try again) is sent again with
    its key, as the refusal asks: it is answered with one voucher and its checkout, and a third
    sending with the same answer."""
    offer = await make_offer(client, circle, points_price=5, cash_price_cents=1500)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    body = {"offer_id": offer, "idempotency_key": "barber-1"}
    async with AsyncTestClient(app=_paying(settings, stripe_double), base_url="http://testserver.local") as c:
        stripe_double.down = True
        failed = await c.post("/api/v1/vouchers", json=body, headers=circle.resident.headers)
        assert failed.status_code == 503 and failed.json()["code"] == "payments_off", failed.text
        stripe_double.down = False
        again = await c.post("/api/v1/vouchers", json=body, headers=circle.resident.headers)
        assert again.status_code in (200, 201), again.text
        bought = again.json()
        assert (bought["status"], bought["points"], bought["cash_cents"]) == ("awaiting_payment", 5, 1500)
        assert bought["checkout_url"].startswith(f"{stripe_double.url}/pay/")
        third = await c.post("/api/v1/vouchers", json=body, headers=circle.resident.headers)
        assert third.status_code == 200 and third.json() == bought
    vouchers = "SELECT count(*) FROM circle_vouchers WHERE user_id = :u"
    assert (await db.execute(text(vouchers), {"u": circle.resident.user_id})).scalar_one() == 1
    # The failed attempt left no payment row: the one kept is the answered one's, under its key.
    rows = (
        await db.execute(
            text("SELECT id, created_at, checkout_url FROM payments WHERE kind = 'voucher' AND ref_id = :v"),
            {"v": bought["id"]},
        )
    ).all()
    assert [row.checkout_url for row in rows] == [bought["checkout_url"]]
    method, where, key, form = stripe_double.calls[-1]
    assert (method, where) == ("POST", "/v1/checkout/sessions")
    assert key == gateway.idempotency_key("voucher", rows[0].id, rows[0].created_at)
    assert form["metadata[jinlin_kind]"] == ["voucher"] and form["metadata[jinlin_id]"] == [str(rows[0].id)]
    assert {(m, w) for m, w, _k, _f in stripe_double.calls} == {("POST", "/v1/checkout/sessions")}
