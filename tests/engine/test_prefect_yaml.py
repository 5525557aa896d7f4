"""prefect.yaml names real flows and a work pool; its schedules parse."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]


def _load() -> dict:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())


def test_every_deployment_entrypoint_is_a_prefect_flow_on_the_kuntaflow_pool():
    config = _load()
    assert config["deployments"], "prefect.yaml declares no deployments"
    for deployment in config["deployments"]:
        path, function = deployment["entrypoint"].split(":")
        spec = importlib.util.spec_from_file_location(f"entry_{function}", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert isinstance(getattr(module, function), Flow), deployment["name"]
        assert deployment["work_pool"]["name"] == "kuntaflow"
        assert deployment["name"] == function.replace("_", "-")


def test_schedule_shapes_are_valid_prefect_schedules():
    from prefect.client.schemas.schedules import construct_schedule

    for name, shape in _load()["definitions"]["schedules"].items():
        schedule = construct_schedule(**shape)
        assert schedule is not None, name


def _deployment(name: str) -> dict:
    [found] = [d for d in _load()["deployments"] if d["name"] == name]
    return found


def test_library_card_starts_on_the_eservice_event_and_every_10_minutes_under_the_koha_limit():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    from eservice.trigger import SUBMITTED_EVENT, workitem_resource
    from kuntaflow.prefect_deploy import CONCURRENCY_LIMITS
    from kuntaflow.workitems import WorkItem

    deployment = _deployment("library-card")
    assert deployment["entrypoint"] == "flows/library_card.py:library_card"
    assert "koha" in deployment["tags"] and "koha" in CONCURRENCY_LIMITS
    assert [schedule["interval"] for schedule in deployment["schedules"]] == [600]
    [trigger] = [DeploymentEventTrigger(**raw) for raw in deployment["triggers"]]
    assert trigger.enabled and trigger.posture == "Reactive" and trigger.threshold == 1
    assert trigger.expect == {SUBMITTED_EVENT}
    from prefect.events.schemas.events import Resource

    assert trigger.match.matches(Resource(workitem_resource(WorkItem.model_construct(id=42, process="library_card"))))
    assert not trigger.match.matches(Resource({"prefect.resource.id": "prefect.flow-run.1"}))
    # A run keeps looking for at least `within` seconds, so the events the trigger drops after firing are covered.
    assert deployment["parameters"]["settle_seconds"] >= trigger.within.total_seconds()
