"""Publishing: `content check` and `content import` on the command line, all-or-nothing."""
from __future__ import annotations

import shutil

from conftest import LESSONS, TEST_COURSE
from sqlalchemy import func, select

from courseware import create_app
from courseware.content import compile_sources
from courseware.extensions import db
from courseware.models import ContentRevision
from courseware.publishing import live_course, publish


def copy_course(tmp_path):
    target = tmp_path / "lessons"
    shutil.copytree(TEST_COURSE, target)
    shutil.copytree(TEST_COURSE.parent / "quizzes", tmp_path / "quizzes")
    return target


def test_check_prints_file_line_reason_and_fails(app, tmp_path):
    course_dir = copy_course(tmp_path)
    lesson = course_dir / "03-core-elements" / "01-communication.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("title: ", "title: a: ", 1), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "check", str(course_dir)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("lessons/03-core-elements/01-communication.md:3: invalid YAML")


def test_check_reports_broken_quizzes_and_scenarios(app, tmp_path):
    course_dir = copy_course(tmp_path)
    quiz = tmp_path / "quizzes" / "quiz-core-elements.yaml"
    text = quiz.read_text(encoding="utf-8")
    quiz.write_text(text.replace("type: true_false", "type: essay", 1), encoding="utf-8")
    scenario = tmp_path / "quizzes" / "scenario-rush-order.yaml"
    lines = scenario.read_text(encoding="utf-8").split("\n")
    lines.insert(lines.index("nodes:") + 1, "  - id: island\n    ending: {title: 孤岛, outcome: poor, debrief: 没有人能走到这里。}")
    scenario.write_text("\n".join(lines), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "check", str(course_dir)])
    assert result.exit_code == 1
    type_line = text.split("\n").index(next(x for x in text.split("\n") if "type: true_false" in x)) + 1
    assert f"quizzes/quiz-core-elements.yaml:{type_line}: question" in result.output
    assert "'type' must be one of: single, multiple, true_false, ordering, matching, short_answer" in result.output
    island_line = lines.index("nodes:") + 2
    assert f"quizzes/scenario-rush-order.yaml:{island_line}: node 'island' cannot be reached from the start node" in result.output


def test_check_passes_the_shipped_course(app, shipped_course_sources):
    result = app.test_cli_runner().invoke(args=["content", "check", str(LESSONS)])
    assert result.exit_code == 0, result.output
    course = compile_sources(shipped_course_sources)
    assert f"{len(course.modules)} modules, {len(course.lessons)} lessons, {len(course.quizzes)} quizzes" in result.output


def test_broken_import_leaves_the_live_course_unchanged(app, tmp_path):
    runner = app.test_cli_runner()
    course_dir = copy_course(tmp_path)
    assert runner.invoke(args=["content", "import", str(course_dir)]).exit_code == 0

    lesson = course_dir / "01-what-is-internal-customer" / "01-definition.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("---\nid:", "id:", 1), encoding="utf-8")
    (course_dir / "08-summary" / "01-summary-and-action.md").write_text(
        "---\nid: summary-action-plan\ntitle: 新标题\norder: 1\nminutes: 5\n---\n改过的正文\n", encoding="utf-8"
    )
    result = runner.invoke(args=["content", "import", str(course_dir)])
    assert result.exit_code == 1
    assert "lessons/01-what-is-internal-customer/01-definition.md:1: missing front matter" in result.output
    with app.test_request_context():
        assert db.session.scalar(select(func.count()).select_from(ContentRevision)) == 1
        assert live_course().course.lesson("summary-action-plan").title != "新标题"


def test_reimporting_unchanged_files_makes_no_revision(app):
    runner = app.test_cli_runner()
    assert "Published revision" in runner.invoke(args=["content", "import"]).output
    assert "nothing changed" in runner.invoke(args=["content", "import"]).output


def test_a_publish_reaches_every_worker(app, course_sources):
    """Two app instances (two workers) share a database; a publish through one reaches the other."""
    other = create_app({**app.config, "INSTANCE_PATH": app.instance_path})
    with app.app_context():
        publish(course_sources)
    with other.test_request_context():
        first = live_course()
        assert first.course.lesson("summary-action-plan") is not None
    key = "lessons/08-summary/01-summary-and-action.md"
    edited = {**course_sources, key: course_sources[key].replace(b"title:", "title: 全课总结 #".encode(), 1)}
    with app.app_context():
        publish(edited)
    with other.test_request_context():
        assert live_course().revision_id != first.revision_id
        assert live_course().course.lesson("summary-action-plan").title.startswith("全课总结")
    with other.app_context():
        db.engine.dispose()


def test_workers_look_for_a_new_revision_at_most_every_few_seconds(app, course_sources, monkeypatch):
    """A worker checks which revision is live at most every CONTENT_CHECK_SECONDS (one query saved per request)."""
    from courseware import publishing

    clock = [1000.0]
    monkeypatch.setattr(publishing.time, "monotonic", lambda: clock[0])
    other = create_app({**app.config, "INSTANCE_PATH": app.instance_path, "CONTENT_CHECK_SECONDS": 2})
    with app.app_context():
        publish(course_sources)
    with other.test_request_context():
        first = live_course().revision_id
    key = "lessons/08-summary/01-summary-and-action.md"
    with app.app_context():
        publish({**course_sources, key: course_sources[key] + b"\n"})
    clock[0] += 1
    with other.test_request_context():
        assert live_course().revision_id == first, "within the interval the worker keeps its copy"
    clock[0] += 1.5
    with other.test_request_context():
        assert live_course().revision_id != first, "after it, the new revision reaches this worker"
    with other.app_context():
        db.engine.dispose()
