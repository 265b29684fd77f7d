"""Compile course source files into a validated, immutable `Course`, or report every error.

Sources are a mapping of path → text: `lessons/course.md`, `lessons/<module>/module.md`,
`lessons/<module>/<lesson>.md`, job aids `lessons/aids/<aid>.md`, and `quizzes/<name>.yaml`
(quizzes and role-play scenarios). The course's pictures and files (`lessons/media/<name>`) are
not sources: the compiler is told their names and the address each is served at.
"""
from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

from . import frontmatter as fm
from . import yamlfile
from .errors import N_, ContentError, CourseInvalid, Message
from .media import MEDIA_FOLDER, name_problem, problem, size_problem
from .model import Aid, CompletionRule, Course, Lesson, Module
from .quiz import Quiz, compile_quiz
from .reading import reading_minutes
from .render import image_problem, link_media, render, unrenderable
from .scenario import Scenario, compile_scenario

COURSE_FILE = "course.md"
MODULE_FILE = "module.md"
QUIZ_FOLDER = "quizzes"
AIDS_FOLDER = "aids"  # in the course folder: lessons/aids/<aid>.md
YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_CHARS = 200_000  # the largest file of the course has about 9,300, the whole course about 116,000


def slug_list(value: Any) -> Message | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and fm.SLUG.match(v) for v in value):
        return N_("must be a list of ids, e.g. [scenario-rush-order]")
    return None


COURSE_FIELDS = {"id": fm.slug, "title": fm.text}
COURSE_OPTIONAL = {"title_en": fm.one_line, "final_quiz": fm.slug, "pretest": fm.slug, "valid_for_days": yamlfile.int_between(1, 36500)}  # certificates expire within a century
MODULE_FIELDS = {"id": fm.slug, "title": fm.text, "order": fm.positive_int}
MODULE_OPTIONAL = {"title_en": fm.one_line, "summary": fm.text, "completion": fm.mapping, "quiz": fm.slug, "scenarios": slug_list}
LESSON_FIELDS = {"id": fm.slug, "title": fm.text, "order": fm.positive_int}
LESSON_OPTIONAL = {"title_en": fm.one_line, "minutes": fm.positive_int, "min_minutes": fm.minutes}
AID_FIELDS = {"id": fm.slug, "title": fm.text, "order": fm.positive_int}
AID_OPTIONAL = {"title_en": fm.one_line, "summary": fm.text, "modules": slug_list}

Sources = Mapping[str, str | bytes]
Media = Mapping[str, str]  # a picture's or file's name in media/ → the address it is served at


def read_sources(course_dir: Path) -> dict[str, bytes]:
    """Read a course folder's Markdown and its sibling `quizzes/` YAML, keyed by path from the parent."""
    course_dir = Path(course_dir)
    root = course_dir.parent
    files = sorted(course_dir.rglob("*.md"))
    quiz_dir = root / QUIZ_FOLDER
    if quiz_dir.is_dir():
        files += sorted(p for p in quiz_dir.rglob("*") if p.suffix in YAML_SUFFIXES)
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in files if path.is_file()}


def read_media(course_dir: Path, max_bytes: int) -> tuple[dict[str, bytes], list[ContentError]]:
    """Read the pictures and files in a course folder's `media/`, each checked by name, size and content."""
    folder = Path(course_dir) / MEDIA_FOLDER
    media: dict[str, bytes] = {}
    errors: list[ContentError] = []
    if not folder.is_dir():
        return media, errors
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        where = f"{Path(course_dir).name}/{MEDIA_FOLDER}/{path.name}"
        found = name_problem(path.name) or size_problem(path.name, path.stat().st_size, max_bytes)  # before reading it
        data = b"" if found else path.read_bytes()
        if found := found or problem(path.name, data, max_bytes):
            errors.append(ContentError(where, 1, found))
        else:
            media[path.name] = data
    return media, errors


def source_hash(files: Mapping[str, str], media: Mapping[str, str] | None = None) -> str:
    """Return a digest that changes whenever any file's path or text changes, or a media file (name → sha256)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    for name in sorted(media or {}):  # after every text, so a course without media keeps its digest
        digest.update(b"\1media\0" + name.encode() + b"\0" + media[name].encode() + b"\0")
    return digest.hexdigest()


def decode_sources(files: Sources) -> tuple[dict[str, str], list[ContentError]]:
    texts: dict[str, str] = {}
    errors: list[ContentError] = []
    for path, data in files.items():
        if isinstance(data, str):
            texts[path] = data
            continue
        try:
            texts[path] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            errors.append(ContentError(path, line, N_("not UTF-8 text: save the file as UTF-8")))
    return texts, errors


def too_long(path: str, text: str) -> ContentError | None:
    """Refuse a file longer than `MAX_FILE_CHARS`, at the line where it passes the limit."""
    if len(text) <= MAX_FILE_CHARS:
        return None
    line = text.count("\n", 0, MAX_FILE_CHARS) + 1
    return ContentError(path, line, N_(
        "the file is longer than %(most)s characters (%(count)s): split it into smaller files",
        most=f"{MAX_FILE_CHARS:,}", count=f"{len(text):,}",
    ))


class IdRegistry:
    """Ids are shared by every activity in a course: each may be used once."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, int]] = {}
        self.errors: list[ContentError] = []

    def claim(self, activity_id: str, path: str, line: int) -> None:
        if activity_id in self.seen:
            other_path, other_line = self.seen[activity_id]
            self.errors.append(
                ContentError(path, line, N_("id '%(id)s' is already used by %(place)s", id=activity_id, place=f"{other_path}:{other_line}"))
            )
        else:
            self.seen[activity_id] = (path, line)

    def claim_doc(self, doc: fm.Document) -> None:
        self.claim(doc.meta["id"], doc.path, doc.line_of("id"))


def compile_sources(files: Sources, media: Media | None = None) -> Course:
    """Compile course files into a `Course`; raise `CourseInvalid` listing every error.

    `media` names the course's pictures and files with the address each is served at: Markdown may
    show or link them as `media/<name>`, and the rendered HTML points at that address.
    """
    media = media or {}
    texts, errors = decode_sources(files)
    for path, text in list(texts.items()):
        if error := too_long(path, text):  # left out before anything reads it
            errors.append(error)
            del texts[path]
    yaml_paths = sorted(p for p in texts if p.split("/")[0] == QUIZ_FOLDER and p.endswith(YAML_SUFFIXES))
    markdown = {p: t for p, t in texts.items() if p not in yaml_paths}
    course_paths = sorted(
        (p for p in markdown if posixpath.basename(p) == COURSE_FILE), key=lambda p: (p.count("/"), p)
    )
    if not course_paths:
        if not any(posixpath.basename(p) == COURSE_FILE for p in files):  # else it is there but unreadable
            errors.append(ContentError(COURSE_FILE, 1, N_("no course.md found in the course folder")))
        raise CourseInvalid(errors)
    ids = IdRegistry()
    course_doc = fm.parse(course_paths[0], markdown.pop(course_paths[0]))
    if fm.check_fields(course_doc, COURSE_FIELDS, COURSE_OPTIONAL):
        ids.claim_doc(course_doc)
    intro_html = _rendered(course_doc, media)
    errors += course_doc.errors

    module_docs, lesson_docs, aid_docs = _group_by_module(posixpath.dirname(course_paths[0]), markdown, errors)
    modules: list[tuple[Module, fm.Document]] = []
    broken_modules: list[fm.Document] = []
    for folder in sorted(set(module_docs) | set(lesson_docs)):
        if folder not in module_docs:
            docs = lesson_docs[folder]
            errors.append(ContentError(docs[0].path, 1, N_("folder '%(folder)s' has no %(file)s", folder=folder, file=MODULE_FILE)))
            errors += [error for doc in docs for error in doc.errors]
            continue
        module, module_errors = _compile_module(module_docs[folder], lesson_docs.get(folder, []), ids, media)
        errors += module_errors
        if module is not None:
            modules.append((module, module_docs[folder]))
        else:
            broken_modules.append(module_docs[folder])
    errors += _check_unique_order([(m.order, doc) for m, doc in modules], N_("module"))

    # When a lesson file cannot be read at all, its id is unknown: skip checking links to lessons.
    # A lesson with an error elsewhere still has its id: links to it are not errors too.
    unreadable = any(not doc.parsed for docs in lesson_docs.values() for doc in docs)
    lesson_ids = None if unreadable else frozenset(
        doc.meta["id"] for docs in lesson_docs.values() for doc in docs if isinstance(doc.meta.get("id"), str)
    )
    quizzes, scenarios, failed = _compile_activities(texts, yaml_paths, lesson_ids, ids, errors, media)
    module_ids = None if broken_modules or any(f not in module_docs for f in lesson_docs) else frozenset(m.id for m, _ in modules)
    aids = _compile_aids(aid_docs, module_ids, media, errors)
    errors += ids.errors
    if not modules and not errors:
        errors.append(ContentError(course_doc.path, 1, N_("the course has no modules")))
    final_quiz, pretest = course_doc.meta.get("final_quiz"), course_doc.meta.get("pretest")
    quizzes, scenarios = _attach(course_doc, final_quiz, pretest, modules, broken_modules, quizzes, scenarios, failed, errors)
    if not errors and pretest:
        errors += _pretest_errors(course_doc, quizzes[pretest], quizzes.get(final_quiz) if final_quiz else None)
    if errors:
        raise CourseInvalid(errors)
    return Course(
        id=course_doc.meta["id"],
        title=course_doc.meta["title"].strip(),
        title_en=_title_en(course_doc),
        intro_html=intro_html,
        modules=tuple(sorted((m for m, _ in modules), key=lambda m: m.order)),
        quizzes=tuple(quizzes.values()),
        scenarios=tuple(scenarios.values()),
        final_quiz_id=final_quiz,
        valid_for_days=course_doc.meta.get("valid_for_days"),
        pretest_quiz_id=pretest,
        aids=aids,
    )


def _group_by_module(
    root: str, markdown: dict[str, str], errors: list[ContentError]
) -> tuple[dict[str, fm.Document], dict[str, list[fm.Document]], list[fm.Document]]:
    """Parse the Markdown files: modules and their lessons by folder, and the job aids."""
    prefix = f"{root}/" if root else ""
    module_docs: dict[str, fm.Document] = {}
    lesson_docs: dict[str, list[fm.Document]] = {}
    aid_docs: list[fm.Document] = []
    for path in sorted(markdown):
        if not path.startswith(prefix):
            errors.append(ContentError(path, 1, N_("file is outside the course folder '%(folder)s'", folder=root)))
            continue
        parts = path[len(prefix):].split("/")
        if len(parts) != 2:
            errors.append(ContentError(path, 1, N_("put each file in a module folder directly under the course folder")))
            continue
        folder, name = parts
        if folder == MEDIA_FOLDER:
            errors.append(ContentError(path, 1, N_("%(folder)s/ holds the course's pictures and files; put lessons in a module folder", folder=MEDIA_FOLDER)))
            continue
        doc = fm.parse(path, markdown[path])
        if folder == AIDS_FOLDER:
            aid_docs.append(doc)
        elif name == MODULE_FILE:
            module_docs[folder] = doc
        else:
            lesson_docs.setdefault(folder, []).append(doc)
    return module_docs, lesson_docs, aid_docs


def _compile_aids(
    docs: list[fm.Document], module_ids: frozenset[str] | None, media: Media, errors: list[ContentError]
) -> tuple[Aid, ...]:
    """Compile the job aids; `module_ids` None when a module could not be read (then links to modules are not checked)."""
    aids: list[Aid] = []
    seen: dict[str, str] = {}
    for doc in docs:
        if not fm.check_fields(doc, AID_FIELDS, AID_OPTIONAL):
            errors += doc.errors
            continue
        aid_id = doc.meta["id"]
        if aid_id in seen:
            doc.error("id", N_("id '%(id)s' is already used by %(place)s", id=aid_id, place=seen[aid_id]))
        seen.setdefault(aid_id, doc.path)
        linked = tuple(doc.meta.get("modules") or ())
        unknown = [m for m in linked if module_ids is not None and m not in module_ids]
        if unknown:
            doc.error("modules", N_("module '%(id)s' does not exist: name modules by their id", id=unknown[0]))
        if not doc.body.strip():
            doc.error(None, N_("the job aid has no text after its front matter"))
        html = _rendered(doc, media) if doc.body.strip() else None
        errors += doc.errors
        if doc.errors or html is None:
            continue
        aids.append(Aid(
            id=aid_id, title=doc.meta["title"].strip(), order=doc.meta["order"],
            summary=str(doc.meta.get("summary", "")).strip(), html=html, path=doc.path, module_ids=linked,
            title_en=_title_en(doc),
        ))
    by_path = {doc.path: doc for doc in docs}
    errors += _check_unique_order([(aid.order, by_path[aid.path]) for aid in aids], N_("job aid"))
    return tuple(sorted(aids, key=lambda aid: aid.order))


ActivityCompiler = Callable[[str, yamlfile.LineDict, list[ContentError], frozenset[str] | None], Any]

ACTIVITY_KINDS: dict[str, ActivityCompiler] = {
    "quiz": lambda path, data, errors, lesson_ids: compile_quiz(path, data, errors),
    "scenario": compile_scenario,
}


def _compile_activities(
    texts: dict[str, str], paths: list[str], lesson_ids: frozenset[str] | None, ids: IdRegistry,
    errors: list[ContentError], media: Media,
) -> tuple[dict[str, Quiz], dict[str, Scenario], set[str]]:
    """Compile quiz and scenario files; also return the ids of those that failed."""
    quizzes: dict[str, Quiz] = {}
    scenarios: dict[str, Scenario] = {}
    failed: set[str] = set()
    for path in paths:
        data = yamlfile.load(path, texts[path], errors)
        if data is None and not any(e.path == path for e in errors):
            errors.append(ContentError(path, 1, N_("the file is empty")))
        if not isinstance(data, yamlfile.LineDict):
            if data is not None:
                errors.append(ContentError(path, 1, N_("the file must be fields written as 'name: value'")))
            continue
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in ACTIVITY_KINDS:
            line = data.line_of("kind")
            reason = (
                N_("'kind' must be one of: %(choices)s", choices=", ".join(ACTIVITY_KINDS)) if "kind" in data
                else N_("missing required field 'kind' (quiz or scenario)")
            )
            errors.append(ContentError(path, line, reason))
            continue
        activity = ACTIVITY_KINDS[kind](path, data, errors, lesson_ids)
        if activity is not None and (found := image_problem("".join(_html_of(activity)), media)):
            src, reason = found
            errors.append(ContentError(path, _line_of(texts[path], src), reason))
            activity = None
        if activity is not None and media:
            activity = _relinked(activity, media)
        if activity is None:
            failed.add(str(data.get("id")))
            continue
        ids.claim(activity.id, path, data.line_of("id"))
        (quizzes if isinstance(activity, Quiz) else scenarios)[activity.id] = activity
    return quizzes, scenarios, failed


def _html_of(value: Any) -> Iterator[str]:
    """Yield the HTML of every field of a compiled activity whose name ends in 'html'."""
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name.endswith("html"):
                yield item
            else:
                yield from _html_of(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _html_of(item)


def _relinked(value: Any, media: Media) -> Any:
    """Return a compiled activity with every `media/<name>` in its HTML fields pointing at the file's address."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            if not field.init:
                continue
            item = getattr(value, field.name)
            new = link_media(item, media) if field.name.endswith("html") and isinstance(item, str) else _relinked(item, media)
            if new is not item and new != item:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(_relinked(item, media) for item in value)
        return items if items != value else value
    return value


def _pretest_errors(course_doc: fm.Document, pretest: Quiz, final: Quiz | None) -> list[ContentError]:
    """A pre-test measures the final assessment's objectives: its pools must be some of the final's."""
    line = course_doc.line_of("pretest")
    if final is None:
        return [ContentError(course_doc.path, line, N_("a pretest needs a final_quiz to compare with"))]
    if not pretest.pools:
        return [ContentError(pretest.path, 1, N_("a pretest asks its questions in pools, one per objective of the final assessment"))]
    unknown = [pool.id for pool in pretest.pools if pool.id not in {p.id for p in final.pools}]
    if unknown:
        return [ContentError(pretest.path, 1, N_(
            "the final assessment '%(quiz)s' has no pool '%(pool)s': a pretest's pools are objectives of the final, with the same ids",
            quiz=final.id, pool=unknown[0],
        ))]
    return []


def _attach(
    course_doc: fm.Document, final_quiz: str | None, pretest: str | None, modules: list[tuple[Module, fm.Document]],
    broken_modules: list[fm.Document], quizzes: dict[str, Quiz], scenarios: dict[str, Scenario],
    failed: set[str], errors: list[ContentError],
) -> tuple[dict[str, Quiz], dict[str, Scenario]]:
    """Check that modules name existing quizzes and scenarios, each used once; record the owner.

    What a module with errors names counts as used, so its own errors are not repeated as more.
    """
    owner: dict[str, str] = {}
    for doc in broken_modules:
        named = doc.meta.get("scenarios") if isinstance(doc.meta.get("scenarios"), list) else []
        for activity_id in [doc.meta.get("quiz"), *named]:
            if isinstance(activity_id, str):
                owner.setdefault(activity_id, doc.path)

    def use(activity_id: str, module_id: str | None, doc: fm.Document, key: str, table: dict, kind: Message) -> None:
        if activity_id in failed:
            return  # its own errors are reported
        if activity_id not in table:
            errors.append(ContentError(doc.path, doc.line_of(key), N_("%(kind)s '%(id)s' does not exist in %(folder)s/", kind=kind, id=activity_id, folder=QUIZ_FOLDER)))
            return
        if activity_id in owner:
            errors.append(ContentError(doc.path, doc.line_of(key), N_("%(kind)s '%(id)s' is already used by %(path)s", kind=kind, id=activity_id, path=owner[activity_id])))
            return
        owner[activity_id] = doc.path
        table[activity_id] = dataclasses.replace(table[activity_id], module_id=module_id)

    if final_quiz:
        use(final_quiz, None, course_doc, "final_quiz", quizzes, N_("quiz"))
    if pretest:
        use(pretest, None, course_doc, "pretest", quizzes, N_("quiz"))
    for module, doc in modules:
        if module.quiz_id:
            use(module.quiz_id, module.id, doc, "quiz", quizzes, N_("quiz"))
        for scenario_id in module.scenario_ids:
            use(scenario_id, module.id, doc, "scenarios", scenarios, N_("scenario"))
    for activity in [*quizzes.values(), *scenarios.values()]:
        if activity.id not in owner:
            errors.append(ContentError(activity.path, 1, N_(
                "'%(id)s' is not used: name it in a module.md (quiz: / scenarios:) or as the course's final_quiz or pretest", id=activity.id
            )))
    return quizzes, scenarios


def _compile_module(
    doc: fm.Document, lesson_docs: list[fm.Document], ids: IdRegistry, media: Media
) -> tuple[Module | None, list[ContentError]]:
    valid = fm.check_fields(doc, MODULE_FIELDS, MODULE_OPTIONAL)
    if valid:
        ids.claim_doc(doc)
    lessons: list[Lesson] = []
    errors: list[ContentError] = []
    for lesson_doc in lesson_docs:
        if fm.check_fields(lesson_doc, LESSON_FIELDS, LESSON_OPTIONAL):
            ids.claim_doc(lesson_doc)
            lesson = _compile_lesson(lesson_doc, doc.meta.get("id", ""), media)
            if lesson is not None:
                lessons.append(lesson)
        errors += lesson_doc.errors
    lesson_by_path = {d.path: d for d in lesson_docs}
    errors += _check_unique_order([(lesson.order, lesson_by_path[lesson.path]) for lesson in lessons], N_("lesson"))
    if not lesson_docs:
        doc.error(None, N_("the module has no lessons: add a lesson file to its folder"))
    rule = _completion_rule(doc, {lesson.id for lesson in lessons}) if valid else None
    intro_html = _rendered(doc, media)
    errors += doc.errors
    if errors or not valid or rule is None:
        return None, errors
    return (
        Module(
            id=doc.meta["id"],
            title=doc.meta["title"].strip(),
            order=doc.meta["order"],
            summary=str(doc.meta.get("summary", "")).strip(),
            intro_html=intro_html,
            lessons=tuple(sorted(lessons, key=lambda lesson: lesson.order)),
            completion=rule,
            path=doc.path,
            quiz_id=doc.meta.get("quiz"),
            scenario_ids=tuple(doc.meta.get("scenarios") or ()),
            title_en=_title_en(doc),
        ),
        [],
    )


def _compile_lesson(doc: fm.Document, module_id: str, media: Media) -> Lesson | None:
    if not doc.body.strip():
        doc.error(None, N_("the lesson has no text after its front matter"))
        return None
    html = _rendered(doc, media)
    if html is None:
        return None
    return Lesson(
        id=doc.meta["id"],
        title=doc.meta["title"].strip(),
        order=doc.meta["order"],
        minutes=doc.meta.get("minutes") or reading_minutes(html),
        min_minutes=doc.meta.get("min_minutes"),
        html=html,
        module_id=module_id,
        path=doc.path,
        title_en=_title_en(doc),
    )


def _title_en(doc: fm.Document) -> str:
    """The optional English title (`title_en`), checked by `fm.one_line`; "" when not given."""
    return str(doc.meta.get("title_en", "")).strip()


def _rendered(doc: fm.Document, media: Media) -> str | None:
    """Render the text after the front matter, or report why it cannot be shown and return None.

    Pictures and links written `media/<name>` point at the file's address in `media`.
    """
    if not doc.parsed:
        return None
    if found := unrenderable(doc.body):
        line, problem = found
        doc.errors.append(ContentError(doc.path, doc.body_line + line - 1, N_("the text %(problem)s", problem=problem)))
        return None
    html = render(doc.body)
    if found := image_problem(html, media):
        src, reason = found
        doc.errors.append(ContentError(doc.path, doc.body_line + _line_of(doc.body, src) - 1, reason))
        return None
    return link_media(html, media)


def _line_of(text: str, src: str) -> int:
    """Find the line of the Markdown image or link definition naming `src` (1 when written otherwise)."""
    found = re.search(rf"(?:\(\s*<?|\]:\s*<?){re.escape(src)}", text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


COMPLETION_CONDITIONS = ("lessons", "quiz", "scenarios")


def _completion_rule(doc: fm.Document, lesson_ids: set[str]) -> CompletionRule | None:
    spec: dict[str, Any] = doc.meta.get("completion") or {"lessons": "all"}
    unknown = set(spec) - set(COMPLETION_CONDITIONS)
    if unknown:
        doc.error("completion", N_(
            "unknown completion condition '%(name)s' (allowed: %(allowed)s)", name=sorted(unknown)[0], allowed=", ".join(COMPLETION_CONDITIONS)
        ))
        return None
    quiz = spec.get("quiz")
    if quiz not in (None, "passed"):
        doc.error("completion", N_("completion 'quiz' can only be 'passed'"))
        return None
    if quiz and not doc.meta.get("quiz"):
        doc.error("completion", N_("completion requires the quiz to be passed, but the module names no 'quiz'"))
        return None
    scenarios = spec.get("scenarios")
    if scenarios not in (None, "finished"):
        doc.error("completion", N_("completion 'scenarios' can only be 'finished'"))
        return None
    if scenarios and not doc.meta.get("scenarios"):
        doc.error("completion", N_("completion requires scenarios to be finished, but the module names no 'scenarios'"))
        return None
    lessons = spec.get("lessons", "all")
    if lessons == "all":
        lesson_rule = None
    elif isinstance(lessons, list) and lessons and all(isinstance(x, str) for x in lessons):
        missing = [x for x in lessons if x not in lesson_ids]
        if missing:
            doc.error("completion", N_("completion names lesson '%(lesson)s', which is not in this module", lesson=missing[0]))
            return None
        lesson_rule = tuple(lessons)
    else:
        doc.error("completion", N_("completion 'lessons' must be 'all' or a list of lesson ids"))
        return None
    return CompletionRule(lesson_rule, quiz=bool(quiz), scenarios=bool(scenarios))


def _check_unique_order(items: list[tuple[int, fm.Document]], kind: Message) -> list[ContentError]:
    errors = []
    seen: dict[int, str] = {}
    for order, doc in sorted(items, key=lambda item: item[1].path):
        if order in seen:
            errors.append(ContentError(doc.path, doc.line_of("order"), N_("%(kind)s order %(order)s is also used by %(path)s", kind=kind, order=order, path=seen[order])))
        else:
            seen[order] = doc.path
    return errors
