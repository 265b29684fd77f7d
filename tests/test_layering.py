"""The layering rules of docs/architecture.md, checked over the source of every module.

1. Only the factory imports a blueprint module; a view module may import only its own feature's
   blueprint (for `bp`), never another view module; the blueprint's package imports its views.
2. Lower layers never import higher ones: core < people < learning < hr, studio (features on the
   same layer never import each other). Views, the CLI and the factory sit on top.
3. No function-level import of our own modules (that is how an import circle hides).
4. `learning/records.py` is the only writer of learner state.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "courseware"
TOP = {"courseware", "courseware.cli", "courseware.first_start"}  # the factory and what it calls
LAYERS = {"people": 1, "learning": 2, "hr": 3, "studio": 3, "surveys": 4}  # anything else is core (0)
LEARNER_STATE = {"LearningRecord", "Progress", "QuizAttempt", "QuizAnswer", "ScenarioRun", "ScenarioStep", "Certificate"}
WRITES = {"insert", "upsert", "update", "delete"}
RECORDS = "courseware.learning.records"


@dataclass
class Module:
    name: str
    tree: ast.Module
    is_package: bool

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    @property
    def feature(self) -> str | None:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None

    @property
    def layer(self) -> int:
        return LAYERS.get(self.feature or "", 0)

    @property
    def is_view(self) -> bool:
        """Defines a blueprint or adds routes to one."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint":
                return True
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "bp" \
                    and node.attr in {"route", "get", "post"}:
                return True
        return False


def load(sources: dict[str, str]) -> dict[str, Module]:
    """Parse {module name: source}; a name ending in `.__init__` is a package."""
    modules = {}
    for name, source in sources.items():
        is_package = name.endswith(".__init__")
        name = name.removesuffix(".__init__")
        modules[name] = Module(name, ast.parse(source), is_package)
    return modules


def read_package() -> dict[str, str]:
    sources = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" not in relative.parts:
            sources[".".join(relative.parts)] = path.read_text(encoding="utf-8")
    return sources


def _imports(module: Module, modules: dict[str, Module]):
    """Yield (line, imported module, at top level?) for every import of one of our modules."""
    top_level = {id(node) for node in module.tree.body}
    type_checking = {
        id(child) for node in module.tree.body if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in node.body
    }
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" for alias in node.names]
            targets = {name if name in modules else source for name in names}
        elif isinstance(node, ast.Import):
            targets = {alias.name for alias in node.names}
        else:
            continue
        for target in sorted(t for t in targets if t in modules):
            yield node.lineno, target, id(node) in top_level or id(node) in type_checking


def violations(modules: dict[str, Module]) -> list[str]:
    found = []
    for module in modules.values():
        for line, target, at_top in _imports(module, modules):
            imported = modules[target]
            where = f"{module.name}:{line} imports {target}"
            if not at_top:
                found.append(f"{where} inside a function")
            if module.name in TOP or target == module.name:
                continue
            if imported.is_view:
                # A view takes `bp` from its feature's blueprint package, which imports its views to add their routes.
                own_blueprint = module.is_view and module.name.startswith(target + ".") and imported.is_package
                registers_its_views = module.is_view and module.is_package and target.startswith(module.name + ".")
                if not (own_blueprint or registers_its_views):
                    found.append(f"{where}, a view module")
            elif not module.is_view and imported.layer > module.layer:
                found.append(f"{where}, a higher layer")
            elif not module.is_view and imported.layer == module.layer > 0 and imported.feature != module.feature:
                found.append(f"{where}, another feature on its layer")
        if module.name != RECORDS:
            found += [f"{module.name}:{line} writes {model}, which only {RECORDS} may" for line, model in _writes(module)]
    return sorted(found)


def _writes(module: Module):
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if called in LEARNER_STATE:
            yield node.lineno, called
        elif called in WRITES and node.args and getattr(node.args[0], "id", None) in LEARNER_STATE:
            yield node.lineno, node.args[0].id


def test_the_package_keeps_its_layers():
    assert violations(load(read_package())) == []


FEATURE_PACKAGE = {
    "courseware.__init__": "from .hr import views\n",
    "courseware.models": "class Progress: ...\n",
    "courseware.hr.__init__": "from flask import Blueprint\nbp = Blueprint('hr', __name__)\nfrom . import views\n",
    "courseware.hr.views": "from . import bp\n\n@bp.route('/')\ndef home(): ...\n",
    "courseware.hr.reports": "def count(): ...\n",
    "courseware.learning.records": "from ..models import Progress\n\ndef finish(): Progress()\n",
}


@pytest.mark.parametrize("module, source, complaint", [
    ("courseware.learning.progress", "from ..hr import reports\n", "courseware.hr.reports, a higher layer"),
    ("courseware.studio.stats", "from ..hr.reports import count\n", "another feature on its layer"),
    ("courseware.studio.views", "from ..hr.views import home\n", "courseware.hr.views, a view module"),
    ("courseware.learning.grading", "from ..hr import bp\n", "courseware.hr, a view module"),
    ("courseware.people.audit", "def log():\n    from ..models import Progress\n", "inside a function"),
    ("courseware.hr.reset", "from sqlalchemy import delete\nfrom ..models import Progress\n\ndef reset():\n"
                           "    delete(Progress)\n", "writes Progress"),
])
def test_each_rule_catches_its_breach(module, source, complaint):
    assert violations(load(FEATURE_PACKAGE)) == []
    found = violations(load(FEATURE_PACKAGE | {module: source}))
    assert len(found) == 1 and complaint in found[0], found
