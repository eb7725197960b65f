"""Behind the load balancer (nginx, DESIGN.md §3) every request comes from the balancer's address:
the limits per client address (wrong join codes, failed logins) and the addresses audit rows and
scans keep must be the client's, read from X-Forwarded-For as the trusted proxies wrote it, or one
client's wrong guesses lock everyone out. Without trusted proxies the header is not believed."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import delete

from app.accounts.models import AttemptCounter
from app.core import proxies
from tests.conftest import unique_phone

BODY = {"password": "s3cret-pass", "display_name": "试探"}


def _addresses() -> tuple[str, str]:
    return f"203.0.113.{secrets.randbelow(250) + 1}", f"198.51.100.{secrets.randbelow(250) + 1}"


async def _wrong_code(client: Any, forwarded_for: str) -> int:
    answer = await client.post(
        "/api/v1/auth/register",
        json={**BODY, "phone": unique_phone(), "join_code": "WRONG" + secrets.token_hex(3)},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return int(answer.status_code)


async def test_wrong_join_codes_count_per_client_behind_a_trusted_proxy(
    app: Any, client: Any, settings: Any, db: Any, monkeypatch: Any
) -> None:
    mallory, alice = _addresses()
    keys = [f"join:{mallory}", f"join:{alice}", "join:testclient"]
    await db.execute(delete(AttemptCounter).where(AttemptCounter.key.in_(keys)))
    await db.commit()
    # The test client's own address stands for the balancer's.
    monkeypatch.setitem(app.state, "settings", replace(settings, trusted_proxies=("testclient",)))
    try:
        # What mallory writes to the left of what the balancer heard is not believed.
        tries = [await _wrong_code(client, f"10.9.8.7, {mallory}") for _ in range(21)]
        assert tries == [422] * 20 + [429]
        assert await _wrong_code(client, alice) == 422  # another client is not locked out
    finally:
        await db.execute(delete(AttemptCounter).where(AttemptCounter.key.in_(keys)))
        await db.commit()


async def test_the_header_is_not_believed_from_anyone_else(client: Any, db: Any) -> None:
    mallory, _alice = _addresses()
    await db.execute(
        delete(AttemptCounter).where(AttemptCounter.key.in_(["join:testclient", f"join:{mallory}"]))
    )
    await db.commit()
    try:
        assert await _wrong_code(client, mallory) == 422
        counted = {row.key for row in (await db.execute(AttemptCounter.__table__.select())).all()}
        assert "join:testclient" in counted and f"join:{mallory}" not in counted
    finally:
        await db.execute(
            delete(AttemptCounter).where(AttemptCounter.key.in_(["join:testclient", f"join:{mallory}"]))
        )
        await db.commit()


def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote() -> None:
    trusted = ("10.0.0.0/8", "127.0.0.1")
    assert proxies.client_of("10.1.2.3", "203.0.113.5", trusted) == "203.0.113.5"
    assert proxies.client_of("10.1.2.3", "1.1.1.1, 203.0.113.5, 10.4.4.4", trusted) == "203.0.113.5"
    assert proxies.client_of("203.0.113.9", "1.1.1.1", trusted) == "203.0.113.9"  # not a proxy
    assert proxies.client_of("10.1.2.3", None, trusted) == "10.1.2.3"
    assert proxies.client_of("10.1.2.3", " , ", trusted) == "10.1.2.3"
    assert proxies.client_of("127.0.0.1", "10.0.0.5", trusted) == "10.0.0.5"  # only proxies: the first
    assert proxies.client_of("10.1.2.3", "203.0.113.5", ()) == "10.1.2.3"
