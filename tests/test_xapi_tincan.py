"""An off-the-shelf xAPI client (Rustici's `tincan` for Python) reads our statements over HTTP."""
from __future__ import annotations

import pytest
from browser_support import serve
from conftest import PASSWORD
from test_xapi import activity  # noqa: F401  (the fixture: a learner with records)

from courseware.models import Role

tincan = pytest.importorskip("tincan")

pytestmark = pytest.mark.filterwarnings("ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning")


def test_tincan_remote_lrs_queries_follows_more_and_retrieves_by_id(app, activity, make_user):  # noqa: F811
    _, hr_email = make_user(Role.HR)
    with serve(app) as base:
        lrs = tincan.RemoteLRS(endpoint=base + "/xapi/", username=hr_email, password=PASSWORD, version="1.0.1")
        about = lrs.about()
        assert about.success and "1.0.3" in about.content.version

        agent = tincan.Agent(mbox=f"mailto:{activity}")
        everything = lrs.query_statements({"agent": agent, "limit": 500, "ascending": True})
        assert everything.success, everything.data
        expected = [s.id for s in everything.content.statements]
        assert len(expected) > 3

        page = lrs.query_statements({"agent": agent, "limit": 3, "ascending": True})
        seen = [s.id for s in page.content.statements]
        while page.content.more:
            page = lrs.more_statements(page.content)
            assert page.success, page.data
            seen += [s.id for s in page.content.statements]
        assert seen == expected

        passed = lrs.query_statements({"agent": agent, "verb": tincan.Verb(id="http://adlnet.gov/expapi/verbs/passed")})
        [statement] = passed.content.statements
        assert statement.result.score.scaled == 1.0 and statement.stored is not None

        one = lrs.retrieve_statement(str(statement.id))
        assert one.success, one.data
        assert one.content.id == statement.id and one.content.actor.mbox == f"mailto:{activity}"
        assert one.content.authority is not None

        missing = lrs.retrieve_statement("00000000-0000-4000-8000-000000000000")
        assert not missing.success and missing.response.status == 404
