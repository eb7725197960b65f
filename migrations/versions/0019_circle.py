"""circle: the 15-minute service circle's providers, offers, vouchers, ratings, statements, settings

A closed statement is immutable: a trigger refuses to change or delete one, except to mark a
closed month paid (status, paid_by, paid_at; nothing else).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = (
    "circle_settings",
    "circle_statements",
    "circle_ratings",
    "circle_vouchers",
    "circle_offers",
    "circle_providers",
)

IMMUTABLE = """
CREATE FUNCTION circle_statement_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'closed' AND NEW.status = 'paid'
       AND (NEW.id, NEW.community_id, NEW.organisation_id, NEW.month, NEW.vouchers, NEW.points,
            NEW.fen_per_point, NEW.cash_cents_due, NEW.fund, NEW.transfer_id, NEW.closed_by, NEW.closed_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.community_id, OLD.organisation_id, OLD.month, OLD.vouchers, OLD.points,
            OLD.fen_per_point, OLD.cash_cents_due, OLD.fund, OLD.transfer_id, OLD.closed_by, OLD.closed_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a closed statement cannot change' USING ERRCODE = 'check_violation';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "circle_providers",
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("opening_hours", sa.String(length=200), server_default="", nullable=False),
        sa.Column("home_visit", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_circle_providers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_circle_providers_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_circle_providers")),
    )
    op.create_table(
        "circle_offers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=True),
        sa.Column("points_price", sa.Integer(), nullable=False),
        sa.Column("cash_price_cents", sa.Integer(), server_default="0", nullable=False),
        sa.Column("monthly_quota", sa.Integer(), nullable=True),
        sa.Column("per_resident_limit", sa.Integer(), nullable=True),
        sa.Column("opening_times", sa.String(length=200), server_default="", nullable=False),
        sa.Column("home_visit", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("review_note", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'rejected', 'withdrawn')", name=op.f("ck_circle_offers_status")
        ),
        sa.CheckConstraint("cash_price_cents >= 0", name=op.f("ck_circle_offers_cash_not_negative")),
        sa.CheckConstraint(
            "monthly_quota IS NULL OR monthly_quota > 0", name=op.f("ck_circle_offers_quota_positive")
        ),
        sa.CheckConstraint(
            "per_resident_limit IS NULL OR per_resident_limit > 0",
            name=op.f("ck_circle_offers_limit_positive"),
        ),
        sa.CheckConstraint("points_price > 0", name=op.f("ck_circle_offers_price_positive")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_circle_offers_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_circle_offers_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_circle_offers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_circle_offers_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_offers")),
    )
    op.create_index(
        "ix_circle_offers_community_id_status", "circle_offers", ["community_id", "status"], unique=False
    )
    op.create_index("ix_circle_offers_organisation_id", "circle_offers", ["organisation_id"], unique=False)
    op.create_table(
        "circle_vouchers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("cash_cents", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="held", nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.String(length=40), nullable=False),
        sa.Column("digits", sa.String(length=8), nullable=False),
        sa.Column("qr_svg", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.BigInteger(), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.BigInteger(), nullable=True),
        sa.Column("redeem_key", sa.String(length=100), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('awaiting_payment', 'held', 'redeemed', 'cancelled', 'expired')",
            name=op.f("ck_circle_vouchers_status"),
        ),
        sa.CheckConstraint("cash_cents >= 0", name=op.f("ck_circle_vouchers_cash_not_negative")),
        sa.CheckConstraint("points > 0", name=op.f("ck_circle_vouchers_points_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_vouchers")),
        sa.UniqueConstraint("secret", name=op.f("uq_circle_vouchers_secret")),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_circle_vouchers_user_id_key"),
    )
    op.create_index(
        "ix_circle_vouchers_held_digits",
        "circle_vouchers",
        ["digits"],
        unique=False,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index(
        "ix_circle_vouchers_held_expiry",
        "circle_vouchers",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index(
        "ix_circle_vouchers_offer_id_created_at", "circle_vouchers", ["offer_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_circle_vouchers_organisation_id_redeemed_at",
        "circle_vouchers",
        ["organisation_id", "redeemed_at"],
        unique=False,
    )
    op.create_index(
        "ix_circle_vouchers_user_id_created_at", "circle_vouchers", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "circle_ratings",
        sa.Column("voucher_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_circle_ratings_stars")),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["circle_offers.id"],
            name=op.f("fk_circle_ratings_offer_id_circle_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_circle_ratings_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["circle_vouchers.id"],
            name=op.f("fk_circle_ratings_voucher_id_circle_vouchers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("voucher_id", name=op.f("pk_circle_ratings")),
    )
    op.create_index("ix_circle_ratings_offer_id", "circle_ratings", ["offer_id"], unique=False)
    op.create_table(
        "circle_statements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("vouchers", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("fen_per_point", sa.Integer(), nullable=False),
        sa.Column("cash_cents_due", sa.BigInteger(), nullable=False),
        sa.Column("fund", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="closed", nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("paid_by", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "fund IN ('public_finance', 'party_dues', 'social_support', 'own_income')",
            name=op.f("ck_circle_statements_fund"),
        ),
        sa.CheckConstraint("status IN ('closed', 'paid')", name=op.f("ck_circle_statements_status")),
        sa.CheckConstraint(
            "vouchers >= 0 AND points >= 0 AND cash_cents_due >= 0", name=op.f("ck_circle_statements_sums")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["users.id"],
            name=op.f("fk_circle_statements_closed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_circle_statements_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_circle_statements_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"], ["users.id"], name=op.f("fk_circle_statements_paid_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_statements")),
        sa.UniqueConstraint(
            "community_id", "organisation_id", "month", name=op.f("uq_circle_statements_community_id")
        ),
    )
    op.create_table(
        "circle_settings",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("voucher_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("fen_per_point", sa.Integer(), server_default="10", nullable=False),
        sa.Column("fund", sa.String(length=16), server_default="public_finance", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "fund IN ('public_finance', 'party_dues', 'social_support', 'own_income')",
            name=op.f("ck_circle_settings_fund"),
        ),
        sa.CheckConstraint(
            "fen_per_point BETWEEN 0 AND 100000", name=op.f("ck_circle_settings_fen_per_point")
        ),
        sa.CheckConstraint("voucher_days BETWEEN 1 AND 365", name=op.f("ck_circle_settings_voucher_days")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_circle_settings_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_circle_settings")),
    )
    op.execute(IMMUTABLE)
    op.execute(
        "CREATE TRIGGER circle_statements_immutable BEFORE UPDATE OR DELETE ON circle_statements "
        "FOR EACH ROW EXECUTE FUNCTION circle_statement_immutable()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS circle_statements_immutable ON circle_statements")
    op.execute("DROP FUNCTION IF EXISTS circle_statement_immutable()")
    for table in TABLES:
        op.drop_table(table)
