"""whom a member acts for, and whether an organisation may act in a community, as SQL functions

The service circle's hot statements ask both in the statement itself (docs/architecture.md, "Where
a rule lives"): a voucher's redemption by QR code changes the voucher only if the scanner is a
member of its provider, and a purchase holds points only while the offer's provider may act in the
offer's community (its home community, or an agreement there for the year of `at` in the
community's time zone). Each function is one SELECT that PostgreSQL inlines where it is called
from a FROM list (a set-returning SQL function, STABLE), so a statement's plan reads the tables
themselves; the partners' own answers (app.partners.providers) read the same functions.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE FUNCTION organisation_acted_for(member bigint)
RETURNS TABLE (organisation_id bigint, is_admin boolean)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT m.organisation_id, m.is_admin FROM organisation_members m WHERE m.user_id = member
$$
"""
    )
    op.execute(
        """
CREATE FUNCTION organisation_may_act(organisation bigint, community bigint, at timestamptz)
RETURNS TABLE (organisation_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT o.id FROM organisations o
  WHERE o.id = organisation AND (o.community_id = community OR EXISTS (
    SELECT 1 FROM agreements a JOIN communities c ON c.id = a.community_id
    WHERE a.organisation_id = o.id AND a.community_id = community
    AND a.year = extract(year FROM at AT TIME ZONE c.time_zone)))
$$
"""
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS organisation_may_act(bigint, bigint, timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS organisation_acted_for(bigint)")
