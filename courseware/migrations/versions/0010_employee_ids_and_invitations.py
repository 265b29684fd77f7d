"""employee ids, invitations and notices: people sign in with email or employee ID; HR sees who was invited
and who signed in; learners are told about assignments on their home page

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:50:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employee_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_employee_id'), ['employee_id'])
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('activity_id', sa.String(length=128), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notice_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_user_open', ['user_id', 'dismissed_at'], unique=False)
    # Whoever holds a login session has signed in.
    op.execute(
        "UPDATE \"user\" SET last_sign_in_at = "
        "(SELECT MAX(created_at) FROM login_session WHERE login_session.user_id = \"user\".id)"
    )


def downgrade():
    op.drop_table('notice')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_employee_id'), type_='unique')
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('employee_id')
