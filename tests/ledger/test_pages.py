"""The ledger's pages: what the admin did is said as a success, in words; a reversal is
confirmed on a page of its own, with a reason."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from app.core.uow import connection_of
from app.ledger import admin_pages as ledger_admin_pages
from app.ledger import pages as ledger_pages
from app.ledger import services as ledger
from tests.api.helpers import page_login, post_form
from tests.conftest import unique_phone
from tests.ledger.test_provider_accounts import _move, _redeemed, _settlement


async def _award_on_page(client: Any, setup: Any, action: str, points: str, nonce: str) -> Any:
    form = {
        "action": action,
        "user_id": str(setup.resident.user_id),
        "points": points,
        "reason": "楼道清理",
        "nonce": nonce,
    }
    return await post_form(client, f"/admin/c/{setup.community_id}/ledger", form)


async def test_an_award_on_the_page_is_said_as_a_success_naming_the_person(client: Any, setup: Any) -> None:
    await page_login(client, setup.admin)
    done = await _award_on_page(client, setup, "award", "15", "a1")
    assert done.status_code == 303, done.text
    page = await client.get(done.headers["location"])
    # Green with a tick (class "notice"), never the red alert with its cross.
    assert 'class="notice"' in page.text and 'class="alert"' not in page.text
    assert "已为王阿姨发放 15 积分。" in page.text
    taken = await _award_on_page(client, setup, "deduct", "4", "d1")
    page = await client.get(taken.headers["location"], headers={"Accept-Language": "en"})
    assert "Deducted 4 points from 王阿姨." in page.text and 'class="alert"' not in page.text

    refused = await _award_on_page(client, setup, "deduct", "400", "d2")
    assert refused.status_code == 409
    assert 'class="alert"' in refused.text and 'class="notice"' not in refused.text


async def test_a_spend_on_the_statement_is_not_shown_as_a_failure(client: Any, setup: Any) -> None:
    await page_login(client, setup.admin)
    await _award_on_page(client, setup, "award", "15", "a1")
    await _award_on_page(client, setup, "deduct", "4", "d1")
    await page_login(client, setup.resident)
    page = await client.get(f"/wallet/statement?community_id={setup.community_id}")
    assert "−4" in page.text and "+15" in page.text
    assert "result-bad" not in page.text and "alert" not in page.text


async def test_the_ledger_check_says_ok_with_a_tick(client: Any, setup: Any) -> None:
    await page_login(client, setup.admin)
    page = await client.get(f"/admin/c/{setup.community_id}/ledger/verify")
    assert re.search(r'data-result="ok".*✓', page.text, re.S) and "result-bad" not in page.text


async def test_a_reversal_is_confirmed_on_its_own_page_with_a_reason(
    client: Any, setup: Any, db: Any
) -> None:
    await page_login(client, setup.admin)
    awarded = await _award_on_page(client, setup, "award", "15", "a1")
    transfer_id = int(re.search(r"t=(\d+)", awarded.headers["location"]).group(1))
    base = f"/admin/c/{setup.community_id}/ledger"
    page = await client.get(base)
    assert f'href="{base}/reverse/{transfer_id}"' in page.text
    assert 'name="action" value="reverse"' not in page.text  # no one-tap reversal on the list
    reversals = "SELECT count(*) FROM ledger_transfers WHERE reverses_id = :t"
    one_tap = await post_form(
        client, base, {"action": "reverse", "transfer_id": str(transfer_id), "reason": "错发"}
    )
    assert one_tap.status_code == 303 and one_tap.headers["location"] == f"{base}/reverse/{transfer_id}"
    assert (await db.execute(text(reversals), {"t": transfer_id})).scalar() == 0
    step = await client.get(one_tap.headers["location"])
    assert step.status_code == 200 and 'data-confirm="reverse"' in step.text
    assert "王阿姨" in step.text and "+15" in step.text and f'href="{base}"' in step.text
    confirm = {"action": "reverse", "transfer_id": str(transfer_id), "confirm": "1"}
    no_reason = await post_form(client, base, {**confirm, "reason": "  "})
    assert no_reason.status_code == 422 and 'class="alert"' in no_reason.text
    assert 'data-confirm="reverse"' in no_reason.text
    assert (await db.execute(text(reversals), {"t": transfer_id})).scalar() == 0
    done = await post_form(client, base, {**confirm, "reason": "发错了人"})
    assert done.status_code == 303
    assert (await db.execute(text(reversals), {"t": transfer_id})).scalar() == 1
    said = await client.get(done.headers["location"])
    assert f"第 {transfer_id} 笔转账已冲正。" in said.text and 'class="alert"' not in said.text
    again = await client.get(f"{base}/reverse/{transfer_id}")
    assert "这笔转账已由第" in again.text and 'name="confirm"' not in again.text
    elsewhere = await client.get(f"/admin/c/{setup.community_id + 10**6}/ledger/reverse/{transfer_id}")
    assert elsewhere.status_code in (403, 404)


def _people(page: str) -> str:
    """The award form's list of people (the expiry form's months are options too: 3, 6, 12 ...)."""
    return page.split('<select id="user_id"', 1)[1].split("</select>", 1)[0]


async def test_the_award_form_finds_anyone_of_a_large_community_by_name_or_phone(
    client: Any, setup: Any, db: Any
) -> None:
    """The award form listed the first 500 members by name and no one else: in a community of
    2,000 households most people could not be chosen. Now it finds them by name or phone (a whole
    number however typed, as the residents list does), and a resident's page opens it with that
    person chosen."""
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT 'A居民' || lpad(n::text, 3, '0') "
            "FROM generate_series(1, 205) n RETURNING id) "
            "INSERT INTO memberships (user_id, community_id, roles) SELECT id, :c, '{resident}' FROM u"
        ),
        {"c": setup.community_id},
    )
    await db.commit()
    cid, wang = setup.community_id, setup.resident.user_id
    await page_login(client, setup.admin)
    chosen = re.compile(rf'<option value="{wang}" selected>王阿姨')
    first = await client.get(f"/admin/c/{cid}/ledger")
    assert f'<option value="{wang}"' not in _people(first.text)
    assert _people(first.text).count("<option value=") == 1 + ledger_pages.PEOPLE_PAGE
    assert 'name="people_page" value="2"' in first.text
    found = await client.get(f"/admin/c/{cid}/ledger", params={"q": "王阿"})
    assert f'<option value="{wang}"' in _people(found.text) and "A居民" not in found.text
    by_phone = await client.get(f"/admin/c/{cid}/ledger", params={"q": setup.resident.phone[-6:]})
    assert f'<option value="{wang}"' in _people(by_phone.text)
    # A whole number typed as people write it finds its holder, as on the residents list.
    phone = setup.resident.phone
    spaced = await client.get(
        f"/admin/c/{cid}/ledger", params={"q": f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"}
    )
    assert f'<option value="{wang}"' in _people(spaced.text) and "A居民" not in spaced.text
    nobody = await client.get(f"/admin/c/{cid}/ledger", params={"q": "没有这个人"})
    assert 'data-found="0"' in nobody.text
    resident_page = await client.get(f"/admin/c/{cid}/residents/{wang}")
    assert f'href="/admin/c/{cid}/ledger?user={wang}" data-award' in resident_page.text
    opened = await client.get(f"/admin/c/{cid}/ledger?user={wang}")
    assert chosen.search(opened.text)
    done = await _award_on_page(client, setup, "award", "3", "big-1")
    assert done.status_code == 303, done.text


async def test_the_award_form_chooses_nobody_until_the_admin_does(client: Any, setup: Any) -> None:
    """The person's list started on its first name, so an award typed without choosing went to
    whoever came first: now it starts on "Choose the person", a search that finds one person
    chooses them, and an award for nobody is refused with the form's words."""
    await page_login(client, setup.admin)
    cid, wang = setup.community_id, setup.resident.user_id
    page = (await client.get(f"/admin/c/{cid}/ledger")).text
    select = page[
        page.index('<select id="user_id"') : page.index("</select>", page.index('<select id="user_id"'))
    ]
    assert re.search(
        r'<select id="user_id" name="user_id" required>\s*<option value="">请选择人员</option>', select
    )
    assert " selected" not in select
    found = (await client.get(f"/admin/c/{cid}/ledger", params={"q": "王阿"})).text
    assert re.search(rf'<option value="{wang}" selected>王阿姨', found)
    form = {"action": "award", "user_id": "", "points": "5", "reason": "楼道清理", "nonce": "none-1"}
    refused = await post_form(client, f"/admin/c/{cid}/ledger", form)
    assert refused.status_code == 422 and "请选择人员并填写整数积分。" in refused.text


async def test_the_ledger_pages_put_their_counts_in_full_width_brackets(client: Any, setup: Any) -> None:
    """ "王阿姨 (0 积分)" and "(已核对 3 项)" wore half-width brackets among Chinese words."""
    await page_login(client, setup.admin)
    cid = setup.community_id
    award = await client.get(f"/admin/c/{cid}/ledger")
    assert re.search(r"王阿姨 \d+ （\d+ 积分）</option>", award.text)
    english = await client.get(f"/admin/c/{cid}/ledger", headers={"Accept-Language": "en"})
    assert re.search(r"王阿姨 \d+ \(\d+ points\)</option>", english.text)
    verify = await client.get(f"/admin/c/{cid}/ledger/verify")
    assert verify.status_code == 200 and "（已核对 " in verify.text and "(已核对" not in verify.text


async def test_a_settlement_offers_no_reversal(client: Any, setup: Any, db: Any) -> None:
    """A settlement pays a closed month's statement and the ledger refuses to reverse it: the list
    says it is final instead of offering 冲正…, and its reversal page says why, with no form."""
    c, u = setup.community_id, setup.resident.user_id
    conn = await connection_of(db)
    await ledger.award(conn, **_move(c, u, 40, f"fs-{c}"))
    await _redeemed(conn, c, u, 7401, 25, f"fs-{c}-1")
    settlement = await ledger.settle_provider(conn, **_settlement(c, 7401, 25, f"fs-{c}-s"))
    await db.commit()
    await page_login(client, setup.admin)
    base = f"/admin/c/{c}/ledger"
    page = await client.get(base)
    assert f'href="{base}/reverse/{settlement}"' not in page.text
    assert "已结算，不可冲正" in page.text
    step = await client.get(f"{base}/reverse/{settlement}")
    assert step.status_code == 200 and "不能冲正" in step.text and 'name="confirm"' not in step.text


async def test_a_settlements_line_names_the_provider_and_the_settled_account(
    client: Any, setup: Any, db: Any
) -> None:
    """A settlement moves points between two accounts of no person: its Person column names the
    provider and the settled account (it was empty), on the list and on its reversal page."""
    c, u = setup.community_id, setup.resident.user_id
    made = await client.post(
        f"/api/v1/communities/{c}/organisations",
        json={
            "name": f"老街理发{c}",
            "kinds": ["provider"],
            "members": [{"phone": unique_phone(), "display_name": "店主", "password": "shop-pass-1"}],
        },
        headers=setup.admin.headers,
    )
    assert made.status_code == 201, made.text
    provider = made.json()["id"]
    conn = await connection_of(db)
    await ledger.award(conn, **_move(c, u, 40, f"ps-{c}"))
    redeemed = await _redeemed(conn, c, u, provider, 25, f"ps-{c}-1")
    settlement = await ledger.settle_provider(conn, **_settlement(c, provider, 25, f"ps-{c}-s"))
    await db.commit()
    await page_login(client, setup.admin)
    base = f"/admin/c/{c}/ledger"

    def person(html: str, transfer: int) -> str:
        row = html[html.index(f"<td>#{transfer}</td>") :]
        found = re.search(r'<td data-label="(?:Person|人员|对象)">([^<]*)</td>', row)
        assert found, row[:400]
        return found.group(1).strip()

    zh = (await client.get(base)).text
    assert person(zh, settlement) == f"老街理发{c}（服务商）→已结算账户"
    assert person(zh, redeemed) == "王阿姨"  # a line of a member's wallet names the member
    en = (await client.get(base, headers={"Accept-Language": "en"})).text
    assert person(en, settlement) == f"老街理发{c} (provider) → the settled account"
    step = (await client.get(f"{base}/reverse/{settlement}")).text
    assert f"老街理发{c}（服务商）→已结算账户" in step


async def test_the_admins_ledger_pages_back_to_older_transfers(client: Any, setup: Any, monkeypatch) -> None:
    """The admin's ledger showed the newest 30 transfers and no way past them: in a busy community
    a wrong award of last week was out of reach for its reversal (here two a page)."""
    monkeypatch.setattr(ledger_pages, "TRANSFERS_PAGE", 2)
    await page_login(client, setup.admin)
    for i in range(5):
        assert (await _award_on_page(client, setup, "award", str(i + 1), f"p{i}")).status_code == 303
    url = f"/admin/c/{setup.community_id}/ledger"
    ids = []
    page = (await client.get(url)).text
    while True:
        ids += [int(i) for i in re.findall(r'data-reverse="(\d+)"', page)]
        older = re.search(r'href="\?before=(\d+)#transfers"', page)
        if older is None:
            break
        page = (await client.get(url, params={"before": older.group(1)})).text
        assert 'href="?#transfers"' in page
    assert len(ids) >= 5 and ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    # A cursor of another community (or none that exists) lists nothing past it, and breaks nothing.
    assert (await client.get(url, params={"before": "9223372036854775807"})).status_code == 200


async def test_a_wallets_figures_say_they_are_points(client: Any, setup: Any) -> None:
    """My points read 可用 75 · 余额 75 · 订单冻结 0: three bare numbers, the unit left to guess (the
    resident's page for the admin and its printed statement alike)."""
    await page_login(client, setup.admin)
    await _award_on_page(client, setup, "award", "15", "u1")
    pages = [
        f"/admin/c/{setup.community_id}/residents/{setup.resident.user_id}",
        f"/admin/c/{setup.community_id}/residents/{setup.resident.user_id}/statement",
    ]
    for path in pages:
        page = (await client.get(path)).text
        assert page.count('<span class="muted" data-unit>积分</span>') == 3, path
    await page_login(client, setup.resident)
    wallet = (await client.get(f"/wallet?community_id={setup.community_id}")).text
    assert '<strong id="available">15</strong> <span class="muted" data-unit>积分</span>' in wallet
    english = await client.get(
        f"/wallet?community_id={setup.community_id}", headers={"Accept-Language": "en"}
    )
    assert english.text.count('<span class="muted" data-unit>points</span>') == 3


async def test_the_printed_statement_pages_on_to_the_older_lines_with_their_count(
    client: Any, setup: Any, monkeypatch: Any
) -> None:
    """The statement to print stopped at the latest 300 lines and said only that: a resident of
    some years could not have the older ones printed. A sheet says which lines of how many it
    holds and leads to the older ones, and back to the newest."""
    monkeypatch.setattr(ledger_admin_pages, "PRINTED_MAX", 2)
    await page_login(client, setup.admin)
    for points in range(1, 6):
        await _award_on_page(client, setup, "award", str(points), f"sheet-{points}")
    url = f"/admin/c/{setup.community_id}/residents/{setup.resident.user_id}/statement"
    page = (await client.get(url)).text
    seen: list[int] = []
    firsts = []
    while True:
        table = page[page.index("<tbody>") : page.index("</tbody>")]
        seen += [int(n) for n in re.findall(r'class="points">\+(\d+)<', table)]
        firsts.append(re.search(r"第 (\d+)–(\d+) 行，共 5 行", page).groups())  # type: ignore[union-attr]
        older = re.search(r'href="\?before=([0-9.]+)"', page)
        if older is None:
            break
        page = (await client.get(url, params={"before": older.group(1)})).text
        assert f'href="/admin/c/{setup.community_id}/residents/{setup.resident.user_id}/statement"' in page
    assert seen == [5, 4, 3, 2, 1]  # each once, the newest first
    assert firsts == [("1", "2"), ("3", "4"), ("5", "5")]
    mangled = await client.get(url, params={"before": "x"})
    assert mangled.status_code == 200 and "第 1–2 行，共 5 行" in mangled.text


async def test_my_statement_says_which_lines_of_how_many_it_shows(client: Any, setup: Any) -> None:
    await page_login(client, setup.admin)
    for points in range(1, 4):
        await _award_on_page(client, setup, "award", str(points), f"mine-{points}")
    await page_login(client, setup.resident)
    page = (await client.get(f"/wallet/statement?community_id={setup.community_id}")).text
    assert "第 1–3 行，共 3 行" in page


async def test_a_very_large_award_is_asked_about_once_more_before_it_moves_points(
    client: Any, setup: Any, db: Any
) -> None:
    """99999999 typed for 9 gave the resident the whole store at one tap: an award or deduction
    of 1,000 points or more asks once more, naming the person and the number, and moves points
    only when the admin says yes; a double tap on yes awards once."""
    balance = (
        "SELECT coalesce(sum(balance), 0) FROM ledger_accounts "
        "WHERE user_id = :u AND community_id = :c AND kind = 'wallet'"
    )
    params = {"u": setup.resident.user_id, "c": setup.community_id}
    before = (await db.execute(text(balance), params)).scalar_one()
    await page_login(client, setup.admin)
    asked = await _award_on_page(client, setup, "award", "99999999", "big-1")
    assert asked.status_code == 200 and 'data-confirm="large-award"' in asked.text
    assert "确认为王阿姨发放 99999999 积分吗？" in asked.text and "确认发放 99999999 积分" in asked.text
    assert (await db.execute(text(balance), params)).scalar_one() == before
    yes = {
        "action": "award",
        "user_id": str(setup.resident.user_id),
        "points": "99999999",
        "reason": "楼道清理",
        "nonce": "big-1",
        "again": "1",
    }
    url = f"/admin/c/{setup.community_id}/ledger"
    first, second = [await post_form(client, url, yes) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303)
    assert (await db.execute(text(balance), params)).scalar_one() == before + 99999999
    # An everyday award is not asked about.
    small = await _award_on_page(client, setup, "award", "999", "small-1")
    assert small.status_code == 303


async def test_a_negative_number_typed_to_deduct_is_told_where_deducting_is(
    client: Any, setup: Any, db: Any
) -> None:
    """-5 typed to take five points away was refused as "积分须为 1 到 9007199254740991 之间的整数。",
    a number no admin knows, without a word of the form's Deduct button; the refusal says how to
    deduct, keeps what was typed and moves nothing."""
    balance = (
        "SELECT coalesce(sum(balance), 0) FROM ledger_accounts "
        "WHERE user_id = :u AND community_id = :c AND kind = 'wallet'"
    )
    params = {"u": setup.resident.user_id, "c": setup.community_id}
    before = (await db.execute(text(balance), params)).scalar_one()
    await page_login(client, setup.admin)
    for points in ("-5", "0"):
        refused = await _award_on_page(client, setup, "award", points, f"neg{points}")
        assert refused.status_code == 422, refused.text[:300]
        assert "要扣减积分，请填写扣减的数量，再点“扣减”。" in refused.text
        assert "9007199254740991" not in refused.text and 'value="楼道清理"' in refused.text
    assert (await db.execute(text(balance), params)).scalar_one() == before


async def test_the_award_form_keeps_the_people_found_when_it_comes_back(
    client: Any, setup: Any, db: Any
) -> None:
    """The form is sent from a search (丁娜 among 2,000 households): refused, it came back with
    the search's words in their box and the first 200 people by name in the list; done, with
    neither. The people found stay listed both times."""
    cid = setup.community_id
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT 'A居民' || lpad(n::text, 3, '0') "
            "FROM generate_series(1, 205) n RETURNING id) "
            "INSERT INTO memberships (user_id, community_id, roles) SELECT id, :c, '{resident}' FROM u"
        ),
        {"c": cid},
    )
    await db.commit()
    await page_login(client, setup.admin)
    url = f"/admin/c/{cid}/ledger?q=王阿"
    form = {"action": "award", "user_id": str(setup.resident.user_id), "reason": "楼道清理"}
    refused = await post_form(client, url, {**form, "points": "0", "nonce": "kept-1"})
    assert refused.status_code == 422
    assert "A居民" not in refused.text and "data-more" not in refused.text
    assert re.search(rf'<option value="{setup.resident.user_id}" selected>王阿姨', refused.text)
    done = await post_form(client, url, {**form, "points": "5", "nonce": "kept-2"})
    assert done.status_code == 303 and "q=%E7%8E%8B%E9%98%BF" in done.headers["location"]
    after = (await client.get(done.headers["location"])).text
    assert "A居民" not in after and 'value="王阿"' in after and "王阿姨" in after


async def test_the_award_form_chooses_a_person_found_on_a_second_page_keeping_what_was_typed(
    client: Any, setup: Any, db: Any, monkeypatch: Any
) -> None:
    """The award form listed the first 200 members by name as options: the others were found by a
    search of its own, which dropped the points and the reason typed. Its Find and its pages now
    send the form back to itself, ten people a page (here three), with what was typed kept and
    nothing awarded until Award is pressed for the person chosen on a later page."""
    monkeypatch.setattr(ledger_pages, "PEOPLE_PAGE", 3)
    cid = setup.community_id
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT '王阿' || n FROM generate_series(1, 4) n "
            "RETURNING id) INSERT INTO memberships (user_id, community_id, roles) "
            "SELECT id, :c, '{resident}' FROM u"
        ),
        {"c": cid},
    )
    await db.commit()
    await page_login(client, setup.admin)
    url = f"/admin/c/{cid}/ledger"
    typed = {"points": "7", "reason": "楼道清理"}
    found = await post_form(client, url, {**typed, "q": "王阿", "find": "1"})
    assert found.status_code == 200 and "data-not-saved" in found.text
    # Said in a plain box: a notice wears a tick, which read as done.
    assert '<p class="hint" role="status" data-not-saved>' in found.text
    assert 'value="楼道清理"' in found.text and 'value="7"' in found.text
    # 王阿1 .. 王阿4 and 王阿姨: five found, three a page, 王阿姨 on the second.
    wang = setup.resident.user_id
    assert f'<option value="{wang}"' not in _people(found.text) and "找到 5 人" in found.text
    assert f'formaction="{url}#person"' in found.text
    second = await post_form(client, url, {**typed, "q": "王阿", "people_page": "2"})
    assert second.status_code == 200 and f'<option value="{wang}"' in _people(second.text)
    assert 'name="people_page" value="1"' in second.text and 'value="楼道清理"' in second.text
    balance = "SELECT coalesce(sum(balance), 0) FROM ledger_accounts WHERE user_id = :u AND community_id = :c"
    before = await db.scalar(text(balance), {"u": wang, "c": cid})
    nonce = re.search(r'name="nonce" value="(\d+)"', second.text)
    assert nonce
    form = {**typed, "q": "王阿", "action": "award", "user_id": str(wang), "nonce": nonce.group(1)}
    done = await post_form(client, url, form)
    assert done.status_code == 303, done.text[:500]
    await db.rollback()
    assert await db.scalar(text(balance), {"u": wang, "c": cid}) == before + 7
    # Chosen and paged on, the person chosen stays selected on every page.
    kept = await post_form(client, url, {**typed, "q": "王阿", "people_page": "1", "user_id": str(wang)})
    assert re.search(rf'<option value="{wang}" selected>王阿姨', kept.text)
