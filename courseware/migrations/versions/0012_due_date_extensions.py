"""due date extensions: one person covered by a department assignment may be given a later due date

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'due_date_extension',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_due_date_extension_assignment_id_assignment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_due_date_extension_created_by_id_user')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_due_date_extension_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_due_date_extension')),
        sa.UniqueConstraint('assignment_id', 'user_id', name=op.f('uq_due_date_extension_assignment_id_user_id')),
    )
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_due_date_extension_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_date_extension_user_id'))
    op.drop_table('due_date_extension')
