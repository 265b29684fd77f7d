"""learning gains kept per learner and objective, and summed per department in the progress tallies, filled from the attempts at the live course's pre-test and final assessment

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:30:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('learner_gain',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('objective', sa.String(length=128), nullable=False),
    sa.Column('pretest_score', sa.Double(), nullable=False),
    sa.Column('final_score', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_learner_gain_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'objective', name=op.f('pk_learner_gain'))
    )
    _backfill()


def _objectives(compiled):
    """{objective: the ids of its questions in the pre-test and the final}, and the two quizzes' ids, of a
    compiled course (the format of `Course.to_dict` at this revision)."""
    quizzes = {quiz['id']: quiz for quiz in compiled.get('quizzes', ())}
    pretest, final = quizzes.get(compiled.get('pretest_quiz_id')), quizzes.get(compiled.get('final_quiz_id'))
    if pretest is None or final is None:
        return {}, None, None
    measured = {pool['id'] for pool in pretest.get('pools', ())}
    questions = {pool['id']: [] for pool in final.get('pools', ()) if pool['id'] in measured}
    for quiz in (pretest, final):
        for pool in quiz.get('pools', ()):
            if pool['id'] in questions:
                questions[pool['id']] += pool['question_ids']
    return questions, pretest['id'], final['id']


def _backfill():
    """The same scores as `courseware.learner_gains.refresh_all` and tallies as `summaries.recount_gains`,
    written out so later code changes cannot alter them."""
    revision = sa.table('content_revision', sa.column('id'), sa.column('compiled', sa.JSON), sa.column('published_at'))
    compiled = op.get_bind().execute(
        sa.select(revision.c.compiled).where(revision.c.published_at.is_not(None))
        .order_by(revision.c.published_at.desc(), revision.c.id.desc()).limit(1)
    ).scalar()
    questions, pretest_id, final_id = _objectives(compiled or {})
    if not questions:
        return
    attempt = sa.table('quiz_attempt', sa.column('id'), sa.column('user_id'), sa.column('quiz_id'), sa.column('status'),
                       sa.column('score'), sa.column('submitted_at'))
    answer = sa.table('quiz_answer', sa.column('attempt_id'), sa.column('question_id'), sa.column('fraction'))
    objective = sa.case(*[(answer.c.question_id.in_(ids), sa.literal(pool)) for pool, ids in questions.items()])

    def scores(quiz_id, order):
        ranked = (
            sa.select(attempt.c.id, attempt.c.user_id,
                      sa.func.row_number().over(partition_by=attempt.c.user_id, order_by=order).label('rank'))
            .where(attempt.c.quiz_id == quiz_id, attempt.c.status == 'submitted')
            .subquery()
        )
        return (
            sa.select(ranked.c.user_id, objective.label('objective'),
                      sa.func.avg(sa.func.coalesce(answer.c.fraction, 0.0)).label('score'))
            .select_from(ranked.join(answer, answer.c.attempt_id == ranked.c.id))
            .where(ranked.c.rank == 1, objective.is_not(None))
            .group_by(ranked.c.user_id, objective)
            .subquery()
        )

    before = scores(pretest_id, [attempt.c.submitted_at.asc()])
    after = scores(final_id, [attempt.c.score.desc(), attempt.c.submitted_at.desc()])
    gain = sa.table('learner_gain', sa.column('user_id'), sa.column('objective', sa.String), sa.column('pretest_score'),
                    sa.column('final_score'))
    op.execute(gain.insert().from_select(
        ['user_id', 'objective', 'pretest_score', 'final_score'],
        sa.select(before.c.user_id, before.c.objective, before.c.score, after.c.score)
        .select_from(before.join(after, (after.c.user_id == before.c.user_id) & (after.c.objective == before.c.objective))),
    ))
    user = sa.table('user', sa.column('id'), sa.column('department_id'), sa.column('active'))
    tally = sa.table('progress_tally', *(sa.column(name) for name in (
        'department_id', 'active', 'activity_id', 'status', 'kind', 'learners', 'scored', 'score_sum')))
    sums = [  # activity 'g:<objective>', status 'pretest' or 'final': learners with a gain and their scores' sum
        sa.select(user.c.department_id, user.c.active, sa.literal('g:') + gain.c.objective, sa.literal(status),
                  sa.literal('gain'), sa.func.count(), sa.func.count(), sa.func.coalesce(sa.func.sum(gain.c[column]), 0.0))
        .select_from(gain.join(user, user.c.id == gain.c.user_id))
        .group_by(user.c.department_id, user.c.active, gain.c.objective)
        for status, column in (('pretest', 'pretest_score'), ('final', 'final_score'))
    ]
    op.execute(tally.insert().from_select(list(tally.c.keys()), sa.union_all(*sums)))


def downgrade():
    op.execute("DELETE FROM progress_tally WHERE activity_id LIKE 'g:%'")
    op.drop_table('learner_gain')
