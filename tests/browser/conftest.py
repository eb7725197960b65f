"""The browser tests' district: the demo's, plus what the tests make through the API."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app import demo
from app.circle import demo as circle_demo
from app.events import codes
from app.partners import demo as partners_demo
from app.payments import gateway
from tests.conftest import SECRET

ROLES = (
    "anonymous",
    "resident",
    "volunteer",
    "grid_worker",
    "staff",
    "admin",
    "street_admin",
    "partner",
    "provider",
)
# The members the walk signs in as: a partner unit's (省疾控中心) and a provider's (老张理发店,
# whose offer the resident buys a voucher of below).
PARTNER_PHONE = partners_demo.UNITS[0][4][0]
PROVIDER_PHONE = circle_demo.MEMBER_PHONES["老张理发店"]


@dataclass
class World:
    url: str
    phones: dict[str, str]
    password: str
    values: dict[str, Any] = field(default_factory=dict)


def _seed_demo(database_url: str, uploads_dir: Path) -> None:
    async def run() -> None:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                await demo.seed(s, uploads_dir)
        finally:
            await engine.dispose()

    # Playwright's sync API may keep an event loop running in this thread: use another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def _token(http: httpx.Client, phone: str, password: str) -> dict[str, str]:
    answer = http.post("/api/v1/auth/token", json={"phone": phone, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def _export_run(database_url: str, user_id: int, community_id: int) -> int:
    """A finished export run of the admin's (the page of a long export a job made)."""

    async def run() -> int:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                return int(
                    (
                        await s.execute(
                            text(
                                "INSERT INTO export_runs (community_id, user_id, name, fmt, first_day,"
                                " last_day, status, done_rows, total_rows, filename, body, finished_at,"
                                " expires_at)"
                                " VALUES (:c, :u, 'hours', 'csv', current_date, current_date, 'done', 0, 0,"
                                " 'c0-hours.csv', '', now(), now() + interval '1 day') RETURNING id"
                            ),
                            {"c": community_id, "u": user_id},
                        )
                    ).scalar_one()
                )
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _recorded_contribution(database_url: str, community_id: int, wish_id: int, user_id: int) -> None:
    """Government money the admin recorded towards the wish's goal: the goal's page offers to
    correct it (the correction form is on the page every role that opens it sees)."""

    async def run() -> None:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                await s.execute(
                    text(
                        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source,"
                        " amount_cents, name, note, recorded_by)"
                        " VALUES (:c, 'wish', :w, 'government', 30000, '东街街道办事处', '专项资金', :u)"
                    ),
                    {"c": community_id, "w": wish_id, "u": user_id},
                )
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def _import_run(database_url: str, user_id: int, community_id: int) -> int:
    """A file of residents the admin uploaded and the dry run checked: one row to import, one
    refused (the page of an import waiting for its confirmation)."""

    async def run() -> int:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                run_id = int(
                    (
                        await s.execute(
                            text(
                                "INSERT INTO import_runs (community_id, user_id, filename, kind, status,"
                                " total_rows) VALUES (:c, :u, 'residents.xlsx', 'xlsx', 'checked', 2)"
                                " RETURNING id"
                            ),
                            {"c": community_id, "u": user_id},
                        )
                    ).scalar_one()
                )
                await s.execute(
                    text(
                        "INSERT INTO import_rows (run_id, row_no, phone_text, name, phone, roles, errors)"
                        " VALUES (:r, 2, '17699990001', '张三', '17699990001', '{resident}', '{}'),"
                        " (:r, 3, '12345', '李四', NULL, '{resident}', '{phone_invalid}')"
                    ),
                    {"r": run_id},
                )
                return run_id
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def world(live_server: Any) -> World:
    """The demo district plus, through the API: an event the volunteer organises tomorrow, the
    resident's sign-up to it and an order waiting at the counter."""
    # With the demo's pictures, so that the pages show the photos a person would have uploaded.
    _seed_demo(live_server.env["DATABASE_URL"], Path(live_server.env["JINLIN_DATA_DIR"]) / "uploads")
    phones = {label: str(phone) for label, phone, *_rest in reversed(demo.PEOPLE) if phone}
    phones["street_admin"] = demo.STREET_ADMIN[1]
    phones["partner"] = PARTNER_PHONE
    phones["provider"] = PROVIDER_PHONE
    w = World(live_server.url, phones, demo.DEMO_PASSWORD)
    with httpx.Client(base_url=w.url, timeout=30) as http:
        auth = {role: _token(http, phone, w.password) for role, phone in phones.items()}
        me = {role: _ok(http.get("/api/v1/me", headers=headers)) for role, headers in auth.items()}
        cid = next(m["community_id"] for m in me["admin"]["memberships"] if "admin" in m["roles"])
        resident = me["resident"]["id"]
        china = timezone(timedelta(hours=8))
        start = (datetime.now(china) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        event = _ok(
            http.post(
                f"/api/v1/communities/{cid}/events",
                headers=auth["admin"],
                json={
                    "title": "联邦新城义诊志愿服务",
                    "category": "service",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=2)).isoformat(),
                    "capacity": 20,
                    "points_per_attendance": 5,
                    "points_per_hour": 10,
                    "organiser_ids": [me["volunteer"]["id"]],
                    "kiosk_enabled": True,
                },
            )
        )
        _ok(http.post(f"/api/v1/events/{event['id']}/signups", headers=auth["resident"]))
        # Tomorrow's kiosk shows when check-in opens; this one, starting within the hour, its code.
        soon = datetime.now(china) + timedelta(minutes=30)
        open_event = _ok(
            http.post(
                f"/api/v1/communities/{cid}/events",
                headers=auth["admin"],
                json={
                    "title": "联邦新城楼道清洁",
                    "category": "service",
                    "starts_at": soon.isoformat(),
                    "ends_at": (soon + timedelta(hours=2)).isoformat(),
                    "capacity": 20,
                    "points_per_attendance": 5,
                    "points_per_hour": 10,
                    "organiser_ids": [me["volunteer"]["id"]],
                    "kiosk_enabled": True,
                },
            )
        )
        award = _ok(
            http.post(
                f"/api/v1/communities/{cid}/awards",
                headers=auth["admin"],
                json={
                    "user_id": resident,
                    "points": 200,
                    "reason": "参加义诊志愿服务",
                    "idempotency_key": "every-page-" + secrets.token_hex(6),
                },
            )
        )
        items = _ok(http.get(f"/api/v1/communities/{cid}/items", headers=auth["resident"]))["items"]
        item = min((i for i in items if i["stock"] > 0), key=lambda i: i["points_price"])
        order = _ok(
            http.post(
                "/api/v1/orders",
                headers=auth["resident"],
                json={
                    "item_id": item["id"],
                    "quantity": 1,
                    "idempotency_key": "every-page-" + secrets.token_hex(6),
                },
            )
        )
        # A partner unit with this year's agreement, a resource, a need and a project of them.
        organisation = _ok(
            http.post(
                f"/api/v1/communities/{cid}/organisations",
                headers=auth["admin"],
                json={
                    "name": "every-page 县司法局 " + secrets.token_hex(3),
                    "kinds": ["partner"],
                    "members": [{"phone": phones["volunteer"], "display_name": "李星"}],
                },
            )
        )
        agreement = _ok(
            http.post(
                f"/api/v1/communities/{cid}/agreements",
                headers=auth["admin"],
                json={
                    "organisation_id": organisation["id"],
                    "year": start.year,
                    "commitments": {"resources": 2, "volunteer_hours": 20},
                    "tasks": [{"title": "法律咨询进社区", "due_on": f"{start.year}-12-20"}],
                },
            )
        )
        resource = _ok(
            http.post(
                f"/api/v1/organisations/{organisation['id']}/resources",
                headers=auth["volunteer"],
                json={"community_id": cid, "title": "律师每周值班", "category": "legal"},
            )
        )
        need = _ok(
            http.post(
                f"/api/v1/communities/{cid}/needs",
                headers=auth["grid_worker"],
                json={"title": "独居老人遗嘱咨询", "category": "legal"},
            )
        )
        project = _ok(
            http.post(
                f"/api/v1/communities/{cid}/projects",
                headers=auth["admin"],
                json={
                    "title": "法律服务进小区",
                    "need_ids": [need["id"]],
                    "resource_ids": [resource["id"]],
                    "owner_user_id": me["staff"]["id"],
                    "due_on": f"{start.year}-12-31",
                    "funding_goal_cents": 300_000,
                },
            )
        )
        # A wish the resident posted and the admin published: every member of the community and
        # the unit's member may open its page.
        wish = _ok(
            http.post(
                f"/api/v1/communities/{cid}/wishes",
                headers=auth["resident"],
                json={
                    "title": "修一修楼道的灯",
                    "description": "晚上回家看不清台阶",
                    "funding_goal_cents": 60_000,
                },
            )
        )
        _ok(
            http.post(
                f"/api/v1/wishes/{wish['id']}/review", headers=auth["admin"], json={"decision": "publish"}
            )
        )
        # The service circle: the demo's offer nearest the resident and a voucher they bought.
        offers = _ok(http.get(f"/api/v1/communities/{cid}/offers", headers=auth["resident"]))["items"]
        offer = next(
            o
            for o in offers
            if o["cash_price_cents"] == 0
            and circle_demo.MEMBER_PHONES.get(o["organisation_name"]) == PROVIDER_PHONE
        )
        voucher = _ok(
            http.post(
                "/api/v1/vouchers",
                headers=auth["resident"],
                json={"offer_id": offer["id"], "idempotency_key": "every-page-" + secrets.token_hex(6)},
            )
        )
        # Money: the live server uses the offline test Stripe, as after `jinlin demo` with no key;
        # a donation to the wish's funding goal waits on its test-payment page.
        gateway.enable_offline(Path(live_server.env["JINLIN_DATA_DIR"]))
        donation = _ok(
            http.post(
                f"/api/v1/wishes/{wish['id']}/donations",
                headers=auth["resident"],
                json={"amount_cents": 5_000, "idempotency_key": "every-page-" + secrets.token_hex(6)},
            )
        )
    _recorded_contribution(live_server.env["DATABASE_URL"], cid, wish["id"], me["admin"]["id"])
    w.values = {
        "provider_id": offer["organisation_id"],
        "offer_id": offer["id"],
        "voucher_id": voucher["id"],
        "wish_id": wish["id"],
        "payment_id": donation["donation_id"],
        "checkout_session": donation["checkout_url"].rsplit("/", 1)[-1],
        "organisation_id": organisation["id"],
        "member_id": organisation["member_user_ids"][0],
        "agreement_id": agreement["id"],
        "project_id": project["id"],
        "community_id": cid,
        "street_id": me["street_admin"]["street_admin_of"][0],
        "user_id": resident,
        "event_id": event["id"],
        "open_event_id": open_event["id"],
        "order_id": order["id"],
        "item_id": item["id"],
        "transfer_id": award["transfer_id"],
        "token": codes.certificate_token(SECRET, resident, cid),
        "run_id": _export_run(live_server.env["DATABASE_URL"], me["admin"]["id"], cid),
        "import_id": _import_run(live_server.env["DATABASE_URL"], me["admin"]["id"], cid),
    }
    return w


def log_in(page: Any, world: World, role: str) -> None:
    """Signs the page's browser context in as the role through the login form, posted by the
    context's own HTTP client (it keeps the context's cookies): typed into a page, every test
    would have Chromium load the login page and the home page once more per context. The form
    typed by a person is driven by the journeys (tests/events/test_browser_journey.py)."""
    http = page.context.request
    form = http.get(world.url + "/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', form.text())
    assert token, "the login page carries a CSRF token"
    answer = http.post(
        world.url + "/login",
        form={
            "phone": world.phones[role],
            "password": world.password,
            "_csrf_token": token.group(1),
            "next": "/",
        },
        headers={"X-CSRFToken": token.group(1)},
        max_redirects=0,
    )
    assert answer.status == 303, f"{role} could not log in: {answer.status} {answer.text()[:300]}"
    assert "/login" not in answer.headers.get("location", ""), f"{role} could not log in"
