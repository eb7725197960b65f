"""A JSON API body is taken as its OpenAPI schema states it, and nothing else: a number written as
a string, a whole float, a Unix timestamp for a date-time, "false" or 0 for a boolean, a field the
schema does not name and a body that is not sent as JSON are each refused with API.md's error shape
(422 `validation_error` naming the field; 415 for the media type), and nothing is stored: no
event, item or order, no point moved, and `jinlin ledger verify` still passes."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from click.testing import CliRunner

from app.cli import main
from tests.conftest import SECRET, count, login
from tests.events.conftest import event_body


def refused(answer: Any, status: int = 422) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status_code"] == status and body["code"] == "validation_error" and body["detail"], body
    return body


def key() -> str:
    return uuid.uuid4().hex


async def ledger_verified(database_url: str, community_id: int) -> None:
    """`jinlin ledger verify` (its own event loop, so in a thread of its own)."""
    env = {"DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    args = ["ledger", "verify", "--community", str(community_id)]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)


async def test_values_of_another_json_type_are_refused_not_coerced(client, factory, db, database_url):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    events = f"/api/v1/communities/{cid}/events"
    for change in (
        {"capacity": "10"},
        {"capacity": 10.0},
        {"points_per_hour": "1"},
        {"starts_at": 1893456000, "ends_at": 1893463200},
        {"auto_award": "false"},
        {"auto_award": 0},
        {"signup_required": "0"},
    ):
        body = refused(await client.post(events, json={**event_body(), **change}, headers=admin.headers))
        assert body["errors"][0]["key"] in change, body
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=cid) == 0

    items = f"/api/v1/communities/{cid}/items"
    body = refused(
        await client.post(items, json={"name": "米", "points_price": "2", "stock": 5}, headers=admin.headers)
    )
    assert body["errors"] == [
        {"message": "Expected `int`, got `str`", "key": "points_price", "source": "body"}
    ]
    assert await count(db, "SELECT count(*) FROM store_items WHERE community_id = :c", c=cid) == 0

    made = await client.post(items, json={"name": "米", "points_price": 2, "stock": 5}, headers=admin.headers)
    assert made.status_code == 201, made.text
    item = made.json()["id"]
    award = {"user_id": resident.user_id, "points": 10, "reason": "好", "idempotency_key": key()}
    assert (
        await client.post(f"/api/v1/communities/{cid}/awards", json=award, headers=admin.headers)
    ).status_code == 201
    for order in (
        {"item_id": str(item), "quantity": 1},
        {"item_id": item, "quantity": "1"},
        {"item_id": item, "quantity": 1.0},
    ):
        refused(
            await client.post(
                "/api/v1/orders", json={**order, "idempotency_key": key()}, headers=resident.headers
            )
        )
    assert await count(db, "SELECT count(*) FROM store_orders WHERE user_id = :u", u=resident.user_id) == 0
    wallet = (await client.get("/api/v1/me/wallet", headers=resident.headers)).json()
    assert (wallet["balance"], wallet["held"]) == (10, 0)

    # A nested value: an agreement's commitments.
    nested = await client.post(
        f"/api/v1/communities/{cid}/agreements",
        json={"organisation_id": 1, "year": 2026, "commitments": {"wishes": "2"}},
        headers=admin.headers,
    )
    assert refused(nested)["errors"][0]["key"] == "commitments.wishes"
    await ledger_verified(database_url, cid)


async def test_a_field_the_schema_does_not_name_is_refused(client, factory, db, database_url):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    # A misspelt optional field would otherwise be dropped: an event without its points cap.
    answer = await client.post(
        f"/api/v1/communities/{cid}/events", json={**event_body(), "max_point": 5}, headers=admin.headers
    )
    assert refused(answer)["errors"] == [
        {"message": "Unknown field `max_point`", "key": "max_point", "source": "body"}
    ]
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=cid) == 0

    award = {"user_id": resident.user_id, "points": 5, "reason": "好", "idempotency_key": key(), "memo": "x"}
    refused(await client.post(f"/api/v1/communities/{cid}/awards", json=award, headers=admin.headers))
    assert await count(db, "SELECT count(*) FROM ledger_transfers WHERE community_id = :c", c=cid) == 0

    # Inside a list and inside a nested object.
    organisation = {
        "name": "便民理发",
        "kinds": ["provider"],
        "members": [{"phone": "13700000001", "display_name": "王", "role": "admin"}],
    }
    answer = await client.post(
        f"/api/v1/communities/{cid}/organisations", json=organisation, headers=admin.headers
    )
    assert refused(answer)["errors"][0]["key"] == "members[0].role"
    answer = await client.post(
        f"/api/v1/communities/{cid}/agreements",
        json={"organisation_id": 1, "year": 2026, "commitments": {"wish": 2}},
        headers=admin.headers,
    )
    assert refused(answer)["errors"][0]["key"] == "commitments.wish"
    assert await count(db, "SELECT count(*) FROM organisations WHERE name = '便民理发'") == 0
    await ledger_verified(database_url, cid)


async def test_a_body_not_sent_as_json_is_415_and_one_without_a_media_type_is_read(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    path = f"/api/v1/communities/{cid}/items"
    body = json.dumps({"name": "面", "points_price": 3, "stock": 1})
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        answer = await client.post(path, content=body, headers={**admin.headers, "Content-Type": media_type})
        assert "JSON" in refused(answer, 415)["detail"]
    assert await count(db, "SELECT count(*) FROM store_items WHERE community_id = :c", c=cid) == 0
    for media_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        answer = await client.post(path, content=body, headers={**admin.headers, "Content-Type": media_type})
        assert answer.status_code == 201, answer.text
    # A script that sends no media type at all (a bare socket, some HTTP libraries) is read as JSON.
    request = client.build_request("POST", path, content=body, headers=admin.headers)
    assert "content-type" not in request.headers
    assert (await client.send(request)).status_code == 201
    assert await count(db, "SELECT count(*) FROM store_items WHERE community_id = :c", c=cid) == 3


async def test_routes_with_an_optional_body_still_take_none(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    made = await client.post(
        f"/api/v1/communities/{cid}/items",
        json={"name": "油", "points_price": 1, "stock": 2},
        headers=admin.headers,
    )
    award = {"user_id": resident.user_id, "points": 3, "reason": "好", "idempotency_key": key()}
    await client.post(f"/api/v1/communities/{cid}/awards", json=award, headers=admin.headers)
    order = await client.post(
        "/api/v1/orders",
        json={"item_id": made.json()["id"], "quantity": 1, "idempotency_key": key()},
        headers=resident.headers,
    )
    assert order.status_code == 201, order.text
    cancel = await client.post(f"/api/v1/orders/{order.json()['id']}/cancel", headers=resident.headers)
    assert cancel.status_code == 200 and cancel.json() == {"status": "cancelled"}, cancel.text


async def test_the_openapi_document_says_what_a_body_may_hold(client):
    """Each JSON body's schema (and each struct inside it) is closed, and its route documents 415."""
    document = (await client.get("/schema/openapi.json")).json()
    components = document["components"]["schemas"]
    checked = 0
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if not body:
                continue
            schema = body["content"]["application/json"]["schema"]
            refs = [schema] + schema.get("oneOf", []) + schema.get("anyOf", [])
            names = [ref["$ref"].rsplit("/", 1)[-1] for ref in refs if "$ref" in ref]
            assert names, (path, method, schema)
            for name in names:
                assert components[name].get("additionalProperties") is False, (path, method, name)
            assert "415" in operation["responses"], (path, method)
            checked += 1
    assert checked >= 25
    # Every other struct is closed too; the error shape alone leaves room for a field's name.
    objects = [name for name, schema in components.items() if "properties" in schema]
    open_ones = [name for name in objects if components[name].get("additionalProperties") is not False]
    assert open_ones == ["ErrorBody"], open_ones
