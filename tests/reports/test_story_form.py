"""A results-wall story's form sent twice (a double tap on 发布, or a resend after a slow answer)
writes one story with one photo: the second sending stores no photo file."""

from __future__ import annotations

import re
from typing import Any

from app.core.authz import Actor
from app.reports import stories
from tests.api.helpers import post_form, session_of
from tests.conftest import Factory, count, sent_twice_at_once
from tests.reports.test_wall import _png

STORIES = "SELECT count(*) FROM wall_stories WHERE community_id = :c AND title = :t"
FIELDS = {"title": "双击发布的楼道改造", "happened_on": "2026-11-20", "body": "三栋楼道装上了扶手。"}


def _files(settings: Any) -> int:
    folder = settings.uploads_dir / stories.FOLDER
    return len(list(folder.iterdir())) if folder.exists() else 0


async def test_a_story_form_sent_twice_writes_one_story_with_one_photo(
    client: Any, factory: Factory, db: Any, settings: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    await session_of(client, tenant.admin)
    key = re.search(r'name="key" value="([^"]+)"', (await client.get(f"/admin/c/{cid}/wall")).text).group(1)
    files = _files(settings)
    first, second = [
        await post_form(
            client,
            f"/admin/c/{cid}/wall/stories",
            {**FIELDS, "key": key},
            files={"photo": ("楼道.png", _png(), "image/png")},
        )
        for _ in "12"
    ]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, STORIES, c=cid, t=FIELDS["title"]) == 1
    assert _files(settings) == files + 1


async def test_the_same_story_form_committing_twice_at_once_writes_one_story(
    factory: Factory, engine: Any, db: Any, settings: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = Actor(tenant.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    data = stories.StoryInput("同时送达的故事", "三栋楼道装上了扶手。", "2026-11-20")
    files = _files(settings)
    made, again = await sent_twice_at_once(
        engine,
        lambda s: stories.save_story(
            s, admin, cid, data, raw_photo=_png(), uploads_dir=settings.uploads_dir, form_key="same-story"
        ),
    )
    assert (again.id, again.photo) == (made.id, made.photo)
    assert await count(db, STORIES, c=cid, t="同时送达的故事") == 1
    assert _files(settings) == files + 1


async def test_a_story_change_with_a_photo_sent_twice_stores_the_photo_once(
    client: Any, factory: Factory, settings: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    await session_of(client, tenant.admin)
    made = await post_form(client, f"/admin/c/{cid}/wall/stories", {**FIELDS, "title": "改过两次的故事"})
    assert made.status_code == 303
    story_id = int(made.headers["location"].rsplit("#story-", 1)[1])
    files = _files(settings)
    for _ in "12":
        changed = await post_form(
            client,
            f"/admin/c/{cid}/wall/stories/{story_id}",
            {**FIELDS, "title": "改过两次的故事"},
            files={"photo": ("楼道.png", _png(), "image/png")},
        )
        assert changed.status_code == 303
    assert _files(settings) == files + 1
