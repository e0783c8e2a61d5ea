"""The engine stays free of the layers above it, and third-party engines stay in their modules."""
import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_smorest", "marshmallow", "api", "workflows", "app", "worker"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def engine_modules():
    return [p for p in ENGINE.rglob("*.py") if "migrations" not in p.parts]


def test_engine_imports_no_web_framework_and_no_upper_layer():
    offenders = {p.name: imports_of(p) & FORBIDDEN for p in engine_modules()}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_only_runner_specs_and_sandbox_import_spiffworkflow():
    users = {p.name for p in engine_modules() if "SpiffWorkflow" in imports_of(p)}
    assert users == {"runner.py", "specs.py", "sandbox.py"}


def test_only_the_scheduler_imports_rq():
    assert {p.name for p in engine_modules() if "rq" in imports_of(p)} == {"scheduler.py"}


def test_the_layering_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from flask import Flask\nimport marshmallow.fields\n")
    assert imports_of(module) & FORBIDDEN == {"flask", "marshmallow"}
