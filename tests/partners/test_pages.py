"""The partners' pages through the test client, as a browser would use them: forms with CSRF,
both languages, no phone number anywhere, refusals shown on the page with what was typed."""

from __future__ import annotations

import re
from typing import Any

from app.core import clock, organisations
from app.partners import pages
from tests.api.helpers import post_form, session_of
from tests.conftest import unique, unique_phone
from tests.partners.conftest import Town, make_agreement, make_organisation, phone_in

EN = {"Accept-Language": "en"}


async def test_admin_makes_an_organisation_and_an_agreement_through_the_pages(
    client: Any, town: Town
) -> None:
    await session_of(client, town.admin)
    page = await client.get(f"/partners/admin/c/{town.community_id}")
    assert page.status_code == 200 and "共建单位与协议" in page.text
    name = unique("石竹卫生服务中心")
    phone = unique_phone()
    made = await post_form(
        client,
        f"/partners/admin/c/{town.community_id}/organisations",
        {"name": name, "kinds": "partner", "display_name": "刘主任", "phone": phone, "category": "医疗"},
    )
    assert made.status_code == 303, made.text
    organisation_url = made.headers["location"].split("?")[0]
    organisation_id = int(organisation_url.rsplit("/", 1)[1])
    shown = await client.get(made.headers["location"])
    assert name in shown.text and "刘主任" in shown.text
    assert not phone_in(shown.text)
    refused = await post_form(
        client,
        f"/partners/admin/c/{town.community_id}/organisations",
        {
            "name": name,
            "kinds": "partner",
            "display_name": "重名",
            "phone": unique_phone(),
            "address": "石竹路8号",
        },
    )
    assert refused.status_code == 409
    assert "石竹路8号" in refused.text and "alert" in refused.text
    year = clock.local(clock.now()).year
    signed = await post_form(
        client,
        f"/partners/admin/c/{town.community_id}/agreements",
        {"organisation_id": organisation_id, "year": year, "wishes": "6", "volunteer_hours": "40"},
    )
    assert signed.status_code == 303, signed.text
    agreement_url = signed.headers["location"].split("?")[0]
    task = await post_form(
        client,
        f"{agreement_url}/tasks",
        {"title": "重阳节健康义诊", "due_on": f"{year}-10-29"},
    )
    assert task.status_code == 303
    sheet = await client.get(agreement_url)
    assert sheet.status_code == 200
    assert "重阳节健康义诊" in sheet.text and "print.css" in sheet.text and "共建协议" in sheet.text
    task_id = re.search(r'action="/partners/tasks/(\d+)"', sheet.text)
    assert task_id
    done = await post_form(client, f"/partners/tasks/{task_id.group(1)}", {"done": "1"})
    assert done.status_code == 303
    assert "✓" in (await client.get(agreement_url)).text
    english = await client.get(agreement_url, headers=EN)
    assert "Co-building agreement" in english.text and "Annual task list" in english.text


async def test_the_member_office_home_shows_agreements_and_takes_resources(client: Any, town: Town) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    await make_agreement(client, town, organisation_id, clock.local(clock.now()).year, resources=2)
    await session_of(client, member)
    home = await client.get("/")
    assert home.status_code == 200
    mine = await client.get("/partners")
    assert f"/partners/o/{organisation_id}" in mine.text
    listed = await post_form(
        client,
        f"/partners/o/{organisation_id}/resources",
        {"community_id": town.community_id, "title": "健康讲座每月一次", "category": "medical"},
    )
    assert listed.status_code == 303, listed.text
    office = await client.get(f"/partners/o/{organisation_id}")
    assert "健康讲座每月一次" in office.text
    assert re.search(r"<td[^>]*>2</td>\s*<td[^>]*>1</td>\s*<td[^>]*>.*50%", office.text, re.S)
    assert not phone_in(office.text)
    # The resident of the community is not shown another organisation's office.
    await session_of(client, town.resident)
    assert (await client.get(f"/partners/o/{organisation_id}")).status_code == 404


async def test_lists_matching_and_a_project_step_through_the_pages(client: Any, town: Town) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    await client.post(
        f"/api/v1/organisations/{organisation_id}/resources",
        json={"community_id": town.community_id, "title": "律师值班", "category": "legal"},
        headers=member.headers,
    )
    await session_of(client, town.grid)
    need = await post_form(
        client,
        f"/partners/c/{town.community_id}/needs",
        {"title": "遗产纠纷咨询", "category": "legal"},
    )
    assert need.status_code == 303
    matching = await client.get(f"/partners/c/{town.community_id}/matching")
    assert "遗产纠纷咨询" in matching.text and "律师值班" in matching.text
    await session_of(client, town.admin)
    page = await client.get(f"/partners/c/{town.community_id}/lists")
    need_id = re.search(r'name="need_ids" value="(\d+)"', page.text)
    resource_id = re.search(r'name="resource_ids" value="(\d+)"', page.text)
    assert need_id and resource_id
    made = await post_form(
        client,
        f"/partners/c/{town.community_id}/projects",
        {
            "title": "法律服务进社区",
            "need_ids": need_id.group(1),
            "resource_ids": resource_id.group(1),
            "owner_user_id": town.staff.user_id,
            "due_on": "2030-05-01",
            "funding_goal": "1200",
        },
    )
    assert made.status_code == 303, made.text
    project_url = made.headers["location"].split("?")[0]
    stepped = await post_form(
        client,
        f"{project_url}/step",
        {"status": "in_progress", "note": "已联系律师"},
    )
    assert stepped.status_code == 303
    shown = await client.get(project_url)
    assert "已联系律师" in shown.text and "1,200.00" in shown.text
    empty = await post_form(client, f"{project_url}/step", {"status": "done", "note": ""})
    assert empty.status_code == 422 and "alert" in empty.text
    await session_of(client, town.grid)
    matching = await client.get(f"/partners/c/{town.community_id}/matching")
    assert "遗产纠纷咨询" not in matching.text


async def test_in_service_registration_through_the_pages(client: Any, town: Town) -> None:
    organisation_id, _ = await make_organisation(client, town)
    await session_of(client, town.resident)
    form = await client.get("/partners/register")
    assert form.status_code == 200
    sent = await post_form(
        client,
        "/partners/register",
        {"community_id": town.community_id, "organisation_id": organisation_id},
    )
    assert sent.status_code == 303
    assert "等待确认" in (await client.get("/partners/register")).text
    await session_of(client, town.admin)
    listed = await client.get(f"/partners/admin/c/{town.community_id}/registrations")
    registration_id = re.search(r'action="/partners/registrations/(\d+)"', listed.text)
    assert registration_id and "郑美玉" in listed.text
    assert not phone_in(listed.text)
    decided = await post_form(
        client,
        f"/partners/registrations/{registration_id.group(1)}",
        {"decision": "confirm"},
    )
    assert decided.status_code == 303
    await session_of(client, town.resident)
    english = await client.get("/partners/register", headers=EN)
    assert "Confirmed" in english.text


async def test_pages_refuse_those_without_the_right(client: Any, town: Town) -> None:
    await session_of(client, town.resident)
    for path in (
        f"/partners/admin/c/{town.community_id}",
        f"/partners/admin/c/{town.community_id}/registrations",
        f"/partners/c/{town.community_id}/lists",
        f"/partners/c/{town.community_id}/matching",
    ):
        answer = await client.get(path)
        assert answer.status_code == 403, path


async def test_a_member_who_lives_elsewhere_finds_the_office_on_the_home_page(
    client: Any, town: Town
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    await session_of(client, member)
    home = await client.get("/")
    assert home.status_code == 200
    assert f'href="/partners/o/{organisation_id}"' in home.text and "我的单位" in home.text
    assert "您还没有加入任何社区，" not in home.text
    await session_of(client, town.resident)
    assert "/partners/o/" not in (await client.get("/")).text


async def test_no_phone_number_on_any_partner_page_or_answer(client: Any, town: Town) -> None:
    organisation_id, (member,) = await make_organisation(client, town, members=1)
    year = clock.local(clock.now()).year
    agreement_id = await make_agreement(client, town, organisation_id, year, resources=1)
    resource = await client.post(
        f"/api/v1/organisations/{organisation_id}/resources",
        json={"community_id": town.community_id, "title": "义诊", "category": "medical"},
        headers=member.headers,
    )
    need = await client.post(
        f"/api/v1/communities/{town.community_id}/needs",
        json={"title": "体检", "category": "medical"},
        headers=town.grid.headers,
    )
    project = await client.post(
        f"/api/v1/communities/{town.community_id}/projects",
        json={
            "title": "上门体检",
            "need_ids": [need.json()["id"]],
            "resource_ids": [resource.json()["id"]],
            "owner_user_id": member.user_id,
            "due_on": f"{year}-12-01",
        },
        headers=town.admin.headers,
    )
    await client.post(
        "/api/v1/registrations",
        json={"community_id": town.community_id, "organisation_id": organisation_id},
        headers=town.resident.headers,
    )
    c = town.community_id
    answers = [
        await client.get(path, headers=person.headers)
        for person, path in [
            (member, f"/api/v1/organisations/{organisation_id}/agreements"),
            (town.admin, f"/api/v1/organisations/{organisation_id}/agreements"),
            (member, f"/api/v1/communities/{c}/resources"),
            (member, f"/api/v1/communities/{c}/needs"),
            (member, f"/api/v1/communities/{c}/projects"),
        ]
    ]
    for who, paths in [
        (
            member,
            ["/", "/partners", f"/partners/o/{organisation_id}", f"/partners/agreements/{agreement_id}"],
        ),
        (
            town.admin,
            [
                "/",
                f"/partners/admin/c/{c}",
                f"/partners/admin/c/{c}/registrations",
                f"/partners/c/{c}/lists",
                f"/partners/c/{c}/matching",
                f"/partners/projects/{project.json()['id']}",
                f"/partners/o/{organisation_id}",
            ],
        ),
    ]:
        await session_of(client, who)
        answers += [await client.get(path) for path in paths]
    for answer in answers:
        assert answer.status_code == 200, (answer.url, answer.text[:300])
        assert not phone_in(answer.text), answer.url
    assert member.phone and all(member.phone not in a.text for a in answers)


async def test_other_domains_add_sections_to_the_office_page_for_members_only(
    client: Any, town: Town
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    seen: list[tuple[int, list[int]]] = []

    async def wishes(session: Any, actor: Any, org_id: int, acting: list[int]) -> pages.OfficePart:
        seen.append((org_id, acting))
        return pages.OfficePart(
            "partners/_office_section.html",
            {"title": "Wishes open to us", "entries": [("修插座", "/wishes/1")], "empty": "None"},
        )

    async def shop(session: Any, actor: Any, org_id: int, acting: list[int]) -> pages.OfficePart:
        return pages.OfficePart(
            "partners/_office_section.html",
            {"title": "Our shop", "entries": [("理发", "/circle/shop/1")], "empty": "None"},
        )

    organisations.office_part("partner")(wishes)
    organisations.office_part("provider")(shop)
    try:
        await session_of(client, member)
        office = await client.get(f"/partners/o/{organisation_id}")
        await session_of(client, town.admin)
        as_admin = await client.get(f"/partners/o/{organisation_id}")
    finally:
        organisations._office_parts.remove(("partner", wishes))
        organisations._office_parts.remove(("provider", shop))
    assert "修插座" in office.text and 'href="/wishes/1"' in office.text
    assert seen[0] == (organisation_id, [town.community_id])
    assert "修插座" not in as_admin.text
    # A partner unit's page shows no provider's section.
    assert "Our shop" not in office.text


async def test_a_provider_only_office_page_shows_no_partner_unit_sections(client: Any, town: Town) -> None:
    """A barber's office page offered co-building agreements, a form to list a resource and the
    wishes open to partner units: none of which a provider may do. It shows its shop and its
    members; an organisation of both kinds shows both."""
    provider_id, (barber,) = await make_organisation(client, town, kinds=["provider"])
    both_id, (both,) = await make_organisation(client, town, kinds=["partner", "provider"])
    await session_of(client, barber)
    page = await client.get(f"/partners/o/{provider_id}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    text = page.text
    assert "共建协议" not in text and 'name="community_id"' not in text
    assert f'action="/partners/o/{provider_id}/resources"' not in text
    assert "/wishes/" not in text and "data-office-wishes" not in text
    assert f'href="/circle/shop/{provider_id}"' in text
    await session_of(client, both)
    page = await client.get(f"/partners/o/{both_id}", headers={"Accept-Language": "zh-CN"})
    assert "共建协议" in page.text and f'action="/partners/o/{both_id}/resources"' in page.text
    assert f'href="/circle/shop/{both_id}"' in page.text


async def test_the_organisation_page_heads_its_list_of_members_as_members_not_a_count(
    client: Any, town: Town
) -> None:
    """The list of the unit's people read 成员数 ("number of members") above names, in the words
    of the street page's column of counts."""
    await session_of(client, town.admin)
    made = await post_form(
        client,
        f"/partners/admin/c/{town.community_id}/organisations",
        {
            "name": unique("老张理发店"),
            "kinds": "provider",
            "display_name": "张师傅",
            "phone": unique_phone(),
        },
    )
    assert made.status_code == 303, made.text
    page = await client.get(made.headers["location"])
    heading = re.search(
        r"<h2>([^<]*)</h2>\s*<ul class=\"menu\">\s*<li><span class=\"entry\"><span>张师傅", page.text
    )
    assert heading is not None, page.text
    assert heading.group(1) == "单位成员"
    english = await client.get(made.headers["location"], headers=EN)
    assert "<h2>Members of the organisation</h2>" in english.text


async def test_a_units_member_reaches_the_communitys_lists_and_is_not_sent_to_matching(
    client: Any, town: Town
) -> None:
    """A unit's member had no way from its pages to the community's needs (what a resource would
    answer), and the lists page offered everyone the matching view, which answers a unit's member
    403."""
    organisation_id, (member,) = await make_organisation(client, town)
    await session_of(client, member)
    office = (await client.get(f"/partners/o/{organisation_id}")).text
    assert f'href="/partners/c/{town.community_id}/lists"' in office
    lists_page = await client.get(f"/partners/c/{town.community_id}/lists")
    assert lists_page.status_code == 200
    assert "/matching" not in lists_page.text
    assert (await client.get(f"/partners/c/{town.community_id}/matching")).status_code == 403
    await session_of(client, town.grid)
    assert (
        f'href="/partners/c/{town.community_id}/matching"'
        in (await client.get(f"/partners/c/{town.community_id}/lists")).text
    )


async def test_a_refused_provider_or_task_comes_back_as_it_was_typed(client: Any, town: Town) -> None:
    """A refused new organisation came back ticked as a partner unit whatever was ticked (a
    provider sent again became a partner unit), and a refused task came back empty."""
    await session_of(client, town.admin)
    refused = await post_form(
        client,
        f"/partners/admin/c/{town.community_id}/organisations",
        {"name": unique("老街理发"), "kinds": "provider", "display_name": "张师傅", "phone": "123"},
    )
    assert refused.status_code == 422 and "alert" in refused.text
    assert '<input type="checkbox" name="kinds" value="provider" checked>' in refused.text
    assert '<input type="checkbox" name="kinds" value="partner" checked>' not in refused.text
    fresh = await client.get(f"/partners/admin/c/{town.community_id}")
    assert '<input type="checkbox" name="kinds" value="partner" checked>' in fresh.text
    organisation_id, _members = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    agreement_id = await make_agreement(client, town, organisation_id, year)
    await session_of(client, town.admin)
    url = f"/partners/agreements/{agreement_id}"
    no_date = await post_form(client, f"{url}/tasks", {"title": "重阳节健康义诊", "due_on": ""})
    assert (
        no_date.status_code == 422
        and 'name="title" required maxlength="200" value="重阳节健康义诊"' in no_date.text
    )
    no_title = await post_form(client, f"{url}/tasks", {"title": "", "due_on": f"{year}-10-29"})
    assert no_title.status_code == 422 and f'value="{year}-10-29"' in no_title.text
