"""The circle's pure rules: distances against known coordinates, months, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.circle import rules
from app.core import clock


def test_haversine_against_known_distances() -> None:
    # One degree along a meridian is π·R/180 with the mean radius: 111,195 m.
    assert round(rules.haversine_m(0, 0, 1, 0)) == 111_195
    # Half the equator.
    assert round(rules.haversine_m(0, 0, 0, 180)) == round(3.141592653589793 * rules.EARTH_RADIUS_M)
    # 鼓楼 (26.0822, 119.2961) to 于山 (26.0786, 119.3050): about 970 m, as a map measures it.
    assert 950 < rules.haversine_m(26.0822, 119.2961, 26.0786, 119.3050) < 990
    assert rules.haversine_m(26.08, 119.29, 26.08, 119.29) == 0


def test_walking_minutes_at_80_metres_a_minute_and_the_circle() -> None:
    assert [rules.walk_minutes(m) for m in (0, 1, 80, 81, 1200, 1201)] == [0, 1, 1, 2, 15, 16]
    assert rules.within_circle(15) and not rules.within_circle(16) and not rules.within_circle(None)


def test_nearest_first_puts_offers_without_a_location_last() -> None:
    placed = [
        rules.Placed(1, None, None),
        rules.Placed(2, 26.0900, 119.3050),
        rules.Placed(3, 26.0840, 119.2975),
    ]
    measured = rules.distances((26.0822, 119.2961), placed)
    assert rules.nearest_first([1, 2, 3], measured) == [3, 2, 1]
    assert rules.distances(None, placed)[3] == (None, None)


def test_months_in_the_community_time_zone() -> None:
    late = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 April in Beijing
    assert clock.month_of(late, "Asia/Shanghai") == date(2026, 4, 1)
    assert clock.month_of(late, "UTC") == date(2026, 3, 1)
    start, end = clock.month_bounds(date(2026, 12, 1), "Asia/Shanghai")
    assert start.isoformat() == "2026-12-01T00:00:00+08:00" and end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert clock.parse_month("2026-02") == date(2026, 2, 1)
    assert [clock.parse_month(t) for t in ("2026-13", "26-02", "2026/02", "", None)] == [None] * 5
    assert rules.may_close(date(2026, 3, 1), late, "UTC") is False
    assert rules.may_close(date(2026, 3, 1), late, "Asia/Shanghai") is True


def test_refusals() -> None:
    base = {"status": "active", "cash_cents": 0, "payments_on": False, "quota": None, "sold_this_month": 0}
    assert rules.purchase_refusal(**base, limit=None, mine_this_month=0) is None
    assert (
        rules.purchase_refusal(**{**base, "cash_cents": 1}, limit=None, mine_this_month=0) == "payments_off"
    )
    assert rules.purchase_refusal(
        **{**base, "quota": 3, "sold_this_month": 3}, limit=None, mine_this_month=0
    ) == ("limit_reached")
    assert rules.purchase_refusal(**base, limit=1, mine_this_month=1) == "limit_reached"
    assert (
        rules.purchase_refusal(**{**base, "status": "pending"}, limit=None, mine_this_month=0) == "not_found"
    )
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert rules.redeem_refusal("held", datetime(2026, 3, 2, tzinfo=UTC), now) is None
    assert rules.redeem_refusal("held", now, now) == "code_expired"
    assert rules.redeem_refusal("redeemed", now, now) == "already_done"
    assert rules.redeem_refusal("cancelled", now, now) == "code_invalid"


def test_voucher_codes() -> None:
    secret = rules.new_secret()
    assert rules.parse_voucher_code(rules.voucher_code(secret)) == secret
    assert rules.parse_voucher_code(rules.voucher_code(secret).lower()) == secret
    assert rules.parse_voucher_code("JP1-" + secret) is None
    assert rules.parse_voucher_code("JV1-" + secret[:-1]) is None
    assert len(rules.new_digits()) == 8 and rules.grouped_digits("12345678") == "1234 5678"


def test_what_is_left_this_month_is_what_a_purchase_is_refused_at() -> None:
    """The offer's page says how many are left from the same rule that refuses a purchase."""
    assert rules.left_this_month(5, 3, 2, 1) == 1  # the resident's limit binds first
    assert rules.left_this_month(5, 4, 3, 0) == 1  # the quota for everyone binds first
    assert rules.left_this_month(3, 5, None, 0) == 0  # sold past the quota (a lowered quota)
    assert rules.left_this_month(None, 9, None, 9) is None
    base = {"status": "active", "cash_cents": 0, "payments_on": False}
    for quota in (None, 0, 1, 2):
        for limit in (None, 0, 1, 2):
            for sold in range(4):
                for mine in range(sold + 1):
                    left = rules.left_this_month(quota, sold, limit, mine)
                    refusal = rules.purchase_refusal(
                        **base, quota=quota, sold_this_month=sold, limit=limit, mine_this_month=mine
                    )
                    assert (refusal == "limit_reached") == (left == 0), (quota, limit, sold, mine)
