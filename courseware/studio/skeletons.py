"""Starting text for a new lesson, module, quiz or role-play, valid as written."""
from __future__ import annotations

KINDS = ("lesson", "module", "quiz", "scenario", "aid")


def lesson(lesson_id: str, order: int) -> str:
    return f"""---
id: {lesson_id}
title: 新课时标题
order: {order}
minutes: 5
---
在这里用 Markdown 写课时正文。

## 要点

- 第一条要点
- 第二条要点
"""


def aid(aid_id: str, order: int) -> str:
    return f"""---
id: {aid_id}
title: 新工作辅助工具
summary: 一句话说明用途。
order: {order}
---
## 填写说明

| 项目 | 内容 |
| --- | --- |
|  |  |
|  |  |
"""


def module(module_id: str, order: int) -> str:
    return f"""---
id: {module_id}
title: 新模块标题
order: {order}
summary: 一句话说明学员在本模块学到什么。
completion:
  lessons: all
---
模块简介：学完本模块，你将能够……
"""


def quiz(quiz_id: str) -> str:
    return f"""# 在某个模块的 module.md 里写上 "quiz: {quiz_id}"，测验才会出现在课程中。
id: {quiz_id}
kind: quiz
title: 新测验
pass_mark: 80
questions:
  - id: q1
    type: single
    text: 题干
    options:
      - text: 正确选项
        correct: true
      - text: 干扰项
    explanation: 为什么这个选项正确。
"""


def scenario(scenario_id: str) -> str:
    return f"""# 在某个模块的 module.md 里写上 "scenarios: [{scenario_id}]"，情景演练才会出现在课程中。
id: {scenario_id}
kind: scenario
title: 新情景演练
summary: 一句话说明这个情景。
learner: 你在这个情景中的角色。
characters:
  - id: colleague
    name: 同事
    role: 内部客户
start: open
nodes:
  - id: open
    speaker: colleague
    text: 同事对你说的第一句话。
    choices:
      - id: listen
        text: 先听清需求，再确认时间
        effects: {{沟通: 2, 理解: 1}}
        feedback: 为什么这样回应更好。
        next: good-end
        best: true
      - id: refuse
        text: 直接拒绝
        effects: {{沟通: -1}}
        feedback: 这样回应的问题在哪里。
        next: poor-end
  - id: good-end
    ending:
      title: 顺利合作
      outcome: good
      debrief: 复盘：做对了什么。
  - id: poor-end
    ending:
      title: 关系紧张
      outcome: poor
      debrief: 复盘：下次可以怎样做。
"""
