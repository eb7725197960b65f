"""an item's name is remembered too: renaming it notifies

The order path's item facts (app.store.placing.ItemFacts) now carry the item's name, which the
order's structured reason stores; migration 0009's trigger on store_items did not list it, so a
renamed item would have kept its old name in workers' memory for up to a minute.
tests/integration/test_change_feed.py found it.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = ("id", "community_id", "points_price", "active", "per_resident_limit")
AFTER = ("id", "community_id", "name", "points_price", "active", "per_resident_limit")


def _trigger(columns: tuple[str, ...]) -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    op.execute("DROP TRIGGER IF EXISTS store_items_updated ON store_items")
    op.execute(
        f"CREATE TRIGGER store_items_updated AFTER UPDATE OF {', '.join(columns)} ON store_items "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jinlin_notify_row('id')"
    )


def upgrade() -> None:
    _trigger(AFTER)


def downgrade() -> None:
    _trigger(BEFORE)
