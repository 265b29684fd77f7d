"""Role-play endings chosen by what the learner did, and the rule that the model path scores the most."""
from __future__ import annotations

import json
import textwrap

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from courseware.content import Course, CourseInvalid, compile_sources
from courseware.extensions import db
from courseware.learning.roleplay import model_path, play
from courseware.models import ScenarioRun
from courseware.publishing import publish
from courseware.studio.messages import translated
from courseware.studio.scenario_map import layout

SCENARIO = textwrap.dedent("""\
    id: meeting
    kind: scenario
    title: 延期会议
    characters:
      - {id: wang, name: 王经理, role: 销售部经理}
    start: open
    nodes:
      - id: open
        speaker: wang
        text: 你们又延期了！
        choices:
          - id: calm
            text: 我理解，我们一起看看原因。
            feedback: 冷静。
            effects: {沟通: 2, 理解: 1}
            next: middle
            best: true
          - id: slam-table
            text: 拍桌子。
            feedback: 情绪失控。
            effects: {沟通: -3}
            next: middle
      - id: middle
        speaker: wang
        text: 那现在怎么办？
        choices:
          - id: plan
            text: 一起定计划。
            feedback: 好。
            effects: {协作: 2}
            next: wrap
            best: true
          - id: shrug
            text: 随便。
            feedback: 不好。
            effects: {协作: -1}
            next: wrap
      - id: wrap
        route:
          - when: {chose: [open/slam-table], at_least: {协作: 2}}
            next: recovered
          - when: {chose: [open/slam-table]}
            next: critical
          - when: {at_least: {total: 5}}
            next: praise
          - next: mixed
      - id: praise
        ending: {title: 冷静专业, outcome: good, debrief: 你始终保持了冷静。}
      - id: recovered
        ending: {title: 挽回局面, outcome: mixed, debrief: 开头失控，之后用计划挽回了信任。}
      - id: critical
        ending: {title: 失控, outcome: poor, debrief: 拍桌子破坏了信任。}
      - id: mixed
        ending: {title: 一般, outcome: mixed, debrief: 还可以更好。}
""")

COURSE = {
    "lessons/course.md": "---\nid: c\ntitle: 课\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 模块\norder: 1\nscenarios: [meeting]\n---\n",
    "lessons/m/a.md": "---\nid: a-lesson\ntitle: 一\norder: 1\nminutes: 3\n---\n正文\n",
}


def compile_scenario(text: str = SCENARIO):
    return compile_sources({**COURSE, "quizzes/meeting.yaml": text}).scenario("meeting")


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def errors_of(text: str) -> list[str]:
    with pytest.raises(CourseInvalid) as caught:
        compile_scenario(text)
    return [str(e) for e in caught.value.errors]


@pytest.fixture(scope="module")
def scenario():
    return compile_scenario()


@pytest.mark.parametrize(
    ("choices", "ending"),
    [
        (["calm", "plan"], "praise"),
        (["slam-table", "shrug"], "critical"),  # through the same node as the calm path
        (["slam-table", "plan"], "recovered"),
        (["calm", "shrug"], "mixed"),
    ],
)
def test_the_route_chooses_the_ending_by_what_the_learner_did(scenario, choices, ending):
    state = play(scenario, choices)
    assert state.finished and state.node.id == ending
    assert [step.node.id for step in state.steps] == ["open", "middle"]


def test_the_model_path_goes_through_routes(scenario):
    model = model_path(scenario)
    assert [s.choice.id for s in model.steps] == ["calm", "plan"] and model.node.id == "praise"


def test_a_scenario_with_routes_survives_the_published_form(scenario):
    course = compile_sources({**COURSE, "quizzes/meeting.yaml": SCENARIO})
    again = Course.from_dict(json.loads(json.dumps(course.to_dict()))).scenario("meeting")
    assert again == scenario
    assert play(again, ["slam-table", "plan"]).node.id == "recovered"


def test_the_scenario_map_draws_route_branches(scenario):
    drawn = layout(scenario, {})
    assert {(e.node_id, e.target_id) for e in drawn.edges if e.node_id == "wrap"} == {
        ("wrap", "recovered"), ("wrap", "critical"), ("wrap", "praise"), ("wrap", "mixed"),
    }


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("chose: [open/slam-table]}", "chose: [nowhere/slam-table]}", "nowhere/slam-table",
         "'when' names 'nowhere/slam-table', but 'nowhere' is not a node"),
        ("chose: [open/slam-table]}", "chose: [open/kick]}", "open/kick",
         "'when' names 'open/kick', but node 'open' has no choice 'kick'"),
        ("chose: [open/slam-table]}", "chose: [slam-table]}", "[slam-table]",
         "node 'wrap': each of 'chose' must be 'node-id/choice-id'"),
        ("at_least: {total: 5}}", "at_least: {服务: 5}}", "服务",
         "node 'wrap': unknown element '服务' in 'at_least'"),
        ("      - next: mixed\n", "      - when: {at_most: {total: 0}}\n        next: mixed\n", "at_most",
         "node 'wrap': the last branch of 'route' must have no 'when'"),
        ("      - when: {at_least: {total: 5}}\n        next: praise\n", "      - next: praise\n", "next: praise",
         "node 'wrap': only the last branch of 'route' may leave out 'when'"),
        ("      - next: mixed\n", "      - next: wrap\n", "id: wrap",
         "routes lead round in a loop through 'wrap'"),
        ("  - id: wrap\n    route:", "  - id: wrap\n    text: 嗯\n    route:", "text: 嗯",
         "node 'wrap': a node with 'route' has only an 'id'"),
    ],
)
def test_broken_routes_are_refused_with_file_and_line(old, new, needle, expected):
    assert old in SCENARIO
    text = SCENARIO.replace(old, new)
    messages = errors_of(text)
    assert any(m.startswith(f"quizzes/meeting.yaml:{line_of(text, needle)}: {expected}") for m in messages), messages


def test_a_model_path_below_the_best_path_is_refused():
    text = SCENARIO.replace("effects: {协作: -1}", "effects: {协作: 3}")  # calm then shrug: +6, the model +5
    messages = errors_of(text)
    assert f"quizzes/meeting.yaml:{line_of(text, 'id: middle')}: the model path (the choices marked best) scores +5 in total, but open/calm → middle/shrug scores +6: mark 'best: true' along the highest-scoring path" in messages


def test_a_better_path_that_routes_elsewhere_is_found():
    # Slamming the table then planning leads through the route to a node whose choice scores +3.
    text = SCENARIO.replace(
        "  - id: recovered\n    ending: {title: 挽回局面, outcome: mixed, debrief: 开头失控，之后用计划挽回了信任。}",
        "  - id: recovered\n    choices:\n      - {id: apologise, text: 道歉, feedback: 好, effects: {沟通: 3, 理解: 3, 反馈: 3}, next: mixed, best: true}",
    )
    messages = errors_of(text)
    assert any("open/slam-table → middle/plan → recovered/apologise scores +8" in m for m in messages), messages


def test_a_model_path_that_only_the_route_could_beat_is_accepted():
    # The +3 choice after `recovered` is out of reach on paths that score more than the model before it.
    text = SCENARIO.replace(
        "  - id: recovered\n    ending: {title: 挽回局面, outcome: mixed, debrief: 开头失控，之后用计划挽回了信任。}",
        "  - id: recovered\n    choices:\n      - {id: apologise, text: 道歉, feedback: 好, effects: {沟通: 3}, next: mixed, best: true}",
    ).replace("when: {at_least: {total: 5}}", "when: {at_least: {total: 4}}")
    assert model_path(compile_scenario(text)).node.id == "praise"  # slam, plan, apologise: +2 < +5


def test_a_loop_that_raises_the_score_is_refused():
    text = SCENARIO.replace(
        "        next: wrap\n        best: true\n",
        "        next: wrap\n        best: true\n      - id: again\n        text: 再说一遍\n        feedback: 重来\n        effects: {反馈: 1}\n        next: open\n",
    )
    messages = errors_of(text)
    assert any("going round the loop through" in m and "adds to the score every time" in m for m in messages), messages


def test_best_choices_that_go_round_a_loop_are_refused():
    text = SCENARIO.replace(
        "        next: wrap\n        best: true\n",
        "        next: wrap\n      - id: again\n        text: 再说一遍\n        feedback: 重来\n        effects: {沟通: -3}\n        next: open\n        best: true\n",
    )
    messages = errors_of(text)
    assert f"quizzes/meeting.yaml:{line_of(text, 'id: open')}: the choices marked best lead round in a loop at node 'open' and never reach an ending" in messages


# --- end to end, on both databases ------------------------------------------------------------

@pytest.fixture
def meeting(app):
    sources = {**COURSE, "quizzes/meeting.yaml": SCENARIO}
    with app.app_context():
        publish(sources)
    return compile_scenario()


def _play(client, choices: list[str]):
    run_url = client.post("/scenarios/meeting/start").location
    for step, choice in enumerate(choices):
        client.post(f"{run_url}/choose", data={"step": step, "choice": choice})
    return run_url, client.get(run_url)


@pytest.mark.parametrize(
    ("choices", "ending", "title", "debrief"),
    [
        (["slam-table", "shrug"], "critical", "失控", "拍桌子破坏了信任。"),
        (["slam-table", "plan"], "recovered", "挽回局面", "开头失控，之后用计划挽回了信任。"),
        (["calm", "plan"], "praise", "冷静专业", "你始终保持了冷静。"),
    ],
)
def test_the_debrief_shows_the_ending_the_path_earned(app, client, meeting, trainee, choices, ending, title, debrief):
    run_url, page = _play(client, choices)
    assert page.status_code == 200
    assert title in page.text and debrief in page.text
    if ending != "praise":
        assert "你始终保持了冷静。" not in page.text
    with app.app_context():
        run = db.session.execute(select(ScenarioRun).where(ScenarioRun.user_id == trainee)).scalar_one()
        assert (run.status, run.ending_id) == ("finished", ending)


def test_a_route_condition_is_described_in_the_interface_language(app, scenario):
    when = next(node for node in scenario.nodes if node.id == "wrap").route[0].when
    assert str(when.describe()) == "chose open/slam-table, 协作 ≥ 2"
    with app.test_request_context(), force_locale("zh"):
        assert translated(when.describe()) == "选了 open/slam-table, 协作 ≥ 2"
