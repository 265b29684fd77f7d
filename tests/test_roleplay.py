"""The role-play state machine and scenario validation, without Flask or a database."""
from __future__ import annotations

import textwrap

import pytest

from courseware.content import CourseInvalid, compile_sources
from courseware.learning.roleplay import InvalidChoice, model_path, play

SCENARIO = textwrap.dedent("""\
    id: demo-scenario
    kind: scenario
    title: 急单
    characters:
      - {id: wang, name: 王经理, role: 销售部经理}
    start: open
    nodes:
      - id: open
        speaker: wang
        text: 下周五必须发货！
        choices:
          - id: ask
            text: 先说说客户的要求？
            feedback: 先理解需求。
            effects: {理解: 2, 沟通: 1}
            next: plan
            best: true
          - id: refuse
            text: 做不了。
            feedback: 关上了沟通的门。
            effects: {沟通: -2}
            next: angry
      - id: plan
        speaker: wang
        text: 先要 300 套。
        choices:
          - id: split
            text: 分批交付，我们一起跟客户确认。
            feedback: 共同找方案。
            effects: {协作: 2, 反馈: 1}
            next: good-end
            best: true
      - id: angry
        speaker: wang
        text: 那我找你们领导！
        choices:
          - id: sorry
            text: 抱歉，我们再看看。
            feedback: 补救。
            effects: {沟通: 1}
            next: plan
          - id: shrug
            text: 随便。
            feedback: 关系更僵。
            effects: {协作: -2}
            next: bad-end
            best: true
      - id: good-end
        ending:
          title: 双赢
          outcome: good
          debrief: 先理解再协作。
          lessons: [a-lesson]
      - id: bad-end
        ending:
          title: 僵局
          outcome: poor
          debrief: 没有沟通。
""")

COURSE = {
    "lessons/course.md": "---\nid: c\ntitle: 课\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 模块\norder: 1\nscenarios: [demo-scenario]\n---\n",
    "lessons/m/a.md": "---\nid: a-lesson\ntitle: 一\norder: 1\nminutes: 3\n---\n正文\n",
}


def outdent(text: str) -> str:
    """Match the dedented SCENARIO: the parameters below are written at the source's indentation."""
    return "\n".join(line[4:] if line.startswith("    ") else line for line in text.split("\n"))


def compile_scenario(text: str = SCENARIO):
    return compile_sources({**COURSE, "quizzes/demo.yaml": text}).scenario("demo-scenario")


@pytest.fixture(scope="module")
def scenario():
    return compile_scenario()


def test_playing_choices_moves_through_nodes_and_sums_the_profile(scenario):
    state = play(scenario, ["refuse", "sorry", "split"])
    assert state.finished and state.node.ending.title == "双赢"
    assert [step.node.id for step in state.steps] == ["open", "angry", "plan"]
    assert state.profile == {"沟通": -1, "理解": 0, "协作": 2, "反馈": 1}


def test_a_half_played_scenario_resumes_at_its_node(scenario):
    state = play(scenario, ["ask"])
    assert not state.finished and state.node.id == "plan"
    assert [c.id for c in state.node.choices] == ["split"]


def test_a_choice_not_on_offer_is_refused(scenario):
    with pytest.raises(InvalidChoice):
        play(scenario, ["split"])
    with pytest.raises(InvalidChoice):
        play(scenario, ["ask", "split", "ask"])  # nothing to choose after an ending


def test_model_path_follows_the_best_choices(scenario):
    model = model_path(scenario)
    assert [s.choice.id for s in model.steps] == ["ask", "split"] and model.node.id == "good-end"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("            next: angry\n", "            next: nowhere\n",
         "quizzes/demo.yaml:22: choice in node 'open' leads to 'nowhere', which is not a node"),
        ("            next: bad-end\n", "            next: good-end\n",
         "quizzes/demo.yaml:54: node 'bad-end' cannot be reached from the start node"),
        ("            effects: {协作: 2, 反馈: 1}", "            effects: {协作: 2, 服务: 1}",
         "quizzes/demo.yaml:30: node 'plan': unknown element '服务'"),
        ("          lessons: [a-lesson]", "          lessons: [no-such-lesson]",
         "quizzes/demo.yaml:53: node 'good-end': debrief points to lesson 'no-such-lesson'"),
        ("      - id: bad-end\n        ending:\n          title: 僵局\n          outcome: poor\n          debrief: 没有沟通。\n",
         "      - id: bad-end\n        speaker: wang\n        text: ……\n",
         "quizzes/demo.yaml:54: node 'bad-end': the node has no choices and is not an ending"),
        ("            next: bad-end\n            best: true\n", "            next: bad-end\n",
         "quizzes/demo.yaml:36: node 'angry': mark exactly one choice 'best: true'"),
    ],
)
def test_broken_scenarios_are_reported_with_file_and_line(old, new, expected):
    old, new = outdent(old), outdent(new)
    assert old in SCENARIO
    with pytest.raises(CourseInvalid) as caught:
        compile_scenario(SCENARIO.replace(old, new))
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith(expected) for m in messages), messages


def test_a_loop_with_no_exit_is_reported():
    looping = SCENARIO.replace("        next: bad-end", "        next: angry").replace(
        "        next: plan\n      - id: shrug", "        next: angry\n      - id: shrug"
    )
    with pytest.raises(CourseInvalid) as caught:
        compile_scenario(looping)
    messages = [str(e) for e in caught.value.errors]
    assert "quizzes/demo.yaml:33: node 'angry' is in a loop with no way to an ending" in messages, messages
