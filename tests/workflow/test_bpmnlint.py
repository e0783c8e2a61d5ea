"""Every diagram under bpmn/ passes bpmnlint's recommended rules (tests/lint/.bpmnlintrc), with no error and no
warning. bpmnlint is a Node.js tool pinned in tests/lint/package.json; the first run installs it with `npm ci`."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BPMN_ROOT = ROOT / "bpmn"
LINT_DIR = ROOT / "tests" / "lint"


def _run(args, timeout):
    env = {**os.environ, "NO_COLOR": "1", "npm_config_audit": "false", "npm_config_fund": "false"}
    return subprocess.run(args, cwd=LINT_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def _install_bpmnlint():
    """bpmnlint in tests/lint/node_modules, installed (again) by `npm ci` when missing or not the pinned version."""
    for tool in ("node", "npm", "npx"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` was not found: the BPMN lint needs Node.js 20 or newer with npm and npx on PATH; "
                        "install them and run the tests again", pytrace=False)
    pinned = json.loads((LINT_DIR / "package.json").read_text())["dependencies"]["bpmnlint"]
    installed = LINT_DIR / "node_modules" / "bpmnlint" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != pinned:
        done = _run(["npm", "ci", "--prefix", str(LINT_DIR)], timeout=300)
        if done.returncode != 0:
            pytest.fail(f"npm ci in tests/lint failed:\n{done.stdout}\n{done.stderr}", pytrace=False)


def test_every_diagram_passes_bpmnlint_recommended_rules():
    _install_bpmnlint()
    diagrams = sorted(str(p) for p in BPMN_ROOT.rglob("*.bpmn"))
    assert diagrams
    done = _run(["npx", "--no-install", "bpmnlint", "--max-warnings=0", *diagrams], timeout=120)
    report = f"{done.stdout}\n{done.stderr}".strip()
    if done.returncode != 0 or "problem" in report:
        pytest.fail(f"bpmnlint found problems:\n{report}", pytrace=False)
