"""API.md's lines that no other test held to: event times are ISO 8601 with an offset and the
category one of five, refused with the error shape and nothing stored otherwise; `jinlin admin
create --street` names the street, and its last line of output is the JSON of the three ids,
the same on a second run."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text

from app.cli import main
from tests.conftest import SECRET, count, login, unique, unique_phone
from tests.events.conftest import balance, event_body, kiosk_code, scan


async def test_event_times_without_an_offset_or_an_unknown_category_are_refused(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    path = f"/api/v1/communities/{tenant.community_id}/events"
    for body in (
        event_body(starts_at="2027-01-01T10:00:00", ends_at="2027-01-01T12:00:00"),
        event_body(starts_at="2027-01-01", ends_at="2027-01-02"),
        event_body(starts_at="2027-01-01T10:00:00+08:00", ends_at="2027-01-01 12:00"),
        event_body(category="party"),
        event_body(category="Cleanup"),
        event_body(category=""),
    ):
        answer = await client.post(path, json=body, headers=admin.headers)
        assert answer.status_code == 422, (body, answer.text)
        refused = answer.json()
        assert refused["code"] == "validation_error" and refused["status_code"] == 422 and refused["detail"]
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=tenant.community_id) == 0
    for category in ("service", "cleanup", "council", "suggestion", "other"):
        made = await client.post(
            path,
            json=event_body(
                category=category, starts_at="2027-01-01T02:00:00Z", ends_at="2027-01-01T04:00:00Z"
            ),
            headers=admin.headers,
        )
        assert made.status_code == 201, made.text
    starts = await db.execute(
        text("SELECT DISTINCT starts_at AT TIME ZONE 'UTC' FROM events WHERE community_id = :c"),
        {"c": tenant.community_id},
    )
    assert [str(row[0]) for row in starts] == ["2027-01-01 02:00:00"]


def test_admin_create_names_the_street_and_ends_with_the_ids_as_json(database_url: str) -> None:
    env: dict[str, Any] = {"DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    phone, street, community = unique_phone(), unique("东街街道"), unique("军门社区")
    args = ["admin", "create", "--phone", phone, "--password", "admin-pass-1", "--community", community]
    first = CliRunner().invoke(main, [*args, "--street", street], env=env)
    assert first.exit_code == 0, (first.output, first.exception)
    ids = json.loads(first.output.strip().splitlines()[-1])
    assert set(ids) == {"user_id", "community_id", "street_id"} and all(
        isinstance(v, int) for v in ids.values()
    )
    again = CliRunner().invoke(main, [*args, "--street", street], env=env)
    assert again.exit_code == 0, (again.output, again.exception)
    assert json.loads(again.output.strip().splitlines()[-1]) == ids
    # Another community of the same street is in that street; without --street, in another.
    neighbour = [*args[:6], "--community", unique("南街社区"), "--street", street]
    beside = CliRunner().invoke(main, neighbour, env=env)
    assert beside.exit_code == 0, (beside.output, beside.exception)
    beside_ids = json.loads(beside.output.strip().splitlines()[-1])
    assert beside_ids["street_id"] == ids["street_id"] and beside_ids["community_id"] != ids["community_id"]
    elsewhere = CliRunner().invoke(main, [*args[:6], "--community", unique("北街社区")], env=env)
    assert json.loads(elsewhere.output.strip().splitlines()[-1])["street_id"] != ids["street_id"]
    refused = CliRunner().invoke(main, ["admin", "create", "--phone", "12345", *args[4:]], env=env)
    assert refused.exit_code == 1 and "validation_error" in refused.output
    assert not refused.output.strip().splitlines()[-1].startswith("{")


def test_serve_refuses_a_port_or_a_worker_count_that_cannot_be_one() -> None:
    for args in (["--port", "70000"], ["--port", "0"], ["--workers", "0"], ["--workers", "-1"]):
        result = CliRunner().invoke(main, ["serve", *args])
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert args[0] in result.output


async def test_a_required_query_parameter_left_out_is_named_as_a_field_is(client, factory):
    """A validation error names its fields (API.md's errors): a statement asked for without its
    `month` said only that something was missing, with no field in the sentence or in `errors`."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    path = f"/api/v1/organisations/{2**40}/statements"
    answer = await client.get(path, headers={**admin.headers, "Accept-Language": "en"})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "validation_error" and body["status_code"] == 422
    assert body["detail"] == "Some of the information is missing or not valid: month."
    assert [(e["key"], e["source"]) for e in body["errors"]] == [("month", "query")]
    zh = (await client.get(path, headers=admin.headers)).json()
    assert zh["detail"] == "有信息没填或填写不正确：month。"


async def test_an_event_made_without_the_optional_fields_takes_sign_ups_and_awards_at_once(client, factory):
    """API.md's defaults for an event: `signup_required` and `auto_award` true, no `max_points`. A
    resident who has not signed up is refused `not_signed_up`; one who has checks out with the
    points in the wallet when the answer arrives."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    body = event_body(points_per_attendance=5, points_per_hour=0)
    for optional in ("max_points", "auto_award", "signup_required"):
        del body[optional]
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/events", json=body, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]
    code_in = await kiosk_code(client, admin, event_id)
    refused = await scan(client, resident, code_in)
    assert refused.status_code == 409 and refused.json()["code"] == "not_signed_up", refused.text
    signed = await client.post(f"/api/v1/events/{event_id}/signups", headers=resident.headers)
    assert signed.status_code == 201 and signed.json() == {"status": "signed_up"}, signed.text
    assert (await scan(client, resident, code_in)).json()["result"] == "checked_in"
    out = await scan(client, resident, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200, out.text
    assert (out.json()["result"], out.json()["points_awarded"]) == ("checked_out", 5)
    assert isinstance(out.json()["minutes"], int)
    assert await balance(client, resident, tenant.community_id) == 5
