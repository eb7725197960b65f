"""Refusals and export headers name money in the currency payments are taken in
(STRIPE_CURRENCY), as the pages' amounts do: under usd the donation's refusal, the admin's
contribution form and the contributions' export say USD in both languages, never yuan or 元; under
cny they read as they did. The API's fields stay numbers in cents."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from tests.api.helpers import post_form, session_of
from tests.payments.conftest import wish_with_goal

EN = {"Accept-Language": "en"}


def _header(body: str) -> list[str]:
    return next(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


async def test_refusals_and_export_headers_name_the_configured_currency(
    client: Any, factory: Any, app: Any, settings: Any, monkeypatch: Any
) -> None:
    goal = await wish_with_goal(client, factory)
    donations = f"/api/v1/wishes/{goal.wish_id}/donations"
    too_little = {"amount_cents": 50, "idempotency_key": "small"}

    async def refusals(currency: str) -> list[str]:
        monkeypatch.setattr(app.state, "settings", replace(settings, stripe_currency=currency))
        said = []
        for headers in ({}, EN):
            answer = await client.post(
                donations, json=too_little, headers={**goal.resident.headers, **headers}
            )
            assert answer.status_code == 422 and answer.json()["code"] == "validation_error", answer.text
            said.append(answer.json()["detail"])
        await session_of(client, goal.admin)
        for amount in ("12,5x", "0"):
            form = {"source": "partner", "amount": amount, "name": "东街物业", "show_name": "", "note": ""}
            page = await post_form(client, f"/payments/admin/wish/{goal.wish_id}/contributions", form)
            assert page.status_code == 422, page.text[:300]
            said.append(page.text.split('role="alert"', 1)[1].split("</", 1)[0])
        for headers in ({}, EN):
            taken = await client.get(
                f"/admin/c/{goal.community_id}/exports/contributions.csv", headers=headers
            )
            assert taken.status_code == 200, taken.text[:300]
            said.append(_header(taken.text)[5])
        return said

    assert await refusals("cny") == [
        "金额至少为1.00元。",
        "Give an amount of at least 1.00 yuan.",
        ">请输入以元为单位的金额，例如 50 或 12.50。",
        ">金额至少为0.01元。",
        "金额（元）",
        "Amount (yuan)",
    ]
    in_dollars = await refusals("usd")
    assert in_dollars == [
        "金额至少为1.00 USD。",
        "Give an amount of at least 1.00 USD.",
        ">请输入以USD为单位的金额，例如 50 或 12.50。",
        ">金额至少为0.01 USD。",
        "金额（USD）",
        "Amount (USD)",
    ]
    assert not any("元" in text or "yuan" in text for text in in_dollars)
