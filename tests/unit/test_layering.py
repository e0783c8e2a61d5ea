"""The engine stays free of the layers above it, its wings import only the wings below them, and third-party
engines stay in their modules (docs/architecture.md has the map)."""
import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_smorest", "marshmallow", "api", "workflows", "app", "worker"}
KERNEL = {"config", "errors", "clock", "deps"}  # anyone may import these; `deps` is the container's type
BELOW = {  # wing (or kernel module) -> the wings it may import besides the kernel
    "store": set(),
    "places": {"store"},
    "people": {"places", "store"},
    "process": {"store"},
    "sla": {"process", "places", "store"},
    "cases": {"sla", "process", "people", "places", "store"},
    "campaigns": {"cases", "sla", "process", "people", "places", "store"},
    "deadlines": {"campaigns", "cases", "indicators", "sla", "process", "people", "places", "store"},  # jobs: the sweep
    "indicators": {"sla", "process", "places", "store"},
    "read": {"indicators", "sla", "process", "people", "places", "store"},  # read/campaigns.py: store, places, people
    "imports": {"people", "places", "process", "store"},
    "deps": {"store", "places", "process", "sla"},
}
COMPOSITION = {"bootstrap"}  # builds the engine from every wing; nothing in the engine imports it


def imports_of(path: Path) -> set[str]:
    """Dotted names of the modules `path` imports (`from a.b import c` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def wing_of(name: str) -> str | None:
    """engine.cases.services -> cases; engine.deps -> deps; a name outside the engine -> None."""
    parts = name.split(".")
    return parts[1] if parts[0] == "engine" and len(parts) > 1 else None


def engine_modules():
    return [p for p in ENGINE.rglob("*.py") if "migrations" not in p.parts]


def own_wing(path: Path) -> str:
    relative = path.relative_to(ENGINE).parts
    return relative[0] if len(relative) > 1 else path.stem


def test_engine_imports_no_web_framework_and_no_upper_layer():
    offenders = {p.name: roots(imports_of(p)) & FORBIDDEN for p in engine_modules()}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_every_wing_imports_only_the_kernel_itself_and_the_wings_below_it():
    offenders = {}
    for path in engine_modules():
        wing = own_wing(path)
        if wing in COMPOSITION:
            continue
        allowed = KERNEL | {wing} | BELOW.get(wing, set())
        used = {wing_of(name) for name in imports_of(path)} - {None}
        if used - allowed:
            offenders[str(path.relative_to(ENGINE))] = sorted(used - allowed)
    assert offenders == {}


def test_the_map_names_every_wing_on_disk():
    on_disk = {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert on_disk == set(BELOW) - KERNEL


def test_only_runner_specs_and_sandbox_import_spiffworkflow():
    users = {p.name for p in engine_modules() if "SpiffWorkflow" in roots(imports_of(p))}
    assert users == {"runner.py", "specs.py", "sandbox.py"}


def test_only_the_scheduler_imports_rq():
    assert {p.name for p in engine_modules() if "rq" in roots(imports_of(p))} == {"scheduler.py"}


def test_the_layering_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from flask import Flask\nimport marshmallow.fields\nfrom engine.cases import services\n")
    assert roots(imports_of(module)) & FORBIDDEN == {"flask", "marshmallow"}
    assert {wing_of(name) for name in imports_of(module)} - {None} == {"cases"}
