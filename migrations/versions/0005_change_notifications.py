"""change notifications for what workers remember (joins the two heads)

Every worker keeps the actors of recent sessions, the scan path's event rows and the order
path's item facts in memory (app.core.changes) and forgets them when PostgreSQL says on channel
`jinlin_changes` that one of their tables changed: a session ended, a user was deactivated or
renamed, a role changed, an event or an item was edited. The triggers sit on the tables, so no code path can change them and forget to
tell. Statement-level: one notification per statement, and PostgreSQL folds identical ones
within a transaction. Sent at commit, never for a rollback.

Revision ID: 0005
Revises: 0003, 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = ("0003", "0004")
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION jinlin_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jinlin_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$
"""

# table -> the changes that matter to a memory. A session's `last_seen_at` is touched once a
# minute per session and changes nobody's rights, and an event's `attendee_count` moves with
# every first check-in and is not remembered, so an UPDATE of only those is left out.
TRIGGERS = {
    "auth_sessions": "DELETE OR UPDATE OF digest, user_id, kind, expires_at",
    "users": "DELETE OR UPDATE OF is_active, display_name",
    "memberships": "INSERT OR DELETE OR UPDATE",
    "street_roles": "INSERT OR DELETE OR UPDATE",
    "communities": "INSERT OR DELETE OR UPDATE OF street_id",
    # The columns of app.events.checkins.EVENT_COLUMNS.
    "events": "DELETE OR UPDATE OF id, community_id, title, status, starts_at, ends_at, capacity, "
    "signup_required, points_per_attendance, points_per_hour, max_points, auto_award, kiosk_enabled, "
    "kiosk_confirmation, reentry_allowed, organiser_ids",
    # What app.store.orders.ItemFacts holds: all but the stock, which every order moves.
    "store_items": "DELETE OR UPDATE OF id, community_id, points_price, active, per_resident_limit",
    "store_settings": "INSERT OR DELETE OR UPDATE",
}


def upgrade() -> None:
    op.execute(FUNCTION)
    for table, events in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_notify_change()"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jinlin_notify_change()")
