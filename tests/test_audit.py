"""Every read of another person's learning records leaves an audit entry, on every route that can show one."""
from __future__ import annotations

import pytest
from conftest import PASSWORD, WITNESS_NAME, get_urls

from courseware.access import AUDITED_READS
from courseware.extensions import db
from courseware.models import AuditEntry, Role
# Pages that show a person's name or email but no learning record of theirs, and why.
NOT_RECORDS = {
    "admin.users": "account administration: names, emails and roles",
    "admin.edit_user": "account administration: the account itself",
    "admin.audit_log": "the audit log names whose records were read, not the records",
    "certificates.verify": "public by design: what the holder hands out with the code",
}
SINGLE_PERSON = {"hr.transcript", "hr.attempt", "hr.run", "certificates.pdf", "admin.export_person"}


def _entries(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HR])
def test_every_route_showing_someone_elses_records_writes_an_audit_entry(app, client, make_user, login, learner_with_records, role):
    witness = learner_with_records
    viewer_id, viewer_email = make_user(role)
    login(viewer_email)
    shown_on = set()
    for endpoint, url in get_urls(app, witness["values"]):
        before = len(_entries(app))
        response = client.get(url)
        body = response.get_data()
        assert response.status_code < 500, url
        new = _entries(app)[before:]
        if endpoint in AUDITED_READS and response.status_code == 200:
            assert [(e.action, e.user_id) for e in new] == [(AUDITED_READS[endpoint], viewer_id)], url
            if endpoint in SINGLE_PERSON:
                assert new[0].subject_user_id == witness["id"], url
            continue
        if WITNESS_NAME.encode() in body or witness["email"].encode() in body:
            shown_on.add(endpoint)
            assert endpoint in NOT_RECORDS, f"{url} shows the witness's records without an audit entry"
    assert {"hr.learners", "hr.transcript"} <= set(AUDITED_READS) and shown_on <= NOT_RECORDS.keys()


def test_reading_ones_own_records_is_not_audited(app, client, login, learner_with_records):
    witness = learner_with_records
    login(witness["email"])
    before = len(_entries(app))
    assert client.get(f"/certificates/{witness['values']['code']}.pdf").status_code == 200
    assert client.get("/progress").status_code == 200
    assert _entries(app)[before:] == []


def test_xapi_read_over_http_basic_is_audited_for_the_reader(app, client, make_user, learner_with_records):
    hr_id, hr_email = make_user(Role.HR)
    response = client.get(
        "/xapi/statements", query_string={"verb": "passed"}, auth=(hr_email, PASSWORD), headers={"X-Experience-API-Version": "1.0.3"}
    )
    assert response.status_code == 200 and response.get_json()["statements"]
    entry = _entries(app)[-1]
    assert (entry.action, entry.user_id, entry.detail) == ("read_xapi", hr_id, {"verb": "passed"})
