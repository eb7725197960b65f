"""a membership made while its person is renamed takes the new name

Migration 0049's trigger named a new membership after its person by reading the committed name,
and a rename copies the new name to the person's memberships: when both happened at once, the
rename did not see the uncommitted membership and the membership read the name from before the
rename, so it kept the old one. The insert now reads the person's row FOR SHARE, which a rename
holds and waits for (and which makes a rename wait for the insert's commit, after which its copy
sees the new membership). An update of a membership that keeps its person takes no lock: a rename
waits for that row by itself.

Revision ID: 0050
Revises: 0049
"""

from __future__ import annotations

from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None

WAITING = """
CREATE OR REPLACE FUNCTION membership_display_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        NEW.display_name := (SELECT u.display_name FROM users u WHERE u.id = NEW.user_id FOR SHARE);
    ELSE
        NEW.display_name := (SELECT u.display_name FROM users u WHERE u.id = NEW.user_id);
    END IF;
    RETURN NEW;
END
$$;
"""

READING = """
CREATE OR REPLACE FUNCTION membership_display_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.display_name := (SELECT u.display_name FROM users u WHERE u.id = NEW.user_id);
    RETURN NEW;
END
$$;
"""


def upgrade() -> None:
    op.execute(WAITING)


def downgrade() -> None:
    op.execute(READING)
