"""The residents form sent twice (a double tap on 添加, or a resend after a slow answer) enrols the
person once: one without a phone (an elder with a printed card) was enrolled twice, two accounts
with two wallets and two cards; one with a phone got "already a member" for the second sending."""

from __future__ import annotations

import re

import pytest

from app.accounts import services
from app.core.authz import Actor
from tests.api.helpers import post_form, session_of
from tests.conftest import count, sent_twice_at_once, unique_phone

ENROLLED = (
    "SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id "
    "WHERE m.community_id = :c AND u.display_name = :n"
)


@pytest.mark.parametrize("with_phone", [False, True], ids=["no_phone", "phone"])
async def test_the_residents_form_sent_twice_enrols_once(client, factory, db, with_phone):
    tenant = await factory.tenant()
    cid = tenant.community_id
    await session_of(client, tenant.admin)
    page = await client.get(f"/admin/c/{cid}/residents/new")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    name = f"双击添加的杨奶奶{int(with_phone)}"
    sent = {"display_name": name, "roles": "resident", "key": key}
    if with_phone:
        sent["phone"] = unique_phone()
    first, second = [await post_form(client, f"/admin/c/{cid}/residents", sent) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303), second.text[:300]
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, ENROLLED, c=cid, n=name) == 1
    assert await count(db, "SELECT count(*) FROM users WHERE display_name = :n", n=name) == 1


async def test_the_residents_form_committing_twice_at_once_enrols_once(factory, engine, db):
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = Actor(tenant.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    data = services.ResidentInput(phone=None, display_name="同时送达的杨奶奶")
    made, again = await sent_twice_at_once(
        engine, lambda s: services.add_resident(s, admin, cid, data, form_key="same-resident")
    )
    assert again.id == made.id
    assert await count(db, "SELECT count(*) FROM users WHERE display_name = '同时送达的杨奶奶'") == 1


async def test_a_refused_change_of_a_residents_details_comes_back_as_typed(client, factory):
    """The resident's details refused (a name emptied by mistake) came back as stored: the room
    changed beside it was silently lost when the name was put back and the form saved."""
    tenant = await factory.tenant()
    cid = tenant.community_id
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    await session_of(client, tenant.admin)
    url = f"/admin/c/{cid}/residents/{elder.user_id}"
    refused = await post_form(client, url, {"action": "details", "display_name": "", "room": "402"})
    assert refused.status_code == 422 and 'class="alert"' in refused.text
    assert 'name="room" maxlength="20" value="402"' in refused.text
    assert 'name="display_name" required maxlength="50" value=""' in refused.text
    shown = await client.get(url)
    assert 'name="display_name" required maxlength="50" value="杨依伯"' in shown.text
