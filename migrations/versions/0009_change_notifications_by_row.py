"""change notifications name the row: table, key column and value

Migration 0005's triggers told every worker only a table's name, once per statement, so a new
session, a logout or an event edit made every worker forget all it held of that table, and a
statement that changed no row (a login that replaces no planted session) told them too. These
triggers fire per row and only when a remembered column really changed (the UPDATE's WHEN
clause), and the payload is `table:column:value` for each key column given as the trigger's
arguments (an UPDATE that moves a row from one key to another sends both). A TRUNCATE sends the
table's name alone: forget all of it.

The remembered columns are those the cached statements read (app.core.changes' users:
app.accounts.services' actor query, app.events.checkins.EVENT_COLUMNS,
app.store.placing's order context); tests/integration/test_change_triggers.py reads these
triggers back from the database and compares them with those statements.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION jinlin_notify_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col text;
  old_row jsonb;
  new_row jsonb;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('jinlin_changes', TG_TABLE_NAME);
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF old_row IS NOT NULL THEN
      PERFORM pg_notify('jinlin_changes', TG_TABLE_NAME || ':' || col || ':' || coalesce(old_row ->> col, ''));
    END IF;
    IF new_row IS NOT NULL AND (old_row IS NULL OR (new_row -> col) IS DISTINCT FROM (old_row -> col)) THEN
      PERFORM pg_notify('jinlin_changes', TG_TABLE_NAME || ':' || col || ':' || coalesce(new_row ->> col, ''));
    END IF;
  END LOOP;
  RETURN NULL;
END
$$
"""

# table -> (key columns the notification carries, rows whose arrival or removal matters, the
# columns whose change matters). A session's `last_seen_at` (touched once a minute, and the
# actor cache keeps an entry only until the next touch is due), an event's `attendee_count` and
# an item's `stock` (moved by every check-in and order, and never remembered) are left out.
TRIGGERS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "auth_sessions": (("digest", "user_id"), "DELETE", ("digest", "user_id", "kind", "expires_at")),
    "users": (("id",), "DELETE", ("id", "display_name", "is_active")),
    "memberships": (("user_id",), "INSERT OR DELETE", ("user_id", "community_id", "roles")),
    "street_roles": (("user_id",), "INSERT OR DELETE", ("user_id", "street_id", "role")),
    # By street for street admins' actors, by id for the events of a community (its time zone).
    "communities": (("street_id", "id"), "INSERT OR DELETE", ("id", "street_id", "time_zone")),
    "events": (
        ("id",),
        "DELETE",
        (
            "id",
            "community_id",
            "title",
            "status",
            "starts_at",
            "ends_at",
            "capacity",
            "signup_required",
            "points_per_attendance",
            "points_per_hour",
            "max_points",
            "auto_award",
            "kiosk_enabled",
            "kiosk_confirmation",
            "reentry_allowed",
            "organiser_ids",
        ),
    ),
    "store_items": (("id",), "DELETE", ("id", "community_id", "points_price", "active", "per_resident_limit")),
    "store_settings": (("community_id",), "INSERT OR DELETE", ("community_id", "pickup_days")),
}

# Migration 0005's, for the downgrade.
OLD_FUNCTION = """
CREATE FUNCTION jinlin_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jinlin_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$
"""
OLD_TRIGGERS = {
    "auth_sessions": "DELETE OR UPDATE OF digest, user_id, kind, expires_at",
    "users": "DELETE OR UPDATE OF is_active, display_name",
    "memberships": "INSERT OR DELETE OR UPDATE",
    "street_roles": "INSERT OR DELETE OR UPDATE",
    "communities": "INSERT OR DELETE OR UPDATE OF street_id",
    "events": "DELETE OR UPDATE OF id, community_id, title, status, starts_at, ends_at, capacity, "
    "signup_required, points_per_attendance, points_per_hour, max_points, auto_award, kiosk_enabled, "
    "kiosk_confirmation, reentry_allowed, organiser_ids",
    "store_items": "DELETE OR UPDATE OF id, community_id, points_price, active, per_resident_limit",
    "store_settings": "INSERT OR DELETE OR UPDATE",
}


def upgrade() -> None:
    for table in OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jinlin_notify_change()")
    op.execute(FUNCTION)
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
    op.execute("DROP FUNCTION IF EXISTS jinlin_notify_row()")
    op.execute(OLD_FUNCTION)
    for table, events in OLD_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_notify_change()"
        )
