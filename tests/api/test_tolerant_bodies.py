"""A JSON body is read as Litestar reads it into the route's struct, and kiosks, scanners and
scripts depend on that: a field the struct does not name is ignored, and a body is JSON whatever
its Content-Type says. A value of the wrong kind is 422 naming the field, and nothing is stored."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import text

from tests.conftest import login


async def test_an_extra_field_and_another_media_type_are_read(client: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await factory.person(tenant)
    token = await client.post(
        "/api/v1/auth/token",
        json={"phone": resident.phone, "password": resident.password, "device": "HS-12 scanner"},
    )
    assert token.status_code == 200, token.text
    body = {
        "user_id": resident.user_id,
        "points": 5,
        "reason": "清洁家园",
        "idempotency_key": secrets.token_hex(8),
        "device": "HS-12",
    }
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/awards",
        content=json.dumps(body),
        headers={**admin.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert made.status_code == 201, made.text
    wallet = await client.get(
        "/api/v1/me/wallet",
        params={"community_id": tenant.community_id},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert wallet.json()["balance"] == 5


async def test_a_value_of_the_wrong_kind_is_422_naming_the_field_and_stores_nothing(
    client: Any, factory: Any, db: Any
) -> None:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await factory.person(tenant)
    key = secrets.token_hex(8)
    refused = await client.post(
        f"/api/v1/communities/{tenant.community_id}/awards",
        json={"user_id": resident.user_id, "points": "five", "reason": "清洁家园", "idempotency_key": key},
        headers=admin.headers,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "validation_error", refused.text
    assert "points" in refused.text
    stored = await db.scalar(
        text("SELECT count(*) FROM ledger_transfers WHERE idempotency_key LIKE :k"), {"k": f"%{key}%"}
    )
    assert stored == 0
