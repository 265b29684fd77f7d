"""Statement ids: UUIDs every LRS takes (version 4's format), in the order the records were written."""
from __future__ import annotations

import re

from sqlalchemy import select

from courseware.extensions import db
from courseware.models import LearningRecord

QUIZ_ID = "quiz-core-elements"
# The pattern strict LRSs check a statement id against: versions 1 to 5, RFC 4122 variant.
STRICT_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_statement_ids_are_version_4_uuids_that_sort_in_writing_order(client, app, published, trainee):
    first = client.post(f"/quizzes/{QUIZ_ID}/start").location
    client.post(f"{first}/submit", data={"submit_anyway": "1"})
    second = client.post(f"/quizzes/{QUIZ_ID}/start").location
    client.post(f"{second}/submit", data={"submit_anyway": "1"})

    with app.app_context():
        rows = db.session.execute(
            select(LearningRecord.statement_id, LearningRecord.timestamp).order_by(LearningRecord.id)
        ).all()
    ids = [statement_id for statement_id, _ in rows]
    assert len(rows) > 2 and len(set(ids)) == len(ids)
    assert all(STRICT_UUID.match(statement_id) for statement_id in ids)
    times = sorted({timestamp for _, timestamp in rows})
    assert len(times) > 1
    for earlier, later in zip(times, times[1:]):  # records written later have greater ids (within a moment, any order)
        assert max(i for i, t in rows if t == earlier) < min(i for i, t in rows if t == later)
