"""foundation: places, accounts, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 21:54:10.305034
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_address_at', 'login_failures', ['address', 'at'], unique=False)
    op.create_index('ix_login_failures_phone_at', 'login_failures', ['phone', 'at'], unique=False)
    op.create_table('streets',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_streets')),
    sa.UniqueConstraint('name', name=op.f('uq_streets_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('display_name', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone'))
    )
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index(op.f('ix_audit_entries_community_id'), 'audit_entries', ['community_id'], unique=False)
    op.create_table('auth_sessions',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('cookie', 'token')", name=op.f('ck_auth_sessions_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_auth_sessions'))
    )
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'], unique=False)
    op.create_table('communities',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('street_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('join_code', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_communities_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('join_code', name=op.f('uq_communities_join_code')),
    sa.UniqueConstraint('street_id', 'name', name=op.f('uq_communities_street_id'))
    )
    op.create_index(op.f('ix_communities_street_id'), 'communities', ['street_id'], unique=False)
    op.create_table('member_cards',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('phone', 'printed')", name=op.f('ck_member_cards_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_cards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_cards')),
    sa.UniqueConstraint('public_id', name=op.f('uq_member_cards_public_id')),
    sa.UniqueConstraint('secret', name=op.f('uq_member_cards_secret'))
    )
    op.create_index(op.f('ix_member_cards_user_id'), 'member_cards', ['user_id'], unique=False)
    op.create_index('uq_member_cards_one_active', 'member_cards', ['user_id', 'kind'], unique=True, postgresql_where='revoked_at IS NULL')
    op.create_table('street_roles',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('street_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_street_roles_street_id_streets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_street_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_street_roles')),
    sa.UniqueConstraint('user_id', 'street_id', 'role', name=op.f('uq_street_roles_user_id'))
    )
    op.create_index(op.f('ix_street_roles_street_id'), 'street_roles', ['street_id'], unique=False)
    op.create_index(op.f('ix_street_roles_user_id'), 'street_roles', ['user_id'], unique=False)
    op.create_table('compounds',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_compounds_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compounds')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_compounds_community_id'))
    )
    op.create_index(op.f('ix_compounds_community_id'), 'compounds', ['community_id'], unique=False)
    op.create_table('buildings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=False),
    sa.Column('compound_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('leader_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_buildings_community_id_communities')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_buildings_compound_id_compounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('compound_id', 'name', name=op.f('uq_buildings_compound_id'))
    )
    op.create_index(op.f('ix_buildings_community_id'), 'buildings', ['community_id'], unique=False)
    op.create_index(op.f('ix_buildings_compound_id'), 'buildings', ['compound_id'], unique=False)
    op.create_table('memberships',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=False),
    sa.Column('roles', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('compound_id', sa.BigInteger(), nullable=True),
    sa.Column('building_id', sa.BigInteger(), nullable=True),
    sa.Column('room', sa.String(length=20), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("roles <@ ARRAY['resident','volunteer','grid_worker','staff','admin']::varchar[]", name=op.f('ck_memberships_known_roles')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_memberships_building_id_buildings')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_memberships_community_id_communities')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_memberships_compound_id_compounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('user_id', 'community_id', name=op.f('uq_memberships_user_id'))
    )
    op.create_index(op.f('ix_memberships_community_id'), 'memberships', ['community_id'], unique=False)
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships')
    op.drop_index(op.f('ix_memberships_community_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index(op.f('ix_buildings_compound_id'), table_name='buildings')
    op.drop_index(op.f('ix_buildings_community_id'), table_name='buildings')
    op.drop_table('buildings')
    op.drop_index(op.f('ix_compounds_community_id'), table_name='compounds')
    op.drop_table('compounds')
    op.drop_index(op.f('ix_street_roles_user_id'), table_name='street_roles')
    op.drop_index(op.f('ix_street_roles_street_id'), table_name='street_roles')
    op.drop_table('street_roles')
    op.drop_index('uq_member_cards_one_active', table_name='member_cards', postgresql_where='revoked_at IS NULL')
    op.drop_index(op.f('ix_member_cards_user_id'), table_name='member_cards')
    op.drop_table('member_cards')
    op.drop_index(op.f('ix_communities_street_id'), table_name='communities')
    op.drop_table('communities')
    op.drop_index(op.f('ix_auth_sessions_user_id'), table_name='auth_sessions')
    op.drop_table('auth_sessions')
    op.drop_index(op.f('ix_audit_entries_community_id'), table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_table('users')
    op.drop_table('streets')
    op.drop_index('ix_login_failures_phone_at', table_name='login_failures')
    op.drop_index('ix_login_failures_address_at', table_name='login_failures')
    op.drop_table('login_failures')
