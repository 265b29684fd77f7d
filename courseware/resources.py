"""Where the folders the app reads live: templates/, static/, lessons/ and quizzes/.

They sit at the repository's top level, beside `courseware/`: a checkout or `pip install -e .`
reads them there. A wheel can only carry files inside its packages, so `setup.py`'s build step
copies the four folders into `courseware/_data/`, and an installed package reads them from there.
This module is the only place that knows; everything else asks `folder(name)`.
"""
from __future__ import annotations

from pathlib import Path

FOLDERS = ("templates", "static", "lessons", "quizzes")
PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED = PACKAGE_DIR / "_data"  # present only in an installed wheel
SOURCE_ROOT = PACKAGE_DIR.parent  # the repository, when running from a checkout


def installed() -> bool:
    """Whether this is an installed wheel (data shipped inside the package), not a checkout."""
    return SHIPPED.is_dir()


def folder(name: str) -> Path:
    """Return the absolute path of one of FOLDERS, shipped in the wheel or in the checkout."""
    if name not in FOLDERS:
        raise ValueError(f"unknown folder {name!r}; expected one of {FOLDERS}")
    return (SHIPPED if installed() else SOURCE_ROOT) / name


def default_instance_path() -> Path:
    """The instance folder (database, secret key) when INSTANCE_PATH is not set.

    A checkout keeps it in the repository's `instance/`; an installed wheel uses `./instance` of
    the folder the command runs in, since its package folder (site-packages) is no place for data.
    """
    return Path.cwd() / "instance" if installed() else SOURCE_ROOT / "instance"
