"""learning record index for per-lesson analytics

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:05:00

"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('learning_record', schema=None) as batch_op:
        batch_op.create_index(
            'ix_learning_record_kind_verb', ['object_kind', 'verb', 'object_id', 'user_id', 'timestamp'], unique=False
        )


def downgrade():
    with op.batch_alter_table('learning_record', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_record_kind_verb')
