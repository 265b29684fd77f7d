"""a learner's reminders are claimed for one due date, so a moved or extended date is reminded of again

Claims made before this carry no date: each is given the date the learner has now, so nobody is
reminded twice of the same date by the upgrade. A claim whose assignment is gone is dropped.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 03:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

KINDS = ('due_soon', 'overdue')
reminder_sent = sa.table('reminder_sent', sa.column('id', sa.Integer), sa.column('key', sa.String), sa.column('kind', sa.String))
assignment = sa.table('assignment', sa.column('id', sa.Integer), sa.column('due_on', sa.Date))
extension = sa.table('due_date_extension', sa.column('assignment_id', sa.Integer), sa.column('user_id', sa.Integer),
                     sa.column('due_on', sa.Date))


def upgrade():
    connection = op.get_bind()
    claims = connection.execute(sa.select(reminder_sent.c.id, reminder_sent.c.key).where(reminder_sent.c.kind.in_(KINDS))).all()
    if not claims:
        return
    due = {row.id: row.due_on for row in connection.execute(sa.select(assignment.c.id, assignment.c.due_on))}
    extended = {(row.assignment_id, row.user_id): row.due_on for row in connection.execute(sa.select(extension))}
    dated, gone = [], []
    for claim_id, key in claims:
        kind, assignment_id, user_id, *dates = key.split(':')
        if dates:
            continue
        pair = (int(assignment_id), int(user_id))
        if pair[0] not in due:
            gone.append(claim_id)
            continue
        on = max(due[pair[0]], extended.get(pair, due[pair[0]]))
        dated.append({'claim': claim_id, 'new_key': f'{key}:{on.isoformat()}'})
    if dated:
        connection.execute(
            reminder_sent.update().where(reminder_sent.c.id == sa.bindparam('claim')).values(key=sa.bindparam('new_key')), dated
        )
    for start in range(0, len(gone), 500):  # SQLite takes a bounded number of parameters per statement
        connection.execute(reminder_sent.delete().where(reminder_sent.c.id.in_(gone[start:start + 500])))


def downgrade():
    """Claims lose their date; of a learner's claims on one assignment for several dates, the first stays."""
    connection = op.get_bind()
    claims = connection.execute(
        sa.select(reminder_sent.c.id, reminder_sent.c.key).where(reminder_sent.c.kind.in_(KINDS)).order_by(reminder_sent.c.id)
    ).all()
    undated, extra = {}, []
    for claim_id, key in claims:
        plain = ':'.join(key.split(':')[:3])
        if plain in undated:
            extra.append(claim_id)
        else:
            undated[plain] = claim_id
    for start in range(0, len(extra), 500):
        connection.execute(reminder_sent.delete().where(reminder_sent.c.id.in_(extra[start:start + 500])))
    renamed = [{'claim': claim_id, 'new_key': plain} for plain, claim_id in undated.items()]
    if renamed:
        connection.execute(
            reminder_sent.update().where(reminder_sent.c.id == sa.bindparam('claim')).values(key=sa.bindparam('new_key')), renamed
        )
