"""Security: a suite runs only the code it names; nothing from a result file reaches a shell."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import harness
from harness.suite import parse_suite

PACKAGE = Path(harness.__file__).resolve().parent


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def test_the_package_never_uses_a_shell_eval_or_pickle_loading():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree):
            name = ast.unparse(call.func)
            if name in {"eval", "exec", "os.system", "os.popen", "pickle.load", "pickle.loads",
                        "subprocess.getoutput", "subprocess.getstatusoutput"}:
                offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno} {name}")
            for kw in call.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno} shell=")
    assert offenders == []


def test_parsing_a_suite_imports_no_custom_code(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "reliability_trap.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Opt: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    suite = parse_suite('[matrix]\noptimizer = ["adam", "reliability_trap:Opt"]\n', "trap.toml")
    assert len(suite.cases) == 2
    assert not marker.exists() and "reliability_trap" not in sys.modules


def test_the_suite_layer_does_not_import_tensorflow():
    import subprocess

    code = "import sys, harness.suite, harness.runner.parent.plan; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent).returncode == 0
