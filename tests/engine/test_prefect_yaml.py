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
