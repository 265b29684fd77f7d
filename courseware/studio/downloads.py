"""Course files handed to the trainer as a zip download."""
from __future__ import annotations

from flask import Response

from .. import media as stored
from ..content import archive


def zip_response(files: dict[str, str], filename: str, media: dict[str, str] | None = None) -> Response:
    """A .zip of `files` and of the pictures and files `media` (name → SHA-256)."""
    return Response(
        archive.pack(files, stored.contents(media or {})),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
