"""A refused form shows its page again through one helper (app.core.web.reopen_page): the
refusal's writes are rolled back, the page gets the refusal's sentence in the reader's language
and its status, and a refusal that is not the form's to show (forbidden, not found) goes on to
the error page."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

import pytest
from litestar import Request
from sqlalchemy import text

from app.core.errors import DomainError, Forbidden, Invalid
from app.core.i18n import lazy
from app.core.web import reopen_page


def _request(lang: str, app: Any) -> Request:
    """A page form's request to the test process's app (its settings name the currency)."""
    scope: Any = {
        "litestar_app": app,
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"accept-language", lang.encode())],
        "query_string": b"",
        "state": {},
    }
    return Request(scope)


async def _page(shown: list[dict[str, Any]], which: str, **context: Any) -> str:
    shown.append(context)
    return which


async def test_a_refused_form_reopens_its_page_with_the_sentence_and_status_after_a_rollback(
    db, app: Any
) -> None:
    key = f"reopen-test-{secrets.token_hex(4)}"
    written = text("SELECT count(*) FROM attempt_counters WHERE key = :k")
    # The refused use case's write, in the request's transaction.
    await db.execute(
        text("INSERT INTO attempt_counters (key, attempts, started_at) VALUES (:k, 1, now())"), {"k": key}
    )
    assert (await db.execute(written, {"k": key})).scalar() == 1
    shown: list[dict[str, Any]] = []
    refusal = Invalid(lazy("Tick the box to confirm."))
    page = await reopen_page(
        _request("en", app), db, refusal, partial(_page, shown, "detail"), form={"a": "1"}
    )
    assert page == "detail"
    assert shown == [{"error": "Tick the box to confirm.", "status_code": 422, "form": {"a": "1"}}]
    assert (await db.execute(written, {"k": key})).scalar() == 0
    await reopen_page(_request("zh-CN", app), db, refusal, partial(_page, shown, "detail"))
    assert shown[-1]["error"] == "请勾选确认框。"


@pytest.mark.parametrize("refusal", [Forbidden(), DomainError("not_found", 404)])
async def test_forbidden_and_not_found_go_on_to_the_error_page(db, app: Any, refusal: DomainError) -> None:
    shown: list[dict[str, Any]] = []
    with pytest.raises(DomainError) as raised:
        await reopen_page(_request("en", app), db, refusal, partial(_page, shown, "detail"))
    assert raised.value is refusal and shown == []
