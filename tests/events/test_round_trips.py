"""What a scan sends PostgreSQL (docs/architecture.md, the unit of work): a use case of one
statement runs it with no transaction around it; one of several opens its transaction."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from app.events import checkins
from tests.events.conftest import kiosk_code, make_event, scan
from tests.statements import statements_sent, transaction_control


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


async def test_a_kiosk_check_in_and_check_out_are_one_statement_each(app, client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=None, reentry_allowed=True)
    checkin_code = await kiosk_code(client, admin, event_id, "checkin")
    with statements_sent(app) as sent:
        first = await scan(client, alice, checkin_code)
    assert first.status_code == 200, first.text
    assert transaction_control(sent) == []
    assert sent.count(_one_line(checkins.CHECK_IN_LOGGED.text)) == 1

    clock.advance(timedelta(hours=1))
    with statements_sent(app) as sent:
        out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200, out.text
    assert out.json()["points_awarded"] > 0
    assert transaction_control(sent) == []
    # Alice's first points made her wallet (statements of their own), then the check-out ran again.
    assert sent.count(_one_line(checkins.CHECK_OUT_LOGGED.text)) == 2

    clock.advance(timedelta(minutes=5))
    with statements_sent(app) as sent:
        again = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
        twice = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
        out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert [again.status_code, twice.status_code, out.status_code] == [200, 409, 200]
    assert transaction_control(sent) == []
    assert sent.count(_one_line(checkins.CHECK_OUT_LOGGED.text)) == 1  # her wallet is there now


async def test_a_check_in_that_takes_a_place_is_one_transaction(app, client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=1)
    with statements_sent(app) as sent:
        first = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
    assert first.status_code == 200, first.text
    assert transaction_control(sent) == ["BEGIN;", "COMMIT;"]
