"""Build step that ships the top-level data folders inside the wheel (the rest is pyproject.toml).

templates/, static/, lessons/ and quizzes/ stay at the repository's top level; a wheel can only carry
files inside its packages, so building copies them to `courseware/_data/`, where
`courseware.resources.folder()` finds them once installed. An editable install copies nothing:
it reads them from the checkout, as before.
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("templates", "static", "lessons", "quizzes")


class build_py_with_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in DATA_FOLDERS:
            self.copy_tree(name, os.path.join(self.build_lib, "courseware", "_data", name))


setup(cmdclass={"build_py": build_py_with_data})
