"""Which wishes are in the public pool is written once (app.wishes.rules.IN_POOL) and read by the
pool page, the wishes list's visibility, a partner unit's access and a funding goal's openness."""

from app.wishes import rules


def test_the_pool_holds_the_wishes_waiting_taken_up_or_come_true():
    assert rules.IN_POOL == ("published", "claimed", "delivered")


def test_the_statements_choose_the_pool_by_the_same_statuses():
    assert rules.IN_POOL_SQL == "('published', 'claimed', 'delivered')"
