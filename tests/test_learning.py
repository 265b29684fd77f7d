"""The trainee journey and its records: progress moves, survives, and is written exactly once."""
from __future__ import annotations

import re
import zlib

import pytest
from conftest import at_once, pass_quiz, play_model_path
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.learning import records
from courseware.models import Certificate, LearningRecord, Progress, User, utcnow
from courseware.publishing import live_course, publish


def count_records(app, user_id, verb=None, object_id=None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LearningRecord).where(LearningRecord.user_id == user_id)
        if verb:
            query = query.where(LearningRecord.verb == verb)
        if object_id:
            query = query.where(LearningRecord.object_id == object_id)
        return db.session.scalar(query)


def complete(client, lesson_id):
    return client.post(f"/lessons/{lesson_id}/complete")


def test_home_asks_anonymous_visitors_to_log_in(client, published):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_home_without_a_course_explains_how_to_publish(client, trainee):
    assert "flask --app app content import" in client.get("/").get_data(as_text=True)


def bar(percent: int) -> str:
    return f'value="{percent}" max="100"'


def test_reading_and_completing_a_lesson_moves_the_bars(client, trainee, published, app):
    with app.test_request_context():
        course = live_course().course
    module = course.module("what-is-internal-customer")
    home = client.get("/").get_data(as_text=True)
    assert bar(0) in home and "/lessons/ic-definition" in home

    page = client.get("/lessons/ic-definition").get_data(as_text=True)
    assert "内部客户" in page and "/lessons/ic-three-kinds" in page  # next lesson
    assert count_records(app, trainee, "experienced", "ic-definition") == 1

    response = complete(client, "ic-definition")
    assert response.status_code == 302
    module_page = client.get("/modules/what-is-internal-customer").get_data(as_text=True)
    assert bar(round(100 / len(course.activities_of(module)))) in module_page
    home = client.get("/").get_data(as_text=True)
    assert bar(round(100 / len(course.activities))) in home
    assert 'href="/lessons/ic-three-kinds"' in home  # continue where you left off


def test_double_completion_records_once(client, trainee, published, app):
    first = complete(client, "ic-definition")
    assert "本课已完成。" in client.get(first.location).get_data(as_text=True)
    second = complete(client, "ic-definition")
    assert "本课已完成。" not in client.get(second.location).get_data(as_text=True)
    assert count_records(app, trainee, "completed", "ic-definition") == 1


def test_concurrent_completions_record_once(app, make_user, published):
    user_id, _ = make_user()

    def complete():
        live = live_course()
        records.complete_lesson(db.session.get(User, user_id), live, live.course.lesson("ic-definition"))

    assert at_once(app, complete, 8) == []
    assert count_records(app, user_id, "completed", "ic-definition") == 1
    assert count_records(app, user_id, "experienced", "ic-definition") == 1


def test_module_and_course_complete_only_when_their_rules_hold(client, trainee, published, app):
    with app.test_request_context():
        course = live_course().course
    module = course.modules[0]
    for lesson in module.lessons:
        complete(client, lesson.id)
    play_model_path(client, course.scenario(module.scenario_ids[0]))
    assert count_records(app, trainee, "completed", module.id) == 0  # the quiz is still to pass
    assert "已通过" in pass_quiz(client, course.quiz(module.quiz_id)).get_data(as_text=True)
    assert count_records(app, trainee, "completed", module.id) == 1

    for lesson in course.lessons:
        complete(client, lesson.id)
    for scenario in course.scenarios:
        play_model_path(client, scenario)
    for quiz in course.quizzes:
        if quiz.id != course.final_quiz_id:
            pass_quiz(client, quiz)
    assert count_records(app, trainee, "completed", course.id) == 0  # the final assessment is left
    pass_quiz(client, course.final_quiz)
    assert count_records(app, trainee, "completed", course.id) == 1
    progress = client.get("/progress").get_data(as_text=True)
    assert progress.count(bar(100)) == len(course.modules) + 1
    assert "<time datetime=" in progress
    assert "你已完成本课程" in client.get("/").get_data(as_text=True)


def one_done_of_the_first_module(app) -> str:
    """The module bar once the first of its activities is done, as the course's shape makes it."""
    with app.test_request_context():
        course = live_course().course
    return bar(round(100 / len(course.activities_of(course.module("what-is-internal-customer")))))


def test_progress_survives_logging_out_and_in(client, make_user, login, published, app):
    _, email = make_user()
    login(email)
    complete(client, "ic-definition")
    client.post("/logout")
    assert client.get("/").status_code == 302
    login(email)
    assert one_done_of_the_first_module(app) in client.get("/modules/what-is-internal-customer").get_data(as_text=True)


def test_editing_content_keeps_every_learner_record(client, trainee, published, app, course_sources):
    complete(client, "ic-definition")
    one_done = one_done_of_the_first_module(app)
    key = "lessons/01-what-is-internal-customer/01-definition.md"
    edited = {**course_sources, key: course_sources[key] + "\n\n新增的一段说明。\n".encode()}
    with app.app_context():
        new_revision = publish(edited).revision.id
    assert new_revision != published
    page = client.get("/lessons/ic-definition").get_data(as_text=True)
    assert "新增的一段说明" in page
    assert one_done in page
    with app.app_context():
        row = db.session.scalar(select(Progress).where(Progress.activity_id == "ic-definition"))
        assert row.status == "completed" and row.revision_id == published


def test_unknown_lesson_and_module_are_404(client, trainee, published):
    assert client.get("/lessons/nope").status_code == 404
    assert client.get("/modules/nope").status_code == 404
    assert complete(client, "nope").status_code == 404


def test_completing_the_course_issues_a_certificate_anyone_can_verify(client, trainee, published, app):
    with app.test_request_context():
        course = live_course().course
    for lesson in course.lessons:
        complete(client, lesson.id)
    for scenario in course.scenarios:
        play_model_path(client, scenario)
    for quiz in course.quizzes:
        pass_quiz(client, quiz)
    page = client.get("/progress").get_data(as_text=True)
    code = page.split("/verify/")[1].split('"')[0]
    pdf = client.get(f"/certificates/{code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert b"/FontFile2" in pdf.data  # the Chinese font travels inside the PDF
    client.post("/logout")
    public = client.get(f"/verify/{code}").get_data(as_text=True)
    with app.app_context():
        learner = db.session.get(User, trainee)
        assert learner.name in public and course.title in public
        assert learner.email not in public
    assert client.get("/verify/AAAA-BBBB-CCCC").status_code == 404
    assert client.get(f"/certificates/{code}.pdf").status_code == 302  # the PDF needs a login


PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t"}


def pdf_text(data: bytes) -> str:
    """Read back the text fpdf2 drew: deflated pages name glyphs, which the font's ToUnicode map spells out."""
    cmap = data[data.index(b"beginbfchar"):]
    chars = {bytes.fromhex(code.decode()): chr(int(char, 16)) for code, char in re.findall(rb"<(\w{4})> <(\w{4})>", cmap)}
    lines = []
    for stream in re.findall(rb"FlateDecode.*?stream\n(.*?)\nendstream", data, re.S):
        for drawn in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", zlib.decompress(stream), re.S):
            codes = re.sub(rb"\\(.)", lambda m: PDF_ESCAPES.get(m[1], m[1]), drawn, flags=re.S)
            lines.append("".join(chars[codes[i:i + 2]] for i in range(0, len(codes), 2)))
    return "\n".join(lines)


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://learn.example.com/"}])  # as an operator writes it
def test_the_certificate_links_to_the_public_address_whatever_the_host_header(client, trainee, published, app):
    with app.app_context():
        db.session.add(Certificate(code="ABCD-EFGH-JKMN", user_id=trainee, course_id="internal-customer-service",
                                   course_title="内部客户服务意识", revision_id=published, issued_at=utcnow()))
        db.session.commit()
    session = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    client.set_cookie(session.key, session.value, domain="evil.example")  # the browser of someone who set the Host
    pdf = client.get("/certificates/ABCD-EFGH-JKMN.pdf", headers={"Host": "evil.example"})
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "验证 Verify: https://learn.example.com/verify/ABCD-EFGH-JKMN" in text and "evil.example" not in text


def test_continue_resumes_what_was_left_open_and_keeps_the_final_assessment_for_last(course_sources):
    from datetime import datetime, timedelta, timezone

    from courseware.content import compile_sources
    from courseware.learning.progress import ActivityState, summarise
    from courseware.models import Status

    course = compile_sources(course_sources)
    activities = [a for a in course.activities if a.id != course.final_quiz_id]
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def done(i: int) -> ActivityState:
        return ActivityState(Status.COMPLETED, start + timedelta(hours=i), start + timedelta(hours=i))

    assert summarise(course, {}).next_activity == activities[0]
    # Left the third activity open after finishing the first two: continue goes back to it.
    opened = {a.id: done(i) for i, a in enumerate(activities[:2])} | {activities[2].id: ActivityState(Status.IN_PROGRESS, start + timedelta(hours=5))}
    assert summarise(course, opened).next_activity == activities[2]
    # Everything but one module activity done, out of order: the gap comes before the final assessment.
    gap = activities[3]
    almost = {a.id: done(i) for i, a in enumerate(activities) if a is not gap}
    assert summarise(course, almost).next_activity == gap
    everything = {a.id: done(i) for i, a in enumerate(activities)}
    assert summarise(course, everything).next_activity.id == course.final_quiz_id
