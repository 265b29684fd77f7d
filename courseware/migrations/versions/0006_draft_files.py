"""draft files

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:30:59.048549

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draft_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('base_revision_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_revision_id'], ['content_revision.id'], name=op.f('fk_draft_file_base_revision_id_content_revision')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_draft_file_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_file')),
    sa.UniqueConstraint('path', name=op.f('uq_draft_file_path'))
    )


def downgrade():
    op.drop_table('draft_file')
