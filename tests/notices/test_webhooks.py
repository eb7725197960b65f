"""The outgoing webhook against a local receiver that really listens: an admin sets it on the
page, a notice reaches it signed (HMAC-SHA256 over the timestamp and the body), a failure is
tried again after the back-off and not before, and after the last attempt the delivery fails."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.uow import connection_of
from app.notices import jobs as notice_jobs
from app.notices import pages as notice_pages
from app.notices import services, webhooks
from tests.api.helpers import post_form, session_of
from tests.notices.receiver import Receiver
from tests.served_jobs import AHEAD, served_tick


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    """Each test's deliveries are stamped a day ahead of the wall clock: a served app's webhook job
    on this database (every minute, by the wall clock, refusing private addresses) would
    otherwise take one first, and the test's own run would find it not due."""
    clock.advance(AHEAD)
    yield
    clock.reset()


async def _run_job(engine) -> dict[str, int]:
    async with async_sessionmaker(engine)() as s, s.begin():
        return await webhooks.deliver_due(await connection_of(s), allow_private=True)


async def _delivery(db, notice_key: str) -> dict:
    row = (
        await db.execute(
            text(
                "SELECT d.status, d.attempts, d.last_code, d.next_attempt_at FROM notice_deliveries d "
                "JOIN notices n ON n.id = d.notice_id WHERE n.key = :k"
            ),
            {"k": notice_key},
        )
    ).one()
    return dict(row._mapping)


async def _notify(engine, user_id: int, community_id: int, key: str) -> None:
    async with async_sessionmaker(engine)() as s, s.begin():
        await services.notify(s, user_id=user_id, community_id=community_id, kind="test", key=key)


async def _set_up(client, site, receiver: Receiver) -> str:
    tenant, admin, _alice, _bob = site
    await session_of(client, admin)
    bad = await post_form(
        client, f"/admin/c/{tenant.community_id}/webhook", {"url": "ftp://x", "enabled": "1"}
    )
    assert bad.status_code == 200 and "https://" in bad.text
    saved = await post_form(
        client, f"/admin/c/{tenant.community_id}/webhook", {"url": receiver.url, "enabled": "1"}
    )
    assert saved.status_code == 303, saved.text
    page = await client.get(f"/admin/c/{tenant.community_id}/webhook")
    secret = page.text.split("data-secret>")[1].split("<")[0]
    assert secret.startswith("whsec_")
    return secret


async def test_a_notice_reaches_the_receiver_signed_and_a_failure_is_retried_after_the_backoff(
    client, site, engine, db, receiver
):
    tenant, admin, alice, _bob = site
    secret = await _set_up(client, site, receiver)
    receiver.statuses = [503, 200]
    key = f"test:hook:{alice.user_id}"
    await _notify(engine, alice.user_id, tenant.community_id, key)
    await served_tick(engine, notice_jobs.deliver_webhooks)  # leaves the test's delivery alone
    assert (await _delivery(db, key))["attempts"] == 0

    await _run_job(engine)
    assert len(receiver.received) == 1
    first = await _delivery(db, key)
    assert first["status"] == "pending" and first["attempts"] == 1 and first["last_code"] == 503
    await _run_job(engine)  # not due yet: the back-off holds it
    assert len(receiver.received) == 1

    clock.advance(webhooks.BACKOFF[0] + timedelta(seconds=1))
    await _run_job(engine)
    assert len(receiver.received) == 2
    done = await _delivery(db, key)
    assert done["status"] == "delivered" and done["attempts"] == 2 and done["last_code"] == 200
    await _run_job(engine)
    assert len(receiver.received) == 2  # delivered once, never again

    got = receiver.received[-1]
    assert got.path == "/hook"
    header = got.headers[webhooks.SIGNATURE_HEADER]
    assert header.startswith(f"t={got.headers[webhooks.TIMESTAMP_HEADER]},v1=")
    now = int(clock.now().timestamp())
    assert webhooks.verify(secret, header, got.body, now=now)
    assert not webhooks.verify(secret, header, got.body + b" ", now=now)
    assert not webhooks.verify("whsec_other", header, got.body, now=now)
    assert not webhooks.verify(secret, header, got.body, now=now + 3600)  # too old
    data = json.loads(got.body)
    assert data["kind"] == "test" and data["community_id"] == tenant.community_id
    assert data["recipient"]["user_id"] == alice.user_id and data["recipient"]["phone"] == alice.phone
    assert data["text"]["zh-Hans"]["title"] == "测试通知" and data["text"]["en"]["title"] == "Test notice"
    assert receiver.received[0].body == got.body  # a retry sends the same notice

    await session_of(client, admin)
    log = await client.get(f"/admin/c/{tenant.community_id}/webhook")
    assert 'data-status="delivered"' in log.text and "已送达" in log.text


async def test_a_delivery_never_answered_2xx_fails_after_the_last_attempt(client, site, engine, db, receiver):
    tenant, _admin, alice, _bob = site
    await _set_up(client, site, receiver)
    receiver.statuses = [500]
    key = f"test:fails:{alice.user_id}"
    await _notify(engine, alice.user_id, tenant.community_id, key)
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        await _run_job(engine)
        row = await _delivery(db, key)
        assert row["attempts"] == attempt
        assert row["status"] == ("failed" if attempt == webhooks.MAX_ATTEMPTS else "pending")
        clock.advance(webhooks.BACKOFF[min(attempt, len(webhooks.BACKOFF)) - 1] + timedelta(seconds=1))
    await _run_job(engine)
    assert (await _delivery(db, key))["attempts"] == webhooks.MAX_ATTEMPTS
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS


async def test_a_receiver_that_is_not_there_is_retried_and_nothing_is_queued_without_a_webhook(
    client, site, engine, db, receiver
):
    tenant, admin, alice, bob = site
    await _notify(engine, bob.user_id, tenant.community_id, "test:no-hook")
    assert (
        await db.execute(
            text(
                "SELECT count(*) FROM notice_deliveries d JOIN notices n ON n.id = d.notice_id "
                "WHERE n.key = :k"
            ),
            {"k": "test:no-hook"},
        )
    ).scalar() == 0
    await _set_up(client, site, receiver)
    receiver.stop()
    key = f"test:gone:{alice.user_id}"
    await _notify(engine, alice.user_id, tenant.community_id, key)
    await _run_job(engine)
    row = await _delivery(db, key)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_code"] is None


async def test_only_the_admin_sets_the_webhook(client, site):
    tenant, _admin, alice, _bob = site
    await session_of(client, alice)
    assert (await client.get(f"/admin/c/{tenant.community_id}/webhook")).status_code == 403
    refused = await post_form(
        client, f"/admin/c/{tenant.community_id}/webhook", {"url": "http://127.0.0.1:9/x"}
    )
    assert refused.status_code == 403


async def test_the_delivery_log_is_paged_with_its_count(client, site, engine, monkeypatch):
    """The log listed the latest 100 deliveries without a word of the others."""
    monkeypatch.setattr(notice_pages, "LOG_PAGE", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    made = []
    async with async_sessionmaker(engine)() as s, s.begin():
        for n in range(3):
            notice = (
                await s.execute(
                    text(
                        "INSERT INTO notices (user_id, community_id, kind, key, params) "
                        "VALUES (:u, :c, 'test', :k, '{}') RETURNING id"
                    ),
                    {"u": alice.user_id, "c": cid, "k": f"log:{cid}:{n}"},
                )
            ).scalar_one()
            made.append(
                (
                    await s.execute(
                        text(
                            "INSERT INTO notice_deliveries (community_id, notice_id, next_attempt_at, "
                            "created_at) VALUES (:c, :n, now(), now()) RETURNING id"
                        ),
                        {"c": cid, "n": notice},
                    )
                ).scalar_one()
            )
    await session_of(client, admin)
    seen: list[int] = []
    for number in (1, 2):
        page = (await client.get(f"/admin/c/{cid}/webhook?page={number}")).text
        assert "投递记录：3 条" in page and f"第 {number} 页，共 2 页" in page
        seen += [int(i) for i in re.findall(r'data-delivery="(\d+)"', page)]
    assert seen == made[::-1]  # each once, the newest first
