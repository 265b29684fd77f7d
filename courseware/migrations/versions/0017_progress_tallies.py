"""progress tallies per department, active flag, activity and status (HR's counts at any scale), filled from progress; indexes for HR's latest completions, expiring certificates and learner list

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('progress_tally',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('activity_id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_progress_tally_department_id_department'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'active', 'activity_id', 'status', name=op.f('pk_progress_tally'))
    )
    _backfill()
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.create_index('ix_progress_kind_completed_at', ['kind', 'completed_at'], unique=False)
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index('ix_user_department_name', ['department_id', 'name', 'id'], unique=False)


def _backfill():
    """The same aggregate as `courseware.summaries.rebuild`, written out so later code changes cannot alter it."""
    user = sa.table('user', sa.column('id'), sa.column('department_id'), sa.column('active'))
    progress = sa.table('progress', sa.column('user_id'), sa.column('activity_id'), sa.column('status'),
                        sa.column('kind'), sa.column('score'))
    tally = sa.table('progress_tally', *(sa.column(name) for name in (
        'department_id', 'active', 'activity_id', 'status', 'kind', 'learners', 'scored', 'score_sum')))
    progress_rows = (
        sa.select(user.c.department_id, user.c.active, progress.c.activity_id, progress.c.status,
                  sa.func.min(progress.c.kind), sa.func.count(), sa.func.count(progress.c.score),
                  sa.func.coalesce(sa.func.sum(progress.c.score), 0.0))
        .select_from(progress.join(user, user.c.id == progress.c.user_id))
        .group_by(user.c.department_id, user.c.active, progress.c.activity_id, progress.c.status)
    )
    people_rows = (  # activity '' counts the people themselves
        sa.select(user.c.department_id, user.c.active, sa.literal(''), sa.literal(''), sa.literal(''),
                  sa.func.count(), sa.literal(0), sa.literal(0.0))
        .group_by(user.c.department_id, user.c.active)
    )
    columns = ('communication', 'understanding', 'collaboration', 'feedback')
    run = sa.table('scenario_run', sa.column('user_id'), sa.column('scenario_id'), sa.column('status'),
                   *(sa.column(name) for name in columns))
    run_rows = [  # status 'r:<element>' sums finished role-play runs' totals on that element
        sa.select(user.c.department_id, user.c.active, run.c.scenario_id, sa.literal('r:' + name), sa.literal('run'),
                  sa.func.count(), sa.func.count(run.c[name]), sa.func.coalesce(sa.func.sum(run.c[name]), 0.0))
        .select_from(run.join(user, user.c.id == run.c.user_id))
        .where(run.c.status == 'finished')
        .group_by(user.c.department_id, user.c.active, run.c.scenario_id)
        for name in columns
    ]
    source = sa.union_all(progress_rows, people_rows, *run_rows)
    op.execute(tally.insert().from_select(list(tally.c.keys()), source))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('ix_user_department_name')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_expires_at'))
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_kind_completed_at')
    op.drop_table('progress_tally')
