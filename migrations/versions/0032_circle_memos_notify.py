"""an offer's facts, its community's voucher days and whom a member acts for notify their changes

Buying a voucher remembers what it reads of the offer (app.circle.vouchers.KnownOffers), as an
order remembers its item's facts, so that a resident's usual purchase is one statement; a
voucher's scan remembers the organisations its scanner acts for (app.circle.memos), so that the
usual redemption is one statement too. These triggers, made as migration 0009 made the others
(`jinlin_notify_row`), tell every worker when an offer, its community's circle settings or an
organisation's members change; tests/integration/test_change_feed.py reads them back and compares
them with the columns the cached statements read.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# table -> (key columns the notification carries, rows whose arrival or removal matters, the
# columns whose change matters), as in migration 0009.
TRIGGERS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "circle_offers": (
        ("id",),
        "DELETE",
        (
            "id",
            "community_id",
            "organisation_id",
            "name",
            "points_price",
            "cash_price_cents",
            "status",
            "monthly_quota",
            "per_resident_limit",
            "home_visit",
        ),
    ),
    "circle_settings": (("community_id",), "INSERT OR DELETE", ("community_id", "voucher_days")),
    "organisation_members": (("user_id",), "INSERT OR DELETE", ("user_id", "organisation_id", "is_admin")),
}


def upgrade() -> None:
    for table, (keys, rows, columns) in TRIGGERS.items():
        arguments = ", ".join(f"'{key}'" for key in keys)
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_rows AFTER {rows} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION jinlin_notify_row({arguments})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_updated AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jinlin_notify_row({arguments})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_notify_row()"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        for suffix in ("rows", "updated", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}")
