"""The main job's sample cases: one module per process, run on the local stack by ``kuntaflow run``.

A process plugs in with a module here that has:

- ``DEPLOYMENTS``: the ``prefect.yaml`` deployments it needs (deployed before any sample runs);
- ``DEFAULT_COUNT``: how many sample cases a full run submits;
- ``run(stack, *, count) -> DemoResult``: submits its sample cases the way they arrive in production
  (the e-service, a form, an event), waits for them to be decided by the deployed flows, and checks
  them against the sandboxes' own records.

and is named in :data:`PROCESSES`, in the order they run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType

#: Modules under ``apps.demo``, in the order ``kuntaflow run`` runs them.
PROCESSES: tuple[str, ...] = ("library_card", "citizen_replies", "employment_start", "mass_recruitment", "card_expiry")


@dataclass
class DemoResult:
    """What one process's sample run did: lines for a person to read, and whether all was as it should be."""

    title: str
    lines: list[str] = field(default_factory=list)
    ok: bool = True


def modules(names: tuple[str, ...] = PROCESSES) -> list[ModuleType]:
    return [importlib.import_module(f"apps.demo.{name}") for name in names]


def deployments(loaded: list[ModuleType]) -> list[str]:
    """Every deployment the modules need, each once, in order."""
    names: list[str] = []
    for module in loaded:
        names += [name for name in getattr(module, "DEPLOYMENTS", ()) if name not in names]
    return names
