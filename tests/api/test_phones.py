"""Phone numbers are mainland mobile numbers in one form: the look-alike variants of a known
number (full-width digits, spaces, dashes, +86) are that number, other scripts' digits are
refused, wherever a phone enters (register, login, enrol, the admin command, forms)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts.models import User
from app.accounts.rules import phone_or_none
from app.accounts.services import normalise_phone
from app.core.errors import Invalid
from app.demo import ensure_admin
from tests.api.helpers import csrf_token, post_form, session_of
from tests.conftest import login, unique_phone

FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def look_alikes(phone: str) -> list[str]:
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return [
        spaced,
        f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        f"+86 {spaced}",
        f"+86-{phone}",
        f"0086{phone}",
        f"86{phone}",
        f" {phone}\t",
        phone.translate(FULL_WIDTH),
        f"+86 {spaced}".translate(FULL_WIDTH),
        f"{phone[:3]}\u3000{phone[3:7]}\u3000{phone[7:]}".translate(FULL_WIDTH),
        f"(+86) {phone}",
    ]


def foreign_digits(phone: str) -> list[str]:
    return [
        phone.translate(ARABIC_INDIC),
        phone.translate(DEVANAGARI),
        phone[:5] + phone[5:].translate(ARABIC_INDIC),
        "+86 " + phone.translate(DEVANAGARI),
    ]


@pytest.mark.parametrize("variant", look_alikes("13912345678"))
def test_look_alikes_of_a_mobile_number_are_that_number(variant):
    assert normalise_phone(variant) == "13912345678"


@pytest.mark.parametrize(
    "bad",
    [
        *foreign_digits("13912345678"),
        "12912345678",  # 12x is no mobile prefix
        "1391234567",
        "139123456789",
        "+1 139 1234 5678",
        "010-12345678",
        "",
        "１３９１２３４５６７８a",
        "13912345678\x00",
    ],
)
def test_anything_else_is_not_a_phone_number(bad):
    assert phone_or_none(bad) is None
    with pytest.raises(Invalid):
        normalise_phone(bad)


async def test_look_alikes_register_no_second_account_and_log_into_the_first(client, factory, db):
    tenant = await factory.tenant()
    phone = unique_phone()
    body = {"password": "s3cret-pass", "display_name": "周", "join_code": tenant.join_code}
    first = await client.post("/api/v1/auth/register", json={**body, "phone": phone})
    assert first.status_code == 201, first.text
    user_id = first.json()["user_id"]
    for variant in look_alikes(phone):
        again = await client.post("/api/v1/auth/register", json={**body, "phone": variant})
        assert again.status_code == 422 and again.json()["code"] == "validation_error", variant
        token = await client.post("/api/v1/auth/token", json={"phone": variant, "password": "s3cret-pass"})
        assert token.status_code == 200, variant
        assert token.json()["user"]["id"] == user_id
    for variant in foreign_digits(phone):
        refused = await client.post("/api/v1/auth/register", json={**body, "phone": variant})
        assert refused.status_code == 422 and refused.json()["code"] == "validation_error", variant
        denied = await client.post("/api/v1/auth/token", json={"phone": variant, "password": "s3cret-pass"})
        assert denied.status_code == 401, variant
    assert (
        await db.scalar(select(func.count()).select_from(User).where(User.phone.like(f"%{phone[3:]}%"))) == 1
    )


async def test_registering_with_full_width_digits_stores_the_plain_number(client, factory, db):
    tenant = await factory.tenant()
    phone = unique_phone()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": "＋８６ " + phone.translate(FULL_WIDTH),
            "password": "s3cret-pass",
            "display_name": "吴",
            "join_code": tenant.join_code,
        },
    )
    assert response.status_code == 201, response.text
    user = await db.get(User, response.json()["user_id"])
    assert user is not None and user.phone == phone


async def test_enrolling_a_look_alike_adds_the_existing_account(client, factory):
    home = await factory.tenant()
    other = await factory.tenant()
    person = await factory.person(home, name="林秀英")
    admin = await login(client, other.admin)
    url = f"/api/v1/communities/{other.community_id}/residents"
    assert person.phone is not None
    added = await client.post(
        url, json={"display_name": "林秀英", "phone": look_alikes(person.phone)[8]}, headers=admin.headers
    )
    assert added.status_code == 201 and added.json()["user_id"] == person.user_id
    again = await client.post(
        url, json={"display_name": "林秀英", "phone": look_alikes(person.phone)[2]}, headers=admin.headers
    )
    assert again.status_code == 409
    refused = await client.post(
        url, json={"display_name": "林秀英", "phone": foreign_digits(person.phone)[0]}, headers=admin.headers
    )
    assert refused.status_code == 422


async def test_the_admin_command_and_the_forms_use_the_same_number(client, factory, engine):
    tenant = await factory.tenant()
    assert tenant.admin.phone is not None
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        again = await ensure_admin(
            s,
            phone=look_alikes(tenant.admin.phone)[9],
            password=tenant.admin.password,
            community_name="别的社区-" + tenant.join_code,
            street_name="别的街道-" + tenant.join_code,
            display_name="管理员",
        )
    assert again["user_id"] == tenant.admin.user_id
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        with pytest.raises(Invalid):
            await ensure_admin(
                s,
                phone=foreign_digits(tenant.admin.phone)[0],
                password=tenant.admin.password,
                community_name="别的社区-x" + tenant.join_code,
                street_name="别的街道-x" + tenant.join_code,
                display_name="管理员",
            )
    # The login form takes what the phone's keyboard typed.
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={
            "phone": look_alikes(tenant.admin.phone)[7],
            "password": tenant.admin.password,
            "next": "/",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    client.cookies.clear()
    form = await post_form(
        client,
        "/register",
        {
            "phone": look_alikes(tenant.admin.phone)[0],
            "password": "s3cret-pass",
            "display_name": "冒名",
            "join_code": tenant.join_code,
        },
    )
    assert form.status_code == 422


async def test_the_residents_list_finds_a_number_however_it_is_typed(client, factory):
    tenant = await factory.tenant()
    person = await factory.person(tenant, name="黄志强")
    other = await factory.person(tenant, name="林秀英")
    assert person.phone is not None
    await session_of(client, tenant.admin)
    for typed in (look_alikes(person.phone)[8], look_alikes(person.phone)[0]):
        listing = await client.get(f"/admin/c/{tenant.community_id}/residents", params={"q": typed})
        assert listing.status_code == 200
        assert "黄志强" in listing.text and other.display_name not in listing.text


async def test_a_tail_of_a_number_in_full_width_digits_finds_its_holder(client, factory):
    tenant = await factory.tenant()
    person = await factory.person(tenant, name="黄志强")
    other = await factory.person(tenant, name="林秀英")
    assert person.phone is not None and other.phone is not None
    assert person.phone[-4:] not in other.phone
    await session_of(client, tenant.admin)
    tail = person.phone[-4:].translate(FULL_WIDTH)
    for url in (f"/admin/c/{tenant.community_id}/residents", f"/admin/c/{tenant.community_id}/approvals"):
        listing = await client.get(url, params={"q": tail})
        assert listing.status_code == 200
        assert "黄志强" in listing.text and other.display_name not in listing.text, url
