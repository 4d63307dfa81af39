"""The layout as a checked contract, next to the import-linter contracts in pyproject.toml:
faces read only through access functions, files and functions stay small enough to hold in your
head, and the LLM layer stays away from the database."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
APPS = ("config", "scoring", "coaching")
# Chain-wide taxonomy every signed-in user reads; everything else is scoped by role.
UNSCOPED = {"Category", "Question"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def app_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def faces() -> list[Path]:
    """Views, API modules, the trainer studio, commands and tasks: the code people and
    schedules call, which must read through an access function."""
    return [
        path
        for path in app_modules()
        if path.stem in ("views", "api", "studio", "tasks")
        or "api" in path.parent.name
        or "commands" in path.parts
    ]


def scoped_models() -> set[str]:
    models = apps.get_app_config("scoring").get_models()
    models = [*models, *apps.get_app_config("coaching").get_models()]
    return {m.__name__ for m in models} - UNSCOPED | {"User", "Token"}


def direct_queries(path: Path, scoped: set[str]) -> list[str]:
    """`Model.objects.<anything but none>` on a scoped model, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "objects"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in scoped
            and node.attr != "none"
        ):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno} {node.value.value.id}")
    return found


def test_faces_read_scoped_models_only_through_access_functions():
    scoped = scoped_models()
    assert {"Store", "WeeklyPlan", "Goal", "CoachingTip", "CategoryScore"} <= scoped
    found = [hit for path in faces() for hit in direct_queries(path, scoped)]
    assert found == [], "build these querysets in an access.py: " + ", ".join(found)


def test_the_check_sees_a_direct_query(tmp_path):
    face = tmp_path / "views.py"
    face.write_text(
        "def page(request):\n    return Goal.objects.filter(pk=1), Goal.objects.none()\n"
    )
    assert direct_queries(face, {"Goal"}) == ["views.py:2 Goal"]
    assert direct_queries(face, {"Store"}) == []


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path):
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_llm_layer_never_imports_the_database():
    for path in (ROOT / "coaching" / "llm").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {m for m in imported if m and m.startswith(("django.db", "django.contrib"))}
