"""survey rounds, anonymous responses (no user, no time, no rowid), improvement plans, personal action plans, department heads

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 05:06:32

"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('action_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customers', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('actions_done', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_action_plan_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_plan'))
    )
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_plan_review_on'), ['review_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_plan_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_action_plan_open', ['user_id'], unique=True, sqlite_where=sa.text('reviewed_at IS NULL'), postgresql_where=sa.text('reviewed_at IS NULL'))

    op.create_table('survey_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_survey_round_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_round'))
    )
    op.create_table('improvement_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('supplier_department_id', sa.Integer(), nullable=False),
    sa.Column('customer_department_id', sa.Integer(), nullable=False),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_improvement_plan_created_by_id_user')),
    sa.ForeignKeyConstraint(['customer_department_id'], ['department.id'], name=op.f('fk_improvement_plan_customer_department_id_department')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_improvement_plan_round_id_survey_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_department_id'], ['department.id'], name=op.f('fk_improvement_plan_supplier_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_plan')),
    sa.UniqueConstraint('round_id', 'supplier_department_id', 'customer_department_id', name=op.f('uq_improvement_plan_round_id_supplier_department_id_customer_department_id'))
    )
    with op.batch_alter_table('improvement_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_plan_customer_department_id'), ['customer_department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_plan_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_plan_supplier_department_id'), ['supplier_department_id'], unique=False)

    op.create_table('survey_participation',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_survey_participation_department_id_department')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_survey_participation_round_id_survey_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_survey_participation_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'user_id', 'department_id', name=op.f('pk_survey_participation')),
    sqlite_with_rowid=False
    )
    op.create_table('survey_response',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('supplier_department_id', sa.Integer(), nullable=False),
    sa.Column('customer_department_id', sa.Integer(), nullable=False),
    sa.Column('communication', sa.SmallInteger(), nullable=True),
    sa.Column('understanding', sa.SmallInteger(), nullable=True),
    sa.Column('collaboration', sa.SmallInteger(), nullable=True),
    sa.Column('feedback', sa.SmallInteger(), nullable=True),
    sa.Column('overall', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_department_id'], ['department.id'], name=op.f('fk_survey_response_customer_department_id_department')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_survey_response_round_id_survey_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_department_id'], ['department.id'], name=op.f('fk_survey_response_supplier_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_response_supplier_department_id'), ['supplier_department_id'], unique=False)

    op.create_table('survey_round_department',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_survey_round_department_department_id_department')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_survey_round_department_round_id_survey_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'department_id', name=op.f('pk_survey_round_department'))
    )
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_department_head_id_user'), 'user', ['head_id'], ['id'], use_alter=True)



def downgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_department_head_id_user'), type_='foreignkey')
        batch_op.drop_column('head_id')

    op.drop_table('survey_round_department')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_supplier_department_id'))
        batch_op.drop_index(batch_op.f('ix_survey_response_round_id'))

    op.drop_table('survey_response')
    op.drop_table('survey_participation')
    with op.batch_alter_table('improvement_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_plan_supplier_department_id'))
        batch_op.drop_index(batch_op.f('ix_improvement_plan_round_id'))
        batch_op.drop_index(batch_op.f('ix_improvement_plan_customer_department_id'))

    op.drop_table('improvement_plan')
    op.drop_table('survey_round')
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.drop_index('uq_action_plan_open')
        batch_op.drop_index(batch_op.f('ix_action_plan_user_id'))
        batch_op.drop_index(batch_op.f('ix_action_plan_review_on'))

    op.drop_table('action_plan')
