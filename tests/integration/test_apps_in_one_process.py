"""A process may make more than one app: tests make one with other settings beside the shared
one. Advanced Alchemy gives each app's config a scope key of its own for a request's session
(the first config of a process takes the default key, the next `..._1`), and the pages' unit of
work (app.core.uow.before_send) must find the session under its own app's key: looking under the
default one, a later app's pages neither committed nor closed their sessions, and what such a
page wrote (a login's counted attempt) stayed locked, so that every later login from the same
address waited a minute on it and failed."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.core.settings import Settings
from tests.api.helpers import page_login
from tests.conftest import Factory, count


async def test_an_app_made_after_another_commits_its_pages_work(
    app: Any, settings: Settings, factory: Factory, db: Any
) -> None:
    other = create_app(settings)
    assert other.state["db_config"].session_scope_key != app.state["db_config"].session_scope_key
    tenant = await factory.tenant()
    async with AsyncTestClient(app=other, base_url="http://testserver.local") as browser:
        await page_login(browser, tenant.admin)
        # Committed: seen from another connection while the other app still runs.
        signed_in = await count(
            db, "SELECT count(*) FROM auth_sessions WHERE user_id = :u", u=tenant.admin.user_id
        )
    assert signed_in == 1
