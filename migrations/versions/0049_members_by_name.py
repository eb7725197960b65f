"""a membership keeps its person's name, so a community's members are read by name from an index

The residents list and the people pickers show a community's members by name, 50 at a time, and
the name was only on `users`: PostgreSQL read and sorted every member of the community (5,000 in
a large one) for each page. A membership now keeps a copy of its person's `display_name`, which
the database alone writes: a trigger fills it on every insert or change of a membership, and
another copies a renamed person's new name to each of their memberships, so no code can leave
it stale. Indexes on `(community_id, display_name, user_id)` and `(building_id, display_name,
user_id)` give a page's rows in the pages' own order (name, then id) and a page's count from the
index alone. The index on `community_id` alone goes: the new one answers everything it did, and
with both, a plan made for any community (a generic plan) could take the old one and sort.

Revision ID: 0049
Revises: 0048
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION membership_display_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.display_name := (SELECT u.display_name FROM users u WHERE u.id = NEW.user_id);
    RETURN NEW;
END
$$;

CREATE FUNCTION user_renamed_in_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships SET display_name = NEW.display_name
    WHERE user_id = NEW.id AND display_name IS DISTINCT FROM NEW.display_name;
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.add_column(
        "memberships", sa.Column("display_name", sa.String(50), server_default="", nullable=False)
    )
    op.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER memberships_display_name BEFORE INSERT OR UPDATE ON memberships "
        "FOR EACH ROW EXECUTE FUNCTION membership_display_name()"
    )
    op.execute(
        "CREATE TRIGGER users_renamed AFTER UPDATE OF display_name ON users FOR EACH ROW "
        "WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name) "
        "EXECUTE FUNCTION user_renamed_in_memberships()"
    )
    op.execute(
        "UPDATE memberships m SET display_name = u.display_name FROM users u "
        "WHERE u.id = m.user_id AND m.display_name IS DISTINCT FROM u.display_name"
    )
    op.create_index(
        "ix_memberships_community_name", "memberships", ["community_id", "display_name", "user_id"]
    )
    op.create_index("ix_memberships_building_name", "memberships", ["building_id", "display_name", "user_id"])
    op.drop_index("ix_memberships_community_id", table_name="memberships")


def downgrade() -> None:
    op.create_index("ix_memberships_community_id", "memberships", ["community_id"])
    op.drop_index("ix_memberships_building_name", table_name="memberships")
    op.drop_index("ix_memberships_community_name", table_name="memberships")
    op.execute("DROP TRIGGER users_renamed ON users")
    op.execute("DROP TRIGGER memberships_display_name ON memberships")
    op.execute("DROP FUNCTION user_renamed_in_memberships()")
    op.execute("DROP FUNCTION membership_display_name()")
    op.drop_column("memberships", "display_name")
