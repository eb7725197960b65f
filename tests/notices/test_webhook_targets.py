"""The outgoing webhook posts only where the server may: an address whose name resolves into a
loopback, link-local, private, multicast or unspecified network is refused on the page when it is
saved, and again at each delivery (a name's DNS answer can change after it was saved); the
delivery connects to the address that was checked, naming the host in its Host header."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.errors import Invalid
from app.core.uow import connection_of
from app.notices import jobs as notice_jobs
from app.notices import outbound, services, webhooks
from tests.api.helpers import post_form, session_of
from tests.notices.receiver import Receiver
from tests.served_jobs import AHEAD, served_tick

PUBLIC = "93.184.216.34"  # a public address: nothing is ever sent to it here


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    """Each test's deliveries are stamped a day ahead of the wall clock: a served app's webhook job
    on this database (every minute, by the wall clock, with its own DNS answers) would otherwise
    take one first, and the test's own run would find it not due."""
    clock.advance(AHEAD)
    yield
    clock.reset()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names of our own, answered from this table; other names and literals as usual."""
    table: dict[str, list[str]] = {}
    real = outbound.lookup

    async def lookup(host: str, port: int) -> list[str]:
        return list(table[host]) if host in table else await real(host, port)

    monkeypatch.setattr(outbound, "lookup", lookup)
    return table


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.10", "private"),
        ("100.64.0.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("8.8.8.8", None),
        (PUBLIC, None),
        ("2606:4700::1111", None),
    ],
)
def test_each_address_is_judged_by_its_network(address: str, kind: str | None) -> None:
    assert outbound.network_kind(ipaddress.ip_address(address)) == kind


def test_the_setting_opens_loopback_and_private_networks_only() -> None:
    def refused(address: str, allow: bool) -> str | None:
        return outbound.refusal(ipaddress.ip_address(address), allow_private=allow)

    assert refused("127.0.0.1", False) == "loopback" and refused("127.0.0.1", True) is None
    assert refused("10.0.0.5", False) == "private" and refused("10.0.0.5", True) is None
    for never in ("169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0"):
        assert refused(never, True) is not None


async def test_a_name_with_any_address_not_allowed_is_refused(dns: dict[str, list[str]]) -> None:
    dns["mixed.example"] = [PUBLIC, "10.0.0.5"]
    with pytest.raises(outbound.Refused) as refused:
        await outbound.check("https://mixed.example/hook", allow_private=False)
    assert refused.value.reason == "private" and refused.value.address == "10.0.0.5"
    dns["fine.example"] = [PUBLIC]
    target = await outbound.check("https://fine.example:8443/hook", allow_private=False)
    assert target.host == "fine.example" and target.addresses == (PUBLIC,)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://inside.example/hook",
    ],
)
async def test_an_address_into_a_private_network_is_refused_without_the_setting(
    engine, site, dns: dict[str, list[str]], url: str
) -> None:
    dns["inside.example"] = ["192.168.0.20"]
    tenant, admin, _alice, _bob = site
    async with async_sessionmaker(engine)() as s:
        with pytest.raises(Invalid) as refused:
            await webhooks.configure(
                s, tenant.community_id, url=url, enabled=True, new_key=False, actor_id=admin.user_id
            )
        assert refused.value.detail == webhooks.NOT_PUBLIC
        assert await webhooks.webhook_of(s, tenant.community_id) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://224.0.0.251/hook",
        "http://0.0.0.0:8000/hook",
        "http://metadata.example/computeMetadata/v1/",
    ],
)
async def test_the_page_refuses_a_link_local_or_multicast_address_even_with_the_setting(
    client, site, dns: dict[str, list[str]], db, url: str
) -> None:
    dns["metadata.example"] = ["169.254.169.254"]
    tenant, admin, _alice, _bob = site
    await session_of(client, admin)
    answer = await post_form(client, f"/admin/c/{tenant.community_id}/webhook", {"url": url, "enabled": "1"})
    assert answer.status_code == 200
    assert 'role="alert"' in answer.text and "链路本地" in answer.text
    assert f'value="{url}"' in answer.text  # what was typed stays in the form
    assert await webhooks.webhook_of(db, tenant.community_id) is None


async def test_the_page_says_when_a_name_does_not_resolve_and_saves_a_public_address(
    client, site, db
) -> None:
    tenant, admin, _alice, _bob = site
    await session_of(client, admin)
    page = f"/admin/c/{tenant.community_id}/webhook"
    unknown = await post_form(client, page, {"url": "https://nowhere.invalid/hook", "enabled": "1"})
    assert unknown.status_code == 200 and "拼写" in unknown.text
    assert await webhooks.webhook_of(db, tenant.community_id) is None
    saved = await post_form(client, page, {"url": f"https://{PUBLIC}/hook", "enabled": "1"})
    assert saved.status_code == 303
    found = await webhooks.webhook_of(db, tenant.community_id)
    assert found is not None and found.url == f"https://{PUBLIC}/hook"


async def _saved_and_notified(engine, site, url: str, key: str, *, allow_private: bool) -> None:
    tenant, admin, alice, _bob = site
    async with async_sessionmaker(engine)() as s, s.begin():
        await webhooks.configure(
            s,
            tenant.community_id,
            url=url,
            enabled=True,
            new_key=False,
            actor_id=admin.user_id,
            allow_private=allow_private,
        )
        await services.notify(
            s, user_id=alice.user_id, community_id=tenant.community_id, kind="test", key=key
        )


async def _deliver(engine, *, allow_private: bool) -> None:
    async with async_sessionmaker(engine)() as s, s.begin():
        await webhooks.deliver_due(await connection_of(s), allow_private=allow_private)


async def _delivery(db, key: str) -> dict:
    row = (
        await db.execute(
            text(
                "SELECT d.status, d.attempts, d.last_code, d.last_error FROM notice_deliveries d "
                "JOIN notices n ON n.id = d.notice_id WHERE n.key = :k"
            ),
            {"k": key},
        )
    ).one()
    return dict(row._mapping)


async def test_a_name_that_resolves_into_loopback_after_it_was_saved_is_not_posted_to(
    engine, db, site, receiver: Receiver, dns: dict[str, list[str]]
) -> None:
    port = receiver.server.server_address[1]
    dns["gateway.example"] = [PUBLIC]  # public when the admin saves it
    key = f"test:rebound:{site[2].user_id}"
    await _saved_and_notified(engine, site, f"http://gateway.example:{port}/hook", key, allow_private=False)
    await served_tick(engine, notice_jobs.deliver_webhooks)  # leaves the test's delivery alone
    assert (await _delivery(db, key))["attempts"] == 0
    dns["gateway.example"] = ["127.0.0.1"]  # and the server itself when the notice goes
    await _deliver(engine, allow_private=False)
    row = await _delivery(db, key)
    assert receiver.received == []
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_code"] is None
    assert "loopback 127.0.0.1" in row["last_error"]


async def test_a_delivery_goes_to_the_checked_address_with_the_name_in_its_host_header(
    engine, db, site, receiver: Receiver, dns: dict[str, list[str]]
) -> None:
    # The name exists only in the checked table: a second lookup by the HTTP client would fail.
    port = receiver.server.server_address[1]
    dns["gateway.premises.example"] = ["127.0.0.1"]
    key = f"test:premises:{site[2].user_id}"
    url = f"http://gateway.premises.example:{port}/hook"
    await _saved_and_notified(engine, site, url, key, allow_private=True)
    await _deliver(engine, allow_private=True)
    row = await _delivery(db, key)
    assert row["status"] == "delivered", row
    got = receiver.received[-1]
    assert got.path == "/hook" and got.headers["Host"] == f"gateway.premises.example:{port}"
