"""Course files as a .zip: pack a course or one module, and unpack an upload safely.

A course's pictures and files travel in the same archive, under `<course folder>/media/`.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import N_, ContentError
from .media import DEFAULT_MAX_BYTES, MEDIA_FOLDER, name_problem, problem, size_problem
from .model import Course, Module

SOURCE_SUFFIXES = (".md", ".yaml", ".yml")
QUIZ_FOLDER = "quizzes"
MAX_FILES = 1000
MAX_TOTAL_BYTES = 20 * 1024 * 1024  # of text: .md and .yaml files
MAX_MEDIA_TOTAL_BYTES = 500 * 1024 * 1024  # of pictures and files, as the archive declares them; each is also checked as read
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # so the same files always make the same archive


def pack(files: Mapping[str, str], media: Mapping[str, bytes] | None = None) -> bytes:
    """Return a .zip holding `files` (path → text) under their paths, and `media` (name → bytes) in the course folder's media/."""
    buffer = io.BytesIO()
    media = media or {}
    folder = course_folder(files)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(zipfile.ZipInfo(path, FIXED_TIME), files[path].encode("utf-8"))
        for name in sorted(media):
            archive.writestr(zipfile.ZipInfo(f"{folder}/{MEDIA_FOLDER}/{name}", FIXED_TIME), media[name], zipfile.ZIP_STORED)
    return buffer.getvalue()


def course_folder(files: Mapping[str, str]) -> str:
    """The folder holding course.md (usually `lessons`)."""
    return next((posixpath.dirname(p) for p in sorted(files, key=len) if posixpath.basename(p) == "course.md"), "lessons")


def module_files(files: Mapping[str, str], course: Course, module: Module) -> dict[str, str]:
    """Return a module's folder and the quiz and role-play files it names, under their course paths."""
    folder = posixpath.dirname(module.path) + "/"
    paths = {p for p in files if p.startswith(folder)}
    if module.quiz_id and (quiz := course.quiz(module.quiz_id)):
        paths.add(quiz.path)
    paths |= {s.path for sid in module.scenario_ids if (s := course.scenario(sid))}
    return {p: files[p] for p in sorted(paths) if p in files}


@dataclass
class Unpacked:
    files: dict[str, bytes] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # name in media/ → bytes, each checked


def unpack(data: bytes, filename: str, course_root: str = "lessons", media_max_bytes: int = DEFAULT_MAX_BYTES) -> Unpacked:
    """Read an uploaded .zip into course paths.

    Accepts a course export (`lessons/…`, `quizzes/…`, perhaps inside one wrapping folder) or one
    module's folder (`<module>/module.md`, its lessons, and its quiz or role-play YAML files).
    Files in a folder named `media` are the course's pictures and files, each checked by name,
    size (as declared, then as read) and content. Paths that try to leave the archive, and
    archives too large to be a course, are refused.
    """
    result = Unpacked()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # zipfile raises many kinds for a file that is not a zip or is a damaged one
        result.errors.append(ContentError(filename, 1, N_("this is not a .zip file, or it is damaged")))
        return result
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir() and not _is_clutter(info.filename)]
        media_entries = [info for info in entries if _in_media(info.filename)]
        text_bytes = sum(info.file_size for info in entries if not _in_media(info.filename))
        if len(entries) > MAX_FILES or text_bytes > MAX_TOTAL_BYTES or sum(info.file_size for info in media_entries) > MAX_MEDIA_TOTAL_BYTES:
            result.errors.append(ContentError(filename, 1, N_(
                "the archive is too large (at most %(files)s files, %(megabytes)s MB)", files=MAX_FILES, megabytes=MAX_TOTAL_BYTES // 1024 // 1024
            )))
            return result
        named: dict[str, zipfile.ZipInfo] = {}
        repeated: list[str] = []
        for info in entries:
            path = info.filename.replace("\\", "/")
            parts = path.split("/")
            if path.startswith("/") or ".." in parts or ":" in parts[0]:
                result.errors.append(ContentError(filename, 1, N_("'%(name)s' points outside the archive", name=info.filename)))
            elif _in_media(path):
                _read_media(archive, info, parts[-1], filename, media_max_bytes, result)
            elif not path.endswith(SOURCE_SUFFIXES):
                result.ignored.append(path)
            elif path in named:
                repeated.append(path)
            else:
                named[path] = info
        mapping = _course_paths(list(named), filename, course_root)
        repeated += [target for target, n in Counter(mapping.values()).items() if n > 1]
        result.errors += [ContentError(filename, 1, N_("the archive holds two files that would both be %(path)s", path=path)) for path in sorted(set(repeated))]
        if result.errors:
            return result
        for original, target in mapping.items():
            try:
                result.files[target] = archive.read(named[original])
            except Exception as error:  # a damaged or encrypted member: zipfile raises many kinds
                result.files.clear()
                result.errors.append(ContentError(filename, 1, N_(
                    "'%(name)s' cannot be read: the archive is damaged or encrypted (%(error)s)", name=original, error=error.__class__.__name__
                )))
                return result
    return result


def _in_media(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return len(parts) >= 2 and parts[-2] == MEDIA_FOLDER


def _read_media(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, filename: str, max_bytes: int, result: Unpacked) -> None:
    """Check one picture or file by name and declared size, then read at most one byte past the limit and check it again."""
    where = f"{filename}: {info.filename}"
    if name in result.media:
        result.errors.append(ContentError(filename, 1, N_("the archive holds two files that would both be %(path)s", path=f"{MEDIA_FOLDER}/{name}")))
        return
    if found := name_problem(name) or size_problem(name, info.file_size, max_bytes):
        result.errors.append(ContentError(where, 1, found))
        return
    try:
        with archive.open(info) as member:
            data = member.read(max_bytes + 1)
    except Exception as error:  # a damaged or encrypted member: zipfile raises many kinds
        result.errors.append(ContentError(filename, 1, N_(
            "'%(name)s' cannot be read: the archive is damaged or encrypted (%(error)s)", name=info.filename, error=error.__class__.__name__
        )))
        return
    if found := problem(name, data, max_bytes):
        result.errors.append(ContentError(where, 1, found))
        return
    result.media[name] = data


def _is_clutter(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts if part)


def _course_paths(paths: list[str], filename: str, course_root: str) -> dict[str, str]:
    """Map archive paths to course paths (see `unpack`)."""
    tops = {p.split("/")[0] for p in paths}
    if len(tops) == 1 and all(p.count("/") >= 2 for p in paths):
        wrapper = next(iter(tops))
        inner = {p[len(wrapper) + 1:] for p in paths}
        if {q.split("/")[0] for q in inner} & {course_root, QUIZ_FOLDER}:
            return {p: p[len(wrapper) + 1:] for p in paths}
    if tops & {course_root, QUIZ_FOLDER}:
        return {p: p for p in paths}
    module_folder = posixpath.splitext(posixpath.basename(filename))[0]
    mapped = {}
    for path in paths:
        name = posixpath.basename(path)
        if name.endswith((".yaml", ".yml")):
            mapped[path] = f"{QUIZ_FOLDER}/{name}"
        else:
            folder = path.split("/")[0] if "/" in path else module_folder
            mapped[path] = f"{course_root}/{folder}/{name}"
    return mapped
