"""actor changes: a notification whenever who-may-do-what changes (joins the two heads)

Every worker keeps the actors of recent sessions in memory (app.accounts.actor_cache) and
forgets them all when PostgreSQL says on channel `jinlin_actors` that a session ended, a user
was deactivated or renamed, or a role changed. The triggers sit on the tables, so no code path
can change them and forget to tell. Statement-level: one notification per statement, and
PostgreSQL folds identical ones within a transaction. Sent at commit, never for a rollback.

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
CREATE FUNCTION jinlin_actor_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jinlin_actors', TG_TABLE_NAME);
  RETURN NULL;
END
$$
"""

# table -> the events that change an actor. A session's `last_seen_at` is touched once a
# minute per session and changes nobody's rights, so an UPDATE of it alone is left out.
TRIGGERS = {
    "auth_sessions": "DELETE OR UPDATE OF digest, user_id, kind, expires_at",
    "users": "DELETE OR UPDATE OF is_active, display_name",
    "memberships": "INSERT OR DELETE OR UPDATE",
    "street_roles": "INSERT OR DELETE OR UPDATE",
    "communities": "INSERT OR DELETE OR UPDATE OF street_id",
}


def upgrade() -> None:
    op.execute(FUNCTION)
    for table, events in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_actor_changed AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_actor_changed()"
        )


def downgrade() -> None:
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_actor_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jinlin_actor_changed()")
