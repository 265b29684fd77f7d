"""Quizzes that measure: pools drawn per attempt, the review policy kept by the server, blanks shown before submitting."""
from __future__ import annotations

import re

import pytest
from conftest import answer_form, statements_of
from sqlalchemy import func, select

from courseware.content import CourseInvalid
from courseware.extensions import db
from courseware.models import QuizAttempt, Role
from courseware.publishing import live_course, publish
from courseware.studio.analytics import quizzes as quiz_analytics
from courseware.studio.analytics.filters import Filter

QUIZ_ID = "quiz-why-it-matters"  # the module 02-why-it-matters names it; here it is replaced by a pooled one
VARIANTS = "".join(
    f"      - {{id: c{n}, type: single, text: 沟通题 {n}, options: [{{text: 对, correct: true}}, {{text: 错}}], explanation: 解析 {n}}}\n"
    for n in range(1, 6)
)
POOLED = f"""id: {QUIZ_ID}
kind: quiz
title: 抽题小测
pass_mark: 100
attempts: ATTEMPTS
review: REVIEW
questions:
  - id: q-fixed
    type: true_false
    text: 内部客户只存在于部门之间。
    answer: false
    explanation: 还有上下级与工序之间。
pools:
  - id: communication
    draw: 2
    questions:
{VARIANTS}"""


def publish_quiz(app, course_sources, review="full", attempts=0):
    text = POOLED.replace("REVIEW", review).replace("ATTEMPTS", str(attempts))
    with app.app_context():
        publish({**course_sources, f"quizzes/{QUIZ_ID}.yaml": text.encode()})
    with app.test_request_context():
        return live_course().course.quiz(QUIZ_ID)


def start(client) -> str:
    response = client.post(f"/quizzes/{QUIZ_ID}/start")
    assert response.status_code == 302 and "/attempts/" in response.location
    return response.location


def drawn(app, attempt_url) -> list[str]:
    with app.app_context():
        return db.session.get(QuizAttempt, attempt_url.rsplit("/", 1)[1]).question_ids


def form(quiz, ids, right=True) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {"submit_anyway": ["1"]}
    for qid in ids:
        question = quiz.question(qid)
        answer = question.correct_answer()
        if not right:
            answer = (not answer) if question.kind == "true_false" else "b"
        fields.update(answer_form(question, answer))
    return fields


def asked_on_page(page: str) -> list[str]:
    return re.findall(r'<fieldset class="card question" id="q-([\w-]+)"', page)


def test_each_attempt_draws_its_own_set_and_is_graded_on_it(client, trainee, app, course_sources):
    quiz = publish_quiz(app, course_sources)
    assert len(quiz.questions) == 6 and quiz.asked_count == 3  # every variant is in the quiz; three are asked
    assert "3 道题" in client.get(f"/quizzes/{QUIZ_ID}").get_data(as_text=True)
    first_url = start(client)
    first = drawn(app, first_url)
    assert first[0] == "q-fixed" and len(first) == 3
    assert asked_on_page(client.get(first_url).get_data(as_text=True)) == first
    assert start(client) == first_url and asked_on_page(client.get(first_url).get_data(as_text=True)) == first
    client.post(f"{first_url}/submit", data=form(quiz, first))

    for _ in range(30):  # ten sets to draw from: a different one comes up soon
        second_url = start(client)
        second = drawn(app, second_url)
        if set(second) != set(first):
            break
        client.post(f"{second_url}/submit", data=form(quiz, second))
    assert set(second) != set(first)
    # wrong answers to what only the first attempt asked are not part of the second: it is graded on its own three
    client.post(f"{second_url}/submit", data={**form(quiz, set(first) - set(second), right=False), **form(quiz, second)})
    result = client.get(f"{second_url}/result").get_data(as_text=True)
    assert "已通过 · 100%" in result
    assert len(re.findall(r'<li class="card review', result)) == 3
    attempt_id = second_url.rsplit("/", 1)[1]
    answered = [s["object"]["id"] for s in statements_of(app, trainee, "answered") if s["context"]["registration"] == attempt_id]
    assert sorted(answered) == sorted(f"urn:courseware:question:{QUIZ_ID}/{qid}" for qid in second)  # what xAPI carries


def test_item_analysis_counts_a_variant_only_for_the_attempts_that_drew_it(client, trainee, app, course_sources):
    quiz = publish_quiz(app, course_sources)
    sets = []
    for _ in range(4):
        url = start(client)
        sets.append(drawn(app, url))
        client.post(f"{url}/submit", data=form(quiz, sets[-1]))
    with app.test_request_context():
        report = quiz_analytics.quiz_report(live_course().course.quiz(QUIZ_ID), Filter())
        headline = next(h for h in quiz_analytics.quiz_headlines(live_course().course, Filter()) if h.quiz.id == QUIZ_ID)
    for stats in report.questions:
        times = sum(stats.question.id in s for s in sets)
        assert (stats.attempts, stats.correct, stats.unanswered) == (times, times, 0)
    assert headline.attempts == 4 and headline.hardest_share_correct == 1.0


def test_a_pool_drawing_more_than_it_holds_is_refused_at_its_line(app, course_sources):
    text = POOLED.replace("REVIEW", "full").replace("ATTEMPTS", "0").replace("draw: 2", "draw: 6")
    with app.app_context(), pytest.raises(CourseInvalid) as caught:
        publish({**course_sources, f"quizzes/{QUIZ_ID}.yaml": text.encode()})
    assert f"quizzes/{QUIZ_ID}.yaml:15: pool 'communication': 'draw' is 6 but the pool holds only 5 questions" in str(
        [str(e) for e in caught.value.errors]
    )


@pytest.mark.parametrize(
    ("review", "attempts", "shown_after"),
    [
        ("score", 0, ["never"]),
        ("after_passing", 0, ["passed"]),
        ("after_last_attempt", 2, ["last"]),
        ("full", 0, ["failed", "passed"]),
        ("responses", 0, ["never"]),  # a file written before the policies: shows the score only
    ],
)
def test_the_review_policy_decides_when_answers_show(client, trainee, app, course_sources, review, attempts, shown_after):
    quiz = publish_quiz(app, course_sources, review, attempts)
    policy = {
        "score": "每次作答后只显示得分，不显示答案。",
        "after_passing": "通过后显示答案。",
        "after_last_attempt": "用完最后一次作答机会后显示答案。",
        "full": "每次作答后可以看到正确答案和解析。",
        "responses": "每次作答后只显示得分，不显示答案。",
    }[review]
    assert policy in client.get(f"/quizzes/{QUIZ_ID}").get_data(as_text=True)  # stated before starting

    def shows_answers(url):
        page = client.get(f"{url}/result").get_data(as_text=True)
        hidden = policy in page and "解析" not in page and "正确答案：" not in page and "对</span>" not in page
        assert hidden != ("解析：" in page)
        return not hidden

    failed_url = start(client)
    client.post(f"{failed_url}/submit", data=form(quiz, drawn(app, failed_url), right=False))
    assert shows_answers(failed_url) == ("failed" in shown_after)
    url = start(client)  # the last attempt, still open
    assert shows_answers(failed_url) == ("failed" in shown_after)
    client.post(f"{url}/submit", data=form(quiz, drawn(app, url), right=review != "after_last_attempt"))
    later = "passed" in shown_after or "failed" in shown_after or "last" in shown_after
    assert shows_answers(url) == later and shows_answers(failed_url) == later


def test_blank_answers_are_listed_before_submitting_and_kept(client, trainee, app, course_sources):
    quiz = publish_quiz(app, course_sources)
    url = start(client)
    ids = drawn(app, url)
    first = quiz.question(ids[1])
    fields = answer_form(first, first.correct_answer())
    summary = client.post(f"{url}/submit", data=fields)
    assert summary.status_code == 200
    page = summary.get_data(as_text=True)
    assert "3 题中有 2 题未作答" in page
    links = re.findall(r'<a href="([^"]+)">第 (\d) 题</a>', page)
    assert links == [(f"{url}#q-{ids[0]}", "1"), (f"{url}#q-{ids[2]}", "3")]
    assert f'value="{first.correct_answer()}" checked' in client.get(url).get_data(as_text=True)  # kept

    rest = {**answer_form(quiz.question(ids[0]), False), **answer_form(quiz.question(ids[2]), "b")}
    assert "3 题中有 1 题未作答" not in client.post(f"{url}/submit", data=rest).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.status == "submitted")) == 1

    url = start(client)
    assert "3 题中有 3 题未作答" in client.post(f"{url}/submit", data={}).get_data(as_text=True)
    done = client.post(f"{url}/submit", data={"submit_anyway": "1"})
    assert done.status_code == 302 and done.location.endswith("/result")
    assert "未通过 · 0%" in client.get(done.location).get_data(as_text=True)
    attempt_id = done.location.split("/")[-2]
    blanks = [s["result"] for s in statements_of(app, trainee, "answered") if s["context"]["registration"] == attempt_id]
    assert blanks == [{"success": False, "score": {"scaled": 0.0}}] * 3  # what the LRS hears of a blank: no response


def test_true_false_answers_read_as_words_in_the_review(client, trainee, app, course_sources):
    quiz = publish_quiz(app, course_sources)
    url = start(client)
    client.post(f"{url}/submit", data=form(quiz, drawn(app, url), right=False))
    page = client.get(f"{url}/result").get_data(as_text=True)
    assert '<strong>你的答案：</strong> <span class="answer-part">正确</span>' in page
    assert '<strong>正确答案：</strong> <span class="answer-part">错误</span>' in page
    assert "(false)" not in page and "(true)" not in page


def test_hr_reads_the_questions_the_attempt_drew(client, app, course_sources, people, login, sales_hr):
    quiz = publish_quiz(app, course_sources, review="score")
    client.post("/logout")
    learner_id, learner_email = people["sales"]
    login(learner_email)
    url = start(client)
    asked = drawn(app, url)
    client.post(f"{url}/submit", data=form(quiz, asked, right=False))
    client.post("/logout")
    login(people["hr"][1])
    page = client.get(f"/hr/learners/{learner_id}/attempts/{url.rsplit('/', 1)[1]}").get_data(as_text=True)
    assert len(re.findall(r'<li class="card review', page)) == 3
    assert all(quiz.question(qid).text_html in page for qid in asked)
    assert '<strong>正确答案：</strong> <span class="answer-part">错误</span>' in page  # HR sees answers whatever the policy


def test_the_studio_preview_shows_each_pool_with_its_draw(client, app, course_sources, make_user, login):
    publish_quiz(app, course_sources)
    login(make_user(Role.TRAINER)[1])
    page = client.get(f"/studio/files/quizzes/{QUIZ_ID}.yaml").text
    assert "每次作答抽 3 题" in page and "每次都考的题" in page
    pool = page[page.index('class="preview-pool"'):]
    assert "题池 communication" in pool and "每次作答从这 5 道变式题中抽 2 道。" in pool
    assert all(f"沟通题 {n}" in pool for n in range(1, 6)) and "内部客户只存在于部门之间" not in pool
