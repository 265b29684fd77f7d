"""outbox failures and department robots: a message that cannot be delivered is given up; a department may
post to its group robot (企业微信, 钉钉 or 飞书)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('robot_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('robot_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('robot_secret', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('robot_secret')
        batch_op.drop_column('robot_url')
        batch_op.drop_column('robot_kind')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
