"""Course files handed to the trainer as a zip download."""
from __future__ import annotations

from flask import Response

from ..content import archive


def zip_response(files: dict[str, str], filename: str) -> Response:
    return Response(
        archive.pack(files),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
