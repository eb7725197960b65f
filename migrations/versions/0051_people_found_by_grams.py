"""a search of people by name or phone reads the few it finds from an index

A search of the residents list and the people pickers finds a member whose name or phone has the
words typed in it (`ILIKE '%...%'`), which no btree index answers: PostgreSQL read every member
of the community (5,000 in a large one) and each of their people for one search. pg_trgm's
trigram index would answer it, but the embedded PostgreSQL (pgserver) does not ship pg_trgm, and
a trigram needs three characters where a Chinese name has two or three and a search is often
one (a surname) or two. So the index is of the name's characters and pairs of characters, built
in: `search_grams(words)` gives those of `lower(words)` (as ILIKE compares), kept beside the
name (`memberships.name_grams`) and the phone (`users.phone_grams`) by the database, and a GIN
index over them answers "has all of these" (`@>`). Whatever has the words typed has all of their
characters and pairs, so the ILIKE beside it keeps exactly the rows it always found. They are
kept, not an index's expression, because a search that matches nearly everyone is answered by
reading the community's names in order, and the function called on each of them cost that read
a hundred milliseconds. A whole phone number is found by its unique index.

A compound's residents are read by name from an index of their own, `(compound_id, display_name,
user_id)`, as a community's and a building's are (migration 0049): a plan made for any compound
(a generic plan) counted a compound's members by reading every membership.

Revision ID: 0051
Revises: 0050
"""

from __future__ import annotations

from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

# In PL/pgSQL: a search's words are split once, when a plan made for any words (a generic plan)
# compares them with each row read, and a loop costs a sixth of a SQL function's set of rows.
GRAMS = """
CREATE FUNCTION search_grams(words text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lowered text := lower(words);
    grams text[] := '{}';
BEGIN
    -- Each character and the pair it begins (the last one's "pair" is itself).
    FOR i IN 1 .. char_length(lowered) LOOP
        grams := grams || substr(lowered, i, 1) || substr(lowered, i, 2);
    END LOOP;
    RETURN grams;
END
$$;
"""


def upgrade() -> None:
    op.execute(GRAMS)
    op.execute(
        "ALTER TABLE memberships ADD COLUMN name_grams text[] "
        "GENERATED ALWAYS AS (search_grams(display_name)) STORED NOT NULL"
    )
    op.execute("ALTER TABLE users ADD COLUMN phone_grams text[] GENERATED ALWAYS AS (search_grams(phone)) STORED")
    op.create_index("ix_memberships_name_grams", "memberships", ["name_grams"], postgresql_using="gin")
    op.create_index("ix_users_phone_grams", "users", ["phone_grams"], postgresql_using="gin")
    op.create_index("ix_memberships_compound_name", "memberships", ["compound_id", "display_name", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_memberships_compound_name", table_name="memberships")
    op.drop_index("ix_users_phone_grams", table_name="users")
    op.drop_index("ix_memberships_name_grams", table_name="memberships")
    op.drop_column("users", "phone_grams")
    op.drop_column("memberships", "name_grams")
    op.execute("DROP FUNCTION search_grams(text)")
