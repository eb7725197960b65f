"""The wishes page walked by each role through its forms: the resident posts, the admin
publishes, a unit member claims and sees the delivery QR (decoded by zxing-cpp), the resident
scans it on the scanner's API and thanks on the page."""

from __future__ import annotations

import base64
import re

from sqlalchemy import text

from app.wishes import pages
from tests.api.helpers import post_form, session_of
from tests.conftest import count
from tests.qrtools import decode_svg
from tests.wishes.conftest import (
    Pool,
    claim_as_volunteer,
    claim_for_unit,
    code_for,
    phone_in,
    post_wish,
    publish,
)


async def test_a_wish_through_the_pages_from_posting_to_thanks(client, pool: Pool, db):
    cid = pool.community_id
    await session_of(client, pool.beneficiary)
    form = await client.get(f"/c/{cid}/wishes")
    assert 'name="kind" value="item" checked' in form.text and 'name="kind" value="service"' in form.text
    posted = await post_form(
        client, f"/c/{cid}/wishes", {"title": "修理厨房插座", "description": "插座松了", "kind": "service"}
    )
    assert posted.status_code == 303, posted.text
    page = await client.get(posted.headers["location"])
    assert "心愿已提交" in page.text and "修理厨房插座" in page.text
    wish_id = int(re.search(r'data-wish="(\d+)" data-wish-status="submitted"', page.text).group(1))
    assert f'href="/wishes/{wish_id}"' in page.text  # the list links to the wish's page
    assert 'data-kind="service"' in (await client.get(f"/wishes/{wish_id}")).text
    bad = await post_form(client, f"/c/{cid}/wishes", {"title": "x", "kind": "money"})
    assert bad.status_code in (200, 422) and 'role="alert"' in bad.text and 'value="x"' in bad.text
    empty = await post_form(client, f"/c/{cid}/wishes", {"title": "  "})
    assert empty.status_code == 422 or "不超过100个字" in empty.text

    await session_of(client, pool.town.admin)
    page = await client.get(f"/wishes/{wish_id}")
    assert page.status_code == 200
    # Publishing and not publishing cannot be undone: each sits behind a confirmation.
    assert page.text.count('<details class="confirm">') == 2 and 'value="publish"' in page.text
    published = await post_form(client, f"/wishes/{wish_id}/step", {"step": "publish"})
    assert published.status_code == 303 and published.headers["location"] == f"/wishes/{wish_id}?done=publish"
    assert "心愿已发布到心愿池" in (await client.get(published.headers["location"])).text

    await session_of(client, pool.members[0])
    page = await client.get(f"/wishes/{wish_id}")
    assert page.status_code == 200
    assert "杨**" in page.text and "杨依伯" not in page.text
    assert not phone_in(page.text)
    claimed = await post_form(
        client, f"/wishes/{wish_id}/step", {"step": "claim", "organisation_id": pool.organisation_id}
    )
    assert claimed.status_code == 303, claimed.text
    page = await client.get(f"/wishes/{wish_id}")
    # API.md: the beneficiary's name only for the community's staff and admins, the claimant too.
    assert "杨**" in page.text and "杨依伯" not in page.text
    assert 'value="release"' in page.text and "放回心愿池" in page.text
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"[^>]*data-delivery-qr', page.text)
    assert image, "the claimant sees the delivery QR"
    code = re.search(r"<span data-code-text>(JW1-[^<]+)</span>", page.text).group(1)
    svg = base64.b64decode(image.group(1)).decode()
    assert decode_svg(svg) == code
    assert f'data-code-url="/api/v1/wishes/{wish_id}/delivery-code"' in page.text  # it rotates

    await session_of(client, pool.beneficiary)
    waiting = await client.get(f"/wishes/{wish_id}")
    assert 'href="/scan"' in waiting.text and "data-delivery-qr" not in waiting.text
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200 and scanned.json()["result"] == "delivered"
    page = await client.get(f"/wishes/{wish_id}")
    assert "这个心愿已经实现了" in page.text and 'enctype="multipart/form-data"' in page.text
    thanked = await post_form(client, f"/wishes/{wish_id}/thanks", {"note": "谢谢省疾控的张医生！"})
    assert thanked.status_code == 303, thanked.text
    page = await client.get(f"/wishes/{wish_id}")
    assert "感谢：谢谢省疾控的张医生！" in page.text
    assert "data-thanks-photo" not in page.text  # no photo was sent
    again = await post_form(client, f"/wishes/{wish_id}/thanks", {"note": "再谢一次"})
    assert again.status_code == 409


async def test_a_grid_worker_posts_for_a_resident_through_the_page_only_with_a_consent_note(
    client, pool: Pool, factory, db
):
    cid = pool.community_id
    elder = await factory.person(pool.town.tenant, name="林阿婆", phone=None)
    await session_of(client, pool.town.grid)
    page = await client.get(f"/c/{cid}/wishes")
    assert f'<option value="{elder.user_id}">林阿婆</option>' in page.text
    assert not phone_in(page.text)
    refused = await post_form(client, f"/c/{cid}/wishes", {"title": "一台轮椅", "for_user_id": elder.user_id})
    assert refused.status_code == 200 and "同意" in refused.text
    assert await count(db, "SELECT count(*) FROM wishes WHERE beneficiary_id = :u", u=elder.user_id) == 0
    made = await post_form(
        client,
        f"/c/{cid}/wishes",
        {"title": "一台轮椅", "for_user_id": elder.user_id, "consent_note": "入户走访，本人口头同意"},
    )
    assert made.status_code == 303, made.text
    assert (
        await count(
            db,
            "SELECT count(*) FROM wishes WHERE beneficiary_id = :u AND posted_by = :g AND consent_note <> ''",
            u=elder.user_id,
            g=pool.town.grid.user_id,
        )
        == 1
    )
    # Said as one phrase in Chinese: no space of the English sentence before its bracket.
    wish = await client.get(made.headers["location"])
    assert re.search(r"心愿人：\S+（代为发布）", wish.text), wish.text


async def test_the_admin_sets_the_wish_points_and_stale_days_and_others_cannot(client, pool: Pool, db):
    cid = pool.community_id
    await session_of(client, pool.town.admin)
    saved = await post_form(client, f"/c/{cid}/wishes/settings", {"points": "30", "stale_days": "7"})
    assert saved.status_code == 303, saved.text
    q = "SELECT count(*) FROM wish_settings WHERE community_id = :c AND points = 30 AND stale_days = 7"
    assert await count(db, q, c=cid) == 1
    bad = await post_form(client, f"/c/{cid}/wishes/settings", {"points": "30", "stale_days": "0"})
    assert bad.status_code == 200
    await session_of(client, pool.town.staff)
    refused = await post_form(client, f"/c/{cid}/wishes/settings", {"points": "99", "stale_days": "7"})
    assert refused.status_code == 403
    assert await count(db, q, c=cid) == 1


async def test_the_resident_confirms_a_delivery_on_the_scanner_page(client, pool: Pool, db):
    wish_id = await post_wish(client, pool, title="换灯泡")
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    await session_of(client, pool.beneficiary)
    done = await post_form(client, "/scan", {"code": code})
    assert done.status_code == 200, done.text
    assert 'data-result="delivered"' in done.text and "心愿已送达" in done.text and "换灯泡" in done.text
    again = await post_form(client, "/scan", {"code": code})
    assert again.status_code == 409


async def test_a_grid_worker_is_shown_how_to_confirm_a_delivery_for_the_resident(client, pool: Pool, factory):
    """The wish's page told only the person it is for to scan the delivery code; the grid worker
    who confirms for a resident without a phone saw nothing to do."""
    grid = await factory.person(pool.town.tenant, roles=["grid_worker"], name="王网格")
    wish_id = await post_wish(client, pool, title="换个新插座")
    await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, wish_id)
    await session_of(client, grid)
    page = await client.get(f"/wishes/{wish_id}")
    assert "data-confirm-delivery" in page.text and "心愿送到" in page.text
    step = page.text[page.text.index("data-confirm-delivery") :]
    assert 'href="/scan"' in step[: step.index("</section>")]
    await session_of(client, pool.members[0])
    assert "data-confirm-delivery" not in (await client.get(f"/wishes/{wish_id}")).text


async def test_the_public_pool_links_a_wish_s_page_only_for_who_may_open_it(client, pool: Pool, factory):
    """Its members and the units acting there open a wish's page; a visitor is asked to log in by
    it; anyone else signed in (another community's admin) would find it missing, so is not sent."""
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    link = f'href="/wishes/{wish_id}"'
    await session_of(client, pool.beneficiary)
    assert link in (await client.get(f"/c/{pool.community_id}/wish-pool")).text
    assert (await client.get(f"/wishes/{wish_id}")).status_code == 200
    await session_of(client, (await factory.tenant()).admin)
    page = await client.get(f"/c/{pool.community_id}/wish-pool")
    assert page.status_code == 200 and 'data-wish-status="published"' in page.text
    assert link not in page.text and (await client.get(f"/wishes/{wish_id}")).status_code == 404
    client.cookies.clear()
    assert link in (await client.get(f"/c/{pool.community_id}/wish-pool")).text


async def test_a_grid_worker_finds_the_resident_to_post_for_in_a_large_community(
    client, pool: Pool, factory, db, monkeypatch
):
    """The list of whom to post for held the first 2,000 members by name, with nothing past them
    and nothing to tell two 林阿婆 apart: in a community of thousands a grid worker could not post
    for most of its residents (here the list holds two)."""
    monkeypatch.setattr(pages, "RESIDENTS_PAGE", 2)
    cid = pool.community_id
    first = await factory.person(pool.town.tenant, name="林阿婆", phone=None)
    second = await factory.person(pool.town.tenant, name="林阿婆", phone=None)
    for person, room in ((first, "502"), (second, "302")):
        await db.execute(
            text("UPDATE memberships SET room = :r WHERE user_id = :u AND community_id = :c"),
            {"r": room, "u": person.user_id, "c": cid},
        )
    await db.commit()
    await session_of(client, pool.town.grid)
    everyone = (await client.get(f"/c/{cid}/wishes")).text
    assert 'name="people_page" value="2"' in everyone and 'name="who"' in everyone
    found = (await client.get(f"/c/{cid}/wishes", params={"who": "林阿婆"})).text
    assert f'<option value="{first.user_id}">林阿婆 · 502</option>' in found
    assert f'<option value="{second.user_id}">林阿婆 · 302</option>' in found
    assert not phone_in(found)
    one = (await client.get(f"/c/{cid}/wishes", params={"who": pool.beneficiary.phone})).text
    assert re.search(rf'<option value="{pool.beneficiary.user_id}" selected>', one)
    nobody = (await client.get(f"/c/{cid}/wishes", params={"who": "没有这个人"})).text
    assert 'data-found="0"' in nobody
    # A refused post keeps the chosen resident listed and chosen, whatever the list holds.
    refused = await post_form(
        client, f"/c/{cid}/wishes", {"title": "一台轮椅", "for_user_id": second.user_id}
    )
    assert re.search(rf'<option value="{second.user_id}" selected>林阿婆 · 302</option>', refused.text)


async def test_a_grid_worker_chooses_whom_to_post_for_on_a_second_page_keeping_the_wish(
    client, pool: Pool, factory, db, monkeypatch
):
    """The search of whom to post for was a form of its own that dropped the wish typed. Its Find
    and its pages are the post form's own now (here two people a page): what was typed stays,
    nothing is posted until Post, for the resident chosen on the second page."""
    monkeypatch.setattr(pages, "RESIDENTS_PAGE", 2)
    cid = pool.community_id
    found_people = [await factory.person(pool.town.tenant, name=f"林阿婆{n}", phone=None) for n in (1, 2, 3)]
    await session_of(client, pool.town.grid)
    url = f"/c/{cid}/wishes"
    typed = {"title": "一台轮椅", "kind": "item", "consent_note": "电话确认"}
    found = await post_form(client, url, {**typed, "who": "林阿婆", "find": "1"})
    assert found.status_code == 200 and "data-not-saved" in found.text and 'value="一台轮椅"' in found.text
    # It names the button as the form shows it (Post: 提交).
    assert "请点“提交”" in found.text and ">提交</button>" in found.text
    third = found_people[2].user_id
    assert f'<option value="{third}"' not in found.text and f'formaction="{url}#person"' in found.text
    second = await post_form(client, url, {**typed, "who": "林阿婆", "people_page": "2"})
    assert second.status_code == 200 and f'<option value="{third}"' in second.text
    assert 'value="一台轮椅"' in second.text
    wishes = "SELECT count(*) FROM wishes WHERE beneficiary_id = :u"
    assert await db.scalar(text(wishes), {"u": third}) == 0
    key = re.search(r'name="key" value="([^"]+)"', second.text)
    assert key
    posted = await post_form(client, url, {**typed, "key": key.group(1), "for_user_id": str(third)})
    assert posted.status_code == 303, posted.text[:500]
    await db.rollback()
    assert await db.scalar(text(wishes), {"u": third}) == 1


async def test_the_admin_finds_the_wishes_to_review_from_the_home_page(client, pool: Pool):
    """The admin's home counted nothing of the wishes waiting for review, and the wishes page
    listed every wish of the community (up to 500) in one column: the few to review were found by
    scrolling. Now today's figures count them and open just those; the page filters by status."""
    cid = pool.community_id
    waiting = await post_wish(client, pool, title="一台轮椅")
    published = await post_wish(client, pool, title="修插座")
    await publish(client, pool, published)
    await session_of(client, pool.town.admin)
    home = (await client.get("/")).text
    figure = re.search(rf'href="/c/{cid}/wishes\?status=submitted"[^>]*>(.*?)</a>', home, re.S)
    assert figure is not None and "待审核心愿" in figure.group(1) and ">1<" in figure.group(1)
    page = (await client.get(f"/c/{cid}/wishes", params={"status": "submitted"})).text
    assert f'data-wish="{waiting}"' in page and f'data-wish="{published}"' not in page
    assert 'aria-current="page">等待审核</a>' in page
    everything = (await client.get(f"/c/{cid}/wishes", params={"status": "nonsense"})).text
    assert f'data-wish="{waiting}"' in everything and f'data-wish="{published}"' in everything
    none = (await client.get(f"/c/{cid}/wishes", params={"status": "delivered"})).text
    assert "目前没有“已圆梦”的心愿。" in none
    # A resident's home has no such figure.
    await session_of(client, pool.beneficiary)
    assert "status=submitted" not in (await client.get("/")).text


async def test_a_wish_form_sent_twice_posts_one_wish(client, pool: Pool, db):
    """A double tap on 发布 (or a resend after a slow answer) sends the form twice with its key:
    one wish, and both sendings land on the posted page."""
    cid = pool.community_id
    await session_of(client, pool.town.grid)
    page = await client.get(f"/c/{cid}/wishes")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    form = {"title": "一把助行拐杖", "key": key}
    first, second = [await post_form(client, f"/c/{cid}/wishes", form) for _ in range(2)]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, "SELECT count(*) FROM wishes WHERE title = '一把助行拐杖'") == 1
    # A new page gives a new key: the same words posted again on purpose are a second wish.
    fresh = await client.get(f"/c/{cid}/wishes")
    again = re.search(r'name="key" value="([^"]+)"', fresh.text).group(1)
    assert again != key
    assert (await post_form(client, f"/c/{cid}/wishes", {**form, "key": again})).status_code == 303
    assert await count(db, "SELECT count(*) FROM wishes WHERE title = '一把助行拐杖'") == 2


async def test_the_wishes_come_a_page_at_a_time_with_their_count(client, pool: Pool, monkeypatch):
    """The wishes page listed the newest 500 with no count and no way to the others (here three a
    page): each reader counts and pages through only the wishes they see."""
    monkeypatch.setattr(pages, "WISHES_PAGE", 3)
    cid = pool.community_id
    posted = [await post_wish(client, pool, title=f"心愿{i}") for i in range(5)]
    for wish_id in posted[:4]:
        await publish(client, pool, wish_id)
    await session_of(client, pool.town.admin)
    first = (await client.get(f"/c/{cid}/wishes")).text
    assert "共 5 个心愿。" in first and "第 1 页，共 2 页，最新的在前。" in first
    assert re.findall(r'data-wish="(\d+)"', first) == [str(i) for i in posted[:1:-1]]
    assert 'href="?page=2#listed"' in first and "page=0" not in first
    second = (await client.get(f"/c/{cid}/wishes", params={"page": "2"})).text
    assert re.findall(r'data-wish="(\d+)"', second) == [str(posted[1]), str(posted[0])]
    assert 'href="?page=1#listed"' in second and "page=3" not in second
    past = (await client.get(f"/c/{cid}/wishes", params={"page": "99"})).text
    assert re.findall(r'data-wish="(\d+)"', past) == [str(posted[1]), str(posted[0])]
    # The status filter pages too, and keeps its status in the links.
    published = (await client.get(f"/c/{cid}/wishes", params={"status": "published"})).text
    assert "共 4 个心愿。" in published and 'href="?status=published&amp;page=2#listed"' in published
    # A resident who posted none of them sees the four in the pool, not the one under review.
    await session_of(client, pool.volunteer)
    theirs = (await client.get(f"/c/{cid}/wishes")).text
    assert "共 4 个心愿。" in theirs and f'data-wish="{posted[4]}"' not in theirs
    assert re.findall(r'data-wish="(\d+)"', theirs) == [str(i) for i in posted[3:0:-1]]
    english = (await client.get(f"/c/{cid}/wishes", headers={"Accept-Language": "en"})).text
    assert "Wishes listed: 4." in english and "Older wishes" in english


async def test_the_public_pool_comes_a_page_at_a_time_those_waiting_first(client, pool: Pool, monkeypatch):
    """The public pool showed the first 200 and nothing of the rest: the wishes come true pile up
    over the years (here two a page). Those waiting for someone come first, on every count."""
    monkeypatch.setattr(pages, "WISHES_PAGE", 2)
    cid = pool.community_id
    posted = [await post_wish(client, pool, title=f"心愿{i}") for i in range(4)]
    for wish_id in posted[:3]:
        await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, posted[2])  # the newest published one, taken up
    client.cookies.clear()
    first = (await client.get(f"/c/{cid}/wish-pool")).text
    assert "共 3 个心愿。" in first and "第 1 页，共 2 页" in first
    assert re.findall(r'data-wish="(\d+)"', first) == [str(posted[1]), str(posted[0])]
    assert 'href="?page=2#listed"' in first and "page=0" not in first
    second = (await client.get(f"/c/{cid}/wish-pool", params={"page": "2"})).text
    assert re.findall(r'data-wish="(\d+)"', second) == [str(posted[2])]
    assert 'href="?page=1#listed"' in second and "page=3" not in second
    past = (await client.get(f"/c/{cid}/wish-pool", params={"page": "x"})).text
    assert re.findall(r'data-wish="(\d+)"', past) == [str(posted[1]), str(posted[0])]


async def test_a_refused_wish_says_so_in_red_at_the_form_shown_first(client, pool: Pool):
    """A wish posted without a title was answered at the top of a long page in a success's green
    with a tick (✓ 请填写心愿标题…), the form with its words at the page's end: it read as done."""
    cid = pool.community_id
    await session_of(client, pool.beneficiary)
    for n in range(3):
        await post_wish(client, pool, title=f"心愿{n}")
    empty = await post_form(client, f"/c/{cid}/wishes", {"title": " ", "description": "楼道灯坏了"})
    page = empty.text
    assert 'class="notice' not in page.split("<h1>", 1)[1].split('id="post"', 1)[0]
    alert = page.index('class="alert" role="alert" data-post-error')
    assert page.index('id="post"') < alert < page.index("楼道灯坏了") < page.index('data-wish="')
    assert page.count('id="post"') == 1
    ok = await client.get(f"/c/{cid}/wishes")
    assert ok.text.index('data-wish="') < ok.text.index('id="post"')  # the form at the end otherwise


async def test_an_empty_wish_list_says_so_without_a_successs_tick(client, pool: Pool):
    """ "No wish here yet" and "No wish is waiting right now" were drawn as a success (green, ✓):
    nothing there is a plain fact, the page's hint."""
    cid = pool.community_id
    await session_of(client, pool.beneficiary)
    for path in (f"/c/{cid}/wishes?status=delivered", f"/c/{cid}/wish-pool"):
        page = (await client.get(path)).text
        assert '<p class="hint" data-none>' in page, path
        assert '<p class="notice"' not in page, path


async def test_whoever_claimed_a_wish_reads_a_masked_name_on_its_pages_never_the_full_name_or_phone(
    client, pool: Pool
):
    """The wish's page named the beneficiary in full to the unit and the volunteer that claimed
    it, where API.md names them only to the community's staff and admins: the claimant reads the
    masked name and the compound, and is told the community arranges the hand-over."""
    cid = pool.community_id
    by_unit, by_volunteer = await post_wish(client, pool), await post_wish(client, pool, title="陪同去医院")
    for wish_id in (by_unit, by_volunteer):
        await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, by_unit)
    await claim_as_volunteer(client, pool, by_volunteer)
    for person, wish_id in (
        (pool.members[0], by_unit),
        (pool.members[1], by_unit),
        (pool.volunteer, by_volunteer),
    ):
        await session_of(client, person)
        for lang in ("zh-CN", "en"):
            for url in (f"/wishes/{wish_id}", f"/c/{cid}/wishes", f"/c/{cid}/wishes?status=claimed"):
                page = await client.get(url, headers={"Accept-Language": lang})
                assert page.status_code == 200
                assert "杨**" in page.text and "杨依伯" not in page.text, (person.display_name, url)
                assert not phone_in(page.text) and pool.beneficiary.phone not in page.text
            mine = (await client.get(f"/wishes/{wish_id}", headers={"Accept-Language": lang})).text
            assert "data-delivery-qr" in mine and "data-hand-over" in mine
            assert ("为保护隐私" if lang == "zh-CN" else "To keep their privacy") in mine
    # The community's staff and admins, and the beneficiary, still read the name in full.
    for person in (pool.town.staff, pool.town.admin, pool.beneficiary):
        await session_of(client, person)
        page = (await client.get(f"/wishes/{by_unit}")).text
        assert "杨依伯" in page and "data-hand-over" not in page
