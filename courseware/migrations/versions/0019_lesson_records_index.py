"""the per-lesson analytics index holds lessons' records only

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 15:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

LESSONS = sa.text("object_kind = 'lesson'")


def upgrade():
    op.drop_index('ix_learning_record_kind_verb', table_name='learning_record')
    op.create_index('ix_learning_record_lessons', 'learning_record', ['object_kind', 'verb', 'object_id', 'user_id', 'timestamp'],
                    unique=False, sqlite_where=LESSONS, postgresql_where=LESSONS)


def downgrade():
    op.drop_index('ix_learning_record_lessons', table_name='learning_record')
    op.create_index('ix_learning_record_kind_verb', 'learning_record',
                    ['object_kind', 'verb', 'object_id', 'user_id', 'timestamp'], unique=False)
