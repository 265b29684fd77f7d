"""Compile course source files into a validated, immutable `Course`, or report every error."""
from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import frontmatter as fm
from .errors import ContentError, CourseInvalid
from .model import CompletionRule, Course, Lesson, Module
from .render import loads_external_resource, render

COURSE_FILE = "course.md"
MODULE_FILE = "module.md"
EXTERNAL_IMAGE_LINE = re.compile(r"!\[[^\]]*\]\(\s*<?(?:https?:)?//|<img[^>]+src=[\"']?(?:https?:)?//", re.I)

COURSE_FIELDS = {"id": fm.slug, "title": fm.text}
MODULE_FIELDS = {"id": fm.slug, "title": fm.text, "order": fm.positive_int}
MODULE_OPTIONAL = {"summary": fm.text, "completion": fm.mapping}
LESSON_FIELDS = {"id": fm.slug, "title": fm.text, "order": fm.positive_int, "minutes": fm.positive_int}

Sources = Mapping[str, str | bytes]


def read_sources(course_dir: Path) -> dict[str, bytes]:
    """Read a course folder's Markdown files, keyed by their path from the folder's parent."""
    course_dir = Path(course_dir)
    return {
        path.relative_to(course_dir.parent).as_posix(): path.read_bytes()
        for path in sorted(course_dir.rglob("*.md"))
        if path.is_file()
    }


def source_hash(files: Mapping[str, str]) -> str:
    """Return a digest that changes whenever any file's path or text changes."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
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
            errors.append(ContentError(path, line, "not UTF-8 text: save the file as UTF-8"))
    return texts, errors


def compile_sources(files: Sources) -> Course:
    """Compile course files into a `Course`; raise `CourseInvalid` listing every error."""
    texts, errors = decode_sources(files)
    course_paths = sorted(
        (p for p in texts if posixpath.basename(p) == COURSE_FILE), key=lambda p: (p.count("/"), p)
    )
    if not course_paths:
        raise CourseInvalid(errors + [ContentError(COURSE_FILE, 1, "no course.md found in the course folder")])
    root = posixpath.dirname(course_paths[0])
    prefix = f"{root}/" if root else ""

    course_doc = fm.parse(course_paths[0], texts[course_paths[0]])
    fm.check_fields(course_doc, COURSE_FIELDS, {})
    errors += course_doc.errors

    module_docs: dict[str, fm.Document] = {}
    lesson_docs: dict[str, list[fm.Document]] = {}
    for path in sorted(texts):
        if path == course_paths[0]:
            continue
        if not path.startswith(prefix):
            errors.append(ContentError(path, 1, f"file is outside the course folder '{root}'"))
            continue
        parts = path[len(prefix):].split("/")
        if len(parts) != 2:
            errors.append(ContentError(path, 1, "put each file in a module folder directly under the course folder"))
            continue
        folder, name = parts
        doc = fm.parse(path, texts[path])
        if name == MODULE_FILE:
            module_docs[folder] = doc
        else:
            lesson_docs.setdefault(folder, []).append(doc)

    ids = IdRegistry()
    if not course_doc.errors:
        ids.claim(course_doc)

    modules: list[Module] = []
    for folder in sorted(set(module_docs) | set(lesson_docs)):
        module_doc = module_docs.get(folder)
        lessons_here = lesson_docs.get(folder, [])
        if module_doc is None:
            errors.append(ContentError(lessons_here[0].path, 1, f"folder '{folder}' has no {MODULE_FILE}"))
            errors += [error for doc in lessons_here for error in doc.errors]
            continue
        module, module_errors = _compile_module(module_doc, lessons_here, ids)
        errors += module_errors
        if module is not None:
            modules.append(module)

    errors += ids.errors
    module_by_path = {doc.path: doc for doc in module_docs.values()}
    errors += _check_unique_order([(m.order, module_by_path[m.path]) for m in modules], "module")
    if not modules and not errors:
        errors.append(ContentError(course_doc.path, 1, "the course has no modules"))
    if errors:
        raise CourseInvalid(errors)
    return Course(
        id=course_doc.meta["id"],
        title=course_doc.meta["title"].strip(),
        intro_html=render(course_doc.body),
        modules=tuple(sorted(modules, key=lambda m: m.order)),
    )


class IdRegistry:
    """Ids are shared by every activity in a course: each may be used once."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, int]] = {}
        self.errors: list[ContentError] = []

    def claim(self, doc: fm.Document) -> None:
        activity_id, line = doc.meta["id"], doc.line_of("id")
        if activity_id in self.seen:
            other_path, other_line = self.seen[activity_id]
            self.errors.append(
                ContentError(doc.path, line, f"id '{activity_id}' is already used by {other_path}:{other_line}")
            )
        else:
            self.seen[activity_id] = (doc.path, line)


def _compile_module(
    doc: fm.Document, lesson_docs: list[fm.Document], ids: IdRegistry
) -> tuple[Module | None, list[ContentError]]:
    valid = fm.check_fields(doc, MODULE_FIELDS, MODULE_OPTIONAL)
    if valid:
        ids.claim(doc)
    lessons: list[Lesson] = []
    errors: list[ContentError] = []
    for lesson_doc in lesson_docs:
        if fm.check_fields(lesson_doc, LESSON_FIELDS, {}):
            ids.claim(lesson_doc)
            lesson = _compile_lesson(lesson_doc, doc.meta.get("id", ""))
            if lesson is not None:
                lessons.append(lesson)
        errors += lesson_doc.errors
    lesson_by_path = {d.path: d for d in lesson_docs}
    errors += _check_unique_order([(lesson.order, lesson_by_path[lesson.path]) for lesson in lessons], "lesson")
    if not lesson_docs:
        doc.error(None, "the module has no lessons: add a lesson file to its folder")
    rule = _completion_rule(doc, {lesson.id for lesson in lessons}) if valid else None
    errors += doc.errors
    if errors or not valid or rule is None:
        return None, errors
    intro_html = render(doc.body)
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
        ),
        [],
    )


def _compile_lesson(doc: fm.Document, module_id: str) -> Lesson | None:
    if not doc.body.strip():
        doc.error(None, "the lesson has no text after its front matter")
        return None
    html = render(doc.body)
    if loads_external_resource(html):
        offset = next(
            (i for i, line in enumerate(doc.body.split("\n")) if EXTERNAL_IMAGE_LINE.search(line)), 0
        )
        doc.errors.append(
            ContentError(doc.path, doc.body_line + offset, "image from another site: intranet learners cannot load it; put the image in static/")
        )
        return None
    return Lesson(
        id=doc.meta["id"],
        title=doc.meta["title"].strip(),
        order=doc.meta["order"],
        minutes=doc.meta["minutes"],
        html=html,
        module_id=module_id,
        path=doc.path,
    )


def _completion_rule(doc: fm.Document, lesson_ids: set[str]) -> CompletionRule | None:
    spec: dict[str, Any] = doc.meta.get("completion") or {"lessons": "all"}
    unknown = set(spec) - {"lessons"}
    if unknown:
        doc.error("completion", f"unknown completion condition '{sorted(unknown)[0]}' (allowed: lessons)")
        return None
    lessons = spec.get("lessons", "all")
    if lessons == "all":
        return CompletionRule(None)
    if not isinstance(lessons, list) or not all(isinstance(x, str) for x in lessons) or not lessons:
        doc.error("completion", "completion 'lessons' must be 'all' or a list of lesson ids")
        return None
    missing = [x for x in lessons if x not in lesson_ids]
    if missing:
        doc.error("completion", f"completion names lesson '{missing[0]}', which is not in this module")
        return None
    return CompletionRule(tuple(lessons))


def _check_unique_order(items: list[tuple[int, fm.Document]], kind: str) -> list[ContentError]:
    errors = []
    seen: dict[int, str] = {}
    for order, doc in sorted(items, key=lambda item: item[1].path):
        if order in seen:
            errors.append(ContentError(doc.path, doc.line_of("order"), f"{kind} order {order} is also used by {seen[order]}"))
        else:
            seen[order] = doc.path
    return errors
