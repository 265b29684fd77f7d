"""lesson time: seconds of reading credited per learner, lesson and round; a certificate keeps its round's total

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-14 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lesson_time',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.String(length=128), nullable=False),
        sa.Column('cycle', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Double(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_lesson_time_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_time')),
        sa.UniqueConstraint('user_id', 'lesson_id', 'cycle', name=op.f('uq_lesson_time_user_id_lesson_id_cycle')),
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('learning_seconds', sa.Double(), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('learning_seconds')
    op.drop_table('lesson_time')
