"""Signal sharing: partners, watch list and matches, exported-indicator log, opinions, TAXII collections.

Revision ID: 0003_sharing
Revises: 0002_evidence
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_sharing'
down_revision = '0002_evidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('share_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('trust', sa.String(length=20), nullable=False),
    sa.Column('salt_path', sa.Text(), nullable=True),
    sa.Column('salt_id', sa.String(length=16), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('secret_hash')
    )
    op.create_table('taxii_collections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('alias', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alias')
    )
    op.create_table('share_opinions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stix_id', sa.String(length=160), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('indicator_id', sa.String(length=120), nullable=False),
    sa.Column('opinion', sa.String(length=30), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['share_partners.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stix_id', 'direction', name='uq_share_opinions_stix_direction')
    )
    with op.batch_alter_table('share_opinions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_opinions_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('shared_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.String(length=120), nullable=False),
    sa.Column('partner_name', sa.String(length=80), nullable=False),
    sa.Column('identifier_id', sa.Integer(), nullable=True),
    sa.Column('identifier_type', sa.String(length=20), nullable=False),
    sa.Column('hashed', sa.Boolean(), nullable=False),
    sa.Column('tlp', sa.String(length=20), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('first_exported', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_exported', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identifier_id'], ['identifiers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('indicator_id', 'partner_name', name='uq_shared_indicators_id_partner')
    )
    with op.batch_alter_table('shared_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_indicators_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('taxii_access',
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('can_read', sa.Boolean(), nullable=False),
    sa.Column('can_write', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['share_partners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'partner_id')
    )
    op.create_table('taxii_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('stix_id', sa.String(length=120), nullable=False),
    sa.Column('stix_type', sa.String(length=60), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('spec_version', sa.String(length=10), nullable=False),
    sa.Column('date_added', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collection_id', 'stix_id', 'version', name='uq_taxii_objects_version')
    )
    with op.batch_alter_table('taxii_objects', schema=None) as batch_op:
        batch_op.create_index('ix_taxii_objects_collection_added', ['collection_id', 'date_added'], unique=False)
        batch_op.create_index(batch_op.f('ix_taxii_objects_stix_id'), ['stix_id'], unique=False)

    op.create_table('taxii_status',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('request_timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['share_partners.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('watch_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.String(length=120), nullable=False),
    sa.Column('indicator_modified', sa.String(length=40), nullable=True),
    sa.Column('identifier_type', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=True),
    sa.Column('value_hash', sa.String(length=64), nullable=True),
    sa.Column('salt_id', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('drugs', sa.JSON(), nullable=False),
    sa.Column('tactics', sa.JSON(), nullable=False),
    sa.Column('platforms', sa.JSON(), nullable=False),
    sa.Column('tlp', sa.String(length=20), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('override', sa.String(length=20), nullable=False),
    sa.Column('override_note', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['share_partners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partner_id', 'indicator_id', name='uq_watch_entries_partner_indicator')
    )
    with op.batch_alter_table('watch_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_entries_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_watch_entries_type_value', ['identifier_type', 'value'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entries_valid_until'), ['valid_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entries_value_hash'), ['value_hash'], unique=False)

    op.create_table('watch_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('identifier_type', sa.String(length=20), nullable=False),
    sa.Column('queued', sa.Boolean(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['watch_entries.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'item_id', name='uq_watch_matches_entry_item')
    )
    with op.batch_alter_table('watch_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_matches_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_matches_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('watch_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_matches_item_id'))
        batch_op.drop_index(batch_op.f('ix_watch_matches_entry_id'))

    op.drop_table('watch_matches')
    with op.batch_alter_table('watch_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_entries_value_hash'))
        batch_op.drop_index(batch_op.f('ix_watch_entries_valid_until'))
        batch_op.drop_index('ix_watch_entries_type_value')
        batch_op.drop_index(batch_op.f('ix_watch_entries_partner_id'))

    op.drop_table('watch_entries')
    op.drop_table('taxii_status')
    with op.batch_alter_table('taxii_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taxii_objects_stix_id'))
        batch_op.drop_index('ix_taxii_objects_collection_added')

    op.drop_table('taxii_objects')
    op.drop_table('taxii_access')
    with op.batch_alter_table('shared_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_indicators_indicator_id'))

    op.drop_table('shared_indicators')
    with op.batch_alter_table('share_opinions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_opinions_indicator_id'))

    op.drop_table('share_opinions')
    op.drop_table('taxii_collections')
    op.drop_table('share_partners')
