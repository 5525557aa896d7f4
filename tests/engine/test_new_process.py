"""``kuntaflow new-process NAME`` writes a process in the project's shape whose own test passes as generated.

The tree is copied to a temporary directory (the files git knows), the command runs there, and the
generated flow test, the deployment checks and the linters run on the copy in a
subprocess whose ``PYTHONPATH`` puts the copy first (the editable install's finder comes after it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps.cli.new_process import NewProcessError, generate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _copy_tree(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith(".kuntaflow"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PREFECT_", "KUNTAFLOW_"))}
    env |= {"PYTHONPATH": str(cwd), "HOME": os.environ.get("HOME", str(cwd))}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_generated_process_passes_its_own_flow_test_the_deployment_checks_and_the_linters(tmp_path):
    copy = _copy_tree(tmp_path / "project")
    made = _run([sys.executable, "-m", "apps.cli.main", "new-process", "book_returns", "--title", "Palautusilmoitukset"], copy)
    assert made.returncode == 0, made.stdout + made.stderr
    for path in ("schemas/book_returns.py", "processes/book_returns/service.py", "robots/libraries/BookReturnsKeywords.py", "robots/book_returns/tasks.robot"):
        assert path in made.stdout and (copy / path).is_file()
    assert "- name: book-returns" in (copy / "prefect.yaml").read_text() and '"book_returns")' in (copy / "apps/demo/__init__.py").read_text()

    # The flow test runs the generated robot for real (more than a dry run); the deployment checks load every entrypoint.
    tests = ["tests/flows/test_book_returns.py", "tests/engine/test_prefect_yaml.py", "-k", "book_returns or entrypoint or finnish_label"]
    ran = _run([sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider", *tests], copy)
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "passed" in ran.stdout and "failed" not in ran.stdout
    for lint in (["lint-imports"], ["ruff", "check", "."], ["ruff", "format", "--check", "."], ["robocop", "check", "robots"]):
        checked = _run([str(BIN / lint[0]), *lint[1:]], copy)
        assert checked.returncode == 0, f"{lint}: {checked.stdout[-2000:]}{checked.stderr[-1000:]}"


def test_a_bad_name_or_an_existing_process_is_refused_and_nothing_is_written(tmp_path):
    (tmp_path / "apps" / "demo").mkdir(parents=True)
    shutil.copy2(ROOT / "prefect.yaml", tmp_path / "prefect.yaml")
    shutil.copy2(ROOT / "apps" / "demo" / "__init__.py", tmp_path / "apps" / "demo" / "__init__.py")
    for bad in ("Book-Returns", "1st", "book__returns", ""):
        with pytest.raises(NewProcessError, match="lower-case words"):
            generate(bad, tmp_path)
    with pytest.raises(NewProcessError, match="card_expiry exists already"):
        generate("card_expiry", tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["__init__.py", "prefect.yaml"]
