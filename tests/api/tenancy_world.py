"""Two communities in two streets, each with every kind of person the app knows, and one of them
(B, "theirs") with one of every object a path or a form can name: the district the route-table
tenancy test (test_tenancy_by_route.py) attacks B from A with.

Made through the API as B's own people would make it, and with a few rows written straight where
only a job or an upload makes them (an export run, an import run, a notice, photos, a payment)."""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts.models import StreetRole
from app.circle import photos as circle_photos
from app.core.authz import Actor
from app.events import codes
from app.places import services as places
from app.store import photos as store_photos
from tests.api.helpers import csrf_from
from tests.conftest import SECRET, Factory, Person, Tenant, login, unique, unique_phone

# Every name B's objects get carries this mark: an answer to one of A's people that shows it
# has leaked B's data.
MARK = "乙方机密"
ROLES_OF_A = ("admin", "resident", "grid_worker", "partner", "provider", "street_admin")
CHINA = timezone(timedelta(hours=8))


@dataclass
class Side:
    name: str
    tenant: Tenant
    people: dict[str, Person]
    cookies: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def community_id(self) -> int:
        return self.tenant.community_id


@dataclass
class TenancyWorld:
    mine: Side
    theirs: Side
    csrf_cookie: str
    csrf_token: str
    # What each of B's people may see of B: user ids, for scoping the snapshot.
    user_ids: list[int] = field(default_factory=list)
    organisation_ids: list[int] = field(default_factory=list)


def _ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code in (200, 201), (answer.request.url, answer.status_code, answer.text[:400])
    return dict(answer.json())


def key() -> str:
    return "tenancy-" + secrets.token_hex(8)


async def _side(client: Any, factory: Factory, engine: Any, name: str) -> Side:
    """A community with its admin, staff, resident, second resident, grid worker, volunteer, street
    admin, and a partner unit and a provider each with one member (its admin)."""
    tenant = await factory.tenant(unique(name))
    people: dict[str, Person] = {"admin": await login(client, tenant.admin)}
    for role, roles in (
        ("resident", ["resident"]),
        ("neighbour", ["resident"]),
        ("grid_worker", ["grid_worker", "resident"]),
        ("volunteer", ["volunteer", "resident"]),
        ("staff", ["staff", "resident"]),
    ):
        people[role] = await login(client, await factory.person(tenant, roles=roles, name=f"{name}{role}"))
    street_admin = await factory.person(tenant, roles=["resident"], name=f"{name}街道管理员")
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        s.add(StreetRole(user_id=street_admin.user_id, street_id=tenant.street_id, role="street_admin"))
    people["street_admin"] = await login(client, street_admin)
    admin = people["admin"].headers
    # Two of each kind of organisation: a member of one must not act for the other.
    for role in ("partner", "provider", "other_partner", "other_provider"):
        kind = role.removeprefix("other_")
        label = ("另" if role.startswith("other_") else "") + kind
        phone, password = unique_phone(), "member-" + secrets.token_hex(4)
        org_name = f"{name}{label}{secrets.token_hex(2)}"
        org = _ok(
            await client.post(
                f"/api/v1/communities/{tenant.community_id}/organisations",
                headers=admin,
                json={
                    "name": org_name,
                    "kinds": [kind],
                    "members": [{"phone": phone, "display_name": f"{name}{label}成员", "password": password}],
                    "lat": 26.08,
                    "lng": 119.3,
                },
            )
        )
        member = Person(org["member_user_ids"][0], phone, password, f"{name}{label}成员")
        people[role] = await login(client, member)
        # The organisation's id and name, kept alongside its member.
        people[role + "_org"] = Person(org["id"], None, "", org_name)
    side = Side(name, tenant, people)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        actor = Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})
        compound = await places.save_compound(s, actor, tenant.community_id, name=f"{name}小区")
        building = await places.save_building(
            s, actor, tenant.community_id, compound_id=compound.id, name=f"{name}1号楼"
        )
        await s.execute(
            text(
                "UPDATE memberships SET building_id = :b, compound_id = :c, room = '101' WHERE user_id = :u"
            ),
            {"b": building.id, "c": compound.id, "u": people["resident"].user_id},
        )
    side.values.update(compound_id=compound.id, building_id=building.id)
    return side


async def _cookie(client: Any, person: Person, csrf_cookie: str, token: str) -> str:
    """The person's session cookie, from the login form."""
    answer = await client.post(
        "/login",
        data={"phone": person.phone, "password": person.password, "next": "/", "_csrf_token": token},
        headers={"Cookie": f"jl_csrf={csrf_cookie}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    return str(answer.cookies["jl_session"])


async def _sql(engine: Any, sql: str, **params: Any) -> int:
    async with async_sessionmaker(engine)() as s, s.begin():
        return int((await s.execute(text(sql), params)).scalar_one())


async def _objects(client: Any, engine: Any, side: Side) -> None:
    """One of everything in the community, named with MARK."""
    p, cid, v = side.people, side.community_id, side.values
    admin, resident = p["admin"].headers, p["resident"].headers
    # Ten days ahead: no reminder job (a day ahead) of a live server on this database writes to it.
    start = (datetime.now(CHINA) + timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    this_year = datetime.now(CHINA).year
    event = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/events",
            headers=admin,
            json={
                "title": f"{side.name}活动",
                "category": "service",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "capacity": 20,
                "points_per_attendance": 5,
                "points_per_hour": 10,
                "organiser_ids": [p["volunteer"].user_id],
                "kiosk_enabled": True,
            },
        )
    )
    _ok(await client.post(f"/api/v1/events/{event['id']}/signups", headers=resident))
    award = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/awards",
            headers=admin,
            json={
                "user_id": p["resident"].user_id,
                "points": 500,
                "reason": f"{side.name}奖励",
                "idempotency_key": key(),
            },
        )
    )
    hold = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/holds",
            headers=admin,
            json={
                "user_id": p["resident"].user_id,
                "points": 5,
                "reason": f"{side.name}冻结",
                "idempotency_key": key(),
            },
        )
    )
    item = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/items",
            headers=admin,
            json={"name": f"{side.name}大米", "points_price": 10, "stock": 50},
        )
    )
    order = _ok(
        await client.post(
            "/api/v1/orders",
            headers=resident,
            json={"item_id": item["id"], "quantity": 1, "idempotency_key": key()},
        )
    )
    offer = _ok(
        await client.post(
            f"/api/v1/organisations/{p['provider_org'].user_id}/offers",
            headers=admin,
            json={"name": f"{side.name}理发", "points_price": 20},
        )
    )
    pending = _ok(
        await client.post(
            f"/api/v1/organisations/{p['provider_org'].user_id}/offers",
            headers=p["provider"].headers,
            json={"name": f"{side.name}修脚", "points_price": 20},
        )
    )
    voucher = _ok(
        await client.post(
            "/api/v1/vouchers", headers=resident, json={"offer_id": offer["id"], "idempotency_key": key()}
        )
    )
    wish = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/wishes",
            headers=resident,
            json={
                "title": f"{side.name}心愿",
                "description": f"{side.name}描述",
                "funding_goal_cents": 60_000,
            },
        )
    )
    _ok(await client.post(f"/api/v1/wishes/{wish['id']}/review", headers=admin, json={"decision": "publish"}))
    private = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/wishes", headers=resident, json={"title": f"{side.name}未审心愿"}
        )
    )
    claimed = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/wishes", headers=resident, json={"title": f"{side.name}已认领心愿"}
        )
    )
    _ok(
        await client.post(
            f"/api/v1/wishes/{claimed['id']}/review", headers=admin, json={"decision": "publish"}
        )
    )
    _ok(
        await client.post(
            f"/api/v1/wishes/{claimed['id']}/claim",
            headers=p["partner"].headers,
            json={"organisation_id": p["partner_org"].user_id},
        )
    )
    other_offer = _ok(
        await client.post(
            f"/api/v1/organisations/{p['other_provider_org'].user_id}/offers",
            headers=admin,
            json={"name": f"{side.name}另理发", "points_price": 20},
        )
    )
    other_voucher = _ok(
        await client.post(
            "/api/v1/vouchers",
            headers=resident,
            json={"offer_id": other_offer["id"], "idempotency_key": key()},
        )
    )
    other_claimed = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/wishes", headers=resident, json={"title": f"{side.name}另认领心愿"}
        )
    )
    _ok(
        await client.post(
            f"/api/v1/wishes/{other_claimed['id']}/review", headers=admin, json={"decision": "publish"}
        )
    )
    _ok(
        await client.post(
            f"/api/v1/wishes/{other_claimed['id']}/claim",
            headers=p["other_partner"].headers,
            json={"organisation_id": p["other_partner_org"].user_id},
        )
    )
    agreement = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/agreements",
            headers=admin,
            json={
                "organisation_id": p["partner_org"].user_id,
                "year": this_year,
                "commitments": {"resources": 2},
                "tasks": [{"title": f"{side.name}任务", "due_on": f"{this_year}-12-20"}],
            },
        )
    )
    resource = _ok(
        await client.post(
            f"/api/v1/organisations/{p['partner_org'].user_id}/resources",
            headers=p["partner"].headers,
            json={"community_id": cid, "title": f"{side.name}资源", "category": "legal"},
        )
    )
    need = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/needs",
            headers=p["grid_worker"].headers,
            json={"title": f"{side.name}需求", "category": "legal"},
        )
    )
    project = _ok(
        await client.post(
            f"/api/v1/communities/{cid}/projects",
            headers=admin,
            json={
                "title": f"{side.name}项目",
                "need_ids": [need["id"]],
                "resource_ids": [resource["id"]],
                "owner_user_id": p["staff"].user_id,
                "due_on": f"{this_year}-12-31",
                "funding_goal_cents": 300_000,
            },
        )
    )
    registration = _ok(
        await client.post(
            "/api/v1/registrations",
            headers=p["volunteer"].headers,
            json={"community_id": cid, "organisation_id": p["partner_org"].user_id},
        )
    )
    v.update(
        event_id=event["id"],
        transfer_id=award["transfer_id"],
        hold_id=hold["hold_id"],
        item_id=item["id"],
        order_id=order["id"],
        offer_id=offer["id"],
        pending_offer_id=pending["id"],
        voucher_id=voucher["id"],
        voucher_code=voucher["voucher_code"],
        pickup_code=order["pickup_code"],
        wish_id=wish["id"],
        claimed_wish_id=claimed["id"],
        private_wish_id=private["id"],
        other_offer_id=other_offer["id"],
        other_voucher_id=other_voucher["id"],
        other_voucher_code=other_voucher["voucher_code"],
        other_claimed_wish_id=other_claimed["id"],
        agreement_id=agreement["id"],
        resource_id=resource["id"],
        need_id=need["id"],
        project_id=project["id"],
        organisation_id=p["partner_org"].user_id,
        provider_id=p["provider_org"].user_id,
        member_id=p["partner"].user_id,
        user_id=p["resident"].user_id,
        street_id=side.tenant.street_id,
        community_id=cid,
        token=codes.certificate_token(SECRET, p["resident"].user_id, cid),
        registration_id=registration["id"],
    )
    await _rows(engine, side)


async def _rows(engine: Any, side: Side) -> None:
    """What only a job, an upload or Stripe makes: written straight."""
    v, p, cid = side.values, side.people, side.community_id
    admin = p["admin"].user_id
    v["task_id"] = await _sql(
        engine, "SELECT id FROM agreement_tasks WHERE agreement_id = :a", a=v["agreement_id"]
    )
    v["checkin_id"] = await _sql(
        engine,
        "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, checked_out_at,"
        " method_in, method_out, minutes, points, award_status)"
        " VALUES (:c, :e, :u, 1, now() - interval '2 hours',"
        " now() - interval '1 hour', 'witnessed', 'witnessed', 60, 15, 'pending') RETURNING id",
        c=cid,
        e=v["event_id"],
        u=p["resident"].user_id,
    )
    v["claim_id"] = await _sql(
        engine,
        "INSERT INTO hour_claims (community_id, user_id, what, worked_on, minutes, created_at)"
        " VALUES (:c, :u, :w, current_date, 60, now()) RETURNING id",
        c=cid,
        u=p["resident"].user_id,
        w=f"{side.name}服务时长",
    )
    v["run_id"] = await _sql(
        engine,
        "INSERT INTO export_runs (community_id, user_id, name, fmt, first_day, last_day, status, done_rows,"
        " total_rows, filename, body, finished_at, expires_at) VALUES (:c, :u, 'hours', 'csv', current_date,"
        " current_date, 'done', 1, 1, 'c-hours.csv', convert_to(:body, 'UTF8'), now(),"
        " now() + interval '1 day')"
        " RETURNING id",
        c=cid,
        u=admin,
        body=f"{side.name},1\n",
    )
    v["import_id"] = await _sql(
        engine,
        "INSERT INTO import_runs (community_id, user_id, filename, kind, status, total_rows)"
        " VALUES (:c, :u, 'residents.xlsx', 'xlsx', 'checked', 1) RETURNING id",
        c=cid,
        u=admin,
    )
    await _sql(
        engine,
        "INSERT INTO import_rows (run_id, row_no, phone_text, name, phone, roles, errors)"
        " VALUES (:r, 2, '12345', :n, NULL, '{resident}', '{phone_invalid}') RETURNING run_id",
        r=v["import_id"],
        n=f"{side.name}导入",
    )
    v["notice_id"] = await _sql(
        engine,
        "INSERT INTO notices (user_id, community_id, kind, params, key, url)"
        " VALUES (:u, :c, 'wish_published', jsonb_build_object('title', CAST(:t AS text)), :k, '/')"
        " RETURNING id",
        u=p["resident"].user_id,
        c=cid,
        t=f"{side.name}通知",
        k=key(),
    )
    v["story_id"] = await _sql(
        engine,
        "INSERT INTO wall_stories (community_id, title, body, happened_on, hidden, created_by)"
        " VALUES (:c, :t, :body, current_date, true, :u) RETURNING id",
        c=cid,
        t=f"{side.name}故事",
        body=f"{side.name}故事",
        u=admin,
    )
    v["honour_id"] = await _sql(
        engine,
        "INSERT INTO household_honours (community_id, compound_id, building_id, room, year, note, awarded_by)"
        " VALUES (:c, :cp, :b, '101', :y, :n, :u) RETURNING id",
        c=cid,
        cp=v["compound_id"],
        b=v["building_id"],
        y=date.today().year,
        n=f"{side.name}荣誉",
        u=admin,
    )
    for table in ("store_photos", "circle_photos"):
        v[table.replace("photos", "photo_file")] = filename = secrets.token_hex(16) + ".jpg"
        v[table] = await _sql(
            engine,
            f"INSERT INTO {table} (community_id, filename, content_type, size, width, height, uploaded_by)"  # noqa: S608
            " VALUES (:c, :f, 'image/jpeg', 10, 1, 1, :u) RETURNING id",
            c=cid,
            f=filename,
            u=admin,
        )
    v["contribution_id"] = await _sql(
        engine,
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, name,"
        " note, recorded_by) VALUES (:c, 'wish', :w, 'government', 30000, :n, :note, :u) RETURNING id",
        c=cid,
        w=v["wish_id"],
        n=f"{side.name}捐助",
        note=f"{side.name}捐助",
        u=admin,
    )
    session_id = "cs_test_" + secrets.token_hex(12)
    v["payment_id"] = await _sql(
        engine,
        "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, currency, status,"
        " idempotency_key, user_id, display_name, contact, session_id, payment_intent, refund_refused_at,"
        " refund_refusal, refund_refusals)"
        " VALUES (:c, 'donation', 'wish', :w, 5000, 'cny', 'paid', :k, :u, :n,"
        " :contact, :s, :pi, now(), 'card_declined', 1) RETURNING id",
        c=cid,
        w=v["wish_id"],
        k=key(),
        u=p["resident"].user_id,
        n=f"{side.name}捐款人",
        contact=f"{side.name}联系",
        s=session_id,
        pi="pi_" + secrets.token_hex(8),
    )
    await _sql(
        engine,
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, name,"
        " payment_id) VALUES (:c, 'wish', :w, 'online', 5000, '', :p) RETURNING id",
        c=cid,
        w=v["wish_id"],
        p=v["payment_id"],
    )
    v["checkout_session"] = v["session_id"] = session_id
    v["photo_id"] = v["store_photos"]


def _photo_naming(name: str) -> bytes:
    """A JPEG, as every file the app stores is (the store's photo tests read each stored file as
    one), with the community's name after its end, where the page of a wrong answer shows it."""
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, "JPEG")
    return out.getvalue() + name.encode()


async def build(client: Any, factory: Factory, engine: Any, uploads_dir: Path) -> TenancyWorld:
    mine = await _side(client, factory, engine, "甲方")
    theirs = await _side(client, factory, engine, MARK)
    for side in (mine, theirs):
        await _objects(client, engine, side)
        # The photos' files, whose bytes name the community: served to the wrong person, they show.
        store_photos.photo_path(uploads_dir, side.values["store_photo_file"]).parent.mkdir(
            parents=True, exist_ok=True
        )
        store_photos.photo_path(uploads_dir, side.values["store_photo_file"]).write_bytes(
            _photo_naming(side.name)
        )
        circle_photos.photo_path(uploads_dir, side.values["circle_photo_file"]).parent.mkdir(
            parents=True, exist_ok=True
        )
        circle_photos.photo_path(uploads_dir, side.values["circle_photo_file"]).write_bytes(
            _photo_naming(side.name)
        )
    # One form token for every page form of the sweep (its CSRF cookie goes with each request).
    client.cookies.clear()
    login_page = await client.get("/login")
    token = csrf_from(login_page.text)
    csrf_cookie = str(client.cookies.get("jl_csrf"))
    client.cookies.clear()
    for side in (mine, theirs):
        for role, person in side.people.items():
            if person.phone:
                side.cookies[role] = await _cookie(client, person, csrf_cookie, token)
    client.cookies.clear()
    world = TenancyWorld(mine, theirs, csrf_cookie, token)
    for side in (mine, theirs):
        world.user_ids += [p.user_id for r, p in side.people.items() if not r.endswith("_org")]
        world.organisation_ids += [p.user_id for r, p in side.people.items() if r.endswith("_org")]
    return world


def import_body() -> dict[str, Any]:
    return {
        "content_base64": base64.b64encode("姓名,手机\n张三,17699990001\n".encode()).decode(),
        "dry_run": True,
    }
