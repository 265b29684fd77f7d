"""quiz draws and review policy: each attempt records the questions it drew from the quiz's pools

The review policy lives in the compiled content, so only the attempts change: `question_ids` is
NULL for attempts made before pools (they asked every question of their revision).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_ids', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_column('question_ids')
