"""Compounds', buildings' and communities' names go through the one check of typed text
(app.core.fields.human_text): a U+202E pasted into a compound's name showed it reversed on every
page and printed card that names the compound."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.api.helpers import page_login, post_form

EN = {"Accept-Language": "en"}


async def test_a_place_name_with_a_direction_mark_is_refused_and_nothing_is_stored(
    client: Any, factory: Any, db: Any
) -> None:
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    cid = tenant.community_id
    refused = await post_form(client, f"/admin/c/{cid}/compounds", {"name": "联邦\u202e新城"}, headers=EN)
    assert refused.status_code == 422 and "text-direction character" in refused.text
    refused = await post_form(
        client,
        f"/admin/c/{cid}/compounds",
        {"name": "联邦新城", "address": "鼓楼\u202e区", "households": "320"},
        headers=EN,
    )
    assert refused.status_code == 422 and "text-direction character" in refused.text
    # The refused form comes back with what was typed.
    assert 'id="new-compound-name" name="name" required value="联邦新城"' in refused.text
    assert 'value="320"' in refused.text
    count = "SELECT count(*) FROM compounds WHERE community_id = :c"
    assert await db.scalar(text(count), {"c": cid}) == 0
    added = await post_form(client, f"/admin/c/{cid}/compounds", {"name": "联邦新城"})
    assert added.status_code == 303
    compound_id = await db.scalar(text("SELECT id FROM compounds WHERE community_id = :c"), {"c": cid})
    refused = await post_form(
        client,
        f"/admin/c/{cid}/buildings",
        {"compound_id": compound_id, "name": "1号楼", "leader_name": "张\u202d三"},
    )
    assert refused.status_code == 422 and "控制字符或文字方向符号" in refused.text
    assert "<details open>\n    <summary>添加楼栋" in refused.text
    assert f'id="bn-{compound_id}" name="name" required value="1号楼"' in refused.text
    assert await db.scalar(text("SELECT count(*) FROM buildings WHERE community_id = :c"), {"c": cid}) == 0
