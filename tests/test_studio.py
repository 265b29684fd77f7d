"""The trainer studio: edit with preview, draft, publish, compare, roll back, and exchange files."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from conftest import in_english

from courseware.content import compile_sources
from courseware.extensions import db
from courseware.models import ContentRevision, DraftFile, Progress, Role, User
from courseware.studio import drafts

LESSON = "lessons/01-what-is-internal-customer/01-definition.md"
LESSON_ID = "ic-definition"
OLD_SENTENCE = "他们，就是你的**内部客户**。"
NEW_SENTENCE = "他们，就是你的**内部客户**——本句由讲师在工作室里修改。"


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER)


def _edit_page(client, path=LESSON):
    page = client.get(f"/studio/files/{path}")
    assert page.status_code == 200
    text = re.search(r'<textarea[^>]*name="text"[^>]*>(?:\r\n|\n)?(.*?)</textarea>', page.text, re.S).group(1)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page.text).group(1)
    import html

    return html.unescape(text), version


def _revision_count(app) -> int:
    with app.app_context():
        return db.session.query(ContentRevision).count()


def test_trainer_edits_previews_publishes_and_rolls_back_while_progress_stays(app, client, published, make_user, login, trainer):
    trainee_id, trainee_email = make_user(Role.TRAINEE)
    login(trainee_email)
    assert OLD_SENTENCE.replace("**内部客户**", "<strong>内部客户</strong>") in client.get(f"/lessons/{LESSON_ID}").text
    client.post(f"/lessons/{LESSON_ID}/complete")
    client.post("/logout")

    login(trainer[1])
    source, version = _edit_page(client)
    assert source.startswith("---\nid: ic-definition")

    broken = source.replace("minutes: 9", "minutes: nine")
    preview = client.post(f"/studio/files/{LESSON}", data={"text": broken, "version": version, "action": "preview"})
    assert preview.status_code == 200
    assert 'data-line="5"' in preview.text, "the error points at the line of 'minutes'"
    assert "minutes" in preview.text

    live = client.post("/studio/preview", data={"text": broken, "version": version, "path": LESSON})
    assert 'data-line="5"' in live.text

    edited = source.replace(OLD_SENTENCE, NEW_SENTENCE)
    fixed = client.post("/studio/preview", data={"text": edited, "version": version, "path": LESSON})
    assert "本句由讲师在工作室里修改" in fixed.text and "preview-errors" not in fixed.text

    saved = client.post(f"/studio/files/{LESSON}", data={"text": edited.replace("\n", "\r\n"), "version": version, "action": "save"})
    assert saved.status_code == 302
    with app.app_context():
        assert drafts.draft_of(LESSON).text == edited, "browser line endings are stored as the files keep them"
    client.post("/logout")

    login(trainee_email)
    assert "本句由讲师在工作室里修改" not in client.get(f"/lessons/{LESSON_ID}").text, "learners never see drafts"
    client.post("/logout")

    login(trainer[1])
    changes = client.get("/studio/changes")
    assert "本句由讲师在工作室里修改" in changes.text and LESSON in changes.text
    published_page = client.post("/studio/publish", data={"note": "clarify the definition"}, follow_redirects=True)
    assert published_page.status_code == 200
    with app.app_context():
        new_revision = db.session.scalar(ContentRevision.live())
        assert new_revision.note == "clarify the definition" and new_revision.id != published
        assert drafts.drafts() == []
    client.post("/logout")

    login(trainee_email)
    lesson_page = client.get(f"/lessons/{LESSON_ID}")
    assert "本句由讲师在工作室里修改" in lesson_page.text
    assert "你已完成本课。" in lesson_page.text
    with app.app_context():
        row = db.session.query(Progress).filter_by(user_id=trainee_id, activity_id=LESSON_ID).one()
        assert row.status == "completed"
    client.post("/logout")

    login(trainer[1])
    compare = client.get(f"/studio/revisions/compare?from={published}&to={new_revision.id}")
    assert "本句由讲师在工作室里修改" in compare.text and LESSON in compare.text
    assert client.get(f"/studio/revisions/{published}/rollback").status_code == 200
    client.post(f"/studio/revisions/{published}/rollback")
    client.post("/logout")

    login(trainee_email)
    lesson_page = client.get(f"/lessons/{LESSON_ID}")
    assert "本句由讲师在工作室里修改" not in lesson_page.text
    assert OLD_SENTENCE.replace("**内部客户**", "<strong>内部客户</strong>") in lesson_page.text
    with app.app_context():
        assert db.session.query(Progress).filter_by(user_id=trainee_id, activity_id=LESSON_ID).one().status == "completed"
        assert db.session.query(ContentRevision).count() == 3, "a rollback is a new revision; history is kept"


def test_a_second_trainer_cannot_overwrite_a_draft_unseen(app, client, published, make_user, login, trainer):
    login(trainer[1])
    source, version = _edit_page(client)
    first = source.replace(OLD_SENTENCE, "第一位讲师的修改。")
    client.post(f"/studio/files/{LESSON}", data={"text": first, "version": version, "action": "save"})
    second = source.replace(OLD_SENTENCE, "第二位讲师的修改。")
    clash = client.post(f"/studio/files/{LESSON}", data={"text": second, "version": version, "action": "save"})
    assert clash.status_code == 409
    assert "第二位讲师的修改。" in clash.text, "the second trainer's text is still in the editor"
    with app.app_context():
        assert "第一位讲师的修改。" in drafts.draft_of(LESSON).text


def test_publishing_a_broken_draft_changes_nothing(app, client, published, login, trainer):
    login(trainer[1])
    source, version = _edit_page(client)
    client.post(f"/studio/files/{LESSON}", data={"text": source.replace("order: 1", "order: first"), "version": version, "action": "save"})
    index = client.get("/studio/")
    assert "1 处错误" in index.text
    changes = client.get("/studio/changes")
    assert f"{LESSON}</code></a>:4:" in changes.text
    client.post("/studio/publish", data={"note": ""})
    with app.app_context():
        assert db.session.scalar(ContentRevision.live(ContentRevision.id)) == published
        assert drafts.draft_of(LESSON) is not None, "the draft is kept for fixing"


def test_a_draft_of_a_file_changed_live_meanwhile_must_be_looked_at_again(app, published, course_sources, trainer):
    with app.app_context():
        user = db.session.get(User, trainer[0])
        text = course_sources[LESSON].decode()
        drafts.save(LESSON, text.replace(OLD_SENTENCE, "草稿里的修改。"), user, 0)
        from courseware.publishing import publish

        publish({**course_sources, LESSON: text.replace(OLD_SENTENCE, "命令行发布的修改。")})
        with pytest.raises(drafts.StaleDrafts):
            drafts.publish_drafts(user)
        assert "命令行发布的修改。" in drafts.live_files()[LESSON]


def test_changing_an_id_warns_how_many_learners_have_records_on_it(app, client, published, make_user, login, trainer):
    _trainee, email = make_user(Role.TRAINEE)
    login(email)
    client.get(f"/lessons/{LESSON_ID}")
    client.post("/logout")
    login(trainer[1])
    source, version = _edit_page(client)
    client.post(f"/studio/files/{LESSON}", data={"text": source.replace("id: ic-definition", "id: ic-definition-v2"), "version": version, "action": "save"})
    changes = client.get("/studio/changes")
    assert "ic-definition" in changes.text
    assert re.search(r"1 (位学员|learner has)", changes.text)


def test_new_files_start_valid_or_say_what_is_missing(app, client, published, login, trainer):
    login(trainer[1])
    client.post("/studio/new", data={"kind": "lesson", "folder": "lessons/03-core-elements", "name": "05-extra"})
    with app.app_context():
        assert drafts.check(drafts.working_files()).errors == ()
    client.post("/studio/new", data={"kind": "scenario", "folder": "", "name": "scenario-new"})
    with app.app_context():
        errors = drafts.check(drafts.working_files()).errors
    assert [(e.path, "not used" in e.reason) for e in errors] == [("quizzes/scenario-new.yaml", True)]


def test_export_then_import_gives_the_same_course_and_diff_shows_changes(app, published, tmp_path):
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["content", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / LESSON).read_text(encoding="utf-8").startswith("---\nid: ic-definition")
    reimported = runner.invoke(args=["content", "import", str(tmp_path / "out")])
    assert reimported.exit_code == 0 and "nothing changed" in reimported.output
    assert runner.invoke(args=["content", "diff", str(tmp_path / "out")]).exit_code == 0

    lesson = tmp_path / "out" / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8").replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    changed = runner.invoke(args=["content", "diff", str(tmp_path / "out")])
    assert changed.exit_code == 1
    assert re.search(f"^-.*{re.escape(OLD_SENTENCE)}$", changed.output, re.M)
    assert re.search(f"^\\+.*{re.escape(NEW_SENTENCE)}$", changed.output, re.M)
    assert runner.invoke(args=["content", "import", str(tmp_path / "out")]).exit_code == 0
    between = runner.invoke(args=["content", "diff", "--from", str(published)])
    assert between.exit_code == 1 and re.search(f"^\\+.*{re.escape(NEW_SENTENCE)}$", between.output, re.M)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


def _upload(client, data: bytes, name: str, folder: str = ""):
    return client.post("/studio/upload", data={"file": (io.BytesIO(data), name), "folder": folder}, content_type="multipart/form-data")


def test_a_downloaded_module_uploads_back_unchanged_and_an_edited_one_becomes_a_draft(app, client, published, login, trainer):
    login(trainer[1])
    download = client.get("/studio/download/modules/what-is-internal-customer.zip")
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert LESSON in names and "quizzes/quiz-what-is-internal-customer.yaml" in names and "quizzes/scenario-urgent-task.yaml" in names

    assert _upload(client, download.data, "module.zip").status_code == 302
    with app.app_context():
        assert drafts.drafts() == [], "the same files make no draft"

    files = {n: zipfile.ZipFile(io.BytesIO(download.data)).read(n).decode() for n in names}
    # a hand-made zip of the module folder alone, as a trainer would make it in a file manager
    folder_zip = {p.removeprefix("lessons/"): t for p, t in files.items() if p.startswith("lessons/")}
    folder_zip["01-what-is-internal-customer/01-definition.md"] = files[LESSON].replace(OLD_SENTENCE, NEW_SENTENCE)
    assert _upload(client, _zip(folder_zip), "01-what-is-internal-customer.zip").status_code == 302
    with app.app_context():
        assert [row.path for row in drafts.drafts()] == [LESSON]


def test_a_broken_upload_is_refused_with_file_and_line_and_changes_nothing(app, client, published, login, trainer):
    login(trainer[1])
    bad = "---\nid: extra-lesson\ntitle: 额外课时\norder: 9\nminutes: 0\n---\n正文\n"
    refused = _upload(client, bad.encode(), "09-extra.md", folder="lessons/03-core-elements")
    assert refused.status_code == 400
    assert "lessons/03-core-elements/09-extra.md</code>:5:" in refused.text
    assert _upload(client, b"PK\x03\x04 not really", "course.zip").status_code == 400
    assert _upload(client, _zip({"../../etc/passwd.md": "x"}), "evil.zip").status_code == 400
    assert _upload(client, "---\nid: x\n".encode("gbk") + "中文".encode("gbk"), "x.md", folder="lessons/03-core-elements").status_code == 400
    with app.app_context():
        assert drafts.drafts() == []


def test_a_whole_course_zip_replaces_the_course(app, client, published, login, trainer):
    login(trainer[1])
    course = client.get("/studio/download/course.zip").data
    files = {n: zipfile.ZipFile(io.BytesIO(course)).read(n).decode() for n in zipfile.ZipFile(io.BytesIO(course)).namelist()}
    gone = "lessons/01-what-is-internal-customer/03-characteristics.md"  # a lesson nothing else names
    del files[gone]
    assert _upload(client, _zip({f"export/{p}": t for p, t in files.items()}), "course.zip").status_code == 302
    with app.app_context():
        rows = drafts.drafts()
        assert [(r.path, r.text) for r in rows] == [(gone, None)]
        course_now = compile_sources(drafts.working_files())
        assert len(course_now.lessons) == len(compile_sources(drafts.live_files()).lessons) - 1


def test_only_trainers_reach_the_studio(client, published, make_user, login):
    for role in (Role.TRAINEE, Role.HR):
        _id, email = make_user(role)
        login(email)
        for url in ("/studio/", f"/studio/files/{LESSON}", "/studio/changes", "/studio/revisions", "/studio/exchange", "/studio/download/course.zip"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/studio/publish", data={}).status_code == 403
        client.post("/logout")
    assert client.get("/studio/").status_code == 302, "anonymous visitors are sent to log in"


def test_draft_rows_keep_who_and_when(app, published, trainer):
    with app.app_context():
        user = db.session.get(User, trainer[0])
        text = drafts.live_files()[LESSON]
        row = drafts.save(LESSON, text + "\n补充一段。\n", user, 0)
        assert isinstance(row, DraftFile) and row.updated_by.id == user.id and row.version == 1
        assert drafts.save(LESSON, text, user, 1) is None, "saving the live text again removes the draft"
        assert drafts.drafts() == []


def test_gift_exported_from_one_quiz_imports_into_another_as_a_draft(app, client, published, login, trainer):
    login(trainer[1])
    exported = client.get("/studio/quizzes/quiz-what-is-internal-customer.gift")
    assert exported.status_code == 200
    gift_text = exported.data.decode()
    with app.app_context():
        live = compile_sources(drafts.live_files())
    source_quiz, target = live.quiz("quiz-what-is-internal-customer"), live.quiz("quiz-summary")
    ordering = [q.id for q in source_quiz.questions if q.kind == "ordering"]
    for question_id in ordering:
        assert f"// 未能带出: {question_id}" in gift_text or f"// Not carried: {question_id}" in gift_text

    preview = client.post("/studio/gift", data={"text": gift_text + "\n::essay::写一段话{}\n", "quiz": target.id})
    assert preview.status_code == 200
    assert 'name="confirm" value="yes"' in preview.text
    assert "essay" in preview.text, "what cannot be imported is listed"
    with app.app_context():
        assert drafts.drafts() == [], "nothing changes before the trainer confirms"

    confirmed = client.post("/studio/gift", data={"text": gift_text, "quiz": target.id, "confirm": "yes"})
    assert confirmed.status_code == 302
    with app.app_context():
        assert [row.path for row in drafts.drafts()] == [target.path]
        course = compile_sources(drafts.working_files())
    carried = len(source_quiz.questions) - len(ordering)
    assert len(course.quiz(target.id).questions) == len(target.questions) + carried
    assert {q.kind for q in course.quiz(target.id).questions[-carried:]} == {q.kind for q in source_quiz.questions if q.kind != "ordering"}


def test_gift_questions_a_quiz_cannot_take_are_refused_before_the_confirm_step(app, client, published, login, trainer):
    login(trainer[1])
    with app.app_context():
        target = compile_sources(drafts.live_files()).quizzes[0]
    too_long = "::新题::" + "长" * 30_001 + "{T####是。}\n"  # a question without #### is imported with an explanation
    preview = client.post("/studio/gift", data={"text": too_long, "quiz": target.id})
    assert preview.status_code == 400
    assert 'name="confirm" value="yes"' not in preview.text
    assert "30,000" in preview.text and ":1: " in preview.text and target.path not in preview.text
    with app.app_context():
        assert drafts.drafts() == []


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1024}])
def test_an_upload_over_the_limit_gets_a_clear_page(client, published, login, trainer, app_config):
    login(trainer[1])
    too_big = _upload(client, b"x" * 4096, "big.zip")
    assert too_big.status_code == 413
    assert "文件太大" in too_big.text


@pytest.mark.parametrize("app_config", [{"REPORT_CACHE_SECONDS": 600}])
def test_analytics_figures_are_kept_for_a_while_and_can_be_recomputed(app, client, published, make_user, login, trainer, app_config):
    login(trainer[1])

    def readers(page):
        row = re.search(r"内部客户的定义.*?</th>\s*<td[^>]*>(\d+)</td>", page.text, re.S)
        return int(row.group(1))

    assert readers(client.get("/studio/analytics")) == 0
    client.post("/logout")
    _id, email = make_user(Role.TRAINEE)
    login(email)
    client.get(f"/lessons/{LESSON_ID}")
    client.post("/logout")
    login(trainer[1])
    assert readers(client.get("/studio/analytics")) == 0, "kept figures are shown"
    assert readers(client.get("/studio/analytics?fresh=1")) == 1, "recomputed on request"


def test_a_whole_course_zip_missing_a_file_it_needs_is_refused(app, client, published, login, trainer):
    login(trainer[1])
    course = client.get("/studio/download/course.zip").data
    archive = zipfile.ZipFile(io.BytesIO(course))
    files = {n: archive.read(n).decode() for n in archive.namelist()}
    del files["quizzes/quiz-core-elements.yaml"]  # core-elements/module.md still names it
    refused = _upload(client, _zip(files), "course.zip")
    assert refused.status_code == 400
    assert "lessons/03-core-elements/module.md</code>:" in refused.text and "quiz-core-elements" in refused.text
    with app.app_context():
        assert drafts.drafts() == []


def test_the_editor_states_its_limits_and_the_preview_refuses_longer_text_without_rendering_it(client, published, login, trainer):
    login(trainer[1])
    in_english(client)  # the compiler's own words
    source, version = _edit_page(client)
    page = client.get(f"/studio/files/{LESSON}")
    assert "200,000" in page.text and "30,000" in page.text

    def live(text):
        response = client.post("/studio/preview", data={"text": text, "version": version, "path": LESSON})
        assert response.status_code == 200
        return response.text

    too_long = live(source + "[" * 200_000)
    assert "the file is longer than 200,000 characters" in too_long and "[[[[" not in too_long
    long_text = live(source + "[" * 30_000)
    assert "the text is longer than 30,000 characters" in long_text and "[[[[" not in long_text, "nothing is rendered"
    brackets = live(source.partition("\n---\n")[0] + "\n---\n" + "[" * 30_000)
    assert "[" * 1000 in brackets and "preview-errors" not in brackets


def test_a_gift_file_with_too_many_questions_is_refused_by_file_and_line(app, client, published, login, trainer):
    login(trainer[1])
    in_english(client)  # the compiler's own words
    with app.app_context():
        target = compile_sources(drafts.live_files()).quizzes[0]
    many = "\n\n".join(f"::q-{n}::内部客户包括同事吗？{{TRUE####是的。}}" for n in range(600)).encode()
    refused = client.post(
        "/studio/gift", data={"file": (io.BytesIO(many), "bank.gift"), "quiz": target.id}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400
    assert "<code>bank.gift</code>:1001: more than 500 questions" in refused.text
    with app.app_context():
        assert drafts.drafts() == []


def test_the_preview_says_why_an_image_is_refused_and_never_loads_it(client, published, login, trainer):
    login(trainer[1])
    in_english(client)  # the compiler's own words
    source, version = _edit_page(client)
    live = client.post("/studio/preview", data={"text": source + "\n![](/hr/learners/12)\n", "version": version, "path": LESSON})
    assert "images must be files under static/" in live.text
    assert "/hr/learners/12" not in live.text


def test_compile_errors_and_lint_warnings_are_shown_in_the_interface_language(client, published, login, trainer):
    """Chinese by default, English after switching; values from the trainer's files are shown as written."""
    import html

    quiz = "quizzes/quiz-core-elements.yaml"
    login(trainer[1])
    lesson_text, lesson_version = _edit_page(client)
    quiz_text, quiz_version = _edit_page(client, quiz)
    broken = {"text": lesson_text.replace("order: 1", "order: first"), "version": lesson_version, "path": LESSON}
    cued = {"text": quiz_text.replace("提出需求时没有确认清楚需求、期限和背景。", "以上都对", 1), "version": quiz_version, "path": quiz}

    def preview(data: dict[str, str]) -> str:
        return html.unescape(client.post("/studio/preview", data=data).text)

    assert "字段“order”必须是不小于 1 的整数" in preview(broken)
    assert "“以上都对”被用作选项：请改写成一个真正的答案" in preview(cued)
    in_english(client)
    assert "'order' must be a whole number of at least 1" in preview(broken)
    assert "'以上都对' is an option: write a real answer instead" in preview(cued)
