"""money: Checkout payments, contributions to funding goals by source, Stripe events, and the
offline test Stripe's sessions

A goal's funded total is the sum of its contributions (append-only, a refund is a negative row),
read through the SQL function funding_total(kind, id); the micro-wishes' stored `funded_cents`
column goes.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref_id", sa.BigInteger),
        sa.Column("target_kind", sa.String(20)),
        sa.Column("target_id", sa.BigInteger),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("display_name", sa.String(60), nullable=False, server_default=""),
        sa.Column("show_name", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("contact", sa.String(120), nullable=False, server_default=""),
        sa.Column("session_id", sa.String(255)),
        sa.Column("checkout_url", sa.String(2000)),
        sa.Column("payment_intent", sa.String(255)),
        sa.Column("refund_requested_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('open', 'paid', 'expired', 'refunded')", name="status"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
        sa.CheckConstraint(
            "(kind = 'donation') = (target_kind IS NOT NULL AND target_id IS NOT NULL)",
            name="target",
        ),
        sa.UniqueConstraint("kind", "idempotency_key", name="uq_payments_kind_key"),
        sa.UniqueConstraint("session_id", name="uq_payments_session_id"),
    )
    op.create_index("ix_payments_target", "payments", ["target_kind", "target_id"])
    op.create_index("ix_payments_community_created", "payments", ["community_id", "created_at"])

    op.create_table(
        "funding_contributions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target_id", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payments.id")),
        sa.Column("name", sa.String(100), nullable=False, server_default=""),
        sa.Column("show_name", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("recorded_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(
            "source IN ('government', 'partner', 'residents', 'online')", name="source"
        ),
        sa.CheckConstraint("amount_cents <> 0", name="amount"),
        sa.CheckConstraint(
            "(source = 'online') = (payment_id IS NOT NULL)", name="online_has_payment"
        ),
    )
    op.create_index("ix_funding_contributions_community_id", "funding_contributions", ["community_id"])
    op.create_index("ix_funding_contributions_target", "funding_contributions", ["target_kind", "target_id"])
    op.create_index(
        "uq_funding_contributions_payment_paid",
        "funding_contributions",
        ["payment_id"],
        unique=True,
        postgresql_where=sa.text("amount_cents > 0"),
    )
    op.create_index(
        "uq_funding_contributions_payment_refund",
        "funding_contributions",
        ["payment_id"],
        unique=True,
        postgresql_where=sa.text("amount_cents < 0"),
    )
    op.execute(
        """
CREATE FUNCTION funding_contributions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'funding contributions are append-only: record a correcting row instead'
        USING ERRCODE = 'restrict_violation';
END $$
"""
    )
    op.execute(
        "CREATE TRIGGER funding_contributions_no_update_delete BEFORE UPDATE OR DELETE "
        "ON funding_contributions FOR EACH ROW EXECUTE FUNCTION funding_contributions_immutable()"
    )

    # A goal's funded total, in one place: every page, API answer and export reads it from here.
    op.execute(
        """
CREATE FUNCTION funding_total(kind varchar, target bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(sum(amount_cents), 0)::bigint FROM funding_contributions
    WHERE target_kind = kind AND target_id = target
$$
"""
    )

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("body", postgresql.JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(40), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_stripe_events_waiting",
        "stripe_events",
        ["received_at"],
        postgresql_where=sa.text("handled_at IS NULL"),
    )

    op.create_table(
        "offline_stripe_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("body", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("idempotency_key", name="uq_offline_stripe_sessions_idempotency_key"),
    )

    op.drop_constraint("funded", "wishes", type_="check")
    op.drop_column("wishes", "funded_cents")


def downgrade() -> None:
    op.add_column("wishes", sa.Column("funded_cents", sa.BigInteger, nullable=False, server_default="0"))
    op.create_check_constraint("funded", "wishes", "funded_cents >= 0")
    op.drop_table("offline_stripe_sessions")
    op.drop_table("stripe_events")
    op.execute("DROP FUNCTION IF EXISTS funding_total(varchar, bigint)")
    op.execute("DROP TRIGGER IF EXISTS funding_contributions_no_update_delete ON funding_contributions")
    op.drop_table("funding_contributions")
    op.execute("DROP FUNCTION IF EXISTS funding_contributions_immutable()")
    op.drop_table("payments")
