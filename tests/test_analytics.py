"""Trainer analytics: which lessons learners stop at, which questions and choices trip them up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from courseware.extensions import db
from courseware.hr.assignments import today
from courseware.learning import records
from courseware.learning.roleplay import model_path
from courseware.models import HRScope, LearningRecord, QuizAttempt, Role, User
from courseware.people.departments import find_or_create
from courseware.publishing import live_course, publish
from courseware.studio.analytics import item_analysis, lessons, quizzes, scenarios
from courseware.studio.analytics.filters import Filter, departments_for
from courseware.studio.scenario_map import depths, layout

QUIZ_ID = "quiz-why-it-matters"
SCENARIO_ID = "scenario-rush-order"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Who answered what in quiz-why-it-matters (7 questions, 1 point each), in order of submission.
# "q1" is the option picked on q-inner-strength (a is right, None: left blank); "right" lists the
# other questions answered correctly; everyone gets q-backstage (true/false) right.
#          q1    right                                        extra answers             score
PLAN = [
    ("a", ["q-complaint-case", "q-four-reasons", "q-service-chain", "q-match-reasons"], {"q-term-silo": "信息孤岛"}),  # L0  7
    ("a", ["q-complaint-case", "q-four-reasons", "q-service-chain", "q-match-reasons"], {"q-term-silo": " 信息 孤岛。"}),  # L1  7
    ("b", ["q-complaint-case", "q-four-reasons", "q-service-chain", "q-match-reasons"], {"q-term-silo": "部门墙"}),  # L2  5
    ("a", ["q-complaint-case", "q-four-reasons", "q-service-chain", "q-match-reasons"], {}),  # L3  6
    ("a", ["q-complaint-case", "q-four-reasons", "q-service-chain"], {}),  # L4  5
    ("c", ["q-complaint-case", "q-four-reasons"], {"q-service-chain": "swap-first-two"}),  # L5  3.5
    ("a", ["q-complaint-case", "q-four-reasons"], {}),  # L6  4
    ("b", ["q-complaint-case"], {"q-four-reasons": ["a", "e"]}),  # L7  2
    (None, ["q-complaint-case"], {}),  # L8  2
    ("a", [], {}),  # L9  2
    ("b", [], {}),  # L10 1
    ("b", [], {}),  # L11 1
]


def answers_for(quiz, q1, right, extra) -> dict:
    answers = {"q-backstage": False}  # its right answer
    if q1 is not None:
        answers["q-inner-strength"] = q1
    for question_id in right:
        answers[question_id] = quiz.question(question_id).correct_answer()
    for question_id, answer in extra.items():
        if answer == "swap-first-two":
            first, second, *rest = quiz.question(question_id).correct_answer()
            answer = [second, first, *rest]
        answers[question_id] = answer
    return answers


def submit(app, user_id: int, answers: dict, quiz_id: str = QUIZ_ID) -> str:
    """Factory: start and submit an attempt through records.py; return its id."""
    with app.test_request_context():
        live = live_course()
        quiz = live.course.quiz(quiz_id)
        user = db.session.get(User, user_id)
        attempt = records.start_attempt(user, live, quiz)
        records.submit_attempt(user, live, attempt, quiz, answers)
        return attempt.id


@pytest.fixture
def learners(app, make_user, published) -> list[int]:
    """Twelve learners, alternately in 销售部 › 华东区 (even) and 生产部 (odd), who took the quiz as PLAN says."""
    ids = []
    with app.test_request_context():
        quiz = live_course().course.quiz(QUIZ_ID)
    for index, (q1, right, extra) in enumerate(PLAN):
        user_id, _ = make_user(department="销售部/华东区" if index % 2 == 0 else "生产部")
        submit(app, user_id, answers_for(quiz, q1, right, extra))
        ids.append(user_id)
    return ids


def report(app, flt=None, quiz_id: str = QUIZ_ID) -> quizzes.QuizReport:
    with app.test_request_context():
        return quizzes.quiz_report(live_course().course.quiz(quiz_id), flt or Filter())


def in_department(app, path: str) -> Filter:
    with app.app_context():
        return Filter(department_ids=departments_for(find_or_create(path).id, None))


def move(app, model, column, user_ids: list[int], when: datetime) -> None:
    """Pretend these learners' rows happened at `when`."""
    with app.app_context():
        db.session.execute(update(model).where(model.user_id.in_(user_ids)).values({column: when}))
        db.session.commit()


def local_today(app):
    with app.app_context():
        return today()


# --- quizzes ------------------------------------------------------------------------------


def test_scores_rank_as_planned(app, learners):
    with app.app_context():
        scores = dict(db.session.execute(select(QuizAttempt.user_id, QuizAttempt.score)).all())
    assert [round(scores[user_id] * 7, 2) for user_id in learners] == [7, 7, 5, 6, 5, 3.5, 4, 2, 2, 2, 1, 1]


def test_option_pick_rates_and_discrimination_match_a_hand_count(app, learners):
    result = report(app)
    assert result.attempts == 12
    # N = 12 attempts, n = int(0.27 × 12 + 0.5) = int(3.74) = 3.
    assert result.group_size == 3
    # Ranked by score, ties by earlier submission: L0 7, L1 7, L3 6, L2 5, L4 5, L6 4, L5 3.5,
    # L7 2, L8 2, L9 2, L10 1, L11 1. Upper group = L0, L1, L3; lower group = L9, L10, L11.
    questions = {item.question.id: item for item in result.questions}

    q1 = questions["q-inner-strength"]
    # Picks on q1: a = L0 L1 L3 L4 L6 L9 (6), b = L2 L7 L10 L11 (4), c = L5 (1), d = nobody, blank = L8.
    assert {p.key: (p.count, p.share) for p in q1.picks} == {
        "a": (6, 6 / 12), "b": (4, 4 / 12), "c": (1, 1 / 12), "d": (0, 0 / 12),
    }
    assert [p.key for p in q1.picks if p.correct] == ["a"]
    assert q1.attempts == 12 and q1.share_correct == 6 / 12 and q1.share_unanswered == 1 / 12
    assert q1.average_fraction == 6 / 12
    # Upper: L0 a, L1 a, L3 a → 3/3 right. Lower: L9 a, L10 b, L11 b → 1/3 right. D = 3/3 − 1/3.
    assert q1.discrimination == pytest.approx(3 / 3 - 1 / 3)
    # (Were ties broken the other way, the lower group would be L7 b, L11 b, L10 b and D would be 1.)
    assert [p.key for p in q1.never_picked] == ["d"] and not q1.hard and not q1.weak_discrimination

    backstage = questions["q-backstage"]  # everybody right: it tells nobody apart
    assert backstage.share_correct == 12 / 12
    assert backstage.discrimination == pytest.approx(3 / 3 - 3 / 3)
    assert backstage.weak_discrimination
    assert {p.key: p.count for p in backstage.picks} == {"true": 0, "false": 12}
    assert [p.key for p in backstage.never_picked] == ["true"]

    reasons = questions["q-four-reasons"]  # multiple choice, a–d right; L7 picked a and e (0 with partial credit)
    # Right by L0–L6 (7 learners) with a b c d; L7 picked a e.
    assert {p.key: p.count for p in reasons.picks} == {"a": 8, "b": 7, "c": 7, "d": 7, "e": 1, "f": 0}
    assert reasons.share_correct == 7 / 12 and reasons.average_fraction == 7 / 12
    # Upper L0 L1 L3: 3/3; lower L9 L10 L11: 0/3 → D = 1.
    assert reasons.discrimination == pytest.approx(1.0)

    chain = questions["q-service-chain"]  # ordering with partial credit; L5 swapped the first two items
    # L0–L4 (5) put every item in place; L5 put items 3 and 4 in place (fraction 2/4).
    first, second, third, fourth = chain.question.correct_answer()
    assert {p.key: p.count for p in chain.picks} == {first: 5, second: 5, third: 6, fourth: 6}
    assert chain.share_correct == 5 / 12
    assert chain.average_fraction == pytest.approx((5 * 1 + 0.5) / 12)

    matching = questions["q-match-reasons"]  # L0–L3 matched every pair
    assert [p.count for p in matching.picks] == [4, 4, 4, 4]

    silo = questions["q-term-silo"]  # short answer: two ways of writing 信息孤岛, one wrong answer
    assert [(p.key, p.count, p.correct) for p in silo.picks] == [("信息孤岛", 2, True), ("部门墙", 1, False)]
    assert silo.share_unanswered == 9 / 12 and silo.share_correct == 2 / 12 and silo.hard
    # Upper: L0 right, L1 right, L3 blank → 2/3; lower: all blank → 0/3. D = 2/3 − 0.
    assert silo.discrimination == pytest.approx(2 / 3 - 0)


def test_discrimination_needs_ten_attempts_and_skips_attempts_without_the_question():
    ranked = [f"a{i}" for i in range(10)]
    fractions = {f"a{i}": 1.0 if i < 5 else 0.0 for i in range(10)}
    # N = 10, n = int(2.7 + 0.5) = 3: upper a0 a1 a2 (all 1), lower a7 a8 a9 (all 0).
    assert item_analysis.discrimination_index(ranked, fractions) == 1.0
    del fractions["a0"], fractions["a9"]  # their revision lacked the question
    fractions["a8"] = 1.0
    # Upper a1 a2 → 1; lower a7 0, a8 1 → 1/2. D = 1 − 1/2.
    assert item_analysis.discrimination_index(ranked, fractions) == 0.5
    assert item_analysis.discrimination_index(ranked[:9], fractions) is None


def test_department_and_date_filters_change_the_numbers(app, learners):
    east = report(app, in_department(app, "销售部"))  # 销售部 counts 华东区: L0 L2 L4 L6 L8 L10
    q1 = next(item for item in east.questions if item.question.id == "q-inner-strength")
    assert east.attempts == 6 and q1.attempts == 6
    # Picks by L0 a, L2 b, L4 a, L6 a, L8 blank, L10 b.
    assert {p.key: p.count for p in q1.picks} == {"a": 3, "b": 2, "c": 0, "d": 0}
    assert q1.share_unanswered == 1 / 6
    assert q1.discrimination is None  # 6 < 10 attempts

    month_ago = datetime.now(timezone.utc) - timedelta(days=30)
    move(app, QuizAttempt, "submitted_at", learners[:2], month_ago)  # L0 and L1 answered a month ago
    recent = report(app, Filter(start=local_today(app) - timedelta(days=7), tz=SHANGHAI))
    assert recent.attempts == 10
    q1 = next(item for item in recent.questions if item.question.id == "q-inner-strength")
    # N = 10, n = int(2.7 + 0.5) = 3. Ranked: L3 6, L2 5, L4 5, L6 4, L5 3.5, L7 2, L8 2, L9 2, L10 1, L11 1.
    # Upper L3 a, L2 b, L4 a → 2/3; lower L9 a, L10 b, L11 b → 1/3. D = 2/3 − 1/3.
    assert q1.discrimination == pytest.approx(2 / 3 - 1 / 3)
    assert {p.key: p.count for p in q1.picks} == {"a": 4, "b": 4, "c": 1, "d": 0}

    old = report(app, Filter(end=local_today(app) - timedelta(days=20), tz=SHANGHAI))
    assert old.attempts == 2 and old.questions[0].share_correct == 1.0


def test_an_older_revision_only_counts_for_the_questions_it_had(app, make_user, published, course_sources):
    early, _ = make_user()
    with app.test_request_context():
        quiz = live_course().course.quiz(QUIZ_ID)
    submit(app, early, {q.id: q.correct_answer() for q in quiz.questions})
    path = "quizzes/quiz-why-it-matters.yaml"
    text = course_sources[path].decode()
    without_silo = text[: text.index("  - id: q-term-silo")]
    with app.app_context():
        publish({**course_sources, path: without_silo.encode()})
    late, _ = make_user()
    submit(app, late, {"q-inner-strength": "b"})

    result = report(app)
    questions = {item.question.id: item for item in result.questions}
    assert result.attempts == 2 and questions["q-inner-strength"].attempts == 2
    silo = questions["q-term-silo"]  # gone from the live quiz, still reported, listed last
    assert result.questions[-1] is silo and not silo.current
    assert silo.attempts == 1 and silo.share_correct == 1.0


def test_quiz_headlines_name_the_hardest_question(app, learners):
    with app.test_request_context():
        course = live_course().course
        headline = next(h for h in quizzes.quiz_headlines(course, Filter()) if h.quiz.id == QUIZ_ID)
        untouched = next(h for h in quizzes.quiz_headlines(course, Filter()) if h.quiz.id != QUIZ_ID)
    assert headline.attempts == 12
    # Scores 7+7+5+6+5+3.5+4+2+2+2+1+1 = 45.5 points of 12 × 7.
    assert headline.average_score == pytest.approx(45.5 / 84)
    assert headline.hardest.id == "q-term-silo" and headline.hardest_share_correct == 2 / 12
    assert untouched.attempts == 0 and untouched.hardest is None


# --- scenarios ----------------------------------------------------------------------------


def play(app, user_id: int, choices: list[str]) -> None:
    """Factory: play a scenario run, making `choices` in order, through records.py."""
    with app.test_request_context():
        live = live_course()
        scenario = live.course.scenario(SCENARIO_ID)
        user = db.session.get(User, user_id)
        run = records.start_run(user, live, scenario)
        for step, choice_id in enumerate(choices):
            records.choose(user, live, run, scenario, step, choice_id)


def best_from(scenario, node_id: str) -> list[str]:
    """The model choices from `node_id` to an ending."""
    choices, node = [], scenario.node(node_id)
    while node.choices:
        best = next(c for c in node.choices if c.best)
        choices.append(best.id)
        node = scenario.node(best.next)
    return choices


@pytest.fixture
def scenario(app, published):
    with app.test_request_context():
        return live_course().course.scenario(SCENARIO_ID)


def test_choice_and_ending_counts_on_a_played_scenario(app, make_user, scenario):
    model = [step.choice.id for step in model_path(scenario).steps]
    assert model[0] == "ask"
    detour = ["refuse", *best_from(scenario, "pushback")]  # refuse, then back on the model path
    players = [make_user(department="生产部")[0] for _ in range(4)]
    play(app, players[0], model)
    play(app, players[1], model)
    play(app, players[2], detour)
    play(app, players[3], ["say-yes"])  # gave up after one choice

    with app.test_request_context():
        result = scenarios.scenario_report(scenario, Filter())
    assert (result.started, result.finished) == (4, 3)
    opening = next(n for n in result.nodes if n.node_id == "opening")
    # At the opening, 4 choices were made: ask 2, refuse 1, say-yes 1.
    assert opening.choices_made == 4
    assert {c.choice_id: (c.count, c.share) for c in opening.choices} == {
        "ask": (2, 2 / 4), "refuse": (1, 1 / 4), "say-yes": (1, 1 / 4),
    }
    pushback = next(n for n in result.nodes if n.node_id == "pushback")
    assert {c.choice_id: c.count for c in pushback.choices} == {"reframe": 1, "hardline": 0}
    model_ending = model_path(scenario).node.id
    assert {e.node_id: e.count for e in result.endings if e.count} == {model_ending: 3}
    assert next(e for e in result.endings if e.node_id == model_ending).share == 3 / 3

    with app.test_request_context():
        headline = next(h for h in scenarios.scenario_headlines(live_course().course, Filter())
                        if h.scenario.id == SCENARIO_ID)
    assert (headline.started, headline.finished, headline.top_ending_id, headline.top_ending_count) == (
        4, 3, model_ending, 3
    )

    graph = layout(scenario, result.choice_counts)
    edges = {(e.node_id, e.choice_id): e for e in graph.edges}
    assert edges["opening", "ask"].share == 2 / 4 and edges["opening", "say-yes"].share == 1 / 4
    assert edges["opening", "ask"].width > edges["opening", "refuse"].width > edges["pushback", "hardline"].width
    # One choice was made at the pushback (reframe): hardline took 0 of 1.
    assert edges["pushback", "hardline"].count == 0 and edges["pushback", "hardline"].share == 0 / 1
    columns = {node.id: node.x for node in graph.nodes}
    assert columns["opening"] < columns["need"] and columns["need"] == columns["pushback"]


def test_scenario_map_places_nodes_by_breadth_first_depth(scenario):
    found = depths(scenario)
    assert found[scenario.start] == 0
    for node in scenario.nodes:  # every choice leads at most one column further on
        for choice in node.choices:
            assert found[choice.next] <= found[node.id] + 1
    graph = layout(scenario, {})
    assert {n.id for n in graph.nodes} == {n.id for n in scenario.nodes}
    assert all(e.share is None and e.count == 0 for e in graph.edges)
    assert {n.outcome for n in graph.nodes if n.outcome} <= {"good", "mixed", "poor"}
    assert all(0 <= n.x <= graph.width and 0 <= n.y <= graph.height for n in graph.nodes)


def test_scenario_department_filter(app, make_user, scenario):
    sales, plant = make_user(department="销售部")[0], make_user(department="生产部")[0]
    play(app, sales, ["refuse"])
    play(app, plant, ["ask"])
    with app.test_request_context():
        result = scenarios.scenario_report(scenario, in_department(app, "生产部"))
    opening = next(n for n in result.nodes if n.node_id == "opening")
    assert result.started == 1 and {c.choice_id: c.count for c in opening.choices}["ask"] == 1
    assert {c.choice_id: c.count for c in opening.choices}["refuse"] == 0


# --- lessons ------------------------------------------------------------------------------


def read(app, user_id: int, lesson_id: str, complete: bool = False) -> None:
    with app.test_request_context():
        live = live_course()
        user = db.session.get(User, user_id)
        lesson = live.course.lesson(lesson_id)
        (records.complete_lesson if complete else records.open_lesson)(user, live, lesson)


def set_time(app, user_id: int, lesson_id: str, verb: str, when: datetime) -> None:
    with app.app_context():
        db.session.execute(
            update(LearningRecord)
            .where(LearningRecord.user_id == user_id, LearningRecord.object_id == lesson_id, LearningRecord.verb == verb)
            .values(timestamp=when)
        )
        db.session.commit()


def funnel(app, flt=None) -> dict:
    with app.test_request_context():
        return {row.lesson.id: row for row in lessons.lesson_funnel(live_course().course, flt or Filter())}


@pytest.fixture
def lesson_ids(app, published) -> list[str]:
    with app.test_request_context():
        return [lesson.id for lesson in live_course().course.lessons]


def test_lesson_readers_completion_minutes_and_where_learners_stop(app, make_user, lesson_ids):
    first, second, third = lesson_ids[:3]
    x, y, z = (make_user()[0] for _ in range(3))
    read(app, x, first, complete=True)
    read(app, x, second)  # x stops at the second lesson
    read(app, y, first)  # y stops at the first
    read(app, z, first, complete=True)
    read(app, z, second, complete=True)  # z completed all they opened: stopped nowhere
    read(app, z, first)  # going back to an earlier lesson changes nothing
    start = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    set_time(app, x, first, "experienced", start)
    set_time(app, x, first, "completed", start + timedelta(minutes=10))
    set_time(app, z, first, "experienced", start)
    set_time(app, z, first, "completed", start + timedelta(minutes=20))

    rows = funnel(app)
    assert list(rows) == lesson_ids  # course order
    assert (rows[first].readers, rows[first].completed, rows[first].stopped) == (3, 2, 1)
    assert rows[first].completion_share == 2 / 3
    assert rows[first].median_minutes == 15  # median of 10 and 20
    assert (rows[second].readers, rows[second].completed, rows[second].stopped) == (2, 1, 1)
    assert rows[second].completion_share == 1 / 2
    assert (rows[third].readers, rows[third].stopped, rows[third].median_minutes) == (0, 0, None)
    assert rows[third].completion_share is None


def test_lesson_date_filter_uses_local_days_with_the_end_day_included(app, make_user, lesson_ids):
    first = lesson_ids[0]
    early, late = make_user(department="销售部")[0], make_user(department="生产部")[0]
    read(app, early, first)
    read(app, late, first)
    # 00:30 on 5 March in Shanghai is still 4 March in UTC.
    set_time(app, early, first, "experienced", datetime(2024, 3, 5, 0, 30, tzinfo=SHANGHAI))
    set_time(app, late, first, "experienced", datetime(2024, 3, 9, 23, 30, tzinfo=SHANGHAI))

    def readers(**dates) -> int:
        return funnel(app, Filter(tz=SHANGHAI, **dates))[first].readers

    day = datetime(2024, 3, 5).date()
    assert readers(start=day, end=day) == 1
    assert readers(end=day - timedelta(days=1)) == 0
    assert readers(start=day + timedelta(days=1)) == 1
    assert readers(start=day, end=day + timedelta(days=4)) == 2
    assert funnel(app, in_department(app, "生产部"))[first].readers == 1


# --- the pages ----------------------------------------------------------------------------


@pytest.fixture
def trainer(make_user, login, client):
    _, email = make_user(Role.TRAINER, department="培训部")
    login(email)
    client.post("/language/en", data={"next": "/"})


def test_trainer_pages_show_the_numbers_and_keep_the_filter(client, app, learners, trainer, scenario):
    play(app, learners[0], ["ask"])
    sales = department_of(app, "销售部")
    overview = client.get(f"/studio/analytics?department={sales}&from=2020-01-01")
    page = overview.get_data(as_text=True)
    assert overview.status_code == 200
    quiz_link = f"/studio/analytics/quizzes/{QUIZ_ID}?from=2020-01-01&amp;department={sales}"
    assert quiz_link in page and f"/studio/analytics/scenarios/{SCENARIO_ID}?from=2020-01-01&amp;department={sales}" in page
    assert 'class="num">6</td>' in page  # six attempts by 销售部's learners

    quiz_page = client.get(quiz_link.replace("&amp;", "&")).get_data(as_text=True)
    assert "too few attempts" in quiz_page  # 6 attempts in 销售部
    assert "int(0.27 × N + 0.5)" in quiz_page and "信息孤岛" in quiz_page
    everyone = client.get(f"/studio/analytics/quizzes/{QUIZ_ID}").get_data(as_text=True)
    assert "D: 0.67" in everyone and "Does not separate strong from weak learners" in everyone
    assert "Never picked" in everyone and "Hard" in everyone

    response = client.get(f"/studio/analytics/scenarios/{SCENARIO_ID}")
    scenario_page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="img"' in scenario_page and "aria-label=" in scenario_page and "<table" in scenario_page
    assert "<script" not in scenario_page and " style=" not in scenario_page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'class="map-label">100%</text>' in scenario_page  # the one choice made at the opening
    assert client.get("/studio/analytics/quizzes/nope").status_code == 404


def department_of(app, path: str) -> int:
    with app.app_context():
        return find_or_create(path).id


@pytest.mark.parametrize("query", [
    "from=2024-02-30", "to=someday", "from=2024-03-05&to=2024-03-01", "department=abc", "department=99999",
    "to=9999-12-31", "from=0001-01-01",
])
def test_a_wrong_filter_gets_a_message_not_an_error(client, trainer, published, query):
    response = client.get(f"/studio/analytics?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'aria-invalid="true"' in page and 'class="errors"' in page


def test_a_trainer_limited_to_a_department_sees_only_it(client, app, learners, make_user, login):
    user_id, email = make_user(Role.TRAINER, department="培训部")
    with app.app_context():
        db.session.add(HRScope(user_id=user_id, department_id=find_or_create("生产部").id))
        db.session.commit()
    login(email)
    client.post("/language/en", data={"next": "/"})
    page = client.get(f"/studio/analytics/quizzes/{QUIZ_ID}").get_data(as_text=True)
    assert "Submitted attempts: 6<" in page  # the six learners of 生产部
    sales = department_of(app, "销售部")
    refused = client.get(f"/studio/analytics?department={sales}").get_data(as_text=True)
    assert 'aria-invalid="true"' in refused


@pytest.mark.parametrize("path", ["/studio/analytics", f"/studio/analytics/quizzes/{QUIZ_ID}",
                                  f"/studio/analytics/scenarios/{SCENARIO_ID}"])
def test_trainees_and_hr_are_refused(client, make_user, login, published, path):
    for role in (Role.TRAINEE, Role.HR):
        _, email = make_user(role)
        login(email)
        assert client.get(path).status_code == 403
        client.post("/logout")
