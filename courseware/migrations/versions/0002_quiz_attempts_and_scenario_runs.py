"""quiz attempts and scenario runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:23:01.830295

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('quiz_attempt',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.String(length=128), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_quiz_attempt_revision_id_content_revision')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_quiz_attempt_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempt')),
    sa.UniqueConstraint('user_id', 'quiz_id', 'number', name=op.f('uq_quiz_attempt_user_id_quiz_id_number'))
    )
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempt_quiz_id'), ['quiz_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_attempt_user_id'), ['user_id'], unique=False)

    op.create_table('scenario_run',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.String(length=128), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ending_id', sa.String(length=128), nullable=True),
    sa.Column('communication', sa.Integer(), nullable=True),
    sa.Column('understanding', sa.Integer(), nullable=True),
    sa.Column('collaboration', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_scenario_run_revision_id_content_revision')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_scenario_run_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_run')),
    sa.UniqueConstraint('user_id', 'scenario_id', 'number', name=op.f('uq_scenario_run_user_id_scenario_id_number'))
    )
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_run_scenario_id'), ['scenario_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_run_user_id'), ['user_id'], unique=False)

    op.create_table('quiz_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=36), nullable=False),
    sa.Column('question_id', sa.String(length=128), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('fraction', sa.Double(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], name=op.f('fk_quiz_answer_attempt_id_quiz_attempt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_answer')),
    sa.UniqueConstraint('attempt_id', 'question_id', name=op.f('uq_quiz_answer_attempt_id_question_id'))
    )
    op.create_table('scenario_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.String(length=128), nullable=False),
    sa.Column('choice_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['scenario_run.id'], name=op.f('fk_scenario_step_run_id_scenario_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_step')),
    sa.UniqueConstraint('run_id', 'step', name=op.f('uq_scenario_step_run_id_step'))
    )
    with op.batch_alter_table('scenario_step', schema=None) as batch_op:
        batch_op.create_index('ix_scenario_step_node_choice', ['node_id', 'choice_id'], unique=False)




def downgrade():

    with op.batch_alter_table('scenario_step', schema=None) as batch_op:
        batch_op.drop_index('ix_scenario_step_node_choice')

    op.drop_table('scenario_step')
    op.drop_table('quiz_answer')
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_run_user_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_run_scenario_id'))

    op.drop_table('scenario_run')
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempt_user_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_attempt_quiz_id'))

    op.drop_table('quiz_attempt')

