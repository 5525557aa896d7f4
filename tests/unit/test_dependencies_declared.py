"""Every third-party package the code imports is declared in pyproject.toml.

A package that arrives only because another one depends on it can disappear in that package's next
release; what Kuntaflow imports itself it must ask for itself.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"schemas", "connectors", "kuntaflow", "processes", "robots", "flows", "apps", "bench", "tests"}
SOURCE_FOLDERS = ["schemas", "connectors", "kuntaflow", "processes", "robots", "flows", "apps", "bench", "tests"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *(r for extra in project.get("optional-dependencies", {}).values() for r in extra)]
    return {_normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def _local_modules() -> set[str]:
    """Modules a test or a keyword library imports by file name (pytest's rootdir, Robot's --pythonpath)."""
    return {path.stem for folder in ("tests", "robots/libraries", "bench") for path in (ROOT / folder).rglob("*.py")}


def _imported_top_level_names() -> dict[str, str]:
    """Top-level module name → one file that imports it."""
    found: dict[str, str] = {}
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def undeclared(declared: set[str]) -> list[str]:
    """Imported third-party modules whose distribution is not among ``declared``."""
    distributions = packages_distributions()
    local = _local_modules() | FIRST_PARTY
    missing = []
    for name, where in sorted(_imported_top_level_names().items()):
        if name in sys.stdlib_module_names or name in local or name == "__future__":
            continue
        providers = {_normalise(dist) for dist in distributions.get(name, [])}
        assert providers, f"{name} (imported in {where}) is not installed at all"
        if not providers & declared:
            missing.append(f"{name} (imported in {where}; from {', '.join(sorted(providers))})")
    return missing


def test_every_third_party_import_is_declared_in_pyproject():
    missing = undeclared(_declared())
    assert missing == [], "declare these in pyproject.toml: " + "; ".join(missing)


def test_the_check_names_an_import_whose_package_is_not_declared():
    missing = undeclared(_declared() - {"httpx", "pysaml2"})
    assert any(line.startswith("httpx (imported in ") for line in missing), missing
    assert any(line.startswith("saml2 (imported in ") and "pysaml2" in line for line in missing), missing
