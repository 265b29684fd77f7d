"""course media: pictures and files stored once by SHA-256, named per revision and per draft

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 05:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_blob',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_blob')),
    )
    op.create_table(
        'revision_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_revision_media_revision_id_content_revision'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['media_blob.sha256'], name=op.f('fk_revision_media_sha256_media_blob')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_media')),
        sa.UniqueConstraint('revision_id', 'name', name=op.f('uq_revision_media_revision_id_name')),
    )
    op.create_index(op.f('ix_revision_media_sha256'), 'revision_media', ['sha256'], unique=False)
    op.create_table(
        'draft_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('base_revision_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['base_revision_id'], ['content_revision.id'], name=op.f('fk_draft_media_base_revision_id_content_revision')),
        sa.ForeignKeyConstraint(['sha256'], ['media_blob.sha256'], name=op.f('fk_draft_media_sha256_media_blob')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_draft_media_updated_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_media')),
        sa.UniqueConstraint('name', name=op.f('uq_draft_media_name')),
    )


def downgrade():
    op.drop_table('draft_media')
    op.drop_index(op.f('ix_revision_media_sha256'), table_name='revision_media')
    op.drop_table('revision_media')
    op.drop_table('media_blob')
