"""Fuzzing the parsers: broken lessons, quizzes, role-plays, GIFT, staff tables and uploads.

Inputs start from the test course and real-looking files, then get broken the way people break
them: lines lost, repeated or swapped, files cut short, YAML and Markdown punctuation typed in
the wrong place, wrong types, copied files, other encodings. Whatever comes in, the parser
answers with errors that name a file, a line and a reason, and nothing is published or imported.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile

import pytest
from conftest import TEST_COURSE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from courseware.content import CourseInvalid, compile_sources, read_sources, yamlfile
from courseware.content.archive import pack, unpack
from courseware.content.gift import parse as parse_gift
from courseware.content.gift import quiz_to_gift
from courseware.content.quizfile import append_questions
from courseware.extensions import db
from courseware.hr.staff_import import ImportFileError, check_rows, read_table
from courseware.models import ContentRevision, ImportBatch, Role, User
from courseware.publishing import publish

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

COURSE = {path: data.decode("utf-8") for path, data in read_sources(TEST_COURSE).items()}
COURSE_FILE = "course.md"
LESSON = "lessons/08-summary/01-summary-and-action.md"

# Values a trainer might type after `name:`, each a trap for a parser that trusts its input.
YAML_VALUES = [
    "", "~", "null", "[]", "{}", "[a, b]", "{a: 1}", "[{x: [1, {y: z}]}]", "true", "no", "0", "-1",
    "1.5", "1e400", ".nan", "-.inf", "99999999999999999999", "9" * 5000, "0x1F", "1_000", "12:30:00",
    "2020-01-01", "2020-13-45", "2021-02-30 25:61:00", "!!binary aGk=", "!!binary ###", "!!set {a, b}",
    "!!omap [a: 1, b: 2]", "!!pairs [a: 1]", "!!int x", "!!float x", "!!bool maybe", "!!timestamp x",
    "!!str", "!!python/name:os.system", "!!null x", "&a [*a]", "*nowhere", "'unterminated",
    '"\\x"', "|", ">-", "[" * 3000 + "]" * 3000, "- " * 3000 + "x", "'  '", "中文：冒号", "\u202e反向",
    "? x", "<<: *a", "=", "@at", "`tick`", "%percent", "# only a comment", "a: b: c", "{a: [}",
    "![](http://example.com/x.png)", "<img src=//example.com/x.png>", "<script>alert(1)</script>",
]
KEYS = ["id", "kind", "type", "title", "order", "minutes", "quiz", "scenarios", "completion", "lessons",
        "start", "next", "best", "effects", "ending", "options", "correct", "沟通", "", "? x", "[a]",
        "1", "null", "<<", "id id"]
SNIPPETS = [":", ": ", "- ", "{", "}", "[", "]", "---", "...", "\t", "#", "&a ", "*a", "!!", "|", ">",
            "? ", "'", '"', "%", "@", "`", "\\", "\ufeff", "\x00", "\x85", "\u2028", "\r", "\n", "<<: *a",
            "**", "[link](", "<div>", "```", "$$", "\U0001F600", "\u00a0", "\x1b[0m"]
BROKEN_BYTES = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x9f", b"\xef\xbb\xbf", b"\x00\x00"]
FIELD_LINE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#][^:]*):(\s*)(.*)$")


def lines_in(data: str | bytes) -> int:
    """Count lines as an editor does: CRLF, CR and LF each end one."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


# --- breaking text ---------------------------------------------------------------------------

def _delete(draw, lines: list[str]) -> None:
    del lines[draw(st.integers(0, len(lines) - 1))]


def _duplicate(draw, lines: list[str]) -> None:
    index = draw(st.integers(0, len(lines) - 1))
    lines.insert(draw(st.integers(0, len(lines))), lines[index])


def _swap(draw, lines: list[str]) -> None:
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]


def _truncate(draw, lines: list[str]) -> None:
    text = "\n".join(lines)
    lines[:] = text[: draw(st.integers(0, len(text)))].split("\n")


def _inserting(snippets: list[str]):
    """An edit that types one of `snippets`, or any short text, somewhere in the file."""
    def insert(draw, lines: list[str]) -> None:
        index = draw(st.integers(0, len(lines) - 1))
        column = draw(st.integers(0, len(lines[index])))
        snippet = draw(st.sampled_from(snippets) | st.text(max_size=12))
        lines[index] = lines[index][:column] + snippet + lines[index][column:]

    return insert


def _field_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if FIELD_LINE.match(line)] or [0]


def _revalue(draw, lines: list[str]) -> None:
    """Give a field a wrong value, or the value of another field of the same file (ids, next: …)."""
    fields = _field_lines(lines)
    index = draw(st.sampled_from(fields))
    match = FIELD_LINE.match(lines[index])
    if match is None:
        return
    own = [m[4] for i in fields if (m := FIELD_LINE.match(lines[i])) and m[4]]
    value = draw(st.sampled_from(YAML_VALUES) | st.sampled_from(own or ["x"]) | st.text(max_size=20))
    lines[index] = f"{match[1]}{match[2]}: {value}"


def _rekey(draw, lines: list[str]) -> None:
    index = draw(st.sampled_from(_field_lines(lines)))
    match = FIELD_LINE.match(lines[index])
    if match is not None:
        lines[index] = f"{match[1]}{draw(st.sampled_from(KEYS))}:{match[3]}{match[4]}"


def _reindent(draw, lines: list[str]) -> None:
    index = draw(st.integers(0, len(lines) - 1))
    lines[index] = draw(st.sampled_from(["", "  ", "    ", "\t", " "])) + lines[index].lstrip(" ")


LINE_EDITS = [_delete, _duplicate, _swap, _truncate, _revalue, _rekey, _reindent]


@st.composite
def broken_text(draw, text: str, snippets: list[str] = SNIPPETS) -> str:
    """`text` with one to four realistic mistakes, or now and then something else entirely."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    lines = text.split("\n")
    edits = [*LINE_EDITS, _inserting(snippets), _inserting(snippets)]
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [""]
        draw(st.sampled_from(edits))(draw, lines)
    return "\n".join(lines)


@st.composite
def broken_encoding(draw, text: str) -> bytes:
    data = text.encode("utf-8")
    kind = draw(st.sampled_from(["bytes", "bom", "utf-16", "gb18030", "crlf", "binary"]))
    if kind == "bytes":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(BROKEN_BYTES)) + data[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "binary":
        return draw(st.binary(max_size=200))
    return text.encode(kind, "replace")


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """`data` as it left the program that wrote it, or with a few bytes changed, or cut short."""
    changed = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        changed[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.integers(0, 4)) == 0:
        del changed[draw(st.integers(len(data) // 2, len(data))):]
    return bytes(changed)


# --- breaking a course -----------------------------------------------------------------------

@st.composite
def broken_course(draw, paths: list[str] | None = None) -> dict[str, str | bytes]:
    """The test course with one to three files broken, deleted, copied, moved or re-encoded."""
    files: dict[str, str | bytes] = dict(COURSE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths or sorted(files)))
        if path not in files:
            continue
        text = files[path] if isinstance(files[path], str) else files[path].decode("utf-8", "replace")
        action = draw(st.sampled_from(["edit", "edit", "edit", "edit", "delete", "copy", "move", "encoding"]))
        if action == "edit":
            files[path] = draw(broken_text(text))
        elif action == "delete":
            del files[path]
        elif action == "copy":
            folder, _, name = path.rpartition("/")
            files[f"{folder}/copy-of-{name}"] = files[path]
        elif action == "move":
            target = draw(st.sampled_from([
                "lessons/01-what-is-internal-customer/", "lessons/", "quizzes/", "", "lessons/new/deeper/",
            ])) + draw(st.sampled_from([path.rpartition("/")[2], "course.md", "module.md", "x.yml", "y.txt"]))
            files[target] = files.pop(path)
        else:
            files[path] = draw(broken_encoding(text))
    return files


def assert_reported(files: dict[str, str | bytes], invalid: CourseInvalid) -> None:
    """Every error names a file of the course, a line within it and a reason."""
    assert invalid.errors
    has_course_file = any(path.rpartition("/")[2] == COURSE_FILE for path in files)
    for error in invalid.errors:
        if error.path == COURSE_FILE and not has_course_file:
            assert error.line == 1 and "course.md" in error.reason
            continue
        assert error.path in files, str(error)
        assert 1 <= error.line <= lines_in(files[error.path]), str(error)
        assert error.reason.strip() and "\n" not in error.reason, str(error)


def compiles_or_reports(files: dict[str, str | bytes]) -> bool:
    """Compile; return whether the course is valid, after checking how it was reported if not."""
    try:
        compile_sources(files)
    except CourseInvalid as invalid:
        assert_reported(files, invalid)
        return False
    return True


@settings(FUZZ, max_examples=50)
@given(broken_course())
def test_a_broken_course_is_reported_by_file_and_line(files):
    compiles_or_reports(files)


QUIZ_PATHS = sorted(path for path in COURSE if path.startswith("quizzes/"))


@settings(FUZZ, max_examples=40)
@given(broken_course(QUIZ_PATHS))
def test_broken_quizzes_and_role_plays_are_reported_by_file_and_line(files):
    compiles_or_reports(files)


@st.composite
def rewired_scenario(draw) -> tuple[str, str]:
    """A role-play of the course with some choices pointed at other nodes: loops, dead ends, unreachable nodes."""
    path = draw(st.sampled_from([p for p in QUIZ_PATHS if "/scenario-" in p]))
    nodes = re.findall(r"^  - id: (\S+)$", COURSE[path], re.M)
    lines = COURSE[path].split("\n")
    targets = [i for i, line in enumerate(lines) if line.strip().startswith("next:")]
    for index in draw(st.lists(st.sampled_from(targets), min_size=1, max_size=6)):
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}next: {draw(st.sampled_from(nodes))}"
    return path, "\n".join(lines)


@settings(FUZZ, max_examples=25)
@given(rewired_scenario())
def test_a_role_play_rewired_into_loops_or_dead_ends_is_reported(change):
    path, text = change
    compiles_or_reports({**COURSE, path: text})


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("kind: [quiz]\nid: q\n", 1, "'kind' must be one of: quiz, scenario"),
    ("kind: quiz\nid: 2020-13-45\n", 2, "'2020-13-45' is not a valid date: put it in quotes"),
    ("kind: quiz\ntitle: " + "9" * 5000 + "\n", 2, "is not a valid whole number: put it in quotes"),
    ("kind: quiz\nid: !!bool maybe\n", 2, "'maybe' is not a valid true or false"),
    ("kind: quiz\nquestions:\n  " + "- " * 90_000 + "x\n", 3, "nested too deeply (more than 50 levels)"),  # within the file limit
    (BILLION_LAUGHS + "kind: quiz\nid: *i\n", 4, "aliases (*name) repeat more than 10000 values"),
    ("kind: quiz\r\ntitle: 标题\u2028\u2028\u2028\r\nid: [\r\n", 4, "invalid YAML"),
    ("kind: quiz\ntitle: 标题\nid: q\x00\n", 3, "invisible control character U+0000"),
], ids=["unhashable kind", "impossible date", "5000 digits", "bad bool", "deep nesting", "billion laughs",
        "line separators", "NUL"])
def test_yaml_that_used_to_crash_hang_or_misplace_its_error_is_reported(text, line, reason):
    """Minimal inputs the fuzzing found: each once raised, hung, crashed libyaml or named a wrong line."""
    files = {**COURSE, "quizzes/quiz-summary.yaml": text}
    with pytest.raises(CourseInvalid) as invalid:
        compile_sources(files)
    assert_reported(files, invalid.value)
    assert any(
        error.line == line and reason in error.reason
        for error in invalid.value.errors if error.path == "quizzes/quiz-summary.yaml"
    ), invalid.value


@pytest.mark.parametrize(("path", "old", "new", "line", "reason"), [
    ("quizzes/scenario-rush-order.yaml", "lessons: [", "lessons: [{a: b}, ", 0, "each of 'lessons' must be a lesson id"),
    ("lessons/course.md", "valid_for_days: 365", "valid_for_days: 99999999999", 5, "from 1 to 36500"),
    (LESSON, "## 讲解", "## 讲\x00解", 8, "control character U+0000"),
    ("lessons/08-summary/module.md", "order: 8", "order: 2020-02-30", 4, "'2020-02-30' is not a valid date"),
], ids=["debrief lesson not an id", "certificate valid for 270 million years", "NUL in a lesson", "date in front matter"])
def test_course_files_that_used_to_crash_or_publish_what_cannot_be_used_are_reported(path, old, new, line, reason):
    assert old in COURSE[path]
    files = {**COURSE, path: COURSE[path].replace(old, new, 1)}
    line = line or next(n for n, text in enumerate(files[path].split("\n"), 1) if new in text)
    with pytest.raises(CourseInvalid) as invalid:
        compile_sources(files)
    assert_reported(files, invalid.value)
    assert any(error.path == path and error.line == line and reason in error.reason for error in invalid.value.errors), invalid.value


# --- the database: a course that does not compile is never published -------------------------

def live_state(app) -> tuple[int | None, int]:
    with app.app_context():
        live = db.session.scalar(ContentRevision.live(ContentRevision.id))
        return live, db.session.scalar(select(func.count()).select_from(ContentRevision))


NUL_IN_A_LESSON = {**COURSE, LESSON: COURSE[LESSON].replace("## 讲解", "## 讲\x00解")}  # PostgreSQL cannot store it


def test_a_broken_course_never_replaces_the_live_one(app, published):
    @settings(FUZZ, max_examples=8)
    @given(broken_course())
    @example(NUL_IN_A_LESSON)
    def publish_broken(files):
        before = live_state(app)
        with app.app_context():
            try:
                result = publish(files)
            except CourseInvalid as invalid:
                assert_reported(files, invalid)
                assert live_state(app) == before
            else:
                assert live_state(app)[0] == result.revision.id

    assert live_state(app)[0] == published
    publish_broken()


# --- GIFT ------------------------------------------------------------------------------------

GIFT_SNIPPETS = ["~", "=", "#", "####", "{", "}", "{}", "::", "->", "%50%", "%-100%", "%33.3%", "%x%",
                 "\\", "\\{", "\\n", "[html]", "[markdown]", "$CATEGORY: x", "// note", "\n\n", "TRUE",
                 "F", "____", "\t", ":", "{#1:2}", "\ufeff", "\r\n"]
GIFT_FILES = [quiz_to_gift(COURSE[path], path)[0] for path in QUIZ_PATHS if "/quiz-" in path]
# The smallest course: one module, its lesson and its quiz, to compile imported questions fast.
ONE_MODULE = {
    **{path: text for path, text in COURSE.items() if path.startswith("lessons/08-summary/")},
    "lessons/course.md": re.sub(r"^final_quiz: .*\n", "", COURSE["lessons/course.md"], flags=re.M),
    "quizzes/quiz-summary.yaml": COURSE["quizzes/quiz-summary.yaml"],
}


@st.composite
def gift_question(draw) -> str:
    marker = st.sampled_from(["=", "~", "~%50%", "~%-25%", "=%100%", "#"])
    answer = st.tuples(marker, st.sampled_from(["沟通", "协作", "a -> b", " -> c", "", "TRUE", "x#反馈"]))
    answers = "".join(f"\n\t{m}{text}" for m, text in draw(st.lists(answer, max_size=5)))
    title = draw(st.sampled_from(["", "::q-1::", "::Q 1::", "::", "::gift-1::", "::" + "x" * 70 + "::"]))
    text = draw(st.sampled_from(["内部客户是谁？", "[markdown]**粗体** ____ 填空", "", "a\\{b\\}"]))
    after = draw(st.sampled_from(["", " 之后的文字", "}"]))
    return f"{title}{text}{{{answers}\n}}{after}"


gift_texts = (
    st.sampled_from(GIFT_FILES).flatmap(lambda text: broken_text(text, GIFT_SNIPPETS))
    | st.lists(gift_question(), min_size=1, max_size=4).map("\n\n".join)
    | st.text(max_size=300)
)


@settings(FUZZ, max_examples=150)
@given(gift_texts)
def test_gift_import_keeps_only_questions_that_compile_and_lists_the_rest_by_line(text):
    questions, skipped = parse_gift(text)
    for item in skipped:
        assert 1 <= item.line <= lines_in(text) and item.reason.strip(), item
    if not questions:
        return
    quiz_text, _ = append_questions(ONE_MODULE["quizzes/quiz-summary.yaml"], questions)
    files = {**ONE_MODULE, "quizzes/quiz-summary.yaml": quiz_text}
    try:
        compile_sources(files)
    except CourseInvalid as invalid:
        # GIFT questions need not explain their answer; our quizzes must, so the trainer is told where.
        assert_reported(files, invalid)
        assert all(error.reason.endswith("missing required field 'explanation'") for error in invalid.errors)
        assert len(invalid.errors) == sum("explanation" not in question for question in questions)


@settings(FUZZ, max_examples=60)
@given(st.sampled_from([p for p in QUIZ_PATHS if "/quiz-" in p]).flatmap(lambda path: broken_text(COURSE[path])))
def test_questions_are_added_to_a_broken_quiz_draft_or_refused_with_a_reason(quiz_text):
    questions = parse_gift(GIFT_FILES[0])[0][:2]
    try:
        new_text, ids = append_questions(quiz_text, questions)
    except ValueError as reason:
        assert str(reason).strip()
    else:
        def question_ids(text: str) -> list:
            return [q.get("id") if isinstance(q, dict) else q for q in yamlfile.load("quiz", text, [])["questions"]]

        assert question_ids(new_text) == question_ids(quiz_text) + ids


# --- staff lists -----------------------------------------------------------------------------

DEEP_DEPARTMENT = "/".join(f"第{n}层" for n in range(100))
CELLS = ["wang@example.com", "li@example.com", "WANG@Example.COM", "not-an-email", "", " ", "a@b", "x@例子.中国",
         "王芳", "李强", "x" * 200, "销售部/华东区", "生产部 › 一车间", "/", "a//b", "trainee", "hr, 讲师",
         "学员；管理员", "root", "=1+1", "@SUM(A1)", '"quoted, comma"', "line\nbreak", "\t", "\x00", "中文,逗号",
         DEEP_DEPARTMENT]
HEADERS = [["email", "name", "department", "roles"], ["邮箱", "姓名", "部门", "角色"], ["E-mail", "Name", "Dept"],
           ["email", "name"], ["email", "email", "name", "department"], []]


@st.composite
def staff_rows(draw) -> list[list[object]]:
    header = draw(st.sampled_from(HEADERS))
    cell = st.sampled_from(CELLS) | st.text(max_size=15)
    rows = draw(st.lists(st.lists(cell, max_size=6), max_size=8))
    return [list(header), *rows]


@st.composite
def staff_csv(draw) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t", "|"]))).writerows(draw(staff_rows()))
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = draw(broken_text(text, [",", ";", '"', "\n", "\r", "\t", "\x00", "\ufeff", "，"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
    data = text.encode(encoding, "replace")
    return data if draw(st.integers(0, 5)) else draw(broken_encoding(text))


@st.composite
def staff_xlsx(draw) -> bytes:
    workbook = Workbook()
    values = st.sampled_from(CELLS) | st.integers() | st.floats() | st.booleans() | st.dates() | st.none()
    for row in draw(staff_rows()):
        cells = [draw(values) if draw(st.integers(0, 3)) == 0 else cell for cell in row]
        workbook.active.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in cells])
    return draw(damaged(saved(workbook)))


staff_files = st.tuples(st.just("staff.csv"), staff_csv()) | st.tuples(st.just("staff.xlsx"), staff_xlsx())


def read_staff(filename: str, data: bytes):
    """Read and check a staff list; return the rows and row errors, or the file's error."""
    try:
        table = read_table(filename, data)
    except ImportFileError as error:
        assert str(error).strip()
        return None
    lines = [line for line, _ in table]
    assert all(line >= 1 for line in lines) and len(set(lines)) == len(lines)
    rows, errors = check_rows(table)
    assert sorted([row.line for row in rows] + [error.line for error in errors]) == sorted(lines)
    assert all(error.reason.strip() for error in errors)
    return rows, errors


def saved(workbook: Workbook, edit=lambda name, data: data) -> bytes:
    """The .xlsx bytes of `workbook`, the same on every run: openpyxl stamps the time it was made and saved."""
    buffer, repacked = io.BytesIO(), io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(repacked, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>", b"", source.read(info))
            archive.writestr(zipfile.ZipInfo(info.filename, (2020, 1, 1, 0, 0, 0)), edit(info.filename, data))
    return repacked.getvalue()


def workbook_whose_open_sheet_is_gone() -> bytes:
    """A workbook that says its open sheet is the second one, though it has one sheet (the fuzzing found it)."""
    workbook = Workbook()
    workbook.active.append(["email", "name", "department"])
    return saved(workbook, lambda name, data: data.replace(b'activeTab="0"', b'activeTab="1"') if name == "xl/workbook.xml" else data)


@settings(FUZZ, max_examples=150)
@given(staff_files)
@example(("staff.xlsx", workbook_whose_open_sheet_is_gone()))
def test_a_staff_list_is_read_row_by_row_or_refused_with_a_reason(upload):
    read_staff(*upload)


PEOPLE = st.tuples(
    st.sampled_from(["wang@example.com", "li.qiang@example.com", "zhao+hr@example.cn", "not-an-email", ""]),
    st.sampled_from(["王芳", "李强", "Zhao, Min", '"小赵"', "O'Brien", ""]),
    st.sampled_from(["销售部/华东区", "生产部 › 一车间", "人力资源部", "财务部;核算组", ""]),
    st.sampled_from(["", "trainee", "hr, 讲师", "学员；管理员", "boss"]),
)


@st.composite
def written_staff_list(draw) -> tuple[bytes, list[tuple[int, tuple[str, ...]]]]:
    """A staff list as Excel or a text editor saves it, and the rows it holds with the line each starts on."""
    people = draw(st.lists(PEOPLE, min_size=1, max_size=6))
    ending = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t"])), lineterminator=ending)
    writer.writerow(draw(st.sampled_from(HEADERS[:2])))
    expected, line = [], 2
    for person in people:
        writer.writerow(person)
        if any(person):
            expected.append((line, person))
        line += 1 + sum(cell.count("\n") for cell in person)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))), expected


@settings(FUZZ, max_examples=100)
@given(written_staff_list())
def test_a_well_formed_staff_list_is_read_exactly_with_the_line_of_each_row(written):
    data, expected = written
    table = read_table("staff.csv", data)
    assert [(line, (row["email"], row["name"], row["department"], row["roles"])) for line, row in table] == expected


def test_a_staff_list_imports_its_good_rows_only_when_confirmed_and_a_broken_one_writes_nothing(app, client, make_user, login):
    _, email = make_user(Role.HR, department="人力资源部")
    login(email)

    def emails() -> set[str]:
        with app.app_context():
            return set(db.session.scalars(select(User.email)))

    def batches() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(ImportBatch))

    @settings(FUZZ, max_examples=6)
    @given(staff_files)
    @example(("deep.csv", f"email,name,department\ndeep@example.com,深,{DEEP_DEPARTMENT}\n".encode()))
    def upload(file):
        filename, data = file
        people, batches_before = emails(), batches()
        response = client.post("/hr/people/import", data={"file": (io.BytesIO(data), filename)},
                               content_type="multipart/form-data")
        read = read_staff(filename, data)
        assert emails() == people and batches() == batches_before + (read is not None)
        if read is None:
            assert response.status_code == 200
            return
        confirmed = client.post(response.location)
        assert confirmed.status_code == 302
        assert emails() == people | {row.email for row in read[0]}

    upload()


# --- uploaded archives -----------------------------------------------------------------------

MEMBER_NAMES = ["../escape.md", "/etc/passwd.md", "C:/x.md", "a\\..\\b.md", "lessons/08-summary/module.md",
                "quizzes/x.yaml", "08-summary/q.yaml", "q.yaml", "__MACOSX/x.md", ".hidden.md", "中文/课.md",
                "lessons//x.md", "image.png", "wrap/lessons/course.md", "dir/"]


@st.composite
def uploaded_zip(draw) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a name twice in one archive is one of the inputs to try
        for path in draw(st.lists(st.sampled_from(sorted(ONE_MODULE)), max_size=4)):
            name = draw(st.sampled_from([path, path.removeprefix("lessons/"), *MEMBER_NAMES]))
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), ONE_MODULE[path], compress_type=method)
    return draw(damaged(buffer.getvalue()))


@settings(FUZZ, max_examples=150)
@given(uploaded_zip() | st.binary(max_size=300))
@example(pack(ONE_MODULE))
def test_an_uploaded_zip_is_unpacked_into_course_paths_or_refused_by_name(data):
    unpacked = unpack(data, "module.zip")
    for error in unpacked.errors:
        assert (error.path, error.line) == ("module.zip", 1) and error.reason.strip()
    assert not (unpacked.errors and unpacked.files)
    for path in unpacked.files:
        parts = path.split("/")
        assert not path.startswith("/") and ".." not in parts and path.endswith((".md", ".yaml", ".yml"))
