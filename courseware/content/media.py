"""Pictures and files of a course (its `media/` folder): which kinds are accepted, told by name and by content.

Pure: bytes in, a reason out. The studio's upload, a course .zip and a course folder are all checked here.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from .errors import N_, Message

MEDIA_FOLDER = "media"  # in the course folder: lessons/media/<name>; Markdown writes media/<name>
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    label: str
    content_type: str
    image: bool
    signature: str  # what sniff() must find inside


KINDS: dict[str, Kind] = {
    "png": Kind("PNG", "image/png", True, "png"),
    "jpg": Kind("JPEG", "image/jpeg", True, "jpeg"),
    "jpeg": Kind("JPEG", "image/jpeg", True, "jpeg"),
    "gif": Kind("GIF", "image/gif", True, "gif"),
    "webp": Kind("WebP", "image/webp", True, "webp"),
    "pdf": Kind("PDF", "application/pdf", False, "pdf"),
    "docx": Kind("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", False, "docx"),
    "xlsx": Kind("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False, "xlsx"),
    "pptx": Kind("PowerPoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation", False, "pptx"),
}
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
ACCEPTED = ", ".join(sorted(KINDS))


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def kind_of(name: str) -> Kind | None:
    """The accepted kind a file name says it is (None: not accepted)."""
    return KINDS.get(extension(name))


def is_image(name: str) -> bool:
    kind = kind_of(name)
    return kind is not None and kind.image


def sniff(data: bytes) -> str | None:
    """What the bytes are, by their first bytes (and an Office file's parts); None when none of ours."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:  # reads the central directory only, never a member
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except Exception:  # zipfile raises many kinds for a damaged archive
            return None
        return next((kind for kind, part in OFFICE_PARTS.items() if part in names), None)
    return None


def name_problem(name: str) -> Message | None:
    """Why `name` cannot name a course file in media/ (None: it can)."""
    if extension(name) == "svg":
        return N_("SVG pictures can carry scripts and are not accepted: save the picture as PNG")
    if not NAME.match(name):
        return N_("use letters, digits, '-', '_' and '.' in the file name, e.g. customer-map.png")
    if kind_of(name) is None:
        return N_("'%(name)s' is not an accepted kind of file (accepted: %(kinds)s)", name=name, kinds=ACCEPTED)
    return None


def size_problem(name: str, size: int, max_bytes: int) -> Message | None:
    if size > max_bytes:
        return N_(
            "'%(name)s' is %(size)s MB; a picture or file may be at most %(most)s MB",
            name=name, size=f"{size / 1024 / 1024:.1f}", most=f"{max_bytes / 1024 / 1024:g}",
        )
    if size == 0:
        return N_("'%(name)s' is empty", name=name)
    return None


def problem(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Message | None:
    """Why `data` cannot be the course file `name` (None: it can): its name, kind, size and content."""
    if found := name_problem(name) or size_problem(name, len(data), max_bytes):
        return found
    kind = KINDS[extension(name)]
    if sniff(data) != kind.signature:
        return N_(
            "'%(name)s' is not a %(kind)s file inside: save it again in that format, or give it the extension of what it is",
            name=name, kind=kind.label,
        )
    return None


def snippet(name: str) -> str:
    """The Markdown a trainer copies to show a picture or link to a file."""
    return f"![说明](media/{name})" if is_image(name) else f"[下载 {name}](media/{name})"
