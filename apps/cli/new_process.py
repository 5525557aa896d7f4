"""``kuntaflow new-process NAME``: a new process in the project's shape, small but real.

It writes the schema, the process's service and checkpoints, the keyword library, the robot's task file
and resource, the flow, the deployment in prefect.yaml, the ``make run`` sample (apps/demo, added to
``PROCESSES``) and a flow test, from the templates in ``apps/cli/templates/new_process``. The generated
process tells each queued person something by e-mail through ``processes.notify`` and its test passes
as generated (tests/engine/test_new_process.py proves it); docs/adding-a-process.md says what to change.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates" / "new_process"
NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")

#: template → where it goes, relative to the project root (``{name}``, ``{camel}`` filled in).
FILES = {
    "schema.py.tmpl": "schemas/{name}.py",
    "service.py.tmpl": "processes/{name}/service.py",
    "checkpoints.py.tmpl": "processes/{name}/checkpoints.py",
    "keywords.py.tmpl": "robots/libraries/{camel}Keywords.py",
    "tasks.robot.tmpl": "robots/{name}/tasks.robot",
    "resource.tmpl": "robots/resources/{name}.resource",
    "flow.py.tmpl": "flows/{name}.py",
    "demo.py.tmpl": "apps/demo/{name}.py",
    "test_flow.py.tmpl": "tests/flows/test_{name}.py",
}


class NewProcessError(ValueError):
    """The name is not usable, or the process (or one of its files) exists already."""


def placeholders(name: str, title: str | None = None) -> dict[str, str]:
    words = name.split("_")
    return {
        "__CAMEL__": "".join(word.capitalize() for word in words),
        "__WORDS__": " ".join(word.capitalize() for word in words),
        "__DASH__": name.replace("_", "-"),
        "__TITLE__": title or " ".join(words).capitalize(),
        "__NAME__": name,
    }


def fill(template: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def generate(name: str, root: Path, *, title: str | None = None) -> list[Path]:
    """Write the new process's files under ``root``; returns them, prefect.yaml and apps/demo/__init__.py last.

    Raises:
        NewProcessError: a bad name, or anything of the process already there (nothing is written then).
    """
    if not NAME.fullmatch(name):
        raise NewProcessError(f"{name!r}: a process name is lower-case words joined by underscores, e.g. book_returns")
    values = placeholders(name, title)
    targets = {template: root / target.format(name=name, camel=values["__CAMEL__"]) for template, target in FILES.items()}
    prefect_yaml, demo_init = root / "prefect.yaml", root / "apps" / "demo" / "__init__.py"
    existing = [str(path.relative_to(root)) for path in targets.values() if path.exists()]
    if existing or f"- name: {values['__DASH__']}\n" in prefect_yaml.read_text(encoding="utf-8"):
        raise NewProcessError(f"process {name} exists already ({', '.join(existing) or 'its deployment is in prefect.yaml'}); nothing was written")
    for template, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill((TEMPLATES / template).read_text(encoding="utf-8"), values), encoding="utf-8")
    (root / "processes" / name / "__init__.py").touch()
    with prefect_yaml.open("a", encoding="utf-8") as deployments:  # the deployments list is the file's last block
        deployments.write(fill((TEMPLATES / "deployment.yaml.tmpl").read_text(encoding="utf-8"), values))
    demo = demo_init.read_text(encoding="utf-8")
    listed = re.sub(r"(PROCESSES: tuple\[str, \.\.\.\] = \([^)]*?)(,?)\)", rf'\1, "{name}")', demo, count=1)
    if listed == demo:
        raise NewProcessError("apps/demo/__init__.py has no PROCESSES tuple to add the process to")
    demo_init.write_text(listed, encoding="utf-8")
    return [*targets.values(), prefect_yaml, demo_init]
