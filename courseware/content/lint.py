"""An author's lint: cues that give an answer away, and lesson times the text does not bear out; warnings with file and line.

Pure, and run on a course that compiles: the compiled course for what learners see, the source
files only for the line of each question and node. Each warning carries a code and its parameters,
so its message can be translated where it is shown; `message` is the English text.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Callable

from . import yamlfile
from .errors import N_, Message
from .model import Course
from .quiz import Numerical, Question, Quiz
from .reading import reading_minutes, text_of
from .scenario import Scenario

LONGEST_SHARE = 0.4  # random placement makes the right option the longest in about 1 of 3 (or 4) items
LONGEST_MIN_ITEMS = 3
TRUE_SHARE = (0.35, 0.65)
TRUE_FALSE_MIN_ITEMS = 4
READING_RATIO = 2  # a lesson's stated minutes may be up to this many times the text's reading time, or its inverse
SHARED_CJK = 6  # characters in a row that a final question shares with exactly one lesson
CJK = "\u4e00-\u9fff"
ABSOLUTE_CJK = ("只", "所有", "任何", "总是", "从不", "从来", "一定", "永远", "绝对", "完全", "全部", "唯一", "必须", "毫无")
ABSOLUTE_WORDS = re.compile(r"\b(never|always|all|none|only|every|must|completely|entirely)\b", re.IGNORECASE)
ABOVE = re.compile(
    r"以上(都|皆|均|全)(对|是|正确|不对|不是|非|错|不正确)|以上全部|以上皆非|以上都不|以上选项|(all|none|both|neither) of the above",
    re.IGNORECASE,
)
EXAMPLE_HEADING = re.compile(r"示例|案例|例子|举例|example", re.IGNORECASE)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
NAMED = re.compile(rf"(?:小|老|阿)[{SURNAMES}]|[{SURNAMES}](?:经理|主管|总监|主任|部长|组长|总|工|姐|哥|师傅)")

MESSAGES = {
    "longest-correct": N_(
        "the correct option is the longest in %(count)s of %(items)s choice questions (%(share)s%%): "
        "learners can pick the longest without knowing the answer (%(ids)s)"
    ),
    "longest-best": N_(
        "the best choice is the longest in %(count)s of %(items)s decision points (%(share)s%%): "
        "learners can pick the longest reply without knowing the answer (%(ids)s)"
    ),
    "true-false-balance": N_(
        "%(true)s of %(items)s true/false answers are 'true' (%(share)s%%): keep between 35%% and 65%% "
        "so guessing one way does not pay"
    ),
    "reading-time": N_(
        "the lesson says it takes %(minutes)s minutes, but its text reads in about %(estimate)s minutes: "
        "drop `minutes:` to use the estimate, or keep it only for work beyond reading"
    ),
    "absolute-word": N_("question '%(id)s': '%(words)s' appears only in wrong options: absolute words mark a distractor"),
    "all-none-above": N_("question '%(id)s': '%(option)s' is an option: write a real answer instead"),
    "exact-decimal": N_(
        "question '%(id)s': only exactly %(value)s is right: give a tolerance (value: %(value)s, tolerance: …) "
        "or a range (min: …, max: …), so that a learner who rounds differently is not marked wrong"
    ),
    "final-repeats-example": N_(
        "question '%(id)s' of the final assessment repeats '%(passage)s' from lesson '%(lesson)s': "
        "test the idea on a new example, not one learners can recognise"
    ),
    "missing-title-en": N_(
        "'%(id)s' has no `title_en:` while others of the course have one: "
        "add its English title, or a learning record store shows it by its Chinese title alone"
    ),
}


@dataclass(frozen=True, order=True)
class LintWarning:
    path: str
    line: int
    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> Message:
        """The message with its values, to translate where it is shown."""
        return Message(MESSAGES[self.code].template, self.params)

    @property
    def message(self) -> str:
        return str(self.text)

    def render(self, translate: Callable[[str], str] = str) -> str:
        return self.text.render(translate)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} [{self.code}]"


def lint(course: Course, files: Mapping[str, str]) -> list[LintWarning]:
    """Return every cueing warning of a compiled course, sorted by file and line."""
    warnings: list[LintWarning] = []
    for quiz in course.quizzes:
        lines = _id_lines(quiz.path, files.get(quiz.path, ""))
        warnings += _quiz(quiz, lines)
        if quiz.id == course.final_quiz_id:
            warnings += _final(quiz, course, lines)
    for scenario in course.scenarios:
        warnings += _scenario(scenario, _id_lines(scenario.path, files.get(scenario.path, "")))
    for lesson in course.lessons:
        estimate = reading_minutes(lesson.html)
        if not estimate / READING_RATIO <= lesson.minutes <= estimate * READING_RATIO:
            line = next((n for n, text in enumerate(files.get(lesson.path, "").splitlines(), 1) if text.startswith("minutes:")), 1)
            warnings.append(_warning(lesson.path, line, "reading-time", minutes=lesson.minutes, estimate=estimate))
    warnings += _missing_english_titles(course, files)
    return sorted(warnings)


def _missing_english_titles(course: Course, files: Mapping[str, str]) -> list[LintWarning]:
    """Once any title of the course has an English one, flag each course, module or activity file without one."""
    course_path = min((p for p in files if p.rsplit("/", 1)[-1] == "course.md"), key=lambda p: (p.count("/"), p), default="")
    titled = [(course_path, course)] + [
        (item.path, item) for item in (*course.modules, *course.lessons, *course.quizzes, *course.scenarios, *course.aids)
    ]
    if not any(item.title_en for _, item in titled):
        return []
    warnings = []
    for path, item in titled:
        if not item.title_en:
            line = next((n for n, text in enumerate(files.get(path, "").splitlines(), 1) if text.startswith("title:")), 1)
            warnings.append(_warning(path, line, "missing-title-en", id=item.id))
    return warnings


def _warning(path: str, line: int, code: str, **params: Any) -> LintWarning:
    return LintWarning(path, line, code, tuple(params.items()))


def _id_lines(path: str, text: str) -> dict[str, int]:
    """The line of each mapping with an `id` in a YAML file (questions, nodes), the first when repeated."""
    found: dict[str, int] = {}

    def walk(value: Any) -> Iterator[yamlfile.LineDict]:
        if isinstance(value, yamlfile.LineDict):
            yield value
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for mapping in walk(yamlfile.load(path, text, [])):
        if isinstance(mapping.get("id"), str):
            found.setdefault(mapping["id"], mapping.line_of("id"))
    return found


def _longest_is(options: list[tuple[str, bool]]) -> bool:
    """Whether the one longest option (ties do not count) is the marked one."""
    lengths = sorted((len(text.strip()), marked) for text, marked in options)
    return len(lengths) > 1 and lengths[-1][0] > lengths[-2][0] and lengths[-1][1]


def _longest(path: str, code: str, items: list[tuple[str, int, list[tuple[str, bool]]]]) -> list[LintWarning]:
    cued = [(item_id, line) for item_id, line, options in items if _longest_is(options)]
    if len(items) < LONGEST_MIN_ITEMS or len(cued) <= LONGEST_SHARE * len(items):
        return []
    return [_warning(
        path, cued[0][1], code, count=len(cued), items=len(items), share=round(100 * len(cued) / len(items)),
        ids=", ".join(item_id for item_id, _ in cued),
    )]


def _quiz(quiz: Quiz, lines: dict[str, int]) -> list[LintWarning]:
    warnings = []
    choice = [q for q in quiz.questions if q.kind in ("single", "multiple")]
    warnings += _longest(quiz.path, "longest-correct", [
        (q.id, lines.get(q.id, 1), [(text_of(o.html), o.correct) for o in q.options]) for q in choice
    ])
    true_false = [q for q in quiz.questions if q.kind == "true_false"]
    true = sum(q.answer for q in true_false)
    if len(true_false) >= TRUE_FALSE_MIN_ITEMS and not TRUE_SHARE[0] <= true / len(true_false) <= TRUE_SHARE[1]:
        warnings.append(_warning(
            quiz.path, lines.get(true_false[0].id, 1), "true-false-balance",
            true=true, items=len(true_false), share=round(100 * true / len(true_false)),
        ))
    for q in choice:
        warnings += _options(quiz.path, lines.get(q.id, 1), q)
    for q in quiz.questions:
        if isinstance(q, Numerical) and (value := _only_exact_decimal(q)):
            warnings.append(_warning(quiz.path, lines.get(q.id, 1), "exact-decimal", id=q.id, value=value))
    return warnings


def _only_exact_decimal(q: Numerical) -> str | None:
    """The value, when a numerical question's one right answer is a single number with decimals (no tolerance)."""
    right = [n for n in q.numbers if n.credit >= 100]
    low, high = right[0].bounds
    return right[0].label if len(right) == 1 and low == high and low != low.to_integral_value() else None


def _absolutes(text: str) -> set[str]:
    return {word for word in ABSOLUTE_CJK if word in text} | {m.lower() for m in ABSOLUTE_WORDS.findall(text)}


def _options(path: str, line: int, q: Question) -> list[LintWarning]:
    warnings = []
    right = set().union(*(_absolutes(text_of(o.html)) for o in q.options if o.correct))
    wrong = set().union(*(_absolutes(text_of(o.html)) for o in q.options if not o.correct))
    if only_wrong := wrong - right - _absolutes(text_of(q.text_html)):
        warnings.append(_warning(path, line, "absolute-word", id=q.id, words="', '".join(sorted(only_wrong))))
    for option in q.options:
        if ABOVE.search(text := text_of(option.html)):
            warnings.append(_warning(path, line, "all-none-above", id=q.id, option=text.strip()))
    return warnings


def _scenario(scenario: Scenario, lines: dict[str, int]) -> list[LintWarning]:
    decisions = [n for n in scenario.nodes if len(n.choices) > 1]
    return _longest(scenario.path, "longest-best", [
        (n.id, lines.get(n.id, 1), [(text_of(c.html), c.best) for c in n.choices]) for n in decisions
    ])


def _final(quiz: Quiz, course: Course, lines: dict[str, int]) -> list[LintWarning]:
    """Flag final questions that name a lesson's character or share a passage found in one lesson only."""
    lessons = {lesson.id: text_of(lesson.html) for lesson in course.lessons}
    examples = {lesson.id: _examples(lesson.html) for lesson in course.lessons}
    grams: dict[str, set[str]] = {}
    for lesson_id, text in lessons.items():
        for run in re.findall(f"[{CJK}]{{{SHARED_CJK},}}", text):
            for start in range(len(run) - SHARED_CJK + 1):
                grams.setdefault(run[start:start + SHARED_CJK], set()).add(lesson_id)
    warnings = []
    for q in quiz.questions:
        text = " ".join(text_of(html) for html in _texts(q))
        found = _shared_name(text, lessons) or _shared_passage(text, grams, examples)
        if found:
            passage, lesson_id = found
            warnings.append(_warning(quiz.path, lines.get(q.id, 1), "final-repeats-example", id=q.id, passage=passage, lesson=lesson_id))
    return warnings


def _examples(html: str) -> str:
    """The text of a lesson's example sections (a heading naming 示例, 案例 or example), else all of it."""
    sections = re.split(r"(?=<h[1-6][\s>])", html)
    chosen = [part for part in sections if EXAMPLE_HEADING.search(text_of(part.partition("</h")[0] + ">"))]
    return text_of("".join(chosen or sections))


def _texts(q: Question) -> list[str]:
    options = getattr(q, "options", ()) or getattr(q, "items", ())
    return [q.text_html, *(o.html for o in options)]


def _shared_name(text: str, lessons: Mapping[str, str]) -> tuple[str, str] | None:
    for name in dict.fromkeys(NAMED.findall(text)):
        lesson_id = next((i for i, lesson in lessons.items() if name in lesson), None)
        if lesson_id:
            return name, lesson_id
    return None


def _shared_passage(text: str, grams: Mapping[str, set[str]], lessons: Mapping[str, str]) -> tuple[str, str] | None:
    """The longest run of CJK characters, at least SHARED_CJK long, in the text and one lesson's examples, no other lesson."""
    best: tuple[str, str] | None = None
    for run in re.findall(f"[{CJK}]{{{SHARED_CJK},}}", text):
        start = 0
        while start <= len(run) - SHARED_CJK:
            owners = grams.get(run[start:start + SHARED_CJK], set())
            if len(owners) != 1 or run[start:start + SHARED_CJK] not in lessons[next(iter(owners))]:
                start += 1
                continue
            lesson_id = next(iter(owners))
            end = start + SHARED_CJK
            while end < len(run) and run[start:end + 1] in lessons[lesson_id]:
                end += 1
            if best is None or end - start > len(best[0]):
                best = (run[start:end], lesson_id)
            start = end
    return best
